//! The embedded store: every embedded bucket of a state directory in one SQLite database
//! (`keyvalue.sqlite3`), through `rusqlite` with SQLite's own bundled source, so no system
//! library is needed.
//!
//! Durability: write-ahead log with `synchronous = NORMAL`. A write is in the log (written
//! with `write(2)`, so in the operating system's hands) before the guest hears it succeeded,
//! so every write a guest saw succeed survives the server being killed (`kill -9`) at any
//! moment; SQLite recovers the log when it next opens. Only a power loss or a kernel crash
//! can lose the last transactions since the log was last synced (at each checkpoint); no write
//! is ever torn. `increment` and the batch operations are one transaction each, taken with
//! the write lock (`BEGIN IMMEDIATE`), so they are atomic across the guests of one server and
//! across servers sharing the directory.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use super::answer::{KvError, KvResult, incremented};
use crate::runtime::config::StateError;

/// The database's file name in the state directory.
pub const FILE: &str = "keyvalue.sqlite3";

/// How long a write waits for another process holding the database's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One state directory's database. Calls are short (microseconds), so they run on the calling
/// thread under one connection's lock.
#[derive(Debug)]
pub struct Embedded {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl Embedded {
    /// Opens (creating if needed) the database of state directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        let path = dir.join(FILE);
        let failed = |reason: String| StateError::StateDir {
            path: path.clone(),
            reason,
        };
        fs_err::create_dir_all(dir).map_err(|err| failed(err.to_string()))?;
        let connection = Connection::open(&path).map_err(|err| failed(err.to_string()))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .and_then(|()| {
                connection.pragma_update(None, "journal_mode", "WAL")?;
                connection.pragma_update(None, "synchronous", "NORMAL")?;
                connection.execute_batch(
                    "CREATE TABLE IF NOT EXISTS entries (
                         bucket TEXT NOT NULL,
                         key TEXT NOT NULL,
                         value BLOB NOT NULL,
                         PRIMARY KEY (bucket, key)
                     ) WITHOUT ROWID;",
                )
            })
            .map_err(|err| failed(err.to_string()))?;
        Ok(Self {
            path,
            connection: Mutex::new(connection),
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The guest's error for a failed database call.
    fn failed(&self, err: rusqlite::Error) -> KvError {
        KvError::Other(format!(
            "the embedded store `{}` failed: {err}",
            self.path.display()
        ))
    }

    pub fn get(&self, bucket: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        get(&self.connection(), bucket, key).map_err(|err| self.failed(err))
    }

    pub fn exists(&self, bucket: &str, key: &str) -> KvResult<bool> {
        self.connection()
            .prepare_cached("SELECT 1 FROM entries WHERE bucket = ?1 AND key = ?2")
            .and_then(|mut statement| statement.exists(params![bucket, key]))
            .map_err(|err| self.failed(err))
    }

    pub fn get_many(&self, bucket: &str, keys: &[String]) -> KvResult<Vec<Option<Vec<u8>>>> {
        let connection = self.connection();
        keys.iter()
            .map(|key| get(&connection, bucket, key).map_err(|err| self.failed(err)))
            .collect()
    }

    /// Sets every entry, in one transaction.
    pub fn set_many(&self, bucket: &str, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.write(|tx| {
            let mut statement = tx.prepare_cached(
                "INSERT INTO entries (bucket, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value",
            )?;
            for (key, value) in &entries {
                statement.execute(params![bucket, key, value])?;
            }
            Ok(Ok(()))
        })
    }

    /// Deletes every key, in one transaction (missing keys are not an error).
    pub fn delete_many(&self, bucket: &str, keys: &[String]) -> KvResult<()> {
        self.write(|tx| {
            let mut statement =
                tx.prepare_cached("DELETE FROM entries WHERE bucket = ?1 AND key = ?2")?;
            for key in keys {
                statement.execute(params![bucket, key])?;
            }
            Ok(Ok(()))
        })
    }

    pub fn increment(&self, bucket: &str, key: &str, delta: u64) -> KvResult<u64> {
        self.write(|tx| {
            let current = get(tx, bucket, key)?;
            let value = match incremented(key, current.as_deref(), delta) {
                Ok(value) => value,
                Err(err) => return Ok(Err(err)),
            };
            tx.prepare_cached(
                "INSERT INTO entries (bucket, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![bucket, key, value.to_string().into_bytes()])?;
            Ok(Ok(value))
        })
    }

    /// Up to `page` keys from position `from` in key order, and where the next page starts.
    pub fn list(
        &self,
        bucket: &str,
        from: u64,
        page: usize,
    ) -> KvResult<(Vec<String>, Option<u64>)> {
        let connection = self.connection();
        let listed = (|| {
            let mut statement = connection.prepare_cached(
                "SELECT key FROM entries WHERE bucket = ?1 ORDER BY key LIMIT ?2 OFFSET ?3",
            )?;
            // One more than a page tells whether there is a next one.
            let limit = i64::try_from(page).unwrap_or(i64::MAX).saturating_add(1);
            let offset = i64::try_from(from).unwrap_or(i64::MAX);
            let rows = statement.query_map(params![bucket, limit, offset], |row| row.get(0))?;
            rows.collect::<Result<Vec<String>, _>>()
        })();
        let mut keys = listed.map_err(|err| self.failed(err))?;
        let more = keys.len() > page;
        keys.truncate(page);
        let next = from.saturating_add(keys.len() as u64);
        Ok((keys, more.then_some(next)))
    }

    /// Runs `body` in a transaction holding the write lock, committing unless it fails.
    fn write<T>(
        &self,
        body: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<KvResult<T>>,
    ) -> KvResult<T> {
        let mut connection = self.connection();
        let done = (|| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let answer = body(&tx)?;
            if answer.is_ok() {
                tx.commit()?;
            }
            Ok(answer)
        })();
        done.map_err(|err| self.failed(err))?
    }
}

fn get(connection: &Connection, bucket: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    connection
        .prepare_cached("SELECT value FROM entries WHERE bucket = ?1 AND key = ?2")?
        .query_row(params![bucket, key], |row| row.get(0))
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_buckets_apart_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Embedded::open(dir.path()).unwrap();
            store
                .set_many("a", vec![("k".into(), b"1".to_vec())])
                .unwrap();
            assert_eq!(store.increment("b", "k", 5), Ok(5));
            assert_eq!(store.increment("b", "k", 2), Ok(7));
            assert!(store.increment("a", "k", 1).is_ok());
            store
                .set_many("a", vec![("text".into(), b"x".to_vec())])
                .unwrap();
            assert!(store.increment("a", "text", 1).is_err());
        }
        let store = Embedded::open(dir.path()).unwrap();
        assert_eq!(store.get("a", "k"), Ok(Some(b"2".to_vec())));
        assert_eq!(store.get("b", "k"), Ok(Some(b"7".to_vec())));
        assert!(store.exists("a", "text").unwrap());
        store
            .delete_many("a", &["text".into(), "nothing".into()])
            .unwrap();
        assert!(!store.exists("a", "text").unwrap());
        let (keys, next) = store.list("a", 0, 10).unwrap();
        assert_eq!((keys, next), (vec!["k".to_owned()], None));
    }

    #[test]
    fn an_unwritable_state_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = Embedded::open(&file.join("state")).unwrap_err();
        assert!(err.to_string().contains("state"), "{err}");
    }
}
