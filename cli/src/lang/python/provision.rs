//! Finding, or installing once, the componentize-py release wcomp pins. The order: `$COMPONENTIZE_PY`
//! (used as given), a `componentize-py` on PATH reporting the pinned version, then a private
//! virtual environment under wcomp's cache dir, which is created with the user's Python and pip
//! the first time it is needed. Installing is serialised with a lock file and finished by a
//! marker file, so an interrupted install is redone rather than trusted.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use super::error::PythonError;
use super::layout::{COMPONENTIZE_PY_VERSION, MIN_PYTHON};
use crate::Context;
use crate::diagnostic::Report as _;
use crate::lang::toolchain::ToolchainError;
use crate::process::{ProcessBuilder, ProcessError, ToolOutput, find_on_path};

/// Written into the virtual environment once the install is complete and verified.
const MARKER: &str = "wcomp-provisioned";

/// The command a user can run instead of letting wcomp install componentize-py.
pub fn manual_install_command() -> String {
    format!("python3 -m pip install componentize-py=={COMPONENTIZE_PY_VERSION}")
}

/// Where componentize-py came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `$COMPONENTIZE_PY`.
    Override,
    /// `componentize-py` on PATH.
    Path,
    /// wcomp's private virtual environment.
    Cache,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Override => "`$COMPONENTIZE_PY`",
            Self::Path => "PATH",
            Self::Cache => "wcomp's cache",
        })
    }
}

/// A componentize-py wcomp can run.
#[derive(Debug, Clone)]
pub struct ComponentizePy {
    pub program: PathBuf,
    pub source: Source,
    /// Its `--version` number.
    pub version: String,
}

/// The private virtual environment for the pinned version, under wcomp's cache dir.
pub fn venv_dir(cache_dir: &Path) -> PathBuf {
    cache_dir
        .join("python")
        .join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"))
}

/// The file whose presence says the environment in `cache_dir` is complete.
pub fn venv_marker(cache_dir: &Path) -> PathBuf {
    venv_dir(cache_dir).join(MARKER)
}

fn venv_bin(venv: &Path, program: &str) -> PathBuf {
    let bin = if cfg!(windows) { "Scripts" } else { "bin" };
    venv.join(bin)
        .join(format!("{program}{}", std::env::consts::EXE_SUFFIX))
}

/// The version number `program --version` reports (`componentize-py 0.25.1` → `0.25.1`).
fn version_of(program: &Path) -> Result<String, ProcessError> {
    let out = ProcessBuilder::new(program)
        .arg("--version")
        .env("RUST_BACKTRACE", "0")
        .output()?;
    let line = out.stdout.trim();
    Ok(line.rsplit(' ').next().unwrap_or(line).to_owned())
}

/// The componentize-py to use, without installing anything.
pub fn find(ctx: &Context) -> anyhow::Result<Option<ComponentizePy>> {
    if let Some(program) = std::env::var_os("COMPONENTIZE_PY").map(PathBuf::from) {
        let version = match version_of(&program) {
            Ok(version) => version,
            Err(ProcessError::NotFound { .. }) => {
                return Err(ToolchainError::Missing {
                    program: program.display().to_string(),
                    install: format!(
                        "`$COMPONENTIZE_PY` names a program that does not exist; unset it to let wcomp use componentize-py {COMPONENTIZE_PY_VERSION} from PATH or its cache"
                    ),
                }
                .report());
            }
            Err(err) => return Err(err).context("cannot ask `$COMPONENTIZE_PY` for its version"),
        };
        if version != COMPONENTIZE_PY_VERSION {
            ctx.printer.warning(format_args!(
                "`$COMPONENTIZE_PY` is componentize-py {version}; wcomp is tested with {COMPONENTIZE_PY_VERSION}"
            ));
        }
        return Ok(Some(ComponentizePy {
            program,
            source: Source::Override,
            version,
        }));
    }
    if let Some(program) = find_on_path("componentize-py") {
        match version_of(&program) {
            Ok(version) if version == COMPONENTIZE_PY_VERSION => {
                return Ok(Some(ComponentizePy {
                    program,
                    source: Source::Path,
                    version,
                }));
            }
            Ok(version) => ctx.printer.verbose(format_args!(
                "not using componentize-py {version} at `{}`: wcomp pins {COMPONENTIZE_PY_VERSION}",
                program.display()
            )),
            Err(err) => ctx
                .printer
                .verbose(format_args!("not using `{}`: {err}", program.display())),
        }
    }
    let venv = venv_dir(&ctx.cache_dir);
    let program = venv_bin(&venv, "componentize-py");
    if venv.join(MARKER).is_file() && program.is_file() {
        return Ok(Some(ComponentizePy {
            program,
            source: Source::Cache,
            version: COMPONENTIZE_PY_VERSION.to_owned(),
        }));
    }
    Ok(None)
}

/// The componentize-py to use, installing the pinned version into the cache when none is found.
pub fn find_or_install(ctx: &Context) -> anyhow::Result<ComponentizePy> {
    if let Some(found) = find(ctx)? {
        return Ok(found);
    }
    let venv = venv_dir(&ctx.cache_dir);
    if ctx.offline {
        return Err(PythonError::Offline {
            venv: venv.display().to_string(),
            command: manual_install_command(),
        }
        .report());
    }
    install(ctx, &venv)
}

