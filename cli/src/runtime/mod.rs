//! Running components on an embedded wasmtime with WASI 0.2 and 0.3: `wasi:cli/run` commands,
//! or one exported function (`async` ones included) called with WAVE arguments (the syntax of
//! `wasmtime run --invoke`). Async components run on an event loop ([`session::compile_with`]).
//!
//! The guest is sandboxed deny-by-default ([`Sandbox`]: stdio and its arguments, nothing else
//! unless granted), held to [`Limits`] (time, fuel, memory; each hit is its own error), and its
//! compiled code is cached on disk ([`cache`]). Instantiation goes through `InstancePre`, so
//! import resolution happens once per component. `bench` measures all of this. Nothing here
//! knows about clap or the printer: callers observe a run through [`Events`].

pub mod bench;
pub mod cache;
pub mod config;
pub mod engine;
pub mod guest;
pub mod http;
pub mod invoke;
pub mod keyvalue;
pub mod limits;
pub mod nn;
pub mod profile;
pub mod sandbox;
pub mod session;

use std::path::PathBuf;

use crate::diagnostic::{Report as _, ReportResult as _};
use anyhow::Context as _;

pub use cache::{CacheMode, CacheOutcome};
pub use config::ConfigValue;
pub use engine::{Execution, Host, UnknownImports};
pub use guest::{
    Events, GuestBacktrace, RunError, RunEvent, check_component, guest_error, instantiate_error,
    load,
};
pub use http::{HttpGrant, HttpHooks};
pub use invoke::{Call, InvokeError};
pub use keyvalue::KvGrant;
pub use limits::{LimitExceeded, Limits};
pub use sandbox::{
    CapturedOutput, DirGrant, EnvGrant, GuestIo, NetGrant, Sandbox, SandboxError, Services,
};
pub use session::{Guest, Session, SessionOptions};

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
            services: None,
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
        let (code, mut guest) = session.run_command(&options.args)?;
        guest.stop_time_limit();
        leave(options, guest);
        return Ok(RunOutcome::Exited(code));
    };
    // Resolve what to call before instantiating, so a bad call costs no guest time.
    let call = Call::parse(source).report_err()?;
    let target = session.target(&call)?;
    let mut guest = session.instantiate(&options.args, GuestIo::Inherit)?;
    let results = guest.call(&target, &call)?;
    guest.stop_time_limit();
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
