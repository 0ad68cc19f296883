//! The on-disk cache of compiled code, so a second run of the same component skips Cranelift.
//!
//! An entry's name is derived from the SHA-256 of the component's bytes and of the engine's
//! compatibility hash (wasmtime version, target, compiler flags and every setting that changes
//! the code, such as fuel). Its content is the payload (`Component::serialize`, an ELF image)
//! followed by a trailer: a record of what it was compiled from (`Source`), the CRC-32 of
//! payload and record, the payload's length and a magic number. With the trailer at the end,
//! wasmtime maps the entry straight from the file: nothing is copied, code pages are shared
//! between runs, and a linear memory's initial image is mapped copy-on-write from the file
//! instead of being written into fresh memory. CRC-32 rather than a cryptographic hash: it
//! catches the damage a disk or a crash does, at a small cost on every warm run; the key, which
//! must never collide, stays SHA-256. Entries are written to a temporary file and renamed, so
//! concurrent runs each see a whole entry or none, and a file a run has mapped never changes
//! under it; they get the permissions of the umask, and a link or a file already at their path
//! is replaced, never written through ([`crate::fsutil::write_fresh`]). An entry that fails its
//! checksum, records another component or engine, or does not load is compiled again and
//! replaced, never trusted and never fatal; one in an earlier version's format is a miss. A
//! cache that cannot be written only costs speed.
//!
//! Hashing a large component costs more than running it (a 21 MB Python composition takes
//! longer to read and hash than to instantiate), so [`recall`] first looks the component's file
//! up in a path index: the component (its SHA-256) the file held when its device, inode, size,
//! modification and change times were last seen. Change times cannot be set by users and move
//! on every write, so a matching record means the same bytes — provided the record was written
//! when the file had been left alone for a while ([`SETTLED`]), since timestamps tick more
//! coarsely than writes can happen. The same stamps spare a warm run the checksum: once an
//! entry has passed it and settled, the record also keeps the entry's stamp, and an entry
//! whose stamp still matches (before and after it was mapped) is taken with only its trailer
//! checked. Reading a 40 MB entry for its CRC cost more than the rest of a warm run of a
//! Python composition; any write to the entry moves its change time and brings the check back.
//!
//! The cache is bounded ([`max_size`]: 2 GiB unless `WCOMP_CACHE_MAX_SIZE` says otherwise).
//! Only a store can grow it, so each store [`trim`]s it: the entries used longest ago go first,
//! by the time the kernel last recorded an access to their files. Hits never touch their entry
//! (that would move its change time and bring the checksum back), so that time is as fine as
//! the filesystem's access-time policy makes it: with Linux's default `relatime`, a day.
//! Nothing here knows about the command line.

use std::hash::Hasher;
use std::io::{Read as _, Seek as _};
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
    /// What the entry records, for [`remember`].
    source: Option<Source>,
    /// The entry's stamp when its checksum was checked by this load, for [`remember`].
    checked: Option<FileStamp>,
}

/// The directory for compiled code under wcomp's cache root.
pub fn compiled_dir(cache_root: &Path) -> PathBuf {
    cache_root.join("compiled")
}

const MAGIC: &[u8; 8] = b"wcompC04";
/// How every version's magic starts: an entry with another version's is a miss, not damage
/// (earlier ones recorded no [`Source`]).
const MAGIC_FAMILY: &[u8] = b"wcompC";
/// After the payload: the record ([`Source`]), the CRC-32 of payload and record (u32 LE), the
/// payload's length (u64 LE), the magic.
const TRAILER: usize = Source::LEN + 4 + 8 + MAGIC.len();
const NOT_AN_ENTRY: &str = "it is not a wcomp cache entry";

/// What an entry was compiled from, recorded in it and compared with the component being
/// loaded before wasmtime sees the entry, then again on the very bytes it mapped.
///
/// Trust model: an entry's record, not its file name, says which component it is. A name is
/// only where to look, so an entry copied or renamed under another component's name (by a
/// script, a sync tool, or anyone able to write the cache) is refused and rebuilt instead of
/// running the other component's code. The path index names no entry either: it claims which
/// component a file stamp stands for, and [`recall`] takes only an entry recording that
/// component, at the size the stamp has, compiled for the same engine. The record is no
/// signature: whoever can write the cache directory can forge one, or the index's claim, as
/// they could swap the code inside any entry; the cache is trusted as far as its directory
/// is, like the wcomp binary in the same home. What the record rules out is running one
/// component's genuine code as another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Source {
    /// SHA-256 of the component's bytes.
    component: [u8; 32],
    /// The component's size, which a file stamp vouches for without reading the file.
    size: u64,
    /// SHA-256 of the engine's compatibility hash: the configuration compiled for.
    engine: [u8; 32],
}

