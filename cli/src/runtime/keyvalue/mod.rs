//! `wasi:keyvalue@0.2.0-draft` (`store`, `atomics`, `batch`) on buckets granted by name, deny
//! by default: `--kv <bucket>` on the embedded store (SQLite in the state directory,
//! [`embedded`]), `--kv <bucket>=memory` in memory for the life of the process,
//! `--kv <bucket>=redis://host:port/db` on a Redis or Valkey server ([`redis`]). Opening a
//! bucket that was not granted answers `no-such-store` and says, once per name, which grant
//! would allow it.
//!
//! Every backend keeps values as bytes and counters as decimal text (`increment` on a missing
//! key starts from 0), as Redis does, so a bucket can move between backends and a counter
//! reads the same through `get`. Failures of a backend reach the guest as the interface's
//! `other` error, never as a trap.

mod answer;
pub mod embedded;
mod memory;
pub mod redis;

pub use answer::{KvError, KvResult};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use wasmtime::Engine;
use wasmtime::component::{Component, HasData, Linker, Resource, ResourceTable};

use super::config::StateError;
use super::guest::{Events, RunEvent};

/// Where a bucket's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The embedded database in the state directory (the default).
    Embedded,
    /// A map in this process, gone when it ends.
    Memory,
    /// A Redis (or Valkey) server: its URL, as written.
    Redis(String),
}

impl Backend {
    /// The backend `text` names: `embedded`, `memory`, or a `redis://` URL.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "" | "embedded" => Ok(Self::Embedded),
            "memory" => Ok(Self::Memory),
            url if redis::is_url(url) => {
                redis::check_url(url)?;
                Ok(Self::Redis(url.to_owned()))
            }
            other => Err(format!(
                "`{}` is not a keyvalue backend",
                redis::redact(other)
            )),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded => f.write_str("the embedded store"),
            Self::Memory => f.write_str("memory (until the process ends)"),
            Self::Redis(url) => write!(f, "Redis at `{}`", redis::redact(url)),
        }
    }
}

/// `--kv <bucket>[=<backend>]`: a bucket the guest may open, and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvGrant {
    pub bucket: String,
    pub backend: Backend,
}

impl KvGrant {
    /// The grant of `bucket` on the backend `backend` names (a manifest's `bucket = "…"`).
    pub fn new(bucket: &str, backend: &str) -> Result<Self, StateError> {
        let error = |reason: String| StateError::Kv {
            text: format!("{bucket}={}", redis::redact(backend)),
            reason,
        };
        if bucket.is_empty() {
            return Err(error("the bucket name is empty".into()));
        }
        if bucket.chars().any(char::is_control) {
            return Err(error("the bucket name has a control character".into()));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            backend: Backend::parse(backend).map_err(error)?,
        })
    }
}

impl FromStr for KvGrant {
    type Err = StateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (bucket, backend) = text.split_once('=').unwrap_or((text, ""));
        Self::new(bucket, backend)
    }
}

