//! A server's settings and where they come from: `[serve]` of `wcomp.toml` (every bad value
//! reported at its place in the manifest), the command line's flags ([`ServeFlags`]), and
//! the precedence between them and `[run]` ([`resolve`]).

use std::net::SocketAddr;
use std::time::Duration;

use super::handler::Admission;
use super::workers::ReuseChoice;
use crate::manifest::{Manifest, ManifestError};
use crate::runtime::profile::{RunProfile, parse, parse_with};
use crate::runtime::{HttpGrant, Limits, Sandbox};

/// Where a server listens unless told otherwise.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    8080,
));
/// Instance slots the pooling allocator reserves when `--max-concurrency` is not given.
pub const DEFAULT_MAX_CONCURRENCY: usize = 1000;
/// The largest request body accepted by default.
pub const DEFAULT_MAX_BODY: u64 = 10 << 20;
/// How long a client may take to send its request headers by default.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight may take to finish once shutdown starts, by default.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(30);
/// How long a request waits for a guest slot before `503`.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

/// Descriptors kept back from connections for everything else a server opens: its listener,
/// the compiled-code cache, guests' preopened directories and sockets, the embedded store.
const DESCRIPTOR_RESERVE: usize = 128;

/// Open connections at most when not set: the soft open-file limit (`ulimit -n`, read from
/// `/proc/self/limits`; 1024 where it cannot be read) less [`DESCRIPTOR_RESERVE`], and at least
/// 16. Past it a server refuses connections rather than failing to accept them.
pub fn default_max_connections() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))?
                .split_whitespace()
                .nth(3)?
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(1024);
    limit.saturating_sub(DESCRIPTOR_RESERVE).max(16)
}

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
    pub max_connections: Option<usize>,
    pub queue: Option<usize>,
    pub reuse: Option<usize>,
    pub concurrent: Option<usize>,
    pub max_body: Option<u64>,
    pub header_timeout: Option<Duration>,
    pub drain: Option<Duration>,
    pub metrics: Option<SocketAddr>,
    /// `[serve.keyvalue]` and `[serve] state-dir`.
    pub state: Sandbox,
}

impl ServeProfile {
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, ManifestError> {
        let table = &manifest.serve;
        let address = |text: &Option<toml::Spanned<String>>| {
            text.as_ref()
                .map(|text| {
                    text.get_ref().parse::<SocketAddr>().map_err(|err| {
                        manifest.error(
                            text.span(),
                            format!("invalid address `{}`: {err}", text.get_ref()),
                            "not an address",
                            Some(
                                "write `<ip>:<port>`, such as `127.0.0.1:8080` or `0.0.0.0:80`"
                                    .into(),
                            ),
                        )
                    })
                })
                .transpose()
        };
        let addr = address(&table.addr)?;
        let metrics = address(&table.metrics)?;
        // `http:<host>` of a workspace's components: the composition may reach the host, and
        // only they do.
        let scoped = manifest.components.values().flat_map(|entry| {
            entry
                .get_ref()
                .scoped("http")
                .map(|(scope, span)| toml::Spanned::new(span, scope.to_owned()))
                .collect::<Vec<_>>()
        });
        let http = table
            .allow_http
            .iter()
            .cloned()
            .chain(scoped)
            .map(|text| parse::<HttpGrant>(manifest, &text, "HTTP grant"))
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = parse_with(manifest, &table.timeout, crate::units::parse_timeout)?;
        Ok(Self {
            addr,
            http,
            timeout,
            fuel: table.fuel.as_ref().map(|f| *f.get_ref()),
            max_memory: parse_with(manifest, &table.max_memory, crate::units::parse_size)?,
            max_concurrency: table.max_concurrency.as_ref().map(|n| *n.get_ref()),
            max_connections: table.max_connections.as_ref().map(|n| *n.get_ref()),
            queue: table.queue.as_ref().map(|n| *n.get_ref()),
            reuse: table.reuse.as_ref().map(|n| *n.get_ref()),
            concurrent: table.concurrent.as_ref().map(|n| *n.get_ref()),
            max_body: parse_with(manifest, &table.max_body, crate::units::parse_size)?,
            header_timeout: parse_with(
                manifest,
                &table.header_timeout,
                crate::units::parse_duration,
            )?,
            drain: parse_with(manifest, &table.drain, crate::units::parse_duration)?,
            metrics,
            state: crate::runtime::profile::state_grants(
                manifest,
                &table.keyvalue,
                table.state_dir.as_ref(),
            )?,
        })
    }
}

