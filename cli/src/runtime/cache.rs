//! The on-disk cache of compiled code, so a second run of the same component skips Cranelift.
//!
//! An entry's name is the SHA-256 of the component's bytes and of the engine's compatibility
//! hash (wasmtime version, target, compiler flags and every setting that changes the code,
//! such as fuel). Its content is the payload (`Component::serialize`, an ELF image) followed by
//! a trailer: the payload's CRC-32, its length and a magic number. With the trailer at the end,
//! wasmtime maps the entry straight from the file: nothing is copied, code pages are shared
//! between runs, and a linear memory's initial image is mapped copy-on-write from the file
//! instead of being written into fresh memory. CRC-32 rather than a cryptographic hash: it
//! catches the damage a disk or a crash does, at a small cost on every warm run; the key, which
//! must never collide, stays SHA-256. Entries are written to a temporary file and renamed, so
//! concurrent runs each see a whole entry or none, and a file a run has mapped never changes
//! under it. An entry that fails its checksum or does not load is compiled again and replaced,
//! never trusted and never fatal. A cache that cannot be written only costs speed.
//!
//! Hashing a large component costs more than running it (a 21 MB Python composition takes
//! longer to read and hash than to instantiate), so [`recall`] first looks the component's file
//! up in a path index: the key it had when its device, inode, size, modification and change
//! times were last seen. Change times cannot be set by users and move on every write, so a
//! matching record means the same bytes — provided the record was written when the file had
//! been left alone for a while ([`SETTLED`]), since timestamps tick more coarsely than writes
//! can happen. Nothing here knows about the command line.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Whether compiled code is read from and written to disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheMode {
    /// Compile every time (the default for library callers, which may not own a cache dir).
    #[default]
    Disabled,
    /// Use this directory (see [`compiled_dir`]).
    Dir(PathBuf),
}

/// What the cache did for one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Caching is off; the component was compiled.
    Disabled,
    /// Loaded from the cache; nothing was compiled.
    Hit,
    /// Not in the cache; compiled and stored.
    Miss,
    /// In the cache but unusable (the reason says why); compiled and stored again.
    Rebuilt { reason: String },
}

impl CacheOutcome {
    /// `hit`, `miss`, `rebuilt` or `disabled`, for JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Rebuilt { .. } => "rebuilt",
        }
    }
}

/// A component ready to instantiate, and how it was obtained.
#[derive(Debug)]
pub struct Compiled {
    pub component: Component,
    pub outcome: CacheOutcome,
    /// Time to compile, or to load from the cache.
    pub elapsed: Duration,
    /// The cache entry read or written.
    pub entry: Option<PathBuf>,
    /// Why the entry could not be written, if it could not (the run goes on).
    pub store_error: Option<String>,
    /// Found through the path index ([`recall`]): the component file was not even read.
    pub recalled: bool,
}

/// The directory for compiled code under wcomp's cache root.
pub fn compiled_dir(cache_root: &Path) -> PathBuf {
    cache_root.join("compiled")
}

const MAGIC: &[u8; 8] = b"wcompC03";
/// After the payload: its CRC-32 (u32 LE), its length (u64 LE), the magic.
const TRAILER: usize = 4 + 8 + MAGIC.len();

/// Feeds `Hash` impls into SHA-256 (wasmtime exposes its config hash only as `Hash`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        // Never used: the digest is read from the inner state.
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The cache key of `bytes` compiled by `engine`, as 64 hex digits.
pub fn key(engine: &Engine, bytes: &[u8]) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.write(b"wcomp compiled component\0");
    hasher.write(MAGIC);
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hasher.write(&(bytes.len() as u64).to_le_bytes());
    hasher.write(bytes);
    crate::digest::hex(&hasher.0.finalize())
}

