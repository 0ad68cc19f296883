//! `[serve]` of `wcomp.toml` turned into server settings, every bad value reported at its
//! place in the manifest. Command-line flags are applied on top by the caller.

use std::net::SocketAddr;
use std::time::Duration;

use toml::Spanned;

use crate::manifest::{Manifest, ManifestError};
use crate::runtime::HttpGrant;
use crate::runtime::profile::{located, parse};

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
        let duration = |text: &Option<Spanned<String>>| {
            text.as_ref()
                .map(|text| {
                    crate::units::parse_duration(text.get_ref())
                        .map_err(|err| located(manifest, text, &err))
                })
                .transpose()
        };
        let size = |text: &Option<Spanned<String>>| {
            text.as_ref()
                .map(|text| {
                    crate::units::parse_size(text.get_ref())
                        .map_err(|err| located(manifest, text, &err))
                })
                .transpose()
        };
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
        let timeout = table
            .timeout
            .as_ref()
            .map(|text| {
                crate::units::parse_timeout(text.get_ref())
                    .map_err(|err| located(manifest, text, &err))
            })
            .transpose()?;
        Ok(Self {
            addr,
            http,
            timeout,
            fuel: table.fuel.as_ref().map(|f| *f.get_ref()),
            max_memory: size(&table.max_memory)?,
            max_concurrency: table.max_concurrency.as_ref().map(|n| *n.get_ref()),
            queue: table.queue.as_ref().map(|n| *n.get_ref()),
            max_body: size(&table.max_body)?,
            header_timeout: duration(&table.header_timeout)?,
            drain: duration(&table.drain)?,
        })
    }
}
