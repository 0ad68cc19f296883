//! Python components: componentize-py turns the project's `app` module and the WIT world
//! named in `wcomp.toml` into a component (it bundles a Python interpreter, hence ~18 MB).
//! wcomp pins the componentize-py release and provisions it (see [`super::provision`]); extra module
//! directories come from the `[python] path` list in `wcomp.toml` and are passed as `-p`.
//! componentize-py runs the app's top level at build time, so Python syntax and import errors
//! surface here; wcomp shows them with the user's own file names.

use std::path::{Path, PathBuf};

use super::error::PythonError;
use super::layout::{APP_MODULE, COMPONENTIZE_PY_VERSION};
use super::provision;
use super::provision::ComponentizePy;
use crate::Context;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::lang::toolchain::{
    BuiltComponent, Language, ProcessBuilder, ProcessError, Project, Tool, ToolOutput, Toolchain,
    ToolchainError,
};
use crate::wit::WitPackage;

/// The `[python]` table of `wcomp.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PythonSettings {
    /// Directories with extra modules, relative to the project (componentize-py's `-p`).
    #[serde(default)]
    path: Vec<String>,
}

impl PythonSettings {
    /// The `[python]` table of the project's `wcomp.toml`; defaults when there is none (as for
    /// a workspace member without a manifest of its own).
    fn read(project: &Project) -> anyhow::Result<Self> {
        let path = project.dir.join(crate::manifest::MANIFEST);
        if !path.is_file() {
            return Ok(Self::default());
        }
        let Some(table) = crate::manifest::Manifest::load(&path)?.python else {
            return Ok(Self::default());
        };
        toml::Value::Table(table).try_into().map_err(|err| {
            anyhow::anyhow!("invalid `[python]` table in `{}`: {err}", path.display())
        })
    }
}

/// componentize-py, pinned and provisioned on demand.
#[derive(Debug, Clone, Default)]
pub struct PythonToolchain;

impl PythonToolchain {
    pub fn from_env() -> Self {
        Self
    }

    /// Writes componentize-py's bindings for `world` to `target/wcomp/bindings`, where the
    /// project's `pyproject.toml` points editors. Best effort: a failure here resurfaces, with
    /// a proper report, when componentizing.
    fn write_bindings(&self, tool: &ComponentizePy, project: &Project, world: &str, ctx: &Context) {
        let out_dir = project.output_dir();
        let result = (|| -> anyhow::Result<()> {
            let staging = tempfile::Builder::new()
                .prefix(".wcomp-bindings-")
                .tempdir_in(&out_dir)?;
            let mut bindings = ProcessBuilder::new(&tool.program);
            bindings
                .arg("-d")
                .arg(&project.wit)
                .args(["-w", world, "bindings"])
                .arg(staging.path())
                .env("RUST_BACKTRACE", "0")
                .cwd(&project.dir);
            bindings.output()?;
            crate::fsutil::replace_dir(&staging.keep(), &out_dir.join("bindings"))?;
            Ok(())
        })();
        if let Err(err) = result {
            ctx.printer
                .verbose(format_args!("no editor bindings written: {err:#}"));
        }
    }
}

impl Toolchain for PythonToolchain {
    fn language(&self) -> Language {
        Language::Python
    }

    fn version(&self, ctx: &Context) -> anyhow::Result<String> {
        if let Some(tool) = provision::find(ctx)? {
            return Ok(format!(
                "componentize-py {} ({})",
                tool.version,
                tool.program.display()
            ));
        }
        // Not installed yet is fine when the first build can install it.
        let (python, version) = provision::find_python()?;
        Ok(format!(
            "componentize-py {COMPONENTIZE_PY_VERSION} is installed by the first build (with Python {version}, `{}`)",
            python.display()
        ))
    }

    fn fingerprint(&self, ctx: &Context) -> String {
        // Which componentize-py a build would use, without running it: the override, the one
        // on PATH and the cached environment's marker (rewritten by every install).
        let override_program = std::env::var_os("COMPONENTIZE_PY").map(PathBuf::from);
        [
            format!("componentize-py {COMPONENTIZE_PY_VERSION}"),
            override_program.map_or_else(String::new, |p| {
                crate::lang::toolchain::file_fingerprint(&p)
            }),
            crate::lang::toolchain::file_fingerprint(Path::new("componentize-py")),
            crate::lang::toolchain::file_fingerprint(&provision::venv_marker(&ctx.cache_dir)),
        ]
        .join("|")
    }

    fn build(&self, project: &Project, ctx: &Context) -> anyhow::Result<BuiltComponent> {
        let inputs = Inputs::check(project)?;
        let tool = provision::find_or_install(ctx)?;
        ctx.printer.verbose(format_args!(
            "using componentize-py {} from {} (`{}`)",
            tool.version,
            tool.source,
            tool.program.display()
        ));
        let out_dir = project.output_dir();
        fs_err::create_dir_all(&out_dir)?;
        self.write_bindings(&tool, project, &inputs.world, ctx);
        let bytes = componentize(&tool, project, &inputs, ctx)?;
        crate::lang::toolchain::install_component(
            project,
            &project.name,
            &bytes,
            "componentize-py should always produce a component; please report this",
        )
    }
}

/// What componentize-py needs from the project, checked before anything runs.
struct Inputs {
    world: String,
    /// The `-p` directories: the project, then its `[python] path` entries.
    python_path: Vec<PathBuf>,
}

