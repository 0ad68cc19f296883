//! Talking to a registry within bounds, whatever it does: connect and read timeouts, a few
//! retries with backoff for what may pass (a refused or reset connection, a `5xx`), manifests
//! capped as registries cap them, and blobs streamed to a file beside their place in the cache,
//! checked against their descriptor's size and digest as they arrive — so a registry that
//! hangs, stalls or sends more than it announced costs a bounded wait and flat memory.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use oci_client::errors::{OciDistributionError, OciEnvelope};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use sha2::{Digest as _, Sha256};

use super::error::RegistryError;
use crate::diagnostic::Report as _;

/// How long a registry may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To accept a connection.
    pub connect: Duration,
    /// Between two reads of an answer: a registry that accepts and never answers, or stalls
    /// in the middle of a manifest or a blob.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
        }
    }
}

/// Where the lines shown under `-v` go (each retry, with why).
#[derive(Clone, Default)]
pub struct Notes(Option<Say>);

/// What a line under `-v` is handed to.
type Say = Arc<dyn Fn(&str) + Send + Sync>;

impl Notes {
    pub fn new(say: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(say)))
    }

    fn say(&self, line: &str) {
        if let Some(say) = &self.0 {
            say(line);
        }
    }
}

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notes")
    }
}

/// What wcomp calls itself in its requests.
pub const USER_AGENT: &str = concat!("wcomp/", env!("CARGO_PKG_VERSION"));

/// Largest manifest accepted: the size above which the distribution registry refuses to
/// store one, so no registry has a larger manifest to serve honestly.
pub const MANIFEST_LIMIT: u64 = 4 << 20;

/// Largest error body read: enough for any registry's JSON error.
const ERROR_BODY_LIMIT: u64 = 64 << 10;

/// Tries of an idempotent call, the first included.
const ATTEMPTS: u32 = 4;

/// The wait before the first retry; doubled before each next one.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Runs `call` until it succeeds, fails for good, or has been tried [`ATTEMPTS`] times;
/// retries only what may pass ([`is_transient`]), after a growing wait, each one noted.
pub async fn retry<T, F, Fut>(notes: &Notes, what: &str, mut call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(err) if attempt < ATTEMPTS && is_transient(&err) => {
                notes.say(&format!(
                    "{what}: {} (try {attempt} of {ATTEMPTS}); trying again in {}",
                    first_line(&err),
                    crate::units::format_duration(backoff)
                ));
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// `err`'s message, its causes on the same line.
fn first_line(err: &anyhow::Error) -> String {
    format!("{err:#}").replace('\n', " ")
}

/// Whether `err` may pass if the call is made again: the connection was refused or reset, or
/// the registry answered with a `5xx`. A timeout is not retried: a registry that let one
/// pass is likely to let the next pass too, and the wait would only multiply.
pub fn is_transient(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(OciDistributionError::ServerError { code, .. }) = cause.downcast_ref() {
            return *code >= 500;
        }
        if let Some(err) = request_error(cause) {
            return transient_request(err);
        }
        cause.downcast_ref::<std::io::Error>().is_some_and(|err| {
            matches!(
                err.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            )
        })
    })
}

/// The HTTP client's error `cause` is, bare or as oci-client wraps it.
fn request_error<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a reqwest::Error> {
    match cause.downcast_ref::<OciDistributionError>() {
        Some(OciDistributionError::RequestError(err)) => Some(err),
        _ => cause.downcast_ref::<reqwest::Error>(),
    }
}

fn transient_request(err: &reqwest::Error) -> bool {
    !err.is_timeout()
        && (err.is_connect() || err.status().is_some_and(|status| status.is_server_error()))
}

