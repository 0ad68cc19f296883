//! `wit check`: load each WIT package (file or directory with `deps/`), turn load errors into
//! located diagnostics, run the lint rules on packages that load, and apply lint levels from
//! `wcomp.toml` and the command line. Rendering is the caller's business.

use std::path::{Path, PathBuf};

use wit_parser::{PackageId, Resolve, SourceMap};

use super::WitError;
use super::diagnostics::{self, Diagnostic, Severity, SourceFiles};
use super::lint::{self, LintLevels};
use crate::diagnostic::Report as _;

/// What to check and how strictly.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// WIT files or package directories (absolute, or relative to the working directory).
    pub paths: Vec<PathBuf>,
    /// Levels given on the command line; they override `[lint]` in `wcomp.toml`.
    pub levels: LintLevels,
    /// Also lint the packages under `deps/`, not only the package itself.
    pub all_packages: bool,
    /// `@unstable` features to enable.
    pub features: Vec<String>,
    /// Enable every `@unstable` feature.
    pub all_features: bool,
}

/// Everything `check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceFiles,
    /// `ns:name@version` of each package that loaded, or the path of one that did not.
    pub packages: Vec<String>,
    /// Number of WIT files read.
    pub files: usize,
    /// The levels in force for the last path (for SARIF rule metadata).
    pub levels: LintLevels,
}

impl CheckReport {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }
}

/// The nearest `wcomp.toml` at or above `path`.
pub fn find_manifest(path: &Path) -> Option<PathBuf> {
    let start = if path.is_dir() { path } else { path.parent()? };
    start
        .ancestors()
        .map(|dir| dir.join(crate::manifest::MANIFEST))
        .find(|candidate| candidate.is_file())
}

/// Checks every path in `options`; `cwd` is where paths are shown relative to.
pub fn check(options: &CheckOptions, cwd: &Path) -> anyhow::Result<CheckReport> {
    let mut report = CheckReport {
        diagnostics: Vec::new(),
        sources: SourceFiles::new(cwd),
        packages: Vec::new(),
        files: 0,
        levels: options.levels.clone(),
    };
    for path in &options.paths {
        let path = if path.is_absolute() {
            path.clone()
        } else {
            cwd.join(path)
        };
        if !path.exists() {
            return Err(WitError::NotFound { path }.report());
        }
        let levels = match find_manifest(&path) {
            Some(manifest) => LintLevels::from_manifest(&manifest)?.merged(&options.levels),
            None => options.levels.clone(),
        };
        let findings = check_path(&path, options, &levels, &mut report);
        report
            .diagnostics
            .extend(lint::apply_levels(findings, &levels));
        report.levels = levels;
    }
    report.diagnostics.sort_by_key(Diagnostic::sort_key);
    report
        .diagnostics
        .dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
    Ok(report)
}

/// Loads one path; returns its errors and (unlevelled) lint findings.
fn check_path(
    path: &Path,
    options: &CheckOptions,
    levels: &LintLevels,
    report: &mut CheckReport,
) -> Vec<Diagnostic> {
    let all_packages = options.all_packages;
    let mut resolve = Resolve {
        all_features: options.all_features,
        ..Resolve::default()
    };
    resolve.features.extend(options.features.iter().cloned());
    let mut loaded = resolve.push_path(path);
    while let Err(err) = &loaded {
        if !super::wasi::supply_missing(path, err) {
            break;
        }
        resolve = Resolve {
            all_features: options.all_features,
            features: options.features.iter().cloned().collect(),
            ..Resolve::default()
        };
        loaded = resolve.push_path(path);
    }
    match loaded {
        Ok((package, source_map)) => {
            report.files += source_map.paths().count();
            report
                .packages
                .push(resolve.packages[package].name.to_string());
            let packages: Vec<PackageId> = if all_packages {
                resolve.topological_packages()
            } else {
                vec![package]
            };
            packages
                .into_iter()
                .flat_map(|p| lint::lint(&resolve, p, &mut report.sources, levels))
                .collect()
        }
        Err(err) => {
            report.files += package_files(path).len();
            report
                .packages
                .push(format!("`{}`", report.sources.display(path)));
            let mut first =
                diagnostics::from_wit_error(&err, &resolve.source_map, &mut report.sources);
            if first.code == "unknown-package"
                && path.is_file()
                && let Some(dir) = path.parent().filter(|dir| dir.join("deps").is_dir())
            {
                first = first.with_note(format!(
                        "a single file is checked on its own; to resolve `deps/`, check the directory: `wcomp wit check {}`",
                        report.sources.display(dir)
                    ));
            }
            if first.location.is_none() && first.message.contains("no `package` header") {
                first = locate_missing_header(first, path, &mut report.sources);
            }
            if let Some(requested) = super::wasi::missing_package(&err) {
                first = suggest_declared_version(first, path, &requested);
            }
            let mut found = vec![first];
            found.extend(grammar_errors_in_other_files(
                path,
                &found[0],
                &mut report.sources,
            ));
            found
        }
    }
}

