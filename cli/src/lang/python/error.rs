//! Errors specific to building Python components.

use std::path::PathBuf;

use super::layout::{APP_MODULE, COMPONENTIZE_PY_VERSION, MIN_PYTHON};
use crate::process::ToolOutput;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PythonError {
    /// componentize-py must be installed, and downloading is not allowed.
    #[error("componentize-py {version} is not installed, and `--offline` forbids downloading it", version = COMPONENTIZE_PY_VERSION)]
    #[diagnostic(help(
        "install it yourself with `{command}` (wcomp uses it from PATH), or run without `--offline` so wcomp installs it into `{venv}`"
    ))]
    Offline { venv: String, command: String },
    /// `python -m venv` failed.
    #[error("could not create a Python virtual environment in `{venv}`")]
    #[diagnostic(help(
        "Python's output is shown above; on Debian and Ubuntu the venv module is a separate package (`apt install python3-venv`). Or install componentize-py yourself: `{command}`"
    ))]
    VenvFailed {
        venv: PathBuf,
        command: String,
        #[source]
        output: ToolOutput,
    },
    /// pip could not install componentize-py.
    #[error("could not install componentize-py {version} into `{venv}`", version = COMPONENTIZE_PY_VERSION)]
    #[diagnostic(help(
        "pip's output is shown above; check the network connection and pip's index or proxy settings, or install it yourself with `{command}` so that `componentize-py` is on PATH"
    ))]
    InstallFailed {
        venv: PathBuf,
        command: String,
        #[source]
        output: ToolOutput,
    },
    /// The Python found is older than componentize-py supports.
    #[error("`{python}` is Python {version}; componentize-py needs {}.{} or later", MIN_PYTHON.0, MIN_PYTHON.1)]
    #[diagnostic(help("install a newer Python, or point `$PYTHON` at one"))]
    PythonTooOld { python: PathBuf, version: String },
    /// `wcomp.toml` does not say which world the component implements.
    #[error("`{manifest}` does not name the world the component implements")]
    #[diagnostic(help("add `world = \"<name>\"` under `[component]`"))]
    NoWorld { manifest: PathBuf },
    /// The module componentize-py builds is missing.
    #[error("no `{APP_MODULE}.py` in `{dir}`")]
    #[diagnostic(help(
        "componentize-py builds the module `{APP_MODULE}`: create `{APP_MODULE}.py` with `class WitWorld(wit_world.WitWorld)`, or start from `wcomp new <dir> --lang python`"
    ))]
    NoApp { dir: PathBuf },
    /// A `[python] path` entry is not a directory.
    #[error("`[python] path` entry `{entry}` is not a directory (`{path}`)")]
    #[diagnostic(help(
        "create it (for example `pip install --target {entry} <package>`) or remove it from `wcomp.toml`"
    ))]
    MissingPath { entry: String, path: PathBuf },
}
