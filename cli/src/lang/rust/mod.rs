//! Rust components: a `cdylib` crate using `wit_bindgen::generate!`, built by cargo for
//! `wasm32-wasip2` ([`toolchain`]); new projects and stubs for a user's world ([`scaffold`]).

pub mod scaffold;
pub mod toolchain;

pub use scaffold::{
    WIT_BINDGEN_VERSION, WSTD_VERSION, example, from_world, http_project, nn_files,
};
pub use toolchain::{RustToolchain, TARGET};
