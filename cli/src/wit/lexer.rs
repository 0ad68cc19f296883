//! A lossless WIT tokenizer: unlike wit-parser's, it keeps comments as tokens and records
//! how many line breaks came before each token, which is all the formatter needs to put
//! every comment back where it was. Token boundaries follow wit-parser's lexer exactly so
//! that a file both accept is split the same way.

/// What a token is. Keywords are [`Kind::Id`] tokens; callers compare the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An identifier or keyword (`interface`, `my-type`).
    Id,
    /// `%`-escaped identifier (`%interface`).
    ExplicitId,
    Integer,
    /// A `"…"` literal (attribute arguments).
    String,
    /// Punctuation, including `->`.
    Punct,
    /// `// …` up to (not including) the end of the line.
    LineComment,
    /// `/* … */`, possibly nested and spanning lines.
    BlockComment,
}

/// One token of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// Byte offset in the source.
    pub start: usize,
    /// Line breaks between the previous token (or the start of the file) and this one.
    pub newlines_before: u32,
}

impl Token<'_> {
    pub fn is_comment(&self) -> bool {
        matches!(self.kind, Kind::LineComment | Kind::BlockComment)
    }

    /// Whether this is the punctuation or (unescaped) keyword `text`.
    pub fn is(&self, text: &str) -> bool {
        matches!(self.kind, Kind::Punct | Kind::Id) && self.text == text
    }

    /// Whether this keyword starts a type definition (in an interface or a world).
    pub fn starts_typedef(&self) -> bool {
        ["type", "record", "variant", "enum", "flags", "resource"]
            .iter()
            .any(|keyword| self.is(keyword))
    }

    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// A character the tokenizer cannot place, or an unterminated comment or string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub offset: usize,
    pub message: String,
}

/// Splits `source` into tokens, comments included, whitespace dropped.
pub fn tokenize(source: &str) -> Result<Vec<Token<'_>>, LexError> {
    let mut tokens = Vec::new();
    let bytes = source.as_bytes();
    let mut i = if source.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut newlines = 0u32;
    while i < source.len() {
        let c = source[i..].chars().next().expect("in bounds");
        let start = i;
        let kind = match c {
            ' ' | '\t' | '\n' => {
                newlines += u32::from(c == '\n');
                i += 1;
                continue;
            }
            '\r' if bytes.get(i + 1) == Some(&b'\n') => {
                i += 1;
                continue;
            }
            '/' if bytes.get(i + 1) == Some(&b'/') => {
                i = source[i..].find('\n').map_or(source.len(), |n| i + n);
                Kind::LineComment
            }
            '/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(source, i)?;
                Kind::BlockComment
            }
            '-' if bytes.get(i + 1) == Some(&b'>') => {
                i += 2;
                Kind::Punct
            }
            '=' | ',' | ':' | '.' | ';' | '(' | ')' | '{' | '}' | '<' | '>' | '*' | '@' | '/'
            | '+' | '-' => {
                i += 1;
                Kind::Punct
            }
            '%' => {
                i += 1;
                if source[i..].chars().next().is_some_and(is_keylike_start) {
                    i = keylike_end(source, i);
                }
                Kind::ExplicitId
            }
            '"' => {
                i = string_end(source, i)?;
                Kind::String
            }
            c if c.is_ascii_digit() => {
                i = start
                    + source[start..]
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(source.len() - start);
                Kind::Integer
            }
            c if is_keylike_start(c) => {
                i = keylike_end(source, i);
                Kind::Id
            }
            c => {
                return Err(LexError {
                    offset: start,
                    message: format!("unexpected character {c:?}"),
                });
            }
        };
        let mut text = &source[start..i];
        if kind == Kind::LineComment {
            // The `\r` of a CRLF line end is not part of the comment.
            text = text.trim_end_matches('\r');
        }
        tokens.push(Token {
            kind,
            text,
            start,
            newlines_before: newlines,
        });
        newlines = 0;
    }
    Ok(tokens)
}

fn is_keylike_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '-'
}

fn keylike_end(source: &str, from: usize) -> usize {
    source[from..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .map_or(source.len(), |n| from + n)
}

fn block_comment_end(source: &str, from: usize) -> Result<usize, LexError> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => i += 1,
        }
    }
    Err(LexError {
        offset: from,
        message: "unterminated block comment".to_owned(),
    })
}

fn string_end(source: &str, from: usize) -> Result<usize, LexError> {
    let bytes = source.as_bytes();
    let mut i = from + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            b'\n' => break,
            _ => i += 1,
        }
    }
    Err(LexError {
        offset: from,
        message: "unterminated string".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(Kind, &str, u32)> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text, t.newlines_before))
            .collect()
    }

    #[test]
    fn keeps_comments_and_counts_line_breaks() {
        let tokens = kinds("a: func() -> u32; // x\r\n\n/* b /* nested */ */ %interface");
        assert_eq!(
            tokens,
            vec![
                (Kind::Id, "a", 0),
                (Kind::Punct, ":", 0),
                (Kind::Id, "func", 0),
                (Kind::Punct, "(", 0),
                (Kind::Punct, ")", 0),
                (Kind::Punct, "->", 0),
                (Kind::Id, "u32", 0),
                (Kind::Punct, ";", 0),
                (Kind::LineComment, "// x", 0),
                (Kind::BlockComment, "/* b /* nested */ */", 2),
                (Kind::ExplicitId, "%interface", 0),
            ]
        );
    }

    #[test]
    fn minus_is_never_part_of_an_identifier_start() {
        assert_eq!(
            kinds("@0.2.0-rc-1"),
            vec![
                (Kind::Punct, "@", 0),
                (Kind::Integer, "0", 0),
                (Kind::Punct, ".", 0),
                (Kind::Integer, "2", 0),
                (Kind::Punct, ".", 0),
                (Kind::Integer, "0", 0),
                (Kind::Punct, "-", 0),
                (Kind::Id, "rc-1", 0),
            ]
        );
    }

    #[test]
    fn reports_unterminated_comments() {
        assert!(tokenize("/* open").is_err());
        assert!(tokenize("a $").is_err());
    }
}
