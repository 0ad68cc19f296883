//! Composition fixtures that need no toolchain: every directory under `tests/compose/` with
//! a `case.toml` composes `.wat` components from `tests/compose/components/` and compares the
//! `--explain` text (and the result of a call on the composition), or the error and its hint,
//! with `expected.txt`. `BLESS=1` rewrites the expected files from the current output.
//!
//! Every directory with an `app.wac` is a `.wac` case: its package names `test:<stem>` are the
//! components under `components/`, a `// invoke: <call>` line makes a call on the result, and
//! `expected.txt` holds the `--explain` text, or the error with its place in the file.
//!
//! Also `wcomp compose -o -` end to end: the component alone on stdout, every line of text on
//! stderr.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]
// A skipped comparison says so on stderr, which the workspace lint otherwise denies.
#![allow(clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};

use wcomp::compose::wac::{Dep, WacOptions};
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
    /// `[component.<name>] allow` of each component; when present, the others get nothing.
    grants: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Environment variables the run of `invoke` grants the composition (`NAME=value`).
    #[serde(default)]
    env: Vec<String>,
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

/// The component `name` with the case's grants, if it has any.
fn granted(case: &Case, name: &str) -> ComposeInput {
    let mut input = component(name);
    input.grants = case.grants.as_ref().map(|grants| {
        let allow = grants.get(name).map(Vec::as_slice).unwrap_or_default();
        compose::grants::Grants::parse(allow.iter().map(String::as_str)).unwrap()
    });
    input
}

/// The case as options for automatic plugging.
fn compose_options(case: &Case) -> ComposeOptions {
    ComposeOptions {
        socket: granted(case, &case.socket),
        plugs: case.plugs.iter().map(|p| granted(case, p)).collect(),
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
    }
}

/// What the case produces, as it is written to `expected.txt`.
fn outcome(case: &Case) -> String {
    let composition = match compose::compose(compose_options(case)) {
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
    explained(&composition, case.invoke.as_deref(), &case.env)
}

/// The `--explain` text of `composition`, and the result of `call` on it with `env` granted.
fn explained(composition: &compose::Composition, call: Option<&str>, env: &[String]) -> String {
    let mut text = compose::explain::render(&compose::explain::explain(composition));
    if let Some(call) = call {
        text.push_str(&format!(
            "\n{call} = {}\n",
            invoke(&composition.bytes, call, env)
        ));
    }
    text
}

fn invoke(bytes: &[u8], call: &str, env: &[String]) -> String {
    let mut options = RunOptions {
        component: PathBuf::from("composed.wasm"),
        invoke: Some(call.to_owned()),
        ..RunOptions::default()
    };
    for grant in env {
        options.sandbox.env.push(grant.parse().unwrap());
    }
    match wcomp::runtime::run_bytes(&options, bytes) {
        Ok(RunOutcome::Returned(values)) => values.join(", "),
        Ok(other) => format!("{other:?}"),
        Err(err) => format!("error: {err:#}"),
    }
}

/// The case directories holding `file`, sorted.
fn cases_with(file: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join(file).is_file())
        .collect();
    cases.sort();
    cases
}

