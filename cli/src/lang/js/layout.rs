//! What a JavaScript component project is to wcomp: the modules componentize-js builds, the
//! WASI release its engine speaks, and the tools it is built with.

/// The module componentize-js builds.
pub const APP_MODULE: &str = "app.js";

/// The WASI 0.2 release componentize-js 0.23's engine (StarlingMonkey) is built against: what
/// its components import, and the `wasi:http/incoming-handler` version it can export.
pub const WASI_VERSION: &str = "0.2.10";

/// The TypeScript source compiled to [`APP_MODULE`] when a project has one.
pub const APP_TYPESCRIPT: &str = "app.ts";

/// Where a TypeScript project's world types are, relative to the project: generated from its
/// WIT by `wcomp new` and again by every `wcomp build`, so they follow the WIT.
pub const WORLD_TYPES: &str = "target/wcomp/types/world.d.ts";

/// The componentize-js release wcomp builds with.
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";

/// The oldest Node.js componentize-js runs on.
pub const MIN_NODE: u32 = 20;

/// Why a JavaScript component cannot have `async` functions (nor be a WASI 0.3 HTTP handler).
pub const ASYNC_LIMIT: &str = "componentize-js 0.23 cannot build async exports (its bindings generator stops with `not yet implemented`)";
