use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::commands::CommandError;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::printer::{Message, Printer};
use crate::runtime::profile::RunProfile;
use crate::serve::profile::ServeProfile;
use crate::testing::{self, HttpCase, TestCase, TestOptions, TestResult, report};
use crate::watch::WatchLoop;
use crate::workspace::build::{self as workspace_build, BuildOptions};
use crate::workspace::{self, Workspace};
use crate::{Context, ExitStatus};
use std::collections::BTreeSet;

/// Run the smoke tests declared in wcomp.toml.
///
/// Each `[[test]]` calls exported functions with WAVE arguments and checks the result
/// (`expect`), a trap (`expect-trap`, a substring of the trap or of the guest's stderr),
/// or an error result (`expect-error`, the WAVE of the `err` payload). `steps` run on one
/// instance, for stateful scenarios; every test gets a fresh instance, a time limit and a
/// memory cap.
///
/// Tests run against the composed workspace (building and composing first if stale), or
/// against one component alone — the test's `component`, or every test with `-p` — with the
/// imports nothing provides stubbed by functions that trap and name the import.
///
/// Examples:
///
///   wcomp test
///
///   wcomp test -p analyzer --junit target/junit.xml
///
///   wcomp test words        # only tests whose name contains "words"
///
///   wcomp test --watch words   # again on every save, until Ctrl-C
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Run only tests whose name contains this text.
    pub filter: Option<String>,

    /// Test one component alone instead of the composition.
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub package: Option<String>,

    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Time limit per test: `500ms`, `10s`, `1m30s`, or `none`.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: String,

    /// Test, then test again whenever a source is saved (rebuilding only the components it
    /// changes), until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
}

pub fn run(args: TestArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let root = Workspace::find(&ctx.cwd)
        .ok_or(CommandError::NotInWorkspace { command: "test" })
        .report_err()?;
    if args.watch {
        let stop = std::sync::atomic::AtomicBool::new(false);
        return WatchLoop::new(&root, ctx, crate::error::report)?
            .run(ctx, &stop, |ctx| test_once(&args, &root, ctx));
    }
    test_once(&args, &root, ctx)
}

/// One run of the suite; the manifest is read afresh, so edited tests count under `--watch`.
fn test_once(args: &TestArgs, root: &Path, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let workspace = Workspace::load(root)?;
    let cases = cases(&workspace, args.filter.as_deref())?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Which component each test runs against: `-p` for all, else the test's own, else the
    // composition (`None`).
    let subject_of = |case: &TestCase| args.package.clone().or_else(|| case.component.clone());
    let subjects: BTreeSet<Option<String>> = cases.iter().map(subject_of).collect();
    // The sandbox and limits of `wcomp run` (the workspace's `[run]` table), with the test
    // time limit of `--timeout`.
    let profile = RunProfile::from_manifest(&workspace.manifest).report_err()?;
    let mut limits = profile.limits(TestOptions::default().limits);
    limits.timeout = crate::units::parse_timeout(&args.timeout).report_err()?;
    // `[serve.keyvalue]` buckets too: a test of a served component opens them (in memory).
    let serve = ServeProfile::from_manifest(&workspace.manifest).report_err()?;
    let mut sandbox = profile.sandbox;
    sandbox.merge(serve.state);
    let options = TestOptions {
        stub_imports: true,
        limits,
        sandbox,
        http: serve.http,
        cache: crate::runtime::CacheMode::Dir(crate::runtime::cache::compiled_dir(&ctx.cache_dir)),
    };
    let mut results: Vec<Option<TestResult>> = vec![None; cases.len()];
    for subject in &subjects {
        let component = match subject {
            Some(name) => {
                let packages = vec![name.clone()];
                let builds = workspace_build::build(
                    &workspace_build::BuildGraph::workspace(&workspace),
                    &BuildOptions {
                        packages,
                        jobs,
                        force: false,
                    },
                    ctx,
                )?;
                let builds = workspace_build::check_builds(builds)?;
                builds
                    .into_iter()
                    .next()
                    .and_then(|b| b.output)
                    .expect("a successful build has an output")
            }
            None => workspace::compose::compose(&workspace, jobs, false, ctx)?.output,
        };
        let selected: Vec<usize> = (0..cases.len())
            .filter(|i| subject_of(&cases[*i]) == *subject)
            .collect();
        let label = subject.as_deref().unwrap_or(&workspace.name);
        ctx.printer.status(
            "Testing",
            format_args!(
                "`{label}` ({} test{})",
                selected.len(),
                if selected.len() == 1 { "" } else { "s" }
            ),
        );
        let batch: Vec<TestCase> = selected.iter().map(|i| cases[*i].clone()).collect();
        for (index, result) in selected
            .into_iter()
            .zip(testing::run(&component, &batch, &options)?)
        {
            results[index] = Some(result);
        }
    }
    let results: Vec<TestResult> = results
        .into_iter()
        .map(|r| r.expect("every test ran"))
        .collect();
    let suite = args
        .package
        .clone()
        .unwrap_or_else(|| workspace.name.clone());

    for result in &results {
        ctx.printer.emit(&TestFinished(result));
    }
    ctx.printer.emit(&TestSummary(&results));
    if let Some(junit) = &args.junit {
        crate::fsutil::write(&ctx.path(junit), report::junit(&suite, &results).as_bytes())?;
    }
    Ok(if results.iter().all(|r| r.passed()) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// One test's result (in JSON; people read the report of them all).
struct TestFinished<'a>(&'a TestResult);

impl Message for TestFinished<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "test", "passed": self.0.passed(), "result": self.0})
    }

    fn show(&self, _: &Printer) {}
}

