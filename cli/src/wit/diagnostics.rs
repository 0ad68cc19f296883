//! Diagnostics about WIT sources: one [`Diagnostic`] type shared by parse errors and lint
//! findings, the conversion of wit-parser's span-carrying errors into it, and its renderings
//! (rustc-style text with a labelled snippet, one JSON object per line, SARIF in `sarif.rs`).
//! Nothing here decides *whether* something is wrong; `check` and `lint` do.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde_json::{Value, json};
use wit_parser::{ParseError, ParseErrorKind, ResolveError, ResolveErrorKind, SourceMap, Span};

/// How serious a diagnostic is once lint levels are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A byte range of one file, with its 1-based line and column (in characters) for people
/// and code hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as wit-parser read it (absolute when the input was).
    pub path: PathBuf,
    /// The path shown to people: relative to the working directory when below it.
    pub display: String,
    pub range: Range<usize>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// One finding: a parse or resolve error, or a lint rule that fired.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable id: the lint rule (`missing-docs`) or the error class (`syntax-error`).
    pub code: String,
    pub message: String,
    pub location: Option<Location>,
    /// Text printed under the carets.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Further locations or facts (`first defined at …`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code: code.to_owned(),
            message: message.into(),
            location: None,
            label: None,
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn at(mut self, location: Option<Location>, label: impl Into<String>) -> Self {
        self.location = location;
        let label = label.into();
        self.label = (!label.is_empty()).then_some(label);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sort key: file, then position, so output is stable whatever order rules ran in.
    pub fn sort_key(&self) -> (String, usize, usize, String) {
        match &self.location {
            Some(loc) => (loc.display.clone(), loc.line, loc.column, self.code.clone()),
            None => (String::new(), 0, 0, self.code.clone()),
        }
    }
}

/// The text of every file diagnostics point into, read once, and the directory paths are
/// shown relative to.
#[derive(Debug, Default)]
pub struct SourceFiles {
    base: PathBuf,
    files: HashMap<PathBuf, Option<Arc<str>>>,
}

impl SourceFiles {
    pub fn new(base: &Path) -> Self {
        Self {
            base: base.to_owned(),
            files: HashMap::new(),
        }
    }

    /// The contents of `path`, or `None` when it cannot be read as UTF-8.
    pub fn text(&mut self, path: &Path) -> Option<Arc<str>> {
        self.files
            .entry(path.to_owned())
            .or_insert_with(|| fs_err::read_to_string(path).ok().map(Arc::from))
            .clone()
    }

    /// Registers text that is not (or not yet) on disk, e.g. formatter input from stdin.
    pub fn insert(&mut self, path: &Path, text: &str) {
        self.files.insert(path.to_owned(), Some(Arc::from(text)));
    }

    /// How `path` is shown: relative to the base directory when below it.
    pub fn display(&self, path: &Path) -> String {
        let shown = path.strip_prefix(&self.base).unwrap_or(path);
        shown.display().to_string()
    }

    /// The location of `range` in `path`.
    pub fn locate(&mut self, path: &Path, range: Range<usize>) -> Option<Location> {
        let text = self.text(path)?;
        let start = floor_char_boundary(&text, range.start.min(text.len()));
        let end = floor_char_boundary(&text, range.end.clamp(start, text.len()));
        let (line, column) = line_column(&text, start);
        let (end_line, end_column) = line_column(&text, end);
        Some(Location {
            path: path.to_owned(),
            display: self.display(path),
            range: start..end,
            line,
            column,
            end_line,
            end_column,
        })
    }

    /// The location of a wit-parser span, resolved through the map it belongs to.
    pub fn locate_span(&mut self, map: &SourceMap, span: Span) -> Option<Location> {
        let resolved = map.resolve_span(span)?;
        let path = PathBuf::from(resolved.path);
        self.locate(&path, resolved.range)
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// 1-based line and character column of byte `offset` (which must be a char boundary).
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].trim_end_matches('\r').chars().count() + 1;
    (line, column)
}

