//! Python components through componentize-py: the project's layout and pins ([`layout`]),
//! provisioning the pinned componentize-py ([`provision`]), the build ([`toolchain`]), and new
//! projects with stubs for a user's world ([`scaffold`], [`stubs`], [`names`]).

pub mod error;
pub mod layout;
pub mod names;
pub mod provision;
pub mod scaffold;
pub mod stubs;
pub mod toolchain;

pub use error::PythonError;
pub use layout::{APP_MODULE, COMPONENTIZE_PY_VERSION, MIN_PYTHON};
pub use provision::ComponentizePy;
pub use scaffold::{example, from_world, http_files, http_project, nn_files};
pub use toolchain::{PythonToolchain, python_error};
