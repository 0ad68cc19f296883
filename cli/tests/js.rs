//! JavaScript components end to end with the real componentize-js (installed by wcomp into the
//! tests' cache on first use): scaffold from a world, fill in the stubs, build, compose with a
//! Rust and a Go component, run; the HTTP template served; the errors a JavaScript user meets
//! first. Each componentize-js build takes tens of seconds and makes a ~12 MB component, so
//! each test builds few and checks several things against each build.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use support::text::{GO_ANALYZER, RENDERED, RUST_REPORTER_BODY};
use support::{Run, run, tempdir, wcomp};

/// One WIT package: `analyzer` exports `stats` (and `extras`, left as generated stubs),
/// `reporter` imports `stats` and exports `report`. Records, options, lists and results cross
/// the component boundary.
const TEXT_WIT: &str = r#"package acme:text@0.1.0;

interface stats {
    record summary {
        words: u32,
        longest: option<string>,
        lengths: list<u32>,
    }
    analyze: func(text: string) -> summary;
}

interface report {
    render: func(text: string) -> result<string, string>;
}

/// Left as generated stubs: they must build, and say what is missing when called.
interface extras {
    enum mode { plain, loud }
    resource counter {
        constructor(start: u32);
        bump: func(by: u32) -> u32;
    }
    shout: func(text: string) -> string;
    decorate: func(text: string, mode: mode) -> result<string, string>;
}

world analyzer {
    export stats;
    export extras;
}

world reporter {
    import stats;
    export report;
}
"#;

/// The body of the JavaScript analyzer's `analyze`.
const JS_ANALYZE: &str = r#"const words = text.split(/\s+/).filter((word) => word.length > 0);
    let longest;
    for (const word of words) {
      if (longest === undefined || [...word].length > [...longest].length) {
        longest = word;
      }
    }
    return { words: words.length, longest, lengths: words.map((word) => [...word].length) };"#;

/// The body of the JavaScript reporter's `render`: `err` is what it throws.
const JS_RENDER: &str = r#"const summary = analyze(text);
    if (summary.longest === undefined) {
      throw 'no words';
    }
    return `${summary.words} words, longest: ${summary.longest}, lengths: ${[...summary.lengths].join(',')}`;"#;

