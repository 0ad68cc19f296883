//! Workspaces: `wcomp new <dir> --workspace` creates the manifest and shared `wit/`;
//! `wcomp new <name> --lang …` inside one adds a component that uses the shared WIT (no
//! copy) and registers it in `wcomp.toml`.

use std::path::{Component, Path, PathBuf};

use super::{Scaffolded, Template, WasiVersion, copy_wit, write_project};
use crate::Context;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::lang::scaffold::{ProjectFile, ScaffoldError, gitignore, render};
use crate::lang::{self, http};
use crate::manifest::Language;
use crate::manifest::names::to_kebab;
use crate::wit::WitPackage;
use crate::workspace::{MANIFEST, Workspace};

/// Errors specific to workspace scaffolding.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WorkspaceScaffoldError {
    /// The name is already a component.
    #[error("the workspace already has a component named `{name}`")]
    #[diagnostic(help("choose another name, or pass `--name`"))]
    Duplicate { name: String },
    /// `--template http` would add a world the WIT already has.
    #[error("the workspace WIT already has a world named `{world}`")]
    #[diagnostic(help("choose another component name, or pass `--name`"))]
    WorldExists { world: String },
    /// The new component would live outside the workspace.
    #[error("`{dir}` is outside the workspace at `{root}`")]
    #[diagnostic(help("create components inside the workspace directory"))]
    Outside { dir: PathBuf, root: PathBuf },
    /// A JavaScript HTTP handler needs `wasi:http` at the release componentize-js exports,
    /// beside the runtime's release the workspace WIT already carries.
    #[error("a JavaScript HTTP component cannot join a workspace yet")]
    #[diagnostic(help(
        "componentize-js exports `wasi:http/incoming-handler@{}` while the workspace WIT carries the runtime's release; create it outside the workspace with `wcomp new <dir> --lang js --template http`",
        crate::lang::js::WASI_VERSION
    ))]
    JsHttp,
    /// `--with` adds packages to a project's own WIT, which a workspace member does not have.
    #[error("`--with` is not supported for workspace components yet")]
    #[diagnostic(help(
        "create the component outside the workspace, or give its world in the workspace's WIT the line `include wasi:keyvalue/imports@{};` or `include wasi:config/imports@{};` (`wcomp build` supplies the packages)",
        crate::wit::wasi::KEYVALUE.version().unwrap_or_default(),
        crate::wit::wasi::CONFIG.version().unwrap_or_default()
    ))]
    WithImports,
    /// `--template nn` writes a project's own WIT, which a workspace member does not have.
    #[error("`--template nn` is not supported for workspace components yet")]
    #[diagnostic(help(
        "create the component outside the workspace (`wcomp new <dir> --template nn`), or import `wasi:nn/graph@{0}` and `wasi:nn/inference@{0}` in its world in the workspace's WIT (`wcomp build` supplies the package)",
        crate::wit::wasi::NN.version().unwrap_or_default()
    ))]
    NnTemplate,
}

/// Creates a workspace in `dir`.
pub fn new_workspace(
    dir: &Path,
    name: Option<&str>,
    wit: Option<&Path>,
    ctx: &Context,
) -> anyhow::Result<Scaffolded> {
    let dir = ctx.path(dir);
    let name = super::checked_name(&dir, name).report_err()?;
    let mut files = vec![
        ProjectFile::new(
            MANIFEST,
            render(
                include_str!("../../../templates/workspace/wcomp.toml"),
                &[("name", &name)],
            ),
        ),
        ProjectFile::new(
            "README.md",
            render(
                include_str!("../../../templates/workspace/README.md"),
                &[("name", &name)],
            ),
        ),
        gitignore(&[]),
    ];
    match wit {
        Some(wit) => {
            let wit = ctx.path(wit);
            // Refuse broken WIT now rather than leave a workspace that cannot build.
            WitPackage::load(&wit).report_err()?;
            files.extend(copy_wit(&wit)?);
        }
        None => {
            let package_name = to_kebab(&name);
            let example = render(
                include_str!("../../../wit/example/workspace.wit"),
                &[("package_name", &package_name)],
            );
            files.push(ProjectFile::new("wit/world.wit", example));
        }
    }
    write_project(&dir, &files)?;
    Ok(Scaffolded {
        dir,
        name,
        world: String::new(),
        files: files.into_iter().map(|f| f.path).collect(),
    })
}

