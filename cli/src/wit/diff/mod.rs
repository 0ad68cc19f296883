//! `wit diff`: compare two versions of a WIT package (two paths, or a path and the same path
//! at a git revision), list every change as breaking or compatible, and check that the
//! package's version moved the way semver says it must. Comparison lives in `compare`;
//! this module loads the two sides, judges the version bump and renders the report.

mod compare;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Report as _, ReportResult as _};
use serde_json::{Value, json};
use wit_parser::{PackageId, PackageName, Resolve};

use compare::semver_compatible;
pub use compare::{Change, Compat};

use super::diagnostics::{self, Diagnostic, SourceFiles};
use crate::process::{ProcessBuilder, ProcessError};

/// Where the old version comes from.
#[derive(Debug, Clone)]
pub enum OldSide {
    Path(PathBuf),
    /// The new path as it is at this git revision.
    GitRef(String),
}

#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub old: OldSide,
    /// A `.wit` file or package directory.
    pub new: PathBuf,
}

/// Errors that stop a comparison before it starts.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DiffError {
    /// One side is not valid WIT; the diagnostic has the location.
    #[error("the {side} version is not valid WIT")]
    #[diagnostic(help("fix it first: `wcomp wit check` shows every error"))]
    Invalid {
        side: &'static str,
        diagnostic: Box<Diagnostic>,
    },
    /// `git` failed while reading the old version.
    #[error("cannot read `{path}` at git revision `{reference}`")]
    #[diagnostic(help("{advice}"))]
    Git {
        reference: String,
        path: String,
        advice: String,
    },
}

/// The outcome of the semver check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Semver {
    /// False when the version bump is too small for the changes (or went backwards).
    pub ok: bool,
    pub message: String,
    /// The smallest version that would be correct, when the current one is not.
    pub suggested: Option<String>,
}

/// Everything `wit diff` found.
#[derive(Debug, Clone)]
pub struct DiffReport {
    pub old: PackageName,
    pub new: PackageName,
    pub changes: Vec<Change>,
    pub semver: Semver,
}

impl DiffReport {
    pub fn breaking(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.compat == Compat::Breaking)
            .count()
    }

    pub fn compatible(&self) -> usize {
        self.changes.len() - self.breaking()
    }
}

/// Loads both sides and compares them.
pub fn diff(
    options: &DiffOptions,
    cwd: &Path,
    sources: &mut SourceFiles,
) -> anyhow::Result<DiffReport> {
    let checkout = tempfile::tempdir()?;
    let old_path = match &options.old {
        OldSide::Path(path) => path.clone(),
        OldSide::GitRef(reference) => {
            read_at_revision(reference, &options.new, checkout.path(), cwd)?
        }
    };
    let (old_resolve, old_id) = load(&old_path, "old", sources)?;
    let (new_resolve, new_id) = load(&options.new, "new", sources)?;
    let changes = compare::compare(
        &compare::Side {
            resolve: &old_resolve,
            package: old_id,
        },
        &compare::Side {
            resolve: &new_resolve,
            package: new_id,
        },
    );
    let (old, new) = (
        old_resolve.packages[old_id].name.clone(),
        new_resolve.packages[new_id].name.clone(),
    );
    let breaking = changes.iter().any(|c| c.compat == Compat::Breaking);
    let semver = judge(&old, &new, breaking, !changes.is_empty());
    Ok(DiffReport {
        old,
        new,
        changes,
        semver,
    })
}

fn load(
    path: &Path,
    side: &'static str,
    sources: &mut SourceFiles,
) -> anyhow::Result<(Resolve, PackageId)> {
    if !path.exists() {
        return Err(super::WitError::NotFound {
            path: path.to_owned(),
        }
        .report());
    }
    let mut resolve = Resolve::default();
    match resolve.push_path(path) {
        Ok((id, _)) => Ok((resolve, id)),
        Err(err) => {
            let diagnostic = diagnostics::from_wit_error(&err, &resolve.source_map, sources);
            Err(DiffError::Invalid {
                side,
                diagnostic: Box::new(diagnostic),
            }
            .report())
        }
    }
}

