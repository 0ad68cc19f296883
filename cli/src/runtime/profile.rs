//! A run profile: the `[run]` table of `wcomp.toml` turned into sandbox grants and limit
//! overrides, with every bad value reported at its place in the manifest. Command-line flags
//! are applied on top by the caller.

use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::config::{ConfigValue, StateError};
use super::keyvalue::KvGrant;
use super::limits::Limits;
use super::nn::NnGrant;
use super::sandbox::{DirGrant, EnvGrant, NetGrant, Sandbox};
use crate::manifest::{ConfigEntry, Manifest, ManifestError};

/// Grants and limits from a manifest.
#[derive(Debug, Clone, Default)]
pub struct RunProfile {
    pub sandbox: Sandbox,
    /// `Some(None)` is `timeout = "none"`.
    pub timeout: Option<Option<Duration>>,
    pub fuel: Option<u64>,
    pub max_memory: Option<u64>,
}

impl RunProfile {
    /// Reads `manifest`'s `[run]` table; relative directories are taken from the manifest's
    /// directory.
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, ManifestError> {
        let table = &manifest.run;
        let base = manifest.path.parent().unwrap_or(Path::new("."));
        let mut sandbox = Sandbox::default();
        for text in &table.dirs {
            let grant: DirGrant = parse(manifest, text, "directory grant")?;
            sandbox.dirs.push(grant.relative_to(base));
        }
        for text in &table.env {
            sandbox
                .env
                .push(parse::<EnvGrant>(manifest, text, "environment grant")?);
        }
        for text in &table.allow_net {
            sandbox
                .net
                .push(parse::<NetGrant>(manifest, text, "network grant")?);
        }
        let state = state_grants(manifest, &table.keyvalue, table.state_dir.as_ref())?;
        sandbox.keyvalue = state.keyvalue;
        member_grants(manifest, base, &mut sandbox)?;
        for (name, model) in &table.nn {
            let grant = format!("{name}={}", model.get_ref())
                .parse::<NnGrant>()
                .map_err(|err| {
                    let help = miette::Diagnostic::help(&err).map(|help| help.to_string());
                    manifest.error(model.span(), err.to_string(), "invalid model grant", help)
                })?;
            sandbox.nn.push(grant.relative_to(base));
        }
        sandbox.allow_nn_load = table.allow_nn_load;
        sandbox.state_dir = Some(
            state
                .state_dir
                .unwrap_or_else(|| super::keyvalue::default_state_dir(base)),
        );
        for (key, entry) in &manifest.config {
            let (value, secret) = match entry.get_ref() {
                ConfigEntry::Plain(value) => (value.as_str(), false),
                ConfigEntry::Table { value, secret } => (value.as_str(), *secret),
            };
            let value = ConfigValue::new(key, value, secret).map_err(|err| {
                manifest.error(
                    entry.span(),
                    err.to_string(),
                    "invalid configuration value",
                    None,
                )
            })?;
            sandbox.config.push(value);
        }
        let timeout = parse_with(manifest, &table.timeout, crate::units::parse_timeout)?;
        let max_memory = parse_with(manifest, &table.max_memory, crate::units::parse_size)?;
        Ok(Self {
            sandbox,
            timeout,
            fuel: table.fuel.as_ref().map(|fuel| *fuel.get_ref()),
            max_memory,
        })
    }

    /// `over` on top of this profile: its grants added (an environment variable it sets
    /// replacing this one's), its limits where it sets them. Command-line flags parsed into a
    /// profile go on top of the manifest's this way.
    pub fn overlay(mut self, over: RunProfile) -> RunProfile {
        self.sandbox.merge(over.sandbox);
        RunProfile {
            sandbox: self.sandbox,
            timeout: over.timeout.or(self.timeout),
            fuel: over.fuel.or(self.fuel),
            max_memory: over.max_memory.or(self.max_memory),
        }
    }

    /// The sandbox and the limits (on top of the defaults) this profile describes.
    pub fn resolve(self) -> (Sandbox, Limits) {
        let limits = self.limits(Limits::default());
        (self.sandbox, limits)
    }

    /// These limits on top of `base`.
    pub fn limits(&self, base: Limits) -> Limits {
        Limits {
            timeout: self.timeout.unwrap_or(base.timeout),
            fuel: self.fuel.or(base.fuel),
            max_memory: self.max_memory.unwrap_or(base.max_memory),
        }
    }
}

