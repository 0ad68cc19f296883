//! SARIF 2.1.0 output for `wit check --format sarif`, the format code hosts (GitHub code
//! scanning, GitLab, Azure DevOps) read to annotate pull requests. One run, one result per
//! diagnostic; lint rules and error classes are listed as rules so ids resolve to help text.

use std::path::Path;

use serde_json::{Value, json};

use super::diagnostics::{Diagnostic, Severity};
use super::lint::{self, Level, LintLevels};

/// Error classes `check` reports besides lint rules, with their descriptions.
const ERROR_CLASSES: &[(&str, &str)] = &[
    ("syntax-error", "the WIT does not follow the grammar"),
    ("invalid-wit", "the WIT is well-formed but invalid"),
    (
        "unknown-name",
        "a type, interface or world that does not exist is referenced",
    ),
    (
        "unknown-package",
        "a package that is not among the dependencies is referenced",
    ),
    ("duplicate-package", "a package is defined twice"),
    ("duplicate-name", "two items of one scope share a name"),
    (
        "cycle",
        "types, interfaces or packages depend on themselves",
    ),
];

/// The SARIF log for `diagnostics`; `base` is the directory relative URIs start from.
pub fn to_sarif(diagnostics: &[Diagnostic], levels: &LintLevels, base: &Path) -> Value {
    let rules: Vec<Value> = lint::RULES
        .iter()
        .map(|rule| {
            let level = match levels.level(rule.id) {
                Level::Allow => "none",
                Level::Warn => "warning",
                Level::Deny => "error",
            };
            json!({
                "id": rule.id,
                "shortDescription": {"text": rule.summary},
                "help": {"text": rule.help},
                "defaultConfiguration": {"level": level},
            })
        })
        .chain(ERROR_CLASSES.iter().map(|(id, summary)| {
            json!({"id": id, "shortDescription": {"text": summary}, "defaultConfiguration": {"level": "error"}})
        }))
        .collect();
    let results: Vec<Value> = diagnostics.iter().map(result).collect();
    let base_uri = format!(
        "file://{}/",
        base.display().to_string().trim_end_matches('/')
    );
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wcomp",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "originalUriBaseIds": {"SRCROOT": {"uri": base_uri}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn result(diagnostic: &Diagnostic) -> Value {
    let mut text = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        text.push_str("\nhint: ");
        text.push_str(help);
    }
    let mut result = json!({
        "ruleId": diagnostic.code,
        "level": match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "message": {"text": text},
    });
    if let Some(loc) = &diagnostic.location {
        let uri = loc.display.replace('\\', "/");
        let location = if Path::new(&loc.display).is_absolute() {
            json!({"uri": format!("file://{uri}")})
        } else {
            json!({"uri": uri, "uriBaseId": "SRCROOT"})
        };
        result["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": location,
                "region": {
                    "startLine": loc.line,
                    "startColumn": loc.column,
                    "endLine": loc.end_line,
                    "endColumn": loc.end_column,
                },
            },
        }]);
    }
    result
}