/// Compiles `bytes` (a component binary), or loads the result of an earlier compilation.
pub fn load_or_compile(
    engine: &Engine,
    bytes: &[u8],
    mode: &CacheMode,
) -> anyhow::Result<Compiled> {
    let start = Instant::now();
    let CacheMode::Dir(dir) = mode else {
        let component = Component::from_binary(engine, bytes)?;
        return Ok(Compiled {
            component,
            outcome: CacheOutcome::Disabled,
            elapsed: start.elapsed(),
            entry: None,
            store_error: None,
            recalled: false,
        });
    };
    let entry = dir.join(format!("{}.cwasm", key(engine, bytes)));
    let outcome = match load(engine, &entry) {
        Ok(Some(component)) => {
            return Ok(Compiled {
                component,
                outcome: CacheOutcome::Hit,
                elapsed: start.elapsed(),
                entry: Some(entry),
                store_error: None,
                recalled: false,
            });
        }
        Ok(None) => CacheOutcome::Miss,
        Err(reason) => CacheOutcome::Rebuilt { reason },
    };
    let component = Component::from_binary(engine, bytes)?;
    let elapsed = start.elapsed();
    let store_error = component
        .serialize()
        .map_err(anyhow::Error::from)
        .and_then(|payload| store(&entry, &payload))
        .err()
        .map(|err| format!("{err:#}"));
    Ok(Compiled {
        component,
        outcome,
        elapsed,
        entry: Some(entry),
        store_error,
        recalled: false,
    })
}

/// Stores `component`, compiled for `bytes` by an engine whose [`key`] equals `engine`'s, so
/// the next [`load_or_compile`] with `engine` hits. Returns why it could not, if it could not.
pub fn insert(
    engine: &Engine,
    bytes: &[u8],
    component: &Component,
    mode: &CacheMode,
) -> Option<String> {
    let CacheMode::Dir(dir) = mode else {
        return None;
    };
    let entry = dir.join(format!("{}.cwasm", key(engine, bytes)));
    component
        .serialize()
        .map_err(anyhow::Error::from)
        .and_then(|payload| store(&entry, &payload))
        .err()
        .map(|err| format!("{err:#}"))
}

/// `Ok(None)` when there is no entry; `Err(reason)` when there is one that cannot be used.
fn load(engine: &Engine, entry: &Path) -> Result<Option<Component>, String> {
    match std::fs::metadata(entry) {
        Ok(metadata) if metadata.len() < TRAILER as u64 => {
            return Err("it is not a wcomp cache entry".into());
        }
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot read it: {err}")),
    }
    let component =
        map(engine, entry).map_err(|err| format!("wasmtime cannot load it: {err:#}"))?;
    verify(mapped(&component))?;
    Ok(Some(component))
}

/// Checks an entry's trailer and its payload's checksum.
fn verify(entry: &[u8]) -> Result<(), String> {
    let Some((payload, trailer)) = entry.split_at_checked(entry.len().saturating_sub(TRAILER))
    else {
        return Err("it is not a wcomp cache entry".into());
    };
    let (checksum, rest) = trailer.split_at(4);
    let (length, magic) = rest.split_at(8);
    if magic != MAGIC {
        return Err("it is not a wcomp cache entry".into());
    }
    if u64::from_le_bytes(length.try_into().unwrap_or_default()) != payload.len() as u64 {
        return Err("it is truncated".into());
    }
    if crc32fast::hash(payload) != u32::from_le_bytes(checksum.try_into().unwrap_or_default()) {
        return Err("its checksum does not match (the file is corrupt)".into());
    }
    Ok(())
}

/// Maps an entry this module wrote as a component, without checking it yet.
///
/// This is unsafe in wasmtime's terms because it trusts the file to be its own compiled code:
/// it maps the code executable without validating it. What makes it sound here: wasmtime only
/// parses the entry's headers and metadata while mapping it (memory-safe parsing that fails
/// with an error on damage) and runs nothing; [`load`] then checks the length and CRC-32 of
/// the very bytes mapped, before any of the code can run, and drops the component if they do
/// not match. So what runs is exactly what `Component::serialize` produced on this machine;
/// wasmtime itself rejects code from another wasmtime version or engine configuration; and
/// entries are only ever replaced whole, by a rename. (wasmtime reads the ELF image by its own
/// headers, so the trailer after it is ignored.) The remaining trust is in whoever can write
/// the user's cache directory, who could as well replace the wcomp binary. wasmtime's own code
/// cache makes the same call.
#[allow(unsafe_code)]
fn map(engine: &Engine, entry: &Path) -> wasmtime::Result<Component> {
    // SAFETY: see the function's documentation.
    unsafe { Component::deserialize_file(engine, entry) }
}

