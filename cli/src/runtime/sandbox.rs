//! The capabilities a guest is granted, deny-by-default: no directory, environment variable or
//! network address unless named here. Parses the CLI and `wcomp.toml` forms (`--dir
//! data::/data:rw`, `--env KEY=VALUE`, `--allow-net 127.0.0.1:8080`) and turns them into a
//! WASI context. Stdio and the given arguments are always inherited. Knows nothing about the
//! command line or the manifest.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx};

use super::config::{ConfigValue, StateError};
use super::guest::{Events, RunEvent};
use super::keyvalue::{KvGrant, Stores, default_state_dir};

/// Everything a guest may touch beyond stdio and its arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sandbox {
    pub dirs: Vec<DirGrant>,
    pub env: Vec<EnvGrant>,
    pub net: Vec<NetGrant>,
    /// `wasi:keyvalue` buckets (`--kv`).
    pub keyvalue: Vec<KvGrant>,
    /// Where the embedded keyvalue store lives (`--state-dir`); see [`default_state_dir`].
    pub state_dir: Option<PathBuf>,
    /// `wasi:config` values (`[config]`, `--config`, `--config-env`).
    pub config: Vec<ConfigValue>,
    /// `wasi:nn` models guests load by name (`--nn-graph`, `[run.nn]`).
    pub nn: Vec<super::nn::NnGrant>,
    /// Whether guests may load models from bytes (`--allow-nn-load`).
    pub allow_nn_load: bool,
}

/// Errors in a grant, or in applying it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SandboxError {
    /// A `--dir` that is not `host[::guest][:rw|:ro]`.
    #[error("invalid directory grant `{text}`: {reason}")]
    #[diagnostic(help(
        "write `--dir <host>` or `--dir <host>::<guest>`, adding `:rw` to allow writes (e.g. `--dir out::/out:rw`)"
    ))]
    Dir { text: String, reason: String },
    /// The host directory of a grant cannot be opened.
    #[error("cannot grant `{}` to the guest", path.display())]
    #[diagnostic(help("the directory must exist on the host; create it or fix the path"))]
    DirOpen {
        path: PathBuf,
        #[source]
        source: anyhow::Error,
    },
    /// A `--env` without a name.
    #[error("invalid environment grant `{text}`")]
    #[diagnostic(help(
        "write `--env KEY` to pass the host's value, or `--env KEY=VALUE` to set one"
    ))]
    Env { text: String },
    /// A `--allow-net` that is not `host:port`.
    #[error("invalid network grant `{text}`: {reason}")]
    #[diagnostic(help(
        "write `<host>:<port>`, where host is an IP, `[ipv6]`, a CIDR block (`10.0.0.0/8`), a name or `*`, and port is a number, a range (`8000-8099`) or `*`"
    ))]
    Net { text: String, reason: String },
    /// A keyvalue grant, the embedded store, or a configuration value.
    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),
    /// A host name in a network grant does not resolve.
    #[error("cannot resolve `{host}` in network grant `{text}`")]
    #[diagnostic(help("grant an IP address instead, or check the name"))]
    Resolve {
        host: String,
        text: String,
        #[source]
        source: std::io::Error,
    },
    /// A `wasi:nn` model that cannot be granted.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Nn(#[from] super::nn::NnGrantError),
}

/// `--dir <host>[::<guest>][:rw|:ro]`: a host directory the guest sees at `guest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    pub host: PathBuf,
    pub guest: String,
    pub writable: bool,
}

impl FromStr for DirGrant {
    type Err = SandboxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| SandboxError::Dir {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (rest, writable) = if let Some(rest) = text.strip_suffix(":rw") {
            (rest, true)
        } else if let Some(rest) = text.strip_suffix(":ro") {
            (rest, false)
        } else {
            (text, false)
        };
        let (host, guest) = match rest.split_once("::") {
            Some((host, guest)) => (host, guest),
            // Like `wasmtime run --dir`: the guest sees the path as written.
            None => (rest, rest),
        };
        if host.is_empty() {
            return Err(error("the host directory is empty"));
        }
        if guest.is_empty() {
            return Err(error("the guest path is empty"));
        }
        Ok(Self {
            host: PathBuf::from(host),
            guest: guest.to_owned(),
            writable,
        })
    }
}

impl DirGrant {
    /// The same grant with a relative host path taken from `base`.
    pub fn relative_to(mut self, base: &Path) -> Self {
        if self.host.is_relative() {
            self.host = base.join(&self.host);
        }
        self
    }
}

