//! The one error renderer: turns an [`anyhow::Error`] into `error:` / `Caused by:` / `hint:`
//! lines (or a JSON object), draws source snippets for errors that carry a location, and maps
//! outcomes to exit codes: 0 ok, 1 user or guest failure, 2 internal error, or a code of the
//! error's own (a guest limit, or the guest's exit code when passing one through).
//!
//! It knows the markers of [`crate::diagnostic`] and [`ToolOutput`], never the error types
//! of the operations: errors are classified where they are made.

use std::process::ExitCode;

use crate::diagnostic::{Diagnosed, InternalError, Several, render_snippet};
use crate::printer::Printer;
use crate::process::ToolOutput;

/// How a command ended, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exit 0.
    Success,
    /// Exit 1: the input, a toolchain or the guest failed.
    Failure,
    /// Exit 2: a bug in wcomp.
    Internal,
    /// A code passed through from a guest.
    Code(u8),
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Internal => ExitCode::from(2),
            ExitStatus::Code(code) => ExitCode::from(code),
        }
    }
}

const REPORT_BUG: &str = "this is a bug in wcomp; please report it with the command you ran";

/// Prints `err` and returns the exit status it maps to.
pub fn report(printer: &Printer, err: &anyhow::Error) -> ExitStatus {
    let message = err.to_string();
    let mut causes = Vec::new();
    let mut hint = None;
    let mut snippet = None;
    for (index, cause) in err.chain().enumerate() {
        if let Some(output) = cause.downcast_ref::<ToolOutput>() {
            printer.raw_stderr(&output.text);
            continue;
        }
        if let Some(several) = cause.downcast_ref::<Several>() {
            for (heading, failure) in &several.failures {
                printer.status("Failed", heading);
                report(printer, failure);
            }
        }
        if index > 0 {
            let text = cause.to_string();
            // Wrapping errors often repeat their source; show each text once.
            if !causes.contains(&text) && text != message {
                causes.push(text);
            }
        }
        if let Some(diagnosed) = cause.downcast_ref::<Diagnosed>() {
            let diagnostic = diagnosed.diagnostic();
            if hint.is_none() {
                hint = diagnostic.help().map(|help| help.to_string());
            }
            if snippet.is_none() {
                snippet = render_snippet(diagnostic);
            }
        }
    }
    let status = exit_status_of(err);
    if status == ExitStatus::Internal && hint.is_none() {
        hint = Some(REPORT_BUG.to_owned());
    }
    printer.error(&message, &causes, snippet.as_deref(), hint.as_deref());
    status
}

/// An internal error's 2, else the first exit code an error carries, else 1.
fn exit_status_of(err: &anyhow::Error) -> ExitStatus {
    if err
        .chain()
        .any(|cause| cause.downcast_ref::<InternalError>().is_some())
    {
        return ExitStatus::Internal;
    }
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Diagnosed>()?.exit_code())
        .map_or(ExitStatus::Failure, ExitStatus::Code)
}

/// Reports panics as internal errors with a request to file a bug. The process goes on: a
/// panic in one request of a server ends that request alone (`serve` answers it `500`), and
/// one on the main thread ends the command with exit code 2 ([`crate::main`]).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let printer = Printer::stderr_only();
        let location = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        printer.error(
            &format!("internal error: wcomp panicked{location}"),
            &[panic_message(info.payload())],
            None,
            Some(REPORT_BUG),
        );
    }));
}

/// The message a panic carried.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Report as _;

    #[derive(Debug, thiserror::Error, miette::Diagnostic)]
    #[error("limit hit")]
    struct Limit;

    #[test]
    fn exit_codes_come_from_the_markers() {
        let printer = Printer::stderr_only();
        assert_eq!(
            report(&printer, &anyhow::anyhow!("plain")),
            ExitStatus::Failure
        );
        let coded = anyhow::Error::new(Diagnosed::new(Limit).with_exit_code(124));
        assert_eq!(
            report(&printer, &coded.context("outer")),
            ExitStatus::Code(124)
        );
        assert_eq!(
            report(&printer, &InternalError::error("a broken invariant")),
            ExitStatus::Internal
        );
        assert_eq!(report(&printer, &Limit.report()), ExitStatus::Failure);
    }
}