/// The bytes of the file `component` was mapped from, trailer included.
#[allow(unsafe_code)]
fn mapped(component: &Component) -> &[u8] {
    let range = component.image_range();
    let len = (range.end as usize).saturating_sub(range.start as usize);
    // SAFETY: the range is the component's own mapping of its file, readable as long as the
    // component lives (wasmtime keeps it read-only, its code read-execute), and the slice
    // borrows the component.
    unsafe { std::slice::from_raw_parts(range.start, len) }
}

/// Writes an entry atomically. No fsync: a torn entry after a crash fails its checksum and
/// is rebuilt, so durability is not worth a disk flush on every cold run.
fn store(entry: &Path, payload: &[u8]) -> anyhow::Result<()> {
    let mut trailer = Vec::with_capacity(TRAILER);
    trailer.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    trailer.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    trailer.extend_from_slice(MAGIC);
    crate::fsutil::write_parts(entry, &[payload, &trailer])
}

/// How long a file must have been left alone before [`remember`] records it: longer than the
/// coarsest timestamp tick of common filesystems, so no later write can share its timestamps.
pub const SETTLED: Duration = Duration::from_secs(2);

/// Loads the compiled code of the component file at `path` without reading the file, if the
/// path index says which entry it is and that entry is sound. `None` means: read and hash
/// the file, then [`load_or_compile`] (and [`remember`]).
///
/// `variant` names `engine`'s configuration among the few one program uses (say, with and
/// without fuel), so each keeps its own record per path. It only has to tell them apart, not
/// describe them: an entry compiled for another configuration is refused by wasmtime when
/// loaded, and the run falls back to hashing the file.
pub fn recall(engine: &Engine, variant: &str, path: &Path, mode: &CacheMode) -> Option<Compiled> {
    let start = Instant::now();
    let CacheMode::Dir(dir) = mode else {
        return None;
    };
    let stamp = FileStamp::of(path)?;
    let record = std::fs::read_to_string(index_path(dir, variant, path)?).ok()?;
    let (recorded, key) = record.trim_end().rsplit_once(' ')?;
    if recorded != stamp.to_string() || !is_key(key) {
        return None;
    }
    let entry = dir.join(format!("{key}.cwasm"));
    let component = load(engine, &entry).ok()??;
    Some(Compiled {
        component,
        outcome: CacheOutcome::Hit,
        elapsed: start.elapsed(),
        entry: Some(entry),
        store_error: None,
        recalled: true,
    })
}

/// Records in the path index that the component file at `path` compiles to `compiled`'s
/// entry, if the file has settled. Best effort: a record that cannot be written only means
/// the next run hashes the file again.
pub fn remember(variant: &str, path: &Path, compiled: &Compiled, mode: &CacheMode) {
    remember_as_of(variant, path, compiled, mode, SystemTime::now());
}

fn remember_as_of(
    variant: &str,
    path: &Path,
    compiled: &Compiled,
    mode: &CacheMode,
    now: SystemTime,
) {
    let CacheMode::Dir(dir) = mode else {
        return;
    };
    let Some(key) = compiled
        .entry
        .as_deref()
        .and_then(Path::file_stem)
        .and_then(|stem| stem.to_str())
    else {
        return;
    };
    let (Some(stamp), Some(index)) = (FileStamp::of(path), index_path(dir, variant, path)) else {
        return;
    };
    if !stamp.settled(now) {
        return;
    }
    let _ = crate::fsutil::write(&index, format!("{stamp} {key}\n").as_bytes());
}