impl fmt::Display for KvGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` on {}", self.bucket, self.backend)
    }
}

/// The state directory when none is given: `.wcomp/state` in `dir` (the manifest's
/// directory, or the current one for a lone component).
pub fn default_state_dir(dir: &Path) -> PathBuf {
    dir.join(".wcomp").join("state")
}

/// How many keys one `list-keys` call returns at most; the cursor continues from there.
const PAGE: usize = 1000;

/// A bucket's storage: the operations every backend implements.
pub enum Bucket {
    Memory(Arc<memory::Memory>),
    Embedded {
        store: Arc<embedded::Embedded>,
        name: String,
    },
    Redis(Arc<redis::Redis>),
}

impl Bucket {
    pub async fn get(&self, key: String) -> KvResult<Option<Vec<u8>>> {
        match self {
            Self::Memory(map) => Ok(map.get(&key)),
            Self::Embedded { store, name } => store.get(name, &key),
            Self::Redis(redis) => redis.get(key).await,
        }
    }

    pub async fn set(&self, key: String, value: Vec<u8>) -> KvResult<()> {
        match self {
            Self::Memory(map) => {
                map.set(key, value);
                Ok(())
            }
            Self::Embedded { store, name } => store.set_many(name, vec![(key, value)]),
            Self::Redis(redis) => redis.set(key, value).await,
        }
    }

    pub async fn delete(&self, key: String) -> KvResult<()> {
        self.delete_many(vec![key]).await
    }

    pub async fn exists(&self, key: String) -> KvResult<bool> {
        match self {
            Self::Memory(map) => Ok(map.get(&key).is_some()),
            Self::Embedded { store, name } => store.exists(name, &key),
            Self::Redis(redis) => redis.exists(key).await,
        }
    }

    /// Up to [`PAGE`] keys from `cursor` on, and the cursor of the next page if there is one.
    pub async fn list_keys(&self, cursor: Option<u64>) -> KvResult<(Vec<String>, Option<u64>)> {
        match self {
            Self::Memory(map) => Ok(map.list(cursor.unwrap_or(0), PAGE)),
            Self::Embedded { store, name } => store.list(name, cursor.unwrap_or(0), PAGE),
            Self::Redis(redis) => redis.list(cursor.unwrap_or(0), PAGE).await,
        }
    }

    /// Adds `delta` to the counter at `key` (0 when missing), atomically, and returns it.
    pub async fn increment(&self, key: String, delta: u64) -> KvResult<u64> {
        match self {
            Self::Memory(map) => map.increment(key, delta),
            Self::Embedded { store, name } => store.increment(name, &key, delta),
            Self::Redis(redis) => redis.increment(key, delta).await,
        }
    }

    pub async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<Option<(String, Vec<u8>)>>> {
        let values = match self {
            Self::Memory(map) => keys.iter().map(|key| map.get(key)).collect(),
            Self::Embedded { store, name } => store.get_many(name, &keys)?,
            Self::Redis(redis) => redis.get_many(keys.clone()).await?,
        };
        Ok(keys
            .into_iter()
            .zip(values)
            .map(|(key, value)| value.map(|value| (key, value)))
            .collect())
    }

    pub async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        match self {
            Self::Memory(map) => {
                for (key, value) in entries {
                    map.set(key, value);
                }
                Ok(())
            }
            Self::Embedded { store, name } => store.set_many(name, entries),
            Self::Redis(redis) => redis.set_many(entries).await,
        }
    }

    pub async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        match self {
            Self::Memory(map) => {
                for key in &keys {
                    map.delete(key);
                }
                Ok(())
            }
            Self::Embedded { store, name } => store.delete_many(name, &keys),
            Self::Redis(redis) => redis.delete_many(keys).await,
        }
    }
}

/// The granted buckets of a session, opened: every guest of it shares these.
#[derive(Default)]
pub struct Stores {
    buckets: BTreeMap<String, Arc<Bucket>>,
    events: Events,
    /// Bucket names already reported as not granted (each is reported once).
    denied: Mutex<BTreeSet<String>>,
}

impl fmt::Debug for Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stores")
            .field("buckets", &self.buckets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Stores {
    /// Opens what `grants` name: the embedded database in `state_dir` (created if needed)
    /// if any bucket is on it, one connection set per Redis URL. Redis is connected on first
    /// use, so a server starts while Redis is still coming up.
    pub fn open(grants: &[KvGrant], state_dir: &Path, events: &Events) -> Result<Self, StateError> {
        let mut embedded_store = None;
        let mut redis_servers: BTreeMap<&str, Arc<redis::Redis>> = BTreeMap::new();
        let mut buckets = BTreeMap::new();
        for grant in grants {
            let bucket = match &grant.backend {
                Backend::Memory => Bucket::Memory(Arc::default()),
                Backend::Embedded => {
                    let store = match &embedded_store {
                        Some(store) => Arc::clone(store),
                        None => {
                            let store = Arc::new(embedded::Embedded::open(state_dir)?);
                            embedded_store = Some(Arc::clone(&store));
                            store
                        }
                    };
                    Bucket::Embedded {
                        store,
                        name: grant.bucket.clone(),
                    }
                }
                Backend::Redis(url) => Bucket::Redis(Arc::clone(
                    redis_servers
                        .entry(url)
                        .or_insert_with(|| Arc::new(redis::Redis::new(url, events.clone()))),
                )),
            };
            buckets.insert(grant.bucket.clone(), Arc::new(bucket));
        }
        Ok(Self {
            buckets,
            events: events.clone(),
            denied: Mutex::default(),
        })
    }

    /// Empty in-memory buckets named `names` (`wcomp test`: every case of a run shares them,
    /// and a case may [`seed`](Stores::seed) them).
    pub fn seeded<'a>(names: impl IntoIterator<Item = &'a str>, events: &Events) -> Self {
        let buckets = names
            .into_iter()
            .map(|name| (name.to_owned(), Arc::new(Bucket::Memory(Arc::default()))))
            .collect();
        Self {
            buckets,
            events: events.clone(),
            denied: Mutex::default(),
        }
    }

    /// Sets `entries` in bucket `name`, an in-memory one ([`Stores::seeded`]).
    pub fn seed(&self, name: &str, entries: &BTreeMap<String, Vec<u8>>) -> KvResult<()> {
        let map = self.memory(name)?;
        for (key, value) in entries {
            map.set(key.clone(), value.clone());
        }
        Ok(())
    }

    /// The value of `key` in bucket `name`, an in-memory one ([`Stores::seeded`]).
    pub fn peek(&self, name: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        Ok(self.memory(name)?.get(key))
    }

    fn memory(&self, name: &str) -> KvResult<&memory::Memory> {
        match self.buckets.get(name).map(|bucket| &**bucket) {
            Some(Bucket::Memory(map)) => Ok(map),
            Some(_) => Err(KvError::other(format!("bucket `{name}` is not in memory"))),
            None => Err(KvError::NoSuchStore),
        }
    }

    /// The bucket `name`, if granted; otherwise says once which grant would allow it.
    fn open_bucket(&self, name: &str) -> KvResult<Arc<Bucket>> {
        if let Some(bucket) = self.buckets.get(name) {
            return Ok(Arc::clone(bucket));
        }
        let first = self
            .denied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned());
        if first {
            let shown = if name.is_empty() { "\"\"" } else { name };
            self.events.emit(&RunEvent::Warning {
                message: format!(
                    "the guest opened keyvalue bucket `{name}`, which is not granted, and got `no-such-store` (grant it with `--kv {shown}`, `--kv {shown}=memory` or `--kv {shown}=redis://<host>:<port>/<db>`)"
                ),
            });
        }
        self.events.emit(&RunEvent::Denied {
            what: format!("keyvalue bucket `{name}`"),
            grant: format!("--kv {name}"),
        });
        Err(KvError::NoSuchStore)
    }
}

