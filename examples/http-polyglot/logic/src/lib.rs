//! `logic`: text statistics, the service's logic. Implements `example:wordsvc/stats`.

wit_bindgen::generate!({ world: "logic", path: "../wit", generate_all });

use exports::example::wordsvc::stats::{Guest, Summary};
use wasi::keyvalue::{atomics, store};

struct Component;

/// The keyvalue bucket the count is kept in (`[serve.keyvalue]` in wcomp.toml grants it).
const BUCKET: &str = "stats";

/// Adds `delta` to the count of analysed texts and returns it; 0 when the bucket is not
/// granted or its store fails (the statistics do not depend on it).
fn count(delta: u64) -> u64 {
    store::open(BUCKET)
        .and_then(|bucket| atomics::increment(&bucket, "analyzed", delta))
        .unwrap_or(0)
}

impl Guest for Component {
    fn analyzed() -> u64 {
        count(0)
    }

    fn analyze(text: String) -> Summary {
        count(1);
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|word| !word.is_empty())
            .collect();
        let mut unique: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        unique.sort();
        unique.dedup();
        let longest = words
            .iter()
            .fold("", |best, word| if word.chars().count() > best.chars().count() { word } else { best });
        Summary {
            words: words.len() as u32,
            unique: unique.len() as u32,
            longest: longest.to_owned(),
        }
    }
}

export!(Component);