impl Source {
    const LEN: usize = 32 + 8 + 32;

    fn of(engine: &Engine, bytes: &[u8]) -> Self {
        Self {
            component: Sha256::digest(bytes).into(),
            size: bytes.len() as u64,
            engine: engine_digest(engine),
        }
    }

    /// The entry's file name, without its extension (the digest already fixes the size).
    fn key(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            b"wcomp compiled component\0".as_slice(),
            MAGIC,
            &self.engine,
            &self.component,
        ] {
            hasher.update(part);
        }
        crate::digest::hex(&hasher.finalize())
    }

    fn to_bytes(self) -> [u8; Self::LEN] {
        let mut bytes = [0; Self::LEN];
        let (component, rest) = bytes.split_at_mut(32);
        let (size, engine) = rest.split_at_mut(8);
        component.copy_from_slice(&self.component);
        size.copy_from_slice(&self.size.to_le_bytes());
        engine.copy_from_slice(&self.engine);
        bytes
    }

    fn from_bytes(bytes: &[u8; Self::LEN]) -> Self {
        let (component, rest) = bytes.split_at(32);
        let (size, engine) = rest.split_at(8);
        Self {
            component: component.try_into().unwrap_or_default(),
            size: u64::from_le_bytes(size.try_into().unwrap_or_default()),
            engine: engine.try_into().unwrap_or_default(),
        }
    }

    /// Why an entry recording `self` cannot stand for `wanted`, if it cannot.
    fn mismatch(&self, wanted: &Self) -> Option<String> {
        let short = |digest: &[u8; 32]| crate::digest::hex(&digest[..6]);
        if (self.component, self.size) != (wanted.component, wanted.size) {
            return Some(format!(
                "it was compiled from another component (sha256 {}…, {} bytes), not this one \
                 (sha256 {}…, {} bytes)",
                short(&self.component),
                self.size,
                short(&wanted.component),
                wanted.size
            ));
        }
        (self.engine != wanted.engine)
            .then(|| "it was compiled for another engine configuration".to_owned())
    }
}

/// An entry's trailer, as read.
struct Trailer {
    source: Source,
    checksum: u32,
    length: u64,
}

impl Trailer {
    /// Reads the last [`TRAILER`] bytes of an entry; `Ok(None)` for another version's format.
    fn parse(tail: &[u8]) -> Result<Option<Self>, String> {
        let (rest, magic) = tail.split_at(tail.len().saturating_sub(MAGIC.len()));
        if magic != MAGIC {
            return if magic.starts_with(MAGIC_FAMILY) {
                Ok(None)
            } else {
                Err(NOT_AN_ENTRY.into())
            };
        }
        if tail.len() != TRAILER {
            return Err(NOT_AN_ENTRY.into());
        }
        let (record, rest) = rest
            .split_first_chunk::<{ Source::LEN }>()
            .ok_or(NOT_AN_ENTRY)?;
        let (checksum, length) = rest.split_first_chunk::<4>().ok_or(NOT_AN_ENTRY)?;
        Ok(Some(Self {
            source: Source::from_bytes(record),
            checksum: u32::from_le_bytes(*checksum),
            length: u64::from_le_bytes(length.try_into().map_err(|_| NOT_AN_ENTRY)?),
        }))
    }
}

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

/// The SHA-256 of `engine`'s compatibility hash.
fn engine_digest(engine: &Engine) -> [u8; 32] {
    let mut hasher = Sha256Hasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hasher.0.finalize().into()
}

/// The cache key of `bytes` compiled by `engine` (its entry's file name), as 64 hex digits.
pub fn key(engine: &Engine, bytes: &[u8]) -> String {
    Source::of(engine, bytes).key()
}

