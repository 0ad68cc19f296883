wit_bindgen::generate!({ world: "analyzer", path: "../wit" });

use exports::acme::text::stats::{Guest, Summary};

struct Component;

impl Guest for Component {
    fn analyze(text: String) -> Summary {
        let words: Vec<&str> = text.split_whitespace().collect();
        // The first of the longest words wins ties.
        let longest = words.iter().fold("", |best, word| if word.len() > best.len() { word } else { best });
        Summary { words: words.len() as u32, longest: longest.to_owned() }
    }
}

export!(Component);
