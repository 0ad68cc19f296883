//! References as people write them: `ghcr.io/acme/app:1.0.0`, `localhost:5000/app@sha256:…`,
//! optionally with `oci://` in front. The registry host is required: a bare `acme/app` would
//! mean Docker Hub, and nobody publishes a component there by accident.

use std::net::IpAddr;

use oci_client::Reference;

use super::error::RegistryError;
use crate::diagnostic::Report as _;

/// The prefix that marks a reference where a file path could also go (`wcomp run oci://…`).
pub const OCI_SCHEME: &str = "oci://";

/// `text` without `oci://`, when it has it.
pub fn strip_scheme(text: &str) -> Option<&str> {
    text.strip_prefix(OCI_SCHEME)
}

/// Parses a reference, requiring its registry host.
pub fn parse_reference(text: &str) -> anyhow::Result<Reference> {
    let bare = strip_scheme(text).unwrap_or(text).trim();
    let first = bare.split('/').next().unwrap_or_default();
    let names_a_host =
        bare.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if !names_a_host {
        return Err(RegistryError::NoRegistry {
            text: text.to_owned(),
        }
        .report());
    }
    bare.parse::<Reference>().map_err(|err| {
        RegistryError::InvalidReference {
            text: text.to_owned(),
            reason: err.to_string(),
        }
        .report()
    })
}

/// Whether `registry` (`host[:port]`) is this machine: `localhost` or a loopback address.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_need_a_registry() {
        let reference = parse_reference("oci://127.0.0.1:5000/acme/app:1.0.0").unwrap();
        assert_eq!(reference.registry(), "127.0.0.1:5000");
        assert_eq!(reference.repository(), "acme/app");
        assert_eq!(reference.tag(), Some("1.0.0"));
        assert!(parse_reference("ghcr.io/acme/app").unwrap().tag() == Some("latest"));
        assert!(parse_reference("localhost/app:dev").is_ok());
        for bare in ["acme/app:1", "app:1", "app"] {
            let err = parse_reference(bare).unwrap_err();
            assert!(
                err.to_string().contains("does not name a registry"),
                "{bare}: {err}"
            );
        }
        assert!(parse_reference("ghcr.io/Acme/app:1").is_err());
    }

    #[test]
    fn loopback_registries() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("ghcr.io"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }
}
