//! File-driven tests of `wcomp run` over the `.wat` components in `tests/runner/`
//! (see its README for the header format). Each file is compiled at test time.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::{repo_root, run, tempdir};

struct Case {
    args: String,
    exit: i32,
    stdout: Vec<String>,
    stderr: Vec<String>,
}

fn parse_cases(source: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in source.lines() {
        let Some(directive) = line.strip_prefix(";; ") else {
            continue;
        };
        if let Some(args) = directive.strip_prefix("RUN: ") {
            cases.push(Case {
                args: args.to_owned(),
                exit: 0,
                stdout: Vec::new(),
                stderr: Vec::new(),
            });
            continue;
        }
        let Some(case) = cases.last_mut() else {
            continue;
        };
        if let Some(code) = directive.strip_prefix("EXIT: ") {
            case.exit = code.trim().parse().expect("EXIT takes a number");
        } else if let Some(text) = directive.strip_prefix("STDOUT: ") {
            case.stdout.push(text.to_owned());
        } else if let Some(text) = directive.strip_prefix("STDERR: ") {
            case.stderr.push(text.to_owned());
        }
    }
    cases
}

/// Splits a RUN line like a shell would for the simple quoting the fixtures use.
fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut has_token = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                has_token = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if has_token {
                    args.push(std::mem::take(&mut current));
                    has_token = false;
                }
            }
            (_, c) => {
                current.push(c);
                has_token = true;
            }
        }
    }
    if has_token {
        args.push(current);
    }
    args
}

fn check_file(path: &Path, failures: &mut Vec<String>) -> usize {
    let source = std::fs::read_to_string(path).unwrap();
    let bytes = wat::parse_str(&source).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let temp = tempdir();
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let wasm = temp.path().join(format!("{stem}.wasm"));
    std::fs::write(&wasm, bytes).unwrap();
    let cases = parse_cases(&source);
    assert!(!cases.is_empty(), "{} has no RUN line", path.display());
    for case in &cases {
        let args: Vec<String> = split_args(&case.args)
            .into_iter()
            .map(|arg| arg.replace("%s", &wasm.display().to_string()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(temp.path(), &args);
        let label = format!("{stem}: `wcomp {}`", case.args);
        if out.code != Some(case.exit) {
            failures.push(format!(
                "{label}: exit {:?}, expected {}\nstderr:\n{}",
                out.code, case.exit, out.stderr
            ));
        }
        let stdout: Vec<&str> = out.stdout.lines().collect();
        if stdout != case.stdout {
            failures.push(format!(
                "{label}: stdout {stdout:?}, expected {:?}",
                case.stdout
            ));
        }
        for expected in &case.stderr {
            if !out.stderr.contains(expected.as_str()) {
                failures.push(format!(
                    "{label}: stderr lacks {expected:?}\nstderr:\n{}",
                    out.stderr
                ));
            }
        }
        if out.stderr.contains("panicked") {
            failures.push(format!("{label}: wcomp panicked\n{}", out.stderr));
        }
    }
    cases.len()
}

#[test]
fn runner_fixtures() {
    let dir = repo_root().join("tests").join("runner");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        total += check_file(file, &mut failures);
    }
    assert!(
        total >= 10,
        "expected the fixture set to hold at least 10 cases, found {total}"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} runner cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn non_wasm_input_is_rejected() {
    let temp = tempdir();
    std::fs::write(temp.path().join("notes.txt"), "hello").unwrap();
    let out = run(temp.path(), &["run", "notes.txt"]).failure(1);
    assert!(
        out.stderr.contains("`") && out.stderr.contains("is not a WebAssembly component"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not WebAssembly at all"),
        "{}",
        out.stderr
    );
    let out = run(temp.path(), &["run", "missing.wasm"]).failure(1);
    assert!(out.stderr.contains("missing.wasm"), "{}", out.stderr);
}
