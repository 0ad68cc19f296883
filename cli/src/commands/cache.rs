use serde_json::{Value, json};

use crate::printer::{Message, Printer};
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
            ctx.printer.emit(&CacheCleaned { dir: &dir, cleaned });
        }
        CacheAction::Dir => {
            ctx.printer.emit(&CacheDir(&dir));
        }
    }
    Ok(ExitStatus::Success)
}

/// Compiled code removed from the cache.
struct CacheCleaned<'a> {
    dir: &'a std::path::Path,
    cleaned: cache::Cleaned,
}

impl Message for CacheCleaned<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "cache-cleaned", "dir": self.dir, "entries": self.cleaned.files, "bytes": self.cleaned.bytes})
    }

    fn show(&self, printer: &Printer) {
        let files = self.cleaned.files;
        printer.status(
            "Removed",
            format_args!(
                "{files} cached entr{} ({}) from `{}`",
                if files == 1 { "y" } else { "ies" },
                crate::units::format_size(self.cleaned.bytes),
                self.dir.display()
            ),
        );
    }
}

/// Where the compiled-code cache is.
struct CacheDir<'a>(&'a std::path::Path);

impl Message for CacheDir<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "cache-dir", "dir": self.0})
    }

    fn show(&self, printer: &Printer) {
        printer.data(self.0.display());
    }
}
