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
        // Outputs, and the state a `wcomp serve` of the example (the quick start's) left.
        if relative
            .components()
            .any(|c| c.as_os_str() == "target" || c.as_os_str() == ".wcomp")
        {
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
        out.stdout.ends_with("8 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
    // The tests' buckets were in memory: nothing was written to the state directory.
    assert!(!dir.join(".wcomp/state").exists());

    // Served over a real socket, as the README says, and asked with a real HTTP client.
    let (server, url) = serve(&dir);
    let curl = |args: &[&str]| curl(args).body;
    let text = r#"{"text": "The cat and the hat. The end!"}"#;
    assert_eq!(
        curl(&["-X", "POST", "-d", text, &format!("{url}stats")]),
        "{\"words\":7,\"unique\":5,\"longest\":\"The\"}\n"
    );
    // Every instance counts in the embedded store of `[serve.keyvalue]`.
    curl(&["-X", "POST", "-d", text, &format!("{url}stats")]);
    assert_eq!(curl(&[&format!("{url}stats/count")]), "{\"analyzed\":2}\n");
    assert!(dir.join(".wcomp/state/keyvalue.sqlite3").is_file());
    assert_eq!(
        curl(&["-X", "POST", "-d", text, &format!("{url}top?limit=2")]),
        "[{\"word\":\"the\",\"count\":3},{\"word\":\"cat\",\"count\":1}]\n"
    );
    stop(server);
}

/// The service of `http_polyglot_example` with a WASI 0.3 Python gateway over the same Rust
/// and Python libraries (built the 0.2 way): the same tests pass and the same answers come
/// back over a real socket.
#[test]
fn http_polyglot_p3_example() {
    let temp = tempdir();
    let dir = temp.path().join("http-polyglot-p3");
    copy_tree(&repo_root().join("examples/http-polyglot-p3"), &dir);
    // The gateway's world includes `wasi:http/service@0.3.0`, supplied by wcomp.
    let out = run(&dir, &["wit", "check", "--deny", "warnings"]).success();
    assert!(out.stderr.contains("no problems"), "{}", out.stderr);
    // The plain libraries plug into the 0.3 gateway's imports.
    let out = run(&dir, &["compose", "--explain"]).success();
    for plugged in [
        "import `example:wordsvc/stats@0.1.0`: satisfied by `logic`",
        "import `example:wordsvc/ranking@0.1.0`: satisfied by `ranker`",
    ] {
        assert!(out.stdout.contains(plugged), "{}", out.stdout);
    }
    let bytes = std::fs::read(dir.join("target/wcomp/wordsvc.wasm")).unwrap();
    assert!(support::lifts_async(&bytes), "`handle` is not lifted async");
    let out = run(&dir, &["test"]).success();
    assert!(
        out.stdout.ends_with("6 passed, 0 failed\n"),
        "{}",
        out.stdout
    );

    let (server, url) = serve(&dir);
    let routes = curl(&[&url]);
    assert_eq!(routes.status, 200, "{routes:?}");
    assert_eq!(
        routes.header("content-type"),
        Some("application/json"),
        "{routes:?}"
    );
    assert_eq!(
        routes.body,
        "{\"routes\":[\"POST /stats\",\"POST /top?limit=N\"]}\n"
    );
    let text = r#"{"text": "The cat and the hat. The end!"}"#;
    assert_eq!(
        curl(&["-X", "POST", "-d", text, &format!("{url}stats")]).body,
        "{\"words\":7,\"unique\":5,\"longest\":\"The\"}\n"
    );
    assert_eq!(
        curl(&["-X", "POST", "-d", text, &format!("{url}top?limit=2")]).body,
        "[{\"word\":\"the\",\"count\":3},{\"word\":\"cat\",\"count\":1}]\n"
    );
    let bad = curl(&["-X", "POST", "-d", "not json", &format!("{url}stats")]);
    assert_eq!(bad.status, 400, "{bad:?}");
    assert!(bad.body.contains("expected a JSON body"), "{bad:?}");
    assert_eq!(curl(&[&format!("{url}nope")]).status, 404);
    stop(server);
}

#[test]
fn http_middleware_example() {
    let temp = tempdir();
    let dir = temp.path().join("http-middleware");
    copy_tree(&repo_root().join("examples/http-middleware"), &dir);
    // The middleware's world includes `wasi:http/middleware@0.3.0`, supplied by wcomp.
    let out = run(&dir, &["wit", "check", "--deny", "warnings"]).success();
    assert!(out.stderr.contains("no problems"), "{}", out.stderr);
    let out = run(&dir, &["--format", "json", "build"]).success();
    assert_eq!(
        out.stdout
            .matches(r#""reason":"component-building""#)
            .count(),
        2,
        "{}",
        out.stdout
    );
    // The middleware's `wasi:http/handler` import is plugged with the Rust handler, not left
    // to the host: by `[compose.wire]` in the workspace, and by `--plug` outside it.
    let plugged = concat!(
        "import `wasi:http/handler@0.3.0`: ",
        "satisfied by `hello` (its export `wasi:http/handler@0.3.2`)"
    );
    let out = run(&dir, &["compose", "--explain"]).success();
    assert!(out.stdout.contains(plugged), "{}", out.stdout);
    let out = run(
        &dir,
        &[
            "compose",
            "auth/target/wcomp/auth.wasm",
            "--plug",
            "hello/target/wcomp/hello.wasm",
            "-o",
            "target/plugged.wasm",
            "--explain",
        ],
    )
    .success();
    assert!(out.stdout.contains(plugged), "{}", out.stdout);
    assert!(
        std::fs::read(dir.join("target/plugged.wasm")).unwrap()
            == std::fs::read(dir.join("target/wcomp/guarded.wasm")).unwrap(),
        "`--plug` and the workspace compose the same component"
    );
    let out = run(&dir, &["test"]).success();
    assert!(
        out.stdout.ends_with("5 passed, 0 failed\n"),
        "{}",
        out.stdout
    );

    let (server, url) = serve(&dir);
    let refused = curl(&[&url]);
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(refused.body, "missing or wrong bearer token\n");
    let wrong = curl(&["-H", "authorization: Bearer guess", &url]);
    assert_eq!(wrong.status, 401, "{wrong:?}");
    let token = "authorization: Bearer demo-token";
    let hello = curl(&["-H", token, &url]);
    assert_eq!(hello.status, 200, "{hello:?}");
    assert_eq!(hello.header("x-middleware"), Some("python"), "{hello:?}");
    assert_eq!(hello.header("x-handler"), Some("rust"), "{hello:?}");
    assert_eq!(hello.body, "Hello from Rust!\n");
    let text = r#"{"text": "through the middleware and back"}"#;
    let echoed = curl(&["-H", token, "-d", text, &format!("{url}echo")]);
    assert_eq!(echoed.status, 200, "{echoed:?}");
    assert_eq!(echoed.header("x-middleware"), Some("python"), "{echoed:?}");
    assert_eq!(echoed.body, text);
    stop(server);
}

/// `wcomp serve` in `dir` on a free port, and the URL it serves once it says so.
fn serve(dir: &Path) -> (std::process::Child, String) {
    let mut server = support::wcomp(dir)
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
    (server, url)
}

/// Stops a server as Ctrl-C would; it exits cleanly.
fn stop(mut server: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    assert!(server.wait().unwrap().success());
}

/// An answer as curl received it.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// `name: value` lines, names lowercase as HTTP/1.1 servers send them here.
    headers: Vec<String>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
    }
}

/// `curl -s -i <args>`, split into status, headers and body.
fn curl(args: &[&str]) -> Answer {
    let out = std::process::Command::new("curl")
        .args(["-s", "-i", "--max-time", "60"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        headers: lines.map(str::to_owned).collect(),
        body: body.to_owned(),
    }
}
