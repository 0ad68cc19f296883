//! A `wcomp serve` process on a free loopback port, and `curl` to talk to it.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The access-log records (`"reason": "request"`) in a server's JSON log.
pub fn requests(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|value| value["reason"] == "request")
        .collect()
}

/// A running `wcomp serve` and everything it has written to stderr.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// `http://…/metrics`, under `--metrics`.
    pub metrics: Option<String>,
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `wcomp serve <component> --addr 127.0.0.1:0 <args>` (JSON output, `-v`), and
    /// waits until it listens.
    pub fn start(cwd: &Path, component: &Path, args: &[&str]) -> Self {
        Self::start_with_env(cwd, component, args, &[])
    }

    /// [`Server::start`] with environment variables `env` set for the server.
    pub fn start_with_env(
        cwd: &Path,
        component: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = super::wcomp(cwd)
            .envs(env.iter().copied())
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
                    let _ = tx.send(value);
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let serving = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the server did not start:\n{}", log.lock().unwrap()));
        Self {
            child,
            url: serving["url"].as_str().unwrap_or_default().to_owned(),
            metrics: serving["metrics"].as_str().map(str::to_owned),
            log,
        }
    }

    /// The server's `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        let url = self.url.trim_start_matches("http://");
        url.trim_end_matches('/').to_owned()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once its request lines satisfy `done` (`what` says what is awaited), within
    /// 30 s: the access log is written by a thread of its own, a moment after each response.
    pub fn log_when(&self, what: &str, done: impl Fn(&[serde_json::Value]) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log();
            if done(&requests(&log)) {
                return log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the log never showed {what}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `SIGTERM`, as a process manager stops a server.
    pub fn terminate(&self) {
        super::sigterm(&self.child);
    }

    pub fn wait(&mut self) -> Option<i32> {
        let log = self.log.clone();
        super::wait_for_exit(&mut self.child, || log.lock().unwrap().clone())
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
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: String,
}

/// `curl` `path` on the server, with `args` (e.g. `-X POST --data …`).
pub fn curl(server: &Server, path: &str, args: &[&str]) -> Reply {
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

/// The summary (`"reason": "stopped"`) in a server's JSON log.
pub fn summary(log: &str) -> serde_json::Value {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|value| value["reason"] == "stopped")
        .unwrap_or_else(|| panic!("no summary in:\n{log}"))
}

/// The fixture handler `tests/e2e/http/server.rs` (one route per way a request can go wrong)
/// on the Rust HTTP template, built in `target/test-fixtures/<dir>/`; the component.
pub fn build_http_fixture(dir: &str) -> PathBuf {
    let dir = super::repo_root().join("target/test-fixtures").join(dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let new = ["new", "server", "--lang", "rust", "--template", "http"];
    super::run(&dir, &new).success();
    let source = super::repo_root().join("tests/e2e/http/server.rs");
    std::fs::copy(source, dir.join("server/src/lib.rs")).unwrap();
    PathBuf::from(
        super::run(&dir, &["build", "server"])
            .success()
            .stdout
            .trim(),
    )
}

/// What a `GET` of the metrics at `url` answers (OpenMetrics text).
pub fn scrape(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-S", "--fail", "--max-time", "30", url])
        .output()
        .expect("curl is installed (scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "the metrics did not answer: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `series` (a name with its labels, as the exposition spells it) in `text`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}
