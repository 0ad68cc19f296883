//! What registries answer, in wcomp's words: [`RegistryError`], and the one reading of an OCI
//! error ([`answer_of`]) that both components and WIT packages go through.

use oci_client::Reference;
use oci_client::errors::{OciDistributionError, OciErrorCode};

use crate::diagnostic::Report as _;

/// Errors talking to a registry, in the registry's terms.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RegistryError {
    /// A reference without a registry host would go to Docker Hub.
    #[error("`{text}` does not name a registry")]
    #[diagnostic(help(
        "write the registry's host first: `ghcr.io/acme/app:1.0.0`, `localhost:5000/app:dev`"
    ))]
    NoRegistry { text: String },
    /// A registry alone.
    #[error("`{text}` names the registry `{registry}` but no repository")]
    #[diagnostic(help(
        "add the repository and a tag after the registry: `{registry}/<repository>:<tag>`"
    ))]
    NoRepository { text: String, registry: String },
    /// Not a reference at all.
    #[error("`{text}` is not an OCI reference: {reason}")]
    #[diagnostic(help(
        "write `<registry>/<repository>:<tag>` or `<registry>/<repository>@sha256:<digest>`"
    ))]
    InvalidReference { text: String, reason: String },
    /// Plain HTTP to a registry that is not on this machine.
    #[error("refusing plain HTTP to `{registry}`, which is not a loopback address")]
    #[diagnostic(help(
        "registries off this machine are reached over HTTPS; pass `--insecure-remote` as well to use plain HTTP anyway"
    ))]
    InsecureRemote { registry: String },
    /// Nothing at the reference.
    #[error("`{reference}` does not exist in the registry")]
    #[diagnostic(help("check the repository and tag (`{registry}` answered `{answer}`)"))]
    NotFound {
        reference: String,
        registry: String,
        answer: String,
    },
    /// The registry refused the credentials (or wanted some).
    #[error("`{registry}` refused to let wcomp {action} `{reference}`: unauthorized")]
    #[diagnostic(help(
        "log in with `docker login {registry}` (wcomp reads the Docker config and its credential helpers), or pass `--username <name> --password-stdin`"
    ))]
    Unauthorized {
        registry: String,
        reference: String,
        action: &'static str,
    },
    /// The artifact is something else, such as a container image.
    #[error("`{reference}` is {what}, not a Wasm component")]
    #[diagnostic(help(
        "a Wasm component artifact has the config media type `application/vnd.wasm.config.v0+json` and one `application/wasm` layer (`wcomp publish` pushes one)"
    ))]
    NotAComponent { reference: String, what: String },
    /// No network, and nothing cached for a tag.
    #[error("`{reference}` is not in wcomp's cache, and {why}")]
    #[diagnostic(help("pull it once while the registry can be reached: `wcomp pull {reference}`"))]
    NotCached { reference: String, why: String },
    /// A package version already published with other content.
    #[error("`{reference}` is already published with different content")]
    #[diagnostic(help(
        "a published version keeps its content, so those who locked it get what they locked: bump the version on the `package` line, or pass `--force` to replace it anyway"
    ))]
    VersionTaken { reference: String },
    /// The registry did not answer in time.
    #[error("`{registry}` {what} within {after} (while wcomp tried to {action} `{reference}`)")]
    #[diagnostic(help("{help}"))]
    TimedOut {
        registry: String,
        reference: String,
        action: &'static str,
        /// "did not accept a connection", "stopped answering".
        what: &'static str,
        after: String,
        help: String,
    },
    /// No connection could be made.
    #[error("`{registry}` cannot be reached ({reason}) to {action} `{reference}`")]
    #[diagnostic(help(
        "check the address and that the registry is running; `--insecure` is needed for plain HTTP on this machine"
    ))]
    Unreachable {
        registry: String,
        reference: String,
        action: &'static str,
        reason: String,
    },
    /// Credentials given on the command line were refused.
    #[error("`{registry}` refused user `{username}` to {action} `{reference}`")]
    #[diagnostic(help(
        "check the user name and the password given on stdin (`--password-stdin`), and that this user may {action} that repository"
    ))]
    CredentialsRefused {
        registry: String,
        username: String,
        reference: String,
        action: &'static str,
    },
    /// A manifest larger than any registry stores.
    #[error(
        "the manifest of `{reference}` is larger than {limit}, which no registry stores; refused"
    )]
    #[diagnostic(help(
        "a Wasm component's manifest is well under a kilobyte: this registry is misbehaving, or the reference names something else"
    ))]
    ManifestTooLarge { reference: String, limit: String },
    /// More bytes than a descriptor announces.
    #[error(
        "the registry sent more of {what} of `{reference}` than its descriptor gives ({sent} bytes against {announced}); refused"
    )]
    #[diagnostic(help(
        "the registry is misbehaving or the artifact was tampered with; nothing was written to the cache"
    ))]
    Oversized {
        reference: String,
        what: String,
        announced: u64,
        sent: u64,
    },
    /// What the registry sent does not match its digest.
    #[error(
        "the registry sent `{reference}` with the wrong content: expected {expected}, got {actual}"
    )]
    DigestMismatch {
        reference: String,
        expected: String,
        actual: String,
    },
}

/// What a registry's error says, where wcomp acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Nothing is at the reference (no such tag, digest or repository).
    NotFound,
    /// The credentials were refused, or there were none and some are needed.
    Unauthorized,
}

/// What `err` says, when it says something wcomp acts on.
pub fn answer_of(err: &OciDistributionError) -> Option<Answer> {
    match err {
        OciDistributionError::ImageManifestNotFoundError(_) => Some(Answer::NotFound),
        OciDistributionError::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
                )
            }) =>
        {
            Some(Answer::NotFound)
        }
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => Some(Answer::Unauthorized),
        _ => None,
    }
}

/// What the first OCI error in `err`'s chain says.
pub fn answer_in(err: &anyhow::Error) -> Option<Answer> {
    err.chain()
        .find_map(|layer| answer_of(layer.downcast_ref::<OciDistributionError>()?))
}

/// The registry's answer in wcomp's words.
pub fn explain(err: anyhow::Error, reference: &Reference, action: &'static str) -> anyhow::Error {
    let Some(oci) = err.downcast_ref::<OciDistributionError>() else {
        return err.context(format!("cannot {action} `{}`", reference.whole()));
    };
    let registry = reference.resolve_registry().to_owned();
    let whole = reference.whole();
    match oci {
        _ if answer_of(oci) == Some(Answer::Unauthorized) => RegistryError::Unauthorized {
            registry,
            reference: whole,
            action,
        }
        .report(),
        OciDistributionError::RegistryError { envelope, .. }
            if answer_of(oci) == Some(Answer::NotFound) =>
        {
            RegistryError::NotFound {
                reference: whole,
                registry,
                answer: envelope
                    .errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            }
            .report()
        }
        OciDistributionError::IncompatibleLayerMediaTypeError(media) => {
            RegistryError::NotAComponent {
                reference: whole,
                what: format!("an artifact with a `{media}` layer (a container image?)"),
            }
            .report()
        }
        _ => err.context(format!("cannot {action} `{whole}` (`{registry}` answered)")),
    }
}
