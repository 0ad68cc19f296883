//! Buckets on a Redis or Valkey server (`--kv <bucket>=redis://host:port/db`), so several
//! servers share state: every operation is one Redis command (`INCRBY` for `increment`,
//! `MGET`/`MSET`/`DEL` for the batch ones), atomic on the server. A bucket is the whole
//! database the URL names; give two buckets two databases (`/0`, `/1`) to keep them apart.
//!
//! Connections: a few multiplexed connections per URL, each carrying any number of requests at
//! once (pipelined), made on first use and made again after one fails. While Redis cannot be
//! reached, guests get the keyvalue `other` error (never a trap) and the server keeps serving;
//! losing Redis and getting it back are each logged once.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisError};

use super::answer::{KvError, KvResult};
use crate::runtime::guest::{Events, RunEvent};

/// Connections kept per Redis URL.
const CONNECTIONS: usize = 4;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `text` is a URL the Redis client takes.
pub fn is_url(text: &str) -> bool {
    [
        "redis://",
        "rediss://",
        "valkey://",
        "valkeys://",
        "redis+unix://",
        "unix://",
    ]
    .iter()
    .any(|scheme| text.starts_with(scheme))
}

/// Checks a Redis URL without connecting; the error never shows its password.
pub fn check_url(url: &str) -> Result<(), String> {
    redis::Client::open(url).map(drop).map_err(|err| {
        format!(
            "`{}` is not a Redis URL the client accepts: {err}",
            redact(url)
        )
    })
}

/// `url` with its password, if any, replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    format!("{scheme}://{user}:***{}", &rest[at..])
}

/// One Redis server's connections.
pub struct Redis {
    /// The URL as shown in messages (password redacted).
    shown: String,
    client: Option<redis::Client>,
    slots: Vec<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
    next: AtomicUsize,
    events: Events,
    /// Whether the last command failed for want of a connection.
    down: AtomicBool,
    /// Commands that failed since Redis went away.
    failures: AtomicU64,
}

impl Redis {
    /// Connections to `url` (checked by [`check_url`]), none made yet.
    pub fn new(url: &str, events: Events) -> Self {
        Self {
            shown: redact(url),
            client: redis::Client::open(url).ok(),
            slots: (0..CONNECTIONS)
                .map(|_| tokio::sync::Mutex::default())
                .collect(),
            next: AtomicUsize::new(0),
            events,
            down: AtomicBool::new(false),
            failures: AtomicU64::new(0),
        }
    }

    /// Runs `command` on one of the connections (made if needed) and reads its answer.
    async fn query<T: FromRedisValue>(&self, command: &redis::Cmd) -> KvResult<T> {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut connection = {
            let mut held = self.slots[slot].lock().await;
            match &*held {
                Some(connection) => connection.clone(),
                None => {
                    let connection = self.connect().await.map_err(|err| self.failed(&err))?;
                    *held = Some(connection.clone());
                    connection
                }
            }
        };
        match command.query_async::<T>(&mut connection).await {
            Ok(value) => {
                self.answered();
                Ok(value)
            }
            Err(err) => {
                if err.is_io_error()
                    || err.is_connection_dropped()
                    || err.is_timeout()
                    || err.is_unrecoverable_error()
                {
                    // Made again on the next command that lands on this slot.
                    *self.slots[slot].lock().await = None;
                    Err(self.failed(&err))
                } else {
                    Err(KvError::Other(format!("Redis at `{}`: {err}", self.shown)))
                }
            }
        }
    }

    async fn connect(&self) -> Result<MultiplexedConnection, RedisError> {
        let Some(client) = &self.client else {
            return Err(RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "invalid URL",
            )));
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// The guest's error when Redis cannot be reached; the first one since it last answered
    /// is logged.
    fn failed(&self, err: &RedisError) -> KvError {
        self.failures.fetch_add(1, Ordering::Relaxed);
        if !self.down.swap(true, Ordering::AcqRel) {
            self.events.emit(&RunEvent::Warning {
                message: format!(
                    "keyvalue: lost Redis at `{}` ({err}); guests get keyvalue errors until it answers again",
                    self.shown
                ),
            });
        }
        KvError::Other(format!("Redis at `{}` is unavailable: {err}", self.shown))
    }

    /// Logs Redis coming back, if it had gone away.
    fn answered(&self) {
        if self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel) {
            let failed = self.failures.swap(0, Ordering::Relaxed);
            self.events.emit(&RunEvent::Warning {
                message: format!(
                    "keyvalue: Redis at `{}` answers again ({failed} keyvalue calls failed meanwhile)",
                    self.shown
                ),
            });
        }
    }

    pub async fn get(&self, key: String) -> KvResult<Option<Vec<u8>>> {
        self.query(redis::cmd("GET").arg(key)).await
    }

    pub async fn set(&self, key: String, value: Vec<u8>) -> KvResult<()> {
        self.query(redis::cmd("SET").arg(key).arg(value)).await
    }

    pub async fn exists(&self, key: String) -> KvResult<bool> {
        self.query(redis::cmd("EXISTS").arg(key)).await
    }

    pub async fn increment(&self, key: String, delta: u64) -> KvResult<u64> {
        let delta = i64::try_from(delta).map_err(|_| {
            KvError::Other(format!(
                "cannot increment `{key}` by {delta}: Redis counters are signed 64-bit"
            ))
        })?;
        let value: i64 = self
            .query(redis::cmd("INCRBY").arg(&key).arg(delta))
            .await?;
        u64::try_from(value)
            .map_err(|_| KvError::Other(format!("the counter `{key}` is negative ({value})")))
    }

    pub async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.query(redis::cmd("MGET").arg(keys)).await
    }

    pub async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut command = redis::cmd("MSET");
        for (key, value) in entries {
            command.arg(key).arg(value);
        }
        self.query(&command).await
    }

    pub async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.query::<i64>(redis::cmd("DEL").arg(keys))
            .await
            .map(drop)
    }

    /// A page of keys from Redis's `SCAN` cursor `from` (0 starts); its next cursor, unless
    /// the scan is done. Pages hold about `page` keys (Redis's `COUNT` is a hint).
    pub async fn list(&self, from: u64, page: usize) -> KvResult<(Vec<String>, Option<u64>)> {
        let (next, keys): (u64, Vec<String>) = self
            .query(redis::cmd("SCAN").arg(from).arg("COUNT").arg(page))
            .await?;
        Ok((keys, (next != 0).then_some(next)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("redis://:secret@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact("redis://app:secret@cache:6379"),
            "redis://app:***@cache:6379"
        );
        assert_eq!(redact("redis://127.0.0.1/0"), "redis://127.0.0.1/0");
    }

    #[test]
    fn checks_urls_without_connecting() {
        assert!(check_url("redis://127.0.0.1:1/0").is_ok());
        let err = check_url("redis://:pw@127.0.0.1:99999999/0").unwrap_err();
        assert!(!err.contains("pw"), "{err}");
    }
}