/// Adds a component to the workspace at `root`.
pub fn new_member(
    root: &Path,
    dir: &Path,
    language: Language,
    name: Option<&str>,
    world: Option<&str>,
    template: Template,
    ctx: &Context,
) -> anyhow::Result<Scaffolded> {
    let workspace = Workspace::load(root)?;
    let dir = normalize(&ctx.path(dir));
    let relative = dir
        .strip_prefix(&workspace.root)
        .map_err(|_| WorkspaceScaffoldError::Outside {
            dir: dir.clone(),
            root: workspace.root.clone(),
        })
        .report_err()?
        .to_owned();
    let name = super::checked_name(&dir, name).report_err()?;
    if workspace.members.iter().any(|m| m.name == name)
        || workspace.remote.iter().any(|r| r.name == name)
    {
        return Err(WorkspaceScaffoldError::Duplicate { name }.report());
    }
    if !crate::fsutil::is_missing_or_empty_dir(&dir)? {
        return Err(ScaffoldError::NotEmpty { dir }.report());
    }
    let wit_from_project = relative_path(
        &relative,
        workspace
            .wit_dir
            .strip_prefix(&workspace.root)
            .unwrap_or(Path::new("wit")),
    );
    let (world, mut files, wit_additions) = match template {
        Template::Http(http) => {
            if world.is_some() {
                return Err(ScaffoldError::HttpWithWit.report());
            }
            if http.has_imports() {
                return Err(WorkspaceScaffoldError::WithImports.report());
            }
            http_member(&workspace, &name, language, http.wasi)?
        }
        Template::Nn => {
            return Err(WorkspaceScaffoldError::NnTemplate.report());
        }
        Template::Example => {
            let package = WitPackage::load(&workspace.wit_dir).report_err()?;
            let world_id = package.world(world).report_err()?;
            let world = package.resolve.worlds[world_id].name.clone();
            let files = lang::from_world(
                language,
                &name,
                &package,
                world_id,
                &wit_from_project,
                false,
            )
            .report_err()?;
            (Some(world), files, Vec::new())
        }
    };
    // The workspace's manifest and WIT serve every component; no per-project copies.
    files.retain(|file| file.path != Path::new(MANIFEST) && !file.path.starts_with("wit"));
    // A language may bring its own `.gitignore` (Go lists its generated bindings).
    if !files
        .iter()
        .any(|file| file.path == Path::new(".gitignore"))
    {
        files.push(gitignore(&[]));
    }

    let manifest_path = workspace.root.join(MANIFEST);
    let mut manifest = fs_err::read_to_string(&manifest_path)?;
    if !manifest.ends_with('\n') {
        manifest.push('\n');
    }
    manifest.push_str(&format!(
        "\n[component.{name}]\nlang = \"{language}\"\npath = \"{}\"\n",
        relative.to_string_lossy().replace('\\', "/")
    ));
    if let Some(world) = &world {
        manifest.push_str(&format!("world = \"{world}\"\n"));
    }
    // Check the edited manifest parses before anything is written.
    crate::manifest::Manifest::parse(&manifest_path, manifest.clone()).report_err()?;
    write_project(&dir, &files)?;
    for addition in &wit_additions {
        crate::fsutil::write(&workspace.wit_dir.join(&addition.path), &addition.contents)?;
    }
    crate::fsutil::write(&manifest_path, manifest.as_bytes())?;
    Ok(Scaffolded {
        dir,
        name,
        // Only a Rust HTTP handler has no world of its own: its crate carries `wasi:http`.
        world: world.unwrap_or_else(|| match template {
            Template::Http(http) => http.wasi.world().to_owned(),
            Template::Example | Template::Nn => String::new(),
        }),
        files: files.into_iter().map(|f| f.path).collect(),
    })
}