/// The report of a test run, ending `N passed, N failed`.
struct TestSummary<'a>(&'a [TestResult]);

impl Message for TestSummary<'_> {
    fn to_json(&self) -> Value {
        let passed = self.0.iter().filter(|r| r.passed()).count();
        json!({"reason": "test-summary", "passed": passed, "failed": self.0.len() - passed})
    }

    fn show(&self, printer: &Printer) {
        printer.data(report::human(self.0).trim_end());
        printer.data(report::summary(self.0));
    }
}

/// The manifest's tests, checked and filtered.
fn cases(workspace: &Workspace, filter: Option<&str>) -> anyhow::Result<Vec<TestCase>> {
    let manifest = &workspace.manifest;
    let mut seen = std::collections::BTreeSet::new();
    let mut cases = Vec::new();
    for entry in &manifest.tests {
        let test = entry.get_ref();
        let name = test.name.get_ref();
        if !seen.insert(name.clone()) {
            return Err(manifest
                .error(
                    test.name.span(),
                    format!("two tests are named `{name}`"),
                    "duplicate name",
                    None,
                )
                .report());
        }
        if !test.steps.is_empty() && test.invoke.is_some() {
            return Err(manifest
                .error(
                    entry.span(),
                    format!("test `{name}` has both `invoke` and `steps`"),
                    "in this test",
                    Some("put every call in `steps`, or use a single `invoke`".into()),
                )
                .report());
        }
        let http = http_case(workspace, entry)?;
        let steps = if http.is_some() {
            Vec::new()
        } else {
            test.all_steps()
        };
        for step in &steps {
            if step.invoke.is_none() {
                return Err(manifest
                    .error(
                        entry.span(),
                        format!("test `{name}` has a step without `invoke`"),
                        "in this test",
                        Some("each step needs `invoke = '<function>(<args>)'`".into()),
                    )
                    .report());
            }
            let expectations = [&step.expect, &step.expect_trap, &step.expect_error]
                .iter()
                .filter(|e| e.is_some())
                .count();
            if expectations > 1 {
                return Err(manifest
                    .error(
                        entry.span(),
                        format!("test `{name}` expects more than one outcome of one call"),
                        "in this test",
                        Some(
                            "use one of `expect`, `expect-trap` and `expect-error` per call".into(),
                        ),
                    )
                    .report());
            }
        }
        let component = match &test.component {
            Some(component) => {
                workspace
                    .member(component.get_ref())
                    .map_err(|_| {
                        manifest.error(
                        component.span(),
                        format!(
                            "test `{name}` names `{}`, which is not a component of this workspace",
                            component.get_ref()
                        ),
                        "unknown component",
                        None,
                    )
                    })
                    .report_err()?;
                Some(component.get_ref().clone())
            }
            None => None,
        };
        if filter.is_none_or(|filter| name.contains(filter)) {
            cases.push(TestCase {
                name: name.clone(),
                component,
                steps,
                http,
                kv: kv_entries(&test.kv),
                expect_kv: kv_entries(&test.expect_kv),
            });
        }
    }
    if cases.is_empty() && manifest.tests.is_empty() {
        return Err(NoTests.report());
    }
    Ok(cases)
}

