//! Composing a workspace: build what is stale, then plug every component into the root's
//! imports (transitively), honouring `[compose.wire]`. The result is recomposed only when a
//! component or the manifest changed.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::build::{self, BuildOptions, MemberBuild, check_builds};
use super::fingerprint::{self, Record};
use super::{Workspace, WorkspaceError};
use crate::Context;
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

    let root = match &workspace.manifest.compose.root {
        Some(root) => root.get_ref().clone(),
        None => infer_root(&outputs)?,
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
        });
    }

    let options = compose_options(workspace, &outputs, &root)?;
    let composition = compose::compose(options).report_err()?;
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
    })
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
