//! The on-disk cache of compiled code, so a second run of the same component skips Cranelift.
//!
//! An entry's name is the SHA-256 of the component's bytes and of the engine's compatibility
//! hash (wasmtime version, target, compiler flags and every setting that changes the code,
//! such as fuel). Its content is a header, the payload's length and CRC-32, and the payload
//! (`Component::serialize`). CRC-32 rather than a cryptographic hash: it catches the damage a
//! disk or a crash does, at a tenth of the cost on every warm run; the key, which must never
//! collide, stays SHA-256. Entries are written to a temporary file and renamed, so concurrent
//! runs each see a whole entry or none; an entry that fails its checksum or does not load is
//! compiled again and replaced, never trusted and never fatal. A cache that cannot be written
//! only costs speed. Nothing here knows about the command line.

use std::hash::Hasher;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
}

/// The directory for compiled code under wcomp's cache root.
pub fn compiled_dir(cache_root: &Path) -> PathBuf {
    cache_root.join("compiled")
}

const MAGIC: &[u8; 8] = b"wcompC02";
/// Magic, payload length (u64 LE), payload CRC-32 (u32 LE).
const HEADER: usize = MAGIC.len() + 8 + 4;

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
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hasher.write(&(bytes.len() as u64).to_le_bytes());
    hasher.write(bytes);
    hex(&hasher.0.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
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
    let data = match fs_err::read(entry) {
        Ok(data) => data,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot read it: {err}")),
    };
    if data.len() < HEADER || &data[..MAGIC.len()] != MAGIC {
        return Err("it is not a wcomp cache entry".into());
    }
    let (header, payload) = data.split_at(HEADER);
    let length = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
    let checksum = u32::from_le_bytes(header[16..20].try_into().unwrap_or_default());
    if length != payload.len() as u64 {
        return Err("it is truncated".into());
    }
    if crc32fast::hash(payload) != checksum {
        return Err("its checksum does not match (the file is corrupt)".into());
    }
    deserialize(engine, payload)
        .map(Some)
        .map_err(|err| format!("wasmtime cannot load it: {err}"))
}

/// Loads compiled code that this module wrote.
///
/// Deserializing is unsafe because wasmtime maps the bytes as executable code without
/// validating them. What makes it sound here: the bytes come only from an entry in wcomp's own
/// cache directory whose length and CRC-32 matched, so they are exactly what
/// `Component::serialize` produced on this machine (disk or copy corruption fails the check);
/// and wasmtime itself rejects code from another wasmtime version or engine configuration.
/// The remaining trust is in whoever can write the user's cache directory, who could as well
/// replace the wcomp binary. wasmtime's own code cache makes the same call.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, payload: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: see the function's documentation.
    unsafe { Component::deserialize(engine, payload) }
}

/// Writes an entry atomically. No fsync: a torn entry after a crash fails its checksum and
/// is rebuilt, so durability is not worth a disk flush on every cold run.
fn store(entry: &Path, payload: &[u8]) -> anyhow::Result<()> {
    let dir = entry.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|err| anyhow::anyhow!("cannot create a file in `{}`: {err}", dir.display()))?;
    temp.write_all(MAGIC)
        .and_then(|()| temp.write_all(&(payload.len() as u64).to_le_bytes()))
        .and_then(|()| temp.write_all(&crc32fast::hash(payload).to_le_bytes()))
        .and_then(|()| temp.write_all(payload))
        .map_err(|err| anyhow::anyhow!("cannot write `{}`: {err}", entry.display()))?;
    temp.persist(entry)
        .map_err(|err| anyhow::anyhow!("cannot write `{}`: {}", entry.display(), err.error))?;
    Ok(())
}

/// What [`clean`] removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cleaned {
    pub files: u64,
    pub bytes: u64,
}

/// Removes every entry under `dir` (compiled code only; other caches are left alone).
pub fn clean(dir: &Path) -> anyhow::Result<Cleaned> {
    let mut cleaned = Cleaned::default();
    let entries = match fs_err::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(cleaned),
        Err(err) => return Err(err.into()),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let metadata = fs_err::symlink_metadata(&path)?;
        if metadata.is_dir() {
            fs_err::remove_dir_all(&path)?;
        } else {
            match fs_err::remove_file(&path) {
                Ok(()) => {}
                // A concurrent run may have renamed or removed it.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err.into()),
            }
        }
        cleaned.files += 1;
        cleaned.bytes += metadata.len();
    }
    Ok(cleaned)
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
        let last = data.len() - 1;
        data[last] ^= 0xff;
        std::fs::write(&entry, &data).unwrap();
        let third = load_or_compile(&engine, &bytes, &mode).unwrap();
        assert!(
            matches!(&third.outcome, CacheOutcome::Rebuilt { reason } if reason.contains("checksum")),
            "{:?}",
            third.outcome
        );
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
    fn the_key_covers_the_engine_config_and_the_bytes() {
        let bytes = wat::parse_str(WAT).unwrap();
        assert_ne!(key(&engine(false), &bytes), key(&engine(true), &bytes));
        assert_eq!(key(&engine(false), &bytes), key(&engine(false), &bytes));
        let other = wat::parse_str(WAT.replace("i32.const 7", "i32.const 8")).unwrap();
        assert_ne!(key(&engine(false), &bytes), key(&engine(false), &other));
    }
}
