//! [`Context`]: what every operation may need from its surroundings (printer, working
//! directory, cache location), passed by reference instead of long parameter lists.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::printer::Printer;

/// Shared state of one wcomp invocation.
#[derive(Debug, Clone)]
pub struct Context {
    pub printer: Printer,
    pub cwd: PathBuf,
    /// Root of wcomp's own cache (compiled code, provisioned tools).
    pub cache_dir: PathBuf,
    /// Never download anything (toolchains that need provisioning fail with the manual step).
    pub offline: bool,
}

impl Context {
    /// The context of a command run from the process's working directory.
    pub fn from_env(printer: Printer) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        // Read when a run stores compiled code; refused here, before anything runs.
        crate::runtime::cache::max_size().with_context(|| {
            format!(
                "`{}` is not a bound for the cache: write a size such as `10GiB`, or `none`",
                crate::runtime::cache::MAX_SIZE_VAR
            )
        })?;
        Ok(Self::for_dir(cwd, printer))
    }

    /// A context for library callers and tests.
    pub fn for_dir(cwd: PathBuf, printer: Printer) -> Self {
        Self {
            printer,
            cwd,
            cache_dir: default_cache_dir(),
            offline: false,
        }
    }

    /// Resolves a user-supplied path against the working directory.
    pub fn path(&self, path: impl Into<PathBuf>) -> PathBuf {
        let path = path.into();
        if path.is_absolute() {
            path
        } else {
            self.cwd.join(path)
        }
    }
}

/// `$WCOMP_CACHE_DIR`, else the platform cache dir, else a dot-directory in home.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WCOMP_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .map(|dir| dir.join("wcomp"))
        .or_else(|| dirs::home_dir().map(|home| home.join(".wcomp").join("cache")))
        .unwrap_or_else(|| std::env::temp_dir().join("wcomp-cache"))
}
