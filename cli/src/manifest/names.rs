//! Name rules shared by the scaffolders: what a project may be called, and how WIT's kebab-case
//! names become the identifiers each language's bindings generator uses.

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Names a project may not take because they clash with built-in crates or targets.
const RESERVED: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "build",
    "deps",
    "target",
];

/// Checks a project name: ASCII letters, digits, `-` and `_`, starting with a letter.
pub fn validate_project_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("the name is empty".into());
    };
    if !first.is_ascii_alphabetic() {
        return Err(format!("`{name}` must start with a letter"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "`{name}` contains `{bad}`; use letters, digits, `-` and `_`"
        ));
    }
    let snake = name.replace('-', "_");
    if RESERVED.contains(&snake.as_str()) || RUST_KEYWORDS.contains(&snake.as_str()) {
        return Err(format!("`{name}` is a reserved name"));
    }
    let kebab = to_kebab(name);
    if kebab
        .split('-')
        .any(|part| part.is_empty() || !part.starts_with(|c: char| c.is_ascii_alphabetic()))
    {
        return Err(format!(
            "`{name}` does not make a valid WIT name (`{kebab}`): each `-`/`_`-separated part must start with a letter"
        ));
    }
    Ok(())
}

/// `My_Component` → `my-component` (WIT package and world names).
pub fn to_kebab(name: &str) -> String {
    name.replace('_', "-").to_ascii_lowercase()
}

/// `my-iface` → `my_iface`.
pub fn to_snake(name: &str) -> String {
    name.replace('-', "_").to_ascii_lowercase()
}

/// `my-type` → `MyType`.
pub fn to_upper_camel(name: &str) -> String {
    name.split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect()
}

/// A Rust identifier as wit-bindgen spells it: snake case, keywords suffixed with `_`.
pub fn rust_ident(name: &str) -> String {
    let snake = to_snake(name);
    if RUST_KEYWORDS.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names() {
        assert!(validate_project_name("text-stats").is_ok());
        assert!(validate_project_name("text_stats2").is_ok());
        assert!(validate_project_name("2fast").is_err());
        assert!(validate_project_name("a b").is_err());
        assert!(validate_project_name("std").is_err());
        assert!(validate_project_name("fn").is_err());
        assert!(validate_project_name("a--b").is_err());
        assert!(validate_project_name("").is_err());
    }

    #[test]
    fn converts_case() {
        assert_eq!(to_upper_camel("http-request"), "HttpRequest");
        assert_eq!(rust_ident("type"), "type_");
        assert_eq!(rust_ident("word-count"), "word_count");
        assert_eq!(to_kebab("My_Thing"), "my-thing");
    }
}
