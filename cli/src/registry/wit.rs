//! WIT packages from registries: the foreign packages a WIT package uses (`acme:lib@1.0.0`)
//! are fetched into its `deps/` and recorded in `wkg.lock` (wkg's lock format, so wcomp and
//! wkg can share a project), through `wasm-pkg-client`, the library wkg resolves with.
//!
//! Which registry serves a namespace comes from `[registry]` in `wcomp.toml`
//! (`acme = "ghcr.io/acme"`), then from wkg's own config file
//! (`~/.config/wasm-pkg/config.toml`), then wkg's defaults (`wasi` → `wasi.dev`). A package
//! `ns:name@version` lives at `<registry>/<prefix>/<ns>/<name>:<version>`.
//!
//! Resolution is driven by what is actually missing: the package is loaded, and each package
//! wit-parser cannot find (that wcomp does not embed, like WASI) is fetched, then the package
//! is loaded again, so a dependency's own dependencies are found the same way. When `deps/`
//! already satisfies the package, no registry is contacted. A locked package is fetched at
//! its locked version and must have its locked digest. Nothing in `deps/` is ever deleted or
//! overwritten.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use futures_util::TryStreamExt as _;
use wasm_pkg_client::caching::{Cache as _, CachingClient, FileCache};
use wasm_pkg_client::oci::OciRegistryConfig;
use wasm_pkg_client::{
    Client, Config, ContentDigest, CustomConfig, PackageRef, RegistryMapping, RegistryMetadata,
    Version, VersionReq,
};
use wit_parser::{PackageName, Resolve};

use super::error::Answer;
use crate::diagnostic::Report as _;
use crate::manifest::{MANIFEST, Manifest};

/// wkg's lock file name.
pub const LOCK: &str = "wkg.lock";

/// Errors resolving WIT packages from registries.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WitRegistryError {
    /// No registry is known for the package's namespace.
    #[error(
        "no registry is configured for the WIT namespace `{namespace}` (needed for `{package}`)"
    )]
    #[diagnostic(help(
        "map it in wcomp.toml: `[registry]` then `{namespace} = \"ghcr.io/<org>\"` (or in wkg's config file)"
    ))]
    NoRegistry { namespace: String, package: String },
    /// The registry has no such package or version.
    #[error("`{package}` is not in the registry `{registry}`{versions}")]
    #[diagnostic(help(
        "check the name and version in the WIT `use`/`import`, or publish it with `wcomp wit publish`"
    ))]
    NotFound {
        package: String,
        registry: String,
        versions: String,
    },
    /// The locked version now has different content.
    #[error(
        "`{package}` in the registry is not what {LOCK} records: it has {actual}, the lock has {locked}"
    )]
    #[diagnostic(help(
        "someone republished that version; if the new content is wanted, run `wcomp wit fetch --update`"
    ))]
    LockMismatch {
        package: String,
        locked: String,
        actual: String,
    },
    /// Offline, and not cached.
    #[error("`{package}` is not in wcomp's cache, and `--offline` forbids asking the registry")]
    #[diagnostic(help("run `wcomp wit fetch` once while the registry can be reached"))]
    NotCached { package: String },
    /// The artifact is a component, or a package of another name.
    #[error("`{package}` from `{registry}` is {what}, not the WIT package asked for")]
    #[diagnostic(help(
        "the repository should hold a WIT package published with `wcomp wit publish` or `wkg publish`"
    ))]
    WrongContent {
        package: String,
        registry: String,
        what: String,
    },
    /// A `[registry]` entry that cannot be used.
    #[error("`[registry] {namespace}` is not usable: {reason}")]
    #[diagnostic(help(
        "write `{namespace} = \"<registry>[/<prefix>]\"`, or `{namespace} = {{ oci = \"localhost:5000\", insecure = true }}` for plain HTTP on this machine"
    ))]
    BadMapping { namespace: String, reason: String },
}

/// A registry mapping from `wcomp.toml`.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub namespace: String,
    /// The OCI registry host (`ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// The repository prefix, without slashes at either end (`webassembly`), if any.
    pub prefix: Option<String>,
    pub insecure: bool,
}

impl Mapping {
    /// The OCI reference of `ns:name@version` under this mapping.
    pub fn reference(&self, namespace: &str, name: &str, version: &str) -> String {
        let prefix = self
            .prefix
            .as_ref()
            .map(|p| format!("{p}/"))
            .unwrap_or_default();
        format!("{}/{prefix}{namespace}/{name}:{version}", self.registry)
    }
}