/// `{ bucket = { key = "value" } }` as bytes.
fn kv_entries(
    table: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
) -> crate::testing::case::KvEntries {
    table
        .iter()
        .map(|(bucket, entries)| {
            let entries = entries
                .iter()
                .map(|(key, value)| (key.clone(), value.clone().into_bytes()))
                .collect();
            (bucket.clone(), entries)
        })
        .collect()
}

/// The HTTP request of a test with `request = "<METHOD> <path>"`, checked.
fn http_case(
    workspace: &Workspace,
    entry: &toml::Spanned<crate::manifest::TestEntry>,
) -> anyhow::Result<Option<HttpCase>> {
    let manifest = &workspace.manifest;
    let test = entry.get_ref();
    let name = test.name.get_ref();
    let Some(request) = &test.request else {
        let http_only = test.expect_status.is_some()
            || test.expect_body.is_some()
            || test.expect_body_contains.is_some()
            || !test.expect_header.is_empty()
            || test.body.is_some()
            || test.body_file.is_some()
            || !test.headers.is_empty();
        if http_only {
            return Err(manifest
                .error(
                    entry.span(),
                    format!("test `{name}` has HTTP expectations but no `request`"),
                    "in this test",
                    Some("add `request = \"GET /\"` (a method and a path)".into()),
                )
                .report());
        }
        return Ok(None);
    };
    let bad = |message: String, help: &str| {
        manifest
            .error(request.span(), message, "here", Some(help.to_owned()))
            .report()
    };
    let (method, path) = request
        .get_ref()
        .trim()
        .split_once(' ')
        .map(|(m, p)| (m.trim().to_owned(), p.trim().to_owned()))
        .filter(|(m, p)| !m.is_empty() && p.starts_with('/'))
        .ok_or_else(|| {
            bad(
                format!("`{}` is not `<METHOD> <path>`", request.get_ref()),
                "write a method and a path: `GET /`, `POST /stats?top=3`",
            )
        })?;
    if http::Method::from_bytes(method.as_bytes()).is_err() {
        return Err(bad(
            format!("`{method}` is not an HTTP method"),
            "use `GET`, `POST`, `PUT`, `DELETE`, …",
        ));
    }
    if test.invoke.is_some() || !test.steps.is_empty() {
        return Err(bad(
            format!("test `{name}` has both `request` and calls"),
            "make the request a test of its own",
        ));
    }
    let body = match (&test.body, &test.body_file) {
        (Some(_), Some(file)) => {
            return Err(manifest
                .error(
                    file.span(),
                    format!("test `{name}` has both `body` and `body-file`"),
                    "here",
                    Some("keep one of them".into()),
                )
                .report());
        }
        (Some(body), None) => body.clone().into_bytes(),
        (None, Some(file)) => {
            let path = workspace.root.join(file.get_ref());
            fs_err::read(&path).map_err(|err| {
                manifest
                    .error(
                        file.span(),
                        format!("cannot read `{}`: {err}", file.get_ref().display()),
                        "here",
                        Some("the path is relative to wcomp.toml".into()),
                    )
                    .report()
            })?
        }
        (None, None) => Vec::new(),
    };
    Ok(Some(HttpCase {
        method,
        path,
        headers: test
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body,
        expect_status: test.expect_status,
        expect_body: test.expect_body.clone(),
        expect_body_contains: test.expect_body_contains.clone(),
        expect_headers: test
            .expect_header
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }))
}

/// The manifest declares no tests.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("wcomp.toml declares no tests")]
#[diagnostic(help(
    "add one: `[[test]]` with `name = \"...\"`, `invoke = 'render(\"hi\")'` and `expect = '\"...\"'`"
))]
pub struct NoTests;
