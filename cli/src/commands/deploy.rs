use std::path::PathBuf;

use serde_json::{Value, json};

use crate::commands::registry::RegistryFlags;
use crate::deploy::{self, DeployOptions, Platform};
use crate::printer::{Message, Printer};
use crate::registry;
use crate::{Context, ExitStatus};

/// Write the manifest that runs a published HTTP component on a cluster.
///
/// `--emit wadm` writes a wasmCloud application (`core.oam.dev/v1beta1`): the component,
/// scaled to `--replicas`, linked to the HTTP server provider listening on `--port`.
/// `--emit kubernetes` writes a `RuntimeClass` for runwasi's wasmtime shim, a `Deployment`
/// of the component and a `Service`. Either way the image is the reference pinned to its
/// digest: the reference is resolved (and the artifact checked to be an HTTP component) first.
///
/// Examples:
///
///   wcomp deploy --emit wadm ghcr.io/acme/wordsvc:1.0.0 > wadm.yaml
///
///   wcomp deploy --emit kubernetes ghcr.io/acme/wordsvc:1.0.0 --replicas 3 -o k8s.yaml
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// What to write.
    #[arg(long, value_enum)]
    pub emit: EmitArg,

    /// The published component: `<registry>/<repository>:<tag>` or `…@sha256:<digest>`.
    pub reference: String,

    /// The application's name [default: the repository's last segment].
    #[arg(long)]
    pub name: Option<String>,

    /// How many instances to run.
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,

    /// The port the HTTP server listens on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Write to this file instead of stdout (`-` is stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// Deployment targets.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EmitArg {
    /// A wasmCloud application manifest.
    Wadm,
    /// A Kubernetes RuntimeClass, Deployment and Service (runwasi's wasmtime shim).
    Kubernetes,
}

pub fn run(args: DeployArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let pulled = registry::pull(&args.reference, &args.registry.access()?, &ctx.cache_dir)?;
    let bytes = fs_err::read(&pulled.path)?;
    deploy::require_http(&args.reference, &bytes)?;
    let repository = pulled
        .pinned
        .split('@')
        .next()
        .and_then(|path| path.rsplit('/').next())
        .unwrap_or("component");
    let options = DeployOptions {
        name: deploy::dns_label(args.name.as_deref().unwrap_or(repository)),
        image: pulled.pinned.clone(),
        replicas: args.replicas,
        port: args.port,
        version: None,
    };
    let platform = match args.emit {
        EmitArg::Wadm => Platform::Wadm,
        EmitArg::Kubernetes => Platform::Kubernetes,
    };
    let yaml = deploy::manifest(platform, &options);
    match args.output.as_ref().filter(|path| path.as_os_str() != "-") {
        Some(path) => {
            crate::fsutil::write(&ctx.path(path), yaml.as_bytes())?;
            ctx.printer.emit(&ManifestWritten {
                path: &ctx.path(path),
                shown: path,
                image: &options.image,
            });
        }
        None => ctx.printer.data(yaml.trim_end()),
    }
    Ok(ExitStatus::Success)
}

/// A deployment manifest written to a file.
struct ManifestWritten<'a> {
    path: &'a std::path::Path,
    /// The file as the user named it.
    shown: &'a std::path::Path,
    image: &'a str,
}

impl Message for ManifestWritten<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "manifest-written", "path": self.path, "image": self.image})
    }

    fn show(&self, printer: &Printer) {
        printer.status(
            "Wrote",
            format_args!("`{}` for {}", self.shown.display(), self.image),
        );
    }
}