/// The `[registry]` mappings of a manifest, checked.
pub fn mappings(manifest: &Manifest) -> anyhow::Result<Vec<Mapping>> {
    let mut out = Vec::new();
    for (namespace, entry) in &manifest.registry {
        let (oci, insecure) = entry.get_ref().parts();
        let bad = |reason: String| {
            manifest
                .error(
                    entry.span(),
                    format!("`[registry] {namespace}` is not usable: {reason}"),
                    "this entry",
                    Some(format!(
                        "write `{namespace} = \"<registry>[/<prefix>]\"`, or `{namespace} = {{ oci = \"localhost:5000\", insecure = true }}` for plain HTTP on this machine"
                    )),
                )
                .report()
        };
        if namespace.parse::<PackageRef>().is_ok()
            || format!("{namespace}:x").parse::<PackageRef>().is_err()
        {
            return Err(bad(format!(
                "`{namespace}` is not a WIT namespace (`acme`, `wasi`)"
            )));
        }
        let oci = oci.trim_end_matches('/');
        let (registry, prefix) = match oci.split_once('/') {
            Some((registry, prefix)) => (registry, Some(prefix.to_owned())),
            None => (oci, None),
        };
        if registry.is_empty() || registry.parse::<wasm_pkg_client::Registry>().is_err() {
            return Err(bad(format!("`{oci}` does not start with a registry host")));
        }
        if insecure && !super::reference::is_loopback(registry) {
            return Err(bad(format!(
                "plain HTTP (`insecure`) is for registries on this machine only, and `{registry}` is not one"
            )));
        }
        out.push(Mapping {
            namespace: namespace.clone(),
            registry: registry.to_owned(),
            prefix,
            insecure,
        });
    }
    Ok(out)
}

/// What a fetch did.
#[derive(Debug, Default)]
pub struct FetchReport {
    /// Packages written into `deps/`.
    pub fetched: Vec<FetchedPackage>,
    /// Whether `wkg.lock` was written.
    pub lock_written: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FetchedPackage {
    /// `acme:lib@1.0.0`.
    pub package: String,
    pub registry: String,
    /// `sha256:…` of the WIT package's bytes.
    pub digest: String,
    /// The directory it was written to.
    pub path: PathBuf,
}

/// Where and how to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The WIT package directory (its `deps/` receives what is fetched).
    pub wit_dir: PathBuf,
    /// The directory of `wcomp.toml` (and `wkg.lock`).
    pub root: PathBuf,
    pub cache_dir: PathBuf,
    pub offline: bool,
    /// Forget the locked versions: fetch the newest that match, replacing what the lock had
    /// written into `deps/`.
    pub update: bool,
}

/// Whether the project at `root` takes WIT from registries at all (a `[registry]` table or a
/// `wkg.lock`): only then does a build look for missing packages to fetch.
pub fn uses_registries(root: &Path) -> bool {
    root.join(LOCK).is_file()
        || Manifest::load(&root.join(MANIFEST)).is_ok_and(|m| !m.registry.is_empty())
}

/// Fetches every package the WIT at `options.wit_dir` is missing; see the module docs.
pub fn fetch(options: &FetchOptions) -> anyhow::Result<FetchReport> {
    let manifest_path = options.root.join(MANIFEST);
    let mappings = if manifest_path.is_file() {
        mappings(&Manifest::load(&manifest_path)?)?
    } else {
        Vec::new()
    };
    let lock_path = options.root.join(LOCK);
    let old_lock = LockFile::read(&lock_path)?;
    let mut lock = old_lock.clone();
    if options.update {
        forget_locked(&mut lock, &options.wit_dir)?;
    }
    let mut session = Session {
        options,
        mappings: &mappings,
        client: None,
        runtime: crate::async_runtime::current_thread()?,
    };
    let mut report = FetchReport::default();
    let mut tried = BTreeSet::new();
    let loaded = loop {
        let mut resolve = Resolve::default();
        match resolve.push_path(&options.wit_dir) {
            Ok(_) => break Some(resolve),
            Err(err) if crate::wit::wasi::supply_missing(&options.wit_dir, &err) => {}
            Err(err) => {
                let Some(missing) = crate::wit::wasi::missing_package(&err) else {
                    // Not a missing package: whoever loads the WIT next reports it in full.
                    break None;
                };
                if !tried.insert(missing.to_string()) {
                    break None;
                }
                report.fetched.push(session.fetch_one(&missing, &mut lock)?);
            }
        }
    };
    // Entries for packages the WIT no longer uses are dropped (only once it loads).
    if let Some(resolve) = loaded {
        let used: BTreeSet<String> = resolve
            .packages
            .iter()
            .map(|(_, p)| format!("{}:{}", p.name.namespace, p.name.name))
            .collect();
        lock.packages.retain(|p| used.contains(&p.name));
    }
    if (lock_path.exists() || !lock.packages.is_empty()) && lock != old_lock {
        lock.write(&lock_path)?;
        report.lock_written = true;
    }
    Ok(report)
}

