//! Running components on an embedded wasmtime with WASI 0.2: `wasi:cli/run` commands, or one
//! exported function called with WAVE arguments (the syntax of `wasmtime run --invoke`).
//!
//! The guest is sandboxed deny-by-default ([`Sandbox`]: stdio and its arguments, nothing else
//! unless granted), held to [`Limits`] (time, fuel, memory; each hit is its own error), and its
//! compiled code is cached on disk ([`cache`]). Instantiation goes through `InstancePre`, so
//! import resolution happens once per component. `bench` measures all of this. Nothing here
//! knows about clap or the printer: callers observe a run through [`Events`].

pub mod bench;
pub mod cache;
pub mod engine;
pub mod invoke;
pub mod limits;
pub mod profile;
pub mod sandbox;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::diagnostic::Diagnosed;
use crate::diagnostic::{Report as _, ReportResult as _};
use anyhow::Context as _;
use wasmtime::Store;
use wasmtime::component::Val;

pub use cache::{CacheMode, CacheOutcome};
pub use engine::{Host, UnknownImports};
pub use invoke::{Call, InvokeError};
pub use limits::{LimitExceeded, Limits};
pub use sandbox::{DirGrant, EnvGrant, NetGrant, Sandbox, SandboxError};

/// Errors from running a guest.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunError {
    /// The file is not a component.
    #[error("`{path}` is not a WebAssembly component")]
    #[diagnostic(help("{advice}"))]
    NotAComponent { path: PathBuf, advice: String },
    /// The component needs an import nobody provides.
    #[error("cannot instantiate `{path}`")]
    #[diagnostic(help(
        "the component imports something the host does not provide; compose it with the component that exports it (`wcomp compose <this> --plug <provider>`)"
    ))]
    Instantiate {
        path: PathBuf,
        #[source]
        source: anyhow::Error,
    },
    /// Without `--invoke`, the component must be a command.
    #[error("`{path}` does not export `wasi:cli/run`, so it cannot run as a command")]
    #[diagnostic(help("call one of its functions with `--invoke`, e.g. `--invoke '{example}'`"))]
    NotACommand { path: PathBuf, example: String },
    /// The guest hit one of its limits; the source is where it was.
    #[error("{limit}")]
    #[diagnostic(forward(limit))]
    Limit {
        limit: LimitExceeded,
        #[source]
        backtrace: Option<GuestBacktrace>,
    },
    /// The guest trapped.
    #[error("the guest trapped: {message}{}", backtrace.as_deref().map(|bt| format!("\n{bt}")).unwrap_or_default())]
    Trap {
        message: String,
        backtrace: Option<String>,
    },
}

/// Where in the guest something happened, as wasmtime prints it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GuestBacktrace(pub String);

/// What `wcomp run` should do. The defaults are the safe ones: no capabilities beyond stdio,
/// finite time and memory, no disk cache, unknown imports refused.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub component: PathBuf,
    /// A WAVE call such as `render("hi")`; `None` runs `wasi:cli/run`.
    pub invoke: Option<String>,
    /// Arguments after `--`, visible to the guest after its own name.
    pub args: Vec<String>,
    /// What the guest may touch beyond stdio.
    pub sandbox: Sandbox,
    /// Time, fuel and memory limits.
    pub limits: Limits,
    /// Where compiled code is cached, if anywhere.
    pub cache: CacheMode,
    /// Whether imports the host lacks stop instantiation or trap when called.
    pub unknown_imports: UnknownImports,
    /// Who hears about the run's progress (compilation, grants, denials).
    pub events: Events,
    /// The caller ends the process as soon as the run returns: leave the guest's store, code
    /// and engine for the operating system to reclaim rather than tearing them down one
    /// mapping at a time (a measurable part of a short `wcomp run`). Callers that run many
    /// guests in one process leave this off.
    pub skip_teardown: bool,
}

/// Something that happened during a run, for `-v` and `--format json`.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// The component's code is ready: compiled, or loaded from the cache.
    Compiled {
        cache: CacheOutcome,
        elapsed: Duration,
        entry: Option<PathBuf>,
        /// Found through the path index, without reading the component file.
        recalled: bool,
    },
    /// The cache entry could not be written (the run goes on).
    CacheNotWritten { error: String },
    /// One line describing a grant or what stays denied.
    Sandbox { line: String },
    /// The guest tried something it was not granted; `grant` is the flag that would allow it.
    Denied { what: String, grant: String },
    /// Something worth telling the user that is not an error.
    Note { message: String },
    /// The time limit passed a while ago and the guest is still blocked in a host call
    /// (sleeping, reading), where it cannot be interrupted; it ends when the call returns.
    /// Sent from the timer thread. A command-line caller may end the process here.
    Overdue { limit: LimitExceeded },
}

