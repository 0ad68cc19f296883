//! Language toolchains behind one trait. Each language module knows how to find its tools,
//! report their version, and turn a project directory into component bytes; the rest of wcomp
//! never runs cargo, go or componentize-py itself.

pub mod process;
pub mod rust;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Context;
pub use process::{ProcessBuilder, ProcessError};

/// A language wcomp can build components from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rust => "rust",
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
    /// The toolchain ran and reported errors; its own output follows.
    #[error("{tool} failed to build `{project}`")]
    #[diagnostic(help("{tool}'s own output is shown above"))]
    BuildFailed { tool: String, project: String },
    /// The toolchain produced something other than a component.
    #[error("`{path}` is a core WebAssembly module, not a component")]
    #[diagnostic(help("{advice}"))]
    NotAComponent { path: PathBuf, advice: String },
    /// The toolchain finished without producing the expected artifact.
    #[error("{tool} finished but produced no component for `{project}`")]
    #[diagnostic(help("{advice}"))]
    NoArtifact { tool: String, project: String, advice: String },
    /// No project wcomp knows how to build was found.
    #[error("`{dir}` is not a component project wcomp can build")]
    #[diagnostic(help(
        "expected a Cargo.toml (Rust); create a project with `wcomp new <dir> --lang rust`"
    ))]
    UnknownProject { dir: PathBuf },
}

/// A project directory and the language it is written in.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub language: Language,
}

impl Project {
    /// Recognises the project in `dir` by its manifest files.
    pub fn detect(dir: &Path) -> Result<Self, ToolchainError> {
        if dir.join("Cargo.toml").is_file() {
            return Ok(Self { dir: dir.to_owned(), language: Language::Rust });
        }
        Err(ToolchainError::UnknownProject { dir: dir.to_owned() })
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

    /// Builds `project` and writes its components under [`Project::output_dir`].
    fn build(&self, project: &Project, ctx: &Context) -> anyhow::Result<Vec<BuiltComponent>>;
}

/// The toolchain for `language`.
pub fn for_language(language: Language) -> Box<dyn Toolchain> {
    match language {
        Language::Rust => Box::new(rust::RustToolchain::from_env()),
    }
}

/// Checks that `bytes` are a valid component; explains what to do when they are a core module.
pub fn validate_component(path: &Path, bytes: &[u8], advice: &str) -> anyhow::Result<()> {
    if !wasmparser::Parser::is_component(bytes) {
        return Err(ToolchainError::NotAComponent { path: path.to_owned(), advice: advice.into() }.into());
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .map_err(|err| anyhow::anyhow!("`{}` is not a valid component: {err}", path.display()))?;
    Ok(())
}