/// With `--update`: removes from `deps/` the directories the lock's packages were written to
/// (`<ns>-<name>-<version>`), and forgets their versions.
fn forget_locked(lock: &mut LockFile, wit_dir: &Path) -> anyhow::Result<()> {
    for package in &lock.packages {
        for version in &package.versions {
            let dir = wit_dir
                .join("deps")
                .join(dir_name(&package.name, &version.version));
            if dir.is_dir() {
                fs_err::remove_dir_all(&dir)?;
            }
        }
    }
    lock.packages.clear();
    Ok(())
}

/// `deps/` directory name of a package: `acme-lib-1.0.0`.
fn dir_name(name: &str, version: &str) -> String {
    format!("{name}-{version}").replace([':', '@'], "-")
}

struct Session<'a> {
    options: &'a FetchOptions,
    mappings: &'a [Mapping],
    /// Created on first use: a build whose deps are all present never makes one.
    client: Option<(CachingClient<FileCache>, FileCache, Config)>,
    runtime: tokio::runtime::Runtime,
}

impl Session<'_> {
    /// The client (offline: the cache alone) and the registry configuration it uses.
    fn client(&mut self) -> anyhow::Result<(CachingClient<FileCache>, FileCache, Config)> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let config = self.runtime.block_on(config(self.mappings))?;
        let cache_dir = self.options.cache_dir.join("wit");
        let cache = self.runtime.block_on(FileCache::new(&cache_dir))?;
        let upstream = (!self.options.offline).then(|| Client::new(config.clone()));
        let client = (CachingClient::new(upstream, cache.clone()), cache, config);
        self.client = Some(client.clone());
        Ok(client)
    }

    /// Fetches `missing` into `deps/` and locks it.
    fn fetch_one(
        &mut self,
        missing: &PackageName,
        lock: &mut LockFile,
    ) -> anyhow::Result<FetchedPackage> {
        let display = missing.to_string();
        let package: PackageRef = format!("{}:{}", missing.namespace, missing.name)
            .parse()
            .with_context(|| format!("`{display}` is not a registry package name"))?;
        let requirement: VersionReq = match &missing.version {
            Some(version) => format!("={version}"),
            None => "*".to_owned(),
        }
        .parse()
        .context("version requirement")?;
        let (client, cache, config) = self.client()?;
        let registry = config
            .resolve_registry(&package)
            .map(ToString::to_string)
            .ok_or_else(|| {
                WitRegistryError::NoRegistry {
                    namespace: missing.namespace.clone(),
                    package: display.clone(),
                }
                .report()
            })?;
        let locked = lock.find(&package.to_string(), &requirement).cloned();
        let version = match &locked {
            Some(locked) => locked.version.parse::<Version>()?,
            None => match &missing.version {
                Some(version) => version.clone(),
                None => self.newest(&client, &package, &registry, &display)?,
            },
        };
        let named = format!("{package}@{version}");
        let not_found = |versions: String| WitRegistryError::NotFound {
            package: named.clone(),
            registry: registry.clone(),
            versions,
        };
        // A locked version may come from the cache (its digest is checked below); otherwise
        // the registry is asked what the version is now.
        let release = match (&locked, client.client()) {
            (None, Ok(upstream)) => self.runtime.block_on(async {
                let release = upstream.get_release(&package, &version).await?;
                cache.put_release(&package, &release).await?;
                Ok(release)
            }),
            _ => self
                .runtime
                .block_on(client.get_release(&package, &version)),
        }
        .map_err(|err| self.explain(err, &named, &not_found))?;
        let digest = release.content_digest.to_string();
        if let Some(locked) = &locked
            && locked.digest != digest
        {
            return Err(WitRegistryError::LockMismatch {
                package: named,
                locked: locked.digest.clone(),
                actual: digest,
            }
            .report());
        }
        let bytes = self.content(&client, &package, &release, &named, &not_found)?;
        let text = print_package(&bytes, missing, &version).map_err(|what| {
            WitRegistryError::WrongContent {
                package: named.clone(),
                registry: registry.clone(),
                what,
            }
            .report()
        })?;
        let dir = self
            .options
            .wit_dir
            .join("deps")
            .join(dir_name(&package.to_string(), &version.to_string()));
        if dir.exists() {
            anyhow::bail!(
                "`{}` already exists but does not provide `{display}`; move it away and fetch again",
                dir.display()
            );
        }
        fs_err::create_dir_all(&dir)?;
        crate::fsutil::write(&dir.join("package.wit"), text.as_bytes())?;
        lock.insert(LockedPackage {
            name: package.to_string(),
            registry: Some(registry.clone()),
            versions: vec![LockedVersion {
                requirement: requirement.to_string(),
                version: version.to_string(),
                digest: digest.clone(),
            }],
        });
        Ok(FetchedPackage {
            package: named,
            registry,
            digest,
            path: dir,
        })
    }

    /// The newest release version (prereleases only when nothing else exists).
    fn newest(
        &self,
        client: &CachingClient<FileCache>,
        package: &PackageRef,
        registry: &str,
        display: &str,
    ) -> anyhow::Result<Version> {
        let not_found = |_: String| WitRegistryError::NotFound {
            package: display.to_owned(),
            registry: registry.to_owned(),
            versions: String::new(),
        };
        let versions = self
            .runtime
            .block_on(client.list_all_versions(package))
            .map_err(|err| self.explain(err, display, &not_found))?;
        let mut versions: Vec<Version> = versions
            .into_iter()
            .filter(|v| !v.yanked)
            .map(|v| v.version)
            .collect();
        versions.sort();
        versions
            .iter()
            .rev()
            .find(|v| v.pre.is_empty())
            .or(versions.last())
            .cloned()
            .ok_or_else(|| not_found(String::new()).report())
    }

    /// The package's bytes, checked against the release digest; a damaged cache entry is
    /// fetched again.
    fn content(
        &self,
        client: &CachingClient<FileCache>,
        package: &PackageRef,
        release: &wasm_pkg_client::Release,
        named: &str,
        not_found: &dyn Fn(String) -> WitRegistryError,
    ) -> anyhow::Result<Vec<u8>> {
        for attempt in 0..2 {
            let bytes = self.runtime.block_on(async {
                let stream = client.get_content(package, release).await?;
                let chunks: Vec<bytes::Bytes> = stream.try_collect().await?;
                Ok::<_, wasm_pkg_client::Error>(chunks.concat())
            });
            let bytes = bytes.map_err(|err| self.explain(err, named, not_found))?;
            let actual = super::artifact::sha256_digest(&bytes);
            if actual == release.content_digest.to_string() {
                return Ok(bytes);
            }
            let ContentDigest::Sha256 { hex } = &release.content_digest;
            let cached = self
                .options
                .cache_dir
                .join("wit")
                .join(format!("sha256:{hex}"));
            if attempt == 1 || self.options.offline || fs_err::remove_file(&cached).is_err() {
                return Err(super::RegistryError::DigestMismatch {
                    reference: named.to_owned(),
                    expected: release.content_digest.to_string(),
                    actual,
                }
                .report());
            }
        }
        unreachable!("the loop returns")
    }

    fn explain(
        &self,
        err: wasm_pkg_client::Error,
        named: &str,
        not_found: &dyn Fn(String) -> WitRegistryError,
    ) -> anyhow::Error {
        use wasm_pkg_client::Error as E;
        match err {
            E::PackageNotFound | E::VersionNotFound(_) => not_found(String::new()).report(),
            E::RegistryError(inner) if super::error::answer_in(&inner) == Some(Answer::NotFound) => {
                not_found(String::new()).report()
            }
            E::RegistryError(inner) if super::error::answer_in(&inner) == Some(Answer::Unauthorized) => {
                anyhow::Error::new(E::RegistryError(inner)).context(format!(
                    "the registry refused to let wcomp fetch `{named}`: unauthorized (log in with `docker login <registry>`)"
                ))
            }
            E::CacheError(_) if self.options.offline => WitRegistryError::NotCached {
                package: named.to_owned(),
            }
            .report(),
            E::NoRegistryForNamespace(namespace) => WitRegistryError::NoRegistry {
                namespace: namespace.to_string(),
                package: named.to_owned(),
            }
            .report(),
            other => anyhow::Error::new(other).context(format!("cannot fetch `{named}`")),
        }
    }
}

