//! Workspaces end to end with real cargo builds: scaffolding, incremental parallel builds,
//! automatic composition, and the errors a manifest or a composition can produce.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::{repo_root, run, tempdir};

/// A workspace `ws` with the example WIT and Rust components named after its worlds, their
/// code taken from the end-to-end fixtures.
fn rust_workspace(dir: &Path) -> std::path::PathBuf {
    run(dir, &["new", "ws", "--workspace"]).success();
    let ws = dir.join("ws");
    for (name, world) in [("analyzer", "analyzer"), ("reporter", "reporter")] {
        add_rust(&ws, name, world);
    }
    ws
}

fn add_rust(ws: &Path, name: &str, world: &str) {
    run(ws, &["new", name, "--lang", "rust", "--world", world]).success();
    let code =
        std::fs::read_to_string(repo_root().join(format!("tests/e2e/text/{world}.rs"))).unwrap();
    let code = code
        .replace("path: \"wit\"", "path: \"../wit\"")
        .replace("acme::text", "example::ws");
    std::fs::write(ws.join(name).join("src/lib.rs"), code).unwrap();
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn reasons(lines: &[serde_json::Value], reason: &str) -> Vec<String> {
    let mut names: Vec<String> = lines
        .iter()
        .filter(|l| l["reason"] == reason)
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn workspace_builds_incrementally_composes_and_runs() {
    let temp = tempdir();
    let ws = rust_workspace(temp.path());
    let manifest = std::fs::read_to_string(ws.join("wcomp.toml")).unwrap();
    assert!(
        manifest.contains(
            "[component.analyzer]\nlang = \"rust\"\npath = \"analyzer\"\nworld = \"analyzer\"\n"
        ),
        "{manifest}"
    );
    // Components use the shared WIT; nothing is copied.
    assert!(!ws.join("analyzer/wit").exists());

    let first = json_lines(&run(&ws, &["--format", "json", "build"]).success().stdout);
    assert_eq!(
        reasons(&first, "component-building"),
        ["analyzer", "reporter"]
    );

    // Nothing changed: no toolchain is started for either component.
    let second = json_lines(&run(&ws, &["--format", "json", "build"]).success().stdout);
    assert_eq!(
        reasons(&second, "component-fresh"),
        ["analyzer", "reporter"]
    );
    assert!(reasons(&second, "component-building").is_empty());

    // Touching one component's source rebuilds only that one.
    let lib = ws.join("reporter/src/lib.rs");
    let code = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, code.replace("words, longest", "words; longest")).unwrap();
    let third = json_lines(&run(&ws, &["--format", "json", "build"]).success().stdout);
    assert_eq!(reasons(&third, "component-building"), ["reporter"]);
    assert_eq!(reasons(&third, "component-fresh"), ["analyzer"]);

    // Compose and run from the workspace, root inferred (only `reporter` is not imported).
    let out = run(
        &ws,
        &["run", "--invoke", r#"render("Hello brave new world")"#],
    )
    .success();
    assert_eq!(out.stdout, "\"4 words; longest: Hello\"\n");
    assert!(ws.join("target/wcomp/ws.wasm").is_file());
    let composed = json_lines(&run(&ws, &["--format", "json", "compose"]).success().stdout);
    assert_eq!(composed.last().unwrap()["fresh"], true);

    // Pictures of the graph: Mermaid (sizes redacted), and an SVG that is well-formed XML
    // naming every component.
    let mermaid = run(&ws, &["-q", "graph"]).success().stdout;
    let redacted: String = mermaid
        .lines()
        .map(|line| match line.split_once(" · rust · ") {
            Some((head, tail)) => {
                format!("{head} · rust · <size>{}", &tail[tail.find('"').unwrap()..])
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        redacted,
        [
            "flowchart LR",
            "    n_reporter[[\"reporter · rust · <size>\"]]",
            "    n_analyzer[\"analyzer · rust · <size>\"]",
            "    host{{\"host (WASI)\"}}",
            "    n_reporter -->|\"example:ws/stats@0.1.0\"| n_analyzer",
            "    n_reporter -.->|\"wasi:cli, wasi:io\"| host",
            "    n_analyzer -.->|\"wasi:cli, wasi:io\"| host",
        ]
        .join("\n")
    );
    run(&ws, &["-q", "graph", "--as", "svg", "-o", "graph.svg"]).success();
    let svg = std::fs::read_to_string(ws.join("graph.svg")).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let text: String = document.descendants().filter_map(|n| n.text()).collect();
    for name in [
        "reporter",
        "analyzer",
        "host (WASI)",
        "example:ws/stats@0.1.0",
    ] {
        assert!(
            text.contains(name),
            "{name} missing from the SVG text: {text}"
        );
    }
    let dot = run(&ws, &["-q", "graph", "--as", "dot"]).success().stdout;
    assert!(
        dot.contains("n_reporter -> n_analyzer [label=\"example:ws/stats@0.1.0\"];"),
        "{dot}"
    );

    // Changing the shared WIT makes every component stale.
    let wit = ws.join("wit/world.wit");
    let text = std::fs::read_to_string(&wit).unwrap();
    std::fs::write(
        &wit,
        text.replace(
            "/// Reports for people.",
            "/// Reports for people, in one line.",
        ),
    )
    .unwrap();
    let fourth = json_lines(
        &run(&ws, &["--format", "json", "build", "-p", "analyzer"])
            .success()
            .stdout,
    );
    assert_eq!(reasons(&fourth, "component-building"), ["analyzer"]);
}

#[test]
fn one_failing_component_does_not_stop_the_others() {
    let temp = tempdir();
    let ws = rust_workspace(temp.path());
    add_rust(&ws, "broken", "analyzer");
    let lib = ws.join("broken/src/lib.rs");
    let code = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        code.replace("let words:", "let nope: u32 = \"no\"; let words:"),
    )
    .unwrap();

    let out = run(&ws, &["build"]).failure(1);
    assert!(
        out.stderr.contains("error[E0308]: mismatched types"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("src/lib.rs"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: 1 of 3 components failed to build: `broken`"),
        "{}",
        out.stderr
    );
    assert!(ws.join("analyzer/target/wcomp/analyzer.wasm").is_file());
    assert!(ws.join("reporter/target/wcomp/reporter.wasm").is_file());

    // Two components export `stats`: an ambiguity, with the line that settles it.
    std::fs::write(&lib, code).unwrap();
    let out = run(&ws, &["compose"]).failure(1);
    assert!(out.stderr.contains("`reporter` imports `example:ws/stats@0.1.0`, and several components export it: `analyzer`, `broken`"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(r#"`reporter = { "example:ws/stats@0.1.0" = "analyzer" }`"#),
        "{}",
        out.stderr
    );

    let manifest = ws.join("wcomp.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text = text.replace("# root = \"<component>\"", "root = \"reporter\"\n\n[compose.wire]\nreporter = { \"example:ws/stats@0.1.0\" = \"broken\" }");
    std::fs::write(&manifest, text).unwrap();
    let out = run(&ws, &["run", "--invoke", r#"render("a bb")"#]).success();
    assert_eq!(out.stdout, "\"2 words, longest: bb\"\n");
}

fn manifest_error(manifest: &str) -> String {
    let temp = tempdir();
    run(temp.path(), &["new", "ws", "--workspace"]).success();
    let ws = temp.path().join("ws");
    std::fs::create_dir_all(ws.join("a")).unwrap();
    std::fs::create_dir_all(ws.join("b")).unwrap();
    std::fs::write(ws.join("wcomp.toml"), manifest).unwrap();
    run(&ws, &["build"]).failure(1).stderr
}

#[test]
fn manifest_errors_point_at_line_and_column() {
    let err = manifest_error("[workspace]\nname = \"ws\"\n\n[component.a]\nlangg = \"rust\"\n");
    assert!(
        err.contains("error: invalid `wcomp.toml`: unknown field `langg`"),
        "{err}"
    );
    assert!(err.contains("wcomp.toml:5:1"), "{err}");

    let err = manifest_error("[workspace]\nname = \"ws\"\n\n[component.a]\nlang = \"cobol\"\n");
    assert!(
        err.contains("unknown variant `cobol`, expected one of `rust`, `go`, `python`"),
        "{err}"
    );
    assert!(err.contains("wcomp.toml:5:8"), "{err}");

    let err = manifest_error(
        "[workspace]\nname = \"ws\"\n\n[component.a]\nlang = \"rust\"\npath = \"missing\"\n",
    );
    assert!(
        err.contains("component `a`: directory `missing` does not exist"),
        "{err}"
    );
    assert!(err.contains("wcomp.toml:6:8"), "{err}");

    let err = manifest_error(
        "[workspace]\nname = \"ws\"\n\n[component.a]\nlang = \"go\"\nworld = \"nope\"\n",
    );
    assert!(
        err.contains("component `a`: world `nope` is not in the workspace WIT"),
        "{err}"
    );
    assert!(
        err.contains("worlds in `wit`: `analyzer`, `reporter`"),
        "{err}"
    );

    let err = manifest_error(
        "[workspace]\nname = \"ws\"\n\n[component.a]\nlang = \"rust\"\n\n[component.b]\nlang = \"rust\"\n\n[compose.wire]\na = { \"x:y/z\" = \"b\" }\nb = { \"x:y/w\" = \"a\" }\n",
    );
    assert!(
        err.contains("`[compose.wire]` forms a cycle: a → b → a"),
        "{err}"
    );
    assert!(err.contains("wcomp.toml:11:5"), "{err}");

    // Grants: each entry is one wcomp knows, and two components are not given different
    // scopes of one capability, which the host would give both.
    let err = manifest_error(
        "[workspace]\nname = \"ws\"\n\n[component.a]\nlang = \"rust\"\nallow = [\"env\", \"files\"]\n",
    );
    assert!(err.contains("`files` is not a capability"), "{err}");
    assert!(err.contains("wcomp.toml:6:17"), "{err}");
    let err = manifest_error(
        "[workspace]\nname = \"ws\"\n\n[component.a]\nlang = \"rust\"\nallow = [\"fs:data\"]\n\n[component.b]\nlang = \"rust\"\nallow = [\"fs:logs\", \"env\"]\n",
    );
    assert!(
        err.contains("`b` is granted `fs:logs` but `a` `fs:data`"),
        "{err}"
    );
    assert!(
        err.contains("grant both components the same `fs` entries"),
        "{err}"
    );

    let err = manifest_error("[workspace]\nname = \"ws\"\n\n[compose]\nroot = \"ghost\"\n");
    assert!(
        err.contains("`ghost` is not a component of this workspace"),
        "{err}"
    );
}

#[test]
fn workspace_commands_outside_a_workspace_explain_themselves() {
    let temp = tempdir();
    let out = run(temp.path(), &["compose"]).failure(1);
    assert!(out.stderr.contains("needs a workspace"), "{}", out.stderr);
    assert!(
        out.stderr.contains("wcomp new <dir> --workspace"),
        "{}",
        out.stderr
    );
    let out = run(temp.path(), &["run"]).failure(1);
    assert!(out.stderr.contains("needs a workspace"), "{}", out.stderr);
}
