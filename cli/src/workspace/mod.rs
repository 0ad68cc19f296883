//! Workspaces: several components sharing one `wit/`, described by `wcomp.toml`, built in
//! parallel with content hashes, and composed from a root component. This module owns the
//! manifest model and validation; `build` and `compose` own the two operations on it.

pub mod build;
pub mod compose;
pub mod fingerprint;
pub mod remote;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Report as _, ReportResult as _};
use anyhow::Context as _;

pub use crate::manifest::{MANIFEST, Manifest, ManifestError};

use crate::compose::grants::{Grant, Grants, Kind};
use crate::manifest::{Language, Project};
use crate::wit::WitPackage;

/// Errors about a workspace as a whole (not tied to a line of the manifest).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WorkspaceError {
    /// `-p` named something that is not a member.
    #[error("the workspace has no component named `{name}`")]
    #[diagnostic(help("components: {available}"))]
    UnknownMember { name: String, available: String },
    /// Compose needs a root and none can be inferred.
    #[error("cannot tell which component is the root of the composition")]
    #[diagnostic(help(
        "set `root = \"<component>\"` under `[compose]` in wcomp.toml; candidates: {candidates}"
    ))]
    NoRoot { candidates: String },
    /// The workspace has no components yet.
    #[error("the workspace has no components")]
    #[diagnostic(help(
        "add one with `wcomp new <name> --lang <rust|go|python|js> --world <world>`"
    ))]
    Empty,
}

/// A component of a workspace.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub project: Project,
    /// The text of its `[component.<name>]` table, hashed as one of its inputs.
    pub entry_text: String,
}

/// A loaded, validated workspace.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub name: String,
    pub wit_dir: PathBuf,
    /// Components built from source.
    pub members: Vec<Member>,
    /// Components taken from registries (`oci = …`).
    pub remote: Vec<remote::RemoteComponent>,
}

impl Workspace {
    /// The nearest directory at or above `start` whose `wcomp.toml` has a `[workspace]` table.
    pub fn find(start: &Path) -> Option<PathBuf> {
        crate::manifest::find_workspace(start)
    }

    /// Loads `root/wcomp.toml` and checks it against the disk and the WIT.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let manifest = Manifest::load(&root.join(MANIFEST))?;
        let table = manifest
            .workspace
            .clone()
            .context("wcomp.toml has no [workspace] table")?;
        let wit_dir = root.join(table.wit.get_ref());
        // Only components built here read the shared WIT.
        let builds_any = manifest
            .components
            .values()
            .any(|entry| entry.get_ref().oci.is_none());
        if builds_any && !wit_dir.exists() {
            return Err(manifest
                .error(
                    table.wit.span(),
                    format!(
                        "WIT directory `{}` does not exist",
                        table.wit.get_ref().display()
                    ),
                    "not found",
                    Some("create it, or point `wit` at the shared WIT directory".into()),
                )
                .report());
        }
        let wit = if manifest
            .components
            .values()
            .any(|entry| entry.get_ref().world.is_some())
        {
            Some(WitPackage::load(&wit_dir).report_err()?)
        } else {
            None
        };
        let worlds = wit
            .as_ref()
            .map(WitPackage::world_names)
            .unwrap_or_default();

