//! A component project on disk: the language it is written in and where its WIT is, as its
//! `wcomp.toml` (or, for Rust, its `Cargo.toml`) says.

use std::path::{Path, PathBuf};

use super::language::Language;
use crate::diagnostic::Report as _;

/// Errors from recognising a project.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProjectError {
    /// No project wcomp knows how to build was found.
    #[error("`{dir}` is not a component project wcomp can build")]
    #[diagnostic(help(
        "expected a `wcomp.toml` with a `[component]` table, or a Cargo.toml (Rust); create a project with `wcomp new <dir> --lang <rust|go|python|js>`"
    ))]
    UnknownProject { dir: PathBuf },
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

impl Project {
    /// Recognises the project in `dir`: a `wcomp.toml` with a `[component]` table, else a
    /// `Cargo.toml` (Rust).
    pub fn detect(dir: &Path) -> anyhow::Result<Self> {
        let manifest_path = dir.join(super::MANIFEST);
        if manifest_path.is_file() {
            let manifest = super::Manifest::load(&manifest_path)?;
            if let Some(entry) = manifest.component.clone() {
                let span = entry.span();
                let component = entry.into_inner();
                let Some(lang) = component.lang else {
                    return Err(manifest
                        .error(
                            span,
                            "`[component]` needs `lang`".to_owned(),
                            "in this table",
                            Some("add `lang = \"rust\"` (or `go`, `python`, `js`)".into()),
                        )
                        .into());
                };
                if let Some(allow) = &component.allow {
                    return Err(manifest
                        .error(
                            allow.span(),
                            "`allow` grants a component of a workspace what it may use inside the composition; a single project has no composition".to_owned(),
                            "only in a workspace",
                            Some("remove it, and grant the run what it needs with `[run]` or flags such as `--env` and `--dir`".into()),
                        )
                        .into());
                }
                let default_name = || {
                    dir.file_name().map_or_else(
                        || "component".to_owned(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                };
                return Ok(Self {
                    dir: dir.to_owned(),
                    language: lang.into_inner(),
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
        Err(ProjectError::UnknownProject {
            dir: dir.to_owned(),
        }
        .report())
    }

    /// Where built components of this project are placed.
    pub fn output_dir(&self) -> PathBuf {
        self.dir.join("target").join("wcomp")
    }
}
