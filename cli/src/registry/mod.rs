//! OCI registries: components published and pulled as the Wasm OCI artifact of the CNCF TAG
//! Runtime layout (config `application/vnd.wasm.config.v0+json`, one `application/wasm`
//! layer) — the format wasmCloud, runwasi, SpinKube, wkg and wash share — through the
//! `oci-client` and `oci-wasm` libraries those tools use.
//!
//! Pulled components are verified against their digests and kept in wcomp's cache by digest
//! (`<cache>/oci/`): a reference by digest is served from the cache without any network; a
//! tag is resolved once per command, and when the registry cannot be reached (or with
//! `offline`) the tag's last known digest is used. Knows nothing about the command line.

mod artifact;
mod cache;
mod credentials;
mod error;
mod reference;
pub mod wit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use oci_client::client::{ClientConfig, ClientProtocol, ImageLayer};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

pub use artifact::sha256_digest;
use artifact::{ACCEPTED_MANIFESTS, LAYER_MEDIA_TYPE, component_layer};
pub use credentials::Credentials;
use error::explain;
pub use error::{Answer, RegistryError, answer_of};
pub use reference::{OCI_SCHEME, parse_reference, strip_scheme};

use crate::diagnostic::Report as _;

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub credentials: Credentials,
    /// Plain HTTP (for registries on this machine).
    pub insecure: bool,
    /// Plain HTTP even to a registry elsewhere.
    pub insecure_remote: bool,
    /// Never contact a registry.
    pub offline: bool,
}

/// What to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub reference: String,
    pub component: Vec<u8>,
    /// The file name the layer carries (`app.wasm`).
    pub title: String,
    /// `org.opencontainers.image.*` annotations (`version`, `description`, `source`, …).
    pub annotations: BTreeMap<String, String>,
    /// A WIT package (encoded with wit-component) rather than a component.
    pub wit_package: bool,
    /// The tag names one content for good (a package version): pushing other content to it
    /// is refused, pushing the same content again changes nothing.
    pub immutable: bool,
}

/// A pushed artifact.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    /// The reference as given.
    pub reference: String,
    /// `sha256:…` of the manifest.
    pub digest: String,
    /// `<registry>/<repository>@sha256:…`: the reference that names these bytes forever.
    pub pinned: String,
    pub size: u64,
    /// The tag already held these bytes, so nothing was pushed.
    pub unchanged: bool,
}

/// A component taken from a registry (or from the cache).
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The cache file holding the component's bytes (verified against `layer_digest`).
    pub path: PathBuf,
    /// `sha256:…` of the manifest.
    pub digest: String,
    pub pinned: String,
    /// Whether the registry was asked (false: everything came from the cache).
    pub contacted: bool,
    /// Why the registry was not asked when it should have been (unreachable), if so.
    pub note: Option<String>,
}