/// Turns an error from `Resolve::push_*` into diagnostics with locations. wit-parser wraps
/// its typed [`ParseError`] / [`ResolveError`] in context layers; the typed layer has the
/// span, the outer layers only say which directory was being read.
pub fn from_wit_error(
    err: &anyhow::Error,
    map: &SourceMap,
    sources: &mut SourceFiles,
) -> Diagnostic {
    for layer in err.chain() {
        if let Some(parse) = layer.downcast_ref::<ParseError>() {
            return from_parse_error(parse.kind(), map, sources);
        }
        if let Some(resolve) = layer.downcast_ref::<ResolveError>() {
            return from_resolve_error(resolve.kind(), map, sources);
        }
    }
    // No typed layer: an I/O problem or a check wit-parser reports as plain text. The
    // innermost message is the specific one; the outer ones name the directory.
    let message = err
        .chain()
        .last()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut diagnostic = Diagnostic::error("invalid-wit", message);
    let context: Vec<String> = err
        .chain()
        .take(err.chain().count().saturating_sub(1))
        .map(|l| l.to_string())
        .collect();
    if !context.is_empty() {
        diagnostic = diagnostic.with_note(context.join(": "));
    }
    diagnostic
}

/// A grammar error found while parsing one file on its own (see `check`).
pub fn is_grammar_error(kind: &ParseErrorKind) -> bool {
    match kind {
        ParseErrorKind::Lex(_) => true,
        ParseErrorKind::Syntax { message, .. } => message.starts_with("expected "),
        _ => false,
    }
}

pub fn from_parse_error(
    kind: &ParseErrorKind,
    map: &SourceMap,
    sources: &mut SourceFiles,
) -> Diagnostic {
    let location = sources.locate_span(map, kind.span());
    let diagnostic = match kind {
        ParseErrorKind::Lex(err) => {
            Diagnostic::error("syntax-error", err.to_string()).at(location, "")
        }
        ParseErrorKind::Syntax { message, .. } => {
            let code = if message.starts_with("expected ") {
                "syntax-error"
            } else if message.contains("more than once") || message.contains("duplicate") {
                "duplicate-name"
            } else {
                "invalid-wit"
            };
            let mut diagnostic = Diagnostic::error(code, message.clone()).at(location, "");
            if code == "duplicate-name" {
                diagnostic = diagnostic.with_help("rename one of the two; names must be unique within their interface, world or package");
                diagnostic.label = Some("defined again here".to_owned());
            }
            diagnostic
        }
        ParseErrorKind::ItemNotFound {
            name, kind, hint, ..
        } => {
            let diagnostic =
                Diagnostic::error("unknown-name", format!("{kind} `{name}` does not exist"))
                    .at(location, "not defined");
            let suggestion = diagnostic
                .location
                .as_ref()
                .and_then(|loc| suggest_name(name, &loc.path, sources));
            match (hint, suggestion) {
                (Some(hint), _) => diagnostic.with_help(hint.clone()),
                (None, Some(similar)) => diagnostic.with_help(format!("did you mean `{similar}`?")),
                (None, None) => diagnostic.with_help(format!("define the {kind} in this package, or `use` it from the interface that defines it")),
            }
        }
        ParseErrorKind::TypeCycle { name, kind, .. } => {
            Diagnostic::error("cycle", format!("{kind} `{name}` depends on itself"))
                .at(location, "part of the cycle")
                .with_help("break the cycle: WIT types and `use` chains must form a tree")
        }
        other => Diagnostic::error("invalid-wit", other.to_string()).at(location, ""),
    };
    if diagnostic.code == "syntax-error" {
        refine_syntax_error(diagnostic, sources)
    } else {
        diagnostic
    }
}

/// Grammar errors point at the token that was not expected; when the real problem is what
/// is missing at the end of the previous line (a `;`), point there instead, as rustc does,
/// and explain version syntax when the error is inside a version.
fn refine_syntax_error(mut diagnostic: Diagnostic, sources: &mut SourceFiles) -> Diagnostic {
    let Some(location) = diagnostic.location.clone() else {
        return diagnostic;
    };
    let Some(text) = sources.text(&location.path) else {
        return diagnostic;
    };
    let offset = location.range.start;
    let before = &text[..offset];
    let in_version_run = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '@');
    let run_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !in_version_run(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    if before[run_start..].contains('@') {
        return diagnostic.with_help(
            "versions are semver with three numbers: `@1.2.3`, optionally `-pre.1` or `+build`",
        );
    }
    let missing = diagnostic
        .message
        .strip_prefix("expected ")
        .and_then(|rest| rest.split(", found").next())
        .unwrap_or("")
        .to_owned();
    let tokens = super::lexer::tokenize(&text).unwrap_or_default();
    let previous = tokens
        .iter()
        .rev()
        .find(|t| t.end() <= offset && !t.is_comment());
    if let Some(previous) = previous
        && text[previous.end()..offset].contains('\n')
        && let Some(moved) = sources.locate(&location.path, previous.end()..previous.end())
    {
        diagnostic.location = Some(moved);
        diagnostic.label = Some(format!("expected {missing} here"));
        diagnostic.notes.push(format!(
            "found `{}` on line {} instead",
            token_at(&text, offset),
            location.line
        ));
        return diagnostic;
    }
    if missing == "';'" {
        diagnostic = diagnostic.with_help("end the item with `;`");
    }
    diagnostic
}