/// wkg's defaults and config file, then `[registry]` on top.
async fn config(mappings: &[Mapping]) -> anyhow::Result<Config> {
    let mut config = Config::global_defaults()
        .await
        .context("cannot read wkg's config file")?;
    for mapping in mappings {
        let registry: wasm_pkg_client::Registry = mapping
            .registry
            .parse()
            .with_context(|| format!("registry `{}`", mapping.registry))?;
        let metadata: RegistryMetadata = serde_json::from_value(serde_json::json!({
            "preferredProtocol": "oci",
            "oci": {
                "registry": mapping.registry,
                "namespacePrefix": mapping.prefix.as_ref().map(|p| format!("{p}/")),
            },
        }))
        .context("registry metadata")?;
        config.set_namespace_registry(
            mapping
                .namespace
                .parse()
                .with_context(|| format!("namespace `{}`", mapping.namespace))?,
            RegistryMapping::Custom(CustomConfig {
                registry: registry.clone(),
                metadata,
            }),
        );
        if mapping.insecure {
            let registry_config = config.get_or_insert_registry_config_mut(&registry);
            registry_config.set_default_backend(Some("oci".to_owned()));
            registry_config.set_backend_config(
                "oci",
                OciRegistryConfig {
                    client_config: oci_client::client::ClientConfig {
                        protocol: oci_client::client::ClientProtocol::Http,
                        ..Default::default()
                    },
                    credentials: None,
                },
            )?;
        }
    }
    Ok(config)
}