/// Pushes a component: its layer, then its config, then the manifest that tags them (so a
/// push that fails midway leaves no tag pointing at a half-pushed artifact).
pub fn publish(options: &PublishOptions, access: &Access) -> anyhow::Result<Published> {
    let reference = parse_reference(&options.reference)?;
    let layer_digest = sha256_digest(&options.component);
    let (imports, exports) = if options.wit_package {
        (Vec::new(), package_surface(&options.component)?)
    } else {
        surface(&options.component)?
    };
    let config = oci_wasm::WasmConfig {
        created: created_at(),
        author: None,
        architecture: oci_wasm::WASM_ARCHITECTURE.to_owned(),
        os: oci_wasm::COMPONENT_OS.to_owned(),
        layer_digests: vec![layer_digest.clone()],
        component: Some(oci_wasm::Component {
            exports,
            imports,
            target: None,
        }),
    };
    let layer = ImageLayer::new(
        options.component.clone(),
        LAYER_MEDIA_TYPE.to_owned(),
        Some(BTreeMap::from([(
            oci_client::annotations::ORG_OPENCONTAINERS_IMAGE_TITLE.to_owned(),
            options.title.clone(),
        )])),
    );
    let mut annotations = options.annotations.clone();
    annotations
        .entry(oci_client::annotations::ORG_OPENCONTAINERS_IMAGE_CREATED.to_owned())
        .or_insert_with(|| config.created.to_rfc3339());
    let runtime = crate::async_runtime::current_thread()?;
    let client = oci_wasm::WasmClient::new(client(&reference, access)?);
    let auth = access.credentials.auth_for(reference.resolve_registry())?;
    if options.immutable
        && let Some((digest, existing)) = runtime.block_on(existing_layer(
            &client,
            &reference,
            &auth,
            &options.reference,
        ))?
    {
        if existing.digest != layer_digest {
            return Err(RegistryError::VersionTaken {
                reference: options.reference.clone(),
            }
            .report());
        }
        return Ok(Published {
            reference: options.reference.clone(),
            pinned: pinned(&reference, &digest),
            digest,
            size: options.component.len() as u64,
            unchanged: true,
        });
    }
    let pushed = runtime.block_on(client.push(&reference, &auth, layer, config, Some(annotations)));
    let response = pushed.map_err(|err| explain(err, &reference, "push"))?;
    let digest = response
        .manifest_url
        .rsplit_once('/')
        .map(|(_, digest)| digest.to_owned())
        .filter(|digest| digest.starts_with("sha256:"))
        .map_or_else(
            || runtime.block_on(client.fetch_manifest_digest(&reference, &auth)),
            Ok,
        )
        .map_err(|err| explain(err.into(), &reference, "push"))?;
    Ok(Published {
        reference: options.reference.clone(),
        pinned: pinned(&reference, &digest),
        digest,
        size: options.component.len() as u64,
        unchanged: false,
    })
}

/// The manifest digest and `application/wasm` layer of what `reference` names now, or `None`
/// when the registry has nothing there.
async fn existing_layer(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
    shown: &str,
) -> anyhow::Result<Option<(String, oci_client::manifest::OciDescriptor)>> {
    match client
        .pull_manifest_raw(reference, auth, &ACCEPTED_MANIFESTS)
        .await
    {
        Ok((raw, digest)) => Ok(Some((digest, component_layer(&raw, shown)?))),
        Err(err) if answer_of(&err) == Some(Answer::NotFound) => Ok(None),
        Err(err) => Err(explain(err.into(), reference, "look up")),
    }
}

/// The component at `reference`: from the cache when its digest is known and the cached
/// bytes check out, else from the registry (then cached).
pub fn pull(reference: &str, access: &Access, cache_dir: &Path) -> anyhow::Result<Pulled> {
    let parsed = parse_reference(reference)?;
    let cache = cache::Cache::new(cache_dir);
    let runtime = crate::async_runtime::current_thread()?;
    let mut note = None;
    let mut contacted = false;
    let digest = match parsed.digest() {
        Some(digest) => digest.to_owned(),
        None if access.offline => cache.tag(&parsed).ok_or_else(|| {
            RegistryError::NotCached {
                reference: reference.to_owned(),
                why: "`--offline` forbids asking the registry what its tag points at".to_owned(),
            }
            .report()
        })?,
        None => {
            let client = client(&parsed, access)?;
            let auth = access.credentials.auth_for(parsed.resolve_registry())?;
            match runtime.block_on(client.fetch_manifest_digest(&parsed, &auth)) {
                Ok(digest) => {
                    contacted = true;
                    cache.remember_tag(&parsed, &digest)?;
                    digest
                }
                Err(OciDistributionError::RequestError(err)) if cache.tag(&parsed).is_some() => {
                    note = Some(format!(
                        "`{}` cannot be reached ({err}); using the digest its tag had when last pulled",
                        parsed.resolve_registry()
                    ));
                    cache.tag(&parsed).unwrap_or_default()
                }
                Err(err) => return Err(explain(err.into(), &parsed, "pull")),
            }
        }
    };
    if let Some(path) = cache.component(&digest)? {
        return Ok(Pulled {
            path,
            pinned: pinned(&parsed, &digest),
            digest,
            contacted,
            note,
        });
    }
    if access.offline {
        return Err(RegistryError::NotCached {
            reference: reference.to_owned(),
            why: "`--offline` forbids downloading it".to_owned(),
        }
        .report());
    }
    let by_digest = parsed.clone_with_digest(digest.clone());
    let client = client(&parsed, access)?;
    let auth = access.credentials.auth_for(parsed.resolve_registry())?;
    let (manifest, bytes) = runtime.block_on(download(&client, &by_digest, &auth, reference))?;
    let path = cache.store(&digest, &manifest, &bytes)?;
    Ok(Pulled {
        path,
        pinned: pinned(&parsed, &digest),
        digest,
        contacted: true,
        note,
    })
}