/// A sink for [`RunEvent`]s; the default drops them.
#[derive(Clone, Default)]
pub struct Events(Option<Arc<EventSink>>);

type EventSink = dyn Fn(&RunEvent) + Send + Sync;

impl Events {
    pub fn new(sink: impl Fn(&RunEvent) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(sink)))
    }

    pub fn emit(&self, event: &RunEvent) {
        if let Some(sink) = &self.0 {
            sink(event);
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Events(sink)"
        } else {
            "Events(none)"
        })
    }
}

/// How a run ended.
#[derive(Debug)]
pub enum RunOutcome {
    /// `--invoke` returned these values, one WAVE string each.
    Returned(Vec<String>),
    /// `wasi:cli/run` finished with this exit code.
    Exited(i32),
}

/// Loads, instantiates and runs a component. With a cache, a component file seen before is
/// not even read: the path index names its compiled code (see [`cache::recall`]).
pub fn run(options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let engine = engine::engine_for(&options.limits)?;
    let variant = engine::variant(&options.limits);
    let is_text = options
        .component
        .extension()
        .is_some_and(|ext| ext == "wat");
    let recalled = if is_text {
        None
    } else {
        cache::recall(&engine, variant, &options.component, &options.cache)
    };
    let compiled = match recalled {
        Some(compiled) => compiled,
        None => {
            let bytes = load(&options.component)?;
            let compiled = compile(options, &engine, &bytes)?;
            if !is_text {
                cache::remember(variant, &options.component, &compiled, &options.cache);
            }
            compiled
        }
    };
    let outcome = run_compiled(options, &engine, compiled);
    leave(options, engine);
    outcome
}

/// Drops `value`, unless the process is about to end anyway ([`RunOptions::skip_teardown`]).
fn leave<T>(options: &RunOptions, value: T) {
    if options.skip_teardown {
        std::mem::forget(value);
    }
}

/// Runs `bytes` as the component `options.component` names (the path is only used in
/// messages and as the guest's program name). Any bytes at all give an error, never a panic.
pub fn run_bytes(options: &RunOptions, bytes: &[u8]) -> anyhow::Result<RunOutcome> {
    let engine = engine::engine_for(&options.limits)?;
    let compiled = compile(options, &engine, bytes)?;
    run_compiled(options, &engine, compiled)
}

fn compile(
    options: &RunOptions,
    engine: &wasmtime::Engine,
    bytes: &[u8],
) -> anyhow::Result<cache::Compiled> {
    check_component(&options.component, bytes).report_err()?;
    cache::load_or_compile(engine, bytes, &options.cache)
        .with_context(|| format!("cannot compile `{}`", options.component.display()))
}

