//! `wit fmt`: canonical WIT formatting that never loses a comment.
//!
//! The guarantee is checked, not assumed. After formatting a file, [`format_text`] re-lexes
//! the output and requires the same tokens, comments included and in the same order (only
//! commas before a closing bracket may differ), and requires that formatting the output again
//! changes nothing. [`format_package`] then parses the package before and after with
//! wit-parser and requires the same package: same items, types, docs and attributes. A file
//! that fails any check is refused and left untouched; nothing is ever written on a guess.
//!
//! `use` lists are not sorted: the order of names in a `use` decides the order of the
//! interface's types, which is visible in the encoded component type.

mod printer;

use std::path::{Path, PathBuf};

use wit_parser::{SourceMap, UnresolvedPackage, UnresolvedPackageGroup};

use super::diagnostics::{self, Diagnostic, SourceFiles};
use super::lexer::{self, Kind, Token};
use crate::diagnostic::Report as _;

/// Why a file was not formatted.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum FmtError {
    /// The input is not valid WIT; the diagnostic says where.
    #[error("{}", .0.message)]
    Invalid(Box<Diagnostic>),
    /// Formatting could not be proven safe for this file, so it was left unchanged.
    #[error("refusing to format `{path}`: {reason}")]
    #[diagnostic(help(
        "the file was left unchanged; this is a limitation or bug of `wcomp wit fmt`, please report it with the file"
    ))]
    Refused { path: String, reason: String },
}

/// One file's text before and after formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    pub path: PathBuf,
    pub original: String,
    pub formatted: String,
}

impl Formatted {
    pub fn changed(&self) -> bool {
        self.original != self.formatted
    }
}

/// Why [`format_text`] gave up, with the byte offset it concerns when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub offset: Option<usize>,
    pub reason: String,
}

/// Formats one file's text and checks the result (same tokens, idempotent). Does not check
/// that the text is valid WIT; [`format_package`] does.
pub fn format_text(source: &str) -> Result<String, TextError> {
    let formatted = format_once(source)?;
    let (before, after) = (tokens_of(source)?, tokens_of(&formatted)?);
    if let Some(reason) = compare_tokens(&before, &after) {
        return Err(TextError {
            offset: None,
            reason,
        });
    }
    let again = format_once(&formatted)?;
    if again != formatted {
        return Err(TextError {
            offset: None,
            reason: "formatting is not stable (a second pass changes the output)".to_owned(),
        });
    }
    Ok(formatted)
}

fn format_once(source: &str) -> Result<String, TextError> {
    let tokens = tokens_of(source)?;
    printer::format_tokens(&tokens, source.len()).map_err(|err| TextError {
        offset: Some(err.offset),
        reason: format!("unsupported syntax: {}", err.message),
    })
}

fn tokens_of(source: &str) -> Result<Vec<Token<'_>>, TextError> {
    lexer::tokenize(source).map_err(|err| TextError {
        offset: Some(err.offset),
        reason: err.message,
    })
}

/// The tokens that must survive formatting: everything except commas right before a closing
/// bracket, with line comments' trailing spaces trimmed.
fn comparable<'a>(tokens: &[Token<'a>]) -> Vec<(Kind, &'a str)> {
    let closes = |t: &Token<'_>| t.kind == Kind::Punct && matches!(t.text, ")" | "}" | ">");
    tokens
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            !(t.is(",")
                && tokens[i + 1..]
                    .iter()
                    .find(|n| !n.is_comment())
                    .is_some_and(closes))
        })
        .map(|(_, t)| {
            (
                t.kind,
                if t.kind == Kind::LineComment {
                    t.text.trim_end()
                } else {
                    t.text
                },
            )
        })
        .collect()
}

fn compare_tokens(before: &[Token<'_>], after: &[Token<'_>]) -> Option<String> {
    let (before, after) = (comparable(before), comparable(after));
    if before == after {
        return None;
    }
    let index = before
        .iter()
        .zip(&after)
        .position(|(a, b)| a != b)
        .unwrap_or(before.len().min(after.len()));
    let describe =
        |t: Option<&(Kind, &str)>| t.map_or("nothing".to_owned(), |(_, text)| format!("`{text}`"));
    Some(format!(
        "the output would change token {} from {} to {} (comments must survive unchanged)",
        index + 1,
        describe(before.get(index)),
        describe(after.get(index))
    ))
}

