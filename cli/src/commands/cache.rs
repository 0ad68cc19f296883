use serde_json::json;

use crate::runtime::cache;
use crate::{Context, ExitStatus};

/// Manage wcomp's cache of compiled code.
///
/// `wcomp run` and `wcomp bench` keep the machine code of each component they compile,
/// keyed by the component's hash, the wasmtime version and the engine settings, so the next
/// run skips compilation. The cache lives in the user's cache directory (override it with
/// `WCOMP_CACHE_DIR`); unusable entries are rebuilt automatically.
///
/// Examples:
///
///   wcomp cache clean
///
///   wcomp cache dir
#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum CacheAction {
    /// Delete all cached compiled code.
    Clean,
    /// Print the directory holding cached compiled code.
    Dir,
}

pub fn run(args: CacheArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let dir = cache::compiled_dir(&ctx.cache_dir);
    match args.action {
        CacheAction::Clean => {
            let cleaned = cache::clean(&dir)?;
            if ctx.printer.is_json() {
                ctx.printer.json(json!({"reason": "cache-cleaned", "dir": dir, "entries": cleaned.files, "bytes": cleaned.bytes}));
            } else {
                ctx.printer.status(
                    "Removed",
                    format_args!(
                        "{} cached entr{} ({}) from `{}`",
                        cleaned.files,
                        if cleaned.files == 1 { "y" } else { "ies" },
                        crate::units::format_size(cleaned.bytes),
                        dir.display()
                    ),
                );
            }
        }
        CacheAction::Dir => {
            if ctx.printer.is_json() {
                ctx.printer.json(json!({"reason": "cache-dir", "dir": dir}));
            } else {
                ctx.printer.data(dir.display());
            }
        }
    }
    Ok(ExitStatus::Success)
}
