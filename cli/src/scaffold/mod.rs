//! `wcomp new`: a project or workspace from a language's templates (embedded in the binary)
//! or the stubs it generates for a user's WIT world ([`crate::lang`]). Every file is prepared in memory first and the project directory appears
//! in one rename, so a failed or refused `new` leaves nothing behind and never overwrites.

pub mod workspace;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::Context;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::lang;
pub use crate::lang::http::{HttpTemplate, WasiVersion};
use crate::lang::scaffold::gitignore;
pub use crate::lang::scaffold::{ProjectFile, ScaffoldError};
use crate::manifest::Language;
use crate::wit::WitPackage;

/// What `wcomp new` should create.
#[derive(Debug, Clone)]
pub struct NewOptions {
    pub dir: PathBuf,
    pub language: Language,
    /// Explicit project name; defaults to the directory's name.
    pub name: Option<String>,
    /// A WIT file or directory to copy into the project.
    pub wit: Option<PathBuf>,
    pub world: Option<String>,
    /// What the project starts as.
    pub template: Template,
    /// A JavaScript project written in TypeScript (`app.ts` and the world's types).
    pub typescript: bool,
}

/// What a new project starts as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Template {
    /// A small example world (or stubs for `--wit --world`).
    #[default]
    Example,
    /// An HTTP handler for `wcomp serve`, of a WASI release, with the imports of `--with`.
    Http(HttpTemplate),
    /// A component that runs ONNX models granted by name, through `wasi:nn`.
    Nn,
}

/// The result of a successful `wcomp new`.
#[derive(Debug)]
pub struct Scaffolded {
    pub dir: PathBuf,
    pub name: String,
    pub world: String,
    pub files: Vec<PathBuf>,
}

/// Creates a project. Checks everything first; writes only when all files are ready.
pub fn new_project(options: &NewOptions, ctx: &Context) -> anyhow::Result<Scaffolded> {
    let dir = ctx.path(&options.dir);
    if !crate::fsutil::is_missing_or_empty_dir(&dir)? {
        return Err(ScaffoldError::NotEmpty {
            dir: options.dir.clone(),
        }
        .report());
    }
    let name = checked_name(&dir, options.name.as_deref()).report_err()?;
    if options.typescript {
        check_typescript(options.language, options.template)?;
    }

    let (world, mut files) = match (&options.wit, options.template) {
        (None, Template::Http(http)) => {
            if options.world.is_some() {
                return Err(ScaffoldError::WorldWithoutWit.report());
            }
            lang::http_project(options.language, &name, http).report_err()?
        }
        (Some(_), Template::Http(_)) => {
            return Err(ScaffoldError::HttpWithWit.report());
        }
        (None, Template::Nn) => {
            if options.world.is_some() {
                return Err(ScaffoldError::WorldWithoutWit.report());
            }
            lang::nn_project(options.language, &name).report_err()?
        }
        (Some(_), Template::Nn) => {
            return Err(ScaffoldError::NnWithWit.report());
        }
        (None, Template::Example) => {
            if options.world.is_some() {
                return Err(ScaffoldError::WorldWithoutWit.report());
            }
            lang::example(options.language, &name, options.typescript).report_err()?
        }
        (Some(wit_path), Template::Example) => {
            let (package, mut files) = user_wit(&ctx.path(wit_path))?;
            let world_id = package.world(options.world.as_deref()).report_err()?;
            let world = package.resolve.worlds[world_id].name.clone();
            files.extend(
                lang::from_world(
                    options.language,
                    &name,
                    &package,
                    world_id,
                    "wit",
                    options.typescript,
                )
                .report_err()?,
            );
            (world, files)
        }
    };
    // A language may bring its own `.gitignore` (Go lists its generated bindings, Python its
    // `__pycache__/`, JavaScript its `node_modules/`).
    if !files
        .iter()
        .any(|file| file.path == Path::new(".gitignore"))
    {
        files.push(gitignore(&[]));
    }
    write_project(&dir, &files)?;
    Ok(Scaffolded {
        dir,
        name,
        world,
        files: files.into_iter().map(|f| f.path).collect(),
    })
}