/// Formats `files`, which together form one WIT package, and proves that the formatted
/// package is the same package. Returns every file, changed or not.
pub fn format_package(
    files: &[(PathBuf, String)],
    sources: &mut SourceFiles,
) -> Result<Vec<Formatted>, FmtError> {
    let original = parse_group(files).map_err(|(map, err)| {
        for (path, text) in files {
            sources.insert(path, text);
        }
        FmtError::Invalid(Box::new(diagnostics::from_parse_error(
            err.kind(),
            &map,
            sources,
        )))
    })?;
    let mut formatted = Vec::new();
    for (path, text) in files {
        let output = format_text(text).map_err(|err| {
            let at = err
                .offset
                .and_then(|offset| sources.locate(path, offset..offset))
                .map(|l| format!(" (at line {}, column {})", l.line, l.column));
            FmtError::Refused {
                path: sources.display(path),
                reason: format!("{}{}", err.reason, at.unwrap_or_default()),
            }
        })?;
        formatted.push(Formatted {
            path: path.clone(),
            original: text.clone(),
            formatted: output,
        });
    }
    let refused = |reason: String| FmtError::Refused {
        path: files
            .iter()
            .map(|(p, _)| sources.display(p))
            .collect::<Vec<_>>()
            .join("`, `"),
        reason,
    };
    let after: Vec<(PathBuf, String)> = formatted
        .iter()
        .map(|f| (f.path.clone(), f.formatted.clone()))
        .collect();
    let reparsed = parse_group(&after)
        .map_err(|(_, err)| refused(format!("the formatted text does not parse: {err}")))?;
    if let Some(difference) = package_difference(original, reparsed) {
        return Err(refused(format!(
            "the formatted text defines a different package ({difference})"
        )));
    }
    Ok(formatted)
}

fn parse_group(
    files: &[(PathBuf, String)],
) -> Result<UnresolvedPackageGroup, (SourceMap, wit_parser::ParseError)> {
    let mut map = SourceMap::new();
    for (path, text) in files {
        map.push(path, text.clone());
    }
    map.parse()
}

/// The first way two parses differ, ignoring source positions; `None` when they are equal.
///
/// Items are compared through wit-parser's serde form, which writes arena ids as indices and
/// leaves spans out (ids from two parses never compare equal directly).
fn package_difference(a: UnresolvedPackageGroup, b: UnresolvedPackageGroup) -> Option<String> {
    if a.nested.len() != b.nested.len() {
        return Some("a different number of nested packages".to_owned());
    }
    std::iter::once((a.main, b.main))
        .chain(a.nested.into_iter().zip(b.nested))
        .find_map(|(a, b)| {
            let differs =
                |what: &str, same: bool| (!same).then(|| format!("{what} differ in `{}`", a.name));
            differs("package names", a.name == b.name)
                .or_else(|| differs("package docs", a.docs == b.docs))
                .or_else(|| {
                    differs(
                        "interfaces",
                        values(a.interfaces.iter()) == values(b.interfaces.iter()),
                    )
                })
                .or_else(|| differs("worlds", values(a.worlds.iter()) == values(b.worlds.iter())))
                .or_else(|| differs("world includes", includes(&a) == includes(&b)))
                .or_else(|| differs("types", values(a.types.iter()) == values(b.types.iter())))
                .or_else(|| {
                    differs(
                        "dependencies",
                        serde_json::to_value(&a.foreign_deps).ok()
                            == serde_json::to_value(&b.foreign_deps).ok(),
                    )
                })
        })
}

fn values<'x, I: 'x, T: serde::Serialize + 'x>(
    items: impl Iterator<Item = (I, &'x T)>,
) -> Vec<Option<serde_json::Value>> {
    items
        .map(|(_, item)| serde_json::to_value(item).ok())
        .collect()
}

/// An `include` reduced to what formatting must not change: stability, target, renames.
type IncludeShape = (String, usize, Vec<(String, String)>);

/// `include`s are left out of a world's serde form but matter before resolution.
fn includes(package: &UnresolvedPackage) -> Vec<IncludeShape> {
    package
        .worlds
        .iter()
        .flat_map(|(_, world)| &world.includes)
        .map(|include| {
            let names = include
                .names
                .iter()
                .map(|n| (n.name.clone(), n.as_.clone()))
                .collect();
            (
                format!("{:?}", include.stability),
                include.id.index(),
                names,
            )
        })
        .collect()
}

/// What `wit fmt` works on.
#[derive(Debug, Clone, Default)]
pub struct FmtOptions {
    /// `.wit` files or package directories.
    pub paths: Vec<PathBuf>,
    /// Report what would change instead of writing.
    pub check: bool,
}

