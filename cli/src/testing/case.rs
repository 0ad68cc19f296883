//! What `wcomp test` runs and reports: a test case as read from the manifest, the options of
//! a run, and each test's result. Shared by the call runner and the HTTP runner.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::manifest::StepEntry;
use crate::runtime::keyvalue::Stores;
use crate::runtime::{CacheMode, Limits, Sandbox};

/// A test as read from the manifest.
#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    /// The component to test alone, or `None` for the composition.
    pub component: Option<String>,
    /// Calls on one instance (when `http` is `None`).
    pub steps: Vec<StepEntry>,
    /// An HTTP request to the component instead.
    pub http: Option<HttpCase>,
    /// Keyvalue entries set before the test, by bucket.
    pub kv: KvEntries,
    /// Keyvalue entries the test must leave, by bucket.
    pub expect_kv: KvEntries,
}

/// Keyvalue entries by bucket, then key.
pub type KvEntries = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

impl TestCase {
    /// Sets the test's `kv` entries in `stores` (the run's in-memory buckets).
    pub fn seed(&self, stores: &Stores) -> Result<(), Failure> {
        for (bucket, entries) in &self.kv {
            stores.seed(bucket, entries).map_err(|err| Failure {
                step: 0,
                invoke: None,
                message: format!("cannot seed keyvalue bucket `{bucket}`: {err:?}"),
                expected: None,
                actual: None,
            })?;
        }
        Ok(())
    }

    /// The first `expect-kv` entry `stores` does not hold.
    pub fn check_kv(&self, stores: &Stores) -> Option<Failure> {
        let show = |value: Option<&[u8]>| match value {
            Some(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
            None => "(absent)".to_owned(),
        };
        for (bucket, entries) in &self.expect_kv {
            for (key, expected) in entries {
                let found = stores.peek(bucket, key).ok().flatten();
                if found.as_deref() != Some(expected.as_slice()) {
                    return Some(Failure {
                        step: 0,
                        invoke: None,
                        message: format!("keyvalue entry `{key}` of bucket `{bucket}` differs"),
                        expected: Some(show(Some(expected))),
                        actual: Some(show(found.as_deref())),
                    });
                }
            }
        }
        None
    }

    /// Every bucket the test seeds or checks.
    pub fn buckets(&self) -> impl Iterator<Item = &str> {
        self.kv
            .keys()
            .chain(self.expect_kv.keys())
            .map(String::as_str)
    }
}

/// An HTTP smoke test: one request, answered in-process by a fresh instance, and what the
/// response must be.
#[derive(Debug, Clone, Default)]
pub struct HttpCase {
    pub method: String,
    /// Path and query: `/stats?top=3`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub expect_status: Option<u16>,
    pub expect_body: Option<String>,
    pub expect_body_contains: Option<String>,
    pub expect_headers: Vec<(String, String)>,
}

/// How to run the tests: the sandbox and limits of `wcomp run`, applied to each test's guest.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Stub imports nothing provides with functions that trap naming the import.
    pub stub_imports: bool,
    /// Limits of each test (its time limit covers all of its steps).
    pub limits: Limits,
    /// What the guest may touch beyond captured stdio.
    pub sandbox: Sandbox,
    /// Where outgoing HTTP requests may go.
    pub http: Vec<crate::runtime::HttpGrant>,
    /// Where compiled code is cached, if anywhere (shared with `wcomp run`).
    pub cache: CacheMode,
}

/// The default time limit of one test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            stub_imports: false,
            limits: Limits {
                timeout: Some(DEFAULT_TIMEOUT),
                ..Limits::default()
            },
            sandbox: Sandbox::default(),
            http: Vec::new(),
            cache: CacheMode::Disabled,
        }
    }
}

/// Why a test failed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    /// 1-based step number (0 for instantiation).
    pub step: usize,
    pub invoke: Option<String>,
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

/// One test's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestResult {
    pub name: String,
    pub failure: Option<Failure>,
    pub seconds: f64,
    /// What the guest wrote to stdout and stderr during the test.
    pub stdout: String,
    pub stderr: String,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}
