//! Python components end to end with the real componentize-py: scaffold from a world, fill in
//! the stubs, build, compose with Rust components in both directions and run. Also how
//! componentize-py is provisioned on a machine without it, and how Python errors are reported.
//! Python builds take seconds and produce ~18 MB components, so each test builds few and
//! checks several things against each build.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::{Path, PathBuf};

use support::server::{Server, curl, requests};
use support::{Run, repo_root, run, tempdir};

/// The `acme:text` package of the Rust end-to-end tests, plus an interface the Python analyzer
/// leaves as generated stubs.
const TEXT_WIT: &str = r#"package acme:text@0.1.0;

interface stats {
    record summary {
        words: u32,
        longest: string,
    }
    analyze: func(text: string) -> summary;
}

interface report {
    render: func(text: string) -> string;
}

/// Left as generated stubs: they must build, and say what is missing when called.
interface extras {
    enum mode { plain, loud }
    resource counter {
        constructor(start: u32);
        bump: func(by: u32) -> u32;
    }
    decorate: func(text: string, mode: mode) -> result<string, string>;
}

world analyzer {
    export stats;
}

world reporter {
    import stats;
    export report;
}

world analyzer-plus {
    export stats;
    export extras;
}
"#;

fn write_wit(dir: &Path) -> PathBuf {
    let path = dir.join("text.wit");
    std::fs::write(&path, TEXT_WIT).unwrap();
    path
}

/// A Rust component from the shared end-to-end fixtures (`tests/e2e/text/<name>.rs`).
fn rust_component(dir: &Path, wit: &Path, name: &str) -> PathBuf {
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
        repo_root()
            .join("tests/e2e/text")
            .join(format!("{name}.rs")),
        dir.join(name).join("src/lib.rs"),
    )
    .unwrap();
    run(dir, &["build", name]).success();
    dir.join(name)
        .join("target/wcomp")
        .join(format!("{name}.wasm"))
}

fn python_project(dir: &Path, wit: &Path, name: &str, world: &str) -> PathBuf {
    run(
        dir,
        &[
            "new",
            name,
            "--lang",
            "python",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            world,
        ],
    )
    .success();
    dir.join(name)
}

