//! Errors specific to building JavaScript components.

use std::path::PathBuf;

use super::layout::{APP_MODULE, APP_TYPESCRIPT, ASYNC_LIMIT, COMPONENTIZE_JS_VERSION, MIN_NODE};
use crate::lang::scaffold::ASYNC_HELP;
use crate::process::ToolOutput;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum JsError {
    /// componentize-js must be installed, and downloading is not allowed.
    #[error("componentize-js {version} is not installed, and `--offline` forbids downloading it", version = COMPONENTIZE_JS_VERSION)]
    #[diagnostic(help(
        "install it into the project yourself with `{command}`, or run without `--offline` so wcomp installs it into `{prefix}`"
    ))]
    Offline { prefix: String, command: String },
    /// npm could not install componentize-js.
    #[error("could not install componentize-js {version} into `{prefix}`", version = COMPONENTIZE_JS_VERSION)]
    #[diagnostic(help(
        "npm's output is shown above; check the network connection and npm's registry or proxy settings, or install it into the project yourself with `{command}`"
    ))]
    InstallFailed {
        prefix: PathBuf,
        command: String,
        #[source]
        output: ToolOutput,
    },
    /// The Node.js found is older than componentize-js supports.
    #[error(
        "`{node}` is Node.js {version}; componentize-js needs {} or later",
        MIN_NODE
    )]
    #[diagnostic(help(
        "install a newer Node.js (https://nodejs.org/en/download), or point `$NODE` at one"
    ))]
    NodeTooOld { node: PathBuf, version: String },
    /// `wcomp.toml` does not say which world the component implements.
    #[error("`{manifest}` does not name the world the component implements")]
    #[diagnostic(help("add `world = \"<name>\"` under `[component]`"))]
    NoWorld { manifest: PathBuf },
    /// The module componentize-js builds is missing.
    #[error("no `{APP_MODULE}` (or `{APP_TYPESCRIPT}`) in `{dir}`")]
    #[diagnostic(help(
        "componentize-js builds the ES module `{APP_MODULE}`: create it with one exported object per exported interface, or start from `wcomp new <dir> --lang js`"
    ))]
    NoApp { dir: PathBuf },
    /// The world has an `async` function, which componentize-js cannot build.
    #[error("a JavaScript component cannot implement `{item}`: it is `async`, and {ASYNC_LIMIT}")]
    #[diagnostic(help("{ASYNC_HELP}"))]
    Async { item: String },
    /// A module of the project does not parse.
    #[error("`{file}` is not valid JavaScript")]
    #[diagnostic(help(
        "Node.js's message above names the file and line; the project's `package.json` must say `\"type\": \"module\"` for `.js` files to be read as ES modules"
    ))]
    Syntax {
        file: String,
        #[source]
        output: ToolOutput,
    },
    /// `tsc` rejected the TypeScript sources.
    #[error("the TypeScript compiler rejected `{dir}`")]
    #[diagnostic(help("tsc's messages above name the file and line"))]
    TypeScript {
        dir: String,
        #[source]
        output: ToolOutput,
    },
}
