//! `wcomp test`: declarative smoke tests from `wcomp.toml`, run against a component on the
//! embedded wasmtime. Each test gets a fresh instance with its own time and memory limits and
//! captured stdio; steps of one test share that instance. Reports live in [`report`].

pub mod report;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, InstancePre, Linker, ResourceTable, Val};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::manifest::StepEntry;
use crate::runtime::invoke::{Call, find_function};

/// A test as read from the manifest.
#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    /// The component to test alone, or `None` for the composition.
    pub component: Option<String>,
    pub steps: Vec<StepEntry>,
}

/// How to run the tests.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Stub imports nothing provides with functions that trap naming the import.
    pub stub_imports: bool,
    /// Wall-clock limit per test; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Linear-memory cap per test instance.
    pub max_memory: usize,
    /// Where compiled code is cached, if anywhere (shared with `wcomp run`).
    pub cache: crate::runtime::CacheMode,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            stub_imports: false,
            timeout: Some(Duration::from_secs(10)),
            max_memory: 512 << 20,
            cache: crate::runtime::CacheMode::Disabled,
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

struct TestHost {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for TestHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Ticks the engine's epoch so a store's deadline can interrupt a hanging guest.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const TICK: Duration = Duration::from_millis(10);

impl EpochTicker {
    fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs `cases` against the component in `bytes`.
pub fn run(
    bytes: &[u8],
    cases: &[TestCase],
    options: &TestOptions,
) -> anyhow::Result<Vec<TestResult>> {
    // `wcomp run`'s engine configuration (without fuel), so both share compiled code.
    let limits = crate::runtime::Limits {
        fuel: None,
        ..crate::runtime::Limits::default()
    };
    let engine = crate::runtime::engine::engine_for(&limits)?;
    let component =
        crate::runtime::cache::load_or_compile(&engine, bytes, &options.cache)?.component;
    let mut linker: Linker<TestHost> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    if options.stub_imports {
        crate::runtime::engine::stub_unsatisfied_imports(&mut linker, &engine, &component)?;
    }
    let pre = linker
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)?;
    let _ticker = EpochTicker::start(&engine);
    Ok(cases
        .iter()
        .map(|case| run_case(&engine, &component, &pre, case, options))
        .collect())
}

fn run_case(
    engine: &Engine,
    component: &Component,
    pre: &InstancePre<TestHost>,
    case: &TestCase,
    options: &TestOptions,
) -> TestResult {
    let started = Instant::now();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let wasi = WasiCtx::builder()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build();
    let limits = StoreLimitsBuilder::new()
        .memory_size(options.max_memory)
        .build();
    let mut store = Store::new(
        engine,
        TestHost {
            wasi,
            table: ResourceTable::new(),
            limits,
        },
    );
    store.limiter(|host| &mut host.limits);
    let ticks = options.timeout.map_or(u64::MAX, |timeout| {
        (timeout.as_millis() / TICK.as_millis()).max(1) as u64
    });
    store.set_epoch_deadline(ticks);
    store.epoch_deadline_trap();

    let failure = (|| {
        let instance = match pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(err) => {
                return Some(Failure {
                    step: 0,
                    invoke: None,
                    message: describe_error(&err, options),
                    expected: None,
                    actual: None,
                });
            }
        };
        for (index, step) in case.steps.iter().enumerate() {
            if let Err(failure) = run_step(
                engine, component, &instance, &mut store, step, &stderr, options,
            ) {
                return Some(Failure {
                    step: index + 1,
                    invoke: step.invoke.clone(),
                    ..failure
                });
            }
        }
        None
    })();
    TestResult {
        name: case.name.clone(),
        failure,
        seconds: started.elapsed().as_secs_f64(),
        stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
    }
}

fn fail(message: impl Into<String>, expected: Option<String>, actual: Option<String>) -> Failure {
    Failure {
        step: 0,
        invoke: None,
        message: message.into(),
        expected,
        actual,
    }
}

