//! Flags and helpers shared by the commands that reach OCI registries (`publish`, `pull`, and
//! `run`/`serve`/`compose` given an `oci://` reference).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::Context;
use crate::diagnostic::ReportResult as _;
use crate::registry::{self, Access, Credentials, Notes, Timeouts};

/// How to reach a registry.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryFlags {
    /// Log in with this user name (the password is read from stdin with `--password-stdin`);
    /// without it, the Docker config and its credential helpers are used.
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,

    /// Read the registry password (or token) from stdin.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,

    /// Use plain HTTP: for registries on this machine (`localhost`, `127.0.0.1`).
    #[arg(long)]
    pub insecure: bool,

    /// Use plain HTTP even to a registry on another machine.
    #[arg(long)]
    pub insecure_remote: bool,

    /// Never contact a registry: components come from wcomp's cache or not at all.
    #[arg(long)]
    pub offline: bool,

    /// How long a registry may go without sending anything, once connected, before wcomp
    /// gives up on it (a tag then falls back to its last known digest) [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub registry_timeout: Option<String>,

    /// How long a registry may take to accept a connection [default: 10s].
    #[arg(long, value_name = "DURATION")]
    pub registry_connect_timeout: Option<String>,
}

impl RegistryFlags {
    /// [`RegistryFlags::access`], with retries told under `-v`.
    pub fn access_in(&self, ctx: &Context) -> anyhow::Result<Access> {
        let printer = ctx.printer.clone();
        Ok(Access {
            notes: Notes::new(move |line| printer.verbose(line)),
            ..self.access()?
        })
    }

    /// The access these flags describe; reads the password from stdin when asked to.
    pub fn access(&self) -> anyhow::Result<Access> {
        let credentials = match &self.username {
            Some(username) => {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .context("cannot read the password from stdin")?;
                Credentials::Basic {
                    username: username.clone(),
                    password: password.trim_end_matches(['\n', '\r']).into(),
                }
            }
            None => Credentials::DockerConfig,
        };
        let defaults = Timeouts::default();
        let duration = |text: &Option<String>, default| {
            text.as_deref()
                .map(crate::units::parse_duration)
                .transpose()
                .map(|duration| duration.unwrap_or(default))
                .report_err()
        };
        Ok(Access {
            credentials,
            insecure: self.insecure,
            insecure_remote: self.insecure_remote,
            offline: self.offline,
            timeouts: Timeouts {
                connect: duration(&self.registry_connect_timeout, defaults.connect)?,
                read: duration(&self.registry_timeout, defaults.read)?,
            },
            notes: Notes::default(),
        })
    }
}

/// `path` as given, or, for `oci://<reference>`, the pulled component in the cache.
pub fn component_path(path: &Path, access: &Access, ctx: &Context) -> anyhow::Result<PathBuf> {
    let Some(reference) = path.to_str().and_then(registry::strip_scheme) else {
        return Ok(ctx.path(path));
    };
    let pulled = registry::pull(reference, access, &ctx.cache_dir)?;
    if let Some(note) = &pulled.note {
        ctx.printer.warning(note);
    }
    ctx.printer.verbose(format_args!(
        "`{reference}` is {}{}",
        pulled.pinned,
        if pulled.contacted {
            ""
        } else {
            " (from the cache)"
        }
    ));
    Ok(pulled.path)
}
