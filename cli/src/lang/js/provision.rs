//! Finding, or installing once, the componentize-js release wcomp pins. The order:
//! `$COMPONENTIZE_JS` (the package directory, used as given), the project's own
//! `node_modules/@bytecodealliance/componentize-js`, then a private npm prefix under wcomp's
//! cache dir, installed with `npm ci` from the lockfile embedded in wcomp (so every machine
//! gets the same dependency tree). The install goes to a temporary directory that is renamed
//! into place once verified, serialised with a lock file: an interrupted install leaves
//! nothing that looks complete. Node.js is the only prerequisite.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use super::error::JsError;
use super::layout::{COMPONENTIZE_JS_VERSION, MIN_NODE};
use crate::Context;
use crate::diagnostic::Report as _;
use crate::lang::toolchain::ToolchainError;
use crate::manifest::Project;
use crate::process::{ProcessBuilder, ProcessError, ToolOutput};

/// The package set installed into the cache: componentize-js, the preview2-shim its
/// dependencies would otherwise float, and the TypeScript compiler for `app.ts` projects.
const PACKAGE_JSON: &str = include_str!("package.json");
/// Every package of that set at an exact version with its integrity hash (`npm ci` input).
const PACKAGE_LOCK: &str = include_str!("package-lock.json");

/// Written into the install once it is complete and verified.
const MARKER: &str = "wcomp-provisioned";

/// The package directory of componentize-js below a `node_modules` parent.
const PACKAGE_PATH: &str = "node_modules/@bytecodealliance/componentize-js";

/// The command a user can run in their project instead of letting wcomp install it.
pub fn manual_install_command() -> String {
    format!(
        "npm install --save-dev --save-exact @bytecodealliance/componentize-js@{COMPONENTIZE_JS_VERSION}"
    )
}

/// Where componentize-js came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `$COMPONENTIZE_JS`.
    Override,
    /// The project's `node_modules`.
    Project,
    /// wcomp's private npm prefix.
    Cache,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Override => "`$COMPONENTIZE_JS`",
            Self::Project => "the project's node_modules",
            Self::Cache => "wcomp's cache",
        })
    }
}

/// A componentize-js wcomp can run with Node.js.
#[derive(Debug, Clone)]
pub struct ComponentizeJs {
    /// The package directory (holding `package.json` and `src/cli.js`).
    pub package: PathBuf,
    pub source: Source,
    pub version: String,
}

impl ComponentizeJs {
    /// Its command-line entry point, run as `node <cli>`.
    pub fn cli(&self) -> PathBuf {
        self.package.join("src").join("cli.js")
    }

    /// The TypeScript compiler installed beside it, if any.
    pub fn tsc(&self) -> Option<PathBuf> {
        // <prefix>/node_modules/@bytecodealliance/componentize-js → <prefix>/node_modules
        let node_modules = self.package.parent()?.parent()?;
        let tsc = node_modules.join("typescript").join("bin").join("tsc");
        tsc.is_file().then_some(tsc)
    }
}

/// The private npm prefix for the pinned version, under wcomp's cache dir.
pub fn prefix_dir(cache_dir: &Path) -> PathBuf {
    cache_dir
        .join("js")
        .join(format!("componentize-js-{COMPONENTIZE_JS_VERSION}"))
}

/// The file whose presence says the install in `cache_dir` is complete.
pub fn prefix_marker(cache_dir: &Path) -> PathBuf {
    prefix_dir(cache_dir).join(MARKER)
}

/// The `version` of the package in `dir`, if it is a package directory.
fn package_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_owned)
}

/// The componentize-js to use for `project`, without installing anything.
pub fn find(ctx: &Context, project: Option<&Project>) -> anyhow::Result<Option<ComponentizeJs>> {
    if let Some(package) = std::env::var_os("COMPONENTIZE_JS").map(PathBuf::from) {
        let Some(version) = package_version(&package) else {
            return Err(ToolchainError::Missing {
                program: package.display().to_string(),
                install: format!(
                    "`$COMPONENTIZE_JS` must name the componentize-js package directory (`.../{PACKAGE_PATH}`); unset it to let wcomp use componentize-js {COMPONENTIZE_JS_VERSION} from its cache"
                ),
            }
            .report());
        };
        if version != COMPONENTIZE_JS_VERSION {
            ctx.printer.warning(format_args!(
                "`$COMPONENTIZE_JS` is componentize-js {version}; wcomp is tested with {COMPONENTIZE_JS_VERSION}"
            ));
        }
        return Ok(Some(ComponentizeJs {
            package,
            source: Source::Override,
            version,
        }));
    }
    if let Some(project) = project {
        let package = project.dir.join(PACKAGE_PATH);
        if let Some(version) = package_version(&package) {
            if version != COMPONENTIZE_JS_VERSION {
                ctx.printer.warning(format_args!(
                    "the project's node_modules has componentize-js {version}; wcomp is tested with {COMPONENTIZE_JS_VERSION}"
                ));
            }
            return Ok(Some(ComponentizeJs {
                package,
                source: Source::Project,
                version,
            }));
        }
    }
    let prefix = prefix_dir(&ctx.cache_dir);
    let package = prefix.join(PACKAGE_PATH);
    if prefix.join(MARKER).is_file() && package.join("src/cli.js").is_file() {
        return Ok(Some(ComponentizeJs {
            package,
            source: Source::Cache,
            version: COMPONENTIZE_JS_VERSION.to_owned(),
        }));
    }
    Ok(None)
}

