//! The one error renderer: turns an [`anyhow::Error`] into `error:` / `Caused by:` / `hint:`
//! lines (or a JSON object), draws source snippets for errors that carry a location, and maps
//! outcomes to exit codes: 0 ok, 1 user or guest failure, 2 internal error, or the guest's own
//! code when passing one through.

use std::fmt::Write as _;
use std::process::ExitCode;

use miette::{Diagnostic, SourceSpan};

use crate::printer::Printer;

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

/// Prints `err` and returns the exit status it maps to.
pub fn report(printer: &Printer, err: &anyhow::Error) -> ExitStatus {
    let message = err.to_string();
    let mut causes = Vec::new();
    let mut hint = None;
    let mut snippet = None;
    for (index, cause) in err.chain().enumerate() {
        if let Some(output) = cause.downcast_ref::<crate::toolchain::ToolOutput>() {
            printer.raw_stderr(&output.text);
            continue;
        }
        if index > 0 {
            let text = cause.to_string();
            // Wrapping errors often repeat their source; show each text once.
            if !causes.contains(&text) && text != message {
                causes.push(text);
            }
        }
        if let Some(diagnostic) = diagnostic_of(cause) {
            if hint.is_none() {
                hint = diagnostic.help().map(|help| help.to_string());
            }
            if snippet.is_none() {
                snippet = render_snippet(diagnostic);
            }
        }
    }
    printer.error(&message, &causes, snippet.as_deref(), hint.as_deref());
    exit_status_of(err)
}

/// Failure, or the dedicated code of a guest limit (time, fuel, memory).
fn exit_status_of(err: &anyhow::Error) -> ExitStatus {
    use crate::runtime::{LimitExceeded, RunError};
    err.chain()
        .find_map(|cause| match cause.downcast_ref::<RunError>() {
            Some(RunError::Limit { limit, .. }) => Some(limit),
            _ => cause.downcast_ref::<LimitExceeded>(),
        })
        .map_or(ExitStatus::Failure, |limit| {
            ExitStatus::Code(limit.exit_code())
        })
}

/// The first hint (miette `help`) anywhere in the error's chain.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        diagnostic_of(cause)
            .and_then(|d| d.help())
            .map(|help| help.to_string())
    })
}

/// Renders the labelled spans of a diagnostic the way rustc does:
///
/// ```text
///   --> app.wit:3:18
///    |
///  3 |     f: func(x: strin);
///    |                ^^^^^ unknown type
/// ```
pub fn render_snippet(diagnostic: &dyn Diagnostic) -> Option<String> {
    let source = diagnostic.source_code()?;
    let mut out = String::new();
    for label in diagnostic.labels()? {
        let span: &SourceSpan = label.inner();
        // One line of context each side guarantees whole lines come back.
        let Ok(contents) = source.read_span(span, 1, 1) else {
            continue;
        };
        let text = String::from_utf8_lossy(contents.data());
        let mut line_start = contents.span().offset();
        let mut line_number = contents.line() + 1;
        let mut found = None;
        for line in text.split_inclusive('\n') {
            let line_end = line_start + line.len();
            if span.offset() < line_end || line_end == line_start + text.len() {
                found = Some((line.trim_end_matches(['\n', '\r']).to_owned(), line_start));
                break;
            }
            line_start = line_end;
            line_number += 1;
        }
        let Some((line, line_start)) = found else {
            continue;
        };
        let column = span.offset().saturating_sub(line_start);
        let prefix_width = line.get(..column).map_or(column, |s| s.chars().count());
        let width = span
            .len()
            .clamp(1, line.len().saturating_sub(column).max(1));
        let gutter = line_number.to_string().len();
        let name = contents.name().unwrap_or("<input>");
        let _ = writeln!(
            out,
            "{:gutter$}--> {name}:{line_number}:{}",
            "",
            prefix_width + 1
        );
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{line_number} | {line}");
        let _ = writeln!(
            out,
            "{:gutter$} | {}{} {}",
            "",
            " ".repeat(prefix_width),
            "^".repeat(width),
            label.label().unwrap_or("")
        );
    }
    (!out.is_empty()).then_some(out)
}

/// Reports panics as internal errors (exit 2) with a request to file a bug.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let printer = Printer::stderr_only();
        let location = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        printer.error(
            &format!("internal error: wcomp panicked{location}"),
            &[payload],
            None,
            Some("this is a bug in wcomp; please report it with the command you ran"),
        );
        std::process::exit(2);
    }));
}

/// The miette view of wcomp's own error types, for hints and snippets.
fn diagnostic_of<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Diagnostic> {
    macro_rules! try_types {
        ($($ty:ty),* $(,)?) => {
            $(if let Some(diagnostic) = cause.downcast_ref::<$ty>() {
                return Some(diagnostic);
            })*
        };
    }
    try_types!(
        crate::toolchain::ToolchainError,
        crate::toolchain::go::GoError,
        crate::toolchain::python::PythonError,
        crate::scaffold::ScaffoldError,
        crate::wit::WitError,
        crate::wit::lint::LintError,
        crate::wit::fmt::FmtError,
        crate::wit::diff::DiffError,
        crate::commands::wit::WitUsageError,
        crate::compose::ComposeError,
        crate::runtime::RunError,
        crate::runtime::InvokeError,
        crate::runtime::LimitExceeded,
        crate::units::UnitError,
        crate::runtime::SandboxError,
        crate::runtime::bench::BenchError,
        crate::commands::CommandError,
        crate::commands::test::NoTests,
        crate::workspace::WorkspaceError,
        crate::workspace::ManifestError,
        crate::workspace::compose::BuildFailed,
        crate::scaffold::workspace::WorkspaceScaffoldError,
    );
    None
}
