//! JavaScript (and TypeScript) components through componentize-js: the project's layout and
//! pins ([`layout`]), provisioning the pinned componentize-js with npm ([`provision`]), the
//! build ([`toolchain`]), and new projects with stubs and world types ([`scaffold`],
//! [`stubs`]).

pub mod error;
pub mod layout;
pub mod provision;
pub mod scaffold;
pub mod stubs;
pub mod toolchain;

pub use error::JsError;
pub use layout::{
    APP_MODULE, APP_TYPESCRIPT, COMPONENTIZE_JS_VERSION, MIN_NODE, WASI_VERSION, WORLD_TYPES,
};
pub use provision::ComponentizeJs;
pub use scaffold::{example, from_world, http_files, http_project};
pub use stubs::world_types;
pub use toolchain::JsToolchain;
