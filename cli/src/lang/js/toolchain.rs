//! JavaScript components: componentize-js turns the project's `app.js` (an ES module) and the
//! WIT world named in `wcomp.toml` into a component. It embeds a JavaScript engine
//! (SpiderMonkey, through StarlingMonkey), hence ~12 MB per component and tens of seconds per
//! build. wcomp pins the componentize-js release and provisions it with npm (see
//! [`super::provision`]); Node.js is the only prerequisite. A project with an `app.ts` is compiled
//! with the TypeScript compiler installed beside componentize-js first.
//!
//! componentize-js reports a syntax error without its place, so every module of the project
//! goes through `node --check` first, whose message names the file and line.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::error::JsError;
use super::layout::{APP_MODULE, APP_TYPESCRIPT, COMPONENTIZE_JS_VERSION, MIN_NODE, WORLD_TYPES};
use super::provision::ComponentizeJs;
use super::{provision, stubs};
use crate::Context;
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::lang::toolchain::{
    BuiltComponent, Language, ProcessBuilder, ProcessError, Project, Tool, ToolOutput, Toolchain,
    ToolchainError,
};
use crate::wit::WitPackage;

/// componentize-js, pinned and provisioned on demand, run with Node.js.
#[derive(Debug, Clone, Default)]
pub struct JsToolchain;

impl JsToolchain {
    pub fn from_env() -> Self {
        Self
    }
}

impl Toolchain for JsToolchain {
    fn language(&self) -> Language {
        Language::Js
    }

    fn version(&self, ctx: &Context) -> anyhow::Result<String> {
        let (node, node_version) = provision::find_node()?;
        if let Some(tool) = provision::find(ctx, None)? {
            return Ok(format!(
                "componentize-js {} ({}), Node.js {node_version}",
                tool.version,
                tool.package.display()
            ));
        }
        // Not installed yet is fine when the first build can install it.
        Ok(format!(
            "componentize-js {COMPONENTIZE_JS_VERSION} is installed by the first build (with Node.js {node_version}, `{}`)",
            node.display()
        ))
    }

    fn fingerprint(&self, ctx: &Context) -> String {
        // Which componentize-js a build would use, without running anything: the override,
        // Node.js and the cached install's marker (rewritten by every install). A project's
        // own node_modules is ignored by its `.gitignore`, but installing another
        // componentize-js there rewrites its `package.json` and lockfile, which are hashed.
        let override_package = std::env::var_os("COMPONENTIZE_JS").map(PathBuf::from);
        [
            format!("componentize-js {COMPONENTIZE_JS_VERSION}"),
            override_package.map_or_else(String::new, |p| {
                crate::lang::toolchain::file_fingerprint(&p.join("package.json"))
            }),
            crate::lang::toolchain::file_fingerprint(&provision::node_program()),
            crate::lang::toolchain::file_fingerprint(&provision::prefix_marker(&ctx.cache_dir)),
        ]
        .join("|")
    }

    fn build(&self, project: &Project, ctx: &Context) -> anyhow::Result<BuiltComponent> {
        let inputs = Inputs::check(project)?;
        let (node, _) = provision::find_node()?;
        let tool = provision::find_or_install(ctx, project)?;
        ctx.printer.verbose(format_args!(
            "using componentize-js {} from {} (`{}`)",
            tool.version,
            tool.source,
            tool.package.display()
        ));
        let out_dir = project.output_dir();
        fs_err::create_dir_all(&out_dir)?;
        let source = if let Some(types) = &inputs.types {
            write_if_changed(&project.dir.join(WORLD_TYPES), types)?;
            compile_typescript(&node, &tool, project, ctx)?
        } else {
            project.dir.join(APP_MODULE)
        };
        check_syntax(&node, project, &source, ctx)?;
        let bytes = componentize(&node, &tool, project, &inputs, &source, ctx)?;
        crate::lang::toolchain::install_component(
            project,
            &project.name,
            &bytes,
            "componentize-js should always produce a component; please report this",
        )
    }
}

