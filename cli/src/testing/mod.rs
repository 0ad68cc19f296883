//! `wcomp test`: declarative smoke tests from `wcomp.toml`, run against a component on the
//! embedded wasmtime. Each test gets a fresh instance with its own time and memory limits and
//! captured stdio; steps of one test share that instance. Reports live in [`report`].

pub mod case;
mod http_tests;
pub mod report;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::Val;

use crate::manifest::StepEntry;
use crate::runtime::invoke::Call;
use crate::runtime::keyvalue::Stores;
use crate::runtime::{
    CapturedOutput, Events, Guest, GuestIo, InvokeError, RunError, Services, Session,
    SessionOptions, UnknownImports,
};
pub use case::{Failure, HttpCase, TestCase, TestOptions, TestResult};

/// Runs `cases` against the component at `component`: calls each on a fresh guest of one
/// session, HTTP requests each on a fresh instance of an in-process server.
pub fn run(
    component: &Path,
    cases: &[TestCase],
    options: &TestOptions,
) -> anyhow::Result<Vec<TestResult>> {
    type Indexed<'a> = Vec<(usize, &'a TestCase)>;
    let (http, calls): (Indexed, Indexed) = cases
        .iter()
        .enumerate()
        .partition(|(_, case)| case.http.is_some());
    let mut results: Vec<Option<TestResult>> = vec![None; cases.len()];
    let services = services(cases, options).map_err(crate::diagnostic::Report::report)?;
    if !calls.is_empty() {
        let bytes = crate::runtime::load(component)?;
        let batch: Vec<TestCase> = calls.iter().map(|(_, case)| (*case).clone()).collect();
        for ((index, _), result) in calls
            .iter()
            .zip(run_calls(&bytes, &batch, options, &services)?)
        {
            results[*index] = Some(result);
        }
    }
    if !http.is_empty() {
        let batch: Vec<&TestCase> = http.iter().map(|(_, case)| *case).collect();
        for ((index, _), result) in http
            .iter()
            .zip(http_tests::run(component, &batch, options, &services))
        {
            results[*index] = Some(result);
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// The keyvalue buckets and configuration of a run: every bucket the sandbox grants or a
/// case names, in memory and empty, so tests start from the same state every time and never
/// touch a real store; cases share them in order, each seeding what it needs.
fn services(
    cases: &[TestCase],
    options: &TestOptions,
) -> Result<Services, crate::runtime::sandbox::SandboxError> {
    let granted = options
        .sandbox
        .keyvalue
        .iter()
        .map(|grant| grant.bucket.as_str());
    let named = cases.iter().flat_map(TestCase::buckets);
    let names: BTreeSet<&str> = granted.chain(named).collect();
    Ok(Services {
        keyvalue: Arc::new(Stores::seeded(names, &Events::default())),
        config: Arc::new(options.sandbox.config_values()),
        nn: options.sandbox.models()?,
    })
}

/// Runs call `cases` against the component in `bytes`, each on a fresh guest of one session.
fn run_calls(
    bytes: &[u8],
    cases: &[TestCase],
    options: &TestOptions,
    services: &Services,
) -> anyhow::Result<Vec<TestResult>> {
    let session = Session::from_bytes(
        Path::new("component"),
        bytes,
        SessionOptions {
            sandbox: options.sandbox.clone(),
            limits: options.limits,
            cache: options.cache.clone(),
            unknown_imports: if options.stub_imports {
                UnknownImports::Trap
            } else {
                UnknownImports::Reject
            },
            events: crate::runtime::Events::default(),
            http: options.http.clone(),
            execution: crate::runtime::Execution::Blocking,
            services: Some(services.clone()),
        },
    )?;
    Ok(cases
        .iter()
        .map(|case| run_case(&session, case, &services.keyvalue))
        .collect())
}

fn run_case(session: &Session, case: &TestCase, stores: &Stores) -> TestResult {
    let started = Instant::now();
    let output = CapturedOutput::new();
    let instance = case.seed(stores).and_then(|()| {
        session
            .instantiate(&[], GuestIo::Capture(output.clone()))
            .map_err(|err| Failure {
                step: 0,
                invoke: None,
                message: describe_error(&err),
                expected: None,
                actual: None,
            })
    });
    let failure = match instance {
        Err(failure) => Some(failure),
        Ok(mut guest) => case
            .steps
            .iter()
            .enumerate()
            .find_map(|(index, step)| {
                run_step(session, &mut guest, step, &output)
                    .err()
                    .map(|failure| Failure {
                        step: index + 1,
                        invoke: step.invoke.clone(),
                        ..failure
                    })
            })
            .or_else(|| case.check_kv(stores)),
    };
    TestResult {
        name: case.name.clone(),
        failure,
        seconds: started.elapsed().as_secs_f64(),
        stdout: output.stdout(),
        stderr: output.stderr(),
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
    session: &Session,
    guest: &mut Guest,
    step: &StepEntry,
    output: &CapturedOutput,
) -> Result<(), Failure> {
    let invoke = step
        .invoke
        .as_deref()
        .ok_or_else(|| fail("the step has no `invoke`", None, None))?;
    let call = Call::parse(invoke).map_err(|err| fail(describe_invoke_error(&err), None, None))?;
    let target = session
        .target(&call)
        .map_err(|err| fail(describe_error(&err), None, None))?;
    let types = guest
        .result_types(&target)
        .map_err(|err| fail(describe_error(&err), None, None))?;
    let (outcome, results) = match guest.call(&target, &call) {
        Ok(results) => (Ok(()), results),
        Err(err) => (Err(err), Vec::new()),
    };

    judge(step, outcome, &results, &types, output)
}

/// Compares what one call did with what its step expects.
fn judge(
    step: &StepEntry,
    outcome: anyhow::Result<()>,
    results: &[Val],
    types: &[wasmtime::component::Type],
    output: &CapturedOutput,
) -> Result<(), Failure> {
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
            let message = describe_error(&err);
            let guest_stderr = output.stderr();
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
        (Err(err), _) => Err(fail(describe_error(&err), None, None)),
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
        ) => match (types.first(), results.first()) {
            (Some(ty), Some(value)) => compare(ty, expected, value),
            _ => Err(fail(
                "the function returns nothing to compare",
                Some(expected.clone()),
                Some(String::new()),
            )),
        },
        (
            Ok(()),
            StepEntry {
                expect_error: Some(expected),
                ..
            },
        ) => judge_error(expected, results, types, &actual),
        (Ok(()), _) => Ok(()),
    }
}

/// `expect-error`: the call returned `err(payload)` with the expected payload.
fn judge_error(
    expected: &str,
    results: &[Val],
    types: &[wasmtime::component::Type],
    actual: &dyn Fn() -> String,
) -> Result<(), Failure> {
    match results.first() {
        Some(Val::Result(Err(payload))) => match (payload, types.first()) {
            (None, _) if expected.trim().is_empty() => Ok(()),
            (Some(payload), Some(wasmtime::component::Type::Result(result_ty))) => {
                match result_ty.err() {
                    Some(err_ty) => compare(&err_ty, expected, payload),
                    None => Err(fail(
                        "the result type has no error payload",
                        Some(expected.to_owned()),
                        Some(actual()),
                    )),
                }
            }
            _ => Err(fail(
                "the error payload differs",
                Some(expected.to_owned()),
                Some(actual()),
            )),
        },
        _ => Err(fail(
            "the call did not return `err(...)`",
            Some(format!("err({expected})")),
            Some(actual()),
        )),
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

fn describe_invoke_error(err: &InvokeError) -> String {
    use miette::Diagnostic as _;
    match err.help() {
        Some(help) => format!("{err} ({help})"),
        None => err.to_string(),
    }
}

/// A guest failure in words, as `wcomp run` says it: the limit it hit, a stubbed import it
/// called, or its trap (without the backtrace, which the test's stderr does not need).
fn describe_error(err: &anyhow::Error) -> String {
    if let Some(run) = crate::diagnostic::find::<RunError>(err) {
        return match run {
            RunError::Limit { limit, .. } => limit.to_string(),
            RunError::Trap { message, .. } => format!("the guest trapped: {message}"),
            other => format!("{other}"),
        };
    }
    if let Some(invoke) = crate::diagnostic::find::<InvokeError>(err) {
        return describe_invoke_error(invoke);
    }
    let root = err.root_cause().to_string();
    if root.starts_with(crate::runtime::engine::STUB_CALLED) {
        return root;
    }
    format!("{err:#}")
}
