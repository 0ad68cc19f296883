//! Content hashes of a component's inputs (its sources, the WIT, its manifest entry, the
//! toolchain, wcomp itself) and the record of the last successful build, so unchanged
//! components are neither rebuilt nor handed to a toolchain.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Directories that hold outputs or caches, never inputs.
const SKIPPED_DIRS: &[&str] = &[
    "target",
    ".git",
    "__pycache__",
    ".venv",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
];

/// Hashes every file under `dir` (relative path and contents), skipping output directories
/// and any directory in `exclude`.
pub fn hash_tree(hasher: &mut Sha256, dir: &Path, exclude: &[&Path]) -> anyhow::Result<()> {
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let skipped_name = entry.file_type().is_dir()
                && entry.depth() > 0
                && SKIPPED_DIRS.iter().any(|s| entry.file_name() == *s);
            !skipped_name && !exclude.iter().any(|ex| entry.path() == *ex)
        });
    for entry in walker {
        let entry = entry?;
        if entry.file_type().is_file() {
            let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            let contents = fs_err::read(entry.path())?;
            hasher.update((contents.len() as u64).to_le_bytes());
            hasher.update(&contents);
        }
    }
    Ok(())
}

/// Finishes a hash as lowercase hex.
pub fn hex(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What the last successful build of a component left behind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// Hash of the inputs the output was built from.
    pub inputs: String,
    pub output: PathBuf,
    /// Size and modification time of the output when it was written, to notice tampering.
    pub output_stamp: String,
}

/// `size:mtime` of a file, or `None` when it is missing.
pub fn stamp(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(format!("{}:{modified}", meta.len()))
}

impl Record {
    /// Reads a record; a missing or unreadable one means "never built".
    pub fn read(path: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the record atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        crate::fsutil::write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }

    /// True when `inputs` match and the output is still the file that was written.
    pub fn is_fresh(&self, inputs: &str) -> bool {
        self.inputs == inputs && stamp(&self.output).as_deref() == Some(self.output_stamp.as_str())
    }
}