        let mut members = Vec::new();
        let mut remote = Vec::new();
        for (name, entry) in &manifest.components {
            match remote::entry(&manifest, name, entry)? {
                Some(component) => remote.push(component),
                None => members.push(member(&manifest, root, &wit_dir, &worlds, name, entry)?),
            }
        }
        let workspace = Self {
            root: root.to_owned(),
            name: table.name.get_ref().clone(),
            manifest,
            wit_dir,
            members,
            remote,
        };
        workspace.validate_compose().report_err()?;
        Ok(workspace)
    }

    fn validate_compose(&self) -> Result<(), ManifestError> {
        let known: BTreeSet<&str> = self
            .members
            .iter()
            .map(|m| m.name.as_str())
            .chain(self.remote.iter().map(|r| r.name.as_str()))
            .collect();
        let unknown = |span: Range<usize>, name: &str| {
            self.manifest.error(
                span,
                format!("`{name}` is not a component of this workspace"),
                "unknown component",
                Some(format!(
                    "components: {}",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                )),
            )
        };
        let compose = &self.manifest.compose;
        if let Some(wac) = &compose.wac
            && (compose.root.is_some() || !compose.wire.is_empty())
        {
            return Err(self.manifest.error(
                wac.span(),
                "`wac` says how to compose, so `root` and `[compose.wire]` would be ignored",
                "composes by this file",
                Some("remove `root` and `[compose.wire]`, or this line".into()),
            ));
        }
        self.validate_grants()?;
        if let Some(root) = &compose.root
            && !known.contains(root.get_ref().as_str())
        {
            return Err(unknown(root.span(), root.get_ref()));
        }
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (importer, wires) in &compose.wire {
            if !known.contains(importer.as_str()) {
                return Err(unknown(wires.span(), importer));
            }
            for exporter in wires.get_ref().values() {
                if !known.contains(exporter.get_ref().as_str()) {
                    return Err(unknown(exporter.span(), exporter.get_ref()));
                }
                edges
                    .entry(importer.as_str())
                    .or_default()
                    .insert(exporter.get_ref().as_str());
            }
        }
        if let Some(cycle) = find_cycle(&edges) {
            let span = compose.wire[cycle[0]].span();
            return Err(self.manifest.error(
                span,
                format!("`[compose.wire]` forms a cycle: {}", cycle.join(" → ")),
                "part of the cycle",
                Some(
                    "components cannot import from each other in a loop; remove one of these wires"
                        .into(),
                ),
            ));
        }
        Ok(())
    }

    /// Every `allow` entry is a grant wcomp knows; `.wac` compositions take none yet; and
    /// members granted one kind of capability are granted the same scopes of it, since the
    /// host's grant of a kind is shared by every member allowed it.
    fn validate_grants(&self) -> Result<(), ManifestError> {
        let mut scopes: BTreeMap<Kind, (&str, Option<BTreeSet<String>>)> = BTreeMap::new();
        for (name, entry) in &self.manifest.components {
            let Some(allow) = &entry.get_ref().allow else {
                continue;
            };
            if let Some(wac) = &self.manifest.compose.wac {
                return Err(self.manifest.error(
                    allow.span(),
                    format!(
                        "`allow` cannot be honoured in a composition made by `{}` yet",
                        wac.get_ref().display()
                    ),
                    "grants for this component",
                    Some("remove `[compose] wac` to compose by plugging, or remove `allow`".into()),
                ));
            }
            let mut grants = Grants::default();
            for text in allow.get_ref() {
                let grant = text.get_ref().parse::<Grant>().map_err(|err| {
                    self.manifest
                        .error(text.span(), err, "not a capability wcomp knows", None)
                })?;
                grants.grants.insert(grant);
            }
            for kind in grants.grants.iter().map(|grant| &grant.kind) {
                let these = grants
                    .scopes(kind)
                    .map(|scopes| scopes.into_iter().map(str::to_owned).collect());
                match scopes.get(kind) {
                    Some((other, theirs)) if *theirs != these => {
                        let show = |scopes: &Option<BTreeSet<String>>| match scopes {
                            None => format!("all of `{}`", kind.word()),
                            Some(scopes) => scopes
                                .iter()
                                .map(|scope| format!("`{}:{scope}`", kind.word()))
                                .collect::<Vec<_>>()
                                .join(", "),
                        };
                        return Err(self.manifest.error(
                            allow.span(),
                            format!(
                                "`{name}` is granted {} but `{other}` {}: the host's `{}` grant is shared by every component allowed it, so each would reach what the other was granted",
                                show(&these),
                                show(theirs),
                                kind.word()
                            ),
                            "differs from another component's",
                            Some(format!(
                                "grant both components the same `{}` entries",
                                kind.word()
                            )),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        scopes.insert(kind.clone(), (name.as_str(), these));
                    }
                }
            }
        }
        Ok(())
    }

    /// What the component `name` may use of WASI in the composition: `None` when no component
    /// of the workspace says (every WASI import goes to the host), else its `allow` (nothing
    /// when it has none).
    pub fn grants_of(&self, name: &str) -> anyhow::Result<Option<Grants>> {
        let components = &self.manifest.components;
        if components
            .values()
            .all(|entry| entry.get_ref().allow.is_none())
        {
            return Ok(None);
        }
        let entries = components
            .get(name)
            .and_then(|entry| entry.get_ref().allow.as_ref())
            .map(|allow| allow.get_ref().iter().map(|text| text.get_ref().as_str()));
        let grants = Grants::parse(entries.into_iter().flatten()).map_err(anyhow::Error::msg)?;
        Ok(Some(grants))
    }

    pub fn member(&self, name: &str) -> Result<&Member, WorkspaceError> {
        find_member(&self.members, name)
    }

    /// Where build state and outputs of the workspace live.
    pub fn target_dir(&self) -> PathBuf {
        self.root.join("target").join("wcomp")
    }

    /// The composed component's path.
    pub fn output_path(&self) -> PathBuf {
        match &self.manifest.compose.output {
            Some(path) => self.root.join(path),
            None => self.target_dir().join(format!("{}.wasm", self.name)),
        }
    }
}

/// A member of the workspace, checked against the disk and the WIT's worlds.
fn member(
    manifest: &Manifest,
    root: &Path,
    wit_dir: &Path,
    worlds: &[String],
    name: &str,
    entry: &toml::Spanned<crate::manifest::ComponentEntry>,
) -> anyhow::Result<Member> {
    let table_wit = manifest
        .workspace
        .as_ref()
        .map(|table| table.wit.get_ref().display().to_string())
        .unwrap_or_default();
    let span = entry.span();
    let body = entry.get_ref();
    let Some(lang) = &body.lang else {
        return Err(manifest
            .error(
                span,
                format!("component `{name}` needs `lang` (or `oci`, to take it from a registry)"),
                "in this component",
                Some("add `lang = \"rust\"` (or `go`, `python`, `js`), or `oci = \"<registry>/<repository>:<tag>\"`".into()),
            )
            .report());
    };
    let language = *lang.get_ref();
    crate::manifest::names::validate_project_name(name)
        .map_err(|reason| {
            manifest.error(
                span.clone(),
                format!("invalid component name: {reason}"),
                "in this component",
                None,
            )
        })
        .report_err()?;
    let relative = body
        .path
        .as_ref()
        .map_or_else(|| PathBuf::from(name), |p| p.get_ref().clone());
    let dir = root.join(&relative);
    if !dir.is_dir() {
        let at = body.path.as_ref().map_or(span.clone(), |p| p.span());
        return Err(manifest
            .error(
                at,
                format!(
                    "component `{name}`: directory `{}` does not exist",
                    relative.display()
                ),
                "no such directory",
                Some(format!(
                    "create it with `wcomp new {name} --lang {} --world <world>`, or fix `path`",
                    language
                )),
            )
            .report());
    }
    let world = match &body.world {
        Some(world) if !worlds.contains(world.get_ref()) => {
            let available = worlds
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(manifest
                .error(
                    world.span(),
                    format!(
                        "component `{name}`: world `{}` is not in the workspace WIT",
                        world.get_ref()
                    ),
                    "unknown world",
                    Some(format!("worlds in `{table_wit}`: {available}")),
                )
                .report());
        }
        Some(world) => Some(world.get_ref().clone()),
        None if language != Language::Rust => {
            return Err(manifest
                .error(
                    span.clone(),
                    format!("component `{name}` needs a `world`"),
                    "no `world` here",
                    Some(format!(
                        "add `world = \"<name>\"`; worlds: {}",
                        worlds.join(", ")
                    )),
                )
                .report());
        }
        None => None,
    };
    Ok(Member {
        name: name.to_owned(),
        project: Project {
            dir,
            language,
            name: name.to_owned(),
            world,
            wit: wit_dir.to_owned(),
        },
        entry_text: manifest.source.get(span).unwrap_or_default().to_owned(),
    })
}

/// The member named `name`, or the error listing the members there are.
pub fn find_member<'a>(members: &'a [Member], name: &str) -> Result<&'a Member, WorkspaceError> {
    members
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| WorkspaceError::UnknownMember {
            name: name.to_owned(),
            available: members
                .iter()
                .map(|m| format!("`{}`", m.name))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// A cycle in `importer → exporters` edges, as the list of names around it.
fn find_cycle<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(start) = path.iter().position(|n| *n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node);
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_wiring_cycles() {
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        edges.entry("a").or_default().insert("b");
        edges.entry("b").or_default().insert("c");
        assert_eq!(find_cycle(&edges), None);
        edges.entry("c").or_default().insert("a");
        assert_eq!(find_cycle(&edges), Some(vec!["a", "b", "c", "a"]));
    }
}
