//! `wcomp serve` end to end: a real Rust HTTP component (wstd), served on a free loopback
//! port by the `wcomp` binary, talked to over real sockets by a real HTTP client (`curl`).

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::server::{Server, curl, metric, requests, scrape, summary};
use support::{repo_root, run, tempdir};

/// The fixture handler (`tests/e2e/http/server.rs`) on the Rust HTTP template, built once for
/// all the tests here (they serve the same bytes), in `target/test-fixtures/serve/`.
fn http_component() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| support::server::build_http_fixture("serve"))
}

/// The WASI 0.3 fixture handler's source.
const SERVICE: &str = "tests/e2e/http/service.rs";

/// The WASI 0.3 fixture handler (`tests/e2e/http/service.rs`) on the Rust 0.3 HTTP template
/// (`--wasi 0.3`), built once for all the tests here, in `target/test-fixtures/serve-p3/`.
fn service_component() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = repo_root().join("target/test-fixtures/serve-p3");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        support::new_wasi_0_3_project(&dir, "service", "rust", Some(SERVICE));
        let out = run(&dir, &["build", "service"]).success();
        PathBuf::from(out.stdout.trim())
    })
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

    let log = server.log_when("12 requests", |records| records.len() >= 12);
    let requests = requests(&log);
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
    let in_flight = sleeping_request(&server, 1500);
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

