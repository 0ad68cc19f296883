use std::path::PathBuf;

use serde_json::{Value, json};

use crate::commands::registry::RegistryFlags;
use crate::deploy::{self, DeployError, DeployOptions, Platform};
use crate::diagnostic::Report as _;
use crate::printer::{Message, Printer};
use crate::registry;
use crate::{Context, ExitStatus};

/// Write the manifest that runs a published HTTP component on a cluster.
///
/// `--emit wadm` writes a wasmCloud 1 application (`core.oam.dev/v1beta1`, for wadm): the
/// component, scaled to `--replicas`, linked to the HTTP server provider listening on `--port`.
/// `--emit wasmcloud` writes a wasmCloud 2 `WorkloadDeployment`
/// (`runtime.wasmcloud.dev/v1alpha1`, for the runtime operator of wash 2): `--replicas` of the
/// component, served by the host's HTTP server for requests whose `Host` is `--host`.
/// `--emit kubernetes` writes a `RuntimeClass` for runwasi's wasmtime shim, a `Deployment` of
/// the component and a `Service`.
///
/// The image is the reference pinned to its digest: the reference is resolved (and the
/// artifact checked to be a WASI 0.2 HTTP component) first. Objects are named after the
/// repository's last segment, made a DNS-1035 label (`word_svc` becomes `word-svc`), or
/// `--name`; a name that makes no label (`3d-viewer` starts with a digit) is refused. A tag
/// that is a version (`1.2.0`, `v2`) becomes the `app.kubernetes.io/version` label.
///
/// Examples:
///
///   wcomp deploy --emit wadm ghcr.io/acme/wordsvc:1.0.0 > wadm.yaml
///
///   wcomp deploy --emit wasmcloud ghcr.io/acme/wordsvc:1.0.0 --host words.example.com
///
///   wcomp deploy --emit kubernetes ghcr.io/acme/wordsvc:1.0.0 --replicas 3 -o k8s.yaml
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// What to write.
    #[arg(long, value_enum)]
    pub emit: EmitArg,

    /// The published component: `<registry>/<repository>:<tag>` or `…@sha256:<digest>`.
    pub reference: String,

    /// The name of the objects written, made a DNS-1035 label [default: the repository's
    /// last segment].
    #[arg(long)]
    pub name: Option<String>,

    /// How many instances to run.
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,

    /// The port the HTTP server listens on (wadm, kubernetes; a wasmCloud 2 host listens
    /// where its host group says).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// The HTTP `Host` a wasmCloud 2 host routes to the component (wasmcloud only)
    /// [default: the name].
    #[arg(long, value_name = "HOSTNAME")]
    pub host: Option<String>,

    /// Write to this file instead of stdout (`-` is stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// Deployment targets.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EmitArg {
    /// A wasmCloud 1 application manifest (wadm).
    Wadm,
    /// A wasmCloud 2 WorkloadDeployment (the runtime operator, wash 2).
    #[value(name = "wasmcloud")]
    WasmCloud,
    /// A Kubernetes RuntimeClass, Deployment and Service (runwasi's wasmtime shim).
    Kubernetes,
}

pub fn run(args: DeployArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let platform = match args.emit {
        EmitArg::Wadm => Platform::Wadm,
        EmitArg::WasmCloud => Platform::WasmCloud,
        EmitArg::Kubernetes => Platform::Kubernetes,
    };
    if args.host.is_some() && platform != Platform::WasmCloud {
        return Err(DeployError::HostWithoutWasmCloud.report());
    }
    let name = deploy::deployment_name(args.name.as_deref(), &args.reference)?;
    let pulled = registry::pull(
        &args.reference,
        &args.registry.access_in(ctx)?,
        &ctx.cache_dir,
    )?;
    let bytes = fs_err::read(&pulled.path)?;
    deploy::require_http(&args.reference, &bytes)?;
    let options = DeployOptions {
        name,
        image: pulled.pinned.clone(),
        replicas: args.replicas,
        port: args.port,
        http_host: args.host,
        // The version recorded at publish, else the one the tag names.
        version: pulled
            .version
            .clone()
            .filter(|version| deploy::is_label_value(version))
            .or_else(|| deploy::tag_version(&args.reference)),
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
