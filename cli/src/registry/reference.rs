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

/// Parses a reference, requiring its registry host; an error says in one line what is
/// wrong with it.
pub fn parse_reference(text: &str) -> anyhow::Result<Reference> {
    let invalid = |reason: String| {
        RegistryError::InvalidReference {
            text: shown(text),
            reason,
        }
        .report()
    };
    let bare = strip_scheme(text).unwrap_or(text).trim();
    let (first, rest) = bare.split_once('/').unwrap_or((bare, ""));
    // Before a `/`, a port also marks a host (`registry:5000/app`); alone, `app:1` is a
    // repository and its tag.
    let host_by_name =
        first.contains('.') || first.starts_with('[') || split_port(first).0 == "localhost";
    if !(host_by_name || (first.contains(':') && !rest.is_empty())) {
        return Err(RegistryError::NoRegistry { text: shown(text) }.report());
    }
    if rest.is_empty() {
        return Err(RegistryError::NoRepository {
            text: shown(text),
            registry: first.to_owned(),
        }
        .report());
    }
    let (host, port) = split_port(first);
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|port| port > 0)
    {
        return Err(invalid(format!(
            "the port `{}` is not a port number (1 to 65535)",
            shown_part(port)
        )));
    }
    // An IPv6 address in brackets is a registry host the reference grammar does not take:
    // parse the rest against a stand-in host, then put the address back.
    if let Some(address) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid(format!(
                "`{}` is not an IPv6 address",
                shown_part(address)
            )));
        }
        let stand_in = format!(
            "localhost{}",
            port.map(|p| format!(":{p}")).unwrap_or_default()
        );
        let parsed = format!("{stand_in}/{rest}")
            .parse::<Reference>()
            .map_err(|err| invalid(err.to_string()))?;
        let repository = parsed.repository().to_owned();
        return Ok(match (parsed.digest(), parsed.tag()) {
            (Some(digest), _) => {
                Reference::with_digest(first.to_owned(), repository, digest.to_owned())
            }
            (None, tag) => Reference::with_tag(
                first.to_owned(),
                repository,
                tag.unwrap_or("latest").to_owned(),
            ),
        });
    }
    bare.parse::<Reference>()
        .map_err(|err| invalid(err.to_string()))
}

/// `host[:port]` split at its port, an IPv6 address's brackets kept.
fn split_port(registry: &str) -> (&str, Option<&str>) {
    if registry.starts_with('[') {
        return match registry.split_once("]:") {
            Some((host, port)) => (&registry[..host.len() + 1], Some(port)),
            None => (registry, None),
        };
    }
    match registry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    }
}

/// Longest part of a reference an error repeats.
const SHOWN: usize = 100;

/// `text` as an error repeats it: whole when short, else its start and its length.
fn shown(text: &str) -> String {
    let length = text.chars().count();
    if length <= SHOWN {
        return text.to_owned();
    }
    format!("{} ({length} characters)", shown_part(text))
}

/// The first [`SHOWN`] characters of `text`.
fn shown_part(text: &str) -> String {
    let mut part: String = text.chars().take(SHOWN).collect();
    if part.len() < text.len() {
        part.push('…');
    }
    part
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
    fn what_is_wrong_with_a_reference_fits_one_line() {
        let message = |text: &str| {
            let err = parse_reference(text).unwrap_err();
            let message = err.to_string();
            assert!(!message.contains('\n'), "{message}");
            message
        };
        assert_eq!(
            message("oci://127.0.0.1:15000"),
            "`oci://127.0.0.1:15000` names the registry `127.0.0.1:15000` but no repository"
        );
        assert!(
            message("127.0.0.1:99999/app:1").contains("the port `99999` is not a port number"),
            "{}",
            message("127.0.0.1:99999/app:1")
        );
        assert!(message("[::g]:5000/app:1").contains("`::g` is not an IPv6 address"));
        let long = format!("ghcr.io/acme/{}:1", "a".repeat(2_000));
        let said = message(&long);
        assert!(said.len() < 400, "{said}");
        assert!(said.contains("(2015 characters)"), "{said}");
    }

    #[test]
    fn an_ipv6_registry_is_a_registry() {
        let reference = parse_reference("[::1]:5000/x:1").unwrap();
        assert_eq!(reference.registry(), "[::1]:5000");
        assert_eq!(reference.repository(), "x");
        assert_eq!(reference.tag(), Some("1"));
        let digest = format!("sha256:{}", "0".repeat(64));
        let pinned = parse_reference(&format!("oci://[::1]:5000/acme/x@{digest}")).unwrap();
        assert_eq!(pinned.digest(), Some(digest.as_str()));
        assert_eq!(pinned.resolve_registry(), "[::1]:5000");
        assert!(is_loopback(pinned.resolve_registry()));
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
