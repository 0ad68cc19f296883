//! `wcomp test`: declarative smoke tests from wcomp.toml against real Rust components.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::{repo_root, run, tempdir};

fn fixture(name: &str) -> std::path::PathBuf {
    repo_root().join("tests/e2e/checks").join(name)
}

fn workspace(dir: &Path) -> std::path::PathBuf {
    run(
        dir,
        &[
            "new",
            "checks",
            "--workspace",
            "--wit",
            fixture("checks.wit").to_str().unwrap(),
        ],
    )
    .success();
    let ws = dir.join("checks");
    for name in ["counter", "reporter"] {
        run(&ws, &["new", name, "--lang", "rust", "--world", name]).success();
        std::fs::copy(
            fixture(&format!("{name}.rs")),
            ws.join(name).join("src/lib.rs"),
        )
        .unwrap();
    }
    let manifest = ws.join("wcomp.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text = text.replace("# root = \"<component>\"", "root = \"counter\"");
    text.push_str(&std::fs::read_to_string(fixture("tests.toml")).unwrap());
    std::fs::write(&manifest, text).unwrap();
    ws
}

#[test]
fn smoke_tests_pass_fail_trap_and_time_out() {
    let temp = tempdir();
    let ws = workspace(temp.path());

    let out = run(
        &ws,
        &["test", "--timeout", "500ms", "--junit", "target/junit.xml"],
    )
    .failure(1);
    let stdout = out.stdout;
    for passing in [
        "sums across steps",
        "every test gets a fresh instance",
        "divides",
        "division by zero is an error",
        "panics are traps",
    ] {
        assert!(
            stdout.contains(&format!("test {passing} ... ok\n")),
            "{passing}:\n{stdout}"
        );
    }
    assert!(stdout.contains("test deliberately wrong ... FAILED\n    step 1 `divide(6, 3)`: the result differs\n    expected: ok(3)\n    actual:   ok(2)\n"), "{stdout}");
    assert!(
        stdout.contains(
            "test hangs ... FAILED\n    step 1 `spin()`: guest exceeded its time limit of 500ms\n"
        ),
        "{stdout}"
    );
    // The composition is rooted at `counter`, which has no `render`.
    assert!(stdout.contains("test reporter alone ... FAILED\n    step 1 `render(\"a b\")`: the component exports no function named `render`"), "{stdout}");
    assert!(stdout.ends_with("5 passed, 3 failed\n"), "{stdout}");

    // JUnit report with the elements CI systems require.
    let xml = std::fs::read_to_string(ws.join("target/junit.xml")).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let suites = document.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let suite = suites
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("8"));
    assert_eq!(suite.attribute("failures"), Some("3"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 8);
    assert!(cases.iter().all(|c| c.attribute("name").is_some()
        && c.attribute("classname").is_some()
        && c.attribute("time").is_some()));
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert_eq!(failed, ["deliberately wrong", "hangs", "reporter alone"]);

    // One component alone: its unsatisfied import is stubbed and traps naming it.
    let out = run(&ws, &["test", "-p", "reporter", "reporter alone"]).success();
    assert!(
        out.stdout
            .contains("test reporter alone ... ok\n1 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
    let out = run(
        &ws,
        &[
            "--format",
            "json",
            "test",
            "-p",
            "reporter",
            "reporter alone",
        ],
    )
    .success();
    assert!(
        out.stdout.contains(r#""reason":"test-summary""#),
        "{}",
        out.stdout
    );

    let out = run(&ws, &["test", "-p", "counter", "panics"]).success();
    assert!(
        out.stdout.ends_with("1 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_stubbed_import_names_itself_when_called() {
    let temp = tempdir();
    let ws = workspace(temp.path());
    let manifest = ws.join("wcomp.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "expect-trap = \"acme:checks/stats@0.1.0#analyze\"",
            "expect = '\"2 words\"'",
        ),
    )
    .unwrap();
    let out = run(&ws, &["test", "-p", "reporter", "reporter alone"]).failure(1);
    assert!(
        out.stdout.contains("called the stubbed import `acme:checks/stats@0.1.0#analyze`: nothing provides it when the component is tested alone"),
        "{}",
        out.stdout
    );
}

/// The line of the error `wcomp run` printed, or of the failure `wcomp test` reported, that
/// names the limit (up to its details in parentheses).
fn limit_message(text: &str) -> String {
    let line = text
        .lines()
        .find(|line| line.contains("guest exceeded its"))
        .unwrap_or_else(|| panic!("no limit message in:\n{text}"));
    let from = line.find("guest exceeded").unwrap();
    line[from..].split(" (").next().unwrap().to_owned()
}

#[test]
fn run_and_test_hold_a_guest_to_the_same_limits_with_the_same_words() {
    let temp = tempdir();
    let ws = workspace(temp.path());
    let manifest = ws.join("wcomp.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(
        "\n[run]\nmax-memory = \"32MiB\"\n\n[[test]]\nname = \"hoards\"\ninvoke = \"hoard(64)\"\n",
    );
    std::fs::write(&manifest, text).unwrap();

    // A looping guest: the same limit, the same message, under both commands.
    let tested = run(&ws, &["test", "--timeout", "300ms", "hangs"]).failure(1);
    let ran = run(&ws, &["run", "--timeout", "300ms", "--invoke", "spin()"]).failure(124);
    assert_eq!(
        limit_message(&tested.stdout),
        "guest exceeded its time limit of 300ms"
    );
    assert_eq!(limit_message(&ran.stderr), limit_message(&tested.stdout));

    // An allocating guest: `[run] max-memory` holds under both, for all memories together.
    let tested = run(&ws, &["test", "hoards"]).failure(1);
    let ran = run(&ws, &["run", "--invoke", "hoard(64)"]).failure(122);
    assert_eq!(
        limit_message(&tested.stdout),
        "guest exceeded its memory limit of 32 MiB"
    );
    assert_eq!(limit_message(&ran.stderr), limit_message(&tested.stdout));
    // Under the limit, both let it allocate.
    run(&ws, &["run", "--invoke", "hoard(8)"]).success();
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("hoard(64)", "hoard(8)")).unwrap();
    run(&ws, &["test", "hoards"]).success();
}