fn entry_path(dir: &Path, source: &Source) -> PathBuf {
    dir.join(format!("{}.cwasm", source.key()))
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
            source: None,
            checked: None,
        });
    };
    let source = Source::of(engine, bytes);
    let entry = entry_path(dir, &source);
    let outcome = match load(engine, &entry, &source, None) {
        Ok(Some(Loaded { component, checked })) => {
            return Ok(Compiled {
                component,
                outcome: CacheOutcome::Hit,
                elapsed: start.elapsed(),
                entry: Some(entry),
                store_error: None,
                recalled: false,
                source: Some(source),
                checked,
            });
        }
        Ok(None) => CacheOutcome::Miss,
        Err(reason) => CacheOutcome::Rebuilt { reason },
    };
    let component = Component::from_binary(engine, bytes)?;
    let elapsed = start.elapsed();
    let store_error = store(&entry, &component, &source);
    Ok(Compiled {
        component,
        outcome,
        elapsed,
        entry: Some(entry),
        store_error,
        recalled: false,
        source: Some(source),
        checked: None,
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
    let source = Source::of(engine, bytes);
    store(&entry_path(dir, &source), component, &source)
}

/// An entry loaded by [`load`].
struct Loaded {
    component: Component,
    /// The entry's stamp, when this load checked its checksum and could stamp what it mapped.
    checked: Option<FileStamp>,
}

/// `Ok(None)` when there is no entry, or one of another version's format; `Err(reason)` when
/// there is one that cannot be used for `source`. `checked` is the entry's stamp recorded
/// after an earlier load checked its checksum: an entry that still has it is taken with only
/// its trailer checked.
fn load(
    engine: &Engine,
    entry: &Path,
    source: &Source,
    checked: Option<&str>,
) -> Result<Option<Loaded>, String> {
    let Some(trailer) = read_trailer(entry)? else {
        return Ok(None);
    };
    // Before wasmtime parses anything of another component's code.
    if let Some(reason) = trailer.source.mismatch(source) {
        return Err(reason);
    }
    let before = FileStamp::of(entry);
    let component =
        map(engine, entry).map_err(|err| format!("wasmtime cannot load it: {err:#}"))?;
    // Entries are only ever replaced by a rename, which brings another inode and change time:
    // the same stamp before and after mapping means the file mapped is the file stamped.
    let stamp = before.filter(|before| FileStamp::of(entry).as_ref() == Some(before));
    // The file may have been replaced since its trailer was read: check what was mapped.
    match &stamp {
        Some(stamp) if checked.is_some_and(|checked| checked == stamp.to_string()) => {
            verify_trailer(mapped(&component), source)?;
            Ok(Some(Loaded {
                component,
                checked: None,
            }))
        }
        _ => {
            verify(mapped(&component), source)?;
            Ok(Some(Loaded {
                component,
                checked: stamp,
            }))
        }
    }
}

/// The trailer of the entry file at `entry`, read without mapping the file; `Ok(None)` when
/// there is none, or one of another version's format.
fn read_trailer(entry: &Path) -> Result<Option<Trailer>, String> {
    let metadata = match std::fs::symlink_metadata(entry) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot read it: {err}")),
    };
    if metadata.file_type().is_symlink() {
        // wcomp writes no links: one here was put by something else, and may lead anywhere.
        return Err("it is a symbolic link, not an entry wcomp wrote".into());
    }
    if !metadata.is_file() || metadata.len() < TRAILER as u64 {
        return Err(NOT_AN_ENTRY.into());
    }
    let mut tail = [0; TRAILER];
    std::fs::File::open(entry)
        .and_then(|mut file| {
            file.seek(std::io::SeekFrom::End(-(TRAILER as i64)))?;
            file.read_exact(&mut tail)
        })
        .map_err(|err| format!("cannot read it: {err}"))?;
    Trailer::parse(&tail)
}

/// Checks the entry `entry` (all its bytes): its trailer, its checksum, and that it records
/// `source`.
fn verify(entry: &[u8], source: &Source) -> Result<(), String> {
    let (checked, trailer) = checked_part(entry)?;
    if crc32fast::hash(checked) != trailer.checksum {
        return Err("its checksum does not match (the file is corrupt)".into());
    }
    trailer.source.mismatch(source).map_or(Ok(()), Err)
}

/// Checks the entry `entry`'s trailer and that it records `source`, without reading the rest.
fn verify_trailer(entry: &[u8], source: &Source) -> Result<(), String> {
    let (_, trailer) = checked_part(entry)?;
    trailer.source.mismatch(source).map_or(Ok(()), Err)
}

/// The part of the entry `entry` its checksum covers (payload and record), and its trailer.
fn checked_part(entry: &[u8]) -> Result<(&[u8], Trailer), String> {
    let Some((payload, tail)) = entry.split_at_checked(entry.len().saturating_sub(TRAILER)) else {
        return Err(NOT_AN_ENTRY.into());
    };
    let trailer = Trailer::parse(tail)?.ok_or(NOT_AN_ENTRY)?;
    if trailer.length != payload.len() as u64 {
        return Err("it is truncated".into());
    }
    Ok((&entry[..payload.len() + Source::LEN], trailer))
}

