//! The one writer for every file wcomp writes, and the few other file-system steps that
//! replace something on disk (directories staged beside their destination, lock files).
//!
//! What a write does depends on what is at the destination:
//! - nothing yet, or a regular file: the bytes go to a temporary file in the same directory,
//!   which is then renamed over the destination, so an interrupted run never leaves a
//!   half-written component that looks complete, and a reader sees the old file or the new
//!   one, never a mix;
//! - a character or block device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe):
//!   the bytes are written to it in place; renaming over it would replace the device node
//!   with a regular file, for every later user of that path;
//! - a symbolic link: the link is followed and what it points to is written as above, so the
//!   link stays a link; a link to nothing is refused;
//! - a directory or a socket: refused, with what is there.
//!
//! Files only wcomp reads back (the compiled-code cache) go through [`write_fresh`] instead,
//! which honours nothing found at the path (see there).
//!
//! Nothing else in wcomp writes, renames or creates files directly (`clippy.toml` denies it
//! outside this module), so these rules hold for outputs, lock files and caches alike.
//! This module depends on nothing of wcomp's.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Writes `bytes` to `path` (see the module documentation), creating parent directories.
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_parts(path, &[bytes])
}

/// Writes `parts`, one after another, to `path` as [`write`] does (for a large payload with
/// a few bytes after it, without joining them in memory first).
pub fn write_parts(path: &Path, parts: &[&[u8]]) -> anyhow::Result<()> {
    match destination(path)? {
        Destination::Replace { path, previous } => replace(&path, previous.as_ref(), parts),
        Destination::InPlace { path } => write_in_place(&path, parts),
    }
}

/// Writes `parts` to `path` as a new regular file with the permissions the process's umask
/// gives (0644 under umask 022), for files only wcomp reads back, such as the compiled-code
/// cache. Unlike [`write`], nothing at `path` is honoured: a regular file or a symbolic link
/// there is replaced by the rename, never written through and never asked for its
/// permissions. In a cache, a link or a mode is no user's choice of destination: keeping them
/// would let whoever planted a 0666 file keep every rebuilt entry writable by all, or a link
/// have wcomp write wherever it points. Anything else at `path` is refused.
pub fn write_fresh(path: &Path, parts: &[&[u8]]) -> anyhow::Result<()> {
    check_fresh(path)?;
    rename_into_place(path, None, parts)
}

/// Refuses a `path` [`write_fresh`] may not replace: anything but a regular file or a link.
fn check_fresh(path: &Path) -> anyhow::Result<()> {
    match inspect(path, "write")? {
        Some(meta) if !meta.is_file() && !meta.file_type().is_symlink() => anyhow::bail!(
            "cannot write `{}`: it is {}; move it away and run again",
            path.display(),
            kind(&meta)
        ),
        _ => Ok(()),
    }
}

/// What is at `path` itself (a link is not followed), or `None` when nothing is; `doing`
/// names the step for an error.
fn inspect(path: &Path, doing: &str) -> anyhow::Result<Option<Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot {doing} `{}`", path.display())),
    }
}

/// Copies the file at `from` to `to`, written as [`write`] does.
pub fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = fs_err::read(from)?;
    write(to, &bytes)
}

/// Moves the directory `staged` (built beside it, on the same file system) to `dest`,
/// replacing a directory already there. A `dest` that is a symbolic link or not a directory
/// is refused: its contents would be lost.
pub fn replace_dir(staged: &Path, dest: &Path) -> anyhow::Result<()> {
    match inspect(dest, "inspect")? {
        Some(meta) if meta.is_dir() => fs_err::remove_dir_all(dest)?,
        Some(meta) => anyhow::bail!(
            "cannot replace `{}`: it is {}, not a directory; move it away and run again",
            dest.display(),
            kind(&meta)
        ),
        None => {}
    }
    #[allow(
        clippy::disallowed_methods,
        reason = "the one rename of a staged directory"
    )]
    fs_err::rename(staged, dest)?;
    Ok(())
}

/// Opens (creating it when missing, never truncating it) the lock file at `path` and takes
/// an exclusive lock on it; `on_wait` runs once if another process holds it. The lock is
/// released when the returned file is dropped.
pub fn lock(path: &Path, on_wait: impl FnOnce()) -> anyhow::Result<File> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open the lock file `{}`", path.display()))?;
    if file.try_lock().is_err() {
        on_wait();
        file.lock()
            .with_context(|| format!("cannot lock `{}`", path.display()))?;
    }
    Ok(file)
}

/// How a write reaches `path`.
enum Destination {
    /// A new or regular file, replaced by a rename; `previous` is the file replaced.
    Replace {
        path: PathBuf,
        previous: Option<Metadata>,
    },
    /// A device or FIFO, written in place.
    InPlace { path: PathBuf },
}

fn destination(path: &Path) -> anyhow::Result<Destination> {
    let Some(meta) = inspect(path, "write")? else {
        return Ok(Destination::Replace {
            path: path.to_owned(),
            previous: None,
        });
    };
    if meta.file_type().is_symlink() {
        // Renaming over a link would replace the link; write what it points to instead.
        let target = std::fs::canonicalize(path).map_err(|_| {
            let points_to = std::fs::read_link(path)
                .map(|target| format!(" (`{}`)", target.display()))
                .unwrap_or_default();
            anyhow::anyhow!(
                "cannot write `{}`: it is a symbolic link to nothing{points_to}; wcomp writes \
                 through a link only to a file that exists (create the target, or remove the \
                 link to write a new file there)",
                path.display()
            )
        })?;
        let meta = std::fs::metadata(&target)
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        return classify(target, meta, Some(path));
    }
    classify(path.to_owned(), meta, None)
}