/// Replaces exactly one occurrence of `from` in `path`.
#[track_caller]
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` once in {}:\n{text}",
        path.display()
    );
    std::fs::write(path, text.replace(from, to)).unwrap();
}

fn stub(item: &str) -> String {
    format!("raise NotImplementedError(\"`{item}` is not implemented yet\")")
}

#[test]
fn python_reporter_imports_what_a_rust_analyzer_exports() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = write_wit(dir);
    let analyzer = rust_component(dir, &wit, "analyzer");

    let reporter = python_project(dir, &wit, "reporter", "reporter");
    let app = reporter.join("app.py");
    let generated = std::fs::read_to_string(&app).unwrap();
    assert!(
        generated.contains("class WitWorld(wit_world.WitWorld):"),
        "{generated}"
    );
    assert!(
        generated.contains("class Report(exports.Report):"),
        "{generated}"
    );
    assert!(
        generated.contains("    def render(self, text: str) -> str:"),
        "{generated}"
    );
    assert!(
        generated.contains("from wit_world.imports import stats"),
        "{generated}"
    );

    // The real code, with a helper from a vendored directory listed in `[python] path`.
    edit(
        &app,
        "import wit_world\n",
        "import textfmt\nimport wit_world\n",
    );
    edit(
        &app,
        &stub("acme:text/report@0.1.0#render"),
        "summary = stats.analyze(text)\n        return textfmt.sentence(summary.words, summary.longest)",
    );
    std::fs::create_dir(reporter.join("vendor")).unwrap();
    std::fs::write(
        reporter.join("vendor/textfmt.py"),
        "def sentence(words: int, longest: str) -> str:\n    return f\"{words} words, longest: {longest}\"\n",
    )
    .unwrap();
    edit(
        &reporter.join("wcomp.toml"),
        "path = []",
        "path = [\"vendor\"]",
    );

    let built = run(dir, &["build", "reporter"]).success();
    let component = reporter.join("target/wcomp/reporter.wasm");
    assert_eq!(built.stdout.trim(), component.display().to_string());
    assert!(
        built.stderr.contains("Finished `reporter`"),
        "{}",
        built.stderr
    );
    // Editors find the bindings where pyproject.toml points them.
    assert!(
        reporter
            .join("target/wcomp/bindings/wit_world/imports/stats.py")
            .is_file()
    );

    let composed = run(
        dir,
        &[
            "--format",
            "json",
            "compose",
            component.to_str().unwrap(),
            "--plug",
            analyzer.to_str().unwrap(),
            "-o",
            "app.wasm",
        ],
    )
    .success();
    let message: serde_json::Value =
        serde_json::from_str(composed.stdout.lines().last().unwrap()).unwrap();
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

    // A syntax error: componentize-py's message, with the user's file and line, exit 1.
    let good = std::fs::read_to_string(&app).unwrap();
    let line = good
        .lines()
        .position(|l| l.contains("def render("))
        .unwrap()
        + 1;
    edit(
        &app,
        "def render(self, text: str) -> str:",
        "def render(self, text: str) -> str",
    );
    let out = run(dir, &["build", "reporter"]).failure(1);
    assert!(
        out.stderr
            .contains(&format!("File \"reporter/app.py\", line {line}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("SyntaxError: expected ':'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("error: componentize-py failed to build"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: the Python error above names the file and line"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("AssertionError"), "{}", out.stderr);

    // An error raised while importing a vendored module names that file.
    std::fs::write(&app, &good).unwrap();
    std::fs::write(
        reporter.join("vendor/textfmt.py"),
        "x = 1\nsentence = undefined_name\n",
    )
    .unwrap();
    let out = run(dir, &["build", "reporter"]).failure(1);
    assert!(
        out.stderr
            .contains("File \"reporter/vendor/textfmt.py\", line 2"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("NameError: name 'undefined_name' is not defined"),
        "{}",
        out.stderr
    );

    // A `[python] path` entry that does not exist is named.
    edit(
        &reporter.join("wcomp.toml"),
        "path = [\"vendor\"]",
        "path = [\"vendored\"]",
    );
    let out = run(dir, &["build", "reporter"]).failure(1);
    assert!(
        out.stderr
            .contains("`[python] path` entry `vendored` is not a directory"),
        "{}",
        out.stderr
    );
}

#[test]
fn rust_reporter_imports_what_a_python_analyzer_exports() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = write_wit(dir);
    let reporter = rust_component(dir, &wit, "reporter");

    let analyzer = python_project(dir, &wit, "analyzer", "analyzer-plus");
    let app = analyzer.join("app.py");
    let generated = std::fs::read_to_string(&app).unwrap();
    assert!(
        generated.contains("class Stats(exports.Stats):"),
        "{generated}"
    );
    assert!(
        generated.contains("    def analyze(self, text: str) -> stats.Summary:"),
        "{generated}"
    );
    assert!(
        generated.contains("class Extras(exports.Extras):"),
        "{generated}"
    );
    assert!(
        generated.contains("    def decorate(self, text: str, mode: extras.Mode) -> str:"),
        "{generated}"
    );
    // componentize-py finds exported resources in a module named after their interface.
    let resources = std::fs::read_to_string(analyzer.join("extras.py")).unwrap();
    assert!(
        resources.contains("class Counter(extras.Counter):"),
        "{resources}"
    );
    assert!(
        resources.contains("    def __init__(self, start: int) -> None:"),
        "{resources}"
    );

    edit(
        &app,
        &stub("acme:text/stats@0.1.0#analyze"),
        "words = text.split()\n        # The first of the longest words wins ties, as in the Rust analyzer.\n        longest = max(words, key=len, default=\"\")\n        return stats.Summary(words=len(words), longest=longest)",
    );
    run(dir, &["build", "analyzer"]).success();
    let component = analyzer.join("target/wcomp/analyzer.wasm");

    run(
        dir,
        &[
            "compose",
            reporter.to_str().unwrap(),
            "--plug",
            component.to_str().unwrap(),
            "-o",
            "app.wasm",
        ],
    )
    .success();
    let out = run(
        dir,
        &[
            "run",
            "app.wasm",
            "--invoke",
            r#"render("a bb ccc dd eee")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "\"5 words, longest: ccc\"\n");

    // The stubs left in place build, and calling one says what is missing.
    let out = run(
        dir,
        &[
            "run",
            component.to_str().unwrap(),
            "--invoke",
            r#"decorate("hi", loud)"#,
        ],
    )
    .failure(1);
    assert!(out.stderr.contains("the guest trapped"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`acme:text/extras@0.1.0#decorate` is not implemented yet"),
        "{}",
        out.stderr
    );
}

