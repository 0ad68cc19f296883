wit_bindgen::generate!({ world: "prober", path: "wit", generate_all });

use exports::wcomp::state::probe::Guest;
use wasi::config::store as config;
use wasi::keyvalue::{atomics, batch, store};

struct Component;

fn show(err: impl std::fmt::Debug) -> String {
    format!("{err:?}")
}

fn open(bucket: &str) -> Result<store::Bucket, String> {
    store::open(bucket).map_err(show)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Guest for Component {
    fn bump(bucket: String, key: String, delta: u64) -> Result<u64, String> {
        atomics::increment(&open(&bucket)?, &key, delta).map_err(show)
    }

    fn get(bucket: String, key: String) -> Result<Option<String>, String> {
        Ok(open(&bucket)?.get(&key).map_err(show)?.map(text))
    }

    fn set(bucket: String, key: String, value: String) -> Result<(), String> {
        open(&bucket)?.set(&key, value.as_bytes()).map_err(show)
    }

    fn remove(bucket: String, key: String) -> Result<(), String> {
        open(&bucket)?.delete(&key).map_err(show)
    }

    fn exists(bucket: String, key: String) -> Result<bool, String> {
        open(&bucket)?.exists(&key).map_err(show)
    }

    fn keys(bucket: String) -> Result<Vec<String>, String> {
        let bucket = open(&bucket)?;
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = bucket.list_keys(cursor).map_err(show)?;
            keys.extend(page.keys);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    fn batch(
        bucket: String,
        entries: Vec<(String, String)>,
        keys: Vec<String>,
    ) -> Result<Vec<Option<String>>, String> {
        let bucket = open(&bucket)?;
        let entries: Vec<(String, Vec<u8>)> = entries
            .into_iter()
            .map(|(key, value)| (key, value.into_bytes()))
            .collect();
        batch::set_many(&bucket, &entries).map_err(show)?;
        let found = batch::get_many(&bucket, &keys).map_err(show)?;
        Ok(found
            .into_iter()
            .map(|entry| entry.map(|(_, value)| text(value)))
            .collect())
    }

    fn remove_many(bucket: String, keys: Vec<String>) -> Result<(), String> {
        batch::delete_many(&open(&bucket)?, &keys).map_err(show)
    }

    fn setting(key: String) -> Result<Option<String>, String> {
        config::get(&key).map_err(show)
    }

    fn settings() -> Result<Vec<(String, String)>, String> {
        let mut all = config::get_all().map_err(show)?;
        all.sort();
        Ok(all)
    }
}

export!(Component);
