//! `wcomp serve` end to end: a real Rust HTTP component (wstd), served on a free loopback
//! port by the `wcomp` binary, talked to over real sockets by a real HTTP client (`curl`).

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use support::{repo_root, run, tempdir};

/// The fixture handler (`tests/e2e/http/server.rs`) on the Rust HTTP template, built once for
/// all the tests here (they serve the same bytes), in `target/test-fixtures/serve/`.
fn http_component() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = repo_root().join("target/test-fixtures/serve");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        run(
            &dir,
            &["new", "server", "--lang", "rust", "--template", "http"],
        )
        .success();
        std::fs::copy(
            repo_root().join("tests/e2e/http/server.rs"),
            dir.join("server/src/lib.rs"),
        )
        .unwrap();
        let out = run(&dir, &["build", "server"]).success();
        PathBuf::from(out.stdout.trim())
    })
}

/// A running `wcomp serve` and everything it has written to stderr.
struct Server {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `wcomp serve <component> --addr 127.0.0.1:0 <args>` (JSON output, `-v`), and
    /// waits until it listens.
    fn start(cwd: &Path, component: &Path, args: &[&str]) -> Self {
        let mut child = support::wcomp(cwd)
            .args(["--format", "json", "-v", "serve"])
            .arg(component)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
                    && value["reason"] == "serving"
                {
                    let _ = tx.send(value["url"].as_str().unwrap_or_default().to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the server did not start:\n{}", log.lock().unwrap()));
        Self { child, url, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// `SIGTERM`, as a process manager stops a server.
    fn terminate(&self) {
        support::sigterm(&self.child);
    }

    fn wait(&mut self) -> Option<i32> {
        let log = self.log.clone();
        support::wait_for_exit(&mut self.child, || log.lock().unwrap().clone())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as curl saw it.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: String,
    headers: String,
}

/// `curl` `path` on the server, with `args` (e.g. `-X POST --data …`).
fn curl(server: &Server, path: &str, args: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-s", "-S", "-D", "-", "--max-time", "60"])
        .args(args)
        .arg(format!("{}{}", server.url.trim_end_matches('/'), path))
        .output()
        .expect("curl is installed (scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        body: body.to_owned(),
        headers: headers.to_owned(),
    }
}

#[test]
fn every_request_gets_a_fresh_instance_and_faults_stay_in_theirs() {
    let temp = tempdir();
    let component = http_component();
    let server = Server::start(
        temp.path(),
        component,
        &[
            "--timeout",
            "2s",
            "--max-body",
            "1KiB",
            "--max-memory",
            "32MiB",
        ],
    );

    let ok = curl(&server, "/", &[]);
    assert_eq!((ok.status, ok.body.as_str()), (200, "ok\n"));
    // Static state does not survive from one request to the next.
    assert_eq!(curl(&server, "/seen", &[]).body, "1\n");
    assert_eq!(curl(&server, "/seen", &[]).body, "1\n");
    assert_eq!(curl(&server, "/nope", &[]).status, 404);

    // A trap is a 500 with the request id, and the next request is served.
    let trapped = curl(&server, "/trap", &[]);
    assert_eq!(trapped.status, 500, "{trapped:?}");
    assert!(trapped.body.contains("(request "), "{trapped:?}");
    assert!(
        trapped.headers.to_lowercase().contains("x-request-id:"),
        "{trapped:?}"
    );
    assert_eq!(curl(&server, "/", &[]).status, 200);

    // A guest that never answers runs out of time: 504, and the server goes on.
    let started = Instant::now();
    let spun = curl(&server, "/spin", &[]);
    assert_eq!(spun.status, 504, "{spun:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let slept = curl(&server, "/sleep?ms=5000", &[]);
    assert_eq!(slept.status, 504, "{slept:?}");
    assert_eq!(curl(&server, "/", &[]).status, 200);

    // Memory: within the limit the guest allocates; past it, 500, and the server goes on.
    assert_eq!(curl(&server, "/hoard?mib=8", &[]).body, "held 8 MiB\n");
    let hoarded = curl(&server, "/hoard?mib=64", &[]);
    assert_eq!(hoarded.status, 500, "{hoarded:?}");
    assert_eq!(curl(&server, "/", &[]).status, 200);

    // Bodies: within the limit they reach the guest; over it, 413 (declared or streamed).
    let echo = curl(&server, "/echo", &["--data-binary", "hello"]);
    assert_eq!((echo.status, echo.body.as_str()), (200, "5 bytes\n"));
    let big = "x".repeat(4096);
    assert_eq!(curl(&server, "/echo", &["--data-binary", &big]).status, 413);
    let chunked = curl(
        &server,
        "/echo",
        &["-H", "Transfer-Encoding: chunked", "--data-binary", &big],
    );
    assert_eq!(chunked.status, 413, "{chunked:?}");

    // Outgoing HTTP is denied without `--allow-http`: the guest sees the error code.
    let target = format!("url={}", server.url);
    let fetched = curl(&server, &format!("/fetch?{target}"), &[]);
    assert_eq!(fetched.status, 200);
    assert!(fetched.body.contains("fetch failed"), "{fetched:?}");
    assert!(fetched.body.contains("HttpRequestDenied"), "{fetched:?}");

    let log = server.log();
    let requests: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|value| value["reason"] == "request")
        .collect();
    assert!(requests.len() >= 12, "{log}");
    let trap = requests.iter().find(|r| r["path"] == "/trap").unwrap();
    assert_eq!(trap["status"], 500);
    assert!(
        trap["error"]
            .as_str()
            .unwrap()
            .contains("the guest trapped"),
        "{trap}"
    );
    assert!(
        trap["error"].as_str().unwrap().contains("wasm backtrace"),
        "{trap}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r["status"] == 504 && r["path"] == "/spin")
    );
    let first = &requests[0];
    for field in [
        "method",
        "path",
        "status",
        "bytes",
        "total_us",
        "guest_us",
        "instantiate_us",
    ] {
        assert!(!first[field].is_null(), "{field} missing: {first}");
    }
    assert!(
        log.contains(r#""reason":"denied""#) && log.contains("--allow-http 127.0.0.1:"),
        "{log}"
    );
}

#[test]
fn allowed_outgoing_requests_go_through() {
    let temp = tempdir();
    let component = http_component();
    let upstream = Server::start(temp.path(), component, &[]);
    let port = upstream
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let grant = format!("127.0.0.1:{port}");
    let server = Server::start(temp.path(), component, &["--allow-http", &grant]);
    let fetched = curl(&server, &format!("/fetch?url={}", upstream.url), &[]);
    assert_eq!(
        fetched.body,
        "fetched: 200 OK\n",
        "{fetched:?}\n{}",
        server.log()
    );
    // Another port of the same host stays denied.
    let other = curl(&server, "/fetch?url=http://127.0.0.1:1/", &[]);
    assert!(other.body.contains("HttpRequestDenied"), "{other:?}");
}

#[test]
fn shutdown_lets_the_request_in_flight_finish() {
    let temp = tempdir();
    let component = http_component();
    let mut server = Server::start(temp.path(), component, &[]);
    let url = format!("{}sleep?ms=1500", server.url);
    let in_flight = std::thread::spawn(move || {
        Command::new("curl")
            .args(["-s", "--max-time", "30", &url])
            .output()
            .unwrap()
    });
    // SIGTERM once the request is in the guest (it says so on stderr).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !server.log().contains("sleeping for 1500ms") {
        assert!(
            Instant::now() < deadline,
            "the request never reached the guest:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.terminate();
    let reply = in_flight.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&reply.stdout), "slept 1500ms\n");
    assert_eq!(server.wait(), Some(0), "{}", server.log());
    assert!(
        server.log().contains(r#""reason":"stopped""#),
        "{}",
        server.log()
    );
    // Nothing listens any more.
    let refused = Command::new("curl")
        .args(["-s", "--max-time", "5", &server.url])
        .status()
        .unwrap();
    assert!(!refused.success());
}

#[test]
fn an_address_in_use_and_a_component_that_is_not_a_handler_are_refused() {
    let temp = tempdir();
    let component = http_component();
    let server = Server::start(temp.path(), component, &[]);
    let addr = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let out = run(
        temp.path(),
        &["serve", component.to_str().unwrap(), "--addr", &addr],
    )
    .failure(1);
    assert!(
        out.stderr.contains(&format!(
            "error: cannot listen on {addr}: the address is in use"
        )),
        "{}",
        out.stderr
    );

    let calc = repo_root().join("tests/compose/components/add.wat");
    let out = run(temp.path(), &["serve", calc.to_str().unwrap()]).failure(1);
    assert!(
        out.stderr
            .contains("does not export `wasi:http/incoming-handler`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("it exports `example:math/add@0.1.0`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--template http"), "{}", out.stderr);
}

#[test]
fn the_http_templates_answer_get_in_every_language() {
    let temp = tempdir();
    for (language, greeting) in [
        ("rust", "Hello from Rust!\n"),
        ("go", "Hello from Go!\n"),
        ("python", "Hello from Python!\n"),
    ] {
        let name = format!("hello-{language}");
        run(
            temp.path(),
            &["new", &name, "--lang", language, "--template", "http"],
        )
        .success();
        let out = run(temp.path(), &["build", &name]).success();
        let component = PathBuf::from(out.stdout.trim());
        let server = Server::start(temp.path(), &component, &[]);
        let reply = curl(&server, "/", &[]);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, greeting),
            "{language}"
        );
        assert_eq!(curl(&server, "/elsewhere", &[]).status, 404, "{language}");
    }
}
