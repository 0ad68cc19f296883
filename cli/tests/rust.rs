//! End to end with the real cargo: scaffold two Rust components from one WIT package, fill in
//! their code, build, compose and run the composition.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::{repo_root, run, tempdir};

fn fixture(name: &str) -> std::path::PathBuf {
    repo_root().join("tests/e2e/text").join(name)
}

fn scaffold(dir: &Path, name: &str) {
    let wit = fixture("text.wit");
    run(
        dir,
        &[
            "new",
            name,
            "--lang",
            "rust",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            name,
        ],
    )
    .success();
    std::fs::copy(
        fixture(&format!("{name}.rs")),
        dir.join(name).join("src/lib.rs"),
    )
    .unwrap();
}

#[test]
fn two_rust_components_compose_and_run() {
    let temp = tempdir();
    let dir = temp.path();
    scaffold(dir, "analyzer");
    scaffold(dir, "reporter");

    let built = run(dir, &["build", "analyzer"]).success();
    let analyzer = dir.join("analyzer/target/wcomp/analyzer.wasm");
    assert_eq!(built.stdout.trim(), analyzer.display().to_string());
    run(dir, &["build", "reporter"]).success();

    let composed = run(
        dir,
        &[
            "--format",
            "json",
            "compose",
            "reporter/target/wcomp/reporter.wasm",
            "--plug",
            "analyzer/target/wcomp/analyzer.wasm",
            "-o",
            "app.wasm",
        ],
    )
    .success();
    let message: serde_json::Value =
        serde_json::from_str(composed.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(message["reason"], "composed");
    assert_eq!(message["links"][0]["importer"], "reporter");
    assert_eq!(message["links"][0]["import"], "acme:text/stats@0.1.0");
    assert_eq!(message["links"][0]["exporter"], "analyzer");

    let out = run(
        dir,
        &[
            "run",
            "app.wasm",
            "--invoke",
            r#"render("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "\"4 words, longest: Hello\"\n");
    let out = run(
        dir,
        &[
            "run",
            "app.wasm",
            "--invoke",
            r#"acme:text/report#render("a bb ccc")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "\"3 words, longest: ccc\"\n");

    // The reporter alone cannot run: its import is unsatisfied, and wcomp says how to fix it.
    let out = run(
        dir,
        &[
            "run",
            "reporter/target/wcomp/reporter.wasm",
            "--invoke",
            r#"render("x")"#,
        ],
    )
    .failure(1);
    assert!(
        out.stderr.contains("acme:text/stats@0.1.0"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("wcomp compose"), "{}", out.stderr);

    // A plug nobody imports from is an error that names it.
    let out = run(
        dir,
        &[
            "compose",
            "analyzer/target/wcomp/analyzer.wasm",
            "--plug",
            "reporter/target/wcomp/reporter.wasm",
            "-o",
            "bad.wasm",
        ],
    )
    .failure(1);
    assert!(
        out.stderr.contains("plug `reporter` satisfies no import"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("bad.wasm").exists());
}

#[test]
fn scaffolded_stubs_build_and_cargo_errors_show_through() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = fixture("text.wit");
    run(
        dir,
        &[
            "new",
            "stubbed",
            "--lang",
            "rust",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            "reporter",
        ],
    )
    .success();
    let lib = std::fs::read_to_string(dir.join("stubbed/src/lib.rs")).unwrap();
    assert!(
        lib.contains("impl exports::acme::text::report::Guest for Component"),
        "{lib}"
    );
    assert!(
        lib.contains("unimplemented!(\"`acme:text/report@0.1.0#render` is not implemented yet\")"),
        "{lib}"
    );
    run(dir, &["build", "stubbed"]).success();
    // Calling a stub traps with its message, and wcomp reports the trap.
    let out = run(
        dir,
        &[
            "run",
            "stubbed/target/wcomp/stubbed.wasm",
            "--invoke",
            r#"render("x")"#,
        ],
    )
    .failure(1);
    assert!(out.stderr.contains("the guest trapped"), "{}", out.stderr);
    assert!(
        out.stderr.contains("is not implemented yet"),
        "{}",
        out.stderr
    );

    std::fs::write(
        dir.join("stubbed/src/lib.rs"),
        lib.replace(
            "unimplemented!(",
            "let oops: u32 = \"text\"; unimplemented!(",
        ),
    )
    .unwrap();
    let out = run(dir, &["build", "stubbed"]).failure(1);
    assert!(
        out.stderr.contains("error[E0308]: mismatched types"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("src/lib.rs:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("error: cargo failed to build"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_example_project_builds_and_runs() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "greeter", "--lang", "rust"]).success();
    run(dir, &["build", "greeter"]).success();
    // A project outside a workspace is fingerprinted like a workspace member: unchanged, or
    // changed only in files its `.gitignore` ignores, it is not handed to cargo again.
    let fresh = |out: &support::Run| out.stdout.contains(r#""reason":"component-fresh""#);
    let out = run(dir, &["build", "greeter", "--format", "json"]).success();
    assert!(fresh(&out), "{}", out.stdout);
    let gitignore = std::fs::read_to_string(dir.join("greeter/.gitignore")).unwrap();
    std::fs::write(
        dir.join("greeter/.gitignore"),
        format!("{gitignore}*.orig\n"),
    )
    .unwrap();
    let out = run(dir, &["build", "greeter", "--format", "json"]).success();
    assert!(!fresh(&out), ".gitignore is an input: {}", out.stdout);
    std::fs::write(dir.join("greeter/src/lib.rs.orig"), "backup").unwrap();
    let out = run(dir, &["build", "greeter", "--format", "json"]).success();
    assert!(fresh(&out), "{}", out.stdout);
    let out = run(
        dir,
        &[
            "run",
            "greeter/target/wcomp/greeter.wasm",
            "--invoke",
            r#"describe("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "\"4 words, 21 characters\"\n");
}

#[test]
fn missing_target_and_missing_toolchain_say_how_to_install() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "lonely", "--lang", "rust"]).success();

    // A rustc whose sysroot has no wasm32-wasip2 standard library: only the detection is
    // exercised here (the check happens before cargo is started).
    let sysroot = dir.join("empty-sysroot");
    std::fs::create_dir_all(sysroot.join("lib/rustlib")).unwrap();
    let fake_rustc = dir.join("rustc-without-target");
    std::fs::write(
        &fake_rustc,
        format!("#!/bin/sh\necho '{}'\n", sysroot.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake_rustc, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = support::wcomp(dir)
        .args(["build", "lonely"])
        .env("RUSTC", &fake_rustc)
        .output()
        .unwrap();
    let out = support::Run::from_output(out).failure(1);
    assert!(
        out.stderr
            .contains("error: the Rust target `wasm32-wasip2` is not installed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: install it with `rustup target add wasm32-wasip2`"),
        "{}",
        out.stderr
    );

    // No Rust at all on PATH.
    let out = support::wcomp(dir)
        .args(["build", "lonely"])
        .env("PATH", dir.join("nothing-here"))
        .env_remove("RUSTC")
        .env_remove("CARGO")
        .output()
        .unwrap();
    let out = support::Run::from_output(out).failure(1);
    assert!(
        out.stderr.contains("is not installed or not on PATH"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("rustup target add wasm32-wasip2"),
        "{}",
        out.stderr
    );

    // Not a project at all.
    let out = run(dir, &["build", "empty-sysroot"]).failure(1);
    assert!(
        out.stderr
            .contains("is not a component project wcomp can build"),
        "{}",
        out.stderr
    );
}

/// Two projects whose crates share a name, built into one `CARGO_TARGET_DIR` (as the tests'
/// guests are): cargo alone takes the second for the first, up to date, because a cdylib's
/// file name carries no hash; wcomp rebuilds whichever project did not build the artifact last.
#[test]
fn same_named_crates_in_one_target_dir_each_get_their_own_component() {
    let temp = tempdir();
    let dir = temp.path();
    for project in ["first", "second"] {
        run(
            dir,
            &["new", project, "--lang", "rust", "--name", "twin-crate"],
        )
        .success();
    }
    let lib = dir.join("second/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        text.replace("words, {characters}", "WORDS, {characters}"),
    )
    .unwrap();

    let describe = |project: &str| {
        run(&dir.join(project), &["build"]).success();
        run(
            &dir.join(project),
            &[
                "run",
                "target/wcomp/twin-crate.wasm",
                "--invoke",
                r#"describe("a b")"#,
            ],
        )
        .success()
        .stdout
    };
    assert_eq!(describe("first"), "\"2 words, 3 characters\"\n");
    assert_eq!(describe("second"), "\"2 WORDS, 3 characters\"\n");
    // Back to the first, unchanged: it was built last by the other project, so it is rebuilt.
    assert_eq!(describe("first"), "\"2 words, 3 characters\"\n");
}

/// A world with `async` exports: the stubs are `async fn`s, as wit-bindgen generates them; the
/// project builds into a component whose exports are lifted async, and `wcomp run` calls its
/// plain function on the event loop async components need.
#[test]
fn async_exports_are_scaffolded_as_async_fns_and_build() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = repo_root().join("tests/e2e/async/counter.wit");
    run(
        dir,
        &[
            "new",
            "aio",
            "--lang",
            "rust",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            "counter",
        ],
    )
    .success();
    let lib = std::fs::read_to_string(dir.join("aio/src/lib.rs")).unwrap();
    for stub in [
        "    async fn count(text: String) -> u32 {",
        "    fn hello(name: String) -> String {",
        "    async fn add(&self, n: u32) -> u32 {",
        "    async fn make() -> exports::acme::aio::api::Tally {",
        "    async fn total() -> u64 {",
    ] {
        assert!(lib.contains(stub), "no `{stub}` in:\n{lib}");
    }
    run(&dir.join("aio"), &["build"]).success();
    let component = dir.join("aio/target/wcomp/aio.wasm");
    assert!(support::lifts_async(&std::fs::read(&component).unwrap()));
    // The stubs are `unimplemented!()`: calling one is the guest's own trap, reported as such.
    let out = run(
        dir,
        &[
            "run",
            component.to_str().unwrap(),
            "--invoke",
            r#"hello("x")"#,
        ],
    )
    .failure(1);
    assert!(out.stderr.contains("the guest trapped"), "{}", out.stderr);
    assert!(out.stderr.contains("not implemented"), "{}", out.stderr);
}

/// A Rust component of world `world` from the async fixture WIT (`sync` turns `count` back into
/// a plain function), with `body` as the only function's code.
fn async_fixture(
    dir: &Path,
    name: &str,
    world: &str,
    sync: bool,
    body: &str,
) -> std::path::PathBuf {
    let mut wit = std::fs::read_to_string(repo_root().join("tests/e2e/async/report.wit")).unwrap();
    if sync {
        wit = wit.replace("count: async func", "count: func");
    }
    let wit_file = dir.join(format!("{name}.wit"));
    std::fs::write(&wit_file, wit).unwrap();
    run(
        dir,
        &[
            "new",
            name,
            "--lang",
            "rust",
            "--wit",
            wit_file.to_str().unwrap(),
            "--world",
            world,
        ],
    )
    .success();
    let lib = dir.join(name).join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let stub = text
        .lines()
        .find(|line| line.contains("unimplemented!("))
        .unwrap()
        .to_owned();
    std::fs::write(&lib, text.replace(&stub, body)).unwrap();
    run(&dir.join(name), &["build"]).success();
    dir.join(name).join(format!("target/wcomp/{name}.wasm"))
}

/// Async components compose: an async reporter over an async counter, and an async reporter
/// over a plain (WASI 0.2 style) counter; both compositions keep their async exports.
#[test]
fn async_components_compose_with_async_and_sync_ones() {
    let temp = tempdir();
    let dir = temp.path();
    let count = "        text.split_whitespace().count() as u32";
    let counter = async_fixture(dir, "async-counter", "counter", false, count);
    let reporter = async_fixture(
        dir,
        "async-reporter",
        "reporter",
        false,
        "        format!(\"{} words\", acme::aio::api::count(text).await)",
    );
    let sync_counter = async_fixture(dir, "sync-counter", "counter", true, count);
    let mixed_reporter = async_fixture(
        dir,
        "mixed-reporter",
        "reporter",
        true,
        "        format!(\"{} words\", acme::aio::api::count(&text))",
    );
    assert!(!support::lifts_async(
        &std::fs::read(&sync_counter).unwrap()
    ));
    for (socket, plug, out) in [
        (&reporter, &counter, "async.wasm"),
        (&mixed_reporter, &sync_counter, "mixed.wasm"),
    ] {
        let composed = run(
            dir,
            &[
                "compose",
                socket.to_str().unwrap(),
                "--plug",
                plug.to_str().unwrap(),
                "-o",
                out,
                "--explain",
            ],
        )
        .success();
        assert!(
            composed
                .stdout
                .contains("import `acme:aio/api@0.1.0`: satisfied by `"),
            "{}",
            composed.stdout
        );
        assert!(support::lifts_async(&std::fs::read(dir.join(out)).unwrap()));
        // The composition runs: an async export calling an async (or plain) import.
        let ran = run(dir, &["run", out, "--invoke", r#"render("one two three")"#]).success();
        assert_eq!(ran.stdout, "\"3 words\"\n", "{out}");
    }

    // `async` functions under `wcomp test`, one instance per case, in a workspace.
    let wit = repo_root().join("tests/e2e/async/report.wit");
    run(
        dir,
        &["new", "ws", "--workspace", "--wit", wit.to_str().unwrap()],
    )
    .success();
    let ws = dir.join("ws");
    run(
        &ws,
        &["new", "counter", "--lang", "rust", "--world", "counter"],
    )
    .success();
    let lib = ws.join("counter/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let stub = text
        .lines()
        .find(|l| l.contains("unimplemented!("))
        .unwrap();
    std::fs::write(&lib, text.replace(stub, count)).unwrap();
    let manifest = ws.join("wcomp.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(concat!(
        "\n[[test]]\nname = \"counts\"\ncomponent = \"counter\"\ninvoke = 'count(\"a b c d\")'\nexpect = \"4\"\n",
        "\n[[test]]\nname = \"miscounts\"\ncomponent = \"counter\"\ninvoke = 'count(\"a\")'\nexpect = \"2\"\n",
    ));
    std::fs::write(&manifest, text).unwrap();
    let tested = run(&ws, &["test"]).failure(1);
    assert!(
        tested.stdout.contains("1 passed, 1 failed"),
        "{}",
        tested.stdout
    );

    // `wcomp bench` times an `async` function's calls like any other's.
    let counter = ws.join("counter/target/wcomp/counter.wasm");
    let bench = run(
        dir,
        &[
            "bench",
            counter.to_str().unwrap(),
            "--invoke",
            r#"count("a b c")"#,
            "--duration",
            "200ms",
        ],
    )
    .success();
    assert!(
        bench.stdout.contains("samples of `count"),
        "{}",
        bench.stdout
    );
    assert!(tested.stdout.contains("miscounts"), "{}", tested.stdout);
}

/// `--template http --wasi 0.3`: a `wasip3` handler, with no WIT of its own, that builds into a
/// component exporting `wasi:http/handler@0.3.x`, lifted async. (wasip3 0.10 speaks WASI
/// 0.3.2, whose WIT differs from the runtime's 0.3.0 in documentation only; wasmtime matches
/// the two as semver-compatible.)
#[test]
fn the_wasi_0_3_http_template_builds_an_async_handler() {
    let temp = tempdir();
    let dir = temp.path();
    let args = [
        "new",
        "hello-p3",
        "--lang",
        "rust",
        "--template",
        "http",
        "--wasi",
        "0.3",
    ];
    let out = run(dir, &args).success();
    assert!(
        out.stderr.contains("(world `wasi:http/service`)"),
        "{}",
        out.stderr
    );
    let lib = std::fs::read_to_string(dir.join("hello-p3/src/lib.rs")).unwrap();
    assert!(
        lib.contains("wasip3::http::service::export!(Handler);"),
        "{lib}"
    );
    assert!(lib.contains("async fn handle(request: Request)"), "{lib}");
    assert!(!dir.join("hello-p3/wit").exists());

    let out = run(&dir.join("hello-p3"), &["build"]).success();
    let bytes = std::fs::read(out.stdout.trim()).unwrap();
    let exports = support::component_exports(&bytes);
    assert!(
        exports
            .iter()
            .any(|name| name.starts_with("wasi:http/handler@0.3.")),
        "{exports:?}"
    );
    assert!(
        !exports.iter().any(|name| name.contains("incoming-handler")),
        "{exports:?}"
    );
    assert!(support::lifts_async(&bytes), "`handle` is not lifted async");
}

/// A WASI 0.3 command (`wasi:cli/run@0.3`) that also imports WASI 0.2: `wcomp run` links both,
/// runs the `async` `run` on its event loop, passes the arguments, and exits with its result.
#[test]
fn a_wasi_0_3_command_mixing_0_2_imports_runs() {
    let temp = tempdir();
    let dir = temp.path();
    support::new_wasi_0_3_project(
        dir,
        "p3-command",
        "rust",
        Some("tests/e2e/async/command.rs"),
    );
    let built = run(dir, &["build", "p3-command"]).success();
    let component = built.stdout.trim().to_owned();
    let ran = run(dir, &["run", &component, "--", "hello", "world"]).success();
    assert_eq!(ran.stdout, "0.3 stdout: hello world\n");
    assert!(
        ran.stderr.contains("0.2 stderr: 3 arguments"),
        "{}",
        ran.stderr
    );
    let failed = run(dir, &["run", &component, "--", "fail"]).failure(1);
    assert_eq!(failed.stdout, "0.3 stdout: fail\n");
}

/// `--template http --with keyvalue,config`, for WASI 0.2 (wstd) and 0.3 (wasip3): the crate
/// keeps its HTTP export, and gets a `wit/` whose world holds the two includes alone, for
/// `wit_bindgen::generate!`. It builds unmodified into a component that imports what the
/// handler calls: `wasi:config/store` for its greeting, `wasi:keyvalue/store` and `atomics`
/// for `/visits`. `batch`, which it never calls, is not imported: wit-component keeps only
/// the imports the code uses. Served, it answers `GET /` without grants, and with them reads
/// its configuration and counts in its bucket.
#[test]
fn the_http_templates_with_keyvalue_and_config_build_and_import_them() {
    let temp = tempdir();
    let dir = temp.path();
    for (name, extra, export) in [
        ("kv-p2", &[][..], "wasi:http/incoming-handler@0.2."),
        ("kv-p3", &["--wasi", "0.3"][..], "wasi:http/handler@0.3."),
    ] {
        let case = support::WithTemplate {
            name,
            lang: "rust",
            extra,
            greeting: "Hello from Rust!\n",
            imports_whole_world: false,
        };
        let component = support::check_http_template_with_keyvalue_and_config(dir, &case);
        let world = std::fs::read_to_string(dir.join(name).join("wit/world.wit")).unwrap();
        assert!(world.contains("world imports {"), "{world}");
        assert!(!world.contains("include wasi:http"), "{world}");
        let lib = std::fs::read_to_string(dir.join(name).join("src/lib.rs")).unwrap();
        assert!(
            lib.contains(
                r#"wit_bindgen::generate!({ world: "imports", path: "wit", generate_all });"#
            ),
            "{lib}"
        );
        let exports = support::component_exports(&std::fs::read(&component).unwrap());
        assert!(
            exports.iter().any(|name| name.starts_with(export)),
            "{exports:?}"
        );
    }
}

/// A world in a single `--wit` file that exports an interface of its own and imports
/// `wasi:keyvalue/store`, `atomics` and `batch`: `wcomp new` resolves `wasi:keyvalue` from
/// wcomp's own copy and writes it to `wit/deps/keyvalue/`, the stubs build, and once the code
/// calls the three the component imports them.
#[test]
fn a_wit_world_importing_wasi_keyvalue_gets_the_package_and_builds() {
    let temp = tempdir();
    let dir = temp.path();
    std::fs::write(
        dir.join("counter.wit"),
        "package acme:counter@0.1.0;

interface api {
  add: func(bucket: string, key: string, delta: u64) -> result<u64, string>;
  reset: func(bucket: string, keys: list<string>) -> result<_, string>;
}

world counter {
  import wasi:keyvalue/store@0.2.0-draft;
  import wasi:keyvalue/atomics@0.2.0-draft;
  import wasi:keyvalue/batch@0.2.0-draft;
  export api;
}
",
    )
    .unwrap();
    let args = ["new", "counter", "--lang", "rust", "--wit", "counter.wit"];
    run(dir, &args).success();
    let project = dir.join("counter");
    assert!(project.join("wit/counter.wit").is_file());
    let store = std::fs::read_to_string(project.join("wit/deps/keyvalue/world.wit")).unwrap();
    assert!(
        store.contains("package wasi:keyvalue@0.2.0-draft;"),
        "{store}"
    );
    // Nothing is written beside the user's file.
    assert!(!dir.join("deps").exists());
    run(&project, &["build"]).success();

    std::fs::write(
        project.join("src/lib.rs"),
        r#"wit_bindgen::generate!({ world: "counter", path: "wit", generate_all });

use exports::acme::counter::api::Guest;
use wasi::keyvalue::{atomics, batch, store};

struct Component;

impl Guest for Component {
    fn add(bucket: String, key: String, delta: u64) -> Result<u64, String> {
        let bucket = store::open(&bucket).map_err(|err| format!("{err:?}"))?;
        atomics::increment(&bucket, &key, delta).map_err(|err| format!("{err:?}"))
    }

    fn reset(bucket: String, keys: Vec<String>) -> Result<(), String> {
        let bucket = store::open(&bucket).map_err(|err| format!("{err:?}"))?;
        batch::delete_many(&bucket, &keys).map_err(|err| format!("{err:?}"))
    }
}

export!(Component);
"#,
    )
    .unwrap();
    let built = run(&project, &["build"]).success();
    let imports = support::component_imports(&std::fs::read(built.stdout.trim()).unwrap());
    support::assert_imports_all(
        &imports,
        &[
            "wasi:keyvalue/store@0.2.0-draft",
            "wasi:keyvalue/atomics@0.2.0-draft",
            "wasi:keyvalue/batch@0.2.0-draft",
        ],
    );
}