/// What componentize-js needs from the project, checked before anything runs.
struct Inputs {
    world: String,
    /// componentize-js features the world has no use for (`-d`): left in, they would make the
    /// component import `wasi:http` whether or not the world does.
    disabled: Vec<&'static str>,
    /// The world's types, when the project is written in TypeScript (`app.ts`).
    types: Option<String>,
}

impl Inputs {
    fn check(project: &Project) -> anyhow::Result<Self> {
        let world = project
            .world
            .clone()
            .ok_or_else(|| JsError::NoWorld {
                manifest: project.dir.join(crate::manifest::MANIFEST),
            })
            .report_err()?;
        // wcomp's own WIT errors point at the file and line; check before starting Node.js.
        let package = WitPackage::load(&project.wit).report_err()?;
        let world_id = package.world(Some(&world)).report_err()?;
        if let Some(item) = crate::wit::async_function(&package.resolve, world_id) {
            return Err(JsError::Async { item }.report());
        }
        let world_def = &package.resolve.worlds[world_id];
        let names = |items: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| {
            items
                .keys()
                .map(|key| package.resolve.name_world_key(key))
                .collect::<Vec<_>>()
        };
        let serves = names(&world_def.exports)
            .iter()
            .any(|name| name.starts_with("wasi:http/incoming-handler"));
        let calls_out = names(&world_def.imports)
            .iter()
            .any(|name| name.starts_with("wasi:http/outgoing-handler"));
        let disabled = match (serves, calls_out) {
            (true, _) => Vec::new(),
            (false, true) => vec!["fetch-event"],
            (false, false) => vec!["http", "fetch-event"],
        };
        let types = if project.dir.join(APP_TYPESCRIPT).is_file() {
            Some(stubs::world_types(&package, world_id).report_err()?)
        } else if project.dir.join(APP_MODULE).is_file() {
            None
        } else {
            let dir = project.dir.clone();
            return Err(JsError::NoApp { dir }.report());
        };
        Ok(Self {
            world,
            disabled,
            types,
        })
    }
}

/// The project's JavaScript modules: `.js` and `.mjs` files outside `node_modules`, `target`
/// and hidden directories.
fn modules(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            entry.depth() == 0
                || !(name.starts_with('.') || name == "node_modules" || name == "target")
        })
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_type().is_file()
                && matches!(
                    entry.path().extension().and_then(|e| e.to_str()),
                    Some("js" | "mjs")
                )
        })
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// `node --check` on every module of the project (and on `source`, when it was generated),
/// so a syntax error names its file and line, relative to where wcomp runs.
fn check_syntax(
    node: &Path,
    project: &Project,
    source: &Path,
    ctx: &Context,
) -> anyhow::Result<()> {
    let mut files = modules(&project.dir);
    if !files.iter().any(|file| file == source) {
        files.push(source.to_owned());
    }
    for file in files {
        let mut check = ProcessBuilder::new(node);
        check.arg("--check").arg(&file).cwd(&project.dir);
        match check.output() {
            Ok(_) => {}
            Err(err @ ProcessError::Failed { .. }) => {
                let shown = crate::fsutil::display_relative(&file, &ctx.cwd);
                let text = node_error(err.stderr(), &file, &shown);
                return Err(JsError::Syntax {
                    file: shown,
                    output: ToolOutput { text },
                }
                .report());
            }
            Err(err) => return Err(err).with_context(|| format!("cannot run `{check}`")),
        }
    }
    Ok(())
}

/// Node.js's syntax error with the file named as `shown`, without its stack and version lines.
fn node_error(stderr: &str, file: &Path, shown: &str) -> String {
    let absolute = file.display().to_string();
    let mut text = String::new();
    for line in stderr.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("at ") || trimmed.starts_with("Node.js v") {
            continue;
        }
        text.push_str(&line.replace(&absolute, shown));
        text.push('\n');
    }
    format!("{}\n", text.trim_end())
}

/// Writes `text` to `path` unless it already holds it (tsc and editors see no change then).
fn write_if_changed(path: &Path, text: &str) -> anyhow::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    crate::fsutil::write(path, text.as_bytes())
}

