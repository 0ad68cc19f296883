//! Go components on the standard Go toolchain: the tool and its version ([`tool`]), bindings
//! generated in-process ([`bindings`], kept out of the way of the garbage collector by
//! [`collector`]) against the runtime module ([`runtime_module`]), the build ([`toolchain`]),
//! and new projects with stubs for a user's world ([`scaffold`]).

pub mod bindings;
mod collector;
pub mod runtime_module;
pub mod scaffold;
pub mod tool;
pub mod toolchain;

pub use bindings::{GENERATED_HEADER, generate_bindings, is_generated, write_bindings};
pub use scaffold::{example, from_world, http_files, http_project};
pub use tool::{GoError, GoToolchain, GoVersion, MIN_GO, RUNTIME_MODULE};
pub use toolchain::componentize;
