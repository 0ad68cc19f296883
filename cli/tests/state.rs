//! State and configuration end to end: `wasi:keyvalue` on the embedded store, in memory and on
//! a real `redis-server` (started here on a free loopback port), and `wasi:config`, with a
//! real Rust guest (`tests/state/prober.rs`) under `wcomp run`, and the Rust HTTP template's
//! keyvalue counter (`--with keyvalue`, `GET /visits`) under `wcomp serve`: across restarts,
//! `kill -9` under load, two servers sharing one Redis, and Redis stopped and restarted under
//! load.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use support::server::Server;
use support::{Run, free_port, repo_root, run, tempdir, wcomp};

/// The prober component, built once per test run.
fn prober() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root().join("target/test-fixtures/state");
        let files = ("state", "state.wit", "prober", "prober.rs");
        support::build_rust_wit_fixture(&root, "prober", files)
    })
}

/// The Rust HTTP template with `--with keyvalue`: `GET /visits` increments `visits` in the
/// bucket `default` and answers `<n> visits`.
fn counter() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root().join("target/test-fixtures/state");
        let _ = std::fs::remove_dir_all(root.join("counter"));
        std::fs::create_dir_all(&root).unwrap();
        run(
            &root,
            &[
                "new",
                "counter",
                "--lang",
                "rust",
                "--template",
                "http",
                "--with",
                "keyvalue",
            ],
        )
        .success();
        let project = root.join("counter");
        let manifest = project.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        if !text.contains("[workspace]") {
            std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
        }
        let out = run(&project, &["build"]).success();
        PathBuf::from(out.stdout.trim())
    })
}

/// `wcomp run <prober> --invoke <call> <flags>` in `cwd`.
fn probe(cwd: &Path, call: &str, flags: &[&str]) -> Run {
    let prober = prober().to_str().unwrap().to_owned();
    let mut args = vec!["run", &prober, "--invoke", call];
    args.extend_from_slice(flags);
    run(cwd, &args)
}

/// A `redis-server` on a loopback port, nothing saved to disk; killed when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Self {
        Self::on(free_port())
    }

    /// A Redis on `port`, once it answers `PING`.
    fn on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/install-deps.sh)");
        let redis = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !redis.answers() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn answers(&self) -> bool {
        self.command("PING\r\n")
            .is_some_and(|reply| reply.starts_with("+PONG"))
    }

    /// One inline command, and Redis's raw reply.
    fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream.write_all(command.as_bytes()).ok()?;
        let mut reply = [0; 512];
        let n = stream.read(&mut reply).ok()?;
        Some(String::from_utf8_lossy(&reply[..n]).into_owned())
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What one `GET /visits` got: see [`visit`].
type Visit = Result<u64, Option<u16>>;

/// `GET /visits`: the count the server answered, or the status when it is not 200, or `None`
/// when the request failed (the server gone).
fn visit(url: &str) -> Visit {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "30", "-w", "\n%{http_code}"])
        .arg(format!("{}/visits", url.trim_end_matches('/')))
        .output()
        .expect("curl is installed (scripts/install-deps.sh)");
    if !out.status.success() {
        return Err(None);
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", ""));
    let status: u16 = status.trim().parse().unwrap_or(0);
    if status != 200 {
        return Err(Some(status));
    }
    body.trim()
        .strip_suffix(" visits")
        .and_then(|n| n.parse().ok())
        .ok_or(Some(status))
}

/// `threads` clients asking `GET /visits` of `urls` in turn until `stop`; every answer.
fn load(
    urls: Vec<String>,
    threads: usize,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<Visit>>> {
    (0..threads)
        .map(|thread| {
            let urls = urls.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                let mut turn = thread;
                while !stop.load(Ordering::Relaxed) {
                    answers.push(visit(&urls[turn % urls.len()]));
                    turn += 1;
                }
                answers
            })
        })
        .collect()
}

