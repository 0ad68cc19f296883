//! Composing a workspace: build what is stale, then plug every component into the root's
//! imports (transitively), honouring `[compose.wire]`; or, with `[compose] wac`, compose as
//! that `.wac` file says, its packages being the components. The result is recomposed only
//! when a component, the manifest or the `.wac` file (with its `deps/`) changed.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::build::{self, BuildOptions, MemberBuild, check_builds};
use super::fingerprint::{self, Record};
use super::{Workspace, WorkspaceError};
use crate::Context;
use crate::compose::graph::NodeInfo;
use crate::compose::wac::{self, Dep, WacOptions};
use crate::compose::{self, ComposeInput, ComposeOptions, Composition, Wire};
use crate::diagnostic::{InternalError, Report as _, ReportResult as _};

/// The composed workspace.
#[derive(Debug)]
pub struct WorkspaceComposition {
    pub output: PathBuf,
    pub root: String,
    /// `None` when the existing output was already up to date.
    pub composition: Option<Composition>,
    pub builds: Vec<MemberBuild>,
    /// With `[compose] wac`, each instance's component (instances are named by the file's
    /// `let`s, not after the components).
    pub info: Vec<NodeInfo>,
}

/// Builds stale components and composes the workspace; `force` recomposes even when the
/// output is up to date (to report how it was wired).
pub fn compose(
    workspace: &Workspace,
    jobs: usize,
    force: bool,
    ctx: &Context,
) -> anyhow::Result<WorkspaceComposition> {
    // A workspace made only of registry components has nothing to build.
    let builds = if workspace.members.is_empty() && !workspace.remote.is_empty() {
        Vec::new()
    } else {
        check_builds(build::build(
            &build::BuildGraph::workspace(workspace),
            &BuildOptions {
                packages: Vec::new(),
                jobs,
                force: false,
            },
            ctx,
        )?)?
    };
    let mut outputs = builds
        .iter()
        .map(|b| match &b.output {
            Some(output) => Ok((b.name.clone(), output.clone())),
            None => Err(InternalError::error(format!(
                "`{}` built without an output",
                b.name
            ))),
        })
        .collect::<anyhow::Result<Vec<(String, PathBuf)>>>()?;
    let fetched = super::remote::fetch(&workspace.root, &workspace.remote, ctx)?;
    outputs.extend(fetched.iter().map(|f| (f.name.clone(), f.path.clone())));

    let wac_file = workspace.manifest.compose.wac.as_ref().map(|w| w.get_ref());
    let root = match (wac_file, &workspace.manifest.compose.root) {
        (Some(file), _) => file.display().to_string(),
        (None, Some(root)) => root.get_ref().clone(),
        (None, None) => infer_root(&outputs)?,
    };
    let output = workspace.output_path();
    let record_file = workspace
        .target_dir()
        .join("fingerprints")
        .join(".compose.json");
    let mut hasher = Sha256::new();
    hasher.update(workspace.manifest.source.as_bytes());
    for build in &builds {
        hasher.update(build.name.as_bytes());
        hasher.update(build.inputs.as_deref().unwrap_or_default().as_bytes());
    }
    for remote in &fetched {
        hasher.update(remote.name.as_bytes());
        hasher.update(remote.digest.as_bytes());
    }
    if let Some(file) = wac_file {
        hash_wac_inputs(&mut hasher, &workspace.root.join(file))?;
    }
    let inputs = crate::digest::hex(&hasher.finalize());
    if !force
        && let Some(record) = Record::read(&record_file)
        && record.output == output
        && record.is_fresh(&inputs)
    {
        return Ok(WorkspaceComposition {
            output,
            root,
            composition: None,
            builds,
            info: Vec::new(),
        });
    }

    let (composition, info) = match wac_file {
        Some(file) => {
            let composed = compose_wac(workspace, file, &outputs)?;
            (composed.composition, composed.info)
        }
        None => {
            let options = compose_options(workspace, &outputs, &root)?;
            (compose::compose(options).report_err()?, Vec::new())
        }
    };
    crate::fsutil::write(&output, &composition.bytes)?;
    let output_stamp = fingerprint::stamp(&output).unwrap_or_default();
    Record {
        inputs,
        output: output.clone(),
        output_stamp,
    }
    .write(&record_file)?;
    Ok(WorkspaceComposition {
        output,
        root,
        composition: Some(composition),
        builds,
        info,
    })
}

/// The `.wac` file and every file under the `deps/` beside it.
fn hash_wac_inputs(hasher: &mut Sha256, file: &Path) -> anyhow::Result<()> {
    hasher.update(fs_err::read(file)?);
    let deps = file.parent().unwrap_or(Path::new(".")).join("deps");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&deps)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    for path in files {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update(fs_err::read(&path)?);
    }
    Ok(())
}

/// Composes by the `.wac` file `file` (relative to the workspace), each component being the
/// package `<workspace>:<component>`.
fn compose_wac(
    workspace: &Workspace,
    file: &Path,
    outputs: &[(String, PathBuf)],
) -> anyhow::Result<wac::WacComposition> {
    let path = workspace.root.join(file);
    let namespace = wac::kebab(&workspace.name);
    let options = WacOptions {
        shown: file.display().to_string(),
        source: fs_err::read_to_string(&path)?,
        deps: outputs
            .iter()
            .map(|(name, output)| Dep {
                name: format!("{namespace}:{}", wac::kebab(name)),
                path: output.clone(),
                shown: output.display().to_string(),
            })
            .collect(),
        dir: path.parent().map(Path::to_path_buf),
    };
    wac::compose(&options).report_err()
}