impl fmt::Display for DirGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.writable {
            "read-write"
        } else {
            "read-only"
        };
        write!(f, "`{}` as `{}` ({mode})", self.host.display(), self.guest)
    }
}

/// `--env KEY` (the host's value, if set) or `--env KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvGrant {
    pub key: String,
    pub value: Option<String>,
}

impl FromStr for EnvGrant {
    type Err = SandboxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, value) = match text.split_once('=') {
            Some((key, value)) => (key, Some(value.to_owned())),
            None => (text, None),
        };
        if key.is_empty() || key.contains('\0') {
            return Err(SandboxError::Env {
                text: text.to_owned(),
            });
        }
        Ok(Self {
            key: key.to_owned(),
            value,
        })
    }
}

/// `--allow-net <host>:<port>`: addresses the guest may connect to, send to, or bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetGrant {
    text: String,
    host: NetHost,
    ports: (u16, u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NetHost {
    Any,
    Block(IpAddr, u8),
    Name(String),
}

impl FromStr for NetGrant {
    type Err = SandboxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| SandboxError::Net {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, rest) = rest
                .split_once(']')
                .ok_or_else(|| error("missing `]` after an IPv6 address"))?;
            let port = rest
                .strip_prefix(':')
                .ok_or_else(|| error("missing `:<port>`"))?;
            (host, port)
        } else {
            text.rsplit_once(':')
                .ok_or_else(|| error("missing `:<port>`"))?
        };
        let ports = match port {
            "*" => (0, u16::MAX),
            _ => {
                let parse = |p: &str| {
                    p.parse::<u16>()
                        .map_err(|_| error(&format!("`{p}` is not a port number")))
                };
                match port.split_once('-') {
                    Some((low, high)) => (parse(low)?, parse(high)?),
                    None => (parse(port)?, parse(port)?),
                }
            }
        };
        if ports.0 > ports.1 {
            return Err(error("the port range is empty"));
        }
        let host = if host == "*" {
            NetHost::Any
        } else if let Some((ip, bits)) = host.split_once('/') {
            let ip: IpAddr = ip
                .parse()
                .map_err(|_| error(&format!("`{ip}` is not an IP address")))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits: u8 = bits
                .parse()
                .ok()
                .filter(|bits| *bits <= max)
                .ok_or_else(|| error(&format!("`/{bits}` is not a prefix length")))?;
            NetHost::Block(ip, bits)
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            NetHost::Block(ip, if ip.is_ipv4() { 32 } else { 128 })
        } else if !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            NetHost::Name(host.to_ascii_lowercase())
        } else {
            return Err(error(&format!("`{host}` is not a host")));
        };
        Ok(Self {
            text: text.to_owned(),
            host,
            ports,
        })
    }
}

impl fmt::Display for NetGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A network grant with host names resolved, ready to match addresses.
#[derive(Debug, Clone)]
struct Resolved {
    blocks: Vec<(IpAddr, u8)>,
    any: bool,
    ports: (u16, u16),
}