/// The manifest (checked to be a Wasm component's) and the component's bytes, both
/// verified against their digests.
async fn download(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
    shown: &str,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let (raw, digest) = client
        .pull_manifest_raw(reference, auth, &ACCEPTED_MANIFESTS)
        .await
        .map_err(|err| explain(err.into(), reference, "pull"))?;
    let expected = reference.digest().unwrap_or_default();
    if !expected.is_empty() && sha256_digest(&raw) != expected {
        return Err(RegistryError::DigestMismatch {
            reference: shown.to_owned(),
            expected: expected.to_owned(),
            actual: digest,
        }
        .report());
    }
    let layer = component_layer(&raw, shown)?;
    let mut bytes = Vec::new();
    client
        .pull_blob(reference, &layer, &mut bytes)
        .await
        .map_err(|err| explain(err.into(), reference, "pull"))?;
    let actual = sha256_digest(&bytes);
    if actual != layer.digest {
        return Err(RegistryError::DigestMismatch {
            reference: shown.to_owned(),
            expected: layer.digest,
            actual,
        }
        .report());
    }
    Ok((raw.to_vec(), bytes))
}

/// A client for `reference`'s registry: HTTPS, or plain HTTP when allowed.
fn client(reference: &Reference, access: &Access) -> anyhow::Result<Client> {
    let registry = reference.resolve_registry().to_owned();
    let protocol = if access.insecure || access.insecure_remote {
        if !access.insecure_remote && !reference::is_loopback(&registry) {
            return Err(RegistryError::InsecureRemote { registry }.report());
        }
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    };
    Ok(Client::new(ClientConfig {
        protocol,
        user_agent: concat!("wcomp/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    }))
}

fn pinned(reference: &Reference, digest: &str) -> String {
    format!(
        "{}/{}@{digest}",
        reference.registry(),
        reference.repository()
    )
}

/// When the artifact was made: `$SOURCE_DATE_EPOCH` when set (reproducible digests), else now.
fn created_at() -> chrono::DateTime<chrono::Utc> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now)
}

/// The component's imports and exports, as the Wasm OCI config lists them
/// (`wasi:http/incoming-handler@0.2.12`, `run`).
pub fn surface(bytes: &[u8]) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let decoded =
        wit_component::decode(bytes).context("the file is not a WebAssembly component")?;
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        anyhow::bail!(
            "the file is a WIT package, not a component (publish WIT with `wcomp wit publish`)"
        );
    };
    let world = &resolve.worlds[world];
    let names =
        |items: &mut dyn Iterator<Item = (&wit_parser::WorldKey, &wit_parser::WorldItem)>| {
            items
                .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
                .map(|(key, _)| resolve.name_world_key(key))
                .collect::<Vec<_>>()
        };
    Ok((
        names(&mut world.imports.iter()),
        names(&mut world.exports.iter()),
    ))
}

/// What a binary WIT package offers, as the Wasm OCI config lists it: its worlds
/// (`acme:lib/app@1.0.0`) and interfaces (`acme:lib/api@1.0.0`).
pub fn package_surface(bytes: &[u8]) -> anyhow::Result<Vec<String>> {
    let decoded = wit_component::decode(bytes).context("the file is not a WIT package")?;
    let wit_component::DecodedWasm::WitPackage(resolve, id) = decoded else {
        anyhow::bail!("the file is a component, not a WIT package");
    };
    let package = &resolve.packages[id];
    let version = package
        .name
        .version
        .as_ref()
        .map(|v| format!("@{v}"))
        .unwrap_or_default();
    let mut names: Vec<String> = package
        .worlds
        .keys()
        .map(|world| {
            format!(
                "{}:{}/{world}{version}",
                package.name.namespace, package.name.name
            )
        })
        .chain(
            package
                .interfaces
                .values()
                .filter_map(|id| resolve.id_of(*id)),
        )
        .collect();
    names.sort();
    Ok(names)
}
