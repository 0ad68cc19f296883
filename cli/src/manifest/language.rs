//! The languages wcomp builds components from, as `wcomp.toml` names them.

use std::fmt;

/// A language wcomp can build components from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Go,
    Python,
    /// JavaScript (or TypeScript compiled to it), built with componentize-js.
    #[serde(alias = "javascript")]
    Js,
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rust => "rust",
            Self::Go => "go",
            Self::Python => "python",
            Self::Js => "js",
        })
    }
}