impl Resolved {
    fn matches(&self, addr: SocketAddr) -> bool {
        let port = addr.port();
        if port < self.ports.0 || port > self.ports.1 {
            return false;
        }
        let ip = canonical(addr.ip());
        self.any
            || self
                .blocks
                .iter()
                .any(|(block, bits)| in_block(ip, canonical(*block), *bits))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn in_block(ip: IpAddr, block: IpAddr, bits: u8) -> bool {
    match (ip, block) {
        (IpAddr::V4(ip), IpAddr::V4(block)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(block) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(block)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(block) & mask
        }
        _ => false,
    }
}

impl NetGrant {
    fn resolve(&self) -> Result<Resolved, SandboxError> {
        let blocks = match &self.host {
            NetHost::Any => Vec::new(),
            NetHost::Block(ip, bits) => vec![(*ip, *bits)],
            NetHost::Name(name) => {
                let addrs = (name.as_str(), 0).to_socket_addrs().map_err(|source| {
                    SandboxError::Resolve {
                        host: name.clone(),
                        text: self.text.clone(),
                        source,
                    }
                })?;
                let ips: BTreeSet<IpAddr> = addrs.map(|addr| addr.ip()).collect();
                ips.into_iter()
                    .map(|ip| (ip, if ip.is_ipv4() { 32 } else { 128 }))
                    .collect()
            }
        };
        Ok(Resolved {
            any: self.host == NetHost::Any,
            blocks,
            ports: self.ports,
        })
    }
}

impl Sandbox {
    /// Adds `other`'s grants to these; for an environment variable named in both, `other`'s
    /// value wins (command-line flags over `wcomp.toml`).
    pub fn merge(&mut self, other: Sandbox) {
        for grant in other.dirs {
            if !self.dirs.contains(&grant) {
                self.dirs.push(grant);
            }
        }
        for grant in other.env {
            self.env.retain(|existing| existing.key != grant.key);
            self.env.push(grant);
        }
        for grant in other.net {
            if !self.net.contains(&grant) {
                self.net.push(grant);
            }
        }
        for grant in other.keyvalue {
            self.keyvalue
                .retain(|existing| existing.bucket != grant.bucket);
            self.keyvalue.push(grant);
        }
        if other.state_dir.is_some() {
            self.state_dir = other.state_dir;
        }
        for value in other.config {
            self.config.retain(|existing| existing.key != value.key);
            self.config.push(value);
        }
        for grant in other.nn {
            self.nn.retain(|existing| existing.name != grant.name);
            self.nn.push(grant);
        }
        self.allow_nn_load |= other.allow_nn_load;
    }

    /// The state directory: as granted, else `.wcomp/state` in the current directory.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            default_state_dir(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
        })
    }

    /// One line per grant, and what stays denied, for `-v`.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.dirs.is_empty() {
            lines
                .push("sandbox: no directories (grant with `--dir <host>[::<guest>][:rw]`)".into());
        }
        for dir in &self.dirs {
            lines.push(format!("sandbox: directory {dir}"));
        }
        if self.env.is_empty() {
            lines.push("sandbox: no environment variables (grant with `--env KEY[=VALUE]`)".into());
        }
        for env in &self.env {
            match &env.value {
                Some(_) => lines.push(format!("sandbox: environment variable `{}` (set)", env.key)),
                None => lines.push(format!(
                    "sandbox: environment variable `{}` (from the host)",
                    env.key
                )),
            }
        }
        if self.net.is_empty() {
            lines.push(
                "sandbox: no network, no name lookup (grant with `--allow-net <host>:<port>`)"
                    .into(),
            );
        }
        for net in &self.net {
            lines.push(format!("sandbox: network `{net}`, and name lookup"));
        }
        if self.keyvalue.is_empty() {
            lines.push(
                "sandbox: no keyvalue buckets (grant with `--kv <bucket>[=memory|redis://…]`)"
                    .into(),
            );
        }
        for grant in &self.keyvalue {
            lines.push(format!("sandbox: keyvalue bucket {grant}"));
        }
        if self
            .keyvalue
            .iter()
            .any(|grant| grant.backend == super::keyvalue::Backend::Embedded)
        {
            lines.push(format!(
                "sandbox: embedded store in `{}`",
                self.state_dir().display()
            ));
        }
        lines.extend(self.config.iter().map(ConfigValue::describe));
        lines
    }

    /// Resolves the grants once (names in network grants are looked up here), for the many
    /// guests of one session.
    pub fn prepare(&self) -> Result<PreparedSandbox, SandboxError> {
        let net = self
            .net
            .iter()
            .map(NetGrant::resolve)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PreparedSandbox {
            sandbox: self.clone(),
            net: Arc::new(net),
            services: Services::default(),
        })
    }

    /// [`Sandbox::prepare`], with the configuration values ready for guests and, for a
    /// component that imports `wasi:keyvalue` (`keyvalue`), the buckets opened (the embedded
    /// store created if a bucket is on it; nothing is created for one that does not).
    pub fn prepare_services(
        &self,
        events: &Events,
        keyvalue: bool,
        nn: bool,
    ) -> Result<PreparedSandbox, SandboxError> {
        let mut prepared = self.prepare()?;
        let stores = if keyvalue {
            Stores::open(&self.keyvalue, &self.state_dir(), events)?
        } else {
            Stores::default()
        };
        prepared.services = Services {
            keyvalue: Arc::new(stores),
            config: Arc::new(self.config_values()),
            nn: if nn {
                self.models()?
            } else {
                super::nn::Models::default()
            },
        };
        Ok(prepared)
    }

    /// The `wasi:nn` models granted, compiled (once: every instance shares them).
    pub fn models(&self) -> Result<super::nn::Models, SandboxError> {
        Ok(super::nn::Models::load(&self.nn, self.allow_nn_load)?)
    }

    /// A WASI context with stdio, `argv` and exactly these grants. Denied socket addresses are
    /// reported to `events` as they happen.
    /// The `wasi:config` values guests read, by key.
    pub fn config_values(&self) -> super::config::ConfigValues {
        self.config
            .iter()
            .map(|value| (value.key.clone(), value.value.clone()))
            .collect()
    }

    pub fn wasi_ctx(&self, argv: &[String], events: &Events) -> Result<WasiCtx, SandboxError> {
        self.prepare()?.wasi_ctx(argv, &GuestIo::Inherit, events)
    }
}