/// The WIT text of the package in `bytes`, checked to be `wanted` at `version`.
fn print_package(bytes: &[u8], wanted: &PackageName, version: &Version) -> Result<String, String> {
    let decoded =
        wit_component::decode(bytes).map_err(|err| format!("not a WIT package ({err})"))?;
    let wit_component::DecodedWasm::WitPackage(resolve, id) = decoded else {
        return Err("a component".to_owned());
    };
    let name = &resolve.packages[id].name;
    if name.namespace != wanted.namespace
        || name.name != wanted.name
        || name.version.as_ref() != Some(version)
    {
        return Err(format!("the package `{name}`"));
    }
    let mut printer = wit_component::WitPrinter::default();
    printer
        .print(&resolve, id, &[])
        .map_err(|err| format!("a package wcomp cannot print ({err})"))?;
    Ok(printer.output.to_string())
}

/// `wkg.lock`, in wkg's format (version 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct LockFile {
    version: u64,
    #[serde(default, alias = "package")]
    packages: Vec<LockedPackage>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct LockedPackage {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registry: Option<String>,
    #[serde(default, alias = "version")]
    versions: Vec<LockedVersion>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct LockedVersion {
    requirement: String,
    version: String,
    digest: String,
}

impl LockFile {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let Ok(text) = fs_err::read_to_string(path) else {
            return Ok(Self {
                version: 1,
                packages: Vec::new(),
            });
        };
        let lock: Self = toml::from_str(&text).map_err(|err| {
            anyhow::anyhow!(
                "`{}` is not a wkg lock file: {}",
                path.display(),
                err.message()
            )
        })?;
        if lock.version != 1 {
            anyhow::bail!(
                "`{}` is lock format version {}; wcomp reads version 1",
                path.display(),
                lock.version
            );
        }
        Ok(lock)
    }

    fn find(&self, name: &str, requirement: &VersionReq) -> Option<&LockedVersion> {
        self.packages
            .iter()
            .filter(|p| p.name == name)
            .flat_map(|p| &p.versions)
            .find(|v| v.requirement == requirement.to_string())
    }

    fn insert(&mut self, package: LockedPackage) {
        match self
            .packages
            .iter_mut()
            .find(|p| p.name == package.name && p.registry == package.registry)
        {
            Some(existing) => {
                existing.versions.retain(|v| {
                    !package
                        .versions
                        .iter()
                        .any(|n| n.requirement == v.requirement)
                });
                existing.versions.extend(package.versions);
                existing
                    .versions
                    .sort_by(|a, b| a.requirement.cmp(&b.requirement));
            }
            None => self.packages.push(package),
        }
        self.packages.sort_by(|a, b| a.name.cmp(&b.name));
    }

    fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = format!(
            "# This file is automatically generated.\n# It is not intended for manual editing.\n{}",
            toml::to_string_pretty(self)?
        );
        crate::fsutil::write(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_reads_what_wkg_writes() {
        let text = "# This file is automatically generated.\n# It is not intended for manual editing.\nversion = 1\n\n[[packages]]\nname = \"test:greet\"\nregistry = \"127.0.0.1:5000\"\n\n[[packages.versions]]\nrequirement = \"=0.1.0\"\nversion = \"0.1.0\"\ndigest = \"sha256:00\"\n";
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join(LOCK);
        std::fs::write(&path, text).unwrap();
        let lock = LockFile::read(&path).unwrap();
        let found = lock.find("test:greet", &"=0.1.0".parse().unwrap()).unwrap();
        assert_eq!(found.version, "0.1.0");
        lock.write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn dependency_directories_are_named_as_wkg_names_them() {
        assert_eq!(dir_name("acme:lib", "1.0.0"), "acme-lib-1.0.0");
    }
}