/// `--typescript` goes with `--lang js` and the example or `--wit` stubs.
fn check_typescript(language: Language, template: Template) -> anyhow::Result<()> {
    if language != Language::Js {
        return Err(ScaffoldError::TypeScript {
            reason: format!("is for JavaScript projects, not {language}"),
            help: "use `--lang js --typescript`".into(),
        }
        .report());
    }
    if matches!(template, Template::Http(_)) {
        return Err(ScaffoldError::TypeScript {
            reason: "does not apply to `--template http` yet".into(),
            help: "drop `--typescript`: the HTTP template is JavaScript (`app.js`)".into(),
        }
        .report());
    }
    Ok(())
}

/// The project name: explicit, or the directory's name; validated either way.
fn checked_name(dir: &Path, name: Option<&str>) -> Result<String, ScaffoldError> {
    let name = match name {
        Some(name) => name.to_owned(),
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| ScaffoldError::InvalidName {
                reason: format!("`{}` has no final name", dir.display()),
            })?,
    };
    crate::manifest::names::validate_project_name(&name)
        .map_err(|reason| ScaffoldError::InvalidName { reason })?;
    Ok(name)
}

/// The user's WIT (`--wit`), resolved, and the files to place under `wit/`. A directory is
/// loaded where it is (a `wasi:*` package wcomp embeds that its `deps/` lacks is written there
/// first, see [`crate::wit::wasi::supply_missing`]) and copied with its `deps/`. A single file
/// has no `deps/`: when it does not resolve on its own, it is loaded again from a temporary
/// directory where such packages can be supplied, and they join the project under
/// `wit/deps/`. Errors name the user's file, never the temporary copy.
fn user_wit(source: &Path) -> anyhow::Result<(WitPackage, Vec<ProjectFile>)> {
    let loaded = WitPackage::load(source);
    if source.is_dir() {
        return Ok((loaded.report_err()?, copy_wit(source)?));
    }
    let err = match loaded {
        Ok(package) => return Ok((package, copy_wit(source)?)),
        Err(err) => err,
    };
    let staged = crate::lang::scaffold::stage_wit(&copy_wit(source)?)?;
    match WitPackage::load(staged.path()) {
        Ok(package) => Ok((package, copy_wit(staged.path())?)),
        Err(_) => Err(err.report()),
    }
}

/// The WIT files to place under `wit/`: a single file keeps its name; a directory is copied
/// with its `deps/`.
fn copy_wit(source: &Path) -> anyhow::Result<Vec<ProjectFile>> {
    let mut files = Vec::new();
    if source.is_file() {
        let name = source.file_name().context("WIT path has no file name")?;
        files.push(ProjectFile::new(
            Path::new("wit").join(name),
            fs_err::read(source)?,
        ));
        return Ok(files);
    }
    for entry in walkdir::WalkDir::new(source).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read `{}`", source.display()))?;
        if entry.file_type().is_file() {
            let relative = entry
                .path()
                .strip_prefix(source)
                .expect("walkdir yields children");
            files.push(ProjectFile::new(
                Path::new("wit").join(relative),
                fs_err::read(entry.path())?,
            ));
        }
    }
    Ok(files)
}

/// Writes `files` into a fresh temporary directory beside `dir`, then renames it into place.
fn write_project(dir: &Path, files: &[ProjectFile]) -> anyhow::Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".wcomp-new-")
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in `{}`",
                parent.display()
            )
        })?;
    for file in files {
        let path = staging.path().join(&file.path);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        crate::fsutil::write(&path, &file.contents)?;
    }
    // An empty destination may exist (e.g. created by the user); it is replaced, never merged
    // (the caller checked that it is empty).
    crate::fsutil::replace_dir(&staging.keep(), dir)?;
    Ok(())
}