/// Writes the files under `path` as of git revision `reference` into `into`; returns the
/// path there that corresponds to `path`.
fn read_at_revision(
    reference: &str,
    path: &Path,
    into: &Path,
    cwd: &Path,
) -> anyhow::Result<PathBuf> {
    let shown = path.strip_prefix(cwd).unwrap_or(path).display().to_string();
    let fail = |advice: String| DiffError::Git {
        reference: reference.to_owned(),
        path: shown.clone(),
        advice,
    };
    let git_error = |err: ProcessError| {
        match err {
        ProcessError::NotFound { .. } => fail("install git (https://git-scm.com/downloads), or compare two paths: `wcomp wit diff <old> <new>`".to_owned()),
        other => {
            let stderr = other.stderr().trim().to_owned();
            fail(if stderr.is_empty() { other.to_string() } else { format!("git says: {stderr}") })
        }
    }
    };
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(cwd)
    };
    let root = ProcessBuilder::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .cwd(dir)
        .output()
        .map_err(git_error)
        .report_err()?;
    let root = PathBuf::from(root.stdout.trim());
    let canonical = fs_err::canonicalize(path)?;
    let relative = canonical
        .strip_prefix(fs_err::canonicalize(&root)?)
        .map_err(|_| fail("the path is not inside the git repository".to_owned()))
        .report_err()?;
    let relative = relative.to_string_lossy().replace('\\', "/");
    let listing = ProcessBuilder::new("git")
        .args([
            "ls-tree",
            "-r",
            "--name-only",
            reference,
            "--",
            if relative.is_empty() { "." } else { &relative },
        ])
        .cwd(&root)
        .output()
        .map_err(git_error)
        .report_err()?;
    let files: Vec<&str> = listing.stdout.lines().filter(|l| !l.is_empty()).collect();
    if files.is_empty() {
        return Err(fail(format!("`{relative}` does not exist at `{reference}`; check the revision with `git log -- {relative}`")).report());
    }
    for file in files {
        let content = ProcessBuilder::new("git")
            .args(["show", &format!("{reference}:{file}")])
            .cwd(&root)
            .output()
            .map_err(git_error)
            .report_err()?;
        let target = into.join(file);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent)?;
        }
        crate::fsutil::write(&target, content.stdout.as_bytes())?;
    }
    Ok(into.join(relative))
}

/// Judges the version bump from `old` to `new` given what changed.
fn judge(old: &PackageName, new: &PackageName, breaking: bool, changed: bool) -> Semver {
    let ok = |message: String| Semver {
        ok: true,
        message,
        suggested: None,
    };
    let (Some(o), Some(n)) = (&old.version, &new.version) else {
        if breaking && new.version.is_none() {
            return Semver {
                ok: false,
                message: "the package has breaking changes but no version, so its users cannot tell this release apart".to_owned(),
                suggested: Some("1.0.0".to_owned()),
            };
        }
        return ok(match &new.version {
            Some(n) => format!("the old package had no version; {n} is the first"),
            None => "the package has no version; nothing to check".to_owned(),
        });
    };
    if n < o {
        return Semver {
            ok: false,
            message: format!("the version went backwards: {o} → {n}"),
            suggested: None,
        };
    }
    let next_breaking = if o.major > 0 {
        format!("{}.0.0", o.major + 1)
    } else if o.minor > 0 {
        format!("0.{}.0", o.minor + 1)
    } else {
        format!("0.0.{}", o.patch + 1)
    };
    if breaking && semver_compatible(old, new) {
        let bump = if o.major > 0 {
            "a new major version"
        } else if o.minor > 0 {
            "before 1.0, the minor number marks breaking releases"
        } else {
            "before 0.1, every release is a breaking one"
        };
        return Semver {
            ok: false,
            message: format!(
                "{o} → {n} promises compatibility, but there are breaking changes: release them as {next_breaking} or later ({bump})"
            ),
            suggested: Some(next_breaking),
        };
    }
    if breaking {
        return ok(format!("{o} → {n} signals the breaking changes"));
    }
    if changed && n == o {
        let next_minor = if o.major > 0 {
            format!("{}.{}.0", o.major, o.minor + 1)
        } else {
            format!("0.{}.{}", o.minor, o.patch + 1)
        };
        return ok(format!(
            "compatible changes under the same version {o}; consider releasing them as {next_minor}"
        ));
    }
    ok(format!(
        "{o} → {n} is fine for {}",
        if changed {
            "compatible changes"
        } else {
            "no changes"
        }
    ))
}

