//! File helpers with the guarantees wcomp promises: outputs appear atomically (a temporary
//! file in the destination directory, then a rename), so an interrupted run never leaves a
//! half-written component behind that looks complete.

use std::path::Path;

use anyhow::Context as _;

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".wcomp-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

/// Copies the file at `from` to `to` atomically.
pub fn copy_atomic(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = fs_err::read(from)?;
    write_atomic(to, &bytes)
}

/// True when `path` is missing or an empty directory.
pub fn is_missing_or_empty_dir(path: &Path) -> anyhow::Result<bool> {
    match fs_err::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(err) => Err(err.into()),
    }
}