impl Inputs {
    fn check(project: &Project) -> anyhow::Result<Self> {
        let settings = PythonSettings::read(project)?;
        let world = project
            .world
            .clone()
            .ok_or_else(|| PythonError::NoWorld {
                manifest: project.dir.join(crate::manifest::MANIFEST),
            })
            .report_err()?;
        // wcomp's own WIT errors point at the file and line; check before starting Python.
        WitPackage::load(&project.wit)
            .report_err()?
            .world(Some(&world))
            .report_err()?;
        if !project.dir.join(format!("{APP_MODULE}.py")).is_file() {
            let dir = project.dir.clone();
            return Err(PythonError::NoApp { dir }.report());
        }
        let mut python_path = vec![project.dir.clone()];
        for entry in settings.path {
            let path = project.dir.join(&entry);
            if !path.is_dir() {
                return Err(PythonError::MissingPath { entry, path }.report());
            }
            python_path.push(path);
        }
        Ok(Self { world, python_path })
    }
}

/// Runs `componentize-py componentize` and returns the validated component.
fn componentize(
    tool: &ComponentizePy,
    project: &Project,
    inputs: &Inputs,
    ctx: &Context,
) -> anyhow::Result<Vec<u8>> {
    let (_staging, output) =
        crate::lang::toolchain::staging_output(project, ".wcomp-componentize-")?;
    let mut componentize = ProcessBuilder::new(&tool.program);
    componentize.arg("-d").arg(&project.wit).args([
        "-w",
        &inputs.world,
        "componentize",
        APP_MODULE,
    ]);
    for dir in &inputs.python_path {
        componentize.arg("-p").arg(dir);
    }
    componentize
        .arg("-o")
        .arg(&output)
        // componentize-py is a Rust program: a backtrace would bury the Python error.
        .env("RUST_BACKTRACE", "0")
        .cwd(&project.dir);
    // No spinner of its own: a workspace build draws one per component.
    let runner = Tool {
        name: "componentize-py",
        missing: &|| ToolchainError::Missing {
            program: tool.program.display().to_string(),
            install: provision::manual_install_command(),
        },
    };
    let explain = |err: &ProcessError| {
        let text = python_error(err.stderr(), &inputs.python_path, &ctx.cwd);
        (
            ToolOutput { text },
            Some(format!(
                "the Python error above names the file and line; componentize-py imports `{APP_MODULE}.py` at build time, so an error at import time fails the build"
            )),
        )
    };
    let said = runner.build(&componentize, project, ctx, |_| {}, explain)?;
    if !said.stdout.trim().is_empty() {
        ctx.printer
            .verbose(format_args!("componentize-py said: {}", said.stdout.trim()));
    }
    if !output.is_file() {
        return Err(ToolchainError::NoArtifact {
            tool: "componentize-py".into(),
            project: project.dir.display().to_string(),
            advice: format!("run `{componentize}` by hand to see what it did"),
        }
        .report());
    }
    Ok(fs_err::read(&output)?)
}

/// componentize-py's error without its wrapping, with guest paths (`/0/app.py`) turned back
/// into the user's files.
///
/// componentize-py reports a failed import as a Python `AssertionError` raised in its own
/// launcher, whose message is the guest's traceback, followed by a `Caused by:` summary that
/// repeats the last line. The traceback names files as the guest saw them: the `n`-th `-p`
/// directory is mounted at `/n`.
pub fn python_error(stderr: &str, python_path: &[PathBuf], cwd: &Path) -> String {
    const WRAPPER: &str = "AssertionError: ";
    let mut text = stderr;
    if text
        .trim_start()
        .starts_with("Traceback (most recent call last):")
        && let Some(start) = text.find(WRAPPER)
    {
        text = &text[start + WRAPPER.len()..];
        if let Some(end) = text.find("\n\nCaused by:") {
            text = &text[..end];
        }
    }
    let mut text = text.trim_matches('\n').to_owned();
    for (index, dir) in python_path.iter().enumerate() {
        let shown = match dir.strip_prefix(cwd) {
            Ok(relative) if relative.as_os_str().is_empty() => String::new(),
            Ok(relative) => format!("{}/", relative.display()),
            Err(_) => format!("{}/", dir.display()),
        };
        text = text.replace(&format!("File \"/{index}/"), &format!("File \"{shown}"));
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_errors_lose_the_wrapper_and_name_the_users_files() {
        let stderr = "Traceback (most recent call last):\n  File \"/usr/bin/componentize-py\", line 8, in <module>\n    sys.exit(script())\n             ^^^^^^^^\nAssertionError: Traceback (most recent call last):\n  File \"/0/app.py\", line 2, in <module>\n    import helper\n  File \"/1/helper.py\", line 2, in <module>\n    y = nope\n        ^^^^\nNameError: name 'nope' is not defined\n\n\nCaused by:\n    NameError: name 'nope' is not defined\n";
        let cwd = Path::new("/home/me");
        let paths = [
            PathBuf::from("/home/me/proj"),
            PathBuf::from("/home/me/proj/vendor"),
        ];
        let shown = python_error(stderr, &paths, cwd);
        assert_eq!(
            shown,
            "Traceback (most recent call last):\n  File \"proj/app.py\", line 2, in <module>\n    import helper\n  File \"proj/vendor/helper.py\", line 2, in <module>\n    y = nope\n        ^^^^\nNameError: name 'nope' is not defined\n"
        );
    }

    #[test]
    fn syntax_errors_keep_their_caret() {
        let stderr = "Traceback (most recent call last):\n  File \"x\", line 8, in <module>\n    sys.exit(script())\nAssertionError:   File \"/0/app.py\", line 4\n    def hello(self) -> str\n                          ^\nSyntaxError: expected ':'\n\n\nCaused by:\n    SyntaxError: expected ':' (app.py, line 4)\n";
        let shown = python_error(stderr, &[PathBuf::from("/p")], Path::new("/p"));
        assert_eq!(
            shown,
            "  File \"app.py\", line 4\n    def hello(self) -> str\n                          ^\nSyntaxError: expected ':'\n"
        );
    }
}