fn run_compiled(
    options: &RunOptions,
    engine: &wasmtime::Engine,
    compiled: cache::Compiled,
) -> anyhow::Result<RunOutcome> {
    options.events.emit(&RunEvent::Compiled {
        cache: compiled.outcome.clone(),
        elapsed: compiled.elapsed,
        entry: compiled.entry.clone(),
        recalled: compiled.recalled,
    });
    if let Some(error) = compiled.store_error {
        options.events.emit(&RunEvent::CacheNotWritten { error });
    }
    let component = compiled.component;
    for line in options.sandbox.describe() {
        options.events.emit(&RunEvent::Sandbox { line });
    }

    let program = options.component.file_name().map_or_else(
        || "component".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut argv = vec![program];
    argv.extend(options.args.iter().cloned());

    // Resolve what to call before instantiating, so a bad call costs no guest time.
    let call = match &options.invoke {
        Some(source) => {
            let call = Call::parse(source).report_err()?;
            let target = invoke::find_function(engine, &component, &call).report_err()?;
            Some((call, target))
        }
        None => {
            let has_run = component
                .component_type()
                .exports(engine)
                .any(|(name, _)| name.starts_with("wasi:cli/run@"));
            if !has_run {
                let example =
                    invoke::example_call(engine, &component).unwrap_or_else(|| "func()".into());
                return Err(RunError::NotACommand {
                    path: options.component.clone(),
                    example,
                }
                .report());
            }
            None
        }
    };

    let linker = engine::linker(engine, &component, options.unknown_imports)?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|err| instantiate_error(&options.component, err))?;
    let wasi = options
        .sandbox
        .wasi_ctx(&argv, &options.events)
        .report_err()?;
    let overdue = options.limits.timeout.map(|limit| {
        let events = options.events.clone();
        Box::new(move || {
            events.emit(&RunEvent::Overdue {
                limit: LimitExceeded::Time { limit },
            });
        }) as limits::Overdue
    });
    let (mut store, _deadline) = engine::store(engine, wasi, &options.limits, overdue)?;
    let limits = &options.limits;

    let outcome = match call {
        Some((call, target)) => {
            let instance = pre
                .instantiate(&mut store)
                .map_err(|err| fail(&mut store, limits, err, Some(&options.component)))?;
            let func = target.func(&instance, &mut store)?;
            let ty = func.ty(&store);
            let params = call.params(&ty, &target.qualified_name).report_err()?;
            let mut results = vec![Val::Bool(false); ty.results().len()];
            func.call(&mut store, &params, &mut results)
                .map_err(|err| fail(&mut store, limits, err, None))?;
            let rendered = results
                .iter()
                .map(|val| {
                    val.to_wave()
                        .map_err(anyhow::Error::from)
                        .context("cannot print a result as WAVE")
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(RunOutcome::Returned(rendered))
        }
        None => {
            let command = wasmtime_wasi::p2::bindings::sync::CommandPre::new(pre.clone())
                .map_err(|err| instantiate_error(&options.component, err))?
                .instantiate(&mut store)
                .map_err(|err| fail(&mut store, limits, err, Some(&options.component)))?;
            match command.wasi_cli_run().call_run(&mut store) {
                Ok(Ok(())) => Ok(RunOutcome::Exited(0)),
                Ok(Err(())) => Ok(RunOutcome::Exited(1)),
                Err(err) => match err.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    Some(exit) => Ok(RunOutcome::Exited(exit.0)),
                    None => Err(fail(&mut store, limits, err, None)),
                },
            }
        }
    };
    leave(options, (store, pre, linker, component));
    outcome
}

/// Refuses anything but a component binary, saying what it is instead.
pub fn check_component(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    if wasmparser::Parser::is_component(bytes) {
        return Ok(());
    }
    let advice = if bytes.starts_with(b"\0asm") {
        "this is a core module; build a component (`wcomp build`) or wrap it with `wasm-tools component new`"
    } else {
        "this is not WebAssembly at all; pass a `.wasm` component"
    };
    Err(RunError::NotAComponent {
        path: path.to_owned(),
        advice: advice.into(),
    })
}

/// Reads a component, accepting the WebAssembly text format for `.wat` files.
pub fn load(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = fs_err::read(path)?;
    if path.extension().is_some_and(|ext| ext == "wat") {
        let binary = wat::parse_bytes(&bytes).map_err(|mut err| {
            err.set_path(path);
            anyhow::Error::new(err).context(format!(
                "`{}` is not valid WebAssembly text",
                path.display()
            ))
        })?;
        return Ok(binary.into_owned());
    }
    Ok(bytes)
}

fn instantiate_error(path: &Path, err: wasmtime::Error) -> anyhow::Error {
    if err.downcast_ref::<wasmtime::Trap>().is_some() {
        return guest_error(err);
    }
    RunError::Instantiate {
        path: path.to_owned(),
        source: err.into(),
    }
    .report()
}

/// The error for a guest that stopped: a limit it hit, else its trap, else (while
/// instantiating, `path` given) a failure to instantiate.
fn fail(
    store: &mut Store<Host>,
    limits: &Limits,
    err: wasmtime::Error,
    path: Option<&Path>,
) -> anyhow::Error {
    if let Some(exceeded) = limits::exceeded(store, limits, &err) {
        let backtrace = err
            .downcast_ref::<wasmtime::WasmBacktrace>()
            .map(|bt| bt.to_string().trim_end().to_owned())
            .filter(|bt| !bt.is_empty())
            .map(GuestBacktrace);
        let code = exceeded.exit_code();
        let limit = RunError::Limit {
            limit: exceeded,
            backtrace,
        };
        return anyhow::Error::new(Diagnosed::new(limit).with_exit_code(code));
    }
    match path {
        Some(path) => instantiate_error(path, err),
        None => guest_error(err),
    }
}

/// Turns a trap into [`RunError::Trap`] with the guest backtrace; other errors pass through.
fn guest_error(err: wasmtime::Error) -> anyhow::Error {
    let Some(trap) = err.downcast_ref::<wasmtime::Trap>() else {
        return err.into();
    };
    let backtrace = err
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string());
    let message = trap.to_string();
    let mut root = err.root_cause().to_string();
    if root == message {
        root.clear();
    }
    let message = if root.is_empty() {
        message
    } else {
        format!("{message} ({root})")
    };
    RunError::Trap { message, backtrace }.report()
}
