//! Composition fixtures that need no toolchain: every directory under `tests/compose/` with
//! a `case.toml` composes `.wat` components from `tests/compose/components/` and compares the
//! `--explain` text (and the result of a call on the composition), or the error and its hint,
//! with `expected.txt`. `BLESS=1` rewrites the expected files from the current output.
//!
//! Also `wcomp compose -o -` end to end: the component alone on stdout, every line of text on
//! stderr.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

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

// How outputs are written: a rename only over a regular file or a new path; devices and FIFOs
// in place; symbolic links followed, never replaced.

/// `wcomp compose calc.wat --plug add.wat <extra>…` in `cwd`.
fn compose_calc(cwd: &Path, extra: &[&std::ffi::OsStr]) -> support::Run {
    let components = fixtures().join("components");
    let output = support::wcomp(cwd)
        .arg("compose")
        .arg(components.join("calc.wat"))
        .arg("--plug")
        .arg(components.join("add.wat"))
        .args(extra)
        .output()
        .unwrap();
    support::Run::from_output(output)
}

fn compose_to(cwd: &Path, dest: &Path) -> support::Run {
    compose_calc(cwd, &["-o".as_ref(), dest.as_os_str()])
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
#[cfg(unix)]
fn a_fifo_gets_the_component_and_stays_a_fifo() {
    use std::os::unix::fs::FileTypeExt as _;
    let temp = support::tempdir();
    let fifo = temp.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // The reader blocks until a writer opens the FIFO; a channel bounds the wait.
    let (sender, received) = std::sync::mpsc::channel();
    let reader = fifo.clone();
    std::thread::spawn(move || sender.send(std::fs::read(&reader).unwrap()));
    let out = compose_to(temp.path(), &fifo).success();
    let bytes = received
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("nothing arrived through the FIFO\n{}", out.stderr));
    assert!(wasmparser::Parser::is_component(&bytes), "{}", out.stderr);
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert_eq!(names_in(temp.path()), ["pipe"], "no temporary file is left");
}

#[test]
#[cfg(unix)]
fn a_character_device_stays_a_device() {
    use std::os::unix::fs::FileTypeExt as _;
    let temp = support::tempdir();
    // As root (CI, containers), a node of its own like `/dev/null`'s (1, 3), so a regression
    // cannot damage the machine's; without root the real one, which no rename by this user
    // could replace anyway.
    let own = temp.path().join("null");
    // (A container may let root make the node but not open it; then the real one too.)
    let made = std::process::Command::new("mknod")
        .arg(&own)
        .args(["c", "1", "3"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
        && std::fs::OpenOptions::new().write(true).open(&own).is_ok();
    if !made {
        let _ = std::fs::remove_file(&own);
    }
    let device = if made {
        own
    } else {
        PathBuf::from("/dev/null")
    };
    let out = compose_to(temp.path(), &device).success();
    assert!(
        out.stderr.contains("Composed 2 components"),
        "{}",
        out.stderr
    );
    let meta = std::fs::symlink_metadata(&device).unwrap();
    assert!(meta.file_type().is_char_device(), "{meta:?}");
    assert_eq!(
        std::fs::read(&device).unwrap(),
        b"",
        "it still reads as empty"
    );
    let expected: &[&str] = if made { &["null"] } else { &[] };
    assert_eq!(names_in(temp.path()), expected, "no temporary file is left");
}

#[test]
#[cfg(unix)]
fn a_symbolic_link_stays_and_its_target_gets_the_component() {
    let temp = support::tempdir();
    std::fs::create_dir(temp.path().join("out")).unwrap();
    let target = temp.path().join("out/app.wasm");
    std::fs::write(&target, b"old").unwrap();
    let link = temp.path().join("app.wasm");
    std::os::unix::fs::symlink("out/app.wasm", &link).unwrap();
    compose_to(temp.path(), &link).success();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("out/app.wasm")
    );
    assert!(wasmparser::Parser::is_component(
        &std::fs::read(&target).unwrap()
    ));
    assert_eq!(names_in(&temp.path().join("out")), ["app.wasm"]);
}

#[test]
#[cfg(unix)]
fn a_link_to_nothing_and_a_directory_are_refused() {
    let temp = support::tempdir();
    let link = temp.path().join("app.wasm");
    std::os::unix::fs::symlink("missing/app.wasm", &link).unwrap();
    let out = compose_to(temp.path(), &link).failure(1);
    assert!(
        out.stderr
            .contains("is a symbolic link to nothing (`missing/app.wasm`)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("missing/app.wasm")
    );
    assert_eq!(names_in(temp.path()), ["app.wasm"]);

    let dir = temp.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    let out = compose_to(temp.path(), &dir).failure(1);
    assert!(out.stderr.contains("it is a directory"), "{}", out.stderr);
    assert!(names_in(&dir).is_empty());
}

#[test]
fn graph_and_text_outputs_take_a_dash_for_stdout() {
    let temp = support::tempdir();
    let components = fixtures().join("components");
    let out = support::run(
        temp.path(),
        &[
            "graph",
            components.join("calc.wat").to_str().unwrap(),
            "--plug",
            components.join("add.wat").to_str().unwrap(),
            "-o",
            "-",
        ],
    )
    .success();
    assert!(out.stdout.starts_with("flowchart"), "{}", out.stdout);
    assert!(names_in(temp.path()).is_empty(), "no file named `-`");
}
