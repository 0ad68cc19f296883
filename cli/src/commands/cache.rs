use anyhow::Context as _;
use serde_json::{Value, json};

use crate::printer::{Message, Printer};
use crate::runtime::cache;
use crate::{Context, ExitStatus};

/// Manage wcomp's cache of compiled code.
///
/// `wcomp run` and `wcomp bench` keep the machine code of each component they compile,
/// keyed by the component's hash, the wasmtime version and the engine settings, so the next
/// run skips compilation. The cache lives in the user's cache directory (override it with
/// `WCOMP_CACHE_DIR`); unusable entries are rebuilt automatically. It keeps at most 2 GiB,
/// removing the entries used longest ago when a run adds one (`WCOMP_CACHE_MAX_SIZE=10GiB` for
/// another bound, `none` for none).
///
/// Examples:
///
///   wcomp cache clean
///
///   wcomp cache trim --max-size 500MiB
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
    /// Delete the entries used longest ago until the cache fits its bound.
    Trim {
        /// The bound (`500MiB`, `2GiB`); default: `WCOMP_CACHE_MAX_SIZE`, else 2 GiB.
        #[arg(long, value_name = "SIZE", value_parser = parse_bound)]
        max_size: Option<u64>,
    },
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
        CacheAction::Trim { max_size } => {
            let max_size = match max_size {
                Some(max_size) => max_size,
                // Validated before any command runs.
                None => cache::max_size()?.unwrap_or(u64::MAX),
            };
            let trimmed = match cache::trim(&dir, max_size, None) {
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => cache::Trimmed::default(),
                trimmed => trimmed
                    .with_context(|| format!("cannot trim the cache at `{}`", dir.display()))?,
            };
            ctx.printer.emit(&CacheTrimmed {
                dir: &dir,
                max_size,
                trimmed,
            });
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
        printer.status(
            "Removed",
            format_args!(
                "{} ({}) from `{}`",
                cached_entries(self.cleaned.files),
                crate::units::format_size(self.cleaned.bytes),
                self.dir.display()
            ),
        );
    }
}

/// `1 cached entry`, `2 cached entries`.
fn cached_entries(count: u64) -> String {
    format!(
        "{count} cached entr{}",
        if count == 1 { "y" } else { "ies" }
    )
}

/// `--max-size`: a size, not `none` (an explicit trim needs a bound).
fn parse_bound(text: &str) -> Result<u64, String> {
    crate::units::parse_size(text)
        .map_err(|err| format!("{err}: write a size with a unit, such as `500MiB` or `2GiB`"))
}

/// Compiled code removed to fit the bound.
struct CacheTrimmed<'a> {
    dir: &'a std::path::Path,
    max_size: u64,
    trimmed: cache::Trimmed,
}

impl Message for CacheTrimmed<'_> {
    fn to_json(&self) -> Value {
        let t = self.trimmed;
        json!({
            "reason": "cache-trimmed", "dir": self.dir,
            "max_size": (self.max_size != u64::MAX).then_some(self.max_size),
            "entries": t.files, "bytes": t.bytes,
            "kept_entries": t.kept_files, "kept_bytes": t.kept_bytes,
        })
    }

    fn show(&self, printer: &Printer) {
        let t = self.trimmed;
        printer.status(
            "Trimmed",
            format_args!(
                "{} ({}) from `{}`; {} ({}) kept",
                cached_entries(t.files),
                crate::units::format_size(t.bytes),
                self.dir.display(),
                cached_entries(t.kept_files),
                crate::units::format_size(t.kept_bytes),
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
