//! The examples in `examples/` build, compose and run exactly as their READMEs say.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::{repo_root, run, tempdir};

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let relative = entry.path().strip_prefix(from).unwrap();
        if relative.components().any(|c| c.as_os_str() == "target") {
            continue;
        }
        let dest = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

#[test]
fn text_report_example() {
    let temp = tempdir();
    let dir = temp.path().join("text-report");
    copy_tree(&repo_root().join("examples/text-report"), &dir);
    run(&dir, &["build", "analyzer"]).success();
    run(&dir, &["build", "reporter"]).success();
    run(
        &dir,
        &[
            "compose",
            "reporter/target/wcomp/reporter.wasm",
            "--plug",
            "analyzer/target/wcomp/analyzer.wasm",
            "-o",
            "target/text-report.wasm",
        ],
    )
    .success();
    let out = run(
        &dir,
        &[
            "run",
            "target/text-report.wasm",
            "--invoke",
            r#"render("Hello brave new world")"#,
        ],
    )
    .success();
    assert_eq!(out.stdout, "\"4 words, longest: Hello\"\n");
}

#[test]
fn polyglot_example() {
    let temp = tempdir();
    let dir = temp.path().join("polyglot");
    copy_tree(&repo_root().join("examples/polyglot"), &dir);
    let out = run(&dir, &["--format", "json", "build"]).success();
    assert_eq!(
        out.stdout
            .matches(r#""reason":"component-building""#)
            .count(),
        3,
        "{}",
        out.stdout
    );
    let out = run(
        &dir,
        &[
            "run",
            "--invoke",
            r#"render("The cat and the hat. The end!")"#,
        ],
    )
    .success();
    assert_eq!(
        out.stdout,
        "\"7 words, 5 unique; top: the ×3, cat ×1, and ×1\"\n"
    );
    let out = run(&dir, &["test"]).success();
    assert!(
        out.stdout.ends_with("3 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
    let graph = run(&dir, &["-q", "graph"]).success().stdout;
    for edge in [
        r#"n_reporter -->|"textstats:app/stats@0.1.0"| n_analyzer"#,
        r#"n_analyzer -->|"textstats:app/tokens@0.1.0"| n_tokenizer"#,
    ] {
        assert!(graph.contains(edge), "{graph}");
    }
}

#[test]
fn http_polyglot_example() {
    let temp = tempdir();
    let dir = temp.path().join("http-polyglot");
    copy_tree(&repo_root().join("examples/http-polyglot"), &dir);
    // The WIT of every component checks clean (the WASI packages are supplied by wcomp).
    let out = run(&dir, &["wit", "check", "--deny", "warnings"]).success();
    assert!(out.stderr.contains("no problems"), "{}", out.stderr);
    let out = run(&dir, &["test"]).success();
    assert!(
        out.stdout.ends_with("6 passed, 0 failed\n"),
        "{}",
        out.stdout
    );

    // Served over a real socket, as the README says, and asked with a real HTTP client.
    let mut server = support::wcomp(&dir)
        .args(["--format", "json", "serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    let url = std::io::BufRead::lines(stderr)
        .map_while(Result::ok)
        .find_map(|line| {
            let value: serde_json::Value = serde_json::from_str(&line).ok()?;
            (value["reason"] == "serving").then(|| value["url"].as_str().unwrap().to_owned())
        })
        .expect("the example is served");
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--max-time", "60"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = r#"{"text": "The cat and the hat. The end!"}"#;
    assert_eq!(
        curl(&["-X", "POST", "-d", text, &format!("{url}stats")]),
        "{\"words\":7,\"unique\":5,\"longest\":\"The\"}\n"
    );
    assert_eq!(
        curl(&["-X", "POST", "-d", text, &format!("{url}top?limit=2")]),
        "[{\"word\":\"the\",\"count\":3},{\"word\":\"cat\",\"count\":1}]\n"
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    assert!(server.wait().unwrap().success());
}