fn token_at(text: &str, offset: usize) -> &str {
    let rest = &text[offset..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    &rest[..end.max(rest.chars().next().map_or(0, char::len_utf8))]
}

/// A defined or built-in name close to `name`, for "did you mean".
fn suggest_name(name: &str, path: &Path, sources: &mut SourceFiles) -> Option<String> {
    const BUILTIN: &[&str] = &[
        "bool",
        "u8",
        "u16",
        "u32",
        "u64",
        "s8",
        "s16",
        "s32",
        "s64",
        "f32",
        "f64",
        "char",
        "string",
        "list",
        "option",
        "result",
        "tuple",
        "future",
        "stream",
        "borrow",
        "own",
        "error-context",
    ];
    let text = sources.text(path)?;
    let tokens = super::lexer::tokenize(&text).ok()?;
    let defined = tokens.windows(2).filter(|pair| {
        matches!(
            pair[0].text,
            "type"
                | "record"
                | "variant"
                | "enum"
                | "flags"
                | "resource"
                | "interface"
                | "world"
                | "as"
        ) && pair[0].kind == super::lexer::Kind::Id
    });
    let candidates = defined
        .map(|pair| pair[1].text.trim_start_matches('%'))
        .chain(BUILTIN.iter().copied());
    let limit = if name.len() <= 3 { 1 } else { 2 };
    candidates
        .filter(|candidate| *candidate != name)
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate.to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

pub fn from_resolve_error(
    kind: &ResolveErrorKind,
    map: &SourceMap,
    sources: &mut SourceFiles,
) -> Diagnostic {
    let location = sources.locate_span(map, kind.span());
    match kind {
        ResolveErrorKind::PackageNotFound {
            requested, known, ..
        } => {
            let other_versions: Vec<String> = known
                .iter()
                .filter(|k| k.namespace == requested.namespace && k.name == requested.name)
                .map(|k| format!("`{k}`"))
                .collect();
            let help = if other_versions.is_empty() {
                format!(
                    "no dependency provides `{}:{}`; put its WIT under the `deps/` directory next to this package (`deps/{}/` or `deps/{}.wit`)",
                    requested.namespace, requested.name, requested.name, requested.name
                )
            } else {
                format!(
                    "loaded instead: {}; refer to that version, or add the one you need under `deps/`",
                    other_versions.join(", ")
                )
            };
            Diagnostic::error(
                "unknown-package",
                format!("package `{requested}` not found"),
            )
            .at(location, "unknown package")
            .with_help(help)
        }
        ResolveErrorKind::WorldNotFound {
            requested, package, ..
        } => Diagnostic::error(
            "unknown-name",
            format!("world `{requested}` not found in package `{package}`"),
        )
        .at(location, "no such world"),
        ResolveErrorKind::InterfaceNotFound {
            requested, package, ..
        } => Diagnostic::error(
            "unknown-name",
            format!("interface `{requested}` not found in package `{package}`"),
        )
        .at(location, "no such interface"),
        ResolveErrorKind::DuplicatePackage { name, span2, .. } => {
            let second = sources.locate_span(map, *span2);
            let mut diagnostic = Diagnostic::error(
                "duplicate-package",
                format!("package `{name}` is defined in two places"),
            )
            .at(location, "first definition")
            .with_help(
                "keep one copy: a package may appear only once among the package and its `deps/`",
            );
            if let Some(second) = second {
                diagnostic = diagnostic.with_note(format!(
                    "also defined at {}:{}:{}",
                    second.display, second.line, second.column
                ));
            }
            diagnostic
        }
        ResolveErrorKind::PackageCycle { package, .. } => {
            Diagnostic::error("cycle", format!("package `{package}` depends on itself"))
                .at(location, "closes the cycle")
                .with_help("packages in `deps/` must not depend on each other in a loop")
        }
        ResolveErrorKind::ItemShadowing {
            item_type, name, ..
        } => Diagnostic::error(
            "duplicate-name",
            format!("{item_type} of `{name}` clashes with an item of the same name"),
        )
        .at(location, "clashes"),
        other => Diagnostic::error("invalid-wit", other.to_string()).at(location, ""),
    }
}

/// A diagnostic as miette sees it, so `error::render_snippet` draws it.
#[derive(Debug)]
struct SnippetView {
    source: NamedSource<String>,
    span: SourceSpan,
    label: Option<String>,
}

impl std::fmt::Display for SnippetView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("snippet")
    }
}

