//! Printing what the `wit` operations found, in the format the user asked for: diagnostics
//! on stderr for people, JSON lines or a SARIF log on stdout for tools, diffs and reports on
//! stdout. Also maps each outcome to its exit status.

use std::path::Path;

use serde_json::json;

use crate::ExitStatus;
use crate::diagnostic::Report as _;
use crate::printer::OutputFormat;
use crate::printer::Printer;
use crate::wit::check::CheckReport;
use crate::wit::diagnostics::{self, Diagnostic, SourceFiles};
use crate::wit::diff::DiffReport;
use crate::wit::fmt::{FmtError, FmtOutcome};
use crate::wit::lint;

/// One diagnostic: a JSON object, or the rendered text on stderr.
pub fn print_diagnostic(diagnostic: &Diagnostic, sources: &mut SourceFiles, printer: &Printer) {
    if printer.is_json() {
        printer.json(diagnostics::to_json(diagnostic, sources));
    } else {
        printer.raw_stderr(&diagnostics::render_human(
            diagnostic,
            sources,
            printer.color(),
        ));
    }
}

/// `wit check --list-rules`.
pub fn print_rules(printer: &Printer) {
    for rule in lint::RULES {
        if printer.is_json() {
            let level = serde_json::to_value(rule.default).unwrap_or_default();
            printer.json(json!({"reason": "wit-lint-rule", "id": rule.id, "default": level, "summary": rule.summary, "help": rule.help}));
        } else {
            printer.data(format_args!("{:<28}{}", rule.id, rule.summary));
        }
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
    if printer.is_json() {
        printer.json(json!({
            "reason": "wit-check-finished",
            "packages": report.packages,
            "files": report.files,
            "errors": errors,
            "warnings": warnings,
            "success": errors == 0,
        }));
    }
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
        if printer.is_json() {
            let written = file.changed() && !check;
            printer.json(json!({"reason": "wit-formatted", "path": shown, "changed": file.changed(), "written": written, "diff": diff}));
        } else if let Some(diff) = diff {
            printer.data(diff.trim_end());
        }
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
    if printer.is_json() {
        printer.json(crate::wit::diff::to_json(report));
    } else {
        printer.data(crate::wit::diff::render_human(report).trim_end());
    }
    if report.semver.ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
