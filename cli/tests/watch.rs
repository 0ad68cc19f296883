//! `--watch` end to end: the real `wcomp` binary watching real projects while the test edits
//! their sources as an editor would, with the real toolchains rebuilding, and a real HTTP
//! client (`curl`) requesting from `serve --watch` through every swap.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{repo_root, run, tempdir};

/// A `wcomp --format json … --watch` process and the JSON events it has printed (stdout and
/// stderr both: `serve` keeps stdout for its guests).
struct Watching {
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
    text: Arc<Mutex<String>>,
    /// Set when the process is gone: a reader following a file stops.
    done: Arc<AtomicBool>,
}

impl Watching {
    fn start(cwd: &Path, args: &[&str]) -> Self {
        Self::spawn(cwd, args, None)
    }

    /// Like [`Watching::start`], with stdout redirected to the file `log` as `wcomp … > log`
    /// does; the events are read back from the file as they are written.
    fn start_with_stdout_in(cwd: &Path, args: &[&str], log: &Path) -> Self {
        Self::spawn(cwd, args, Some(log))
    }

    fn spawn(cwd: &Path, args: &[&str], log: Option<&Path>) -> Self {
        let mut command = support::wcomp(cwd);
        command
            .args(["--format", "json"])
            .args(args)
            .stderr(Stdio::piped());
        match log {
            Some(log) => command.stdout(std::fs::File::create(log).unwrap()),
            None => command.stdout(Stdio::piped()),
        };
        let mut child = command.spawn().unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let text = Arc::new(Mutex::new(String::new()));
        let done = Arc::new(AtomicBool::new(false));
        let stdout: Box<dyn Read + Send> = match log {
            Some(log) => Box::new(Follow {
                file: std::fs::File::open(log).unwrap(),
                done: done.clone(),
            }),
            None => Box::new(child.stdout.take().unwrap()),
        };
        let stderr: Box<dyn Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [stdout, stderr] {
            let events = events.clone();
            let text = text.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(value) = serde_json::from_str::<Value>(&line) {
                        events.lock().unwrap().push(value);
                    }
                    let mut text = text.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
        }
        Self {
            child,
            events,
            text,
            done,
        }
    }

    /// How many events have arrived: a mark to wait for later ones.
    fn mark(&self) -> usize {
        self.events.lock().unwrap().len()
    }

    /// The events from `mark` on.
    fn since(&self, mark: usize) -> Vec<Value> {
        self.events.lock().unwrap()[mark..].to_vec()
    }