/// A bucket a guest opened: an entry of its resource table.
pub struct OpenBucket(Arc<Bucket>);

/// The view of a store's host state the bindings work on.
pub struct KvView<'a> {
    pub stores: &'a Stores,
    pub table: &'a mut ResourceTable,
}

impl KvView<'_> {
    fn open(&mut self, name: &str) -> wasmtime::Result<KvResult<Resource<OpenBucket>>> {
        match self.stores.open_bucket(name) {
            Ok(bucket) => Ok(Ok(self.table.push(OpenBucket(bucket))?)),
            Err(err) => Ok(Err(err)),
        }
    }

    fn bucket(&self, bucket: &Resource<OpenBucket>) -> wasmtime::Result<Arc<Bucket>> {
        Ok(Arc::clone(&self.table.get(bucket)?.0))
    }

    fn close(&mut self, bucket: Resource<OpenBucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

/// The host state that carries a [`KvView`].
pub trait KvHost: Send + 'static {
    fn keyvalue(&mut self) -> KvView<'_>;
}

struct HasKv;
impl HasData for HasKv {
    type Data<'a> = KvView<'a>;
}

/// The WIT of `wasi:keyvalue@0.2.0-draft`'s `imports` world as wasmtime 48 serves it (its
/// `watch` interface, for exports, is left out), bound twice: with blocking host functions for
/// guests called to completion on the calling thread, and with async ones for guests on an
/// event loop (`serve`, async components), where a Redis round trip must not hold a thread.
macro_rules! keyvalue_bindings {
    ($($imports:tt)*) => {
        wasmtime::component::bindgen!({
            inline: "
                package wasi:keyvalue@0.2.0-draft;
                interface store {
                    variant error { no-such-store, access-denied, other(string) }
                    record key-response { keys: list<string>, cursor: option<u64> }
                    open: func(identifier: string) -> result<bucket, error>;
                    resource bucket {
                        get: func(key: string) -> result<option<list<u8>>, error>;
                        set: func(key: string, value: list<u8>) -> result<_, error>;
                        delete: func(key: string) -> result<_, error>;
                        exists: func(key: string) -> result<bool, error>;
                        list-keys: func(cursor: option<u64>) -> result<key-response, error>;
                    }
                }
                interface atomics {
                    use store.{bucket, error};
                    increment: func(bucket: borrow<bucket>, key: string, delta: u64) -> result<u64, error>;
                }
                interface batch {
                    use store.{bucket, error};
                    get-many: func(bucket: borrow<bucket>, keys: list<string>) -> result<list<option<tuple<string, list<u8>>>>, error>;
                    set-many: func(bucket: borrow<bucket>, key-values: list<tuple<string, list<u8>>>) -> result<_, error>;
                    delete-many: func(bucket: borrow<bucket>, keys: list<string>) -> result<_, error>;
                }
                world imports {
                    import store;
                    import atomics;
                    import batch;
                }
            ",
            world: "imports",
            imports: { $($imports)* },
            with: { "wasi:keyvalue/store.bucket": crate::runtime::keyvalue::OpenBucket },
        });
    };
}