/// Where a guest's stdio goes.
#[derive(Debug, Clone, Default)]
pub enum GuestIo {
    /// The host's own stdin, stdout and stderr (`wcomp run`).
    #[default]
    Inherit,
    /// Captured in memory (`wcomp test`): no stdin; stdout and stderr kept, up to 1 MiB each.
    Capture(CapturedOutput),
    /// Nothing in, nothing kept (`wcomp bench`, whose numbers the guest's output would drown).
    Null,
}

/// The captured stdout and stderr of a guest.
#[derive(Debug, Clone)]
pub struct CapturedOutput {
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
}

impl CapturedOutput {
    pub fn new() -> Self {
        Self {
            stdout: MemoryOutputPipe::new(1 << 20),
            stderr: MemoryOutputPipe::new(1 << 20),
        }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.contents()).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

impl Default for CapturedOutput {
    fn default() -> Self {
        Self::new()
    }
}

/// A [`Sandbox`] with its grants resolved, cheap to turn into a WASI context per guest.
#[derive(Debug, Clone)]
pub struct PreparedSandbox {
    sandbox: Sandbox,
    net: Arc<Vec<Resolved>>,
    services: Services,
}

/// What the guests of a session share beyond WASI: their keyvalue buckets and configuration.
#[derive(Clone, Default)]
pub struct Services {
    pub keyvalue: Arc<Stores>,
    pub config: Arc<super::config::ConfigValues>,
    /// Compiled once per run or server, shared by every instance.
    pub nn: super::nn::Models,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("keyvalue", &self.keyvalue)
            .finish_non_exhaustive()
    }
}

impl PreparedSandbox {
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The same sandbox with other services (`wcomp test`'s seeded buckets).
    pub fn with_services(mut self, services: Services) -> Self {
        self.services = services;
        self
    }

    /// A WASI context with `io`, `argv` and exactly these grants. Denied socket addresses are
    /// reported to `events` as they happen.
    pub fn wasi_ctx(
        &self,
        argv: &[String],
        io: &GuestIo,
        events: &Events,
    ) -> Result<WasiCtx, SandboxError> {
        let mut builder = WasiCtx::builder();
        match io {
            GuestIo::Inherit => {
                builder.inherit_stdio();
            }
            GuestIo::Capture(captured) => {
                builder
                    .stdout(captured.stdout.clone())
                    .stderr(captured.stderr.clone());
            }
            GuestIo::Null => {}
        }
        builder.args(argv);
        for grant in &self.sandbox.env {
            let value = match &grant.value {
                Some(value) => Some(value.clone()),
                None => std::env::var(&grant.key).ok(),
            };
            match value {
                Some(value) => {
                    builder.env(&grant.key, value);
                }
                None => events.emit(&RunEvent::Note {
                    message: format!(
                        "`--env {}` grants a variable the host does not have; the guest will not see it",
                        grant.key
                    ),
                }),
            }
        }
        for grant in &self.sandbox.dirs {
            let perms = if grant.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            builder
                .preopened_dir(&grant.host, &grant.guest, perms)
                .map_err(|source| SandboxError::DirOpen {
                    path: grant.host.clone(),
                    source: source.into(),
                })?;
        }
        // TCP and UDP stay on so every address goes through the check below, where a denial
        // is visible; with them off the guest only sees "not allowed" and nothing is logged.
        builder
            .allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(!self.sandbox.net.is_empty());
        let resolved = self.net.clone();
        let events = events.clone();
        builder.socket_addr_check(move |addr, use_| {
            let allowed = allows(&resolved, addr, use_);
            if !allowed {
                events.emit(&RunEvent::Denied {
                    what: format!("{} {addr}", describe_use(use_)),
                    grant: format!("--allow-net {}", grant_text(addr)),
                });
            }
            Box::pin(std::future::ready(allowed))
        });
        Ok(builder.build())
    }
}

fn allows(grants: &[Resolved], addr: SocketAddr, use_: SocketAddrUse) -> bool {
    match use_ {
        // Listening was already checked; a client that reaches the socket may connect.
        SocketAddrUse::TcpAccept => true,
        // Before `connect` or `send`, WASI checks an implicit bind of an ephemeral port on
        // every interface. Allowing it exposes nothing: the connect or send that follows is
        // checked against the grants (and logged with its real address when denied), a
        // listen on it is checked as `TcpListen`, and datagrams into it as `UdpReceive`.
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind
            if addr.ip().is_unspecified() && addr.port() == 0 =>
        {
            true
        }
        _ => grants.iter().any(|grant| grant.matches(addr)),
    }
}

fn describe_use(use_: SocketAddrUse) -> &'static str {
    match use_ {
        SocketAddrUse::TcpBind => "TCP bind to",
        SocketAddrUse::TcpListen => "TCP listen on",
        SocketAddrUse::TcpAccept => "TCP accept from",
        SocketAddrUse::TcpConnect => "TCP connect to",
        SocketAddrUse::UdpBind => "UDP bind to",
        SocketAddrUse::UdpSend => "UDP send to",
        SocketAddrUse::UdpReceive => "UDP receive from",
    }
}

