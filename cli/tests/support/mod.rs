//! Helpers shared by the integration tests: run the real `wcomp` binary, with guest builds
//! sharing one cargo target directory so wit-bindgen is compiled once for the suite.
#![allow(dead_code)]

pub mod server;
pub mod text;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the workspace containing `cli/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_owned()
}

/// The cargo target directory for the guest components every test builds: one for the whole
/// suite, kept between runs, so the crates guests depend on (wit-bindgen, wstd) are compiled
/// once. Tests' crates may share names: wcomp rebuilds a crate whose component another
/// project built last in the same directory.
pub fn guest_target_dir() -> PathBuf {
    std::env::var_os("WCOMP_TEST_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join("guests").join("shared"))
}

/// wcomp's cache (compiled code) for tests: shared by all of them, kept out of the user's.
pub fn test_cache_dir() -> PathBuf {
    repo_root().join("target").join("test-cache")
}

/// `wcomp` with a quiet, colorless, reproducible environment.
pub fn wcomp(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wcomp"));
    command
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", guest_target_dir())
        .env("WCOMP_CACHE_DIR", test_cache_dir())
        .env("NO_COLOR", "1")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    command
}

/// The captured result of a command, with convenient accessors.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn failure(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `wcomp <args>` in `cwd`.
pub fn run(cwd: &Path, args: &[&str]) -> Run {
    let output = wcomp(cwd)
        .args(args)
        .output()
        .expect("the wcomp binary runs");
    Run::from_output(output)
}

/// Runs `wcomp <args>` in `cwd` with its stdout a pipe whose reading end is already closed
/// (as in `wcomp … | head -1` once `head` has exited).
pub fn run_with_closed_stdout(cwd: &Path, args: &[&str]) -> Run {
    use std::io::Read as _;
    use std::process::Stdio;
    let mut child = wcomp(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wcomp binary runs");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wcomp ends");
    Run {
        code: status.code(),
        stdout: String::new(),
        stderr,
    }
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("wcomp-test-")
        .tempdir()
        .expect("temp dir")
}

/// Every file under `dir` with its contents, for before/after comparisons.
pub fn snapshot_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|entry| entry.expect("walk"))
        .map(|entry| {
            let contents = if entry.file_type().is_file() {
                std::fs::read(entry.path()).expect("read")
            } else {
                Vec::new()
            };
            (
                entry.path().strip_prefix(dir).expect("child").to_owned(),
                contents,
            )
        })
        .collect();
    files.sort();
    files
}

/// Sends `SIGTERM` to `child`, as a process manager stops a server.
pub fn sigterm(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits up to a minute for `child` to exit; its exit code. `output` says what it printed
/// when it does not stop.
pub fn wait_for_exit(child: &mut std::process::Child, output: impl Fn() -> String) -> Option<i32> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the process did not stop:\n{}",
            output()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether `bytes` lift any function with the component model's `async` option (an async
/// export, WASI 0.3 style).
pub fn lifts_async(bytes: &[u8]) -> bool {
    use wasmparser::{CanonicalFunction, CanonicalOption, Payload};
    wasmparser::Parser::new(0).parse_all(bytes).any(|payload| {
        let Ok(Payload::ComponentCanonicalSection(reader)) = payload else {
            return false;
        };
        reader.into_iter().any(|function| {
            matches!(function, Ok(CanonicalFunction::Lift { options, .. })
                if options.iter().any(|o| matches!(o, CanonicalOption::Async)))
        })
    })
}

/// A world with an `async` function in `lang` (`language` as messages name it): `wcomp new`
/// refuses it, saying why (`reason`) and what to use instead, and writes nothing; a project
/// whose WIT turns async later is refused by `wcomp build` the same way, before the toolchain
/// runs.
#[track_caller]
pub fn assert_async_refused(lang: &str, language: &str, reason: &str) {
    let temp = tempdir();
    let dir = temp.path();
    let wit = repo_root().join("tests/e2e/async/counter.wit");
    let args = ["new", "aio", "--lang", lang, "--wit", wit.to_str().unwrap()];
    let out = run(dir, &[&args[..], &["--world", "counter"]].concat()).failure(1);
    let refused = format!("error: a {language} component cannot implement `");
    assert!(out.stderr.contains(&refused), "{}", out.stderr);
    assert!(out.stderr.contains(reason), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("write this component in Rust or Python"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("aio").exists());

    std::fs::write(
        dir.join("sync.wit"),
        "package acme:aio@0.1.0;\n\ninterface api {\n  count: func(text: string) -> u32;\n}\n\nworld counter {\n  export api;\n}\n",
    )
    .unwrap();
    let args = [
        "new", "later", "--lang", lang, "--wit", "sync.wit", "--world", "counter",
    ];
    run(dir, &args).success();
    let project_wit = dir.join("later/wit/sync.wit");
    let text = std::fs::read_to_string(&project_wit).unwrap();
    std::fs::write(
        &project_wit,
        text.replace("count: func", "count: async func"),
    )
    .unwrap();
    let out = run(&dir.join("later"), &["build"]).failure(1);
    let refused = format!(
        "error: a {language} component cannot implement `acme:aio/api@0.1.0#count`: it is `async`"
    );
    assert!(out.stderr.contains(&refused), "{}", out.stderr);
    assert!(!out.stderr.contains("panic"), "{}", out.stderr);
}

