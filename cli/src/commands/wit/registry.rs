//! `wcomp wit fetch` and `wcomp wit publish`: WIT packages from and to OCI registries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::commands::registry::RegistryFlags;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::manifest::{MANIFEST, Manifest};
use crate::printer::{Message, Printer};
use crate::registry::wit::{self as wit_registry, FetchOptions};
use crate::registry::{self, PublishOptions};
use crate::wit::WitPackage;
use crate::{Context, ExitStatus};

/// Fetch the WIT packages a package uses from registries into its `deps/`.
///
/// Each foreign package the WIT names (`use acme:lib/api@1.0.0`) that is neither in `deps/`
/// nor one of the WASI packages wcomp embeds is fetched from the registry its namespace maps
/// to, then its own dependencies the same way. `[registry]` in wcomp.toml maps namespaces
/// (`acme = "ghcr.io/acme"`); wkg's config file and defaults apply to the rest. The exact
/// versions and digests go to `wkg.lock` (wkg's format); later fetches and builds use them,
/// and contact no registry when `deps/` already has everything. Nothing in `deps/` is
/// deleted or overwritten (except, with `--update`, what the lock had fetched).
///
/// Examples:
///
///   wcomp wit fetch
///
///   wcomp wit fetch --update
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// The WIT package directory (default: the project's or workspace's WIT).
    pub path: Option<PathBuf>,

    /// Take the newest versions that match, ignoring the lock.
    #[arg(long)]
    pub update: bool,

    /// Never contact a registry: packages come from wcomp's cache.
    #[arg(long)]
    pub offline: bool,
}

/// Publish a WIT package to an OCI registry, so others can fetch it.
///
/// The package (with its `deps/` resolved) is encoded as a binary WIT package and pushed as a
/// Wasm OCI artifact. Without a reference, it goes where `wcomp wit fetch` would look for it:
/// `<registry>/<prefix>/<namespace>/<name>:<version>` from the `[registry]` entry of its
/// namespace, so the package line needs a version (`package acme:lib@1.0.0;`).
///
/// Examples:
///
///   wcomp wit publish
///
///   wcomp wit publish ghcr.io/acme/acme/lib:1.0.0 --wit wit/
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Where to push: `<registry>/<repository>:<tag>` (default: from `[registry]`).
    pub reference: Option<String>,

    /// The WIT package directory or file (default: the project's or workspace's WIT).
    #[arg(long, value_name = "PATH")]
    pub wit: Option<PathBuf>,

    /// Replace a version already published with other content (those who locked it will
    /// find its digest changed).
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub fn run_fetch(args: FetchArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let wit_dir = match &args.path {
        Some(path) => ctx.path(path),
        None => crate::wit::default_wit_paths(&ctx.cwd)?.remove(0),
    };
    let root = project_root(&wit_dir);
    let report = wit_registry::fetch(&FetchOptions {
        wit_dir: wit_dir.clone(),
        root: root.clone(),
        cache_dir: ctx.cache_dir.clone(),
        offline: args.offline || ctx.offline,
        update: args.update,
    })?;
    // Whatever is still wrong with the WIT is reported in full.
    let package = WitPackage::load(&wit_dir).report_err()?;
    ctx.printer.emit(&Fetched {
        package: &package.name(),
        report: &report,
        lock: report.lock_written.then(|| root.join(wit_registry::LOCK)),
        deps: &wit_dir.join("deps"),
        cwd: &ctx.cwd,
    });
    Ok(ExitStatus::Success)
}