/// Compares what each case produces with its `expected.txt` (rewritten under `BLESS=1`).
fn check_expected(cases: &[PathBuf], produce: impl Fn(&Path) -> String) {
    let bless = std::env::var_os("BLESS").is_some_and(|v| v != "0");
    let mut failures = Vec::new();
    for dir in cases {
        let actual = produce(dir);
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

fn read_case(dir: &Path) -> Case {
    toml::from_str(&std::fs::read_to_string(dir.join("case.toml")).unwrap())
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
}

#[test]
fn composition_fixtures() {
    let cases = cases_with("case.toml");
    assert!(cases.len() >= 12, "only {} cases", cases.len());
    check_expected(&cases, |dir| outcome(&read_case(dir)));
}

/// Every component under `components/` as the package `test:<stem>`.
fn wac_deps() -> Vec<Dep> {
    let mut deps: Vec<Dep> = std::fs::read_dir(fixtures().join("components"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            Dep {
                name: format!("test:{stem}"),
                shown: format!("{stem}.wat"),
                path,
            }
        })
        .collect();
    deps.sort_by(|a, b| a.name.cmp(&b.name));
    deps
}

fn wac_options(dir: &Path) -> WacOptions {
    WacOptions {
        shown: "app.wac".to_owned(),
        source: std::fs::read_to_string(dir.join("app.wac")).unwrap(),
        deps: wac_deps(),
        dir: Some(dir.to_owned()),
    }
}

/// What a `.wac` case produces: the explanation (and the call's result), or the error as
/// wcomp shows it, with the snippet that places it in the file.
fn wac_outcome(dir: &Path) -> String {
    let options = wac_options(dir);
    let call = options
        .source
        .lines()
        .find_map(|line| line.strip_prefix("// invoke: "));
    match compose::wac::compose(&options) {
        Ok(result) => explained(&result.composition, call, &[]),
        Err(err) => {
            use miette::Diagnostic as _;
            let mut text = format!("error: {err}\n");
            let mut cause = std::error::Error::source(&err);
            while let Some(source) = cause {
                text.push_str(&format!("caused by: {source}\n"));
                cause = source.source();
            }
            if let Some(help) = err.help() {
                text.push_str(&format!("hint: {help}\n"));
            }
            text.push_str(&wcomp::diagnostic::render_snippet(&err).unwrap_or_default());
            text
        }
    }
}

#[test]
fn wac_fixtures() {
    let cases = cases_with("app.wac");
    assert!(cases.len() >= 9, "only {} cases", cases.len());
    check_expected(&cases, wac_outcome);
}

/// Each kind of mistake in a `.wac` file is placed at its line and column.
#[test]
fn wac_errors_are_placed_at_their_line_and_column() {
    let cases = [
        // `let` where the `;` ending the line before should be.
        (
            "wac-syntax-error",
            (4, 1),
            "expected `;`, found `let` keyword",
        ),
        (
            "wac-unknown-package",
            (3, 17),
            "unknown package `test:subtract`",
        ),
        (
            "wac-unknown-export",
            (4, 59),
            "no export named `example:math/sum@0.1.0`",
        ),
        (
            "wac-unknown-import",
            (4, 28),
            "no import named `example:math/sum@0.1.0`",
        ),
        (
            "wac-type-mismatch",
            (4, 28),
            "mismatched instantiation argument",
        ),
    ];
    for (case, location, message) in cases {
        let err = compose::wac::compose(&wac_options(&fixtures().join(case)))
            .err()
            .unwrap_or_else(|| panic!("{case} composed"));
        assert!(err.to_string().contains(message), "{case}: {err}");
        assert_eq!(err.location(), Some(location), "{case}: {err}");
    }
}

/// `wac` on `PATH`, if there is one.
fn wac_binary() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("wac"))
        .find(|path| path.is_file())
}

/// `wac compose` on the same file and packages gives the same bytes, or fails as well.
#[test]
fn wac_compose_agrees_on_every_case() {
    let Some(wac) = wac_binary() else {
        eprintln!("skipped: `wac` is not on PATH; the comparison with `wac compose` is not made");
        return;
    };
    let temp = support::tempdir();
    // wac reads binary components only.
    let deps: Vec<(String, PathBuf)> = wac_deps()
        .into_iter()
        .map(|dep| {
            let binary = temp
                .path()
                .join(format!("{}.wasm", dep.name.replace(':', "-")));
            std::fs::write(&binary, wat::parse_file(&dep.path).unwrap()).unwrap();
            (dep.name, binary)
        })
        .collect();
    for dir in cases_with("app.wac") {
        let output = temp.path().join("out.wasm");
        let _ = std::fs::remove_file(&output);
        let mut command = std::process::Command::new(&wac);
        command
            .arg("compose")
            .arg(dir.join("app.wac"))
            .arg("-o")
            .arg(&output);
        for (name, path) in &deps {
            command
                .arg("--dep")
                .arg(format!("{name}={}", path.display()));
        }
        let theirs = command.output().unwrap();
        let ours = compose::wac::compose(&wac_options(&dir));
        let case = dir.file_name().unwrap().to_string_lossy();
        match ours {
            Ok(result) => {
                assert!(
                    theirs.status.success(),
                    "{case}: wac failed: {}",
                    String::from_utf8_lossy(&theirs.stderr)
                );
                assert!(
                    std::fs::read(&output).unwrap() == result.composition.bytes,
                    "{case}: different bytes"
                );
            }
            Err(err) => assert!(!theirs.status.success(), "{case}: only wcomp failed: {err}"),
        }
    }
}

