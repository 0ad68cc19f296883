//! The `tokenizer` component (Rust): splits text into lowercase words with their offsets.

wit_bindgen::generate!({ world: "tokenizer", path: "../wit" });

use exports::textstats::app::tokens::{Guest, Token};

struct Component;

impl Guest for Component {
    fn tokenize(text: String) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut start = None;
        // A sentinel space at the end flushes the last word.
        for (index, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            match (c.is_whitespace(), start) {
                (true, Some(begin)) => {
                    push_word(&mut tokens, &text[begin..index], begin);
                    start = None;
                }
                (false, None) => start = Some(index),
                _ => {}
            }
        }
        tokens
    }
}

/// Adds `raw` (found at byte `offset`) without surrounding punctuation, if anything is left.
fn push_word(tokens: &mut Vec<Token>, raw: &str, offset: usize) {
    let trimmed_start = raw.trim_start_matches(|c: char| !c.is_alphanumeric());
    let word = trimmed_start.trim_end_matches(|c: char| !c.is_alphanumeric());
    if !word.is_empty() {
        let offset = offset + (raw.len() - trimmed_start.len());
        tokens.push(Token { word: word.to_lowercase(), offset: offset as u32 });
    }
}

export!(Component);
