//! `wcomp serve` under faults, over real sockets: guests that trap, spin past `--timeout` and
//! run out of `--max-memory` while other clients keep asking `GET /`, and clients that vanish
//! halfway through sending a request or reading a response. What must hold: every fault is
//! answered with its own status (500, 504) and no other request is failed or held up past a
//! bound; the server's memory does not grow with vanished clients; and on `SIGTERM` it exits 0
//! with every request in its access log. Each test is bounded in requests (a few hundred) and
//! in time (under 30 s once the fixture is built). `benches/faults.sh` measures the same
//! faults' cost in throughput with a release build.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::server::{Server, requests, summary};
use support::tempdir;

/// The longest any one test's faults may take, fixture build and server start aside.
const TEST_TIME: Duration = Duration::from_secs(30);

/// The response a vanishing client asks for and leaves unread, in KiB.
const BIG_KIB: u64 = 16 << 10;

/// The longest a `GET /` may take while other clients fault.
const ANSWER_TIME: Duration = Duration::from_secs(5);

/// The fixture handler (`tests/e2e/http/server.rs`: `/trap`, `/spin`, `/hoard?mib=N`,
/// `/big?kib=N`, `/echo`) on the Rust HTTP template, built once for the tests here, in
/// `target/test-fixtures/faults/`.
fn fixture() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| support::server::build_http_fixture("faults"))
}

/// A connection to `addr` that gives up reading after 30 s.
fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// `GET path` on a connection of its own, read to the end: the status (0 when the connection
/// ended without one) and how long the answer took.
fn get(addr: &str, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = connect(addr);
    let request = format!("GET {path} HTTP/1.1\r\nHost: faults\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let status = String::from_utf8_lossy(&answer)
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3)?.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

/// A client that announces a 100,000-byte body to `/echo`, sends 10 bytes of it, and closes.
fn vanish_mid_request(addr: &str) {
    let mut stream = connect(addr);
    let head = "POST /echo HTTP/1.1\r\nHost: faults\r\nContent-Length: 100000\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&[b'x'; 10]).unwrap();
    // Long enough for the guest to be waiting for the rest.
    std::thread::sleep(Duration::from_millis(5));
}

/// A client that asks for [`BIG_KIB`] KiB (more than loopback's socket buffers hold: 4 MiB
/// to send, what the reader took to receive), reads the first 64 KiB, and closes with the
/// rest unread.
fn vanish_mid_response(addr: &str) {
    let mut stream = connect(addr);
    let request = format!("GET /big?kib={BIG_KIB} HTTP/1.1\r\nHost: faults\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let _ = (&mut stream).take(64 << 10).read_to_end(&mut head);
    let text = String::from_utf8_lossy(&head[..head.len().min(200)]);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text:?}");
}

/// `GET /` `count` times, one after another: the status and time of each.
fn ask_root(addr: &str, count: usize) -> Vec<(u16, Duration)> {
    (0..count).map(|_| get(addr, "/")).collect()
}

/// Whether every one of `answers` is a 200 within [`ANSWER_TIME`]; `when` says what was going
/// on.
#[track_caller]
fn assert_all_answered(answers: &[(u16, Duration)], when: &str) {
    let mut times: Vec<Duration> = answers.iter().map(|(_, took)| *took).collect();
    times.sort();
    let failed: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status != 200)
        .collect();
    let slowest = times.last().copied().unwrap_or_default();
    assert!(
        failed.is_empty() && slowest <= ANSWER_TIME,
        "`GET /` {when}: {} answers, {} not 200 ({failed:?}); median {:?}, slowest {slowest:?}",
        answers.len(),
        failed.len(),
        times[times.len() / 2],
    );
}

/// `path` asked again and again on connections of their own until `stop` (at most `most`
/// times): the statuses.
fn hammer(
    addr: &str,
    path: &'static str,
    most: usize,
    stop: &Arc<AtomicBool>,
) -> JoinHandle<Vec<u16>> {
    let addr = addr.to_owned();
    let stop = stop.clone();
    std::thread::spawn(move || {
        (0..most)
            .map_while(|_| (!stop.load(Ordering::Relaxed)).then(|| get(&addr, path).0))
            .collect()
    })
}

/// The server's resident memory, in KiB.
fn resident_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// Waits until the server's access log has `count` request lines (each vanished client's is
/// written when the server notices it gone).
fn wait_for_lines(server: &Server, count: usize) {
    server.log_when(&format!("{count} requests"), |records| {
        records.len() >= count
    });
}

