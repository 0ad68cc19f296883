//! The runner as a sandbox, end to end with a real Rust guest (`tests/sandbox/prober.rs`,
//! built by `wcomp build`) that tries each capability: files, environment, sockets, name
//! lookup, memory and time. Also the compiled-code cache: hits, corrupt entries, entries
//! copied under another component's name, concurrent cold runs, `--no-cache` and
//! `wcomp cache clean`.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use support::{Run, repo_root, run, tempdir, wcomp};

/// The prober component, built once per test run.
fn prober() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root().join("target").join("test-guests");
        let files = ("sandbox", "probe.wit", "prober", "prober.rs");
        support::build_rust_wit_fixture(&root, "prober", files)
    })
}

/// `wcomp run <prober> --invoke <call> <flags>` in `cwd`.
fn probe(cwd: &Path, call: &str, flags: &[&str]) -> Run {
    let prober = prober().to_str().unwrap().to_owned();
    let mut args = vec!["run", &prober, "--invoke", call];
    args.extend_from_slice(flags);
    run(cwd, &args)
}

#[test]
fn files_are_invisible_without_dir_and_read_only_unless_rw() {
    let temp = tempdir();
    let dir = temp.path();
    std::fs::create_dir(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/hello.txt"), "secret\n").unwrap();
    let host_file = dir.join("data/hello.txt");

    // Neither the absolute host path nor a relative one is reachable without a grant.
    let out = probe(
        dir,
        &format!("read-file({:?})", host_file.to_str().unwrap()),
        &[],
    )
    .success();
    assert!(out.stdout.starts_with("err("), "{}", out.stdout);
    let out = probe(dir, r#"read-file("data/hello.txt")"#, &[]).success();
    assert!(out.stdout.starts_with("err("), "{}", out.stdout);

    let out = probe(
        dir,
        r#"read-file("/data/hello.txt")"#,
        &["--dir", "data::/data"],
    )
    .success();
    assert_eq!(out.stdout, "ok(\"secret\\n\")\n");
    // The guest path defaults to the host path as written.
    let out = probe(dir, r#"read-file("data/hello.txt")"#, &["--dir", "data"]).success();
    assert_eq!(out.stdout, "ok(\"secret\\n\")\n");

    // Read-only unless `:rw`.
    let out = probe(
        dir,
        r#"write-file("/data/new.txt", "x")"#,
        &["--dir", "data::/data"],
    )
    .success();
    assert!(out.stdout.starts_with("err("), "{}", out.stdout);
    assert!(!dir.join("data/new.txt").exists());
    let out = probe(
        dir,
        r#"write-file("/data/new.txt", "written by the guest")"#,
        &["--dir", "data::/data:rw"],
    )
    .success();
    assert_eq!(out.stdout, "ok\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("data/new.txt")).unwrap(),
        "written by the guest"
    );

    // A grant of a missing directory is refused with the path.
    let out = probe(dir, r#"read-file("/x")"#, &["--dir", "missing::/x"]).failure(1);
    assert!(out.stderr.contains("cannot grant"), "{}", out.stderr);
    assert!(out.stderr.contains("missing"), "{}", out.stderr);
}

#[test]
fn the_environment_is_empty_unless_granted() {
    let temp = tempdir();
    let dir = temp.path();
    // The test process has variables (PATH at least); the guest sees none of them.
    assert!(std::env::var_os("PATH").is_some());
    let out = probe(dir, "env-count()", &[]).success();
    assert_eq!(out.stdout, "0\n");
    let out = probe(dir, r#"get-env("PATH")"#, &[]).success();
    assert_eq!(out.stdout, "none\n");

    let out = wcomp(dir)
        .env("WCOMP_PROBE", "from the host")
        .args([
            "run",
            prober().to_str().unwrap(),
            "--invoke",
            r#"get-env("WCOMP_PROBE")"#,
        ])
        .args(["--env", "WCOMP_PROBE"])
        .output()
        .unwrap();
    let out = Run::from_output(out).success();
    assert_eq!(out.stdout, "some(\"from the host\")\n");
    let out = probe(dir, r#"get-env("MODE")"#, &["--env", "MODE=fast"]).success();
    assert_eq!(out.stdout, "some(\"fast\")\n");
    let out = probe(dir, "env-count()", &["--env", "MODE=fast"]).success();
    assert_eq!(out.stdout, "1\n");

    let out = probe(dir, "env-count()", &["--env", "=x"]).failure(1);
    assert!(
        out.stderr.contains("invalid environment grant `=x`"),
        "{}",
        out.stderr
    );
}

#[test]
fn sockets_and_name_lookup_are_denied_without_allow_net() {
    let temp = tempdir();
    let dir = temp.path();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let call = format!("connect({addr:?})");

    let out = probe(dir, &call, &["-v"]).success();
    assert!(out.stdout.starts_with("err("), "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!(
            "denied TCP connect to {addr} (grant it with `--allow-net {addr}`)"
        )),
        "{}",
        out.stderr
    );
    // Another port of the same host is not covered by a grant.
    let other = format!("127.0.0.1:{}", listener.local_addr().unwrap().port() ^ 1);
    let out = probe(dir, &call, &["--allow-net", &other]).success();
    assert!(out.stdout.starts_with("err("), "{}", out.stdout);

    let out = probe(dir, &call, &["--allow-net", &addr]).success();
    assert_eq!(out.stdout, "ok\n");
    listener.set_nonblocking(true).unwrap();
    let accepted = (0..50).find_map(|_| match listener.accept() {
        Ok((stream, _)) => Some(stream),
        Err(_) => {
            std::thread::sleep(Duration::from_millis(20));
            None
        }
    });
    let mut stream = accepted.expect("the guest's connection reached the host listener");
    let mut rest = Vec::new();
    stream.set_nonblocking(false).unwrap();
    stream.read_to_end(&mut rest).unwrap();

    let out = probe(dir, r#"lookup("localhost")"#, &[]).success();
    assert!(out.stdout.starts_with("err("), "{}", out.stdout);
    let out = probe(
        dir,
        r#"lookup("localhost")"#,
        &["--allow-net", "localhost:80"],
    )
    .success();
    assert!(out.stdout.starts_with("ok("), "{}", out.stdout);

    let out = probe(dir, &call, &["--allow-net", "localhost"]).failure(1);
    assert!(
        out.stderr
            .contains("invalid network grant `localhost`: missing `:<port>`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_real_allocator_stops_at_the_memory_cap() {
    let temp = tempdir();
    let out = probe(temp.path(), "allocate(200)", &["--max-memory", "32MiB"]).failure(122);
    assert!(
        out.stderr
            .contains("error: guest exceeded its memory limit of 32 MiB"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: raise it with `--max-memory"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let out = probe(temp.path(), "allocate(8)", &["--max-memory", "32MiB"]).success();
    assert_eq!(out.stdout, "8\n");
}

#[test]
fn an_endless_guest_is_stopped_by_the_timeout() {
    let temp = tempdir();
    let started = std::time::Instant::now();
    let out = probe(temp.path(), "spin()", &["--timeout", "300ms"]).failure(124);
    assert!(
        out.stderr
            .contains("error: guest exceeded its time limit of 300ms"),
        "{}",
        out.stderr
    );
    // Generous: the point is that it ended, not how precisely (no timing assertions).
    assert!(started.elapsed() < Duration::from_secs(60));
    // A guest blocked in the host (sleeping) cannot be interrupted; the run still ends, with
    // the same message, soon after the limit instead of when the sleep would.
    let started = std::time::Instant::now();
    let out = probe(temp.path(), "sleep(600000)", &["--timeout", "300ms"]).failure(124);
    assert!(
        out.stderr
            .contains("error: guest exceeded its time limit of 300ms"),
        "{}",
        out.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(300));
    let out = probe(temp.path(), "spin()", &["--fuel", "1000000"]).failure(123);
    assert!(
        out.stderr
            .contains("guest ran out of fuel after 1000000 units"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_grants_and_limits_come_from_wcomp_toml() {
    let temp = tempdir();
    let dir = temp.path();
    std::fs::create_dir(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/hello.txt"), "from the manifest").unwrap();
    std::fs::write(
        dir.join("wcomp.toml"),
        "[run]\ndirs = [\"data::/data\"]\nenv = [\"MODE=toml\"]\ntimeout = \"300ms\"\n",
    )
    .unwrap();
    let out = probe(dir, r#"read-file("/data/hello.txt")"#, &[]).success();
    assert_eq!(out.stdout, "ok(\"from the manifest\")\n");
    // A subdirectory finds the manifest above it; relative grants are the manifest's.
    std::fs::create_dir(dir.join("sub")).unwrap();
    let out = probe(&dir.join("sub"), r#"get-env("MODE")"#, &[]).success();
    assert_eq!(out.stdout, "some(\"toml\")\n");
    // Flags override the manifest's values and limits.
    let out = probe(dir, r#"get-env("MODE")"#, &["--env", "MODE=flag"]).success();
    assert_eq!(out.stdout, "some(\"flag\")\n");
    let out = probe(dir, "spin()", &[]).failure(124);
    assert!(out.stderr.contains("time limit of 300ms"), "{}", out.stderr);

    std::fs::write(dir.join("wcomp.toml"), "[run]\nmax-memory = \"a lot\"\n").unwrap();
    let out = probe(dir, "env-count()", &[]).failure(1);
    assert!(
        out.stderr.contains("invalid size `a lot`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("wcomp.toml:2:"), "{}", out.stderr);
}

/// The `compiled` event of a `--format json -v` run.
fn compiled_event(out: &Run) -> serde_json::Value {
    out.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|value| value["reason"] == "compiled")
        .unwrap_or_else(|| panic!("no compiled event in\n{}", out.stdout))
}

fn cached_run(cwd: &Path, cache: &Path, extra: &[&str]) -> Run {
    let out = wcomp(cwd)
        .env("WCOMP_CACHE_DIR", cache)
        .args(["--format", "json", "-v", "run", prober().to_str().unwrap()])
        .args(["--invoke", r#"get-env("X")"#])
        .args(extra)
        .output()
        .unwrap();
    Run::from_output(out)
}

#[test]
fn the_second_run_loads_compiled_code_and_corrupt_entries_are_rebuilt() {
    let temp = tempdir();
    let cache = temp.path().join("cache");
    let first = cached_run(temp.path(), &cache, &[]).success();
    assert_eq!(compiled_event(&first)["cache"], "miss");
    let second = cached_run(temp.path(), &cache, &[]).success();
    let event = compiled_event(&second);
    assert_eq!(event["cache"], "hit");
    assert!(
        second
            .stdout
            .contains(r#"{"reason":"returned","results":["none"]}"#)
    );

    // Flip bytes in the middle of the entry: detected, compiled again, replaced.
    let entry = PathBuf::from(event["entry"].as_str().unwrap());
    assert!(entry.starts_with(&cache), "{}", entry.display());
    let mut data = std::fs::read(&entry).unwrap();
    let middle = data.len() / 2;
    for byte in &mut data[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    std::fs::write(&entry, &data).unwrap();
    let rebuilt = cached_run(temp.path(), &cache, &[]).success();
    assert_eq!(compiled_event(&rebuilt)["cache"], "rebuilt");
    assert_eq!(
        compiled_event(&cached_run(temp.path(), &cache, &[]).success())["cache"],
        "hit"
    );

    // A truncated entry (a crash mid-write on another system) likewise.
    let data = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &data[..data.len() / 3]).unwrap();
    let rebuilt = cached_run(temp.path(), &cache, &[]).success();
    assert_eq!(compiled_event(&rebuilt)["cache"], "rebuilt");

    // A different engine configuration (fuel metering) is a different entry.
    let fueled = cached_run(temp.path(), &cache, &["--fuel", "100000000"]).success();
    assert_eq!(compiled_event(&fueled)["cache"], "miss");

    let bypass = cached_run(temp.path(), &cache, &["--no-cache"]).success();
    assert_eq!(compiled_event(&bypass)["cache"], "disabled");

    let cleaned = wcomp(temp.path())
        .env("WCOMP_CACHE_DIR", &cache)
        .args(["--format", "json", "cache", "clean"])
        .output()
        .unwrap();
    let cleaned = Run::from_output(cleaned).success();
    let message: serde_json::Value = serde_json::from_str(cleaned.stdout.trim()).unwrap();
    assert_eq!(message["reason"], "cache-cleaned");
    assert_eq!(message["entries"], 2);
    assert_eq!(
        compiled_event(&cached_run(temp.path(), &cache, &[]).success())["cache"],
        "miss"
    );
}

/// Writes `dir/name`: a component whose `answer()` returns `answer`.
fn answer_component(dir: &Path, name: &str, answer: u32) -> PathBuf {
    let path = dir.join(name);
    let wat = format!(
        r#"(component
            (core module $m (func (export "answer") (result i32) i32.const {answer}))
            (core instance $i (instantiate $m))
            (func (export "answer") (result u32) (canon lift (core func $i "answer"))))"#
    );
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    path
}

#[test]
fn an_entry_copied_over_another_components_runs_neither_and_is_rebuilt() {
    let temp = tempdir();
    let cache = temp.path().join("cache");
    let component = |name: &str, answer: u32| answer_component(temp.path(), name, answer);
    let run = |path: &Path, format: &str| {
        let out = wcomp(temp.path())
            .env("WCOMP_CACHE_DIR", &cache)
            .args(["--format", format, "-v", "run", path.to_str().unwrap()])
            .args(["--invoke", "answer()"])
            .output()
            .unwrap();
        Run::from_output(out).success()
    };
    let (a, b) = (component("a.wasm", 1), component("b.wasm", 2));
    let first = run(&a, "json");
    assert_eq!(compiled_event(&first)["cache"], "miss");
    let a_entry = PathBuf::from(compiled_event(&first)["entry"].as_str().unwrap());
    let b_entry = PathBuf::from(compiled_event(&run(&b, "json"))["entry"].as_str().unwrap());
    assert_ne!(a_entry, b_entry);

    // B's genuine entry under A's name: A runs, compiled again, and the entry is A's again.
    std::fs::copy(&b_entry, &a_entry).unwrap();
    let copied = run(&a, "human");
    assert_eq!(copied.stdout, "1\n", "{}", copied.stderr);
    assert!(
        copied
            .stderr
            .contains("the cached entry was unusable: it was compiled from another component"),
        "{}",
        copied.stderr
    );
    let again = run(&a, "json");
    assert_eq!(compiled_event(&again)["cache"], "hit");
    assert!(
        again
            .stdout
            .contains(r#"{"reason":"returned","results":["1"]}"#),
        "{}",
        again.stdout
    );
}

#[test]
fn the_cache_keeps_to_its_bound_by_removing_the_entries_used_longest_ago() {
    let temp = tempdir();
    let cache = temp.path().join("cache");
    let component = |name: &str, answer: u32| answer_component(temp.path(), name, answer);
    let wcomp_with = |bound: Option<&str>| {
        let mut command = wcomp(temp.path());
        command.env("WCOMP_CACHE_DIR", &cache);
        match bound {
            Some(bound) => command.env("WCOMP_CACHE_MAX_SIZE", bound),
            None => command.env_remove("WCOMP_CACHE_MAX_SIZE"),
        };
        command
    };
    let run = |path: &Path, bound: Option<&str>| {
        let out = wcomp_with(bound)
            .args(["--format", "json", "-v", "run", path.to_str().unwrap()])
            .args(["--invoke", "answer()"])
            .output()
            .unwrap();
        compiled_event(&Run::from_output(out).success())
    };
    let entries = || {
        let mut names: Vec<_> = std::fs::read_dir(cache.join("compiled"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
            .collect();
        names.sort();
        names
    };
    let (a, b) = (component("a.wasm", 1), component("b.wasm", 2));

    let first = run(&a, None);
    assert_eq!(first["cache"], "miss");
    let a_entry = PathBuf::from(first["entry"].as_str().unwrap());
    let size = std::fs::metadata(&a_entry).unwrap().len();
    // Room for one entry and a half: storing B's removes A's, used longer ago.
    let bound = (size + size / 2).to_string();
    let second = run(&b, Some(&bound));
    assert_eq!(second["cache"], "miss");
    let b_entry = PathBuf::from(second["entry"].as_str().unwrap());
    assert_eq!(entries(), vec![b_entry.clone()]);
    assert_eq!(run(&b, Some(&bound))["cache"], "hit");
    // A is compiled again, and now B's goes.
    assert_eq!(run(&a, Some(&bound))["cache"], "miss");
    assert_eq!(entries(), vec![a_entry.clone()]);
    // Without a bound in the environment, 2 GiB: both stay.
    assert_eq!(run(&b, None)["cache"], "miss");
    assert_eq!(entries().len(), 2);
    assert_eq!(run(&b, Some("none"))["cache"], "hit");

    let trim = |args: &[&str]| {
        let out = wcomp_with(None)
            .args(["--format", "json", "cache", "trim"])
            .args(args)
            .output()
            .unwrap();
        let out = Run::from_output(out).success();
        serde_json::from_str::<serde_json::Value>(out.stdout.trim()).unwrap()
    };
    let kept = trim(&[]);
    assert_eq!(kept["reason"], "cache-trimmed");
    assert_eq!(
        (kept["entries"].as_u64(), kept["kept_entries"].as_u64()),
        (Some(0), Some(2))
    );
    let trimmed = trim(&["--max-size", &bound]);
    assert_eq!(
        (
            trimmed["entries"].as_u64(),
            trimmed["kept_entries"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(trimmed["max_size"].as_u64(), Some(size + size / 2));
    // B's entry, written after A's and used since, is the one kept.
    assert_eq!(entries(), vec![b_entry]);

    // A bound that is not a size is refused before anything runs, naming the variable.
    let out = wcomp_with(Some("lots"))
        .args(["run", a.to_str().unwrap(), "--invoke", "answer()"])
        .output()
        .unwrap();
    let out = Run::from_output(out);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("`WCOMP_CACHE_MAX_SIZE` is not a bound"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("invalid size `lots`"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn an_unchanged_component_file_is_not_read_again() {
    let temp = tempdir();
    let cache = temp.path().join("cache");
    let component = temp.path().join("prober.wasm");
    std::fs::copy(prober(), &component).unwrap();
    let written = std::time::Instant::now();
    let run = || {
        let out = wcomp(temp.path())
            .env("WCOMP_CACHE_DIR", &cache)
            .args(["--format", "json", "-v", "run", component.to_str().unwrap()])
            .args(["--invoke", r#"get-env("X")"#])
            .output()
            .unwrap();
        compiled_event(&Run::from_output(out).success())
    };

    // A file written a moment ago is hashed every time: a rewrite within the same timestamp
    // tick would otherwise go unnoticed.
    let first = run();
    assert_eq!(
        (&first["cache"], &first["path_index"]),
        (&"miss".into(), &false.into())
    );
    let second = run();
    assert_eq!(
        (&second["cache"], &second["path_index"]),
        (&"hit".into(), &false.into())
    );

    // Once it has been left alone, a run records it and the next one skips reading it. (Left
    // alone means two whole seconds of the clock since its timestamps' second: up to three.
    // The change time cannot be set back, so only waiting ages a file; the runs above count.)
    std::thread::sleep(std::time::Duration::from_millis(3100).saturating_sub(written.elapsed()));
    run();
    let recalled = run();
    assert_eq!(
        (&recalled["cache"], &recalled["path_index"]),
        (&"hit".into(), &true.into())
    );
    assert_eq!(recalled["entry"], first["entry"]);

    // Any write, even of the same bytes, is noticed.
    std::fs::write(&component, std::fs::read(prober()).unwrap()).unwrap();
    let rewritten = run();
    assert_eq!(
        (&rewritten["cache"], &rewritten["path_index"]),
        (&"hit".into(), &false.into())
    );
}

#[test]
fn concurrent_cold_runs_both_succeed() {
    let temp = tempdir();
    let cache = temp.path().join("cache");
    let runs: Vec<_> = (0..3)
        .map(|_| {
            wcomp(temp.path())
                .env("WCOMP_CACHE_DIR", &cache)
                .args(["--format", "json", "-v", "run", prober().to_str().unwrap()])
                .args(["--invoke", r#"get-env("X")"#])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in runs {
        let out = Run::from_output(child.wait_with_output().unwrap()).success();
        assert!(
            out.stdout
                .contains(r#"{"reason":"returned","results":["none"]}"#)
        );
        let event = compiled_event(&out);
        assert!(
            event["cache"] == "miss" || event["cache"] == "hit",
            "{event}"
        );
    }
    // Exactly one whole entry remains (no temporary files), and it loads. (`index/` holds the
    // path index, once the component file has settled.)
    let entries: Vec<_> = std::fs::read_dir(cache.join("compiled"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "index")
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].ends_with(".cwasm"), "{entries:?}");
    assert_eq!(
        compiled_event(&cached_run(temp.path(), &cache, &[]).success())["cache"],
        "hit"
    );
}

#[test]
fn bench_measures_start_calls_and_density() {
    let temp = tempdir();
    let wat = repo_root().join("tests/runner/limits.wat");
    let wat = wat.to_str().unwrap();
    let out = run(
        temp.path(),
        &[
            "--format",
            "json",
            "bench",
            wat,
            "--invoke",
            "grow-to(1)",
            "--instances",
            "200",
            "--duration",
            "100ms",
            "--threads",
            "2",
        ],
    )
    .success();
    let report = out
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|value| value["reason"] == "bench")
        .unwrap_or_else(|| panic!("no bench report in\n{}", out.stdout));
    assert!(
        report["compile_cold_ms"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(report["compile_cached_ms"].as_f64().is_some(), "{report}");
    for phase in ["instantiate", "call_latency"] {
        assert!(report[phase]["samples"].as_u64().unwrap() > 0, "{report}");
        let p50 = report[phase]["p50_us"].as_f64().unwrap();
        let p99 = report[phase]["p99_us"].as_f64().unwrap();
        assert!(p50 > 0.0 && p99 >= p50, "{report}");
    }
    assert!(
        report["calls_per_second"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert_eq!(report["threads"], 2);
    assert_eq!(report["memories_per_instance"], 1);
    let density = &report["density"];
    assert_eq!(density["requested"], 200);
    assert_eq!(density["live"], 200, "{report}");
    assert!(density["stopped_by"].is_null(), "{report}");

    let out = run(
        temp.path(),
        &["bench", wat, "--invoke", "grow-to(1)", "--duration", "50ms"],
    )
    .success();
    assert!(out.stdout.contains("instantiate   p50 "), "{}", out.stdout);
    assert!(out.stdout.contains("calls/s on "), "{}", out.stdout);

    let out = run(temp.path(), &["bench", wat, "--invoke", "triple(1)"]).failure(1);
    assert!(
        out.stderr
            .contains("the component exports no function named `triple`"),
        "{}",
        out.stderr
    );
}

/// Damaged components through the library entry: every one is an error or a result, never a
/// panic. (The `fuzz/` target does the same with libFuzzer; this runs in every `cargo test`.)
#[test]
fn damaged_components_never_panic() {
    use wcomp::runtime::{self, Limits, RunOptions};

    let fixtures = [
        ("limits.wat", "grow-to(3)"),
        ("double.wat", "double(21)"),
        ("ambiguous.wat", "first#get()"),
        ("command-exit.wat", ""),
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        // xorshift64: reproducible without a dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut outcomes = [0usize; 2];
    for (file, call) in fixtures {
        let text = std::fs::read_to_string(repo_root().join("tests/runner").join(file)).unwrap();
        let original = wat::parse_str(&text).unwrap();
        for round in 0..120 {
            let mut bytes = original.clone();
            match round % 3 {
                0 => {
                    for _ in 0..1 + next() % 4 {
                        let at = (next() as usize) % bytes.len();
                        bytes[at] ^= 1 << (next() % 8);
                    }
                }
                1 => bytes.truncate((next() as usize) % bytes.len()),
                _ => {
                    let at = (next() as usize) % bytes.len();
                    bytes.insert(at, next() as u8);
                }
            }
            let options = RunOptions {
                component: file.into(),
                invoke: (!call.is_empty()).then(|| call.to_owned()),
                limits: Limits {
                    timeout: Some(Duration::from_secs(2)),
                    fuel: Some(10_000_000),
                    max_memory: 64 << 20,
                },
                ..RunOptions::default()
            };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime::run_bytes(&options, &bytes)
            }));
            match result {
                Ok(Ok(_)) => outcomes[0] += 1,
                Ok(Err(err)) => {
                    assert!(!format!("{err:#}").is_empty());
                    outcomes[1] += 1;
                }
                Err(_) => panic!("`{file}` mutation {round} panicked"),
            }
        }
    }
    // Most damage is caught by validation; some leaves a runnable component.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