/// Implements the bindings of module `$m` on [`KvView`]: `$($async)?` marks the methods
/// `async`, and `$finish!` turns a [`Bucket`] operation (a future) into its answer.
macro_rules! keyvalue_host {
    ($m:ident, [$($async:ident)?], $finish:ident) => {
        use $m::wasi::keyvalue::{atomics, batch, store};

        impl From<KvError> for store::Error {
            fn from(err: KvError) -> Self {
                match err {
                    KvError::NoSuchStore => Self::NoSuchStore,
                    KvError::AccessDenied => Self::AccessDenied,
                    KvError::Other(message) => Self::Other(message),
                }
            }
        }

        type Answer<T> = wasmtime::Result<Result<T, store::Error>>;

        impl store::Host for KvView<'_> {
            $($async)? fn open(&mut self, identifier: String) -> Answer<Resource<OpenBucket>> {
                Ok(KvView::open(self, &identifier)?.map_err(store::Error::from))
            }
        }

        impl store::HostBucket for KvView<'_> {
            $($async)? fn get(&mut self, b: Resource<OpenBucket>, key: String) -> Answer<Option<Vec<u8>>> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.get(key)).map_err(Into::into))
            }

            $($async)? fn set(&mut self, b: Resource<OpenBucket>, key: String, value: Vec<u8>) -> Answer<()> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.set(key, value)).map_err(Into::into))
            }

            $($async)? fn delete(&mut self, b: Resource<OpenBucket>, key: String) -> Answer<()> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.delete(key)).map_err(Into::into))
            }

            $($async)? fn exists(&mut self, b: Resource<OpenBucket>, key: String) -> Answer<bool> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.exists(key)).map_err(Into::into))
            }

            $($async)? fn list_keys(&mut self, b: Resource<OpenBucket>, cursor: Option<u64>) -> Answer<store::KeyResponse> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.list_keys(cursor))
                    .map(|(keys, cursor)| store::KeyResponse { keys, cursor })
                    .map_err(Into::into))
            }

            $($async)? fn drop(&mut self, b: Resource<OpenBucket>) -> wasmtime::Result<()> {
                self.close(b)
            }
        }

        impl atomics::Host for KvView<'_> {
            $($async)? fn increment(&mut self, b: Resource<OpenBucket>, key: String, delta: u64) -> Answer<u64> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.increment(key, delta)).map_err(Into::into))
            }
        }

        impl batch::Host for KvView<'_> {
            $($async)? fn get_many(&mut self, b: Resource<OpenBucket>, keys: Vec<String>) -> Answer<Vec<Option<(String, Vec<u8>)>>> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.get_many(keys)).map_err(Into::into))
            }

            $($async)? fn set_many(&mut self, b: Resource<OpenBucket>, entries: Vec<(String, Vec<u8>)>) -> Answer<()> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.set_many(entries)).map_err(Into::into))
            }

            $($async)? fn delete_many(&mut self, b: Resource<OpenBucket>, keys: Vec<String>) -> Answer<()> {
                let bucket = self.bucket(&b)?;
                Ok($finish!(bucket.delete_many(keys)).map_err(Into::into))
            }
        }
    };
}