pub fn run_publish(args: PublishArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let wit_path = match &args.wit {
        Some(path) => ctx.path(path),
        None => crate::wit::default_wit_paths(&ctx.cwd)?.remove(0),
    };
    let package = WitPackage::load(&wit_path).report_err()?;
    let name = package.resolve.packages[package.package].name.clone();
    let mut access = args.registry.access()?;
    let reference = match &args.reference {
        Some(reference) => reference.clone(),
        None => {
            let Some(version) = &name.version else {
                return Err(WitPublishError::NoVersion {
                    package: name.to_string(),
                }
                .report());
            };
            let root = project_root(&wit_path);
            let mapping = match Manifest::load(&root.join(MANIFEST)) {
                Ok(manifest) => wit_registry::mappings(&manifest)?
                    .into_iter()
                    .find(|m| m.namespace == name.namespace),
                Err(_) => None,
            };
            let Some(mapping) = mapping else {
                return Err(WitPublishError::NoReference {
                    package: name.to_string(),
                    namespace: name.namespace.clone(),
                }
                .report());
            };
            access.insecure |= mapping.insecure;
            mapping.reference(&name.namespace, &name.name, &version.to_string())
        }
    };
    let bytes = wit_component::encode(&package.resolve, package.package, false)
        .map_err(|err| anyhow::anyhow!("cannot encode `{name}` as a WIT package: {err:#}"))?;
    let mut annotations = BTreeMap::new();
    if let Some(version) = &name.version {
        annotations.insert(
            "org.opencontainers.image.version".to_owned(),
            version.to_string(),
        );
    }
    ctx.printer.status(
        "Publishing",
        format_args!(
            "`{name}` ({} KiB) to `{reference}`",
            bytes.len().div_ceil(1024)
        ),
    );
    let published = registry::publish(
        &PublishOptions {
            reference,
            component: bytes,
            title: format!("{}.wasm", name.name),
            annotations,
            wit_package: true,
            immutable: !args.force,
        },
        &access,
    )?;
    ctx.printer.emit(&WitPublished {
        package: &name.to_string(),
        published: &published,
    });
    Ok(ExitStatus::Success)
}

/// Mistakes in what `wit publish` was given.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WitPublishError {
    #[error("`{package}` has no version, and the registry tag is the version")]
    #[diagnostic(help(
        "give the package line a version (`package {package}@1.0.0;`), or pass a reference"
    ))]
    NoVersion { package: String },
    #[error(
        "no reference given, and no `[registry]` entry maps the namespace `{namespace}` of `{package}`"
    )]
    #[diagnostic(help(
        "pass `<registry>/<repository>:<tag>`, or add `[registry]` `{namespace} = \"ghcr.io/<org>\"` to wcomp.toml"
    ))]
    NoReference { package: String, namespace: String },
}

/// The directory whose `wcomp.toml` (and `wkg.lock`) governs the WIT at `wit`: the nearest
/// one above it with a manifest, else the WIT directory's parent.
fn project_root(wit: &Path) -> PathBuf {
    let parent = wit.parent().unwrap_or(wit);
    parent
        .ancestors()
        .find(|dir| dir.join(MANIFEST).is_file())
        .unwrap_or(parent)
        .to_owned()
}

/// What `wit fetch` wrote into `deps/`, and the lock file.
struct Fetched<'a> {
    package: &'a str,
    report: &'a wit_registry::FetchReport,
    /// The lock file, when it was written.
    lock: Option<PathBuf>,
    deps: &'a Path,
    cwd: &'a Path,
}

impl Message for Fetched<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": "wit-fetched",
            "package": self.package,
            "fetched": self.report.fetched,
            "lock": self.lock,
        })
    }

    fn show(&self, printer: &Printer) {
        for fetched in &self.report.fetched {
            printer.status(
                "Fetched",
                format_args!(
                    "`{}` from `{}` into `{}`",
                    fetched.package,
                    fetched.registry,
                    relative(&fetched.path, self.cwd)
                ),
            );
        }
        if let Some(lock) = &self.lock {
            printer.status("Locked", relative(lock, self.cwd));
        }
        if self.report.fetched.is_empty() {
            printer.status(
                "Fresh",
                format_args!(
                    "`{}` has every package `{}` uses",
                    relative(self.deps, self.cwd),
                    self.package
                ),
            );
        }
    }
}

/// A WIT package pushed (or found already there), and its reference pinned by digest.
struct WitPublished<'a> {
    package: &'a str,
    published: &'a registry::Published,
}

impl Message for WitPublished<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": "published",
            "package": self.package,
            "published": self.published,
        })
    }

    fn show(&self, printer: &Printer) {
        if self.published.unchanged {
            printer.status(
                "Unchanged",
                format_args!("`{}` already holds this package", self.published.reference),
            );
        } else {
            printer.status("Published", &self.published.reference);
        }
        printer.data(&self.published.pinned);
    }
}

fn relative(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}