fn is_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The index record's file for `path` run with the engine `variant`.
fn index_path(dir: &Path, variant: &str, path: &Path) -> Option<PathBuf> {
    let path = std::fs::canonicalize(path).ok()?;
    let mut hasher = Sha256::new();
    for part in [
        b"wcomp path index".as_slice(),
        env!("CARGO_PKG_VERSION").as_bytes(),
        variant.as_bytes(),
        path.as_os_str().as_encoded_bytes(),
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    Some(
        dir.join("index")
            .join(crate::digest::hex(&hasher.finalize())),
    )
}

/// What identifies a file's contents without reading them (see the module documentation).
#[derive(Debug, PartialEq, Eq)]
struct FileStamp {
    device: u64,
    inode: u64,
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FileStamp {
    #[cfg(unix)]
    fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        let metadata = std::fs::metadata(path).ok()?;
        metadata.is_file().then(|| Self {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.size(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
        })
    }

    /// Without change times the index cannot tell a rewrite that keeps the modification time,
    /// so it is not used.
    #[cfg(not(unix))]
    fn of(_path: &Path) -> Option<Self> {
        None
    }

    /// Whether both timestamps are at least [`SETTLED`] before `now`.
    fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let limit = i64::try_from(now.saturating_sub(SETTLED).as_secs()).unwrap_or(i64::MAX);
        // Whole seconds, rounded so that a stamp in the limit's own second does not count.
        self.modified.0 < limit && self.changed.0 < limit
    }
}

impl std::fmt::Display for FileStamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "v1 {} {} {} {}.{:09} {}.{:09}",
            self.device,
            self.inode,
            self.size,
            self.modified.0,
            self.modified.1,
            self.changed.0,
            self.changed.1
        )
    }
}

/// What [`clean`] removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cleaned {
    /// Compiled components.
    pub files: u64,
    /// Everything removed, path index and stray temporary files included.
    pub bytes: u64,
}

/// Removes every entry under `dir`, and the path index (compiled code only; other caches are
/// left alone).
pub fn clean(dir: &Path) -> anyhow::Result<Cleaned> {
    let mut cleaned = Cleaned::default();
    let entries = match fs_err::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(cleaned),
        Err(err) => return Err(err.into()),
    };
    for entry in entries {
        let path = entry?.path();
        let metadata = match fs_err::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            // A concurrent run may have renamed or removed it.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err.into()),
        };
        let removed = if metadata.is_dir() {
            let bytes = dir_size(&path);
            fs_err::remove_dir_all(&path).map(|()| bytes)
        } else {
            fs_err::remove_file(&path).map(|()| metadata.len())
        };
        match removed {
            Ok(bytes) => cleaned.bytes += bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err.into()),
        }
        if path.extension().is_some_and(|ext| ext == "cwasm") {
            cleaned.files += 1;
        }
    }
    Ok(cleaned)
}