macro_rules! blocking {
    ($future:expr) => {
        wasmtime_wasi::runtime::in_tokio($future)
    };
}

macro_rules! awaited {
    ($future:expr) => {
        $future.await
    };
}

mod blocking_bindings {
    keyvalue_bindings!(default: trappable);
}

mod async_bindings {
    keyvalue_bindings!(default: async | trappable);
}

mod blocking_host {
    use super::*;
    keyvalue_host!(blocking_bindings, [], blocking);
}

mod async_host {
    use super::*;
    keyvalue_host!(async_bindings, [async], awaited);
}

/// Whether `component` imports any `wasi:keyvalue` interface.
pub fn imported(engine: &Engine, component: &Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| name.starts_with("wasi:keyvalue/"))
}

/// Adds `wasi:keyvalue`: blocking host functions when guests are called to completion on the
/// calling thread (`blocking`), async ones otherwise.
pub fn add_to_linker<T: KvHost>(linker: &mut Linker<T>, blocking: bool) -> anyhow::Result<()> {
    fn view<T: KvHost>(host: &mut T) -> KvView<'_> {
        host.keyvalue()
    }
    if blocking {
        blocking_bindings::Imports::add_to_linker::<T, HasKv>(linker, view::<T>)?;
    } else {
        async_bindings::Imports::add_to_linker::<T, HasKv>(linker, view::<T>)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grants() {
        let grant: KvGrant = "default".parse().unwrap();
        assert_eq!(grant.backend, Backend::Embedded);
        let grant: KvGrant = "cache=memory".parse().unwrap();
        assert_eq!(grant.backend, Backend::Memory);
        let grant: KvGrant = "shared=redis://127.0.0.1:6379/2".parse().unwrap();
        assert_eq!(
            grant.backend,
            Backend::Redis("redis://127.0.0.1:6379/2".into())
        );
        let err = "=memory".parse::<KvGrant>().unwrap_err();
        assert!(
            err.to_string().contains("the bucket name is empty"),
            "{err}"
        );
        let err = "x=postgres://db".parse::<KvGrant>().unwrap_err();
        assert!(
            err.to_string()
                .contains("`postgres://db` is not a keyvalue backend"),
            "{err}"
        );
    }

    #[test]
    fn a_password_in_a_redis_url_is_never_shown() {
        let grant: KvGrant = "s=redis://user:hunter2@127.0.0.1:6379/0".parse().unwrap();
        assert!(!grant.to_string().contains("hunter2"), "{grant}");
        let err = "s=redis://:hunter2@127.0.0.1:notaport/0"
            .parse::<KvGrant>()
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[tokio::test]
    async fn memory_buckets_list_in_pages() {
        let stores = Stores::open(
            &["m=memory".parse().unwrap()],
            Path::new("/nonexistent"),
            &Events::default(),
        )
        .unwrap();
        let bucket = stores.open_bucket("m").unwrap();
        for i in 0..(PAGE + 5) {
            bucket.set(format!("k{i:05}"), vec![1]).await.unwrap();
        }
        let (first, cursor) = bucket.list_keys(None).await.unwrap();
        assert_eq!(first.len(), PAGE);
        let (rest, end) = bucket.list_keys(cursor).await.unwrap();
        assert_eq!(rest.len(), 5);
        assert_eq!(end, None);
        assert_eq!(stores.peek("m", "k00003"), Ok(Some(vec![1])));
        assert_eq!(
            stores.open_bucket("other").err(),
            Some(KvError::NoSuchStore)
        );
    }
}