/// Under a steady stream of traps, spinning guests (cut at `--timeout 1s`) and guests that
/// allocate past `--max-memory 32MiB`, each answered with its own status, 100 plain `GET /`
/// requests all answer 200 within [`ANSWER_TIME`].
#[test]
fn faulting_guests_leave_other_requests_answered() {
    let temp = tempdir();
    let args = ["--timeout", "1s", "--max-memory", "32MiB"];
    let server = Server::start(temp.path(), fixture(), &args);
    let addr = server.addr();
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    // (path, its status, most requests): two spinners keep two guests spinning throughout.
    let faults = [
        ("/trap", 500, 300),
        ("/hoard?mib=64", 500, 300),
        ("/hoard?mib=8", 200, 300),
        ("/spin", 504, 30),
        ("/spin", 504, 30),
    ];
    let loaders: Vec<_> = faults
        .iter()
        .map(|(path, _, most)| hammer(&addr, path, *most, &stop))
        .collect();
    // Until the spinners have a guest each.
    std::thread::sleep(Duration::from_millis(300));
    let answers = ask_root(&addr, 100);
    stop.store(true, Ordering::Relaxed);
    let statuses: Vec<Vec<u16>> = loaders.into_iter().map(|l| l.join().unwrap()).collect();
    assert_all_answered(&answers, "under faults");
    for ((path, expected, _), statuses) in faults.iter().zip(&statuses) {
        assert!(!statuses.is_empty(), "no {path} was answered");
        assert!(
            statuses.iter().all(|status| status == expected),
            "{path}: {statuses:?}"
        );
    }
    assert!(started.elapsed() < TEST_TIME, "{:?}", started.elapsed());

    let log = server.log();
    let records = requests(&log);
    let trap = records.iter().find(|r| r["path"] == "/trap").expect(&log);
    let error = trap["error"].as_str().unwrap_or_default();
    assert!(error.contains("the guest trapped"), "{trap}");
    let spin = records.iter().find(|r| r["path"] == "/spin").expect(&log);
    assert_eq!(spin["status"], 504, "{spin}");
}

/// 300 clients that vanish, half while sending a request body and half while reading a
/// 16 MiB response, leave `GET /` answered meanwhile and the server's memory where it was
/// after a warm-up (within 20 MiB); `SIGTERM` then stops it with exit code 0 and a log line
/// for every request.
#[test]
fn vanishing_clients_cost_nothing_that_stays() {
    const WARM_UP: usize = 50;
    const VANISHING: usize = 150;
    const GROWTH_KIB: u64 = 20 << 10;
    let temp = tempdir();
    let mut server = Server::start(temp.path(), fixture(), &[]);
    let addr = server.addr();
    let started = Instant::now();
    for _ in 0..WARM_UP {
        vanish_mid_request(&addr);
        vanish_mid_response(&addr);
    }
    let mut sent = 2 * WARM_UP;
    wait_for_lines(&server, sent);
    let before = resident_kib(&server);

    let asker = {
        let addr = addr.clone();
        std::thread::spawn(move || ask_root(&addr, 100))
    };
    for _ in 0..VANISHING {
        vanish_mid_request(&addr);
        vanish_mid_response(&addr);
    }
    let answers = asker.join().unwrap();
    assert_all_answered(&answers, "among vanishing clients");
    sent += 2 * VANISHING + answers.len();
    wait_for_lines(&server, sent);
    let after = resident_kib(&server);
    assert!(
        after <= before + GROWTH_KIB,
        "RSS grew from {before} KiB to {after} KiB over {} vanished clients",
        2 * VANISHING
    );
    assert!(started.elapsed() < TEST_TIME, "{:?}", started.elapsed());

    server.terminate();
    assert_eq!(server.wait(), Some(0), "{}", server.log());
    let log = server.log();
    let logged = requests(&log).len();
    let stopped = summary(&log);
    assert_eq!(stopped["requests"], logged, "{stopped}");
    assert_eq!(logged, sent, "{stopped}");
    let records = requests(&log);
    let big = format!("/big?kib={BIG_KIB}");
    let cut = records
        .iter()
        .filter(|r| r["path"] == big.as_str())
        .filter(|r| r["bytes"].as_u64() < Some(BIG_KIB << 10))
        .collect::<Vec<_>>();
    assert_eq!(cut.len(), WARM_UP + VANISHING, "{log}");
    // A response cut short still carries its guest's figures: its line waits for the report.
    for record in &cut {
        assert!(record["guest_us"].is_number(), "{record}");
        assert!(record["memory"].as_u64() > Some(BIG_KIB << 10), "{record}");
    }
    assert!(
        stopped["max_memory_per_instance"].as_u64() > Some(BIG_KIB << 10),
        "{stopped}"
    );
}
