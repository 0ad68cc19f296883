//! Outgoing HTTP (`wasi:http/outgoing-handler`), deny-by-default: a request leaves only when
//! its authority matches an `--allow-http` grant. A denied request reaches the guest as the
//! `wasi:http` error code `HTTP-request-denied` (not a trap) and is reported as a
//! [`RunEvent::Denied`]. Knows nothing about the command line.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::guest::{Events, RunEvent};

/// `--allow-http <host>[:<port>]`: which authorities outgoing requests may go to.
///
/// The host is a name (`api.example.com`), a name under a domain (`*.internal`, which does not
/// match `internal` itself), or `*`; the port is a number or `*`. Without a port, only the
/// scheme's default port (443 for https, 80 for http) matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGrant {
    text: String,
    host: HostPattern,
    port: Option<PortPattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    Subdomains(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
}

/// A `--allow-http` that is not `host[:port]`.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid HTTP grant `{text}`: {reason}")]
#[diagnostic(help(
    "write `<host>[:<port>]`: `api.example.com`, `*.internal:8443`, `localhost:*`, or `*` for any host"
))]
pub struct HttpGrantError {
    text: String,
    reason: String,
}

impl FromStr for HttpGrant {
    type Err = HttpGrantError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| HttpGrantError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        if trimmed.contains("://") || trimmed.contains('/') {
            return Err(error("give the authority only, without a scheme or a path"));
        }
        let (host, port) = match trimmed.rsplit_once(':') {
            Some((host, _)) if !host.ends_with(']') && host.contains(':') => {
                return Err(error("write IPv6 addresses in brackets: `[::1]:8080`"));
            }
            Some((host, "*")) => (host, Some(PortPattern::Any)),
            Some((host, port)) => match port.parse::<u16>() {
                Ok(port) if port > 0 => (host, Some(PortPattern::Exact(port))),
                _ => return Err(error("the port is a number from 1 to 65535, or `*`")),
            },
            None => (trimmed, None),
        };
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            if domain.is_empty() || domain.contains('*') {
                return Err(error("`*.` must be followed by a domain name"));
            }
            HostPattern::Subdomains(domain.to_owned())
        } else if host.is_empty() {
            return Err(error("the host is missing"));
        } else if host.contains('*') {
            return Err(error("`*` stands for a whole host, or starts `*.<domain>`"));
        } else {
            HostPattern::Exact(host)
        };
        Ok(Self {
            text: trimmed.to_owned(),
            host,
            port,
        })
    }
}

impl fmt::Display for HttpGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl HttpGrant {
    /// Whether a request to `host:port` (port already defaulted from the scheme, which
    /// `default_port` gives) may leave.
    pub fn allows(&self, host: &str, port: u16, default_port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Exact(exact) => {
                exact.trim_start_matches('[').trim_end_matches(']') == host
            }
            HostPattern::Subdomains(domain) => host
                .strip_suffix(domain.as_str())
                .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1),
        };
        let port_ok = match self.port {
            Some(PortPattern::Any) => true,
            Some(PortPattern::Exact(exact)) => exact == port,
            None => port == default_port,
        };
        host_ok && port_ok
    }
}

/// The `wasi:http` hooks of a guest: outgoing requests go through the grants.
#[derive(Debug, Clone, Default)]
pub struct HttpHooks {
    grants: Arc<Vec<HttpGrant>>,
    events: Events,
}

impl HttpHooks {
    pub fn new(grants: Vec<HttpGrant>, events: Events) -> Self {
        Self {
            grants: Arc::new(grants),
            events,
        }
    }

    /// Whether `uri` may be requested; reports a denial.
    fn check(&self, uri: &http::Uri) -> bool {
        let https = uri.scheme_str() != Some("http");
        let default_port = if https { 443 } else { 80 };
        let Some(authority) = uri.authority() else {
            return false;
        };
        let port = authority.port_u16().unwrap_or(default_port);
        let allowed = self
            .grants
            .iter()
            .any(|grant| grant.allows(authority.host(), port, default_port));
        if !allowed {
            let shown = if port == default_port {
                authority.host().to_owned()
            } else {
                format!("{}:{port}", authority.host())
            };
            self.events.emit(&RunEvent::Denied {
                what: format!("HTTP request to {uri}"),
                grant: format!("--allow-http {shown}"),
            });
        }
        allowed
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        drop(fut);
        if !self.check(request.uri()) {
            // Take the guest's body first, as a server would: a guest writing it (as `wstd`
            // does, alongside waiting for the response) then sees the denial itself, not a
            // broken stream.
            return Box::new(async move {
                use http_body_util::BodyExt;
                let _ = request.into_body().collect().await;
                Err(HttpError::HttpRequestDenied)
            });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(grant: &str, host: &str, port: u16) -> bool {
        grant.parse::<HttpGrant>().unwrap().allows(host, port, 443)
    }

    #[test]
    fn grants_match_authorities() {
        assert!(allows("api.example.com", "api.example.com", 443));
        assert!(allows("API.example.com", "api.EXAMPLE.com", 443));
        assert!(!allows("api.example.com", "api.example.com", 8443));
        assert!(!allows("api.example.com", "evil.com", 443));
        assert!(allows("*.internal:8443", "db.internal", 8443));
        assert!(allows("*.internal:8443", "a.b.internal", 8443));
        assert!(!allows("*.internal:8443", "internal", 8443));
        assert!(!allows("*.internal:8443", "xinternal", 8443));
        assert!(!allows("*.internal:8443", "db.internal", 443));
        assert!(allows("localhost:*", "localhost", 12345));
        assert!(allows("*", "anything.at.all", 443));
        assert!(!allows("*", "anything.at.all", 80));
        assert!(allows("*:*", "anything.at.all", 80));
        assert!(allows("[::1]:8080", "[::1]", 8080));
    }

    #[test]
    fn bad_grants_say_why() {
        for bad in [
            "https://x.com",
            "x.com/path",
            "x.com:0",
            "x.com:http",
            "*.",
            "a*b.com",
            ":80",
            "::1:80",
        ] {
            assert!(bad.parse::<HttpGrant>().is_err(), "{bad}");
        }
    }
}
