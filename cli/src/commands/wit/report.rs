//! Printing what the `wit` operations found, in the format the user asked for: diagnostics
//! on stderr for people, JSON lines or a SARIF log on stdout for tools, diffs and reports on
//! stdout. Also maps each outcome to its exit status.

use std::cell::RefCell;
use std::path::Path;

use serde_json::{Value, json};

use crate::ExitStatus;
use crate::diagnostic::Report as _;
use crate::printer::{Message, OutputFormat, Printer};
use crate::wit::check::CheckReport;
use crate::wit::diagnostics::{self, Diagnostic, SourceFiles};
use crate::wit::diff::DiffReport;
use crate::wit::fmt::{FmtError, FmtOutcome};
use crate::wit::lint;

/// One diagnostic: a JSON object, or the rendered text on stderr.
pub fn print_diagnostic(diagnostic: &Diagnostic, sources: &mut SourceFiles, printer: &Printer) {
    printer.emit(&DiagnosticMessage {
        diagnostic,
        sources: RefCell::new(sources),
    });
}

/// A diagnostic with the sources it points into (read on demand, hence the cell).
struct DiagnosticMessage<'a> {
    diagnostic: &'a Diagnostic,
    sources: RefCell<&'a mut SourceFiles>,
}

impl Message for DiagnosticMessage<'_> {
    fn to_json(&self) -> Value {
        diagnostics::to_json(self.diagnostic, &mut self.sources.borrow_mut())
    }

    fn show(&self, printer: &Printer) {
        printer.raw_stderr(&diagnostics::render_human(
            self.diagnostic,
            &mut self.sources.borrow_mut(),
            printer.color(),
        ));
    }
}

/// `wit check --list-rules`.
pub fn print_rules(printer: &Printer) {
    for rule in lint::RULES {
        printer.emit(rule);
    }
}

impl Message for lint::Rule {
    fn to_json(&self) -> Value {
        let level = serde_json::to_value(self.default).unwrap_or_default();
        json!({"reason": "wit-lint-rule", "id": self.id, "default": level, "summary": self.summary, "help": self.help})
    }

    fn show(&self, printer: &Printer) {
        printer.data(format_args!("{:<28}{}", self.id, self.summary));
    }
}

/// `wit check`: every diagnostic, then a summary; exit 1 on errors.
pub fn print_check(
    report: &mut CheckReport,
    printer: &Printer,
    cwd: &Path,
) -> anyhow::Result<ExitStatus> {
    let (errors, warnings) = (report.errors(), report.warnings());
    match printer.format() {
        OutputFormat::Sarif => {
            let sarif = crate::wit::sarif::to_sarif(&report.diagnostics, &report.levels, cwd);
            printer.data(serde_json::to_string_pretty(&sarif)?);
        }
        _ => {
            for diagnostic in &report.diagnostics {
                print_diagnostic(diagnostic, &mut report.sources, printer);
            }
        }
    }
    printer.emit(&CheckFinished {
        report,
        errors,
        warnings,
    });
    let summary = match (errors, warnings) {
        (0, 0) => "no problems".to_owned(),
        (e, w) => format!("{} error{}, {} warning{}", e, plural(e), w, plural(w)),
    };
    let checked = if report.packages.is_empty() {
        "WIT".to_owned()
    } else {
        report.packages.join(", ")
    };
    printer.status(
        "Checked",
        format_args!(
            "{checked} ({} file{}): {summary}",
            report.files,
            plural(report.files)
        ),
    );
    Ok(if errors > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `wit fmt`: refusals and invalid packages, diffs under `--check`, a summary. Exit 1 when
/// something was refused or invalid, or (with `--check`) would change.
pub fn print_fmt(outcome: FmtOutcome, check: bool, printer: &Printer) -> ExitStatus {
    let mut sources = outcome.sources;
    let failures = outcome.failures.len();
    for failure in outcome.failures {
        match failure {
            FmtError::Invalid(diagnostic) => print_diagnostic(&diagnostic, &mut sources, printer),
            refused => {
                crate::error::report(printer, &refused.report());
            }
        }
    }
    for file in &outcome.files {
        let shown = sources.display(&file.path);
        let diff = (check && file.changed()).then(|| {
            let diff = similar::TextDiff::from_lines(&file.original, &file.formatted);
            diff.unified_diff()
                .context_radius(3)
                .header(&shown, &shown)
                .to_string()
        });
        printer.emit(&Formatted {
            path: &shown,
            changed: file.changed(),
            written: file.changed() && !check,
            diff: diff.as_deref(),
        });
    }
    let changed = outcome.files.iter().filter(|f| f.changed()).count();
    let verb = if check {
        "would reformat"
    } else {
        "reformatted"
    };
    printer.status(
        if check { "Checked" } else { "Formatted" },
        format_args!(
            "{} file{} ({changed} {verb}, {failures} refused or invalid)",
            outcome.files.len(),
            plural(outcome.files.len())
        ),
    );
    if failures > 0 || (check && changed > 0) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// `wit diff`: the report; exit 1 when the version does not fit the changes.
pub fn print_diff(report: &DiffReport, printer: &Printer) -> ExitStatus {
    printer.emit(report);
    if report.semver.ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

/// The end of `wit check`, in JSON (people read the `Checked` line after it).
struct CheckFinished<'a> {
    report: &'a CheckReport,
    errors: usize,
    warnings: usize,
}

impl Message for CheckFinished<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": "wit-check-finished",
            "packages": self.report.packages,
            "files": self.report.files,
            "errors": self.errors,
            "warnings": self.warnings,
            "success": self.errors == 0,
        })
    }

    fn show(&self, _: &Printer) {}
}

/// One file `wit fmt` looked at; people see its diff under `--check`.
struct Formatted<'a> {
    path: &'a str,
    changed: bool,
    written: bool,
    diff: Option<&'a str>,
}

impl Message for Formatted<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "wit-formatted", "path": self.path, "changed": self.changed, "written": self.written, "diff": self.diff})
    }

    fn show(&self, printer: &Printer) {
        if let Some(diff) = self.diff {
            printer.data(diff.trim_end());
        }
    }
}

impl Message for DiffReport {
    fn to_json(&self) -> Value {
        crate::wit::diff::to_json(self)
    }

    fn show(&self, printer: &Printer) {
        printer.data(crate::wit::diff::render_human(self).trim_end());
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
