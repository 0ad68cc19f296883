//! What each member of a composition may use of WASI: `[component.<name>] allow = [...]`.
//!
//! Under a policy, a member gets the clocks, random numbers, standard streams and the types
//! that other interfaces hand out (`wasi:io`, `wasi:filesystem/types`, `wasi:http/types`,
//! the socket types) from the host, and every other WASI interface only if one of its
//! `allow` entries names it. What it may not use is plugged with a deny component
//! ([`super::deny`]) inside the composition, so the host's grants reach only the members
//! allowed them.

use std::collections::BTreeSet;

/// A kind of capability, as `allow` names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `wasi:cli/environment`: variables, arguments, the initial directory.
    Env,
    /// `wasi:filesystem/preopens`: the directories granted.
    Fs,
    /// `wasi:http/outgoing-handler` (and WASI 0.3's `wasi:http/client`): outgoing requests.
    Http,
    /// `wasi:sockets`' network, name lookup and socket creation.
    Net,
    /// `wasi:keyvalue`: buckets.
    Kv,
    /// `wasi:config`: configuration values.
    Config,
    /// `wasi:nn`: inference.
    Nn,
    /// Any other WASI interface, named in full without its version (`wasi:logging/logging`).
    Interface(String),
}

impl Kind {
    /// The word `allow` uses for it.
    pub fn word(&self) -> &str {
        match self {
            Self::Env => "env",
            Self::Fs => "fs",
            Self::Http => "http",
            Self::Net => "net",
            Self::Kv => "kv",
            Self::Config => "config",
            Self::Nn => "nn",
            Self::Interface(name) => name,
        }
    }

    /// Whether a grant of this kind may name what it is limited to (`fs:data`).
    fn takes_scope(&self) -> bool {
        matches!(
            self,
            Self::Env | Self::Fs | Self::Http | Self::Net | Self::Kv
        )
    }
}

/// Packages every member gets from the host whole: time, randomness and streams.
const BASELINE_PACKAGES: &[&str] = &["wasi:io", "wasi:clocks", "wasi:random"];

/// Interfaces every member gets from the host, unversioned: its standard streams, terminal
/// and exit, and interfaces of types only (their resources are reached through the
/// capability interfaces).
const BASELINE: &[&str] = &[
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/exit",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:cli/types",
    "wasi:filesystem/types",
    "wasi:http/types",
    "wasi:sockets/network",
    "wasi:sockets/tcp",
    "wasi:sockets/udp",
];

/// The kind guarding the WASI import `import` (`wasi:cli/environment@0.2.3`); `None` for the
/// baseline every member gets, and for imports that are not WASI.
pub fn kind_of(import: &str) -> Option<Kind> {
    let name = import.split_once('@').map_or(import, |(name, _)| name);
    let (package, _) = name.split_once('/')?;
    if !name.starts_with("wasi:")
        || BASELINE_PACKAGES.contains(&package)
        || BASELINE.contains(&name)
    {
        return None;
    }
    Some(match (package, name) {
        (_, "wasi:cli/environment") => Kind::Env,
        (_, "wasi:filesystem/preopens") => Kind::Fs,
        (_, "wasi:http/outgoing-handler" | "wasi:http/client") => Kind::Http,
        (
            _,
            "wasi:sockets/instance-network"
            | "wasi:sockets/ip-name-lookup"
            | "wasi:sockets/tcp-create-socket"
            | "wasi:sockets/udp-create-socket",
        ) => Kind::Net,
        ("wasi:keyvalue", _) => Kind::Kv,
        ("wasi:config", _) => Kind::Config,
        ("wasi:nn", _) => Kind::Nn,
        _ => Kind::Interface(name.to_owned()),
    })
}

/// One `allow` entry: a kind, and what it is limited to (`data` of `fs:data`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Grant {
    pub kind: Kind,
    pub scope: Option<String>,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.scope {
            Some(scope) => write!(f, "{}:{scope}", self.kind.word()),
            None => f.write_str(self.kind.word()),
        }
    }
}

impl std::str::FromStr for Grant {
    type Err = String;