/// The total size of the files under `dir` (best effort: unreadable parts count as empty).
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| Some((entry.path(), entry.metadata().ok()?)))
            .map(|(path, metadata)| {
                if metadata.is_dir() {
                    dir_size(&path)
                } else {
                    metadata.len()
                }
            })
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(component
        (core module $m (func (export "f") (result i32) i32.const 7))
        (core instance $i (instantiate $m))
        (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;

    fn engine(fuel: bool) -> Engine {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(fuel);
        Engine::new(&config).unwrap()
    }

    #[test]
    fn hits_after_a_miss_and_rebuilds_corrupt_entries() {
        let dir = tempfile::tempdir().unwrap();
        let mode = CacheMode::Dir(dir.path().to_owned());
        let bytes = wat::parse_str(WAT).unwrap();
        let engine = engine(false);

        let first = load_or_compile(&engine, &bytes, &mode).unwrap();
        assert_eq!(first.outcome, CacheOutcome::Miss);
        assert_eq!(first.store_error, None);
        let second = load_or_compile(&engine, &bytes, &mode).unwrap();
        assert_eq!(second.outcome, CacheOutcome::Hit);

        let entry = second.entry.unwrap();
        let mut data = std::fs::read(&entry).unwrap();
        let checksum = data.len() - TRAILER;
        data[checksum] ^= 0xff;
        std::fs::write(&entry, &data).unwrap();
        let third = load_or_compile(&engine, &bytes, &mode).unwrap();
        assert!(
            matches!(&third.outcome, CacheOutcome::Rebuilt { reason } if reason.contains("checksum")),
            "{:?}",
            third.outcome
        );
        let mut data = std::fs::read(&entry).unwrap();
        data[checksum] ^= 0xff;
        let middle = data.len() / 2;
        data[middle] ^= 0xff;
        std::fs::write(&entry, &data).unwrap();
        assert!(matches!(
            load_or_compile(&engine, &bytes, &mode).unwrap().outcome,
            CacheOutcome::Rebuilt { .. }
        ));
        std::fs::write(&entry, b"junk").unwrap();
        let fourth = load_or_compile(&engine, &bytes, &mode).unwrap();
        assert!(matches!(fourth.outcome, CacheOutcome::Rebuilt { .. }));
        assert_eq!(
            load_or_compile(&engine, &bytes, &mode).unwrap().outcome,
            CacheOutcome::Hit
        );

        let cleaned = clean(dir.path()).unwrap();
        assert_eq!(cleaned.files, 1);
        assert_eq!(
            load_or_compile(&engine, &bytes, &mode).unwrap().outcome,
            CacheOutcome::Miss
        );
    }

    #[test]
    fn the_path_index_skips_hashing_only_for_a_settled_unchanged_file() {
        let dir = tempfile::tempdir().unwrap();
        let mode = CacheMode::Dir(dir.path().join("cache"));
        let engine = engine(false);
        let path = dir.path().join("c.wasm");
        std::fs::write(&path, wat::parse_str(WAT).unwrap()).unwrap();
        let compiled = load_or_compile(&engine, &std::fs::read(&path).unwrap(), &mode).unwrap();

        // Just written: not recorded, since a rewrite could still share its timestamps.
        remember("plain", &path, &compiled, &mode);
        assert!(recall(&engine, "plain", &path, &mode).is_none());

        let later = SystemTime::now() + SETTLED * 2;
        remember_as_of("plain", &path, &compiled, &mode, later);
        let recalled = recall(&engine, "plain", &path, &mode).expect("recorded");
        assert_eq!(recalled.outcome, CacheOutcome::Hit);
        assert_eq!(recalled.entry, compiled.entry);
        assert!(recall(&engine, "fuel", &path, &mode).is_none());
        // (Entries are never changed in place while mapped: a mapped file that shrinks faults
        // the process mapping it. wcomp only ever replaces them by renaming.)
        drop(recalled);

        // Any write changes the change time, so the record no longer matches.
        std::fs::write(&path, wat::parse_str(WAT.replace("7", "8")).unwrap()).unwrap();
        assert!(recall(&engine, "plain", &path, &mode).is_none());

        // A record naming a damaged entry is not trusted either.
        remember_as_of(
            "plain",
            &path,
            &compiled,
            &mode,
            SystemTime::now() + SETTLED * 2,
        );
        std::fs::write(compiled.entry.as_ref().unwrap(), b"junk").unwrap();
        assert!(recall(&engine, "plain", &path, &mode).is_none());
    }

    #[test]
    fn the_key_covers_the_engine_config_and_the_bytes() {
        let bytes = wat::parse_str(WAT).unwrap();
        assert_ne!(key(&engine(false), &bytes), key(&engine(true), &bytes));
        assert_eq!(key(&engine(false), &bytes), key(&engine(false), &bytes));
        let other = wat::parse_str(WAT.replace("i32.const 7", "i32.const 8")).unwrap();
        assert_ne!(key(&engine(false), &bytes), key(&engine(false), &other));
    }
}