/// A Python interpreter new enough to run componentize-py: `$PYTHON`, else `python3`, else
/// `python`.
pub fn find_python() -> anyhow::Result<(PathBuf, String)> {
    let candidates: Vec<PathBuf> = match std::env::var_os("PYTHON") {
        Some(python) => vec![PathBuf::from(python)],
        None => vec![PathBuf::from("python3"), PathBuf::from("python")],
    };
    for python in candidates {
        let mut probe = ProcessBuilder::new(&python);
        probe.args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]);
        let version = match probe.output() {
            Ok(out) => out.stdout.trim().to_owned(),
            Err(ProcessError::NotFound { .. }) => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("cannot run `{}`", python.display()));
            }
        };
        let mut parts = version
            .split('.')
            .map(|part| part.parse::<u32>().unwrap_or(0));
        let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if found < MIN_PYTHON {
            return Err(PythonError::PythonTooOld { python, version }.report());
        }
        return Ok((python, version));
    }
    Err(ToolchainError::Missing {
        program: "python3".into(),
        install: format!(
            "install Python {}.{} or later (https://www.python.org/downloads/, or e.g. `apt install python3 python3-venv`) and wcomp installs componentize-py {COMPONENTIZE_PY_VERSION} by itself; `$PYTHON` may name the interpreter",
            MIN_PYTHON.0, MIN_PYTHON.1
        ),
    }
    .report())
}

/// Creates the virtual environment and pip-installs the pinned componentize-py into it.
fn install(ctx: &Context, venv: &Path) -> anyhow::Result<ComponentizePy> {
    let (python, python_version) = find_python()?;
    let parent = venv.parent().expect("the venv lives in the cache dir");
    fs_err::create_dir_all(parent)?;
    let lock_path = parent.join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}.lock"));
    let _lock = crate::fsutil::lock(&lock_path, || {
        ctx.printer.status(
            "Waiting",
            "for another wcomp to finish installing componentize-py",
        );
    })?;
    // Another process may have finished the install while this one waited.
    if let Some(found) = find(ctx)? {
        return Ok(found);
    }

    let started = Instant::now();
    ctx.printer.status(
        "Installing",
        format_args!(
            "componentize-py {COMPONENTIZE_PY_VERSION} into `{}` (first use only; Python {python_version})",
            venv.display()
        ),
    );
    let result = create_and_install(ctx, &python, venv);
    if result.is_err() {
        // A half-made environment would only confuse the next attempt.
        let _ = fs_err::remove_dir_all(venv);
    }
    let program = result?;
    ctx.printer.status(
        "Installed",
        format_args!(
            "componentize-py {COMPONENTIZE_PY_VERSION} in {:.1}s",
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(ComponentizePy {
        program,
        source: Source::Cache,
        version: COMPONENTIZE_PY_VERSION.to_owned(),
    })
}

fn create_and_install(ctx: &Context, python: &Path, venv: &Path) -> anyhow::Result<PathBuf> {
    let spinner = ctx
        .printer
        .spinner("componentize-py", "creating a virtual environment");
    let mut create = ProcessBuilder::new(python);
    create.args(["-m", "venv", "--clear"]).arg(venv);
    ctx.printer.verbose(format_args!("running `{create}`"));
    if let Err(err) = create.output() {
        spinner.clear();
        let (venv, command) = (venv.to_owned(), manual_install_command());
        let output = ToolOutput::from_process(&err);
        return Err(PythonError::VenvFailed {
            venv,
            command,
            output,
        }
        .report());
    }

    let venv_python = venv_bin(venv, "python");
    let mut pip = ProcessBuilder::new(&venv_python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
    ])
    .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}"))
    .env("PIP_NO_INPUT", "1");
    ctx.printer.verbose(format_args!("running `{pip}`"));
    spinner.message("pip install componentize-py");
    let result = pip.run_streaming(|line| {
        let line = line.trim();
        if !line.is_empty() {
            spinner.message(line);
            ctx.printer.verbose(format_args!("pip: {line}"));
        }
    });
    spinner.clear();
    if let Err(err) = result {
        let (venv, command) = (venv.to_owned(), manual_install_command());
        let output = ToolOutput::from_process(&err);
        return Err(PythonError::InstallFailed {
            venv,
            command,
            output,
        }
        .report());
    }

    let program = venv_bin(venv, "componentize-py");
    let version = version_of(&program).with_context(|| {
        format!(
            "componentize-py was installed into `{}` but does not run",
            venv.display()
        )
    })?;
    if version != COMPONENTIZE_PY_VERSION {
        anyhow::bail!(
            "pip installed componentize-py {version} into `{}`, not {COMPONENTIZE_PY_VERSION}",
            venv.display()
        );
    }
    crate::fsutil::write(
        &venv.join(MARKER),
        format!("componentize-py {COMPONENTIZE_PY_VERSION}\n").as_bytes(),
    )?;
    Ok(program)
}