/// The names a component exports at its top level (not those of the components inside it).
pub fn component_exports(bytes: &[u8]) -> Vec<String> {
    top_level_names(bytes, false)
}

/// `wcomp new --template http --wasi 0.3` in `lang` (`language` as messages name it) is
/// refused, saying why (`reason`) and what to use instead, and writes nothing; `--wasi`
/// without `--template http` is refused too.
#[track_caller]
pub fn assert_wasi_0_3_http_refused(lang: &str, language: &str, reason: &str) {
    let temp = tempdir();
    let dir = temp.path();
    let args = [
        "new",
        "hello",
        "--lang",
        lang,
        "--template",
        "http",
        "--wasi",
        "0.3",
    ];
    let out = run(dir, &args).failure(1);
    let refused = format!(
        "error: a {language} component cannot implement `wasi:http/service@0.3.0`: its `handle` export is `async`, and "
    );
    assert!(out.stderr.contains(&refused), "{}", out.stderr);
    assert!(out.stderr.contains(reason), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "hint: drop `--wasi 0.3`: a WASI 0.2 handler (the default) builds in every language"
        ),
        "{}",
        out.stderr
    );
    assert!(!dir.join("hello").exists());

    let out = run(dir, &["new", "hello", "--lang", lang, "--wasi", "0.3"]).failure(1);
    assert!(
        out.stderr
            .contains("error: `--wasi` chooses the WASI release of `--template http`"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("hello").exists());
}

/// `wcomp new <name> --lang <lang> --template http --wasi 0.3` in `dir`: a WASI 0.3 HTTP
/// project. With `source` (a file of the repository), it replaces the Rust project's
/// `src/lib.rs`. The project's directory.
pub fn new_wasi_0_3_project(dir: &Path, name: &str, lang: &str, source: Option<&str>) -> PathBuf {
    let args = [
        "new",
        name,
        "--lang",
        lang,
        "--template",
        "http",
        "--wasi",
        "0.3",
    ];
    run(dir, &args).success();
    let project = dir.join(name);
    if let Some(source) = source {
        std::fs::copy(repo_root().join(source), project.join("src/lib.rs")).unwrap();
    }
    project
}

/// The names a component imports at its top level (`wasi:keyvalue/store@0.2.0-draft`, …).
pub fn component_imports(bytes: &[u8]) -> Vec<String> {
    top_level_names(bytes, true)
}

/// The names of a component's top-level imports, or of its exports.
fn top_level_names(bytes: &[u8], imports: bool) -> Vec<String> {
    use wasmparser::Payload;
    let mut depth = 0;
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("a valid component") {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 1 && imports => {
                names.extend(
                    reader
                        .into_iter()
                        .map(|import| import.expect("a valid import").name.name.to_owned()),
                );
            }
            Payload::ComponentExportSection(reader) if depth == 1 && !imports => {
                names.extend(
                    reader
                        .into_iter()
                        .map(|export| export.expect("a valid export").name.name.to_owned()),
                );
            }
            _ => {}
        }
    }
    names
}

/// The `include` lines `wcomp new --template http --with keyvalue,config` gives a world: the
/// `wasi:keyvalue` and `wasi:config` releases wcomp embeds (those of `wasmtime-wasi-keyvalue`
/// and `wasmtime-wasi-config` 48.0.8).
pub const WITH_INCLUDES: [&str; 2] = [
    "include wasi:keyvalue/imports@0.2.0-draft;",
    "include wasi:config/imports@0.2.0-rc.1;",
];

/// What the HTTP templates' handlers call with `--with keyvalue,config` (the greeting from
/// `wasi:config/store`, `/visits` counted with `store` and `atomics`): what every built
/// component imports.
pub const WITH_IMPORTS_USED: [&str; 3] = [
    "wasi:keyvalue/store@0.2.0-draft",
    "wasi:keyvalue/atomics@0.2.0-draft",
    "wasi:config/store@0.2.0-rc.1",
];

