//! `logic`: text statistics, the service's logic. Implements `example:wordsvc/stats`.

wit_bindgen::generate!({ world: "logic", path: "../wit" });

use exports::example::wordsvc::stats::{Guest, Summary};

struct Component;

impl Guest for Component {
    fn analyze(text: String) -> Summary {
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