/// Which timeout `err` ran into, if any: `Some(true)` for the connect timeout.
pub fn timed_out(err: &anyhow::Error) -> Option<bool> {
    err.chain().find_map(|cause| {
        if let Some(err) = request_error(cause) {
            return err.is_timeout().then_some(err.is_connect());
        }
        let io = cause.downcast_ref::<std::io::Error>()?;
        (io.kind() == std::io::ErrorKind::TimedOut).then_some(false)
    })
}

/// Why no connection could be made, if that is what `err` is: the innermost cause
/// ("Connection refused (os error 111)").
pub fn unconnected(err: &anyhow::Error) -> Option<String> {
    let connecting = err
        .chain()
        .any(|cause| request_error(cause).is_some_and(|err| err.is_connect() && !err.is_timeout()));
    connecting.then(|| {
        err.chain()
            .last()
            .map(ToString::to_string)
            .unwrap_or_default()
    })
}

/// Whether the registry gave no usable answer: it could not be reached, did not answer in
/// time, or failed (`5xx`). A pull then falls back to what the cache knows.
pub fn no_answer(err: &anyhow::Error) -> bool {
    timed_out(err).is_some()
        || is_transient(err)
        || err
            .chain()
            .any(|cause| request_error(cause).is_some_and(|err| err.status().is_none()))
}

/// A manifest as the registry sent it.
pub struct Manifest {
    pub raw: Vec<u8>,
    /// `sha256:…` of `raw`.
    pub digest: String,
}

/// One registry, as wcomp talks to it: oci-client for authentication, blobs and pushes, and
/// its HTTP client directly for manifests, whose size it caps as they arrive.
pub struct Connection {
    pub client: Client,
    http: reqwest::Client,
    scheme: &'static str,
    pub auth: RegistryAuth,
    pub notes: Notes,
}

impl Connection {
    pub fn new(
        client: Client,
        scheme: &'static str,
        auth: RegistryAuth,
        timeouts: Timeouts,
        notes: Notes,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .build()?;
        Ok(Self {
            client,
            http,
            scheme,
            auth,
            notes,
        })
    }

    /// The manifest `reference` names (by tag or digest), of at most [`MANIFEST_LIMIT`]
    /// bytes, retried as [`retry`] does.
    pub async fn manifest(
        &self,
        reference: &Reference,
        accepted: &[&str],
    ) -> anyhow::Result<Manifest> {
        let what = format!("reading the manifest of `{}`", reference.whole());
        retry(&self.notes, &what, || {
            self.manifest_once(reference, accepted)
        })
        .await
    }

    async fn manifest_once(
        &self,
        reference: &Reference,
        accepted: &[&str],
    ) -> anyhow::Result<Manifest> {
        let token = self
            .client
            .auth(reference, &self.auth, RegistryOperation::Pull)
            .await?;
        let url = format!(
            "{}://{}/v2/{}/manifests/{}",
            self.scheme,
            reference.resolve_registry(),
            reference.repository(),
            reference.digest().or(reference.tag()).unwrap_or("latest")
        );
        let mut request = self
            .http
            .get(&url)
            .header(reqwest::header::ACCEPT, accepted.join(", "));
        request = match (&token, &self.auth) {
            (Some(token), _) => request.bearer_auth(token),
            (None, RegistryAuth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            (None, RegistryAuth::Bearer(token)) => request.bearer_auth(token),
            (None, RegistryAuth::Anonymous) => request,
        };
        let mut response = request.send().await.map_err(OciDistributionError::from)?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(&mut response, ERROR_BODY_LIMIT)
                .await
                .unwrap_or_default();
            return Err(status_error(status, &url, &body).into());
        }
        if response
            .content_length()
            .is_some_and(|length| length > MANIFEST_LIMIT)
        {
            return Err(too_large(reference));
        }
        let raw = read_capped(&mut response, MANIFEST_LIMIT)
            .await?
            .ok_or_else(|| too_large(reference))?;
        let digest = super::artifact::sha256_digest(&raw);
        // A registry that names the digest of what it sends must send that.
        if let Some(named) = response
            .headers()
            .get("docker-content-digest")
            .and_then(|value| value.to_str().ok())
            && named.starts_with("sha256:")
            && named != digest
        {
            return Err(RegistryError::DigestMismatch {
                reference: reference.whole(),
                expected: named.to_owned(),
                actual: digest,
            }
            .report());
        }
        Ok(Manifest { raw, digest })
    }