#[test]
fn rust_imports_what_a_js_analyzer_exports() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = write_wit(dir);
    new_rust(dir, &wit, "reporter", RUST_REPORTER_BODY);
    let analyzer = new_js(dir, &wit, "analyzer", "analyzer");
    let app = analyzer.join("app.js");
    let generated = std::fs::read_to_string(&app).unwrap();
    for expected in [
        "export const stats = {",
        "  analyze(text) {",
        "export const extras = {",
        "  Counter: class Counter {",
        "    constructor(start) {",
        "  decorate(text, mode) {",
        "@param {Mode} mode",
    ] {
        assert!(generated.contains(expected), "{expected}:\n{generated}");
    }
    edit(
        &app,
        "throw new Error('`acme:text/stats@0.1.0#analyze` is not implemented yet');",
        JS_ANALYZE,
    );

    let analyzer_wasm = build(dir, "analyzer");
    build(dir, "reporter");
    // The JavaScript component on its own: a record with an option and a list comes back.
    let out = run(
        dir,
        &[
            "run",
            &analyzer_wasm,
            "--invoke",
            r#"analyze("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(
        out.stdout,
        "{words: 4, longest: some(\"Hello\"), lengths: [5, 5, 3, 5]}\n"
    );
    let out = run(dir, &["run", &analyzer_wasm, "--invoke", r#"analyze("")"#]).success();
    assert_eq!(out.stdout, "{words: 0, lengths: []}\n");

    // The stubs left in place build, and calling one says what is missing: as a trap, or as
    // the `err` value where the function returns `result<_, string>`.
    let out = run(dir, &["run", &analyzer_wasm, "--invoke", r#"shout("hi")"#]).failure(1);
    assert!(out.stderr.contains("the guest trapped"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`acme:text/extras@0.1.0#shout` is not implemented yet"),
        "{}",
        out.stderr
    );
    let out = run(
        dir,
        &["run", &analyzer_wasm, "--invoke", r#"decorate("hi", loud)"#],
    )
    .success();
    assert_eq!(
        out.stdout,
        "err(\"`acme:text/extras@0.1.0#decorate` is not implemented yet\")\n"
    );

    run(
        dir,
        &[
            "compose",
            "reporter/target/wcomp/reporter.wasm",
            "--plug",
            &analyzer_wasm,
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
            r#"render("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, RENDERED);
    let out = run(dir, &["run", "app.wasm", "--invoke", r#"render("   ")"#]).success();
    assert_eq!(out.stdout, "err(\"no words\")\n");

    // The graph names the language from the component's producers.
    let graph = run(
        dir,
        &[
            "graph",
            "reporter/target/wcomp/reporter.wasm",
            "--plug",
            &analyzer_wasm,
        ],
    )
    .success();
    assert!(
        graph.stdout.contains("analyzer · JavaScript"),
        "{}",
        graph.stdout
    );
    assert!(graph.stdout.contains("reporter · Rust"), "{}", graph.stdout);

    // A syntax error names the file and line, before componentize-js starts.
    let good = std::fs::read_to_string(&app).unwrap();
    let line = good
        .lines()
        .position(|l| l.contains("return { words: words.length"))
        .unwrap()
        + 1;
    edit(
        &app,
        "return { words: words.length,",
        "return { words: words.length,,",
    );
    let out = run(dir, &["build", "analyzer"]).failure(1);
    assert!(
        out.stderr.contains(&format!("analyzer/app.js:{line}\n")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("SyntaxError: "), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: `analyzer/app.js` is not valid JavaScript"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("check_syntax"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

/// A Go analyzer and a JavaScript reporter as workspace members: shared WIT, one parallel
/// build, no rebuild when nothing changed, composition from the workspace.
#[test]
fn a_js_reporter_imports_what_a_go_analyzer_exports_in_a_workspace() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "ws", "--workspace"]).success();
    let ws = dir.join("ws");
    std::fs::write(ws.join("wit/text.wit"), TEXT_WIT).unwrap();
    for entry in std::fs::read_dir(ws.join("wit")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name() != Some("text.wit".as_ref()) {
            std::fs::remove_file(path).unwrap();
        }
    }
    run(
        &ws,
        &["new", "analyzer", "--lang", "go", "--world", "analyzer"],
    )
    .success();
    // The Go analyzer implements only `stats`; its `extras` stubs stay as generated.
    std::fs::write(
        ws.join("analyzer/export_acme_text_stats/stats.go"),
        GO_ANALYZER,
    )
    .unwrap();
    run(
        &ws,
        &[
            "new",
            "reporter",
            "--lang",
            "javascript",
            "--world",
            "reporter",
        ],
    )
    .success();
    let reporter = ws.join("reporter");
    assert!(!reporter.join("wit").exists());
    let gitignore = std::fs::read_to_string(reporter.join(".gitignore")).unwrap();
    assert!(gitignore.contains("node_modules/"), "{gitignore}");
    let app = reporter.join("app.js");
    let generated = std::fs::read_to_string(&app).unwrap();
    assert!(
        generated.contains("import { analyze } from 'acme:text/stats@0.1.0';"),
        "{generated}"
    );
    // `render` returns a `result<string, string>`: the stub throws its message as the error.
    edit(
        &app,
        "throw '`acme:text/report@0.1.0#render` is not implemented yet';",
        JS_RENDER,
    );
    let manifest = std::fs::read_to_string(ws.join("wcomp.toml")).unwrap();
    assert!(manifest.contains("lang = \"js\""), "{manifest}");

    let built = run(&ws, &["build"]).success();
    assert!(
        built.stderr.contains("Building reporter (js)"),
        "{}",
        built.stderr
    );
    let again = run(&ws, &["build"]).success();
    assert!(
        again.stderr.contains("0 built, 2 fresh"),
        "{}",
        again.stderr
    );
    run(&ws, &["compose"]).success();
    let out = run(
        &ws,
        &["run", "--invoke", r#"render("Hello brave new world")"#],
    )
    .success();
    assert_eq!(out.stdout, RENDERED);
    let out = run(&ws, &["run", "--invoke", r#"render("")"#]).success();
    assert_eq!(out.stdout, "err(\"no words\")\n");

    // Smoke tests run on the composition, the JavaScript reporter's `throw` an error result.
    let manifest = ws.join("wcomp.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(
        r#"
[[test]]
name = "renders"
invoke = 'render("Hello brave new world")'
expect = 'ok("4 words, longest: Hello, lengths: 5,5,3,5")'

[[test]]
name = "no words is an error"
invoke = 'render("")'
expect-error = '"no words"'
"#,
    );
    std::fs::write(&manifest, text).unwrap();
    let out = run(&ws, &["test"]).success();
    assert!(
        out.stdout.contains("test renders ... ok\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("2 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_js_http_template_answers_get() {
    let temp = tempdir();
    let dir = temp.path();
    run(
        dir,
        &["new", "hello-js", "--lang", "js", "--template", "http"],
    )
    .success();
    let world = std::fs::read_to_string(dir.join("hello-js/wit/world.wit")).unwrap();
    // componentize-js 0.23 exports the handler at the WASI release its engine is built for.
    assert!(world.contains("include wasi:http/proxy@0.2.10;"), "{world}");
    let component = PathBuf::from(build(dir, "hello-js"));

    let mut server = wcomp(dir)
        .args(["--format", "json", "serve"])
        .arg(&component)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (url, log) = serving_url(&mut server);
    let get = |path: &str| {
        let out = Command::new("curl")
            .args(["-s", "-S", "--max-time", "60", "-w", "\n%{http_code}"])
            .arg(format!("{}{path}", url.trim_end_matches('/')))
            .output()
            .expect("curl is installed (scripts/install-deps.sh)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, status) = text.rsplit_once('\n').unwrap();
        (status.to_owned(), body.to_owned())
    };
    let hello = get("/");
    let missing = get("/elsewhere");
    // The access log has a whole response for each (its body has a content-length).
    let records: Vec<serde_json::Value> = (0..2)
        .filter_map(|_| log.recv_timeout(Duration::from_secs(30)).ok())
        .collect();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        hello,
        ("200".to_owned(), "Hello from JavaScript!\n".to_owned())
    );
    assert_eq!(missing.0, "404");
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["status"], 200, "{records:?}");
    assert_eq!(records[0]["bytes"], hello.1.len(), "{records:?}");
    assert!(records.iter().all(|r| r["note"].is_null()), "{records:?}");
}

#[test]
fn offline_builds_never_download_componentize_js() {
    let temp = tempdir();
    let dir = temp.path();
    run(dir, &["new", "hello", "--lang", "js"]).success();
    let output = wcomp(dir)
        .args(["build", "hello", "--offline"])
        .env("WCOMP_CACHE_DIR", dir.join("empty-cache"))
        .output()
        .unwrap();
    let out = Run::from_output(output).failure(1);
    assert!(
        out.stderr.contains(
            "componentize-js 0.23.0 is not installed, and `--offline` forbids downloading it"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "npm install --save-dev --save-exact @bytecodealliance/componentize-js@0.23.0"
        ),
        "{}",
        out.stderr
    );
    assert!(!dir.join("empty-cache/js").exists());

    // A project without its module says what to create.
    std::fs::remove_file(dir.join("hello/app.js")).unwrap();
    let out = run(dir, &["build", "hello"]).failure(1);
    assert!(out.stderr.contains("no `app.js`"), "{}", out.stderr);
    assert!(
        out.stderr.contains("wcomp new <dir> --lang js"),
        "{}",
        out.stderr
    );
}

#[test]
fn doctor_checks_node_for_componentize_js() {
    let temp = tempdir();
    let empty = temp.path().join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let output = wcomp(temp.path())
        .args(["doctor"])
        .env("PATH", &empty)
        .env_remove("NODE")
        .output()
        .unwrap();
    let out = Run::from_output(output);
    let text = format!("{}{}", out.stdout, out.stderr);
    let line = text
        .lines()
        .skip_while(|l| !l.contains(" js: "))
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        line.contains("`node` is not installed or not on PATH"),
        "{text}"
    );
    assert!(line.contains("fix: install Node.js 20 or later"), "{text}");
}

// --- helpers ---

/// Waits for `wcomp --format json serve` to say where it listens.
/// The URL a `--format json` server listens on, and its access-log records as they come.
fn serving_url(server: &mut Child) -> (String, Receiver<serde_json::Value>) {
    let stderr = server.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (records_tx, records) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if value["reason"] == "serving" {
                let _ = tx.send(value["url"].as_str().unwrap_or_default().to_owned());
            } else if value["reason"] == "request" {
                let _ = records_tx.send(value);
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(180))
        .expect("the server did not start");
    (url, records)
}

fn write_wit(dir: &Path) -> PathBuf {
    let wit = dir.join("text.wit");
    std::fs::write(&wit, TEXT_WIT).unwrap();
    wit
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

/// `wcomp build <name>`, returning the component path it printed.
#[track_caller]
fn build(dir: &Path, name: &str) -> String {
    let out = run(dir, &["build", name]).success();
    let path = out.stdout.trim().to_owned();
    assert!(Path::new(&path).is_file(), "`{path}` was not written");
    path
}

fn new_js(dir: &Path, wit: &Path, name: &str, world: &str) -> PathBuf {
    run(
        dir,
        &[
            "new",
            name,
            "--lang",
            "js",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            world,
        ],
    )
    .success();
    dir.join(name)
}

/// Scaffolds a Rust component for `world` and replaces the body of its one stub.
fn new_rust(dir: &Path, wit: &Path, world: &str, body: &str) {
    run(
        dir,
        &[
            "new",
            world,
            "--lang",
            "rust",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            world,
        ],
    )
    .success();
    let lib = dir.join(world).join("src/lib.rs");
    let code = std::fs::read_to_string(&lib).unwrap();
    let stubs: Vec<&str> = code
        .lines()
        .filter(|line| line.contains("unimplemented!("))
        .collect();
    assert_eq!(stubs.len(), 1, "one stub expected in:\n{code}");
    std::fs::write(&lib, code.replace(stubs[0], &format!("        {body}"))).unwrap();
}

#[test]
fn a_typescript_analyzer_builds_with_the_world_types_and_runs() {
    let temp = tempdir();
    let dir = temp.path();
    let wit = write_wit(dir);
    run(
        dir,
        &[
            "new",
            "analyzer",
            "--lang",
            "js",
            "--typescript",
            "--wit",
            wit.to_str().unwrap(),
            "--world",
            "analyzer",
        ],
    )
    .success();
    let project = dir.join("analyzer");
    assert!(!project.join("app.js").exists());
    let types_file = project.join("target/wcomp/types/world.d.ts");
    let types = std::fs::read_to_string(&types_file).unwrap();
    for expected in [
        "declare module 'acme:text/stats@0.1.0' {",
        "  export interface Summary {\n    words: number;\n    longest: string | undefined;\n    lengths: Array<number>;\n  }",
        "  export function analyze(text: string): Summary;",
        "  export type Mode = 'plain' | 'loud';",
        "  export class Counter {\n    constructor(start: number);\n    bump(by: number): number;\n  }",
    ] {
        assert!(types.contains(expected), "{expected}:\n{types}");
    }
    let app = project.join("app.ts");
    let generated = std::fs::read_to_string(&app).unwrap();
    assert!(
        generated.contains("import type { Summary } from 'acme:text/stats@0.1.0';"),
        "{generated}"
    );
    assert!(
        generated.contains("  analyze(text: string): Summary {"),
        "{generated}"
    );
    edit(
        &app,
        "throw new Error('`acme:text/stats@0.1.0#analyze` is not implemented yet');",
        &JS_ANALYZE.replace("let longest;", "let longest: string | undefined;"),
    );

    // A type error is tsc's, with the file and line.
    let good = std::fs::read_to_string(&app).unwrap();
    edit(&app, "words: words.length,", "words: String(words.length),");
    let out = run(dir, &["build", "analyzer"]).failure(1);
    assert!(out.stderr.contains("app.ts("), "{}", out.stderr);
    assert!(out.stderr.contains("error TS2322"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: the TypeScript compiler rejected `analyzer`"),
        "{}",
        out.stderr
    );
    std::fs::write(&app, good).unwrap();

    let component = build(dir, "analyzer");
    let out = run(
        dir,
        &[
            "run",
            &component,
            "--invoke",
            r#"analyze("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(
        out.stdout,
        "{words: 4, longest: some(\"Hello\"), lengths: [5, 5, 3, 5]}\n"
    );

    // The types follow the WIT: a field added to the record is missing from what `analyze`
    // returns until the code adds it.
    let wit = std::fs::read_dir(project.join("wit"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            std::fs::read_to_string(path).is_ok_and(|text| text.contains("lengths: list<u32>,"))
        })
        .expect("the project's copy of the WIT");
    edit(
        &wit,
        "lengths: list<u32>,",
        "lengths: list<u32>,\n        chars: u32,",
    );
    let out = run(dir, &["build", "analyzer"]).failure(1);
    assert!(out.stderr.contains("error TS2741"), "{}", out.stderr);
    assert!(out.stderr.contains("'chars'"), "{}", out.stderr);
    let types = std::fs::read_to_string(&types_file).unwrap();
    assert!(types.contains("    chars: number;"), "{types}");
    edit(
        &app,
        "words: words.length,",
        "words: words.length,\n      chars: text.length,",
    );
    let component = build(dir, "analyzer");
    let out = run(
        dir,
        &["run", &component, "--invoke", r#"analyze("Hi there")"#],
    )
    .success();
    assert_eq!(
        out.stdout,
        "{words: 2, longest: some(\"there\"), lengths: [2, 5], chars: 8}\n"
    );

    // `--typescript` is for JavaScript.
    let out = run(dir, &["new", "other", "--lang", "go", "--typescript"]).failure(1);
    assert!(
        out.stderr
            .contains("`--typescript` is for JavaScript projects, not go"),
        "{}",
        out.stderr
    );
}

/// A world with an `async` function is refused at `new` and at `build`, with what to use
/// instead.
#[test]
fn async_functions_are_refused_with_what_to_use_instead() {
    support::assert_async_refused(
        "js",
        "JavaScript",
        "componentize-js 0.23 cannot build async exports",
    );
}

/// A WASI 0.3 HTTP handler is refused at `new`, with why and what to use instead.
#[test]
fn the_wasi_0_3_http_template_is_refused_with_what_to_use_instead() {
    support::assert_wasi_0_3_http_refused(
        "js",
        "JavaScript",
        "componentize-js 0.23 cannot build async exports",
    );
}

/// `--template http --with keyvalue,config`: the world (at the WASI release componentize-js
/// exports its handler at) includes both packages, and `app.js` imports what it calls from
/// them. componentize-js builds it unmodified into a component that imports every function of
/// the world, `batch` too. Served, it answers `GET /` without grants, and with them reads its
/// configuration and counts in its bucket.
#[test]
fn the_http_template_with_keyvalue_and_config_builds_and_imports_them() {
    let temp = tempdir();
    let case = support::WithTemplate {
        name: "kv-js",
        lang: "js",
        extra: &[],
        greeting: "Hello from JavaScript!\n",
        imports_whole_world: true,
    };
    support::check_http_template_with_keyvalue_and_config(temp.path(), &case);
    let app = std::fs::read_to_string(temp.path().join("kv-js/app.js")).unwrap();
    assert!(
        app.contains("import { open } from 'wasi:keyvalue/store@0.2.0-draft';"),
        "{app}"
    );
}