/// The componentize-js to use, installing the pinned version into the cache when none is found.
pub fn find_or_install(ctx: &Context, project: &Project) -> anyhow::Result<ComponentizeJs> {
    if let Some(found) = find(ctx, Some(project))? {
        return Ok(found);
    }
    let prefix = prefix_dir(&ctx.cache_dir);
    if ctx.offline {
        return Err(JsError::Offline {
            prefix: prefix.display().to_string(),
            command: manual_install_command(),
        }
        .report());
    }
    install(ctx, &prefix)
}

/// `$NODE`, else `node`.
pub fn node_program() -> PathBuf {
    std::env::var_os("NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from)
}

/// Node.js, checked to be new enough: its path as given and its version (`20.20.2`).
pub fn find_node() -> anyhow::Result<(PathBuf, String)> {
    let node = node_program();
    let out = match ProcessBuilder::new(&node).arg("--version").output() {
        Ok(out) => out,
        Err(ProcessError::NotFound { .. }) => {
            return Err(ToolchainError::Missing {
                program: node.display().to_string(),
                install: format!(
                    "install Node.js {MIN_NODE} or later (https://nodejs.org/en/download, or e.g. `apt install nodejs npm`) and wcomp installs componentize-js {COMPONENTIZE_JS_VERSION} by itself; `$NODE` may name the program"
                ),
            }
            .report());
        }
        Err(err) => return Err(err).with_context(|| format!("cannot run `{}`", node.display())),
    };
    let version = out.stdout.trim().trim_start_matches('v').to_owned();
    let major = version
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .unwrap_or(0);
    if major < MIN_NODE {
        return Err(JsError::NodeTooOld { node, version }.report());
    }
    Ok((node, version))
}

/// npm, which comes with Node.js: `$NPM`, else `npm`.
fn npm_program() -> PathBuf {
    std::env::var_os("NPM").map_or_else(|| PathBuf::from("npm"), PathBuf::from)
}

/// Installs the pinned package set into `prefix` (through a temporary sibling directory).
fn install(ctx: &Context, prefix: &Path) -> anyhow::Result<ComponentizeJs> {
    let (_, node_version) = find_node()?;
    let parent = prefix.parent().expect("the prefix lives in the cache dir");
    fs_err::create_dir_all(parent)?;
    let lock_path = parent.join(format!("componentize-js-{COMPONENTIZE_JS_VERSION}.lock"));
    let _lock = crate::fsutil::lock(&lock_path, || {
        ctx.printer.status(
            "Waiting",
            "for another wcomp to finish installing componentize-js",
        );
    })?;
    // Another process may have finished the install while this one waited.
    if let Some(found) = find(ctx, None)? {
        return Ok(found);
    }

    let started = Instant::now();
    ctx.printer.status(
        "Installing",
        format_args!(
            "componentize-js {COMPONENTIZE_JS_VERSION} into `{}` (first use only; Node.js {node_version})",
            prefix.display()
        ),
    );
    let staging = tempfile::Builder::new()
        .prefix(".componentize-js-")
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in `{}`",
                parent.display()
            )
        })?;
    npm_ci(ctx, staging.path(), prefix)?;
    let package = staging.path().join(PACKAGE_PATH);
    match package_version(&package) {
        Some(version) if version == COMPONENTIZE_JS_VERSION => {}
        other => anyhow::bail!(
            "npm installed {} into `{}`, not componentize-js {COMPONENTIZE_JS_VERSION}",
            other.map_or_else(
                || "no componentize-js".to_owned(),
                |v| format!("componentize-js {v}")
            ),
            staging.path().display()
        ),
    }
    crate::fsutil::write(
        &staging.path().join(MARKER),
        format!("componentize-js {COMPONENTIZE_JS_VERSION}\n").as_bytes(),
    )?;
    // A leftover from an interrupted install has no marker; it is replaced.
    crate::fsutil::replace_dir(&staging.keep(), prefix)?;
    ctx.printer.status(
        "Installed",
        format_args!(
            "componentize-js {COMPONENTIZE_JS_VERSION} in {:.1}s",
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(ComponentizeJs {
        package: prefix.join(PACKAGE_PATH),
        source: Source::Cache,
        version: COMPONENTIZE_JS_VERSION.to_owned(),
    })
}

/// `npm ci` of the embedded package set in `dir`. No package of the set has install scripts,
/// so none run.
fn npm_ci(ctx: &Context, dir: &Path, prefix: &Path) -> anyhow::Result<()> {
    crate::fsutil::write(&dir.join("package.json"), PACKAGE_JSON.as_bytes())?;
    crate::fsutil::write(&dir.join("package-lock.json"), PACKAGE_LOCK.as_bytes())?;
    let spinner = ctx.printer.spinner("componentize-js", "npm ci");
    let mut npm = ProcessBuilder::new(npm_program());
    npm.args([
        "ci",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--loglevel",
        "warn",
    ])
    .cwd(dir);
    ctx.printer.verbose(format_args!("running `{npm}`"));
    let result = npm.run_streaming(|line| {
        let line = line.trim();
        if !line.is_empty() {
            spinner.message(line);
            ctx.printer.verbose(format_args!("npm: {line}"));
        }
    });
    spinner.clear();
    match result {
        Ok(_) => Ok(()),
        Err(ProcessError::NotFound { .. }) => Err(ToolchainError::Missing {
            program: npm_program().display().to_string(),
            install: format!(
                "npm comes with Node.js; install it (e.g. `apt install npm`) or point `$NPM` at it, or run `{}` in the project",
                manual_install_command()
            ),
        }
        .report()),
        Err(err) => Err(JsError::InstallFailed {
            prefix: prefix.to_owned(),
            command: manual_install_command(),
            output: ToolOutput::from_process(&err),
        }
        .report()),
    }
}