/// Maps an entry this module wrote as a component, without checking it yet.
///
/// This is unsafe in wasmtime's terms because it trusts the file to be its own compiled code:
/// it maps the code executable without validating it. What makes it sound here: wasmtime only
/// parses the entry's headers and metadata while mapping it (memory-safe parsing that fails
/// with an error on damage) and runs nothing; [`load`] then checks the length and record of
/// the very bytes mapped, and their CRC-32 unless the file's stamp shows it is the one that
/// passed that check in an earlier run, before any of the code can run, and drops the
/// component if they do not match. So what runs is exactly what `Component::serialize` produced for this
/// component and engine; wasmtime itself rejects code from another wasmtime version or engine
/// configuration; and entries are only ever replaced whole, by a rename. (wasmtime reads the
/// ELF image by its own headers, so the trailer after it is ignored.) The remaining trust is
/// in whoever can write the user's cache directory (see [`Source`]), who could as well
/// replace the wcomp binary. wasmtime's own code cache makes the same call.
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

/// Writes `component`'s entry, recording `source`, then trims the cache to its bound, sparing
/// the new entry; returns why it could not write, if it could not.
/// No fsync: a torn entry after a crash fails its checksum and is rebuilt, so durability is
/// not worth a disk flush on every cold run.
fn store(entry: &Path, component: &Component, source: &Source) -> Option<String> {
    let payload = match component.serialize() {
        Ok(payload) => payload,
        Err(err) => return Some(format!("{err:#}")),
    };
    let mut trailer = Vec::with_capacity(TRAILER);
    trailer.extend_from_slice(&source.to_bytes());
    let mut checksum = crc32fast::Hasher::new();
    checksum.update(&payload);
    checksum.update(&trailer);
    trailer.extend_from_slice(&checksum.finalize().to_le_bytes());
    trailer.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    trailer.extend_from_slice(MAGIC);
    if let Err(err) = crate::fsutil::write_fresh(entry, &[&payload, &trailer]) {
        return Some(format!("{err:#}"));
    }
    if let Some(dir) = entry.parent() {
        trim_after_store(dir, entry);
    }
    None
}

/// How long a file must have been left alone before [`remember`] records it: longer than the
/// coarsest timestamp tick of common filesystems, so no later write can share its timestamps.
pub const SETTLED: Duration = Duration::from_secs(2);

/// Loads the compiled code of the component file at `path` without reading the file, if the
/// path index says which component it holds and the cache has a sound entry recording that
/// component (see `Source`). `None` means: read and hash the file, then
/// [`load_or_compile`] (and [`remember`]).
///
/// `variant` names `engine`'s configuration among the few one program uses (say, with and
/// without fuel), so each keeps its own record per path. It only has to tell them apart, not
/// describe them: the entry is looked up and checked by `engine`'s own compatibility hash.
pub fn recall(engine: &Engine, variant: &str, path: &Path, mode: &CacheMode) -> Option<Compiled> {
    recall_as_of(engine, variant, path, mode, SystemTime::now())
}

fn recall_as_of(
    engine: &Engine,
    variant: &str,
    path: &Path,
    mode: &CacheMode,
    now: SystemTime,
) -> Option<Compiled> {
    let start = Instant::now();
    let CacheMode::Dir(dir) = mode else {
        return None;
    };
    let stamp = FileStamp::of(path)?;
    let index = index_path(dir, variant, path)?;
    let record = std::fs::read_to_string(&index).ok()?;
    let mut lines = record.lines();
    let (recorded, component) = lines.next()?.rsplit_once(' ')?;
    if recorded != stamp.to_string() {
        return None;
    }
    let checked = lines.next().and_then(|line| line.strip_prefix("checked "));
    // Only the component is taken from the index; the size comes from the file itself.
    let source = Source {
        component: crate::digest::unhex(component)?,
        size: stamp.size,
        engine: engine_digest(engine),
    };
    let entry = entry_path(dir, &source);
    let loaded = load(engine, &entry, &source, checked).ok()??;
    if let Some(checked) = loaded.checked.filter(|checked| checked.settled(now)) {
        // Best effort, as in `remember`: without it the next run checks the checksum again.
        let record = format!("{stamp} {component}\nchecked {checked}\n");
        let _ = crate::fsutil::write_fresh(&index, &[record.as_bytes()]);
    }
    Some(Compiled {
        component: loaded.component,
        outcome: CacheOutcome::Hit,
        elapsed: start.elapsed(),
        entry: Some(entry),
        store_error: None,
        recalled: true,
        source: Some(source),
        checked: None,
    })
}