/// An HTTP template made with `--with keyvalue,config`, and what
/// [`check_http_template_with_keyvalue_and_config`] expects of it.
pub struct WithTemplate<'a> {
    pub name: &'a str,
    pub lang: &'a str,
    /// More arguments of `wcomp new` (`--wasi 0.3`).
    pub extra: &'a [&'a str],
    /// What `GET /` answers without configuration.
    pub greeting: &'a str,
    /// Whether the toolchain imports every function of the world (componentize-py,
    /// componentize-js), `batch` too, rather than only what the code calls (wit-component
    /// drops the rest for Rust and Go).
    pub imports_whole_world: bool,
}

/// `wcomp new <name> --lang <lang> --template http --with keyvalue,config` in `dir`: its world
/// includes both packages, whose WIT is under `wit/deps/` (`keyvalue/`, `config/`). Built with
/// `wcomp build` unmodified, the component imports what the handler calls. Served with no
/// grants, `GET /` answers the greeting and `/visits` a 503 naming the error (the bucket is not
/// granted); with the bucket `default` (in memory) and the configuration value `greeting`,
/// `GET /` answers that value and `/visits` counts. The component.
#[track_caller]
pub fn check_http_template_with_keyvalue_and_config(dir: &Path, case: &WithTemplate) -> PathBuf {
    let new = ["new", case.name, "--lang", case.lang, "--template", "http"];
    run(
        dir,
        &[&new[..], &["--with", "keyvalue,config"], case.extra].concat(),
    )
    .success();
    let project = dir.join(case.name);
    let world = std::fs::read_to_string(project.join("wit/world.wit")).unwrap();
    for include in WITH_INCLUDES {
        assert!(world.contains(include), "{world}");
    }
    let deps = project.join("wit/deps");
    for file in [
        "keyvalue/store.wit",
        "keyvalue/atomic.wit",
        "keyvalue/batch.wit",
        "keyvalue/world.wit",
        "config/store.wit",
        "config/world.wit",
    ] {
        assert!(deps.join(file).is_file(), "no wit/deps/{file}");
    }
    let built = run(&project, &["build"]).success();
    let component = PathBuf::from(built.stdout.trim());
    let imports = component_imports(&std::fs::read(&component).unwrap());
    assert_imports_all(&imports, &WITH_IMPORTS_USED);
    let batch = imports
        .iter()
        .any(|i| i.starts_with("wasi:keyvalue/batch@"));
    assert_eq!(batch, case.imports_whole_world, "{imports:?}");

    let server = server::Server::start(dir, &component, &[]);
    let hello = server::curl(&server, "/", &[]);
    assert_eq!((hello.status, hello.body.as_str()), (200, case.greeting));
    let visits = server::curl(&server, "/visits", &[]);
    assert_eq!(visits.status, 503, "{visits:?}");
    assert!(
        visits.body.starts_with("cannot count visits: "),
        "{visits:?}"
    );
    drop(server);
    let grants = [
        "--kv",
        "default=memory",
        "--config",
        "greeting=Hi from config",
    ];
    let server = server::Server::start(dir, &component, &grants);
    let hello = server::curl(&server, "/", &[]);
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (200, "Hi from config\n")
    );
    for count in ["1 visits\n", "2 visits\n"] {
        let visits = server::curl(&server, "/visits", &[]);
        assert_eq!((visits.status, visits.body.as_str()), (200, count));
    }
    component
}

/// Whether `imports` holds each of `expected`.
#[track_caller]
pub fn assert_imports_all(imports: &[String], expected: &[&str]) {
    for name in expected {
        assert!(
            imports.iter().any(|i| i == name),
            "no {name} in {imports:?}"
        );
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Rust component from world `world` of the WIT file `tests/<fixtures>/<wit>` with
/// `tests/<fixtures>/<source>` as its `src/lib.rs`, made by `wcomp new --wit` and built by
/// `wcomp build` in `root/<name>/` (kept out of the repository's cargo workspace); the component.
pub fn build_rust_wit_fixture(
    root: &Path,
    name: &str,
    (fixtures, wit, world, source): (&str, &str, &str, &str),
) -> PathBuf {
    let project = root.join(name);
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(root).unwrap();
    let fixtures = repo_root().join("tests").join(fixtures);
    let wit = fixtures.join(wit);
    let new = [
        "new",
        name,
        "--lang",
        "rust",
        "--wit",
        wit.to_str().unwrap(),
        "--world",
        world,
    ];
    run(root, &new).success();
    std::fs::copy(fixtures.join(source), project.join("src/lib.rs")).unwrap();
    // Under the repository's target dir: keep cargo from taking it for a workspace member.
    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
    PathBuf::from(run(root, &["build", name]).success().stdout.trim())
}
