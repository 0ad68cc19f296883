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
pub mod http;
pub mod invoke;
pub mod limits;
pub mod profile;
pub mod sandbox;
pub mod session;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::diagnostic::{Report as _, ReportResult as _};
use anyhow::Context as _;

pub use cache::{CacheMode, CacheOutcome};
pub use engine::{Execution, Host, UnknownImports};
pub use http::{HttpGrant, HttpHooks};
pub use invoke::{Call, InvokeError};
pub use limits::{LimitExceeded, Limits};
pub use sandbox::{CapturedOutput, DirGrant, EnvGrant, GuestIo, NetGrant, Sandbox, SandboxError};
pub use session::{Guest, Session, SessionOptions};

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
    /// Where outgoing HTTP requests may go (`--allow-http`).
    pub http: Vec<HttpGrant>,
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

impl RunOptions {
    /// The session these options describe.
    pub fn session_options(&self) -> SessionOptions {
        SessionOptions {
            sandbox: self.sandbox.clone(),
            limits: self.limits,
            cache: self.cache.clone(),
            unknown_imports: self.unknown_imports,
            events: self.events.clone(),
            http: self.http.clone(),
            execution: Execution::Blocking,
        }
    }
}

/// Loads, instantiates and runs a component. With a cache, a component file seen before is
/// not even read: the path index names its compiled code (see [`cache::recall`]).
pub fn run(options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let session = Session::open(&options.component, options.session_options())?;
    let outcome = run_in(&session, options);
    leave(options, session);
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
    let session = Session::from_bytes(&options.component, bytes, options.session_options())?;
    run_in(&session, options)
}

/// One guest of `session`: the `--invoke` call, or `wasi:cli/run`.
fn run_in(session: &Session, options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let Some(source) = &options.invoke else {
        if !session.is_command() {
            let example = invoke::example_call(session.engine(), session.component())
                .unwrap_or_else(|| "func()".into());
            return Err(RunError::NotACommand {
                path: options.component.clone(),
                example,
            }
            .report());
        }
        let (code, guest) = session.run_command(&options.args)?;
        leave(options, guest);
        return Ok(RunOutcome::Exited(code));
    };
    // Resolve what to call before instantiating, so a bad call costs no guest time.
    let call = Call::parse(source).report_err()?;
    let target = session.target(&call)?;
    let mut guest = session.instantiate(&options.args, GuestIo::Inherit)?;
    let results = guest.call(&target, &call)?;
    leave(options, guest);
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

pub(crate) fn instantiate_error(path: &Path, err: wasmtime::Error) -> anyhow::Error {
    if err.downcast_ref::<wasmtime::Trap>().is_some() {
        return guest_error(err);
    }
    RunError::Instantiate {
        path: path.to_owned(),
        source: err.into(),
    }
    .report()
}

/// Turns a trap into [`RunError::Trap`] with the guest backtrace; other errors pass through.
pub(crate) fn guest_error(err: wasmtime::Error) -> anyhow::Error {
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
