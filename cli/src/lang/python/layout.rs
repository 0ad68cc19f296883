//! What a Python component project is to wcomp: the module componentize-py builds, and the
//! tools it is built with.

/// The module componentize-py builds (`componentize-py componentize app`).
pub const APP_MODULE: &str = "app";

/// The componentize-py release wcomp builds with.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The oldest Python componentize-py supports.
pub const MIN_PYTHON: (u32, u32) = (3, 10);
