//! File helpers with the guarantees wcomp promises: outputs appear atomically (a temporary
//! file in the destination directory, then a rename), so an interrupted run never leaves a
//! half-written component behind that looks complete.

use std::path::Path;

use anyhow::Context as _;

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_parts(path, &[bytes])
}

/// Writes `parts`, one after another, to `path` atomically, creating parent directories
/// (for a large payload with a few bytes after it, without joining them in memory first).
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> anyhow::Result<()> {
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
    // No fsync: the rename is what makes an interrupted wcomp harmless, and waiting for the
    // disk would double the time of a small `compose` (as cargo, we leave durability against
    // power loss to the filesystem).
    parts
        .iter()
        .try_for_each(|part| temp.write_all(part))
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    // Temporary files are private (0600); outputs get the permissions a replaced file had,
    // or the usual 0644 for a new one.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => default_permissions(),
    };
    temp.as_file()
        .set_permissions(permissions)
        .with_context(|| format!("cannot set the permissions of `{}`", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    let mut permissions = std::fs::metadata(".")
        .map(|m| m.permissions())
        .expect("the current directory is readable");
    permissions.set_readonly(false);
    permissions
}

/// Copies the file at `from` to `to` atomically.
pub fn copy_atomic(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = fs_err::read(from)?;
    write_atomic(to, &bytes)
}

/// `path` as shown to a user working in `cwd`: relative when it is below `cwd`.
pub fn display_relative(path: &Path, cwd: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// True when `path` is missing or an empty directory.
pub fn is_missing_or_empty_dir(path: &Path) -> anyhow::Result<bool> {
    match fs_err::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn outputs_are_readable_by_others_and_keep_existing_modes() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.wasm");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left"
        );
    }
}