fn run_step(
    engine: &Engine,
    component: &Component,
    instance: &wasmtime::component::Instance,
    store: &mut Store<TestHost>,
    step: &StepEntry,
    stderr: &MemoryOutputPipe,
    options: &TestOptions,
) -> Result<(), Failure> {
    let invoke = step
        .invoke
        .as_deref()
        .ok_or_else(|| fail("the step has no `invoke`", None, None))?;
    let call = Call::parse(invoke).map_err(|err| fail(format!("{err}"), None, None))?;
    let target = find_function(engine, component, &call)
        .map_err(|err| fail(describe_invoke_error(&err), None, None))?;
    let func = target
        .func(instance, &mut *store)
        .map_err(|err| fail(format!("{err:#}"), None, None))?;
    let ty = func.ty(&*store);
    let params = call
        .params(&ty, &target.qualified_name)
        .map_err(|err| fail(describe_invoke_error(&err), None, None))?;
    let mut results = vec![Val::Bool(false); ty.results().len()];
    let outcome = func.call(&mut *store, &params, &mut results);

    let actual = || {
        results
            .iter()
            .map(|v| v.to_wave().unwrap_or_else(|_| format!("{v:?}")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (outcome, step) {
        (
            Err(err),
            StepEntry {
                expect_trap: Some(expected),
                ..
            },
        ) => {
            let message = describe_error(&err, options);
            let guest_stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
            if message.contains(expected.as_str()) || guest_stderr.contains(expected.as_str()) {
                Ok(())
            } else {
                Err(fail(
                    "the call trapped with a different message",
                    Some(format!("a trap mentioning {expected:?}")),
                    Some(message),
                ))
            }
        }
        (Err(err), _) => Err(fail(describe_error(&err, options), None, None)),
        (
            Ok(()),
            StepEntry {
                expect_trap: Some(expected),
                ..
            },
        ) => Err(fail(
            "the call returned instead of trapping",
            Some(format!("a trap mentioning {expected:?}")),
            Some(actual()),
        )),
        (
            Ok(()),
            StepEntry {
                expect: Some(expected),
                ..
            },
        ) => {
            let ty = ty.results().next();
            match (ty, results.first()) {
                (Some(ty), Some(value)) => compare(&ty, expected, value),
                _ => Err(fail(
                    "the function returns nothing to compare",
                    Some(expected.clone()),
                    Some(String::new()),
                )),
            }
        }
        (
            Ok(()),
            StepEntry {
                expect_error: Some(expected),
                ..
            },
        ) => match results.first() {
            Some(Val::Result(Err(payload))) => match (payload, ty.results().next()) {
                (None, _) if expected.trim().is_empty() => Ok(()),
                (Some(payload), Some(wasmtime::component::Type::Result(result_ty))) => {
                    match result_ty.err() {
                        Some(err_ty) => compare(&err_ty, expected, payload),
                        None => Err(fail(
                            "the result type has no error payload",
                            Some(expected.clone()),
                            Some(actual()),
                        )),
                    }
                }
                _ => Err(fail(
                    "the error payload differs",
                    Some(expected.clone()),
                    Some(actual()),
                )),
            },
            _ => Err(fail(
                "the call did not return `err(...)`",
                Some(format!("err({expected})")),
                Some(actual()),
            )),
        },
        (Ok(()), _) => Ok(()),
    }
}

/// Compares a value with its expected WAVE text, both parsed at the value's type.
fn compare(ty: &wasmtime::component::Type, expected: &str, actual: &Val) -> Result<(), Failure> {
    let shown = actual.to_wave().unwrap_or_else(|_| format!("{actual:?}"));
    let expected_value: Val = wasm_wave::from_str(ty, expected).map_err(|err| {
        fail(
            format!("`expect` is not a valid WAVE value of the result type: {err}"),
            Some(expected.to_owned()),
            Some(shown.clone()),
        )
    })?;
    if &expected_value == actual {
        Ok(())
    } else {
        Err(fail(
            "the result differs",
            Some(expected.to_owned()),
            Some(shown),
        ))
    }
}

fn describe_invoke_error(err: &crate::runtime::InvokeError) -> String {
    use miette::Diagnostic as _;
    match err.help() {
        Some(help) => format!("{err} ({help})"),
        None => err.to_string(),
    }
}

/// A guest failure in words: time limit, memory cap, a stubbed import, or the trap.
fn describe_error(err: &wasmtime::Error, options: &TestOptions) -> String {
    let root = err.root_cause().to_string();
    if root.starts_with(crate::runtime::engine::STUB_CALLED) {
        return root;
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            format!(
                "the test exceeded its time limit of {}",
                options
                    .timeout
                    .map_or_else(|| "none".to_owned(), crate::units::format_duration)
            )
        }
        Some(trap) => format!("the guest trapped: {trap}"),
        None => format!("{err:#}"),
    }
}
