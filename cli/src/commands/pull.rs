use std::path::PathBuf;

use serde_json::json;

use crate::commands::registry::RegistryFlags;
use crate::registry;
use crate::{Context, ExitStatus};

/// Pull a component from an OCI registry into wcomp's cache (or a file).
///
/// The artifact must be a Wasm component (config `application/vnd.wasm.config.v0+json`, one
/// `application/wasm` layer); a container image is refused. Its bytes are checked against
/// their digest and kept in wcomp's cache by digest, so the next `wcomp run oci://…` or
/// `wcomp serve oci://…` of the same reference needs no download (and, by digest, no
/// network at all). Prints the pinned reference and where the component is.
///
/// Examples:
///
///   wcomp pull ghcr.io/acme/wordsvc:1.0.0 -o wordsvc.wasm
///
///   wcomp pull localhost:5000/hello:dev --insecure
#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// `<registry>/<repository>:<tag>` or `…@sha256:<digest>` (`oci://` optional).
    pub reference: String,

    /// Also copy the component to this file (`-` for stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub fn run(args: PullArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let stdout_ctx = match &args.output {
        Some(output) => super::binary_stdout(output, ctx)?,
        None => None,
    };
    let to_stdout = stdout_ctx.is_some();
    let ctx = stdout_ctx.as_ref().unwrap_or(ctx);
    let pulled = registry::pull(&args.reference, &args.registry.access()?, &ctx.cache_dir)?;
    if let Some(note) = &pulled.note {
        ctx.printer.warning(note);
    }
    let path = match &args.output {
        Some(_) if to_stdout => {
            ctx.printer
                .write_binary(&fs_err::read(&pulled.path)?)
                .map_err(|err| anyhow::anyhow!("cannot write the component to stdout: {err}"))?;
            pulled.path.clone()
        }
        Some(output) => {
            let output = ctx.path(output);
            crate::fsutil::write(&output, &fs_err::read(&pulled.path)?)?;
            output
        }
        None => pulled.path.clone(),
    };
    if ctx.printer.is_json() {
        ctx.printer.json(json!({
            "reason": "pulled",
            "reference": args.reference,
            "digest": pulled.digest,
            "pinned": pulled.pinned,
            "path": path,
            "from_cache": !pulled.contacted,
        }));
    } else {
        ctx.printer.status(
            "Pulled",
            format_args!(
                "{}{}",
                pulled.pinned,
                if pulled.contacted {
                    ""
                } else {
                    " (from the cache)"
                }
            ),
        );
        if !to_stdout {
            ctx.printer.data(path.display());
        }
    }
    Ok(ExitStatus::Success)
}