/// Records in the path index that the component file at `path` holds the component
/// `compiled` was compiled from, if the file has settled. Best effort: a record that cannot
/// be written only means the next run hashes the file again.
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
    let (CacheMode::Dir(dir), Some(source)) = (mode, compiled.source) else {
        return;
    };
    let (Some(stamp), Some(index)) = (FileStamp::of(path), index_path(dir, variant, path)) else {
        return;
    };
    if !stamp.settled(now) || stamp.size != source.size {
        return;
    }
    let mut record = format!("{stamp} {}\n", crate::digest::hex(&source.component));
    if let Some(checked) = compiled
        .checked
        .as_ref()
        .filter(|checked| checked.settled(now))
    {
        record.push_str(&format!("checked {checked}\n"));
    }
    let _ = crate::fsutil::write_fresh(&index, &[record.as_bytes()]);
}

/// The index record's file for `path` run with the engine `variant`.
fn index_path(dir: &Path, variant: &str, path: &Path) -> Option<PathBuf> {
    let path = std::fs::canonicalize(path).ok()?;
    let mut hasher = Sha256::new();
    for part in [
        // Records name a component since version 2, an entry before.
        b"wcomp path index 2".as_slice(),
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

/// How much compiled code the cache keeps unless `WCOMP_CACHE_MAX_SIZE` says otherwise: about
/// fifty entries of a Python composition, thousands of a Rust one.
pub const DEFAULT_MAX_SIZE: u64 = 2 << 30;

/// The environment variable that bounds the cache: a size (`512MiB`, `10GiB`) or `none`.
pub const MAX_SIZE_VAR: &str = "WCOMP_CACHE_MAX_SIZE";

/// The bound on the cache's entries: `WCOMP_CACHE_MAX_SIZE`, else [`DEFAULT_MAX_SIZE`];
/// `None` when it says `none`.
pub fn max_size() -> Result<Option<u64>, crate::units::UnitError> {
    match std::env::var_os(MAX_SIZE_VAR) {
        None => Ok(Some(DEFAULT_MAX_SIZE)),
        Some(value) => parse_max_size(&value.to_string_lossy()),
    }
}

/// Reads a cache bound: a size, or `none`/`off` for none.
pub fn parse_max_size(text: &str) -> Result<Option<u64>, crate::units::UnitError> {
    match text.trim() {
        "none" | "off" => Ok(None),
        size => crate::units::parse_size(size).map(Some),
    }
}

/// Best effort after a store: trims `dir` to [`max_size`], sparing the entry just written.
/// A bound that cannot be read (the command line refuses one before anything runs) or a
/// directory that cannot be listed only leave the cache as it is.
fn trim_after_store(dir: &Path, written: &Path) {
    if let Ok(Some(max_size)) = max_size() {
        let _ = trim(dir, max_size, Some(written));
    }
}

/// What [`trim`] removed and left.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    /// Entries removed.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Entries left.
    pub kept_files: u64,
    /// Their bytes.
    pub kept_bytes: u64,
}

/// Removes the entries of `dir` used longest ago until the rest take at most `max_size` bytes,
/// never `spare` (the entry a run just wrote, even when it alone is larger). An entry's last use
/// is the later of its file's access and modification times. An entry another run has mapped
/// stays readable to it; a run about to open one that is gone compiles again. The path index is
/// left alone: a record whose entry is gone only costs the next run a hash of its file.
pub fn trim(dir: &Path, max_size: u64, spare: Option<&Path>) -> std::io::Result<Trimmed> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().is_none_or(|ext| ext != "cwasm") {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue; // renamed or removed by a concurrent run
        };
        if !metadata.is_file() {
            continue;
        }
        let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let used = metadata
            .accessed()
            .map_or(modified, |accessed| accessed.max(modified));
        entries.push((spare == Some(path.as_path()), used, path, metadata.len()));
    }
    // The spared entry last, then the most recently used: what is removed comes from the front.
    entries.sort();
    let mut trimmed = Trimmed {
        kept_files: entries.len() as u64,
        kept_bytes: entries.iter().map(|(.., len)| len).sum(),
        ..Trimmed::default()
    };
    for (spared, _, path, len) in entries {
        if trimmed.kept_bytes <= max_size || spared {
            break;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                trimmed.files += 1;
                trimmed.bytes += len;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        trimmed.kept_files -= 1;
        trimmed.kept_bytes -= len;
    }
    Ok(trimmed)
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
mod tests;
