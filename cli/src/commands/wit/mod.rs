//! `wcomp wit …`: check, format and compare WIT packages, and fetch and publish them. Each subcommand turns its flags
//! into the options of one operation in `crate::wit` and prints what it returns.

use std::path::PathBuf;

use crate::wit::check::{self, CheckOptions};
use crate::wit::diagnostics::SourceFiles;
use crate::wit::diff::{DiffError, DiffOptions, OldSide};
use crate::wit::fmt::FmtOptions;
use crate::wit::lint::{Level, LintLevels};
mod registry;
mod report;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::{Context, ExitStatus};

/// Check, format, compare, fetch and publish WIT packages.
#[derive(Debug, clap::Args)]
pub struct WitArgs {
    #[command(subcommand)]
    pub command: WitCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum WitCommand {
    Check(CheckArgs),
    Fmt(FmtArgs),
    Diff(DiffArgs),
    Fetch(registry::FetchArgs),
    Publish(registry::PublishArgs),
}

/// Check WIT packages: parse errors with file, line and column, plus lint warnings.
///
/// Each path is a `.wit` file or a package directory (its `deps/` folder is resolved). With no
/// path, the WIT of the project or workspace in the current directory is checked. Lint rules
/// warn by default; `--deny <rule>` or `--deny warnings` turns them into errors, and a `[lint]`
/// table in `wcomp.toml` sets levels per project (`missing-docs = "allow"`). Exits 1 when
/// there are errors (including denied warnings).
///
/// Examples:
///
///   wcomp wit check
///
///   wcomp wit check wit/ --deny warnings
///
///   wcomp wit check wit/ --format sarif > wit.sarif
///
///   wcomp wit check --list-rules
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// WIT files or package directories (default: the project's or workspace's WIT).
    pub paths: Vec<PathBuf>,

    /// Report a lint rule as an error; `warnings` means every rule.
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,

    /// Report a lint rule as a warning (the default for every rule).
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,

    /// Do not report a lint rule.
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,

    /// Lint the packages under `deps/` as well as the package itself.
    #[arg(long)]
    pub all_packages: bool,

    /// Enable these `@unstable(feature = ...)` features (comma-separated or repeated);
    /// items gated on other features are left out, as wit-bindgen and wasm-tools do.
    #[arg(long, value_delimiter = ',', value_name = "FEATURE")]
    pub features: Vec<String>,

    /// Enable every `@unstable` feature.
    #[arg(long)]
    pub all_features: bool,

    /// Print the lint rules with their ids and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// Format WIT files canonically, keeping every comment.
///
/// Indentation is two spaces, one item per line, one blank line between top-level items
/// (blank lines inside interfaces and worlds are kept, at most one). Every comment stays
/// where it was; a file whose formatting cannot be proven to keep every token and comment and
/// to mean the same package is refused and left unchanged. Paths are `.wit` files or package
/// directories (their `deps/` are not touched); with none, the project's WIT is formatted.
///
/// Examples:
///
///   wcomp wit fmt
///
///   wcomp wit fmt wit/ --check
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// WIT files or package directories (default: the project's or workspace's WIT).
    pub paths: Vec<PathBuf>,

    /// Change nothing; print a diff and exit 1 if any file is not formatted.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: WitArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    match args.command {
        WitCommand::Check(args) => run_check(args, ctx),
        WitCommand::Fmt(args) => run_fmt(args, ctx),
        WitCommand::Diff(args) => run_diff(args, ctx),
        WitCommand::Fetch(args) => registry::run_fetch(args, ctx),
        WitCommand::Publish(args) => registry::run_publish(args, ctx),
    }
}

/// Compare two versions of a WIT package: breaking and compatible changes, and the version.
///
/// Lists every change to interfaces, worlds, types and functions, each marked breaking (users
/// of the old version can fail with the new one) or compatible, then checks the package's
/// version against semver: breaking changes need a new major version (before 1.0, a new minor
/// version). Exits 1 when the version does not match the changes.
///
/// Examples:
///
///   wcomp wit diff old/wit new/wit
///
///   wcomp wit diff --against main wit/
///
///   wcomp wit diff --against v1.2.0 --format json
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// `<old> <new>` paths, or with `--against`, the one path to compare (default: the
    /// project's WIT).
    #[arg(num_args = 0..=2, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Compare with the same path at this git revision (branch, tag or commit).
    #[arg(long, value_name = "GIT_REF")]
    pub against: Option<String>,
}

/// Mistakes in how `wit diff` was called.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WitUsageError {
    /// Neither two paths nor `--against` were given.
    #[error("`wit diff` needs two versions to compare")]
    #[diagnostic(help("pass `<old> <new>`, or `--against <git-ref>` with at most one path"))]
    DiffSides,
}

fn wit_paths(paths: &[PathBuf], ctx: &Context) -> anyhow::Result<Vec<PathBuf>> {
    if paths.is_empty() {
        crate::wit::default_wit_paths(&ctx.cwd)
    } else {
        Ok(paths.iter().map(|p| ctx.path(p)).collect())
    }
}

fn run_check(args: CheckArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    if args.list_rules {
        report::print_rules(&ctx.printer);
        return Ok(ExitStatus::Success);
    }
    // Later kinds win: allow, then warn, then deny.
    let mut levels = LintLevels::default();
    for (ids, level) in [
        (&args.allow, Level::Allow),
        (&args.warn, Level::Warn),
        (&args.deny, Level::Deny),
    ] {
        for id in ids {
            levels.set(id, level, "on the command line").report_err()?;
        }
    }
    let options = CheckOptions {
        paths: wit_paths(&args.paths, ctx)?,
        levels,
        all_packages: args.all_packages,
        features: args.features,
        all_features: args.all_features,
    };
    let mut found = check::check(&options, &ctx.cwd)?;
    report::print_check(&mut found, &ctx.printer, &ctx.cwd)
}

fn run_fmt(args: FmtArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let options = FmtOptions {
        paths: wit_paths(&args.paths, ctx)?,
        check: args.check,
    };
    let outcome = crate::wit::fmt::run(&options, &ctx.cwd)?;
    Ok(report::print_fmt(outcome, args.check, &ctx.printer))
}

fn run_diff(args: DiffArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let (old, new) = match (&args.against, args.paths.as_slice()) {
        (Some(reference), []) => (
            OldSide::GitRef(reference.clone()),
            wit_paths(&[], ctx)?.remove(0),
        ),
        (Some(reference), [path]) => (OldSide::GitRef(reference.clone()), ctx.path(path)),
        (None, [old, new]) => (OldSide::Path(ctx.path(old)), ctx.path(new)),
        _ => return Err(WitUsageError::DiffSides.report()),
    };
    let mut sources = SourceFiles::new(&ctx.cwd);
    match crate::wit::diff::diff(&DiffOptions { old, new }, &ctx.cwd, &mut sources) {
        Ok(found) => Ok(report::print_diff(&found, &ctx.printer)),
        Err(err) => {
            if let Some(DiffError::Invalid { diagnostic, .. }) =
                crate::diagnostic::find::<DiffError>(&err)
            {
                report::print_diagnostic(diagnostic, &mut sources, &ctx.printer);
            }
            Err(err)
        }
    }
}