impl std::error::Error for SnippetView {}

impl miette::Diagnostic for SnippetView {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            self.span,
        ))))
    }
}

/// rustc-style text: a `severity[code]: message` header, the labelled snippet, notes, hint.
pub fn render_human(diagnostic: &Diagnostic, sources: &mut SourceFiles, color: bool) -> String {
    let paint = |style: &str, text: &str| {
        if color {
            format!("{style}{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    let heading = match diagnostic.severity {
        Severity::Error => paint("\x1b[1;31m", &format!("error[{}]", diagnostic.code)),
        Severity::Warning => paint("\x1b[1;33m", &format!("warning[{}]", diagnostic.code)),
    };
    let _ = writeln!(out, "{heading}: {}", diagnostic.message);
    if let Some(location) = &diagnostic.location {
        let snippet = sources.text(&location.path).and_then(|text| {
            let view = SnippetView {
                source: NamedSource::new(&location.display, text.to_string()),
                span: SourceSpan::new(location.range.start.into(), location.range.len()),
                label: diagnostic.label.clone(),
            };
            crate::diagnostic::render_snippet(&view)
        });
        match snippet {
            // The shared renderer leaves a space after the carets when there is no label.
            Some(snippet) => snippet.lines().for_each(|line| {
                let _ = writeln!(out, "{}", line.trim_end());
            }),
            None => {
                let _ = writeln!(
                    out,
                    " --> {}:{}:{}",
                    location.display, location.line, location.column
                );
            }
        }
    }
    for note in &diagnostic.notes {
        let _ = writeln!(out, "{}: {note}", paint("\x1b[1m", "note"));
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "{}: {help}", paint("\x1b[1;36m", "hint"));
    }
    out
}

/// One JSON object for `--format json` (cargo-style, with a `reason`).
pub fn to_json(diagnostic: &Diagnostic, sources: &mut SourceFiles) -> Value {
    let location = diagnostic.location.as_ref().map(|loc| {
        json!({
            "path": loc.display,
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line,
            "end_column": loc.end_column,
            "byte_start": loc.range.start,
            "byte_end": loc.range.end,
        })
    });
    json!({
        "reason": "wit-diagnostic",
        "severity": diagnostic.severity.as_str(),
        "code": diagnostic.code,
        "message": diagnostic.message,
        "location": location,
        "label": diagnostic.label,
        "help": diagnostic.help,
        "notes": diagnostic.notes,
        "rendered": render_human(diagnostic, sources, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzz target: a non-ASCII character before a lexer error.
    #[test]
    fn errors_after_non_ascii_text_do_not_panic() {
        let mut sources = SourceFiles::new(Path::new("/"));
        for text in [
            "\u{28c}\u{3}",
            "package a:b;\ninterface \u{e9}\u{e9} { f: func() -> \u{28c} $; }",
        ] {
            let found = crate::wit::check::check_text(Path::new("x.wit"), text, &mut sources);
            assert!(!found.is_empty());
            for diagnostic in &found {
                render_human(diagnostic, &mut sources, false);
            }
        }
    }

    #[test]
    fn suggestions_use_edit_distance() {
        assert_eq!(edit_distance("strin", "string"), 1);
        assert_eq!(edit_distance("u23", "u32"), 2);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\r\ncé\nxyz";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (2, 1));
        assert_eq!(line_column(text, 7), (2, 3)); // after the two-byte `é`
        assert_eq!(line_column(text, 9), (3, 2));
    }
}
