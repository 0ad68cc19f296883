//! What every language's build shares: the [`Toolchain`] trait, its errors, and the tails of
//! every build (a staging directory for a tool's output, validating a component and installing
//! it into the project's output directory). Below the language folders; depends on nothing of
//! theirs.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::Context;
use crate::diagnostic::Report as _;
pub use crate::manifest::{Language, Project};
pub use crate::process::{ProcessBuilder, ProcessError, ProcessOutput, ToolOutput};

/// Errors from finding or running a language toolchain.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ToolchainError {
    /// A required program is not installed.
    #[error("`{program}` is not installed or not on PATH")]
    #[diagnostic(help("{install}"))]
    Missing { program: String, install: String },
    /// The Rust standard library for the component target is missing.
    #[error("the Rust target `wasm32-wasip2` is not installed")]
    #[diagnostic(help("install it with `rustup target add wasm32-wasip2`"))]
    MissingRustTarget,
    /// The toolchain ran and reported errors; its own output is shown first.
    #[error("{tool} failed to build `{project}`")]
    BuildFailed {
        tool: String,
        project: String,
        #[source]
        output: ToolOutput,
        /// What to look at in the output, when the language has something to say.
        #[help]
        hint: Option<String>,
    },
    /// The toolchain produced something other than a component.
    #[error("`{path}` is a core WebAssembly module, not a component")]
    #[diagnostic(help("{advice}"))]
    NotAComponent { path: PathBuf, advice: String },
    /// The toolchain finished without producing the expected artifact.
    #[error("{tool} finished but produced no component for `{project}`")]
    #[diagnostic(help("{advice}"))]
    NoArtifact {
        tool: String,
        project: String,
        advice: String,
    },
    /// A Rust project builds several components and none is named after the project.
    #[error("`{project}` builds several components ({names}); wcomp builds one per project")]
    #[diagnostic(help(
        "make each component a project of its own (a wcomp workspace can hold them all), or name the project after the one to build"
    ))]
    SeveralArtifacts { project: String, names: String },
}

/// A component a toolchain produced.
#[derive(Debug, Clone)]
pub struct BuiltComponent {
    pub name: String,
    pub language: Language,
    /// The validated component, as written to `path`.
    pub path: PathBuf,
    pub size: u64,
}

/// What every language toolchain provides.
pub trait Toolchain {
    fn language(&self) -> Language;

    /// The toolchain's version line, or the error explaining how to install it.
    fn version(&self, ctx: &Context) -> anyhow::Result<String>;

    /// Identifies the installed toolchain without starting any process (paths, sizes and
    /// modification times of its files), so an unchanged workspace rebuilds without spawning
    /// anything. A change here makes every component of this language stale.
    fn fingerprint(&self, ctx: &Context) -> String;

    /// Builds `project` and writes its component under [`Project::output_dir`].
    fn build(&self, project: &Project, ctx: &Context) -> anyhow::Result<BuiltComponent>;
}

/// `path:size:mtime` of `program` as found on `PATH` (or as given, if it is a path).
pub fn file_fingerprint(program: &Path) -> String {
    let resolved = if program.components().count() > 1 {
        Some(program.to_owned())
    } else {
        crate::process::find_on_path(&program.to_string_lossy())
    };
    match resolved
        .as_deref()
        .map(|path| (path, std::fs::metadata(path)))
    {
        Some((path, Ok(meta))) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{}:{modified}", path.display(), meta.len())
        }
        _ => format!("{}:missing", program.display()),
    }
}

/// One toolchain program, and how its failures become wcomp's errors: the plumbing every
/// language shares.
pub struct Tool<'a> {
    /// The program's name as people know it (`cargo`, `go`, `componentize-py`).
    pub name: &'a str,
    /// The error when it is not installed (with how to install it).
    pub missing: &'a dyn Fn() -> ToolchainError,
}

impl Tool<'_> {
    /// Runs `command` to ask something (a version, a path). Not installed is the `missing`
    /// error; any other failure names the command.
    pub fn query(&self, command: &ProcessBuilder) -> anyhow::Result<ProcessOutput> {
        match command.output() {
            Ok(output) => Ok(output),
            Err(ProcessError::NotFound { .. }) => Err((self.missing)().report()),
            Err(err) => {
                Err(anyhow::Error::new(err)
                    .context(format!("cannot ask {} `{command}`", self.name)))
            }
        }
    }

    /// Runs `command` to build `project`, handing each line of its stdout to `on_line`. Not
    /// installed is the `missing` error; a failure is [`ToolchainError::BuildFailed`] with what
    /// the tool printed, as `explain` presents it (rewritten paths, a hint). What a successful
    /// run printed on stderr is shown with `-v`.
    pub fn build(
        &self,
        command: &ProcessBuilder,
        project: &Project,
        ctx: &Context,
        on_line: impl FnMut(&str),
        explain: impl FnOnce(&ProcessError) -> (ToolOutput, Option<String>),
    ) -> anyhow::Result<ProcessOutput> {
        ctx.printer.verbose(format_args!("running `{command}`"));
        match command.run_streaming(on_line) {
            Ok(output) => {
                if !output.stderr.trim().is_empty() {
                    ctx.printer.verbose(format_args!(
                        "{} said:\n{}",
                        self.name,
                        output.stderr.trim_end()
                    ));
                }
                Ok(output)
            }
            Err(ProcessError::NotFound { .. }) => Err((self.missing)().report()),
            Err(err @ ProcessError::Failed { .. }) => {
                ctx.printer.verbose(format_args!("{err}"));
                let (output, hint) = explain(&err);
                Err(ToolchainError::BuildFailed {
                    tool: self.name.to_owned(),
                    project: project.dir.display().to_string(),
                    output,
                    hint,
                }
                .report())
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// What a toolchain printed, shown as it printed it, with no hint of wcomp's.
pub fn as_printed(err: &ProcessError) -> (ToolOutput, Option<String>) {
    (ToolOutput::from_process(err), None)
}

/// A private directory in the project's output directory for a tool to write `<name>.wasm`
/// into, and that path: a tool stopped halfway never leaves a partial component where the
/// last good one is, and the directory goes when the guard is dropped.
pub fn staging_output(
    project: &Project,
    prefix: &str,
) -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
    let out_dir = project.output_dir();
    let staging = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&out_dir)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in `{}`",
                out_dir.display()
            )
        })?;
    let output = staging.path().join(format!("{}.wasm", project.name));
    Ok((staging, output))
}

/// The tail of every build: checks that `bytes` are a valid component (explaining what to do
/// when they are not: `advice`) and writes them atomically to the project's output directory
/// as `<name>.wasm`.
pub fn install_component(
    project: &Project,
    name: &str,
    bytes: &[u8],
    advice: &str,
) -> anyhow::Result<BuiltComponent> {
    let dest = project.output_dir().join(format!("{name}.wasm"));
    validate_component(&dest, bytes, advice)?;
    crate::fsutil::write(&dest, bytes)?;
    Ok(BuiltComponent {
        name: name.to_owned(),
        language: project.language,
        path: dest,
        size: bytes.len() as u64,
    })
}

/// Checks that `bytes` are a valid component; explains what to do when they are a core module.
pub fn validate_component(path: &Path, bytes: &[u8], advice: &str) -> anyhow::Result<()> {
    if !wasmparser::Parser::is_component(bytes) {
        return Err(ToolchainError::NotAComponent {
            path: path.to_owned(),
            advice: advice.into(),
        }
        .report());
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .map_err(|err| anyhow::anyhow!("`{}` is not a valid component: {err}", path.display()))?;
    Ok(())
}