/// What the components of a workspace are allowed with a scope (`env:HOME`, `fs:data`,
/// `net:127.0.0.1:6379`, `kv:cache`): the composition is granted it, and only those
/// components reach it (the others' imports are denied inside the composition). A bucket not
/// in `[run.keyvalue]` is kept in the embedded store.
fn member_grants(
    manifest: &Manifest,
    base: &Path,
    sandbox: &mut Sandbox,
) -> Result<(), ManifestError> {
    let spanned =
        |(scope, span): (&str, std::ops::Range<usize>)| Spanned::new(span, scope.to_owned());
    for entry in manifest.components.values() {
        let entry = entry.get_ref();
        for text in entry.scoped("env").map(spanned) {
            let grant = parse::<EnvGrant>(manifest, &text, "environment grant")?;
            sandbox.env.push(grant);
        }
        for text in entry.scoped("fs").map(spanned) {
            let grant: DirGrant = parse(manifest, &text, "directory grant")?;
            sandbox.dirs.push(grant.relative_to(base));
        }
        for text in entry.scoped("net").map(spanned) {
            sandbox
                .net
                .push(parse::<NetGrant>(manifest, &text, "network grant")?);
        }
        for (bucket, span) in entry.scoped("kv") {
            if sandbox.keyvalue.iter().any(|grant| grant.bucket == bucket) {
                continue;
            }
            let grant = KvGrant::new(bucket, "embedded").map_err(|err: StateError| {
                manifest.error(span, err.to_string(), "invalid keyvalue grant", None)
            })?;
            sandbox.keyvalue.push(grant);
        }
    }
    Ok(())
}

/// The keyvalue grants of a `keyvalue` table (`[run.keyvalue]`, `[serve.keyvalue]`) and a
/// `state-dir` (relative to the manifest), each bad value located; nothing else set.
pub fn state_grants(
    manifest: &Manifest,
    keyvalue: &std::collections::BTreeMap<String, Spanned<String>>,
    state_dir: Option<&Spanned<String>>,
) -> Result<Sandbox, ManifestError> {
    let base = manifest.path.parent().unwrap_or(Path::new("."));
    let mut sandbox = Sandbox::default();
    for (bucket, backend) in keyvalue {
        let grant = KvGrant::new(bucket, backend.get_ref()).map_err(|err: StateError| {
            let help = miette::Diagnostic::help(&err).map(|help| help.to_string());
            manifest.error(
                backend.span(),
                err.to_string(),
                "invalid keyvalue grant",
                help,
            )
        })?;
        sandbox.keyvalue.push(grant);
    }
    sandbox.state_dir = state_dir.map(|dir| base.join(dir.get_ref()));
    Ok(sandbox)
}

pub fn parse<T>(manifest: &Manifest, text: &Spanned<String>, what: &str) -> Result<T, ManifestError>
where
    T: std::str::FromStr,
    T::Err: miette::Diagnostic,
{
    text.get_ref().parse::<T>().map_err(|err| {
        let help = miette::Diagnostic::help(&err).map(|help| help.to_string());
        manifest.error(
            text.span(),
            err.to_string(),
            format!("invalid {what}"),
            help,
        )
    })
}

/// An optional manifest value read with `parse` (a duration, a size), its error located.
pub fn parse_with<T>(
    manifest: &Manifest,
    text: &Option<Spanned<String>>,
    parse: impl Fn(&str) -> Result<T, crate::units::UnitError>,
) -> Result<Option<T>, ManifestError> {
    text.as_ref()
        .map(|text| parse(text.get_ref()).map_err(|err| located(manifest, text, &err)))
        .transpose()
}