#[test]
fn buckets_are_denied_unless_granted_and_the_log_names_the_grant() {
    let temp = tempdir();
    let out = probe(temp.path(), r#"bump("default", "n", 1)"#, &[]).success();
    assert!(out.stdout.contains("NoSuchStore"), "{}", out.stdout);
    assert!(out.stderr.contains("`--kv default`"), "{}", out.stderr);
    // Another bucket than the one granted is still denied.
    let out = probe(
        temp.path(),
        r#"bump("other", "n", 1)"#,
        &["--kv", "default=memory"],
    )
    .success();
    assert!(out.stdout.contains("NoSuchStore"), "{}", out.stdout);
    // Nothing was written anywhere.
    assert!(!temp.path().join(".wcomp").exists());

    let out = probe(
        temp.path(),
        r#"bump("default", "n", 1)"#,
        &["--kv", "=memory"],
    )
    .failure(1);
    assert!(
        out.stderr.contains("invalid keyvalue grant"),
        "{}",
        out.stderr
    );
    let out = probe(
        temp.path(),
        r#"bump("default", "n", 1)"#,
        &["--kv", "default=redis://:hunter2@127.0.0.1:notaport/0"],
    )
    .failure(1);
    assert!(out.stderr.contains("not a Redis URL"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
}

#[test]
fn the_embedded_store_keeps_every_operation_across_runs() {
    let temp = tempdir();
    let dir = temp.path();
    let kv = ["--kv", "default"];
    assert_eq!(
        probe(dir, r#"bump("default", "n", 2)"#, &kv)
            .success()
            .stdout
            .trim(),
        "ok(2)"
    );
    assert_eq!(
        probe(dir, r#"bump("default", "n", 3)"#, &kv)
            .success()
            .stdout
            .trim(),
        "ok(5)"
    );
    // The default state directory of a lone component is `.wcomp/state` here.
    assert!(dir.join(".wcomp/state/keyvalue.sqlite3").is_file());
    assert_eq!(
        probe(dir, r#"get("default", "n")"#, &kv)
            .success()
            .stdout
            .trim(),
        r#"ok(some("5"))"#
    );
    probe(dir, r#"set("default", "word", "hello")"#, &kv).success();
    let out = probe(dir, r#"bump("default", "word", 1)"#, &kv).success();
    assert!(
        out.stdout.contains("not a decimal number"),
        "{}",
        out.stdout
    );
    assert_eq!(
        probe(dir, r#"exists("default", "word")"#, &kv)
            .success()
            .stdout
            .trim(),
        "ok(true)"
    );
    probe(dir, r#"remove("default", "word")"#, &kv).success();
    assert_eq!(
        probe(dir, r#"get("default", "word")"#, &kv)
            .success()
            .stdout
            .trim(),
        "ok(none)"
    );

    // More keys than one page of `list-keys`, through `set-many`; `get-many` of some.
    let entries: Vec<String> = (0..1005)
        .map(|i| format!(r#"("k{i:04}", "{i}")"#))
        .collect();
    let call = format!(
        r#"batch("many", [{}], ["k0000", "k1004", "missing"])"#,
        entries.join(", ")
    );
    let out = probe(dir, &call, &["--kv", "many"]).success();
    assert_eq!(out.stdout.trim(), r#"ok([some("0"), some("1004"), none])"#);
    let out = probe(dir, r#"keys("many")"#, &["--kv", "many"]).success();
    assert_eq!(out.stdout.matches("\"k").count(), 1005, "{}", out.stdout);
    probe(
        dir,
        r#"remove-many("many", ["k0000", "k0001"])"#,
        &["--kv", "many"],
    )
    .success();
    let out = probe(dir, r#"keys("many")"#, &["--kv", "many"]).success();
    assert_eq!(out.stdout.matches("\"k").count(), 1003);
    // Buckets are apart: `default` did not get `many`'s keys.
    let out = probe(dir, r#"keys("default")"#, &kv).success();
    assert_eq!(out.stdout.trim(), r#"ok(["n"])"#);

    // `--state-dir`, and the manifest's `[run.keyvalue]` and `state-dir`.
    let other = dir.join("elsewhere");
    probe(
        dir,
        r#"bump("default", "n", 1)"#,
        &["--kv", "default", "--state-dir", "elsewhere"],
    )
    .success();
    assert!(other.join("keyvalue.sqlite3").is_file());
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("wcomp.toml"),
        "[run]\nstate-dir = \"data\"\n\n[run.keyvalue]\ncounters = \"embedded\"\nscratch = \"memory\"\n",
    )
    .unwrap();
    let out = probe(&project, r#"bump("counters", "n", 7)"#, &["-v"]).success();
    assert_eq!(out.stdout.trim(), "ok(7)");
    assert!(project.join("data/keyvalue.sqlite3").is_file());
    assert!(
        out.stderr
            .contains("keyvalue bucket `counters` on the embedded store"),
        "{}",
        out.stderr
    );
    let out = probe(&project, r#"bump("scratch", "n", 1)"#, &[]).success();
    assert_eq!(out.stdout.trim(), "ok(1)");
}

#[test]
fn an_unwritable_state_directory_is_a_clear_error() {
    let temp = tempdir();
    std::fs::write(temp.path().join("file"), "").unwrap();
    let out = probe(
        temp.path(),
        r#"bump("default", "n", 1)"#,
        &["--kv", "default", "--state-dir", "file/state"],
    )
    .failure(1);
    assert!(
        out.stderr
            .contains("cannot open the embedded keyvalue store"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--state-dir"), "{}", out.stderr);
}

#[test]
fn config_comes_from_the_manifest_flags_and_environment_and_secrets_stay_out_of_logs() {
    let temp = tempdir();
    let dir = temp.path();
    std::fs::write(
        dir.join("wcomp.toml"),
        "[config]\ngreeting = \"hello\"\ntoken = { value = \"manifest-secret\", secret = true }\n",
    )
    .unwrap();
    let prober = prober().to_str().unwrap().to_owned();
    let out = wcomp(dir)
        .args(["-v", "run", &prober, "--invoke", "settings()"])
        .args(["--config", "greeting=hi", "--config", "mode=fast"])
        .args(["--config-env", "PROBE"])
        .env("PROBE_DB_URL", "env-secret")
        .output()
        .unwrap();
    let out = Run::from_output(out).success();
    assert_eq!(
        out.stdout.trim(),
        r#"ok([("db_url", "env-secret"), ("greeting", "hi"), ("mode", "fast"), ("token", "manifest-secret")])"#
    );
    assert!(
        out.stderr.contains("config: `token` (secret, not shown)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("config: `db_url` (secret, not shown)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("config: `mode` = \"fast\""),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("env-secret"), "{}", out.stderr);
    assert!(!out.stderr.contains("manifest-secret"), "{}", out.stderr);
    assert_eq!(
        probe(dir, r#"setting("missing")"#, &[])
            .success()
            .stdout
            .trim(),
        "ok(none)"
    );
    let out = probe(dir, r#"setting("x")"#, &["--config", "novalue"]).failure(1);
    assert!(out.stderr.contains("missing `=<value>`"), "{}", out.stderr);
}

#[test]
fn redis_buckets_hold_every_operation_and_a_missing_redis_is_an_error_not_a_trap() {
    let temp = tempdir();
    let dir = temp.path();
    let redis = Redis::start();
    let grant = format!("shared={}", redis.url());
    let kv = ["--kv", grant.as_str()];
    assert_eq!(
        probe(dir, r#"bump("shared", "n", 2)"#, &kv)
            .success()
            .stdout
            .trim(),
        "ok(2)"
    );
    assert_eq!(
        probe(dir, r#"bump("shared", "n", 2)"#, &kv)
            .success()
            .stdout
            .trim(),
        "ok(4)"
    );
    // Counters are Redis's own decimal text.
    assert_eq!(redis.command("GET n\r\n").unwrap(), "$1\r\n4\r\n");
    let out = probe(
        dir,
        r#"batch("shared", [("a", "1"), ("b", "2")], ["a", "b", "c"])"#,
        &kv,
    )
    .success();
    assert_eq!(out.stdout.trim(), r#"ok([some("1"), some("2"), none])"#);
    let out = probe(dir, r#"keys("shared")"#, &kv).success();
    for key in ["\"a\"", "\"b\"", "\"n\""] {
        assert!(out.stdout.contains(key), "{}", out.stdout);
    }
    probe(dir, r#"remove-many("shared", ["a", "b"])"#, &kv).success();
    assert_eq!(
        probe(dir, r#"exists("shared", "a")"#, &kv)
            .success()
            .stdout
            .trim(),
        "ok(false)"
    );

    // Nothing listens: the guest gets the keyvalue error and returns normally.
    let gone = format!("shared=redis://127.0.0.1:{}/0", free_port());
    let out = probe(dir, r#"bump("shared", "n", 1)"#, &["--kv", &gone]).success();
    assert!(out.stdout.starts_with("err("), "{}", out.stdout);
    assert!(out.stdout.contains("unavailable"), "{}", out.stdout);
    assert!(out.stderr.contains("lost Redis"), "{}", out.stderr);
}

#[test]
fn served_counts_survive_a_restart_and_kill_9_under_load() {
    let temp = tempdir();
    let dir = temp.path();
    let component = counter();
    let mut server = Server::start(dir, component, &["--kv", "default"]);
    for expected in 1..=3 {
        assert_eq!(visit(&server.url), Ok(expected));
    }
    server.terminate();
    assert_eq!(server.wait(), Some(0));
    let server = Server::start(dir, component, &["--kv", "default"]);
    assert_eq!(visit(&server.url), Ok(4), "kept across a graceful restart");

    // Four clients at once, then `kill -9` in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(vec![server.url.clone()], 4, stop.clone());
    std::thread::sleep(Duration::from_millis(1500));
    let mut server = server;
    server.child.kill().unwrap();
    let _ = server.child.wait();
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<_> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let counts: Vec<u64> = answers.iter().filter_map(|a| a.ok()).collect();
    assert!(
        counts.len() > 10,
        "too few requests were answered: {answers:?}"
    );
    // Atomic across concurrent requests: no count was handed out twice.
    let mut unique = counts.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), counts.len(), "a count was given twice");
    let highest = *counts.iter().max().unwrap();

    let server = Server::start(dir, component, &["--kv", "default"]);
    let next = visit(&server.url).unwrap();
    assert!(
        next > highest,
        "after kill -9 the count went back: {next} after {highest} was answered"
    );
}

#[test]
fn two_servers_on_one_redis_count_every_increment() {
    let temp = tempdir();
    let redis = Redis::start();
    let grant = format!("default={}", redis.url());
    let component = counter();
    let a = Server::start(temp.path(), component, &["--kv", &grant]);
    let b = Server::start(temp.path(), component, &["--kv", &grant]);
    let per_client = 40;
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let urls = [a.url.clone(), b.url.clone()];
            std::thread::spawn(move || {
                (0..per_client)
                    .map(|i| visit(&urls[(client + i) % 2]).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut counts: Vec<u64> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    counts.sort_unstable();
    let total = 4 * per_client as u64;
    assert_eq!(
        counts,
        (1..=total).collect::<Vec<_>>(),
        "every increment counted once"
    );
    assert_eq!(visit(&a.url), Ok(total + 1));
    assert_eq!(visit(&b.url), Ok(total + 2));
}

#[test]
fn redis_stopped_and_restarted_under_load_gives_errors_then_reconnects() {
    let temp = tempdir();
    let mut redis = Redis::start();
    let port = redis.port;
    let grant = format!("default={}", redis.url());
    let server = Server::start(temp.path(), counter(), &["--kv", &grant]);
    assert_eq!(visit(&server.url), Ok(1));

    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(vec![server.url.clone()], 3, stop.clone());
    std::thread::sleep(Duration::from_millis(500));
    redis.kill();
    std::thread::sleep(Duration::from_millis(1000));
    // While Redis is gone the handler answers its own error (503), never a trap (500).
    let during = visit(&server.url);
    assert_eq!(during, Err(Some(503)), "{during:?}");
    let redis = Redis::on(port);
    let deadline = Instant::now() + Duration::from_secs(20);
    let counted = Arc::new(AtomicU64::new(0));
    while Instant::now() < deadline {
        if let Ok(n) = visit(&server.url) {
            counted.store(n, Ordering::Relaxed);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        counted.load(Ordering::Relaxed) > 0,
        "no request succeeded after Redis came back"
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<_> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(
        answers.iter().all(|a| matches!(a, Ok(_) | Err(Some(503)))),
        "only counts and the handler's 503s: {answers:?}"
    );
    assert!(answers.iter().any(|a| a.is_ok()));
    assert!(answers.contains(&Err(Some(503))));
    assert!(redis.answers());
    let log = server.log();
    assert!(log.contains("lost Redis"), "{log}");
    assert!(log.contains("answers again"), "{log}");
}
