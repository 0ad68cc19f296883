//! How errors are classified where they are made, so the one renderer at the top
//! (`crate::error`) only needs to know a few markers, never the error types of each module:
//!
//! - [`Diagnosed`]: an error that is a `miette` diagnostic (a hint, maybe a labelled source
//!   snippet, maybe an exit code of its own). Operations turn their error types into one with
//!   [`Report::report`].
//! - [`Several`]: several independent failures under one summary (a workspace build in which
//!   some components failed); each is rendered in full before the summary.
//! - [`InternalError`]: a broken invariant in wcomp itself; exit code 2.
//! - [`crate::process::ToolOutput`]: what a failing toolchain printed, shown verbatim.
//!
//! Also the snippet renderer shared by the error renderer and the WIT diagnostics. A leaf: it
//! depends on nothing else in the crate.

use std::fmt::{self, Write as _};

use miette::{Diagnostic, SourceSpan};

/// An error carrying its `miette` diagnostic: hint, labelled source, and optionally the exit
/// code the process should end with.
pub struct Diagnosed {
    inner: Box<dyn Diagnostic + Send + Sync + 'static>,
    exit_code: Option<u8>,
}

impl Diagnosed {
    pub fn new(diagnostic: impl Diagnostic + Send + Sync + 'static) -> Self {
        Self {
            inner: Box::new(diagnostic),
            exit_code: None,
        }
    }

    /// The same error, ending the process with `code` (a guest limit, for instance).
    pub fn with_exit_code(mut self, code: u8) -> Self {
        self.exit_code = Some(code);
        self
    }

    pub fn diagnostic(&self) -> &(dyn Diagnostic + Send + Sync + 'static) {
        &*self.inner
    }

    pub fn exit_code(&self) -> Option<u8> {
        self.exit_code
    }
}

impl fmt::Display for Diagnosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl fmt::Debug for Diagnosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl std::error::Error for Diagnosed {
    /// What the diagnostic wraps (not the diagnostic itself, whose message is this one's):
    /// `{err:#}` shows each message once. [`find`] reaches the typed error inside.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

/// The first error of type `T` in `err`'s chain, looking inside [`Diagnosed`] too.
pub fn find<T: std::error::Error + 'static>(err: &anyhow::Error) -> Option<&T> {
    err.chain().find_map(|cause| {
        cause.downcast_ref::<T>().or_else(|| {
            let diagnosed = cause.downcast_ref::<Diagnosed>()?;
            let inner: &(dyn std::error::Error + 'static) = diagnosed.diagnostic();
            inner.downcast_ref::<T>()
        })
    })
}

/// Turns a diagnostic into an [`anyhow::Error`] that keeps its hint and snippet.
pub trait Report {
    fn report(self) -> anyhow::Error;
}

impl<T: Diagnostic + Send + Sync + 'static> Report for T {
    fn report(self) -> anyhow::Error {
        anyhow::Error::new(Diagnosed::new(self))
    }
}

/// [`Report`] for the error of a `Result`.
pub trait ReportResult<T> {
    fn report_err(self) -> anyhow::Result<T>;
}

impl<T, E: Diagnostic + Send + Sync + 'static> ReportResult<T> for Result<T, E> {
    fn report_err(self) -> anyhow::Result<T> {
        self.map_err(Report::report)
    }
}

/// Several failures reported together: each is rendered in full (with its heading, such as
/// `Failed analyzer (go)`), then `message` as the error that ends the command.
#[derive(Debug)]
pub struct Several {
    pub message: String,
    pub failures: Vec<(String, anyhow::Error)>,
}

impl fmt::Display for Several {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Several {}

/// A bug in wcomp: an invariant that did not hold. Exit code 2, with a request to report it.
#[derive(Debug, thiserror::Error)]
#[error("internal error: {0}")]
pub struct InternalError(pub String);

impl InternalError {
    pub fn error(what: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Self(what.into()))
    }
}

/// The diagnostic of the first [`Diagnosed`] in `err`'s chain.
pub fn diagnostic_of(err: &anyhow::Error) -> Option<&(dyn Diagnostic + Send + Sync + 'static)> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Diagnosed>())
        .map(Diagnosed::diagnostic)
}

/// The first hint (miette `help`) anywhere in the error's chain.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        cause
            .downcast_ref::<Diagnosed>()
            .and_then(|d| d.diagnostic().help())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error, miette::Diagnostic)]
    #[error("the thing broke")]
    #[diagnostic(help("fix the thing"))]
    struct Broke;

    #[test]
    fn reported_diagnostics_keep_their_hint_and_type() {
        let err = Broke.report().context("while doing it");
        assert_eq!(hint_of(&err).as_deref(), Some("fix the thing"));
        assert!(find::<Broke>(&err).is_some());
        // Each message once, however the chain is printed.
        assert_eq!(format!("{err:#}"), "while doing it: the thing broke");
        assert!(diagnostic_of(&err).is_some());
    }
}