/// What the command line says, parsed; `None` (or empty) where it says nothing.
#[derive(Debug, Clone, Default)]
pub struct ServeFlags {
    pub addr: Option<SocketAddr>,
    /// `--dir`, `--env`, `--allow-net`, `--timeout`, `--fuel`, `--max-memory`.
    pub guest: RunProfile,
    /// `--allow-http`, added to `[serve] allow-http`.
    pub http: Vec<HttpGrant>,
    pub max_concurrency: Option<usize>,
    pub max_connections: Option<usize>,
    pub queue: Option<usize>,
    pub reuse: Option<usize>,
    pub concurrent: Option<usize>,
    pub max_body: Option<u64>,
    pub header_timeout: Option<Duration>,
    pub drain: Option<Duration>,
    pub metrics: Option<SocketAddr>,
}

/// A server's settings, as [`resolve`] settles them.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub addr: SocketAddr,
    pub sandbox: Sandbox,
    pub http: Vec<HttpGrant>,
    pub limits: Limits,
    pub admission: Admission,
    /// How many requests an instance answers, and how many at once, as asked.
    pub reuse: ReuseChoice,
    pub header_timeout: Duration,
    pub drain: Duration,
    /// Open connections at most; `None`: what the open-file limit allows
    /// ([`default_max_connections`]).
    pub max_connections: Option<usize>,
    /// Where the metrics are served (`--metrics`), if anywhere.
    pub metrics: Option<SocketAddr>,
}