/// The report for people.
pub fn render_human(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Comparing {} (old) with {} (new)",
        report.old, report.new
    );
    for (compat, title) in [
        (Compat::Breaking, "Breaking changes"),
        (Compat::Compatible, "Compatible changes"),
    ] {
        let changes: Vec<&Change> = report
            .changes
            .iter()
            .filter(|c| c.compat == compat)
            .collect();
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} ({}):", changes.len());
        for change in changes {
            let _ = writeln!(out, "  {}: {}", change.item, change.message);
        }
    }
    if report.changes.is_empty() {
        let _ = writeln!(
            out,
            "\nNo changes to interfaces, worlds, types or functions."
        );
    }
    let verdict = if report.semver.ok { "ok" } else { "error" };
    let _ = writeln!(out, "\nVersion: {verdict}: {}", report.semver.message);
    out
}

/// The report as one JSON object.
pub fn to_json(report: &DiffReport) -> Value {
    json!({
        "reason": "wit-diff",
        "old": report.old.to_string(),
        "new": report.new.to_string(),
        "breaking": report.breaking(),
        "compatible": report.compatible(),
        "changes": report.changes,
        "semver": report.semver,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(version: Option<&str>) -> PackageName {
        let text = match version {
            Some(v) => format!("package a:b@{v};"),
            None => "package a:b;".to_owned(),
        };
        let mut resolve = Resolve::default();
        let id = resolve.push_str("x.wit", &text).expect("valid");
        resolve.packages[id].name.clone()
    }

    #[test]
    fn breaking_changes_need_an_incompatible_version() {
        assert!(!judge(&name(Some("1.2.0")), &name(Some("1.3.0")), true, true).ok);
        assert!(judge(&name(Some("1.2.0")), &name(Some("2.0.0")), true, true).ok);
        assert!(!judge(&name(Some("0.2.0")), &name(Some("0.2.5")), true, true).ok);
        assert!(judge(&name(Some("0.2.0")), &name(Some("0.3.0")), true, true).ok);
        assert!(judge(&name(Some("0.0.1")), &name(Some("0.0.2")), true, true).ok);
        assert_eq!(
            judge(&name(Some("1.2.0")), &name(Some("1.3.0")), true, true)
                .suggested
                .as_deref(),
            Some("2.0.0")
        );
        assert!(!judge(&name(None), &name(None), true, true).ok);
        assert!(judge(&name(None), &name(None), false, true).ok);
        assert!(!judge(&name(Some("1.0.0")), &name(Some("0.9.0")), false, false).ok);
        assert!(judge(&name(Some("1.0.0")), &name(Some("1.0.0")), false, true).ok);
    }

    #[test]
    fn pre_releases_are_compatible_only_with_themselves_as_in_compose() {
        // Breaking changes between two release candidates are signalled by the new one.
        assert!(
            judge(
                &name(Some("1.0.0-rc.1")),
                &name(Some("1.0.0-rc.2")),
                true,
                true
            )
            .ok
        );
        assert!(judge(&name(Some("0.2.0-draft")), &name(Some("0.2.0")), true, true).ok);
        for (old, new) in [
            ("1.0.0-rc.1", "1.0.0-rc.2"),
            ("0.2.0-draft", "0.2.0"),
            ("1.2.0", "1.3.0"),
        ] {
            assert_eq!(
                semver_compatible(&name(Some(old)), &name(Some(new))),
                wac_types::are_semver_compatible(&format!("a:b/c@{old}"), &format!("a:b/c@{new}")),
                "{old} → {new}"
            );
        }
    }
}