/// `--emit-wac` writes what automatic plugging chose; composing that file gives a component
/// with the same world (imports and exports, with their types) that behaves the same.
#[test]
fn an_emitted_wac_file_composes_into_the_same_component() {
    for case in [
        "plug-one",
        "transitive-chain",
        "wasi-stays-an-import",
        "middleware-chain-wired",
    ] {
        let case_toml = read_case(&fixtures().join(case));
        let options = compose_options(&case_toml);
        let inputs: Vec<ComposeInput> = std::iter::once(&options.socket)
            .chain(&options.plugs)
            .cloned()
            .collect();
        let automatic = compose::compose(options).unwrap();
        let files: Vec<(String, String)> = inputs
            .iter()
            .map(|input| (input.name.clone(), input.origin.clone()))
            .collect();
        let text = compose::wac::emit(&automatic, "local", "emitted.wac", &files);
        let deps = inputs
            .iter()
            .map(|input| Dep {
                name: format!("local:{}", input.name),
                path: fixtures().join("components").join(&input.origin),
                shown: input.origin.clone(),
            })
            .collect();
        let options = WacOptions {
            shown: "emitted.wac".to_owned(),
            source: text.clone(),
            deps,
            dir: None,
        };
        let from_wac = compose::wac::compose(&options)
            .unwrap_or_else(|err| panic!("{case}: {err}\n{text}"))
            .composition;
        let expected = world(&automatic.bytes);
        assert!(expected.contains("export "), "{expected}");
        assert_eq!(world(&from_wac.bytes), expected, "{case}\n{text}");
        if let Some(call) = &case_toml.invoke {
            assert_eq!(
                invoke(&from_wac.bytes, call, &[]),
                invoke(&automatic.bytes, call, &[]),
                "{case}"
            );
        }
    }
}

/// A component's world as WIT text: its imports and exports with their types.
fn world(bytes: &[u8]) -> String {
    let decoded = wit_component::decode(bytes).unwrap();
    let mut printer = wit_component::WitPrinter::default();
    printer
        .print(decoded.resolve(), decoded.package(), &[])
        .unwrap();
    printer.output.to_string()
}

/// End to end: packages from `deps/` beside the file, the default output name, `--explain`,
/// `wcomp graph` on the file, an error shown at its place, and `--emit-wac` composed again.
#[test]
fn wcomp_compose_reads_a_wac_file() {
    let temp = support::tempdir();
    let components = fixtures().join("components");
    std::fs::create_dir_all(temp.path().join("deps/test")).unwrap();
    for stem in ["calc", "add"] {
        std::fs::copy(
            components.join(format!("{stem}.wat")),
            temp.path().join(format!("deps/test/{stem}.wat")),
        )
        .unwrap();
    }
    std::fs::copy(
        fixtures().join("wac-let-new/app.wac"),
        temp.path().join("app.wac"),
    )
    .unwrap();
    let out = support::run(temp.path(), &["compose", "app.wac", "--explain"]).success();
    assert!(
        out.stdout
            .contains("import `example:math/add@0.1.0`: satisfied by `adder`"),
        "{}",
        out.stdout
    );
    let out = support::run(temp.path(), &["run", "app.wasm", "--invoke", "double(21)"]).success();
    assert_eq!(out.stdout, "42\n");
    let out = support::run(temp.path(), &["graph", "app.wac"]).success();
    assert!(out.stdout.contains("adder"), "{}", out.stdout);

    std::fs::write(
        temp.path().join("bad.wac"),
        "package test:app;\n\nlet calc = new test:calc {};\n",
    )
    .unwrap();
    let out = support::run(temp.path(), &["compose", "bad.wac"]).failure(1);
    assert!(out.stderr.contains("--> bad.wac:3:16"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("missing instantiation argument `example:math/add@0.1.0`"),
        "{}",
        out.stderr
    );
    let out = support::run(temp.path(), &["compose", "app.wac", "--dep", "test:add"]).failure(1);
    assert!(
        out.stderr.contains("is not `ns:name=<file>`"),
        "{}",
        out.stderr
    );

    let calc = components.join("calc.wat");
    let add = components.join("add.wat");
    let (calc, add) = (calc.to_str().unwrap(), add.to_str().unwrap());
    support::run(
        temp.path(),
        &[
            "compose",
            calc,
            "--plug",
            add,
            "-o",
            "auto.wasm",
            "--emit-wac",
            "auto.wac",
        ],
    )
    .success();
    let emitted = std::fs::read_to_string(temp.path().join("auto.wac")).unwrap();
    assert!(emitted.contains("let calc = new local:calc {"), "{emitted}");
    let local_calc = format!("local:calc={calc}");
    let local_add = format!("local:add={add}");
    support::run(
        temp.path(),
        &[
            "compose",
            "auto.wac",
            "--dep",
            &local_calc,
            "--dep",
            &local_add,
            "-o",
            "again.wasm",
        ],
    )
    .success();
    let out = support::run(temp.path(), &["run", "again.wasm", "--invoke", "double(4)"]).success();
    assert_eq!(out.stdout, "8\n");
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
