//! Components of a workspace taken from an OCI registry instead of built
//! (`[component.db] oci = "ghcr.io/acme/db:1.2.0"`), pinned by digest in `wcomp.lock` beside
//! `wcomp.toml`: the first compose resolves the reference and records its digest; later ones
//! pull by that digest (from wcomp's cache, with no network) until the reference in
//! `wcomp.toml` changes. Commit `wcomp.lock` to compose the same bytes everywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::Context;
use crate::diagnostic::Report as _;
use crate::manifest::{ComponentEntry, Manifest};
use crate::registry::{self, Access, Credentials};

/// The lock file's name.
pub const LOCK: &str = "wcomp.lock";

/// A workspace component from a registry.
#[derive(Debug, Clone)]
pub struct RemoteComponent {
    pub name: String,
    pub reference: String,
    pub insecure: bool,
}

/// The entry as a registry component, if it is one (`oci = …`); an error if it mixes `oci`
/// with what only built components have.
pub fn entry(
    manifest: &Manifest,
    name: &str,
    entry: &Spanned<ComponentEntry>,
) -> anyhow::Result<Option<RemoteComponent>> {
    let body = entry.get_ref();
    let Some(reference) = &body.oci else {
        return Ok(None);
    };
    if body.lang.is_some() || body.path.is_some() || body.world.is_some() {
        return Err(manifest
            .error(
                entry.span(),
                format!("component `{name}` has `oci` and also `lang`, `path` or `world`"),
                "in this component",
                Some(
                    "a component from a registry is not built: keep `oci` (and `insecure`) only"
                        .into(),
                ),
            )
            .report());
    }
    registry::parse_reference(reference.get_ref()).map_err(|err| {
        manifest
            .error(
                reference.span(),
                format!("{err}"),
                "here",
                crate::diagnostic::hint_of(&err),
            )
            .report()
    })?;
    Ok(Some(RemoteComponent {
        name: name.to_owned(),
        reference: reference.get_ref().clone(),
        insecure: body.insecure,
    }))
}

/// `wcomp.lock`: one entry per registry component.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct LockFile {
    #[serde(default, rename = "component")]
    components: Vec<Locked>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Locked {
    name: String,
    reference: String,
    digest: String,
}

/// A registry component, pulled.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub name: String,
    /// The component in wcomp's cache.
    pub path: PathBuf,
    /// `sha256:…` of its manifest.
    pub digest: String,
}

/// Every registry component of the workspace at `root`, pulled by its locked digest (or
/// resolved and locked); rewrites `wcomp.lock` when it changed.
pub fn fetch(
    root: &Path,
    components: &[RemoteComponent],
    ctx: &Context,
) -> anyhow::Result<Vec<Fetched>> {
    if components.is_empty() {
        return Ok(Vec::new());
    }
    let lock_path = root.join(LOCK);
    let old: LockFile = match fs_err::read_to_string(&lock_path) {
        Ok(text) => toml::from_str(&text).map_err(|err| {
            anyhow::anyhow!("`{}` is not a wcomp lock file: {err}", lock_path.display())
        })?,
        Err(_) => LockFile::default(),
    };
    let locked: BTreeMap<&str, &Locked> = old
        .components
        .iter()
        .map(|l| (l.name.as_str(), l))
        .collect();
    let mut fetched = Vec::new();
    let mut new = LockFile::default();
    for component in components {
        let access = Access {
            credentials: Credentials::DockerConfig,
            insecure: component.insecure,
            insecure_remote: false,
            offline: ctx.offline,
            ..Access::default()
        };
        let pinned = locked
            .get(component.name.as_str())
            .filter(|l| l.reference == component.reference)
            .and_then(|l| pinned(&component.reference, &l.digest));
        let pulled = registry::pull(
            pinned.as_deref().unwrap_or(&component.reference),
            &access,
            &ctx.cache_dir,
        )?;
        if let Some(note) = &pulled.note {
            ctx.printer.warning(note);
        }
        ctx.printer
            .verbose(format_args!("`{}` is {}", component.name, pulled.pinned));
        new.components.push(Locked {
            name: component.name.clone(),
            reference: component.reference.clone(),
            digest: pulled.digest.clone(),
        });
        fetched.push(Fetched {
            name: component.name.clone(),
            path: pulled.path,
            digest: pulled.digest,
        });
    }
    let text = format!(
        "# Written by wcomp: the digest each registry component of wcomp.toml was taken at.\n# Commit it; wcomp updates it when a reference in wcomp.toml changes.\n\n{}",
        toml::to_string(&new)?
    );
    if fs_err::read_to_string(&lock_path).ok().as_deref() != Some(text.as_str()) {
        crate::fsutil::write(&lock_path, text.as_bytes())?;
    }
    Ok(fetched)
}

/// `reference` pinned to `digest`: `<registry>/<repository>@<digest>`.
fn pinned(reference: &str, digest: &str) -> Option<String> {
    let parsed = registry::parse_reference(reference).ok()?;
    Some(format!(
        "{}/{}@{digest}",
        parsed.registry(),
        parsed.repository()
    ))
}
