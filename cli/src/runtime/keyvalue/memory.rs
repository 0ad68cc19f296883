//! Buckets in memory (`--kv <bucket>=memory`): for tests and throwaway state, shared by every
//! guest of the process and gone when it ends.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::answer::{KvResult, incremented};

/// One bucket's entries, in key order (so `list-keys` pages are stable).
#[derive(Debug, Default)]
pub struct Memory(Mutex<BTreeMap<String, Vec<u8>>>);

impl Memory {
    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.entries().get(key).cloned()
    }

    pub fn set(&self, key: String, value: Vec<u8>) {
        self.entries().insert(key, value);
    }

    pub fn delete(&self, key: &str) {
        self.entries().remove(key);
    }

    pub fn increment(&self, key: String, delta: u64) -> KvResult<u64> {
        let mut entries = self.entries();
        let value = incremented(&key, entries.get(&key).map(Vec::as_slice), delta)?;
        entries.insert(key, value.to_string().into_bytes());
        Ok(value)
    }

    /// Up to `page` keys from position `from`, and where the next page starts.
    pub fn list(&self, from: u64, page: usize) -> (Vec<String>, Option<u64>) {
        let entries = self.entries();
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        let keys: Vec<String> = entries.keys().skip(from).take(page).cloned().collect();
        let next = from.saturating_add(keys.len());
        let more = next < entries.len();
        (keys, more.then_some(next as u64))
    }
}