/// The root as the socket, every other component as a plug, `[compose.wire]` as wires.
fn compose_options(
    workspace: &Workspace,
    outputs: &[(String, PathBuf)],
    root: &str,
) -> anyhow::Result<ComposeOptions> {
    let read = |(name, path): &(String, PathBuf)| -> anyhow::Result<ComposeInput> {
        Ok(ComposeInput {
            name: name.clone(),
            origin: path.display().to_string(),
            bytes: fs_err::read(path)?,
            grants: workspace.grants_of(name)?,
        })
    };
    let socket = outputs
        .iter()
        .find(|(name, _)| name == root)
        .ok_or_else(|| InternalError::error(format!("the root `{root}` has no build output")))?;
    let plugs = outputs
        .iter()
        .filter(|(name, _)| name != root)
        .map(read)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let wires = workspace
        .manifest
        .compose
        .wire
        .iter()
        .flat_map(|(importer, wires)| {
            wires.get_ref().iter().map(move |(import, exporter)| Wire {
                importer: importer.clone(),
                import: import.clone(),
                exporter: exporter.get_ref().clone(),
            })
        })
        .collect();
    Ok(ComposeOptions {
        socket: read(socket)?,
        plugs,
        wires,
        require_every_plug: false,
    })
}

/// The one component whose exports no other component imports (by the same name or a
/// semver-compatible version, as composition plugs them).
fn infer_root(outputs: &[(String, PathBuf)]) -> anyhow::Result<String> {
    if let [(only, _)] = outputs {
        return Ok(only.clone());
    }
    let mut surfaces = Vec::new();
    for (name, path) in outputs {
        surfaces.push((name, compose::surface(&fs_err::read(path)?)?));
    }
    let candidates: Vec<&String> = surfaces
        .iter()
        .filter(|(name, surface)| {
            !surfaces
                .iter()
                .any(|(other, other_surface)| other != name && surface.feeds(other_surface))
        })
        .map(|(name, _)| *name)
        .collect();
    match candidates.as_slice() {
        [root] => Ok((*root).clone()),
        _ => Err(WorkspaceError::NoRoot {
            candidates: candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }
        .report()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/compose/components/<stem>.wat`, compiled into `dir`.
    fn component(dir: &std::path::Path, stem: &str) -> (String, PathBuf) {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/compose/components")
            .join(format!("{stem}.wat"));
        let path = dir.join(format!("{stem}.wasm"));
        crate::fsutil::write(&path, &wat::parse_file(source).unwrap()).unwrap();
        (stem.to_owned(), path)
    }

    /// `[compose] wac`: the file's package names are the components as
    /// `<workspace>:<component>`; the file (and `deps/` beside it) is part of the fingerprint.
    #[test]
    fn a_wac_file_composes_the_members_by_package_name() {
        let temp = tempfile::tempdir().unwrap();
        crate::fsutil::write(
            &temp.path().join("wcomp.toml"),
            b"[workspace]\nname = \"My_App\"\n\n[compose]\nwac = \"app.wac\"\n",
        )
        .unwrap();
        let wac = "package my-app:app;\n\nlet adder = new my-app:add {};\nlet calc = new my-app:calc { ...adder };\n\nexport calc...;\n";
        crate::fsutil::write(&temp.path().join("app.wac"), wac.as_bytes()).unwrap();
        let workspace = Workspace::load(temp.path()).unwrap();
        let outputs = [
            component(temp.path(), "calc"),
            component(temp.path(), "add"),
        ];
        let composed = compose_wac(&workspace, Path::new("app.wac"), &outputs).unwrap();
        assert_eq!(composed.composition.instances, ["calc", "adder"]);
        assert_eq!(composed.composition.links[0].exporter, "adder");

        let mut before = Sha256::new();
        hash_wac_inputs(&mut before, &temp.path().join("app.wac")).unwrap();
        crate::fsutil::write(&temp.path().join("deps/x/y.wasm"), b"\0asm").unwrap();
        let mut after = Sha256::new();
        hash_wac_inputs(&mut after, &temp.path().join("app.wac")).unwrap();
        assert_ne!(before.finalize(), after.finalize());
    }

    #[test]
    fn a_wac_file_with_a_root_is_refused() {
        let temp = tempfile::tempdir().unwrap();
        crate::fsutil::write(
            &temp.path().join("wcomp.toml"),
            b"[workspace]\nname = \"app\"\n\n[compose]\nroot = \"calc\"\nwac = \"app.wac\"\n",
        )
        .unwrap();
        let err = Workspace::load(temp.path()).unwrap_err();
        assert!(
            format!("{err:#}").contains("`wac` says how to compose"),
            "{err:#}"
        );
    }

    /// A middleware importing `wasi:http/handler@0.3.0` in front of a handler exporting
    /// `@0.3.2` (as a Python middleware and a `wasip3` handler are): the handler feeds the
    /// middleware, so the middleware is the root.
    #[test]
    fn the_root_is_found_across_semver_compatible_versions() {
        let temp = tempfile::tempdir().unwrap();
        let outputs = [
            component(temp.path(), "handler"),
            component(temp.path(), "middleware"),
        ];
        assert_eq!(infer_root(&outputs).unwrap(), "middleware");
    }
}