    /// The blob `layer` describes, streamed into a temporary file in `dir` and checked as it
    /// arrives: never more bytes than the descriptor gives, then its digest. Retried as
    /// [`retry`] does, from the start.
    pub async fn blob(
        &self,
        reference: &Reference,
        layer: &OciDescriptor,
        dir: &Path,
    ) -> anyhow::Result<tempfile::NamedTempFile> {
        let what = format!("downloading `{}` of `{}`", layer.digest, reference.whole());
        retry(&self.notes, &what, || self.blob_once(reference, layer, dir)).await
    }

    async fn blob_once(
        &self,
        reference: &Reference,
        layer: &OciDescriptor,
        dir: &Path,
    ) -> anyhow::Result<tempfile::NamedTempFile> {
        let size = u64::try_from(layer.size).unwrap_or(0);
        let oversized = |sent: u64| {
            RegistryError::Oversized {
                reference: reference.whole(),
                what: format!("the layer `{}`", layer.digest),
                announced: size,
                sent,
            }
            .report()
        };
        let mut stream = self
            .client
            .pull_blob_stream(reference, layer)
            .await
            .map_err(anyhow::Error::from)?;
        if let Some(length) = stream.content_length.filter(|length| *length > size) {
            return Err(oversized(length));
        }
        let mut file = crate::fsutil::fresh_temp_in(dir)?;
        let mut hasher = Sha256::new();
        let mut received = 0u64;
        let mut failed = None;
        while let Some(chunk) = stream.stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            };
            received += chunk.len() as u64;
            if received > size {
                return Err(oversized(received));
            }
            hasher.update(&chunk);
            file.write_all(&chunk)?;
        }
        let actual = format!("sha256:{}", crate::digest::hex(&hasher.finalize()));
        match failed {
            // Cut short: the connection's error says why (and may be retried).
            Some(err) if received < size => return Err(err.into()),
            _ if received != size || actual != layer.digest => {
                return Err(RegistryError::DigestMismatch {
                    reference: reference.whole(),
                    expected: layer.digest.clone(),
                    actual: format!("{actual} ({received} of {size} bytes)"),
                }
                .report());
            }
            Some(err) => return Err(err.into()),
            None => {}
        }
        file.flush()?;
        Ok(file)
    }
}

fn too_large(reference: &Reference) -> anyhow::Error {
    RegistryError::ManifestTooLarge {
        reference: reference.whole(),
        limit: crate::units::format_size(MANIFEST_LIMIT),
    }
    .report()
}

/// The body of `response`, or `None` once it passes `limit` bytes (reading stops there).
async fn read_capped(
    response: &mut reqwest::Response,
    limit: u64,
) -> anyhow::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(OciDistributionError::from)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// A registry's refusal, as oci-client reports it, so that one reading of registry errors
/// ([`super::error::explain`]) covers both.
fn status_error(
    status: reqwest::StatusCode,
    url: &str,
    body: &Option<Vec<u8>>,
) -> OciDistributionError {
    let body = body.as_deref().unwrap_or_default();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return OciDistributionError::UnauthorizedError {
            url: url.to_owned(),
        };
    }
    if status.is_client_error()
        && let Ok(envelope) = serde_json::from_slice::<OciEnvelope>(body)
    {
        return OciDistributionError::RegistryError {
            envelope,
            url: url.to_owned(),
        };
    }
    OciDistributionError::ServerError {
        code: status.as_u16(),
        url: url.to_owned(),
        message: String::from_utf8_lossy(body).into_owned(),
    }
}