    /// Waits for an event with `reason` after `mark`; the events from `mark` up to it.
    #[track_caller]
    fn wait_for(&self, mark: usize, reason: &str, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let events = self.since(mark);
            if let Some(at) = events.iter().position(|e| e["reason"] == reason) {
                return events[..=at].to_vec();
            }
            assert!(
                Instant::now() < deadline,
                "no `{reason}` event within {timeout:?}; output:\n{}",
                self.text.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Saves `path` with `from` replaced by `to`, as [`save`] does; the events of the cycle
    /// that starts, up to the wait for the next change.
    #[track_caller]
    fn save_and_wait(&self, path: &Path, from: &str, to: &str) -> Vec<Value> {
        let mark = self.mark();
        save(path, from, to);
        self.wait_for(mark, "watching", BUILD)
    }

    fn output(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Waits `quiet` and asserts that no cycle started after `mark` meanwhile.
    #[track_caller]
    fn assert_no_cycle_for(&self, mark: usize, quiet: Duration) {
        std::thread::sleep(quiet);
        let events = self.since(mark);
        assert!(
            events.iter().all(|e| e["reason"] != "changed"),
            "a cycle nobody asked for: {events:?}"
        );
    }

    fn terminate(&mut self) -> Option<i32> {
        support::sigterm(&self.child);
        let text = self.text.clone();
        support::wait_for_exit(&mut self.child, || text.lock().unwrap().clone())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.done.store(true, Ordering::Relaxed);
    }
}

/// A file read as `tail -f` reads it: at its end, waits for more until `done`.
struct Follow {
    file: std::fs::File,
    done: Arc<AtomicBool>,
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let read = self.file.read(buf)?;
            if read > 0 || self.done.load(Ordering::Relaxed) {
                return Ok(read);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Names of the components a cycle's events say were handed to their toolchain.
fn rebuilt(events: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter(|e| e["reason"] == "component-building")
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Names of the components `build`'s summary events report as built, not fresh.
fn built(events: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter(|e| e["reason"] == "component-built" && e["fresh"] == false)
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Rewrites `path` the way many editors save: a new file renamed over the old one.
#[track_caller]
fn save(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "`{from}` in {}:\n{text}",
        path.display()
    );
    let scratch = path.with_extension("saving");
    std::fs::write(&scratch, text.replacen(from, to, 1)).unwrap();
    std::fs::rename(&scratch, path).unwrap();
}

const BUILD: Duration = Duration::from_secs(300);

/// A new workspace `ws` in `dir` with a component per `(name, language)`, each implementing
/// the world of its name.
fn workspace(dir: &Path, components: &[(&str, &str)]) -> PathBuf {
    run(dir, &["new", "ws", "--workspace"]).success();
    let ws = dir.join("ws");
    for (name, language) in components {
        run(&ws, &["new", name, "--lang", language, "--world", name]).success();
    }
    ws
}

#[test]
fn build_watch_rebuilds_only_the_component_whose_source_changed() {
    let temp = tempdir();
    let ws = workspace(temp.path(), &[("analyzer", "rust"), ("reporter", "python")]);
    let code = std::fs::read_to_string(repo_root().join("tests/e2e/text/analyzer.rs")).unwrap();
    let code = code
        .replace("path: \"wit\"", "path: \"../wit\"")
        .replace("acme::text", "example::ws");
    std::fs::write(ws.join("analyzer/src/lib.rs"), code).unwrap();

    let watching = Watching::start(&ws, &["build", "--watch"]);
    let first = watching.wait_for(0, "watching", BUILD);
    assert_eq!(rebuilt(&first), ["analyzer", "reporter"], "{first:?}");
    // The first build writes `Cargo.lock` beside the sources: at most one more cycle, in
    // which nothing is rebuilt.
    let finished: Vec<&Value> = first
        .iter()
        .filter(|e| e["reason"] == "cycle-finished")
        .collect();
    assert!(
        (1..=2).contains(&finished.len()) && finished.iter().all(|e| e["ok"] == true),
        "{first:?}"
    );

    // A Rust edit: only the Rust component is handed to cargo.
    let cycle = watching.save_and_wait(
        &ws.join("analyzer/src/lib.rs"),
        "fn analyze",
        "/// Counts words.\n    fn analyze",
    );
    let changed = cycle.iter().find(|e| e["reason"] == "changed").unwrap();
    assert!(
        changed["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().ends_with("analyzer/src/lib.rs")),
        "{changed}"
    );
    assert_eq!(rebuilt(&cycle), ["analyzer"], "{cycle:?}");
    assert_eq!(built(&cycle), ["analyzer"], "{cycle:?}");

    // A Python edit: only the Python component is handed to componentize-py.
    let cycle = watching.save_and_wait(
        &ws.join("reporter/app.py"),
        "import wit_world",
        "# Renders a report.\nimport wit_world",
    );
    assert_eq!(rebuilt(&cycle), ["reporter"], "{cycle:?}");
    assert_eq!(built(&cycle), ["reporter"], "{cycle:?}");

    // Outputs and ignored files trigger nothing.
    let mark = watching.mark();
    std::fs::write(ws.join("analyzer/target/wcomp/scratch.wasm"), b"x").unwrap();
    std::fs::create_dir_all(ws.join("target/wcomp/more")).unwrap();
    std::fs::write(ws.join("target/wcomp/more/out.txt"), b"x").unwrap();
    std::fs::write(ws.join("reporter/app.py~"), b"backup").unwrap();
    std::fs::write(ws.join("analyzer/src/.lib.rs.swp"), b"swap").unwrap();
    // Then a save that changes nothing: its cycle is the only one, and it names only that file.
    touch_unchanged(&ws.join("reporter/app.py"));
    let cycle = watching.wait_for(mark, "watching", BUILD);
    assert_only_change(&cycle, "reporter/app.py");
    assert_eq!(rebuilt(&cycle), Vec::<String>::new(), "{cycle:?}");
}

/// Saves `path` again with the same bytes: a change for the watcher, none for the build.
fn touch_unchanged(path: &Path) {
    let text = std::fs::read(path).unwrap();
    let scratch = path.with_extension("saving");
    std::fs::write(&scratch, text).unwrap();
    std::fs::rename(&scratch, path).unwrap();
}

/// `events` hold one cycle, started by a change of the file ending in `suffix` alone: the
/// files written before it were filtered out.
#[track_caller]
fn assert_only_change(events: &[Value], suffix: &str) {
    let changes: Vec<&Value> = events.iter().filter(|e| e["reason"] == "changed").collect();
    assert_eq!(changes.len(), 1, "{events:?}");
    let paths = changes[0]["paths"].as_array().unwrap();
    assert!(
        !paths.is_empty() && paths.iter().all(|p| p.as_str().unwrap().ends_with(suffix)),
        "{events:?}"
    );
}

/// `curl` in a loop until `stop`: every answer's status and body, and every failure.
struct Client {
    answers: Arc<Mutex<Vec<(u16, String)>>>,
    failures: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Client {
    fn start(url: &str) -> Self {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (answers, failures, stop, url) = (
                answers.clone(),
                failures.clone(),
                stop.clone(),
                url.to_owned(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let out = Command::new("curl")
                        .args(["-s", "-S", "--max-time", "30", "-w", "\n%{http_code}"])
                        .arg(&url)
                        .output()
                        .expect("curl is installed (scripts/install-deps.sh)");
                    let text = String::from_utf8_lossy(&out.stdout).into_owned();
                    match text.rsplit_once('\n') {
                        Some((body, code)) if out.status.success() => answers
                            .lock()
                            .unwrap()
                            .push((code.parse().unwrap_or(0), body.to_owned())),
                        _ => failures
                            .lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&out.stderr).into_owned()),
                    }
                }
            })
        };
        Self {
            answers,
            failures,
            stop,
            thread: Some(thread),
        }
    }

    /// Waits until an answer has `body`.
    #[track_caller]
    fn wait_for_body(&self, body: &str, timeout: Duration, output: impl Fn() -> String) {
        let deadline = Instant::now() + timeout;
        while !self.answers.lock().unwrap().iter().any(|(_, b)| b == body) {
            assert!(
                Instant::now() < deadline,
                "no answer `{body}` within {timeout:?}; last: {:?}\n{}",
                self.answers.lock().unwrap().last(),
                output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many answers have arrived.
    fn answered(&self) -> usize {
        self.answers.lock().unwrap().len()
    }

    /// Waits until `count` answers have arrived.
    #[track_caller]
    fn wait_for_answers(&self, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.answered() < count {
            assert!(
                Instant::now() < deadline,
                "fewer than {count} answers within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn last_body(&self) -> String {
        self.answers
            .lock()
            .unwrap()
            .last()
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    }

    fn stop(mut self) -> (Vec<(u16, String)>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        (
            std::mem::take(&mut self.answers.lock().unwrap()),
            std::mem::take(&mut self.failures.lock().unwrap()),
        )
    }
}

#[test]
fn serve_watch_swaps_the_component_without_dropping_a_request() {
    let temp = tempdir();
    run(
        temp.path(),
        &["new", "hello", "--lang", "rust", "--template", "http"],
    )
    .success();
    let project = temp.path().join("hello");
    let lib = project.join("src/lib.rs");

    let mut server = Watching::start(
        &project,
        &[
            "serve",
            "--watch",
            "--addr",
            "127.0.0.1:0",
            "--metrics",
            "127.0.0.1:0",
        ],
    );
    let serving = server.wait_for(0, "serving", BUILD);
    let url = serving.last().unwrap()["url"].as_str().unwrap().to_owned();
    let metrics = serving.last().unwrap()["metrics"]
        .as_str()
        .unwrap()
        .to_owned();
    server.wait_for(0, "watching", Duration::from_secs(30));
    let client = Client::start(&url);
    client.wait_for_body("Hello from Rust!\n", Duration::from_secs(30), || {
        server.output()
    });

    // A good save: new requests get the new body while the client never stops asking.
    let mark = server.mark();
    save(&lib, "Hello from Rust!", "Hello again from Rust!");
    client.wait_for_body("Hello again from Rust!\n", BUILD, || server.output());
    let swapped = server.wait_for(mark, "swapped", Duration::from_secs(10));
    let swapped = swapped.last().unwrap().clone();
    assert_eq!(swapped["hash"].as_str().unwrap().len(), 12, "{swapped}");
    assert_ne!(swapped["hash"], serving.last().unwrap()["hash"]);
    // How long the cycle's two parts took: the build, then compiling the new component.
    assert!(
        swapped["build_seconds"].as_f64().unwrap() > 0.0,
        "{swapped}"
    );
    assert!(swapped["load_seconds"].as_f64().unwrap() > 0.0, "{swapped}");

    // A broken save: the toolchain's error is reported and the last good body stays.
    let mark = server.mark();
    save(
        &lib,
        "Hello again from Rust!\\n\".into()",
        "Hello again from Rust!\\n\".into(",
    );
    let cycle = server.wait_for(mark, "cycle-finished", BUILD);
    assert_eq!(cycle.last().unwrap()["ok"], false, "{cycle:?}");
    assert!(
        cycle
            .iter()
            .any(|e| e["reason"] == "error" && e["message"].as_str().unwrap().contains("build")),
        "{cycle:?}"
    );
    assert!(cycle.iter().all(|e| e["reason"] != "swapped"), "{cycle:?}");
    let kept = cycle.iter().find(|e| e["reason"] == "kept").unwrap();
    assert_eq!(kept["hash"], swapped["hash"], "{kept}");
    client.wait_for_answers(client.answered() + 3, BUILD);
    assert_eq!(client.last_body(), "Hello again from Rust!\n");

    // The next good save recovers.
    let mark = server.mark();
    save(
        &lib,
        "Hello again from Rust!\\n\".into(",
        "Hello, third time!\\n\".into()",
    );
    client.wait_for_body("Hello, third time!\n", BUILD, || server.output());
    server.wait_for(mark, "watching", Duration::from_secs(10));

    // A file under `target/` triggers nothing: the next cycle is the one an unchanged save of
    // the source starts, and it names only that file.
    let mark = server.mark();
    std::fs::write(project.join("target/wcomp/notes.txt"), b"x").unwrap();
    touch_unchanged(&lib);
    let cycle = server.wait_for(mark, "cycle-finished", BUILD);
    assert_only_change(&cycle, "src/lib.rs");

    let (answers, failures) = client.stop();
    assert_eq!(failures, Vec::<String>::new(), "requests that failed");
    assert!(answers.len() > 10, "{}", answers.len());
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{:?}",
        answers.iter().find(|(status, _)| *status != 200)
    );
    // Two good saves swapped in; the broken one never reached the server.
    let scraped = support::server::scrape(&metrics);
    let swaps = |outcome: &str| {
        support::server::metric(
            &scraped,
            &format!("wcomp_component_swaps_total{{outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(swaps("swapped"), Some(2.0), "{scraped}");
    assert_eq!(swaps("failed"), Some(0.0), "{scraped}");
    let answered = support::server::metric(&scraped, "wcomp_http_requests_total{code=\"200\"}");
    assert!(answered.unwrap_or(0.0) >= answers.len() as f64, "{scraped}");
    assert_eq!(server.terminate(), Some(0), "{}", server.output());
}

#[test]
fn test_watch_reruns_the_tests_after_a_source_or_a_test_changes() {
    let temp = tempdir();
    let ws = workspace(temp.path(), &[("analyzer", "rust"), ("reporter", "rust")]);
    for name in ["analyzer", "reporter"] {
        let code = std::fs::read_to_string(repo_root().join(format!("tests/e2e/text/{name}.rs")))
            .unwrap()
            .replace("path: \"wit\"", "path: \"../wit\"")
            .replace("acme::text", "example::ws");
        std::fs::write(ws.join(name).join("src/lib.rs"), code).unwrap();
    }
    let manifest = ws.join("wcomp.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(
        "\n[[test]]\nname = \"renders\"\ninvoke = 'render(\"Hello brave new world\")'\nexpect = '\"4 words, longest: Hello\"'\n",
    );
    std::fs::write(&manifest, text).unwrap();

    let watching = Watching::start(&ws, &["test", "--watch", "renders"]);
    let summary = |events: &[Value]| {
        let summary = events
            .iter()
            .rfind(|e| e["reason"] == "test-summary")
            .unwrap_or_else(|| panic!("no test summary in {events:?}"));
        (
            summary["passed"].as_u64().unwrap(),
            summary["failed"].as_u64().unwrap(),
        )
    };
    let first = watching.wait_for(0, "watching", BUILD);
    assert_eq!(summary(&first), (1, 0), "{first:?}");

    // The reporter's output changes: the composition is redone and the test fails.
    let cycle = watching.save_and_wait(
        &ws.join("reporter/src/lib.rs"),
        "words, longest",
        "words; longest",
    );
    assert_eq!(rebuilt(&cycle), ["reporter"], "{cycle:?}");
    assert_eq!(summary(&cycle), (0, 1), "{cycle:?}");
    assert_eq!(
        cycle
            .iter()
            .rfind(|e| e["reason"] == "cycle-finished")
            .unwrap()["ok"],
        false
    );

    // The test's expectation follows: nothing is rebuilt and it passes again.
    let cycle = watching.save_and_wait(&manifest, "4 words, longest", "4 words; longest");
    assert_eq!(rebuilt(&cycle), Vec::<String>::new(), "{cycle:?}");
    assert_eq!(summary(&cycle), (1, 0), "{cycle:?}");
}

#[test]
fn build_watch_with_its_output_redirected_into_the_workspace_waits_for_an_edit() {
    let temp = tempdir();
    let ws = workspace(temp.path(), &[("reporter", "python")]);

    // `wcomp build --watch --format json > reporter/watch.log`: every cycle, and every wait
    // for the next, writes a file inside a component's sources.
    let watching =
        Watching::start_with_stdout_in(&ws, &["build", "--watch"], &ws.join("reporter/watch.log"));
    let first = watching.wait_for(0, "watching", BUILD);
    assert_eq!(rebuilt(&first), ["reporter"], "{first:?}");
    // Files no component reads start nothing either.
    let mark = watching.mark();
    std::fs::write(ws.join("NOTES.md"), "to do").unwrap();
    std::fs::create_dir_all(ws.join("docs")).unwrap();
    std::fs::write(ws.join("docs/design.md"), "# Design").unwrap();
    watching.assert_no_cycle_for(mark, Duration::from_secs(4));

    // An edit starts exactly one cycle, which names only the edited file.
    let cycle = watching.save_and_wait(
        &ws.join("reporter/app.py"),
        "import wit_world",
        "# Renders a report.\nimport wit_world",
    );
    assert_only_change(&cycle, "reporter/app.py");
    assert_eq!(rebuilt(&cycle), ["reporter"], "{cycle:?}");
    let mark = watching.mark();
    watching.assert_no_cycle_for(mark, Duration::from_secs(4));
}

#[test]
fn build_watch_rebuilds_a_project_inside_a_directory_named_target() {
    let temp = tempdir();
    let parent = temp.path().join("target");
    std::fs::create_dir_all(&parent).unwrap();
    run(&parent, &["new", "proj", "--lang", "python"]).success();
    let project = parent.join("proj");

    let watching = Watching::start(&project, &["build", "--watch"]);
    let first = watching.wait_for(0, "watching", BUILD);
    assert_eq!(rebuilt(&first), ["proj"], "{first:?}");

    let mark = watching.mark();
    save(
        &project.join("app.py"),
        "import wit_world",
        "# Describes a text.\nimport wit_world",
    );
    // Noticed within seconds, however long the build takes.
    watching.wait_for(mark, "changed", Duration::from_secs(30));
    let cycle = watching.wait_for(mark, "watching", BUILD);
    assert_only_change(&cycle, "proj/app.py");
    assert_eq!(built(&cycle), ["proj"], "{cycle:?}");
}
