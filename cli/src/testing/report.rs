//! Test reports: the human listing, JSON lines, and JUnit XML for CI systems.

use std::fmt::Write as _;

use super::TestResult;

/// `N passed, N failed`.
pub fn summary(results: &[TestResult]) -> String {
    let passed = results.iter().filter(|r| r.passed()).count();
    format!("{passed} passed, {} failed", results.len() - passed)
}

/// One line per test; failures followed by expected/actual and the guest's stderr.
pub fn human(results: &[TestResult]) -> String {
    let mut out = String::new();
    for result in results {
        match &result.failure {
            None => {
                let _ = writeln!(out, "test {} ... ok", result.name);
            }
            Some(failure) => {
                let _ = writeln!(out, "test {} ... FAILED", result.name);
                let at = match (&failure.invoke, failure.step) {
                    (Some(invoke), step) => format!("step {step} `{invoke}`: "),
                    (None, 0) => "instantiation: ".to_owned(),
                    (None, step) => format!("step {step}: "),
                };
                let _ = writeln!(out, "    {at}{}", failure.message);
                if let Some(expected) = &failure.expected {
                    let _ = writeln!(out, "    expected: {expected}");
                }
                if let Some(actual) = &failure.actual {
                    let _ = writeln!(out, "    actual:   {actual}");
                }
                let stderr = result.stderr.trim_end();
                if !stderr.is_empty() {
                    let _ = writeln!(out, "    guest stderr:");
                    for line in stderr.lines() {
                        let _ = writeln!(out, "      {line}");
                    }
                }
            }
        }
    }
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `<testsuite>` named `suite`, one `<testcase>` per test.
pub fn junit(suite: &str, results: &[TestResult]) -> String {
    let failures = results.iter().filter(|r| !r.passed()).count();
    let total: f64 = results.iter().map(|r| r.seconds).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"wcomp\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{total:.3}\">",
        results.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{total:.3}\">",
        xml_escape(suite),
        results.len()
    );
    for result in results {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
            xml_escape(&result.name),
            xml_escape(suite),
            result.seconds
        );
        match &result.failure {
            None => out.push_str("/>\n"),
            Some(failure) => {
                let mut body = failure.message.clone();
                if let Some(expected) = &failure.expected {
                    let _ = write!(body, "\nexpected: {expected}");
                }
                if let Some(actual) = &failure.actual {
                    let _ = write!(body, "\nactual:   {actual}");
                }
                let _ = writeln!(out, ">");
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"assertion\">{}</failure>",
                    xml_escape(&failure.message),
                    xml_escape(&body)
                );
                if !result.stderr.is_empty() {
                    let _ = writeln!(
                        out,
                        "      <system-err>{}</system-err>",
                        xml_escape(&result.stderr)
                    );
                }
                out.push_str("    </testcase>\n");
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