/// A `curl` of `/sleep?ms=<ms>` on a thread of its own, returned once the request is in the
/// guest (the guest says so on stderr).
fn sleeping_request(server: &Server, ms: u64) -> std::thread::JoinHandle<std::process::Output> {
    let url = format!("{}sleep?ms={ms}", server.url);
    let in_flight = std::thread::spawn(move || {
        Command::new("curl")
            .args(["-s", "--max-time", "30", &url])
            .output()
            .unwrap()
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !server.log().contains(&format!("sleeping for {ms}ms")) {
        assert!(
            Instant::now() < deadline,
            "the request never reached the guest:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    in_flight
}

#[test]
fn an_address_in_use_and_a_component_that_is_not_a_handler_are_refused() {
    let temp = tempdir();
    let component = http_component();
    let server = Server::start(temp.path(), component, &[]);
    let addr = server.addr();
    // The metrics address is checked the same way, and named as such.
    let component = component.to_str().unwrap();
    for (args, error) in [
        (
            ["--addr", &addr, "--metrics", "127.0.0.1:0"],
            "cannot listen on",
        ),
        (
            ["--addr", "127.0.0.1:0", "--metrics", &addr],
            "cannot serve metrics on",
        ),
    ] {
        let mut line = vec!["serve", component];
        line.extend(args);
        let out = run(temp.path(), &line).failure(1);
        let expected = format!("error: {error} {addr}: the address is in use");
        assert!(out.stderr.contains(&expected), "{}", out.stderr);
    }

    let calc = repo_root().join("tests/compose/components/add.wat");
    let out = run(temp.path(), &["serve", calc.to_str().unwrap()]).failure(1);
    assert!(
        out.stderr
            .contains("exports neither `wasi:http/incoming-handler` nor `wasi:http/handler`"),
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

/// The WASI 0.3 HTTP templates, built by their real toolchains and served.
#[test]
fn the_wasi_0_3_http_templates_answer_get() {
    let temp = tempdir();
    for (language, greeting) in [
        ("rust", "Hello from Rust!\n"),
        ("python", "Hello from Python!\n"),
    ] {
        let name = format!("hello-p3-{language}");
        support::new_wasi_0_3_project(temp.path(), &name, language, None);
        let out = run(temp.path(), &["build", &name]).success();
        let component = PathBuf::from(out.stdout.trim());
        let server = Server::start(temp.path(), &component, &[]);
        let reply = curl(&server, "/", &[]);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, greeting),
            "{language}: {}",
            server.log()
        );
        assert_eq!(curl(&server, "/elsewhere", &[]).status, 404, "{language}");
        // By default a 0.3 instance is reused, as wasmtime and Spin do.
        let log = server.log();
        assert!(log.contains(r#""concurrent":16,"#), "{log}");
        assert!(log.contains(r#""reuse":128,"#), "{log}");
    }
}

/// A WASI 0.3 handler (`wasi:http/handler`, `async` `handle`, bodies as streams) under the
/// limits and log of 0.2, a fresh instance per request (`--reuse 1`): a trap or an error code
/// a 500 with the request id, a spinning guest a 504, bodies streamed both ways.
#[test]
fn a_wasi_0_3_handler_gets_a_fresh_instance_and_faults_stay_in_theirs() {
    let temp = tempdir();
    let server = Server::start(
        temp.path(),
        service_component(),
        &["--timeout", "2s", "--max-body", "1MiB", "--reuse", "1"],
    );
    let ok = curl(&server, "/", &[]);
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (200, "ok\n"),
        "{}",
        server.log()
    );
    assert_eq!(curl(&server, "/seen", &[]).body, "1\n");
    assert_eq!(curl(&server, "/seen", &[]).body, "1\n");
    assert_eq!(curl(&server, "/nope", &[]).status, 404);

    let trapped = curl(&server, "/trap", &[]);
    assert_eq!(trapped.status, 500, "{trapped:?}");
    assert!(trapped.body.contains("(request "), "{trapped:?}");
    assert_eq!(curl(&server, "/", &[]).status, 200);
    let failed = curl(&server, "/fail", &[]);
    assert_eq!(failed.status, 500, "{failed:?}");

    let spun = curl(&server, "/spin", &[]);
    assert_eq!(spun.status, 504, "{spun:?}");
    assert_eq!(curl(&server, "/sleep?ms=5000", &[]).status, 504);
    assert_eq!(curl(&server, "/sleep?ms=10", &[]).body, "slept 10ms\n");

    // Bodies stream both ways: 512 KiB in, 8 MiB out in 1 KiB writes.
    let upload = temp.path().join("upload");
    std::fs::write(&upload, vec![b'x'; 512 << 10]).unwrap();
    let upload = format!("@{}", upload.display());
    let echo = curl(&server, "/echo", &["--data-binary", &upload]);
    assert_eq!((echo.status, echo.body.as_str()), (200, "524288 bytes\n"));
    let too_big = temp.path().join("too-big");
    std::fs::write(&too_big, vec![b'x'; 2 << 20]).unwrap();
    let too_big = format!("@{}", too_big.display());
    assert_eq!(
        curl(&server, "/echo", &["--data-binary", &too_big]).status,
        413
    );
    let chunked = curl(
        &server,
        "/echo",
        &[
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Expect:",
            "--data-binary",
            &too_big,
        ],
    );
    assert_eq!(chunked.status, 413, "{chunked:?}");
    let streamed = curl(&server, "/stream?kib=8192", &[]);
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.body.len(), 8 << 20);

    // A response's line is written when its body has gone out, just after the client has it.
    let log = server.log_when("/stream", |records| {
        records
            .iter()
            .any(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/stream")))
    });
    assert!(log.contains(r#""reuse":1,"#), "{log}");
    let records = requests(&log);
    let trap = records.iter().find(|r| r["path"] == "/trap").unwrap();
    assert_eq!(trap["status"], 500);
    assert!(
        trap["error"]
            .as_str()
            .unwrap()
            .contains("the guest trapped"),
        "{trap}"
    );
    // A fresh instance per request: each line has its instantiation time.
    assert!(
        records
            .iter()
            .filter(|r| r["status"] == 200)
            .all(|r| !r["instantiate_us"].is_null()),
        "{log}"
    );
    let fail = records.iter().find(|r| r["path"] == "/fail").unwrap();
    assert!(
        fail["note"].as_str().unwrap().contains("error code"),
        "{fail}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["status"] == 504 && r["path"] == "/spin")
    );
    let stream = records
        .iter()
        .find(|r| r["path"] == "/stream?kib=8192")
        .expect(&log);
    assert_eq!(stream["bytes"], 8 << 20, "{stream}");
}

/// `--reuse`: one instance answers requests in turn (its state carries over), a trap retires
/// it, and requests that wait overlap in one instance.
#[test]
fn reuse_keeps_an_instance_for_several_requests() {
    let temp = tempdir();
    let server = Server::start(
        temp.path(),
        service_component(),
        &["--reuse", "1000", "--concurrent", "8"],
    );
    let seen: Vec<String> = (0..3).map(|_| curl(&server, "/seen", &[]).body).collect();
    assert_eq!(seen, ["1\n", "2\n", "3\n"], "{}", server.log());
    assert_eq!(curl(&server, "/trap", &[]).status, 500);
    assert_eq!(
        curl(&server, "/seen", &[]).body,
        "1\n",
        "a trap retires the instance"
    );

    // Eight sleeping requests at once all finish; they share instances rather than each
    // taking one.
    let sleepers: Vec<_> = (0..8)
        .map(|_| {
            let url = format!("{}sleep?ms=300", server.url);
            std::thread::spawn(move || {
                Command::new("curl")
                    .args(["-s", "--max-time", "60", &url])
                    .output()
                    .unwrap()
            })
        })
        .collect();
    for sleeper in sleepers {
        let out = sleeper.join().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "slept 300ms\n");
    }
    let count: u32 = curl(&server, "/seen", &[]).body.trim().parse().unwrap();
    assert!(count > 1, "the instance was kept: {count}");
    let log = server.log();
    assert!(log.contains(r#""concurrent":8,"#), "{log}");
    assert!(log.contains(r#""reuse":1000"#), "{log}");
    let trap = requests(&log)
        .into_iter()
        .find(|r| r["path"] == "/trap")
        .unwrap();
    assert!(
        trap["error"]
            .as_str()
            .unwrap()
            .contains("the guest trapped"),
        "{trap}"
    );
}

/// HTTP `[[test]]` cases against a WASI 0.3 handler in a workspace, answered in-process.
#[test]
fn http_test_cases_run_against_a_wasi_0_3_handler() {
    let temp = tempdir();
    let ws = temp.path().join("ws");
    run(temp.path(), &["new", "ws", "--workspace"]).success();
    support::new_wasi_0_3_project(&ws, "service", "rust", Some(SERVICE));
    let manifest = ws.join("wcomp.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(concat!(
        "\n[[test]]\nname = \"says ok\"\nrequest = \"GET /\"\nexpect-status = 200\nexpect-body = \"ok\\n\"\n",
        "\n[[test]]\nname = \"echoes\"\nrequest = \"POST /echo\"\nbody = \"hello\"\nexpect-body = \"5 bytes\\n\"\n",
        "\n[[test]]\nname = \"is not found\"\nrequest = \"GET /nope\"\nexpect-status = 404\n",
    ));
    std::fs::write(&manifest, text).unwrap();
    let out = run(&ws, &["test"]).success();
    assert!(
        out.stdout.ends_with("3 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

/// With `--timeout none` a guest that never waits still yields at every epoch tick: more
/// spinning requests than the runtime has threads leave the server answering the others, and
/// a spinning request ends when its client goes away.
#[test]
fn spinning_guests_without_a_time_limit_leave_the_server_answering() {
    let temp = tempdir();
    let server = Server::start(temp.path(), http_component(), &["--timeout", "none"]);
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            Command::new("curl")
                .args(["-s", "-o", "/dev/null", "--max-time", "6"])
                .arg(format!("{}spin", server.url))
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1000));
    let started = Instant::now();
    let ok = curl(&server, "/", &["--max-time", "4"]);
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (200, "ok\n"),
        "{}",
        server.log()
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    for mut spinner in spinners {
        spinner.wait().unwrap();
    }
    // The spinning guests were dropped with their clients: the server is idle and answers.
    assert_eq!(curl(&server, "/", &[]).status, 200);
}

/// One raw HTTP/1.1 request over a socket; the response's status line.
fn raw_status(server: &Server, request: &str) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let addr = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}

/// A panic while answering a request (injected: a debug build with `WCOMP_FAULTS=1` panics
/// where `x-wcomp-fault` says) ends that request alone, with a `500` and a log line naming the
/// request; the server answers the next one and exits cleanly.
#[test]
fn a_panic_ends_its_request_alone() {
    let temp = tempdir();
    let mut server =
        Server::start_with_env(temp.path(), http_component(), &[], &[("WCOMP_FAULTS", "1")]);
    for fault in ["panic", "panic-in-guest-task"] {
        let header = format!("x-wcomp-fault: {fault}");
        let failed = curl(&server, "/", &["-H", &header]);
        assert_eq!(failed.status, 500, "{fault}: {failed:?}\n{}", server.log());
        assert!(
            failed.headers.to_lowercase().contains("x-request-id:"),
            "{failed:?}"
        );
        let ok = curl(&server, "/", &[]);
        assert_eq!(
            (ok.status, ok.body.as_str()),
            (200, "ok\n"),
            "after {fault}"
        );
    }
    let log = server.log_when("2 panics", |records| {
        records.iter().filter(|r| r["status"] == 500).count() >= 2
    });
    let panicked: Vec<_> = requests(&log)
        .into_iter()
        .filter(|r| r["status"] == 500)
        .collect();
    assert_eq!(panicked.len(), 2, "{log}");
    for record in &panicked {
        let error = record["error"].as_str().unwrap_or_default();
        assert!(error.contains("wcomp panicked: injected fault"), "{log}");
    }
    server.terminate();
    assert_eq!(server.wait(), Some(0), "{}", server.log());
}

/// RFC 9112 §3.2: two `Host` headers are a `400`; `CONNECT` (a tunnel no handler can serve) is
/// refused before any guest runs.
#[test]
fn two_host_headers_and_connect_are_refused() {
    let temp = tempdir();
    let server = Server::start(temp.path(), http_component(), &[]);
    let status = raw_status(
        &server,
        "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n",
    );
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    let status = raw_status(
        &server,
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    );
    assert!(status.starts_with("HTTP/1.1 405"), "{status}");
    let status = raw_status(
        &server,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let log = server.log();
    assert!(
        requests(&log)
            .iter()
            .all(|r| r["guest"].is_null() || r["status"] == 200),
        "the refused requests reached no guest: {log}"
    );
}

/// On the first `SIGTERM`/Ctrl-C the server says what it drains and for how long; a second one
/// stops it at once instead of waiting out `--drain`.
#[test]
fn a_second_signal_stops_at_once_and_the_drain_says_what_it_waits_for() {
    use std::io::{BufRead as _, BufReader};
    let temp = tempdir();
    let addr = format!("127.0.0.1:{}", support::free_port());
    let mut child = support::wcomp(temp.path())
        .args(["serve"])
        .arg(http_component())
        .args(["--addr", &addr, "--drain", "1m"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !log.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no `{text}` in:\n{}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("Serving");
    let mut slow = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "--max-time", "60"])
        .arg(format!("http://{addr}/sleep?ms=30000"))
        .spawn()
        .unwrap();
    wait_for("sleeping for 30000ms");
    support::sigterm(&child);
    wait_for("stopping: waiting up to 1m for 1 open connection to finish their requests");
    let signalled = Instant::now();
    support::sigterm(&child);
    let log_now = log.clone();
    support::wait_for_exit(&mut child, || log_now.lock().unwrap().clone());
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "{}",
        log.lock().unwrap()
    );
    let _ = slow.kill();
    let _ = slow.wait();
    wait_for("still running when the server stopped");
}

/// Whether the server closed `stream` (end of stream or reset) within `within`.
fn closed_by_server(stream: &mut std::net::TcpStream, within: Duration) -> bool {
    use std::io::Read as _;
    stream.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => err.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// Connections that never send a byte are closed at the header timeout, and past
/// `--max-connections` a new connection is closed at once, so silent sockets cannot keep
/// clients out for longer than the header timeout.
#[test]
fn silent_connections_are_closed_and_connections_are_capped() {
    let temp = tempdir();
    let server = Server::start(
        temp.path(),
        http_component(),
        &["--header-timeout", "2s", "--max-connections", "20"],
    );
    let addr = server.addr();
    let mut silent: Vec<_> = (0..20)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Every slot is held: a new client is turned away at once, not left waiting.
    let mut extra = std::net::TcpStream::connect(&addr).unwrap();
    assert!(closed_by_server(&mut extra, Duration::from_secs(1)));
    let refused = Command::new("curl")
        .args(["-s", "--max-time", "5"])
        .arg(&server.url)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "served past --max-connections");
    // At the header timeout the silent ones are closed, and clients are served again.
    for stream in &mut silent {
        assert!(
            closed_by_server(stream, Duration::from_secs(5)),
            "a silent connection outlived the header timeout"
        );
    }
    let ok = curl(&server, "/", &[]);
    assert_eq!((ok.status, ok.body.as_str()), (200, "ok\n"));
    assert!(
        server.log().contains("(`--max-connections`)"),
        "{}",
        server.log()
    );
}

/// The access log is written by a thread of its own: a stderr nobody reads (a full pipe) does
/// not hold up requests, and every request is accounted for, logged or counted as dropped.
#[test]
fn a_blocked_log_does_not_hold_up_requests() {
    use std::io::Read as _;
    let temp = tempdir();
    let addr = format!("127.0.0.1:{}", support::free_port());
    let mut child = support::wcomp(temp.path())
        .args(["--format", "json", "serve"])
        .arg(http_component())
        .args(["--addr", &addr])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // 1,500 requests on one keep-alive connection, about 200 KB of log: three times what a
    // pipe holds, and nobody reads the pipe meanwhile.
    let requests = 1500;
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "--max-time",
            "60",
            "-w",
            "%{http_code}\n",
        ])
        .arg(format!("http://{addr}/?n=[1-{requests}]"))
        .output()
        .unwrap();
    let codes = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        codes.lines().filter(|code| *code == "200").count(),
        requests
    );
    support::sigterm(&child);
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let logged = self::requests(&log).len();
    let stopped = summary(&log);
    let dropped = stopped["log_dropped"].as_u64().unwrap();
    assert_eq!(stopped["requests"].as_u64(), Some(requests as u64));
    assert_eq!(logged as u64 + dropped, requests as u64, "{stopped}");
}

/// A client that half-closes its connection once its request is out still gets the answer; a
/// request whose client goes away before the answer still gets its access-log line, and the
/// summary counts every request.
#[test]
fn half_closed_clients_are_answered_and_vanished_ones_logged() {
    use std::io::{Read as _, Write as _};
    let temp = tempdir();
    let mut server = Server::start(temp.path(), http_component(), &[]);
    let addr = server.addr();
    for _ in 0..4 {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .write_all(b"GET /sleep?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    }
    for _ in 0..4 {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .write_all(b"GET /sleep?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(stream);
    }
    // HTTP/2 clients that give up: the server drops their streams before any answer.
    for _ in 0..2 {
        let _ = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "--http2-prior-knowledge",
                "--max-time",
                "0.3",
            ])
            .arg(format!("{}sleep?ms=2000", server.url))
            .status();
    }
    std::thread::sleep(Duration::from_millis(800));
    server.terminate();
    assert_eq!(server.wait(), Some(0));
    let log = server.log();
    let records = requests(&log);
    let dropped = records
        .iter()
        .filter(|r| r["path"] == "/sleep?ms=2000" && r["status"] == 499);
    assert_eq!(dropped.count(), 2, "{log}");
    let answered = records
        .iter()
        .filter(|r| r["path"] == "/sleep?ms=100" && r["status"] == 200);
    assert_eq!(answered.count(), 4, "{log}");
    // Whether the server noticed before answering (499) or answered into a closed socket,
    // each has its line.
    let gone = records.iter().filter(|r| r["path"] == "/sleep?ms=300");
    assert_eq!(gone.count(), 4, "{log}");
    let stopped = summary(&log);
    assert_eq!(stopped["requests"], 10, "{stopped}");
}

/// Whether the server ends `stream` within `within`, whatever it sends first.
fn ended_by_server(stream: &mut std::net::TcpStream, within: Duration) -> bool {
    use std::io::Read as _;
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        stream
            .set_read_timeout(Some(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            ))
            .unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) => return err.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
    false
}

/// An HTTP/2 connection whose first HEADERS frame never finishes is closed at the header
/// timeout, as an HTTP/1 one is.
#[test]
fn an_unfinished_http2_headers_frame_is_closed_at_the_header_timeout() {
    use std::io::Write as _;
    let temp = tempdir();
    let server = Server::start(temp.path(), http_component(), &["--header-timeout", "2s"]);
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .unwrap();
    // An empty SETTINGS frame, then a HEADERS frame announcing 100 bytes and sending 10.
    stream.write_all(&[0, 0, 0, 0x04, 0, 0, 0, 0, 0]).unwrap();
    stream
        .write_all(&[0, 0, 100, 0x01, 0x04, 0, 0, 0, 1])
        .unwrap();
    stream.write_all(&[0x82; 10]).unwrap();
    assert!(
        ended_by_server(&mut stream, Duration::from_secs(6)),
        "the connection outlived the header timeout"
    );
    assert_eq!(curl(&server, "/", &["--http2-prior-knowledge"]).status, 200);
}

/// A guest that traps after its response has begun (here while it writes its body): the
/// response is aborted, never passed off as whole, and its log line carries the trap and its
/// wasm backtrace, as a trap before the response does, beside the note that it was cut short.
#[test]
fn a_trap_mid_body_is_logged_with_its_error() {
    trap_mid_body_is_logged(http_component(), &[]);
}

/// The same of a WASI 0.3 handler, on a reused instance and on a fresh one: the trap reaches
/// the request's line although its response went out before the instance failed.
#[test]
fn a_trap_mid_body_of_a_wasi_0_3_handler_is_logged_with_its_error() {
    trap_mid_body_is_logged(service_component(), &[]);
    trap_mid_body_is_logged(service_component(), &["--reuse", "1"]);
}

fn trap_mid_body_is_logged(component: &Path, args: &[&str]) {
    let temp = tempdir();
    let server = Server::start(temp.path(), component, args);
    // The head goes out with the first piece of the body, if at all: the client may see
    // nothing, but never a complete response.
    let out = Command::new("curl")
        .args(["-s", "--max-time", "60", "-o", "/dev/null"])
        .arg(format!("{}trap-mid-body", server.url))
        .status()
        .unwrap();
    assert!(!out.success(), "curl took the cut body for a whole one");
    assert_eq!(curl(&server, "/", &[]).status, 200);

    let log = server.log_when("2 requests", |records| records.len() >= 2);
    let records = requests(&log);
    let trap = records
        .iter()
        .find(|r| r["path"] == "/trap-mid-body")
        .expect(&log);
    assert_eq!(trap["status"], 200, "{trap}");
    let error = trap["error"].as_str().unwrap_or_else(|| panic!("{trap}"));
    assert!(error.contains("the guest trapped"), "{trap}");
    assert!(error.contains("wasm backtrace"), "{trap}");
    assert_eq!(trap["note"], "the response was cut short", "{trap}");
    let ok = records.iter().find(|r| r["path"] == "/").expect(&log);
    assert!(ok["error"].is_null(), "{ok}");
}

/// `--metrics`: a Prometheus scrape on its own address sees requests by status, their
/// latency and instantiation, and what is in use while a request runs and after it ends.
#[test]
fn metrics_count_requests_and_show_what_is_in_use() {
    let temp = tempdir();
    let server = Server::start(temp.path(), http_component(), &["--metrics", "127.0.0.1:0"]);
    let metrics = server
        .metrics
        .clone()
        .expect("the serving line names the metrics");
    assert_ne!(metrics, format!("{}metrics", server.url));
    assert_eq!(curl(&server, "/", &[]).status, 200);
    assert_eq!(curl(&server, "/", &[]).status, 200);
    assert_eq!(curl(&server, "/trap", &[]).status, 500);

    // While a request sleeps in its guest: one guest slot, one instance, one connection.
    let in_flight = sleeping_request(&server, 2000);
    let during = scrape(&metrics);
    assert_eq!(
        metric(&during, "wcomp_guests_running"),
        Some(1.0),
        "{during}"
    );
    assert_eq!(metric(&during, "wcomp_instances"), Some(1.0), "{during}");
    assert_eq!(
        metric(&during, "wcomp_connections_open"),
        Some(1.0),
        "{during}"
    );
    assert_eq!(metric(&during, "wcomp_queue_length"), Some(0.0), "{during}");
    assert!(in_flight.join().unwrap().status.success());

    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let text = scrape(&metrics);
        if metric(&text, "wcomp_http_request_duration_seconds_count") == Some(4.0)
            || Instant::now() > deadline
        {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let code = |code: u16| {
        metric(
            &after,
            &format!("wcomp_http_requests_total{{code=\"{code}\"}}"),
        )
    };
    assert_eq!(code(200), Some(3.0), "{after}");
    assert_eq!(code(500), Some(1.0), "{after}");
    assert_eq!(
        metric(&after, "wcomp_http_request_duration_seconds_count"),
        Some(4.0),
        "{after}"
    );
    assert_eq!(
        metric(&after, "wcomp_instantiation_seconds_count"),
        Some(4.0),
        "{after}"
    );
    // Every observation falls in some bucket: the last one counts them all.
    assert_eq!(
        metric(&after, "wcomp_instantiation_seconds_bucket{le=\"+Inf\"}"),
        Some(4.0),
        "{after}"
    );
    assert_eq!(metric(&after, "wcomp_guests_running"), Some(0.0), "{after}");
    assert_eq!(metric(&after, "wcomp_instances"), Some(0.0), "{after}");
    assert_eq!(
        metric(&after, "wcomp_access_log_dropped_total"),
        Some(0.0),
        "{after}"
    );
    assert!(
        metric(&after, "process_resident_memory_bytes").unwrap() > 1e6,
        "{after}"
    );
    assert!(after.ends_with("# EOF\n"), "{after}");

    // Only `GET /metrics` (and HEAD) is answered there.
    let other = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(metrics.replace("/metrics", "/"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&other.stdout), "404");
    let post = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            &metrics,
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&post.stdout), "405");
}