/// Compiles the project's TypeScript with `tsc` into `target/wcomp/js/` and returns the
/// compiled `app.js`.
fn compile_typescript(
    node: &Path,
    tool: &ComponentizeJs,
    project: &Project,
    ctx: &Context,
) -> anyhow::Result<PathBuf> {
    let tsc = tool.tsc().ok_or_else(|| ToolchainError::Missing {
        program: "tsc".into(),
        install: format!(
            "the TypeScript compiler is installed beside componentize-js in wcomp's cache; with componentize-js from {}, add it there too (`npm install --save-dev typescript`)",
            tool.source
        ),
    })
    .report_err()?;
    let out = project.output_dir().join("js");
    let mut command = ProcessBuilder::new(node);
    command.arg(&tsc);
    if project.dir.join("tsconfig.json").is_file() {
        command.args(["--project", "tsconfig.json"]);
    } else {
        command.args([APP_TYPESCRIPT, WORLD_TYPES]);
    }
    command
        .args(["--outDir"])
        .arg(&out)
        .args(["--rootDir", ".", "--pretty", "false"])
        .cwd(&project.dir);
    ctx.printer.verbose(format_args!("running `{command}`"));
    match command.output() {
        Ok(_) => Ok(out.join(APP_MODULE)),
        Err(err @ ProcessError::Failed { .. }) => {
            // tsc reports on stdout, with paths relative to the project.
            let text = format!("{}{}", err.stdout(), err.stderr());
            let dir = crate::fsutil::display_relative(&project.dir, &ctx.cwd);
            Err(JsError::TypeScript {
                dir,
                output: ToolOutput { text },
            }
            .report())
        }
        Err(err) => Err(err).with_context(|| format!("cannot run `{command}`")),
    }
}

/// Runs componentize-js and returns the component's bytes.
fn componentize(
    node: &Path,
    tool: &ComponentizeJs,
    project: &Project,
    inputs: &Inputs,
    source: &Path,
    ctx: &Context,
) -> anyhow::Result<Vec<u8>> {
    let (_staging, output) =
        crate::lang::toolchain::staging_output(project, ".wcomp-componentize-")?;
    let mut componentize = ProcessBuilder::new(node);
    componentize
        .arg(tool.cli())
        .arg("--wit")
        .arg(&project.wit)
        .args(["--world-name", &inputs.world]);
    if !inputs.disabled.is_empty() {
        componentize.arg("-d").args(&inputs.disabled);
    }
    componentize
        .arg("--out")
        .arg(&output)
        .arg(source)
        .cwd(&project.dir);
    // No spinner of its own: a workspace build draws one per component.
    let runner = Tool {
        name: "componentize-js",
        missing: &|| ToolchainError::Missing {
            program: node.display().to_string(),
            install: format!("install Node.js {} or later", MIN_NODE),
        },
    };
    let explain = |err: &ProcessError| {
        (
            ToolOutput::from_process(err),
            Some(format!(
                "componentize-js runs `{APP_MODULE}`'s top level at build time and checks its exports against the world `{}`: each exported interface is an object named after it in camelCase (`export const myApi = {{ ... }}`)",
                inputs.world
            )),
        )
    };
    runner.build(&componentize, project, ctx, |_| {}, explain)?;
    if !output.is_file() {
        return Err(ToolchainError::NoArtifact {
            tool: "componentize-js".into(),
            project: project.dir.display().to_string(),
            advice: format!("run `{componentize}` by hand to see what it did"),
        }
        .report());
    }
    fs_err::read(&output).map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_the_file_without_the_stack() {
        let stderr = "/home/me/proj/app.js:3\n    return {words: 1,;\n                     ^\n\nSyntaxError: Unexpected token ';'\n    at checkSyntax (node:internal/main/check_syntax:74:5)\n\nNode.js v20.20.2\n";
        let shown = node_error(stderr, Path::new("/home/me/proj/app.js"), "proj/app.js");
        assert_eq!(
            shown,
            "proj/app.js:3\n    return {words: 1,;\n                     ^\n\nSyntaxError: Unexpected token ';'\n"
        );
    }
}
