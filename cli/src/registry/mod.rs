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
mod transfer;
pub mod wit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use oci_client::client::{ClientConfig, ClientProtocol, ImageLayer};
use oci_client::{Client, Reference};

pub use artifact::sha256_digest;
use artifact::{ACCEPTED_MANIFESTS, LAYER_MEDIA_TYPE, component_layer};
pub use credentials::Credentials;
use error::explain;
pub use error::{Answer, RegistryError, answer_of};
pub use reference::{OCI_SCHEME, parse_reference, strip_scheme};
use transfer::{Connection, USER_AGENT};
pub use transfer::{Notes, Timeouts};

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
    /// How long a registry may take to accept a connection, and between two reads.
    pub timeouts: Timeouts,
    /// Where retries are told (`-v`).
    pub notes: Notes,
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
    /// The version it was published as (`org.opencontainers.image.version`), if recorded.
    pub version: Option<String>,
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
    let created = created_at();
    // Made again for each try of the push, which takes it by value.
    let config = || oci_wasm::WasmConfig {
        created,
        author: None,
        architecture: oci_wasm::WASM_ARCHITECTURE.to_owned(),
        os: oci_wasm::COMPONENT_OS.to_owned(),
        layer_digests: vec![layer_digest.clone()],
        component: Some(oci_wasm::Component {
            exports: exports.clone(),
            imports: imports.clone(),
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
        .or_insert_with(|| created.to_rfc3339());
    let runtime = crate::async_runtime::current_thread()?;
    let connection = connect(&reference, access)?;
    let client = oci_wasm::WasmClient::new(connection.client.clone());
    let auth = connection.auth.clone();
    if options.immutable
        && let Some((digest, existing)) = runtime.block_on(existing_layer(
            &connection,
            &reference,
            &options.reference,
            access,
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
    // Every step of a push can be repeated: blobs are named by their content, and the
    // manifest that tags them goes last.
    let what = format!("pushing `{}`", options.reference);
    let pushed = runtime.block_on(transfer::retry(&access.notes, &what, || async {
        let annotations = Some(annotations.clone());
        client
            .push(&reference, &auth, layer.clone(), config(), annotations)
            .await
    }));
    let response = pushed.map_err(|err| failed(err, &reference, "push", access))?;
    let digest = response
        .manifest_url
        .rsplit_once('/')
        .map(|(_, digest)| digest.to_owned())
        .filter(|digest| digest.starts_with("sha256:"))
        .map_or_else(
            || {
                runtime
                    .block_on(connection.manifest(&reference, &ACCEPTED_MANIFESTS))
                    .map(|manifest| manifest.digest)
            },
            Ok,
        )
        .map_err(|err| failed(err, &reference, "push", access))?;
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
    connection: &Connection,
    reference: &Reference,
    shown: &str,
    access: &Access,
) -> anyhow::Result<Option<(String, oci_client::manifest::OciDescriptor)>> {
    match connection.manifest(reference, &ACCEPTED_MANIFESTS).await {
        Ok(manifest) => Ok(Some((
            manifest.digest,
            component_layer(&manifest.raw, shown)?,
        ))),
        Err(err) if error::answer_in(&err) == Some(Answer::NotFound) => Ok(None),
        Err(err) => Err(failed(err, reference, "look up", access)),
    }
}

/// The component at `reference`: from the cache when its digest is known and the cached
/// bytes check out, else from the registry (then cached). Nothing reaches the cache — not
/// even the tag's digest — unless the whole component came and checked out.
pub fn pull(reference: &str, access: &Access, cache_dir: &Path) -> anyhow::Result<Pulled> {
    let parsed = parse_reference(reference)?;
    let cache = cache::Cache::new(cache_dir);
    let cached = |digest: &str, contacted: bool, note: Option<String>| -> anyhow::Result<_> {
        Ok(cache.component(digest)?.map(|(path, manifest)| Pulled {
            path,
            pinned: pinned(&parsed, digest),
            digest: digest.to_owned(),
            contacted,
            note,
            version: artifact::published_version(&manifest),
        }))
    };
    if let Some(digest) = parsed.digest()
        && let Some(pulled) = cached(digest, false, None)?
    {
        return Ok(pulled);
    }
    if access.offline {
        let why = if parsed.digest().is_some() {
            "`--offline` forbids downloading it"
        } else {
            "`--offline` forbids asking the registry what its tag points at"
        };
        let not_cached = || {
            RegistryError::NotCached {
                reference: reference.to_owned(),
                why: why.to_owned(),
            }
            .report()
        };
        let digest = cache.tag(&parsed).ok_or_else(not_cached)?;
        return cached(&digest, false, None)?.ok_or_else(not_cached);
    }
    let runtime = crate::async_runtime::current_thread()?;
    let connection = connect(&parsed, access)?;
    // A tag is resolved by reading its manifest (capped, like every manifest): when the
    // registry gives no answer, the digest the tag had when last pulled is used.
    let manifest = match runtime.block_on(connection.manifest(&parsed, &ACCEPTED_MANIFESTS)) {
        Ok(manifest) => manifest,
        Err(err) if parsed.digest().is_none() && transfer::no_answer(&err) => {
            let failure = failed(err, &parsed, "pull", access);
            let Some(digest) = cache.tag(&parsed) else {
                return Err(failure);
            };
            let note = format!(
                "{}; using the digest its tag had when last pulled",
                failure.to_string().trim_end_matches('.')
            );
            return cached(&digest, false, Some(note))?.ok_or(failure);
        }
        Err(err) => return Err(failed(err, &parsed, "pull", access)),
    };
    if let Some(expected) = parsed.digest()
        && manifest.digest != expected
    {
        return Err(RegistryError::DigestMismatch {
            reference: reference.to_owned(),
            expected: expected.to_owned(),
            actual: manifest.digest,
        }
        .report());
    }
    let digest = manifest.digest.clone();
    let path = match cached(&digest, true, None)? {
        Some(pulled) => pulled.path,
        None => {
            let layer = component_layer(&manifest.raw, reference)?;
            let by_digest = parsed.clone_with_digest(digest.clone());
            let blob = runtime
                .block_on(connection.blob(&by_digest, &layer, &cache.blob_dir()))
                .map_err(|err| failed(err, &parsed, "pull", access))?;
            cache.store(&digest, &manifest.raw, &layer, blob)?
        }
    };
    if parsed.digest().is_none() {
        cache.remember_tag(&parsed, &digest)?;
    }
    Ok(Pulled {
        path,
        pinned: pinned(&parsed, &digest),
        digest,
        contacted: true,
        note: None,
        version: artifact::published_version(&manifest.raw),
    })
}

/// What went wrong talking to the registry, in wcomp's words: a timeout says which and for
/// how long, refused credentials name the user, anything else as [`explain`] says it.
fn failed(
    err: anyhow::Error,
    reference: &Reference,
    action: &'static str,
    access: &Access,
) -> anyhow::Error {
    let registry = reference.resolve_registry().to_owned();
    if let Some(connecting) = transfer::timed_out(&err) {
        let (what, after, flag) = if connecting {
            (
                "did not accept a connection",
                access.timeouts.connect,
                "--registry-connect-timeout",
            )
        } else {
            (
                "stopped answering",
                access.timeouts.read,
                "--registry-timeout",
            )
        };
        let after = crate::units::format_duration(after);
        return RegistryError::TimedOut {
            help: format!(
                "check that `{registry}` is up and reachable; a slow registry may be given longer with `{flag} <duration>` (it was {after})"
            ),
            registry,
            reference: reference.whole(),
            action,
            what,
            after,
        }
        .report();
    }
    if let Some(reason) = transfer::unconnected(&err) {
        return RegistryError::Unreachable {
            registry,
            reference: reference.whole(),
            action,
            reason,
        }
        .report();
    }
    if let Some(username) = access.credentials.username()
        && error::answer_in(&err) == Some(Answer::Unauthorized)
    {
        return RegistryError::CredentialsRefused {
            registry,
            username: username.to_owned(),
            reference: reference.whole(),
            action,
        }
        .report();
    }
    explain(err, reference, action)
}

/// A connection to `reference`'s registry with `access`'s credentials and limits.
fn connect(reference: &Reference, access: &Access) -> anyhow::Result<Connection> {
    let registry = reference.resolve_registry();
    let auth = access.credentials.auth_for(registry)?;
    let scheme = if plain_http(registry, access)? {
        "http"
    } else {
        "https"
    };
    Connection::new(
        client(reference, access)?,
        scheme,
        auth,
        access.timeouts,
        access.notes.clone(),
    )
}

/// Whether `registry` is reached over plain HTTP: only when allowed, and off this machine
/// only when allowed twice.
fn plain_http(registry: &str, access: &Access) -> anyhow::Result<bool> {
    if !(access.insecure || access.insecure_remote) {
        return Ok(false);
    }
    if !access.insecure_remote && !reference::is_loopback(registry) {
        return Err(RegistryError::InsecureRemote {
            registry: registry.to_owned(),
        }
        .report());
    }
    Ok(true)
}

/// A client for `reference`'s registry: HTTPS, or plain HTTP when allowed.
fn client(reference: &Reference, access: &Access) -> anyhow::Result<Client> {
    let registry = reference.resolve_registry().to_owned();
    let protocol = if plain_http(&registry, access)? {
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    };
    Ok(Client::new(ClientConfig {
        protocol,
        user_agent: USER_AGENT,
        connect_timeout: Some(access.timeouts.connect),
        read_timeout: Some(access.timeouts.read),
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