/// What `wit fmt` did.
#[derive(Debug)]
pub struct FmtOutcome {
    /// Every file that was formatted (changed or not).
    pub files: Vec<Formatted>,
    /// Packages that are invalid and files that were refused.
    pub failures: Vec<FmtError>,
    pub sources: SourceFiles,
}

/// Formats every path; writes changed files unless `check`.
pub fn run(options: &FmtOptions, cwd: &Path) -> anyhow::Result<FmtOutcome> {
    let mut outcome = FmtOutcome {
        files: Vec::new(),
        failures: Vec::new(),
        sources: SourceFiles::new(cwd),
    };
    for path in &options.paths {
        if !path.exists() {
            return Err(super::WitError::NotFound { path: path.clone() }.report());
        }
        let (targets, package) = files_for(path);
        let mut files = Vec::new();
        for file in &package {
            let text = fs_err::read_to_string(file)?;
            files.push((file.clone(), text));
        }
        match format_package(&files, &mut outcome.sources) {
            Ok(formatted) => {
                for file in formatted.into_iter().filter(|f| targets.contains(&f.path)) {
                    if outcome.files.iter().any(|seen| seen.path == file.path) {
                        continue;
                    }
                    if file.changed() && !options.check {
                        crate::fsutil::write(&file.path, file.formatted.as_bytes())?;
                    }
                    outcome.files.push(file);
                }
            }
            Err(err) => outcome.failures.push(err),
        }
    }
    Ok(outcome)
}

/// The files `wit fmt <path>` rewrites and the package they are checked as: a directory's
/// own `.wit` files (not `deps/`), or one file checked together with its sibling files.
pub fn files_for(path: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    if path.is_dir() {
        let files = super::check::package_files(path);
        return (files.clone(), files);
    }
    // A file that parses on its own is checked on its own (files under `deps/` are separate
    // packages); one that needs its siblings' definitions is checked with them.
    let alone = vec![path.to_owned()];
    let parses_alone = fs_err::read_to_string(path)
        .is_ok_and(|text| parse_group(&[(path.to_owned(), text)]).is_ok());
    let siblings = path
        .parent()
        .map(super::check::package_files)
        .unwrap_or_default();
    let package = if parses_alone || !siblings.iter().any(|s| s == path) {
        alone.clone()
    } else {
        siblings
    };
    (alone, package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn fmt(source: &str) -> String {
        format_text(source).unwrap_or_else(|err| panic!("{err:?}"))
    }

    #[test]
    fn canonical_spacing_and_indentation() {
        let source = "package a:b@1.0.0;\ninterface i{\nuse a:b/c@1.0.0.{x,y as z};\n    f:func(a:u32,b:list<string>)->result<_,z>;\n}\n";
        assert_eq!(
            fmt(source),
            "package a:b@1.0.0;\n\ninterface i {\n  use a:b/c@1.0.0.{x, y as z};\n  f: func(a: u32, b: list<string>) -> result<_, z>;\n}\n"
        );
    }

    #[test]
    fn comments_stay_where_they_were() {
        let source = "// head\npackage a:b;\n/// doc\ninterface i { // trailing\n  /* block */ f: func(\n    a: u32, // about a\n    b: u32\n  );\n  // last\n}\n";
        let out = fmt(source);
        assert_eq!(
            out,
            "// head\npackage a:b;\n\n/// doc\ninterface i { // trailing\n  /* block */ f: func(\n    a: u32, // about a\n    b: u32,\n  );\n  // last\n}\n"
        );
    }

    #[test]
    fn records_get_one_field_per_line_and_trailing_commas() {
        assert_eq!(
            fmt(
                "package a:b;\ninterface i { record r { a: u32, b: u32 } enum e { x } resource s; resource t {} }"
            ),
            "package a:b;\n\ninterface i {\n  record r {\n    a: u32,\n    b: u32,\n  }\n  enum e {\n    x,\n  }\n  resource s;\n  resource t {}\n}\n"
        );
    }

    #[test]
    fn worlds_versions_and_attributes() {
        let source = "package a:b;\n@since(version=0.2.0-rc.1)\nworld w{import wasi:io/streams@0.2.0-rc-2023-11-10;export run:func();import x:interface{f:func();}include c with{a as b}}";
        assert_eq!(
            fmt(source),
            "package a:b;\n\n@since(version = 0.2.0-rc.1)\nworld w {\n  import wasi:io/streams@0.2.0-rc-2023-11-10;\n  export run: func();\n  import x: interface {\n    f: func();\n  }\n  include c with { a as b }\n}\n"
        );
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let err = format_text("package a:b;\ninterface i { f: nonsense; }").unwrap_err();
        assert!(err.reason.contains("unsupported syntax"), "{err:?}");
    }
}
