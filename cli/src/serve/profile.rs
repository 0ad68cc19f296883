//! `[serve]` of `wcomp.toml` turned into server settings, every bad value reported at its
//! place in the manifest. Command-line flags are applied on top by the caller.

use std::net::SocketAddr;
use std::time::Duration;

use crate::manifest::{Manifest, ManifestError};
use crate::runtime::HttpGrant;
use crate::runtime::profile::{parse, parse_with};

/// Server settings from a manifest; `None` where it says nothing.
#[derive(Debug, Clone, Default)]
pub struct ServeProfile {
    pub addr: Option<SocketAddr>,
    pub http: Vec<HttpGrant>,
    /// `Some(None)` is `timeout = "none"`.
    pub timeout: Option<Option<Duration>>,
    pub fuel: Option<u64>,
    pub max_memory: Option<u64>,
    pub max_concurrency: Option<usize>,
    pub queue: Option<usize>,
    pub max_body: Option<u64>,
    pub header_timeout: Option<Duration>,
    pub drain: Option<Duration>,
}

impl ServeProfile {
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, ManifestError> {
        let table = &manifest.serve;
        let addr = table
            .addr
            .as_ref()
            .map(|text| {
                text.get_ref().parse::<SocketAddr>().map_err(|err| {
                    manifest.error(
                        text.span(),
                        format!("invalid address `{}`: {err}", text.get_ref()),
                        "not an address",
                        Some(
                            "write `<ip>:<port>`, such as `127.0.0.1:8080` or `0.0.0.0:80`".into(),
                        ),
                    )
                })
            })
            .transpose()?;
        let http = table
            .allow_http
            .iter()
            .map(|text| parse::<HttpGrant>(manifest, text, "HTTP grant"))
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = parse_with(manifest, &table.timeout, crate::units::parse_timeout)?;
        Ok(Self {
            addr,
            http,
            timeout,
            fuel: table.fuel.as_ref().map(|f| *f.get_ref()),
            max_memory: parse_with(manifest, &table.max_memory, crate::units::parse_size)?,
            max_concurrency: table.max_concurrency.as_ref().map(|n| *n.get_ref()),
            queue: table.queue.as_ref().map(|n| *n.get_ref()),
            max_body: parse_with(manifest, &table.max_body, crate::units::parse_size)?,
            header_timeout: parse_with(
                manifest,
                &table.header_timeout,
                crate::units::parse_duration,
            )?,
            drain: parse_with(manifest, &table.drain, crate::units::parse_duration)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn profile(text: &str) -> Result<ServeProfile, ManifestError> {
        let manifest = Manifest::parse(Path::new("/w/wcomp.toml"), text.to_owned())?;
        ServeProfile::from_manifest(&manifest)
    }

    #[test]
    fn reads_the_serve_table() {
        let profile = profile(
            "[serve]\naddr = \"0.0.0.0:3000\"\nallow-http = [\"api.example.com\"]\ntimeout = \"none\"\nmax-memory = \"256MiB\"\nmax-concurrency = 8\nmax-body = \"1MiB\"\nheader-timeout = \"5s\"\ndrain = \"1m30s\"\n",
        )
        .unwrap();
        assert_eq!(profile.addr, Some("0.0.0.0:3000".parse().unwrap()));
        assert_eq!(profile.http.len(), 1);
        assert_eq!(profile.timeout, Some(None));
        assert_eq!(profile.max_memory, Some(256 << 20));
        assert_eq!(profile.max_concurrency, Some(8));
        assert_eq!(profile.max_body, Some(1 << 20));
        assert_eq!(profile.drain, Some(Duration::from_secs(90)));
    }

    #[test]
    fn bad_values_point_at_the_manifest() {
        let err = profile("[serve]\naddr = \"localhost\"\n").unwrap_err();
        assert!(
            err.message.contains("invalid address `localhost`"),
            "{}",
            err.message
        );
        let err = profile("[serve]\nallow-http = [\"https://x.com\"]\n").unwrap_err();
        assert!(err.message.contains("without a scheme"), "{}", err.message);
        let err = profile("[serve]\nmax-body = \"lots\"\n").unwrap_err();
        assert_eq!(err.span.offset(), "[serve]\nmax-body = ".len());
    }
}
