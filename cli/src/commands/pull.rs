use std::path::PathBuf;

use serde_json::{Value, json};

use crate::printer::{Message, Printer};

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
    let pulled = registry::pull(
        &args.reference,
        &args.registry.access_in(ctx)?,
        &ctx.cache_dir,
    )?;
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
    ctx.printer.emit(&PulledMessage {
        reference: &args.reference,
        pulled: &pulled,
        path: &path,
        // With the component on stdout, its path in the cache is not data.
        show_path: !to_stdout,
    });
    Ok(ExitStatus::Success)
}

/// A component pulled (or found in the cache), and where it is.
struct PulledMessage<'a> {
    reference: &'a str,
    pulled: &'a registry::Pulled,
    path: &'a std::path::Path,
    show_path: bool,
}

impl Message for PulledMessage<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": "pulled",
            "reference": self.reference,
            "digest": self.pulled.digest,
            "pinned": self.pulled.pinned,
            "path": self.path,
            "from_cache": !self.pulled.contacted,
        })
    }

    fn show(&self, printer: &Printer) {
        let from = if self.pulled.contacted {
            ""
        } else {
            " (from the cache)"
        };
        printer.status("Pulled", format_args!("{}{from}", self.pulled.pinned));
        if self.show_path {
            printer.data(self.path.display());
        }
    }
}
