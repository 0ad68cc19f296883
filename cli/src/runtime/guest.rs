//! What running a guest reports, shared by everything that runs one: its errors (traps with
//! the guest's backtrace, a file that is no component), the events of a run for `-v` and
//! `--format json`, and reading a component from disk (`.wat` text included).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::cache::CacheOutcome;
use super::limits::LimitExceeded;
use crate::diagnostic::Report as _;

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
    /// Something an operator must see, in every output format (a keyvalue backend lost or
    /// back, a bucket the guest was denied); the guest goes on.
    Warning { message: String },
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

/// The error of compiling the component at `path`: wasmtime's words under a line naming the
/// file.
pub fn compile_failure(path: &Path, err: anyhow::Error) -> anyhow::Error {
    err.context(format!("cannot compile `{}`", path.display()))
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

pub fn instantiate_error(path: &Path, err: wasmtime::Error) -> anyhow::Error {
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
pub fn guest_error(err: wasmtime::Error) -> anyhow::Error {
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