/// The real interpreter behind `python3` on the test's PATH (following shims such as pyenv's).
fn real_python() -> PathBuf {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("Python 3 is needed to build Python components");
    assert!(out.status.success(), "python3 does not run");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// The pinned componentize-py release and what it needs, as wheels from the package index:
/// downloaded by pip once, into `target/test-wheels/`.
fn componentize_py_wheels() -> PathBuf {
    let dir = repo_root().join("target/test-wheels");
    let has_wheel = std::fs::read_dir(&dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("componentize_py-0.25.1") && name.ends_with(".whl")
        })
    });
    if !has_wheel {
        let status = std::process::Command::new(real_python())
            .args(["-m", "pip", "download", "--disable-pip-version-check", "-q"])
            .args(["--only-binary=:all:", "componentize-py==0.25.1", "-d"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "pip could not download componentize-py");
    }
    dir
}

#[test]
fn componentize_py_is_installed_once_into_the_cache() {
    let temp = tempdir();
    let dir = temp.path();
    // A PATH with Python and nothing else: no componentize-py, no pip on it.
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(real_python(), bin.join("python3")).unwrap();
    let cache = dir.join("cache");
    let wcomp_with = |args: &[&str], path: &Path, env: &[(&str, &Path)]| {
        let output = support::wcomp(dir)
            .args(args)
            .envs(env.iter().copied())
            .env("PATH", path)
            .env("WCOMP_CACHE_DIR", &cache)
            .env_remove("COMPONENTIZE_PY")
            .env_remove("PYTHON")
            .env_remove("VIRTUAL_ENV")
            .output()
            .unwrap();
        Run::from_output(output)
    };
    let wcomp = |args: &[&str], path: &Path| wcomp_with(args, path, &[]);

    run(dir, &["new", "greeter", "--lang", "python"]).success();
    let manifest = std::fs::read_to_string(dir.join("greeter/wcomp.toml")).unwrap();
    assert!(manifest.contains("lang = \"python\""), "{manifest}");

    let out = wcomp(&["build", "greeter", "--offline"], &bin).failure(1);
    assert!(
        out.stderr.contains(
            "error: componentize-py 0.25.1 is not installed, and `--offline` forbids downloading it"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("pip install componentize-py==0.25.1"),
        "{}",
        out.stderr
    );

    let out = wcomp(&["build", "greeter"], &dir.join("no-python-here")).failure(1);
    assert!(
        out.stderr
            .contains("error: `python3` is not installed or not on PATH"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: install Python 3.10 or later"),
        "{}",
        out.stderr
    );

    // pip runs and fails (no package index): its output and the manual command are shown,
    // and the half-made environment is removed.
    let nowhere = dir.join("no-wheels-here");
    std::fs::create_dir(&nowhere).unwrap();
    let no_index = [
        ("PIP_NO_INDEX", Path::new("1")),
        ("PIP_FIND_LINKS", nowhere.as_path()),
    ];
    let out = wcomp_with(&["build", "greeter"], &bin, &no_index).failure(1);
    assert!(
        out.stderr
            .contains("error: could not install componentize-py 0.25.1 into"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("No matching distribution found"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("pip install componentize-py==0.25.1"),
        "{}",
        out.stderr
    );
    let venv = cache.join("python/componentize-py-0.25.1");
    assert!(!venv.exists());

    // The real install, by pip into a new virtual environment, from the wheels the package
    // index served on the first run of this test (kept under `target/`, so later runs need
    // no network).
    let wheels = componentize_py_wheels();
    let local_index = [
        ("PIP_NO_INDEX", Path::new("1")),
        ("PIP_FIND_LINKS", wheels.as_path()),
    ];
    let out = wcomp_with(&["build", "greeter"], &bin, &local_index).success();
    assert!(
        out.stderr.contains("Installing componentize-py 0.25.1"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Installed componentize-py 0.25.1 in"),
        "{}",
        out.stderr
    );
    assert!(venv.join("wcomp-provisioned").is_file());

    // The build that installed componentize-py recorded the toolchain as it is now: the next
    // build is fresh, and runs nothing (so even `--offline` is fine).
    let out = wcomp(&["build", "greeter", "--offline", "--format", "json"], &bin).success();
    assert!(!out.stdout.contains("Installing"), "{}", out.stdout);
    assert!(
        out.stdout.contains(r#""reason":"component-fresh""#),
        "{}",
        out.stdout
    );
    // Editor and tool droppings listed in the scaffold's `.gitignore` change nothing; a
    // source edit rebuilds.
    std::fs::write(dir.join("greeter/.app.py.swp"), "swap").unwrap();
    std::fs::create_dir_all(dir.join("greeter/__pycache__")).unwrap();
    std::fs::write(dir.join("greeter/__pycache__/app.cpython-311.pyc"), "cache").unwrap();
    let out = wcomp(&["build", "greeter", "--offline", "--format", "json"], &bin).success();
    assert!(out.stdout.contains("component-fresh"), "{}", out.stdout);
    let app = std::fs::read_to_string(dir.join("greeter/app.py")).unwrap();
    std::fs::write(dir.join("greeter/app.py"), format!("{app}\n# edited\n")).unwrap();
    let out = wcomp(&["build", "greeter", "--offline", "--format", "json"], &bin).success();
    assert!(out.stdout.contains("component-building"), "{}", out.stdout);

    let component = dir.join("greeter/target/wcomp/greeter.wasm");
    let out = run(
        dir,
        &[
            "run",
            component.to_str().unwrap(),
            "--invoke",
            r#"describe("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "\"4 words, 21 characters\"\n");
}

/// A world with `async` exports: the stubs are coroutines (`async def`), as componentize-py
/// expects them, and componentize-py builds them into a component whose exports are lifted
/// async, which `wcomp run --invoke` calls.
#[test]
fn async_exports_are_scaffolded_as_coroutines_and_build() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = repo_root().join("tests/e2e/async/counter.wit");
    run(
        dir,
        &[
            "new",
            "aio",
            "--lang",
            "python",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            "counter",
        ],
    )
    .success();
    let app = std::fs::read_to_string(dir.join("aio/app.py")).unwrap();
    let api = std::fs::read_to_string(dir.join("aio/api.py")).unwrap();
    for (file, stub) in [
        (&app, "    async def total(self) -> int:"),
        (&app, "    async def count(self, text: str) -> int:"),
        (&app, "    def hello(self, name: str) -> str:"),
        (&api, "    async def add(self, n: int) -> int:"),
        (
            &api,
            "    @classmethod\n    async def make(cls) -> api.Tally:",
        ),
    ] {
        assert!(file.contains(stub), "no `{stub}` in:\n{file}");
    }
    // One coroutine filled in: `wcomp run` awaits it on the event loop.
    let stub = "    async def count(self, text: str) -> int:\n";
    let body = app[app.find(stub).unwrap() + stub.len()..]
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let filled = app.replace(&body, "        return len(text.split())");
    std::fs::write(dir.join("aio/app.py"), filled).unwrap();
    run(dir, &["build", "aio"]).success();
    let bytes = std::fs::read(dir.join("aio/target/wcomp/aio.wasm")).unwrap();
    assert!(support::lifts_async(&bytes), "no export is lifted async");
    let counted = run(
        dir,
        &[
            "run",
            "aio/target/wcomp/aio.wasm",
            "--invoke",
            r#"count("one two three")"#,
        ],
    )
    .success();
    assert_eq!(counted.stdout, "3\n");
}

/// `--template http --wasi 0.3`: a `Handler` whose `handle` is a coroutine, on a world that
/// includes `wasi:http/service` with the runtime's WASI 0.3 packages under `wit/deps/`
/// (`http-0.3.0.wit`, …: named apart from the 0.2 packages); the real componentize-py builds
/// it into a component exporting `wasi:http/handler@0.3.0`, lifted async.
#[test]
fn the_wasi_0_3_http_template_builds_an_async_handler() {
    let temp = tempdir();
    let dir = temp.path();
    let args = [
        "new",
        "hello-p3",
        "--lang",
        "python",
        "--template",
        "http",
        "--wasi",
        "0.3",
    ];
    run(dir, &args).success();
    let project = dir.join("hello-p3");
    let world = std::fs::read_to_string(project.join("wit/world.wit")).unwrap();
    assert!(
        world.contains("include wasi:http/service@0.3.0;"),
        "{world}"
    );
    let http = std::fs::read_to_string(project.join("wit/deps/http-0.3.0.wit")).unwrap();
    assert!(http.starts_with("package wasi:http@0.3.0;"), "{http}");
    let app = std::fs::read_to_string(project.join("app.py")).unwrap();
    assert!(
        app.contains("class Handler(exports.Handler):\n    async def handle(self, request: Request) -> Response:"),
        "{app}"
    );

    let out = run(dir, &["build", "hello-p3"]).success();
    let bytes = std::fs::read(out.stdout.trim()).unwrap();
    let exports = support::component_exports(&bytes);
    assert!(
        exports.iter().any(|name| name == "wasi:http/handler@0.3.0"),
        "{exports:?}"
    );
    assert!(support::lifts_async(&bytes), "`handle` is not lifted async");
}

/// A workspace holds a WASI 0.2 and a WASI 0.3 Python HTTP handler side by side, both from
/// `wcomp new`: the 0.3 packages go to `wit/deps/` under names of their own
/// (`http-0.3.0.wit` beside the 0.2 `http.wit`), the shared WIT checks clean and one
/// `wcomp build` builds both, each exporting its release's handler.
#[test]
fn wasi_0_2_and_0_3_http_handlers_share_a_workspace() {
    let temp = tempdir();
    run(temp.path(), &["new", "ws", "--workspace"]).success();
    let ws = temp.path().join("ws");
    let http = ["--lang", "python", "--template", "http"];
    run(&ws, &[&["new", "old"][..], &http].concat()).success();
    run(
        &ws,
        &[&["new", "new"][..], &http, &["--wasi", "0.3"]].concat(),
    )
    .success();
    let deps = ws.join("wit/deps");
    for (file, package) in [
        ("http.wit", "package wasi:http@0.2."),
        ("http-0.3.0.wit", "package wasi:http@0.3.0;"),
        ("cli-0.3.0.wit", "package wasi:cli@0.3.0;"),
    ] {
        let text = std::fs::read_to_string(deps.join(file)).unwrap();
        assert!(text.starts_with(package), "{file}: {text}");
    }
    let world = std::fs::read_to_string(ws.join("wit/new.wit")).unwrap();
    assert!(
        world.contains("include wasi:http/service@0.3.0;"),
        "{world}"
    );
    assert!(!ws.join("new/wit").exists());
    // Two releases of the WASI packages side by side are not a lint warning.
    let out = run(&ws, &["wit", "check", "--deny", "warnings"]).success();
    assert!(out.stderr.contains("no problems"), "{}", out.stderr);

    let out = run(&ws, &["build"]).success();
    assert!(out.stderr.contains("2 built, 0 fresh"), "{}", out.stderr);
    let old = std::fs::read(ws.join("old/target/wcomp/old.wasm")).unwrap();
    let exports = support::component_exports(&old);
    assert!(
        exports
            .iter()
            .any(|name| name.starts_with("wasi:http/incoming-handler@0.2.")),
        "{exports:?}"
    );
    let new = std::fs::read(ws.join("new/target/wcomp/new.wasm")).unwrap();
    let exports = support::component_exports(&new);
    assert!(
        exports.iter().any(|name| name == "wasi:http/handler@0.3.0"),
        "{exports:?}"
    );
    assert!(support::lifts_async(&new), "`handle` is not lifted async");
}

/// `--template http --with keyvalue,config`, for WASI 0.2 and 0.3: the world includes both
/// packages, and the handler builds unmodified with componentize-py, which imports every
/// function of the world whether the code calls it or not: `batch` too. Served, each answers
/// `GET /` without grants, and with them reads its configuration and counts in its bucket.
#[test]
fn the_http_templates_with_keyvalue_and_config_build_and_import_them() {
    let temp = tempdir();
    for (name, extra) in [("kv-py", &[][..]), ("kv-py-p3", &["--wasi", "0.3"][..])] {
        let case = support::WithTemplate {
            name,
            lang: "python",
            extra,
            greeting: "Hello from Python!\n",
            imports_whole_world: true,
        };
        support::check_http_template_with_keyvalue_and_config(temp.path(), &case);
    }
}

/// The route `large_responses_are_written_whole` adds to both Python HTTP templates: 100,000
/// bytes of numbered lines (`0000000\n`, `0000001\n`, …), so a lost or misplaced piece shows.
const PYTHON_BIG_ROUTE: &str = r#"        if path == "/big":
            status, text = 200, b"".join(b"%07d\n" % line for line in range(12_500))
        elif path == "/":
"#;

/// A Python HTTP handler answers a body of 100,000 bytes whole over a real socket, for WASI
/// 0.2 and 0.3. The 0.2 template used to write it with one `blocking-write-and-flush`, which
/// takes at most 4096 bytes: wasmtime trapped and the response was cut off after its headers.
#[test]
fn large_responses_are_written_whole() {
    let temp = tempdir();
    let dir = temp.path();
    let expected: String = (0..12_500).map(|line| format!("{line:07}\n")).collect();
    assert_eq!(expected.len(), 100_000);
    for (name, extra) in [("big", &[][..]), ("big-p3", &["--wasi", "0.3"][..])] {
        let new = ["new", name, "--lang", "python", "--template", "http"];
        run(dir, &[&new[..], extra].concat()).success();
        let app = dir.join(name).join("app.py");
        edit(&app, "        if path == \"/\":\n", PYTHON_BIG_ROUTE);
        let built = run(dir, &["build", name]).success();
        let component = PathBuf::from(built.stdout.trim());

        let server = Server::start(dir, &component, &[]);
        let big = curl(&server, "/big", &[]);
        assert_eq!(big.status, 200, "{name}: {}\n{}", big.headers, server.log());
        assert!(
            big.body == expected,
            "{name}: {} bytes back\n{}",
            big.body.len(),
            server.log()
        );
        let hello = curl(&server, "/", &[]);
        assert_eq!(hello.body, "Hello from Python!\n", "{name}");
        // A request's line is written just after its body has gone out.
        let log = server.log_when("2 requests", |records| records.len() >= 2);
        let records = requests(&log);
        assert_eq!(records.len(), 2, "{name}: {log}");
        for record in records {
            assert_eq!(record["status"], 200, "{name}: {log}");
            assert!(
                record["error"].is_null() && record["note"].is_null(),
                "{name}: {log}"
            );
        }
    }
}