/// wit-parser lists only packages it had loaded when it failed; `deps/` may hold the package
/// under another version (references must match versions exactly), which is the likely fix.
fn suggest_declared_version(
    diagnostic: Diagnostic,
    path: &Path,
    requested: &wit_parser::PackageName,
) -> Diagnostic {
    let Some(deps) = path.is_dir().then(|| path.join("deps")) else {
        return diagnostic;
    };
    let prefix = format!("{}:{}", requested.namespace, requested.name);
    let declared: Vec<String> = walk_wit_files(&deps)
        .iter()
        .filter_map(|file| declared_package(file))
        .filter(|name| name == &prefix || name.starts_with(&format!("{prefix}@")))
        .map(|name| format!("`{name}`"))
        .collect();
    if declared.is_empty() {
        return diagnostic;
    }
    diagnostic.with_help(format!(
        "`deps/` declares {}; a reference must name the same version (`{prefix}/…@<version>`)",
        declared.join(", ")
    ))
}

/// wit-parser reports a package without a `package …;` line with no location; point at the
/// first file of the package that lacks one: the file checked, the directory's own files, or
/// a package under `deps/`.
fn locate_missing_header(
    diagnostic: Diagnostic,
    path: &Path,
    sources: &mut SourceFiles,
) -> Diagnostic {
    let wit_files = |dir: &Path| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wit"))
            .collect();
        files.sort();
        files
    };
    let headerless = |files: &[PathBuf]| {
        (!files.is_empty() && files.iter().all(|file| declared_package(file).is_none()))
            .then(|| files[0].clone())
    };
    let mut groups = vec![if path.is_file() {
        vec![path.to_owned()]
    } else {
        wit_files(path)
    }];
    if path.is_dir() {
        let mut deps: Vec<PathBuf> = std::fs::read_dir(path.join("deps"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .collect();
        deps.sort();
        for dep in deps {
            if dep.is_dir() {
                groups.push(wit_files(&dep));
            } else if dep.extension().is_some_and(|e| e == "wit") {
                groups.push(vec![dep]);
            }
        }
    }
    let Some(file) = groups.iter().find_map(|files| headerless(files)) else {
        return diagnostic;
    };
    let location = sources.locate(&file, 0..0);
    let display = sources.display(&file);
    diagnostic
        .at(location, "no `package` line in this package")
        .with_help(format!(
            "start `{display}` (or another file of its package) with `package <namespace>:<name>@<version>;`"
        ))
}

fn walk_wit_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .max_depth(2)
        .into_iter()
        .flatten()
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect()
}

/// The `ns:name@version` of a file's `package …;` header, read with the lexer.
fn declared_package(file: &Path) -> Option<String> {
    let text = fs_err::read_to_string(file).ok()?;
    let tokens = super::lexer::tokenize(&text).ok()?;
    let mut significant = tokens.iter().filter(|t| !t.is_comment());
    significant.find(|t| t.is("package"))?;
    let name: String = significant
        .take_while(|t| !t.is(";") && !t.is("{"))
        .map(|t| t.text)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Checks one in-memory file as a package of its own (no `deps/`): errors, then lint
/// findings at their default levels. Used by the fuzz target and for text that is not on disk.
pub fn check_text(path: &Path, text: &str, sources: &mut SourceFiles) -> Vec<Diagnostic> {
    sources.insert(path, text);
    let mut resolve = Resolve::default();
    match resolve.push_str(path, text) {
        Ok(package) => {
            let levels = LintLevels::default();
            lint::apply_levels(lint::lint(&resolve, package, sources, &levels), &levels)
        }
        Err(err) => vec![diagnostics::from_wit_error(
            &err,
            &resolve.source_map,
            sources,
        )],
    }
}

/// wit-parser stops at the first error of a package. Parsing each other file of the package
/// on its own finds further *grammar* errors (a file alone cannot resolve names from its
/// siblings, so only errors the grammar alone produces are kept).
fn grammar_errors_in_other_files(
    path: &Path,
    first: &Diagnostic,
    sources: &mut SourceFiles,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let files = package_files(path);
    if files.len() < 2 {
        return found;
    }
    let first_file = first.location.as_ref().map(|loc| loc.path.clone());
    for file in files {
        if Some(&file) == first_file.as_ref() {
            continue;
        }
        let Some(text) = sources.text(&file) else {
            continue;
        };
        let mut map = SourceMap::new();
        map.push(&file, text.to_string());
        if let Err((map, err)) = map.parse()
            && diagnostics::is_grammar_error(err.kind())
        {
            found.push(diagnostics::from_parse_error(err.kind(), &map, sources));
        }
    }
    found
}

/// The `.wit` files of the package at `path` (not its `deps/`), sorted.
pub fn package_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files: Vec<PathBuf> = match fs_err::read_dir(path) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|ext| ext == "wit"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}