    /// `env`, `env:HOME`, `fs`, `fs:data`, `http:api.example.com`, `net:127.0.0.1:6379`,
    /// `kv:cache`, `config`, `nn`, or a WASI interface (`wasi:logging/logging`).
    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let entry = entry.trim();
        if entry.starts_with("wasi:") {
            return match kind_of(entry) {
                _ if entry.contains('@') => Err(format!(
                    "`{entry}`: name the interface without its version, as `{}`",
                    entry.split_once('@').map_or(entry, |(name, _)| name)
                )),
                None if entry.contains('/') => Err(format!(
                    "`{entry}` is given to every component already (clocks, random numbers, standard streams and interfaces of types need no grant)"
                )),
                None => Err(format!(
                    "`{entry}` is not a WASI interface name: write `wasi:<package>/<interface>`"
                )),
                Some(kind) => Ok(Self { kind, scope: None }),
            };
        }
        let (word, scope) = match entry.split_once(':') {
            Some((word, scope)) => (word, Some(scope)),
            None => (entry, None),
        };
        let kind = match word {
            "env" => Kind::Env,
            "fs" => Kind::Fs,
            "http" => Kind::Http,
            "net" => Kind::Net,
            "kv" => Kind::Kv,
            "config" => Kind::Config,
            "nn" => Kind::Nn,
            _ => {
                return Err(format!(
                    "`{entry}` is not a capability: use `env`, `fs`, `http`, `net`, `kv`, `config`, `nn` (optionally limited, as `env:HOME`, `fs:data`, `http:api.example.com`, `net:127.0.0.1:6379`, `kv:cache`), or a WASI interface such as `wasi:logging/logging`"
                ));
            }
        };
        match scope {
            Some("") => Err(format!(
                "`{entry}` names nothing after `:`: write `{word}` for all of it, or `{word}:<what>`"
            )),
            Some(_) if !kind.takes_scope() => {
                Err(format!("`{word}` cannot be limited: write `{word}` alone"))
            }
            scope => Ok(Self {
                kind,
                scope: scope.map(str::to_owned),
            }),
        }
    }
}

/// A member's grants: what its `allow` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub grants: BTreeSet<Grant>,
}

impl Grants {
    /// Parses `allow` entries; the error names the first bad one.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let grants = entries
            .into_iter()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self { grants })
    }

    /// Whether the member may import `import` from the host.
    pub fn allows(&self, import: &str) -> bool {
        kind_of(import).is_none_or(|kind| self.grants.iter().any(|grant| grant.kind == kind))
    }

    /// The scopes granted of `kind`: `None` when some grant of it has no scope (all of it).
    pub fn scopes(&self, kind: &Kind) -> Option<BTreeSet<&str>> {
        let mut scopes = BTreeSet::new();
        for grant in self.grants.iter().filter(|grant| grant.kind == *kind) {
            scopes.insert(grant.scope.as_deref()?);
        }
        Some(scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_sorted_into_the_baseline_and_kinds() {
        for baseline in [
            "wasi:io/streams@0.2.12",
            "wasi:clocks/monotonic-clock@0.2.0",
            "wasi:cli/stdout@0.2.3",
            "wasi:cli/terminal-stdout@0.2.3",
            "wasi:filesystem/types@0.2.0",
            "wasi:http/types@0.2.0",
            "test:calc/ops",
        ] {
            assert_eq!(kind_of(baseline), None, "{baseline}");
        }
        assert_eq!(kind_of("wasi:cli/environment@0.2.3"), Some(Kind::Env));
        assert_eq!(kind_of("wasi:filesystem/preopens@0.2.0"), Some(Kind::Fs));
        assert_eq!(
            kind_of("wasi:http/outgoing-handler@0.2.0"),
            Some(Kind::Http)
        );
        assert_eq!(kind_of("wasi:keyvalue/atomics@0.2.0-draft"), Some(Kind::Kv));
        assert_eq!(
            kind_of("wasi:sockets/tcp-create-socket@0.2.3"),
            Some(Kind::Net)
        );
        assert_eq!(
            kind_of("wasi:logging/logging"),
            Some(Kind::Interface("wasi:logging/logging".into()))
        );
    }

    #[test]
    fn entries_parse_or_say_what_to_write() {
        let grants = Grants::parse(["env:HOME", "fs", "http:api.example.com"]).unwrap();
        assert!(grants.allows("wasi:cli/environment@0.2.3"));
        assert!(grants.allows("wasi:filesystem/preopens@0.2.3"));
        assert!(!grants.allows("wasi:keyvalue/store@0.2.0-draft"));
        assert!(grants.allows("wasi:clocks/wall-clock@0.2.3"));
        assert_eq!(grants.scopes(&Kind::Env), Some(BTreeSet::from(["HOME"])));
        assert_eq!(grants.scopes(&Kind::Fs), None);
        assert!(
            Grants::parse(["wasi:logging/logging"])
                .unwrap()
                .allows("wasi:logging/logging")
        );
        for (bad, says) in [
            ("files", "not a capability"),
            ("fs:", "names nothing"),
            ("config:x", "cannot be limited"),
            ("wasi:logging/logging@0.1.0", "without its version"),
            ("wasi:clocks/wall-clock", "every component already"),
        ] {
            let err = Grants::parse([bad]).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