/// The server's settings: flags over `[serve]` over `[run]` over the defaults. Grants add up;
/// every other setting is taken from the first of them that sets it.
pub fn resolve(run: RunProfile, serve: ServeProfile, flags: ServeFlags) -> ServeSettings {
    let serve_limits = RunProfile {
        sandbox: serve.state,
        timeout: serve.timeout,
        fuel: serve.fuel,
        max_memory: serve.max_memory,
    };
    let (sandbox, limits) = run.overlay(serve_limits).overlay(flags.guest).resolve();
    let mut http = serve.http;
    http.extend(flags.http);
    let max_concurrency = flags
        .max_concurrency
        .or(serve.max_concurrency)
        .unwrap_or(DEFAULT_MAX_CONCURRENCY)
        .max(1);
    ServeSettings {
        addr: flags.addr.or(serve.addr).unwrap_or(DEFAULT_ADDR),
        sandbox,
        http,
        limits,
        admission: Admission {
            max_concurrency,
            queue: flags
                .queue
                .or(serve.queue)
                .unwrap_or(max_concurrency.saturating_mul(4)),
            queue_timeout: QUEUE_TIMEOUT,
            max_body: flags
                .max_body
                .or(serve.max_body)
                .unwrap_or(DEFAULT_MAX_BODY),
        },
        reuse: ReuseChoice {
            requests: flags.reuse.or(serve.reuse),
            concurrent: flags.concurrent.or(serve.concurrent),
        },
        header_timeout: flags
            .header_timeout
            .or(serve.header_timeout)
            .unwrap_or(DEFAULT_HEADER_TIMEOUT),
        drain: flags.drain.or(serve.drain).unwrap_or(DEFAULT_DRAIN),
        max_connections: flags.max_connections.or(serve.max_connections),
        metrics: flags.metrics.or(serve.metrics),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_default_connection_cap_fits_the_open_file_limit() {
        let cap = default_max_connections();
        assert!(cap >= 16);
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        if let Some(soft) = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .and_then(|line| line.split_whitespace().nth(3)?.parse::<usize>().ok())
        {
            assert!(cap < soft.max(17), "{cap} against a limit of {soft}");
        }
    }

    fn profile(text: &str) -> Result<ServeProfile, ManifestError> {
        let manifest = Manifest::parse(Path::new("/w/wcomp.toml"), text.to_owned())?;
        ServeProfile::from_manifest(&manifest)
    }

    #[test]
    fn components_allowed_a_host_make_it_an_http_grant() {
        let read = profile(
            "[workspace]\nname = \"w\"\n[component.a]\nlang = \"go\"\nallow = [\"http:api.example.com\"]\n[serve]\nallow-http = [\"*.internal:8443\"]\n",
        )
        .unwrap();
        assert_eq!(read.http.len(), 2);
        assert_eq!(read.http[1].to_string(), "api.example.com");
    }

    #[test]
    fn reads_the_serve_table() {
        let profile = profile(
            "[serve]\naddr = \"0.0.0.0:3000\"\nallow-http = [\"api.example.com\"]\ntimeout = \"none\"\nmax-memory = \"256MiB\"\nmax-concurrency = 8\nmax-connections = 100\nmetrics = \"127.0.0.1:9100\"\nmax-body = \"1MiB\"\nheader-timeout = \"5s\"\ndrain = \"1m30s\"\n",
        )
        .unwrap();
        assert_eq!(profile.addr, Some("0.0.0.0:3000".parse().unwrap()));
        assert_eq!(profile.http.len(), 1);
        assert_eq!(profile.timeout, Some(None));
        assert_eq!(profile.max_memory, Some(256 << 20));
        assert_eq!(profile.max_concurrency, Some(8));
        assert_eq!(profile.max_connections, Some(100));
        assert_eq!(profile.metrics, Some("127.0.0.1:9100".parse().unwrap()));
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

    #[test]
    fn flags_win_over_serve_over_run_over_the_defaults() {
        let manifest = Manifest::parse(
            Path::new("/w/wcomp.toml"),
            "[run]\ntimeout = \"5s\"\nfuel = 100\nenv = [\"A=run\"]\n\n[serve]\ntimeout = \"7s\"\nmax-body = \"1KiB\"\nqueue = 3\n".to_owned(),
        )
        .unwrap();
        let run = RunProfile::from_manifest(&manifest).unwrap();
        let serve = ServeProfile::from_manifest(&manifest).unwrap();

        let settings = resolve(run.clone(), serve.clone(), ServeFlags::default());
        assert_eq!(settings.limits.timeout, Some(Duration::from_secs(7)));
        assert_eq!(settings.limits.fuel, Some(100));
        assert_eq!(settings.admission.max_body, 1024);
        assert_eq!(settings.admission.queue, 3);
        assert_eq!(settings.admission.max_concurrency, DEFAULT_MAX_CONCURRENCY);
        assert_eq!(settings.addr, DEFAULT_ADDR);
        assert_eq!(settings.header_timeout, DEFAULT_HEADER_TIMEOUT);
        assert_eq!(settings.sandbox.env.len(), 1);

        let flags = ServeFlags {
            addr: Some("127.0.0.1:9000".parse().unwrap()),
            guest: RunProfile {
                sandbox: Sandbox {
                    env: vec!["A=flag".parse().unwrap()],
                    ..Sandbox::default()
                },
                timeout: Some(None),
                fuel: None,
                max_memory: Some(1 << 20),
            },
            max_body: Some(10),
            max_concurrency: Some(2),
            ..ServeFlags::default()
        };
        let settings = resolve(run, serve, flags);
        assert_eq!(settings.limits.timeout, None, "`--timeout none` wins");
        assert_eq!(settings.limits.fuel, Some(100), "unset flags fall through");
        assert_eq!(settings.limits.max_memory, 1 << 20);
        assert_eq!(settings.admission.max_body, 10);
        assert_eq!(settings.admission.queue, 3);
        assert_eq!(settings.admission.max_concurrency, 2);
        assert_eq!(settings.addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(
            settings.sandbox.env.len(),
            1,
            "the flag's `A` replaces the manifest's"
        );
        assert_eq!(settings.sandbox.env[0].value.as_deref(), Some("flag"));
        assert_eq!(settings.reuse, ReuseChoice::default());
    }

    #[test]
    fn a_0_2_handler_is_fresh_and_a_0_3_one_reused_unless_asked() {
        use crate::serve::Reuse;
        let unsaid = ReuseChoice::default();
        assert_eq!(unsaid.for_p2(), Reuse::FRESH);
        assert_eq!(
            unsaid.for_p3(),
            Reuse {
                requests: 128,
                concurrent: 16
            }
        );
        let fresh = ReuseChoice {
            requests: Some(1),
            concurrent: None,
        };
        assert_eq!(fresh.for_p3(), Reuse::FRESH);
        let few = ReuseChoice {
            requests: Some(4),
            concurrent: Some(16),
        };
        assert_eq!(
            few.for_p2().concurrent,
            1,
            "0.2 handlers answer one at a time"
        );
        assert_eq!(
            few.for_p3(),
            Reuse {
                requests: 4,
                concurrent: 4
            },
            "never more at once than in all"
        );
        let serve = profile("[serve]\nreuse = 64\nconcurrent = 2\n").unwrap();
        let settings = resolve(RunProfile::default(), serve, ServeFlags::default());
        assert_eq!(
            settings.reuse.for_p3(),
            Reuse {
                requests: 64,
                concurrent: 2
            }
        );
    }
}
