//! Composition fixtures that need no toolchain: every directory under `tests/compose/` with
//! a `case.toml` composes `.wat` components from `tests/compose/components/` and compares the
//! `--explain` text (and the result of a call on the composition), or the error and its hint,
//! with `expected.txt`. `BLESS=1` rewrites the expected files from the current output.
//!
//! Also `wcomp compose -o -` end to end: the component alone on stdout, every line of text on
//! stderr.

mod support;

use std::path::{Path, PathBuf};

use wcomp::compose::{self, ComposeInput, ComposeOptions, Wire};
use wcomp::runtime::{RunOptions, RunOutcome};

fn fixtures() -> PathBuf {
    support::repo_root().join("tests/compose")
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Case {
    socket: String,
    plugs: Vec<String>,
    #[serde(default)]
    wires: Vec<WireEntry>,
    #[serde(default = "yes")]
    require_every_plug: bool,
    invoke: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    importer: String,
    import: String,
    exporter: String,
}

fn component(name: &str) -> ComposeInput {
    let path = fixtures().join("components").join(format!("{name}.wat"));
    ComposeInput::read(&path, Path::new(&format!("{name}.wat"))).unwrap()
}

/// What the case produces, as it is written to `expected.txt`.
fn outcome(case: &Case) -> String {
    let options = ComposeOptions {
        socket: component(&case.socket),
        plugs: case.plugs.iter().map(|p| component(p)).collect(),
        wires: case
            .wires
            .iter()
            .map(|w| Wire {
                importer: w.importer.clone(),
                import: w.import.clone(),
                exporter: w.exporter.clone(),
            })
            .collect(),
        require_every_plug: case.require_every_plug,
    };
    let composition = match compose::compose(options) {
        Ok(composition) => composition,
        Err(err) => {
            use miette::Diagnostic as _;
            let mut text = format!("error: {err}\n");
            if let Some(source) = std::error::Error::source(&err) {
                text.push_str(&format!("caused by: {source}\n"));
            }
            if let Some(help) = err.help() {
                text.push_str(&format!("hint: {help}\n"));
            }
            return text;
        }
    };
    let mut text = compose::explain::render(&compose::explain::explain(&composition));
    if let Some(call) = &case.invoke {
        let options = RunOptions {
            component: PathBuf::from("composed.wasm"),
            invoke: Some(call.clone()),
            ..RunOptions::default()
        };
        let result = match wcomp::runtime::run_bytes(&options, &composition.bytes) {
            Ok(RunOutcome::Returned(values)) => values.join(", "),
            Ok(other) => format!("{other:?}"),
            Err(err) => format!("error: {err:#}"),
        };
        text.push_str(&format!("\n{call} = {result}\n"));
    }
    text
}

#[test]
fn composition_fixtures() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("case.toml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 12, "only {} cases", cases.len());
    let bless = std::env::var_os("BLESS").is_some_and(|v| v != "0");
    let mut failures = Vec::new();
    for dir in &cases {
        let case: Case = toml::from_str(&std::fs::read_to_string(dir.join("case.toml")).unwrap())
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        let actual = outcome(&case);
        let expected_path = dir.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                dir.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_component_on_stdout_shares_it_with_no_text() {
    let temp = support::tempdir();
    let components = fixtures().join("components");
    let calc = components.join("calc.wat");
    let add = components.join("add.wat");
    let output = support::wcomp(temp.path())
        .args([
            "compose",
            calc.to_str().unwrap(),
            "--plug",
            add.to_str().unwrap(),
        ])
        .args(["-o", "-", "--explain", "-v"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stdout.starts_with(b"\0asm"),
        "stdout is not a component"
    );
    assert!(wasmparser::Parser::is_component(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("import `example:math/add@0.1.0`: satisfied by `add`"),
        "{stderr}"
    );
    // The bytes on stdout are a whole component that runs.
    std::fs::write(temp.path().join("out.wasm"), &output.stdout).unwrap();
    let out = support::run(temp.path(), &["run", "out.wasm", "--invoke", "double(4)"]).success();
    assert_eq!(out.stdout, "8\n");

    // The same under `--format json`: the JSON lines go to stderr too.
    let output = support::wcomp(temp.path())
        .args([
            "--format",
            "json",
            "compose",
            calc.to_str().unwrap(),
            "--plug",
        ])
        .args([add.to_str().unwrap(), "-o", "-", "--explain"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.starts_with(b"\0asm"));
    assert!(String::from_utf8_lossy(&output.stderr).contains(r#""reason":"explain""#));
}

#[test]
fn a_bad_input_is_named_by_its_file() {
    let temp = support::tempdir();
    std::fs::write(temp.path().join("junk.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let calc = fixtures().join("components/calc.wat");
    let out = support::run(
        temp.path(),
        &[
            "compose",
            calc.to_str().unwrap(),
            "--plug",
            "junk.wasm",
            "-o",
            "app.wasm",
        ],
    )
    .failure(1);
    assert!(
        out.stderr.contains("`junk.wasm` is not a usable component"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wcomp:input"), "{}", out.stderr);
    assert!(!temp.path().join("app.wasm").exists());
}
