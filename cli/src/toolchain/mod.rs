//! Language toolchains behind one trait. Each language module knows how to find its tools,
//! report their version, and turn a project directory into component bytes; the rest of wcomp
//! never runs cargo, go or componentize-py itself.

pub mod doctor;
pub mod go;
pub mod process;
pub mod python;
pub mod rust;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Context;
pub use process::{ProcessBuilder, ProcessError};

/// A language wcomp can build components from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Go,
    Python,
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rust => "rust",
            Self::Go => "go",
            Self::Python => "python",
        })
    }
}

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
    /// No project wcomp knows how to build was found.
    #[error("`{dir}` is not a component project wcomp can build")]
    #[diagnostic(help(
        "expected a `wcomp.toml` with a `[component]` table, or a Cargo.toml (Rust); create a project with `wcomp new <dir> --lang <rust|go|python>`"
    ))]
    UnknownProject { dir: PathBuf },
}

/// What a failing toolchain printed. The error renderer shows it verbatim, before the
/// `error:` line, the way the tool itself would have.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{text}")]
pub struct ToolOutput {
    pub text: String,
}

impl ToolOutput {
    /// The failed process's stderr, or its stdout when stderr is empty (some tools report
    /// errors there).
    pub fn from_process(err: &ProcessError) -> Self {
        let text = match err {
            ProcessError::Failed { stdout, stderr, .. } if stderr.trim().is_empty() => {
                stdout.clone()
            }
            ProcessError::Failed { stderr, .. } => stderr.clone(),
            other => other.to_string(),
        };
        Self { text }
    }
}

/// A project directory and the language it is written in.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub language: Language,
    /// The component's name (output file stem).
    pub name: String,
    /// The world it implements, when recorded (Go and Python need it; Rust names it in code).
    pub world: Option<String>,
    /// The WIT package directory (default `<dir>/wit`).
    pub wit: PathBuf,
}

/// The file that records a project's language and world.
pub const PROJECT_MANIFEST: &str = crate::workspace::MANIFEST;

impl Project {
    /// Recognises the project in `dir`: a `wcomp.toml` with a `[component]` table, else a
    /// `Cargo.toml` (Rust).
    pub fn detect(dir: &Path) -> anyhow::Result<Self> {
        let manifest_path = dir.join(PROJECT_MANIFEST);
        if manifest_path.is_file() {
            let manifest = crate::workspace::Manifest::load(&manifest_path)?;
            if let Some(component) = manifest.component {
                let component = component.into_inner();
                let default_name = || {
                    dir.file_name().map_or_else(
                        || "component".to_owned(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                };
                return Ok(Self {
                    dir: dir.to_owned(),
                    language: component.lang.into_inner(),
                    name: component.name.unwrap_or_else(default_name),
                    world: component.world.map(toml::Spanned::into_inner),
                    wit: dir.join(component.wit.as_deref().unwrap_or(Path::new("wit"))),
                });
            }
        }
        if dir.join("Cargo.toml").is_file() {
            let name = dir.file_name().map_or_else(
                || "component".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
            return Ok(Self {
                dir: dir.to_owned(),
                language: Language::Rust,
                name,
                world: None,
                wit: dir.join("wit"),
            });
        }
        Err(ToolchainError::UnknownProject {
            dir: dir.to_owned(),
        }
        .into())
    }

    /// Where built components of this project are placed.
    pub fn output_dir(&self) -> PathBuf {
        self.dir.join("target").join("wcomp")
    }
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

/// The toolchain for `language`.
pub fn for_language(language: Language) -> Box<dyn Toolchain> {
    match language {
        Language::Rust => Box::new(rust::RustToolchain::from_env()),
        Language::Go => Box::new(go::GoToolchain::from_env()),
        Language::Python => Box::new(python::PythonToolchain::from_env()),
    }
}

/// `path:size:mtime` of `program` as found on `PATH` (or as given, if it is a path).
pub fn file_fingerprint(program: &Path) -> String {
    let resolved = if program.components().count() > 1 {
        Some(program.to_owned())
    } else {
        process::find_on_path(&program.to_string_lossy())
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

/// Checks that `bytes` are a valid component; explains what to do when they are a core module.
pub fn validate_component(path: &Path, bytes: &[u8], advice: &str) -> anyhow::Result<()> {
    if !wasmparser::Parser::is_component(bytes) {
        return Err(ToolchainError::NotAComponent {
            path: path.to_owned(),
            advice: advice.into(),
        }
        .into());
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .map_err(|err| anyhow::anyhow!("`{}` is not a valid component: {err}", path.display()))?;
    Ok(())
}