fn grant_text(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directory_grants() {
        let grant: DirGrant = "data".parse().unwrap();
        assert_eq!(
            grant,
            DirGrant {
                host: "data".into(),
                guest: "data".into(),
                writable: false
            }
        );
        let grant: DirGrant = "./out::/out:rw".parse().unwrap();
        assert_eq!(grant.host, PathBuf::from("./out"));
        assert_eq!(grant.guest, "/out");
        assert!(grant.writable);
        let grant: DirGrant = "in::/in:ro".parse().unwrap();
        assert!(!grant.writable);
        assert!("::/x".parse::<DirGrant>().is_err());
        assert!("x::".parse::<DirGrant>().is_err());
    }

    #[test]
    fn parses_env_grants() {
        let grant: EnvGrant = "HOME".parse().unwrap();
        assert_eq!(grant.value, None);
        let grant: EnvGrant = "MODE=a=b".parse().unwrap();
        assert_eq!(grant.key, "MODE");
        assert_eq!(grant.value.as_deref(), Some("a=b"));
        assert!("=x".parse::<EnvGrant>().is_err());
    }

    fn matches(grant: &str, addr: &str) -> bool {
        let grant: NetGrant = grant.parse().unwrap();
        grant.resolve().unwrap().matches(addr.parse().unwrap())
    }

    #[test]
    fn network_grants_match_addresses() {
        assert!(matches("127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(!matches("127.0.0.1:8080", "127.0.0.1:8081"));
        assert!(!matches("127.0.0.1:8080", "127.0.0.2:8080"));
        assert!(matches("10.0.0.0/8:*", "10.20.30.40:1"));
        assert!(!matches("10.0.0.0/8:*", "11.0.0.1:1"));
        assert!(matches("*:8000-8099", "192.168.1.1:8050"));
        assert!(!matches("*:8000-8099", "192.168.1.1:8100"));
        assert!(matches("[::1]:443", "[::1]:443"));
        assert!(matches("127.0.0.1:80", "[::ffff:127.0.0.1]:80"));
        assert!(matches("localhost:9000", "127.0.0.1:9000"));
        assert!("127.0.0.1".parse::<NetGrant>().is_err());
        assert!("127.0.0.1:http".parse::<NetGrant>().is_err());
        assert!("10.0.0.0/33:1".parse::<NetGrant>().is_err());
        assert!("*:9-1".parse::<NetGrant>().is_err());
    }

    #[test]
    fn only_the_implicit_bind_is_free() {
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(allows(&[], any, SocketAddrUse::TcpBind));
        assert!(!allows(&[], any, SocketAddrUse::TcpListen));
        let target: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert!(!allows(&[], target, SocketAddrUse::TcpConnect));
        let grant: NetGrant = "127.0.0.1:80".parse().unwrap();
        let grants = [grant.resolve().unwrap()];
        assert!(allows(&grants, target, SocketAddrUse::TcpConnect));
        assert!(!allows(&grants, any, SocketAddrUse::TcpListen));
        let listen: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(!allows(&grants, listen, SocketAddrUse::TcpBind));
    }
}