fn classify(path: PathBuf, meta: Metadata, link: Option<&Path>) -> anyhow::Result<Destination> {
    if meta.is_file() {
        return Ok(Destination::Replace {
            path,
            previous: Some(meta),
        });
    }
    if is_device_or_fifo(&meta) {
        return Ok(Destination::InPlace { path });
    }
    let through = link
        .map(|link| format!(" (through the link `{}`)", link.display()))
        .unwrap_or_default();
    anyhow::bail!(
        "cannot write `{}`{through}: it is {}; give a file path instead",
        path.display(),
        kind(&meta)
    )
}

#[cfg(unix)]
fn is_device_or_fifo(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    let file_type = meta.file_type();
    file_type.is_char_device() || file_type.is_block_device() || file_type.is_fifo()
}

#[cfg(not(unix))]
fn is_device_or_fifo(_: &Metadata) -> bool {
    false
}

/// What is at a path, for messages: "a directory", "a socket", ….
fn kind(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let file_type = meta.file_type();
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a FIFO";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else if meta.file_type().is_symlink() {
        "a symbolic link"
    } else if meta.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Replaces a regular file (whose permissions the new one keeps) or creates one.
fn replace(path: &Path, previous: Option<&Metadata>, parts: &[&[u8]]) -> anyhow::Result<()> {
    // Outputs get the permissions a replaced file had, or the usual 0644 for a new one.
    let permissions = match previous {
        Some(meta) => meta.permissions(),
        None => default_permissions(),
    };
    rename_into_place(path, Some(permissions), parts)
}

/// A temporary file beside `path`, filled and renamed over it (or over the link at `path`,
/// which rename never follows). With `permissions` of `None` the file is created with those
/// the umask leaves of 0666.
fn rename_into_place(
    path: &Path,
    permissions: Option<std::fs::Permissions>,
    parts: &[&[u8]],
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = temp_in(dir, permissions.is_none())?;
    // No fsync: the rename is what makes an interrupted wcomp harmless, and waiting for the
    // disk would double the time of a small `compose` (as cargo, we leave durability against
    // power loss to the filesystem).
    parts
        .iter()
        .try_for_each(|part| temp.write_all(part))
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    // Temporary files are private (0600) unless created with the umask's permissions.
    if let Some(permissions) = permissions {
        temp.as_file()
            .set_permissions(permissions)
            .with_context(|| format!("cannot set the permissions of `{}`", path.display()))?;
    }
    #[allow(clippy::disallowed_methods, reason = "the one rename over a file")]
    temp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

/// A temporary file in `dir` (created if missing): private (0600), or with `umask` the
/// permissions the umask leaves of 0666.
fn temp_in(dir: &Path, umask: bool) -> anyhow::Result<tempfile::NamedTempFile> {
    fs_err::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".wcomp-tmp-");
    #[cfg(unix)]
    if umask {
        use std::os::unix::fs::PermissionsExt as _;
        // Only the kernel applies the umask (reading it means changing it, for every thread).
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    #[cfg(not(unix))]
    let _ = umask;
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))
}

/// Writes to a device or FIFO as a shell redirection does (a FIFO waits for its reader).
fn write_in_place(path: &Path, parts: &[&[u8]]) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open `{}` for writing", path.display()))?;
    parts
        .iter()
        .try_for_each(|part| file.write_all(part))
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write `{}`", path.display()))
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

/// An empty temporary file in `dir`, created with the permissions the umask leaves (as
/// [`write_fresh`] creates files), to be filled as a download arrives and then moved into
/// place with [`persist_fresh`].
pub fn fresh_temp_in(dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    temp_in(dir, true)
}

/// Moves `temp` (from [`fresh_temp_in`] in `path`'s directory) to `path` under the rules of
/// [`write_fresh`]: a regular file or a link at `path` is replaced, never followed.
pub fn persist_fresh(temp: tempfile::NamedTempFile, path: &Path) -> anyhow::Result<()> {
    check_fresh(path)?;
    #[allow(
        clippy::disallowed_methods,
        reason = "the one move of a download into place"
    )]
    temp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
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
        write(&path, b"one").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        write(&path, b"two").unwrap();
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

    #[test]
    #[cfg(unix)]
    fn a_link_stays_a_link_and_its_target_gets_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.wasm");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.wasm");
        std::os::unix::fs::symlink("real.wasm", &link).unwrap();
        write(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("real.wasm"));
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    #[cfg(unix)]
    fn a_link_to_nothing_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.wasm");
        std::os::unix::fs::symlink("missing.wasm", &link).unwrap();
        let err = write(&link, b"new").unwrap_err().to_string();
        assert!(err.contains("symbolic link to nothing"), "{err}");
        assert!(err.contains("missing.wasm"), "{err}");
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            Path::new("missing.wasm")
        );
        assert!(!dir.path().join("missing.wasm").exists());
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(dir.path(), b"x").unwrap_err().to_string();
        assert!(err.contains("it is a directory"), "{err}");
    }

    #[test]
    #[cfg(unix)]
    fn a_socket_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let err = write(&path, b"x").unwrap_err().to_string();
        assert!(err.contains("it is a socket"), "{err}");
    }

    #[test]
    fn replace_dir_refuses_a_file_and_replaces_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("staged");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("a"), b"a").unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"keep").unwrap();
        let err = replace_dir(&staged, &file).unwrap_err().to_string();
        assert!(err.contains("a regular file, not a directory"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), b"keep");
        let dest = dir.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("old"), b"old").unwrap();
        replace_dir(&staged, &dest).unwrap();
        assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"a");
        assert!(!dest.join("old").exists());
    }
}