/// An HTTP handler in a workspace: Rust needs no WIT; Go and Python get a world of their own
/// in the workspace's package (`wit/<name>.wit`) and the WASI packages of their release under
/// `wit/deps/` that are not there yet. The 0.2 and 0.3 packages have file names of their own
/// ([`http::deps_files`]), so 0.2 and 0.3 members live side by side. Returns the world, the
/// project's files and the WIT files to add (relative to the workspace's WIT directory).
#[allow(clippy::type_complexity)]
fn http_member(
    workspace: &Workspace,
    name: &str,
    language: Language,
    wasi: WasiVersion,
) -> anyhow::Result<(Option<String>, Vec<ProjectFile>, Vec<ProjectFile>)> {
    if language == Language::Rust || wasi == WasiVersion::P3 {
        // Go and JavaScript refuse 0.3 whatever the place, with why; Rust needs no WIT.
        let (_, files) = lang::http_project(language, name, wasi.into()).report_err()?;
        if language == Language::Rust {
            return Ok((None, files, Vec::new()));
        }
    } else if language == Language::Js {
        return Err(WorkspaceScaffoldError::JsHttp.report());
    }
    let package = WitPackage::load(&workspace.wit_dir).report_err()?;
    let world = http::world_name(name);
    if package.world_names().contains(&world) {
        return Err(WorkspaceScaffoldError::WorldExists { world }.report());
    }
    let header = format!("package {};\n", package.name());
    let wit = http::world_wit(name, wasi.into()).report_err()?;
    let body = wit.split_once(";\n").map_or(wit.as_str(), |(_, rest)| rest);
    let mut additions = vec![ProjectFile::new(
        format!("{world}.wit"),
        format!("{header}{body}"),
    )];
    let present = |file: &str| {
        let stem = file.trim_end_matches(".wit");
        let deps = workspace.wit_dir.join("deps");
        deps.join(file).exists() || deps.join(stem).exists()
    };
    for (file, text) in http::deps_files(wasi.into()) {
        if !present(&file) {
            additions.push(ProjectFile::new(Path::new("deps").join(file), text));
        }
    }
    // Resolve the world as it will be, in a copy of the workspace's WIT.
    let temp = tempfile::tempdir()?;
    let existing = copy_wit(&workspace.wit_dir)?.into_iter().map(|file| {
        let path = file
            .path
            .strip_prefix("wit")
            .unwrap_or(&file.path)
            .to_owned();
        ProjectFile::new(path, file.contents)
    });
    for addition in existing.chain(additions.iter().cloned()) {
        let path = temp.path().join(&addition.path);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        crate::fsutil::write(&path, &addition.contents)?;
    }
    let package = WitPackage::load(temp.path()).report_err()?;
    let world_id = package.world(Some(&world)).report_err()?;
    let files = lang::http_files(language, name, &package, world_id, wasi).report_err()?;
    Ok((Some(world), files, additions))
}

/// Removes `.` and resolves `..` lexically (the directory may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The path of `target` (relative to the workspace root) as seen from `from` (also relative
/// to the root), with `/` separators: `("tokenizer", "wit")` → `../wit`.
fn relative_path(from: &Path, target: &Path) -> String {
    let ups = from.components().count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_owned(), ups).collect();
    parts.extend(
        target
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_wit_paths() {
        assert_eq!(
            relative_path(Path::new("tokenizer"), Path::new("wit")),
            "../wit"
        );
        assert_eq!(
            relative_path(Path::new("services/api"), Path::new("wit")),
            "../../wit"
        );
    }
}
