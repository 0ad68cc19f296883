//! `wcomp doctor`: is every toolchain wcomp drives installed, at a version it supports? Each
//! check that fails carries the exact command that fixes it.

use super::rust::RustToolchain;
use super::toolchain::{Language, Toolchain};
use crate::Context;

/// The outcome of one check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// What was checked, e.g. `rust target wasm32-wasip2`.
    pub name: String,
    pub ok: bool,
    /// The version found, or what is wrong.
    pub detail: String,
    /// How to fix it, when it is not ok.
    pub fix: Option<String>,
}

impl Check {
    fn from_result(name: &str, result: anyhow::Result<String>) -> Self {
        match result {
            Ok(detail) => Self {
                name: name.to_owned(),
                ok: true,
                detail,
                fix: None,
            },
            Err(err) => Self {
                name: name.to_owned(),
                ok: false,
                detail: format!("{err:#}"),
                fix: crate::diagnostic::hint_of(&err),
            },
        }
    }
}

/// Runs every check.
pub fn run(ctx: &Context) -> Vec<Check> {
    let mut checks = Vec::new();
    let rust = RustToolchain::from_env();
    checks.push(Check::from_result("rust (cargo)", rust.version(ctx)));
    checks.push(Check::from_result(
        "rust target wasm32-wasip2",
        rust.check_target(&ctx.cwd).map(|()| "installed".to_owned()),
    ));
    for language in [Language::Go, Language::Python, Language::Js] {
        checks.push(Check::from_result(
            &language.to_string(),
            super::for_language(language).version(ctx),
        ));
    }
    checks
}