pub fn located(
    manifest: &Manifest,
    text: &Spanned<String>,
    err: &crate::units::UnitError,
) -> ManifestError {
    let help = miette::Diagnostic::help(err).map(|help| help.to_string());
    manifest.error(text.span(), err.to_string(), "here", help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Result<RunProfile, ManifestError> {
        let manifest = Manifest::parse(Path::new("/project/wcomp.toml"), text.to_owned())?;
        RunProfile::from_manifest(&manifest)
    }

    #[test]
    fn reads_grants_and_limits() {
        let profile = profile(
            "[run]\ndirs = [\"data::/data\", \"/abs:rw\"]\nenv = [\"MODE=fast\"]\nallow-net = [\"*:443\"]\ntimeout = \"none\"\nfuel = 1000\nmax-memory = \"64MiB\"\n",
        )
        .unwrap();
        assert_eq!(profile.sandbox.dirs[0].host, Path::new("/project/data"));
        assert_eq!(profile.sandbox.dirs[0].guest, "/data");
        assert!(profile.sandbox.dirs[1].writable);
        assert_eq!(profile.sandbox.env[0].key, "MODE");
        assert_eq!(profile.sandbox.net.len(), 1);
        let limits = profile.limits(Limits::default());
        assert_eq!(limits.timeout, None);
        assert_eq!(limits.fuel, Some(1000));
        assert_eq!(limits.max_memory, 64 << 20);
    }

    /// Limited `allow` entries of a workspace's components are granted to the run; a bucket
    /// `[run.keyvalue]` already names keeps its backend.
    #[test]
    fn grants_what_components_are_allowed_with_a_scope() {
        let read = profile(
            "[workspace]\nname = \"w\"\n[component.a]\nlang = \"go\"\nallow = [\"env:HOME\", \"fs:data\", \"kv:cache\", \"kv:store\", \"net:127.0.0.1:6379\", \"config\"]\n[component.b]\nlang = \"rust\"\n[run.keyvalue]\nstore = \"memory\"\n",
        )
        .unwrap();
        let sandbox = &read.sandbox;
        assert_eq!(
            (sandbox.env[0].key.as_str(), &sandbox.env[0].value),
            ("HOME", &None)
        );
        assert_eq!(sandbox.dirs[0].host, Path::new("/project/data"));
        assert_eq!(sandbox.dirs[0].guest, "data");
        assert_eq!(sandbox.net.len(), 1);
        let buckets: Vec<String> = sandbox
            .keyvalue
            .iter()
            .map(|grant| format!("{}={:?}", grant.bucket, grant.backend))
            .collect();
        assert_eq!(buckets.len(), 2, "{buckets:?}");
        assert!(
            buckets[0].starts_with("store=") && buckets[0].contains("Memory"),
            "{buckets:?}"
        );
        assert!(
            buckets[1].starts_with("cache=") && buckets[1].contains("Embedded"),
            "{buckets:?}"
        );

        let err = profile("[workspace]\nname = \"w\"\n[component.a]\nlang = \"go\"\nallow = [\"fs:\", \"env:=x\"]\n")
            .unwrap_err();
        assert!(err.message.contains("environment grant"), "{}", err.message);
    }

    #[test]
    fn reads_keyvalue_state_and_config() {
        let read = profile(
            "[run]\nstate-dir = \"data/state\"\n[run.keyvalue]\ndefault = \"embedded\"\ncache = \"redis://127.0.0.1:6379/0\"\n\n[config]\ngreeting = \"hi\"\ntoken = { value = \"s3cret\", secret = true }\n",
        )
        .unwrap();
        let sandbox = &read.sandbox;
        assert_eq!(sandbox.keyvalue.len(), 2);
        assert_eq!(
            sandbox.state_dir.as_deref(),
            Some(Path::new("/project/data/state"))
        );
        assert_eq!(sandbox.config.len(), 2);
        assert!(sandbox.config.iter().any(|v| v.key == "token" && v.secret));
        assert!(!sandbox.describe().join("\n").contains("s3cret"));
        let unset = profile("[run]\n").unwrap();
        assert_eq!(
            unset.sandbox.state_dir.as_deref(),
            Some(Path::new("/project/.wcomp/state"))
        );
        let err = profile("[run.keyvalue]\ncache = \"mysql://x\"\n").unwrap_err();
        assert!(
            err.message.contains("not a keyvalue backend"),
            "{}",
            err.message
        );
        assert_eq!(err.span.offset(), "[run.keyvalue]\ncache = ".len());
    }

    #[test]
    fn bad_values_point_at_the_manifest() {
        let err = profile("[run]\ntimeout = \"soon\"\n").unwrap_err();
        assert!(
            err.message.contains("invalid duration `soon`"),
            "{}",
            err.message
        );
        assert_eq!(err.span.offset(), "[run]\ntimeout = ".len());
        let err = profile("[run]\nallow-net = [\"example.com\"]\n").unwrap_err();
        assert!(err.message.contains("missing `:<port>`"), "{}", err.message);
        let err = profile("[run]\ntimeuot = \"1s\"\n").unwrap_err();
        assert!(
            err.message.contains("unknown field `timeuot`"),
            "{}",
            err.message
        );
    }
}
