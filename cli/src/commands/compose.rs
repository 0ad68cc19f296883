use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::commands::CommandError;
use crate::commands::registry::{RegistryFlags, component_path};
use crate::compose::Composition;
use crate::compose::wac::{Dep, WacOptions};
use crate::compose::{self, ComposeInput, ComposeOptions, LeftReason};
use crate::diagnostic::{Report as _, ReportResult as _};
use crate::printer::{Message, Printer};
use crate::registry::Access;
use crate::workspace::{self, Workspace};
use crate::{Context, ExitStatus};

/// Link components into one composed component.
///
/// A `.wac` file (wac's composition language) says exactly how to compose: which components
/// to instantiate (`let x = new ns:name { ... }`), what feeds each import, which imports stay
/// open (`...`), and what to export. Its package names come from `--dep ns:name=<file>`, then
/// from `deps/<ns>/<name>.wasm` beside the file.
///
/// In a workspace, with no arguments: builds what is stale, then composes from the
/// `[compose] root` component, satisfying each import from whichever other component
/// exports it (transitively; `[compose.wire]` settles ambiguities). The result is written
/// to `[compose] output` (default `target/wcomp/<workspace>.wasm`).
///
/// Each import of the socket is satisfied by the plug that exports it, and each plug's
/// own imports by the other plugs (transitively). WASI imports, and imports no plug
/// exports, remain imports of the result and are listed. A plug that satisfies nothing
/// is an error.
///
/// Examples:
///
///   wcomp compose reporter.wasm --plug analyzer.wasm -o app.wasm
///
///   wcomp compose app.wasm --plug http.wasm --plug db.wasm --plug cache.wasm -o all.wasm
///
///   wcomp compose app.wasm --plug oci://ghcr.io/acme/db:1.2.0 -o app-with-db.wasm
///
///   wcomp compose app.wac --dep acme:db=db.wasm -o app.wasm
///
///   wcomp compose reporter.wasm --plug analyzer.wasm -o app.wasm --emit-wac app.wac
#[derive(Debug, clap::Args)]
pub struct ComposeArgs {
    /// The component whose exports the composition exports, or a `.wac` file (omit in a
    /// workspace).
    pub socket: Option<PathBuf>,

    /// A component whose exports satisfy imports in the graph (repeatable).
    #[arg(long = "plug", requires = "socket")]
    pub plugs: Vec<PathBuf>,

    /// Where to write the composed component (`-` for stdout; for a `.wac` file, its name
    /// with `.wasm` by default).
    #[arg(short, long, requires = "socket")]
    pub output: Option<PathBuf>,

    /// The component a package name of the `.wac` file stands for: `ns:name=<file>` or
    /// `ns:name=oci://<reference>` (repeatable).
    #[arg(long = "dep", value_name = "NS:NAME=FILE", requires = "socket")]
    pub deps: Vec<String>,

    /// Also write the composition as a `.wac` file, to start from what wcomp chose and edit
    /// it.
    #[arg(long, value_name = "FILE")]
    pub emit_wac: Option<PathBuf>,

    /// Explain the wiring: for every instance and import, what satisfied it or why it stays
    /// an import (type mismatches in WIT terms). Printed on stdout, or on stderr when the
    /// component itself goes to stdout (`-o -`).
    #[arg(long)]
    pub explain: bool,

    /// How many components to build at once in a workspace (default: CPU cores).
    #[arg(short, long)]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

fn input(ctx: &Context, path: &Path, access: &Access) -> anyhow::Result<ComposeInput> {
    let file = component_path(path, access, ctx)?;
    let shown = match path.to_str().and_then(crate::registry::strip_scheme) {
        // A pulled component is named after its repository: `acme/db:1` is `db`.
        Some(reference) => PathBuf::from(
            reference
                .rsplit('/')
                .next()
                .and_then(|last| last.split([':', '@']).next())
                .unwrap_or(reference),
        ),
        None => path.to_owned(),
    };
    ComposeInput::read(&file, &shown)
}

/// Usage errors clap cannot express.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ComposeUsageError {
    /// A socket component without plugs or an output.
    #[error("`wcomp compose <socket>` needs `--plug <plug>` and `-o <out>`")]
    #[diagnostic(help("or give a `.wac` file that says how to compose: `wcomp compose app.wac`"))]
    SocketNeedsPlugs,
    /// A `--dep` value that is not `ns:name=<file>`.
    #[error("`--dep {0}` is not `ns:name=<file>`")]
    Dep(String),
    /// A flag where it means nothing (`--dep` without a `.wac` file, `--plug` with one).
    #[error("`{flag}` {why}")]
    Misplaced {
        flag: &'static str,
        why: &'static str,
    },
}

fn is_wac(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "wac")
}

pub fn run(args: ComposeArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    if let Some(file) = args.socket.as_deref().filter(|file| is_wac(file)) {
        return run_wac(&args, file, ctx);
    }
    if !args.deps.is_empty() {
        return Err(ComposeUsageError::Misplaced {
            flag: "--dep",
            why: "names the packages of a `.wac` file, and none is given",
        }
        .report());
    }
    let Some(socket) = &args.socket else {
        let root = Workspace::find(&ctx.cwd)
            .ok_or(CommandError::NotInWorkspace { command: "compose" })
            .report_err()?;
        let workspace = Workspace::load(&root)?;
        if args.emit_wac.is_some() && workspace.manifest.compose.wac.is_some() {
            return Err(ComposeUsageError::Misplaced {
                flag: "--emit-wac",
                why: "writes what automatic plugging chose, and `[compose] wac` already says how to compose",
            }
            .report());
        }
        let jobs = args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let force = args.explain || args.emit_wac.is_some();
        let result = workspace::compose::compose(&workspace, jobs, force, ctx)?;
        report_workspace(&result, &workspace, ctx);
        if let Some(composition) = &result.composition {
            if args.explain {
                print_explanation(composition, ctx);
            }
            if let Some(emit) = &args.emit_wac {
                let namespace = compose::wac::kebab(&workspace.name);
                write_wac(emit, composition, &namespace, &[], ctx)?;
            }
        }
        return Ok(ExitStatus::Success);
    };
    let (false, Some(output)) = (args.plugs.is_empty(), &args.output) else {
        return Err(ComposeUsageError::SocketNeedsPlugs.report());
    };
    let access = args.registry.access_in(ctx)?;
    // With the component on stdout, every line of text (explanations, JSON messages) goes to
    // stderr: stdout carries the bytes and nothing else.
    let stdout_ctx = super::binary_stdout(output, ctx)?;
    let ctx = stdout_ctx.as_ref().unwrap_or(ctx);
    let options = ComposeOptions {
        socket: input(ctx, socket, &access)?,
        plugs: args
            .plugs
            .iter()
            .map(|plug| input(ctx, plug, &access))
            .collect::<anyhow::Result<_>>()?,
        wires: Vec::new(),
        require_every_plug: true,
    };
    let files: Vec<(String, String)> = std::iter::once(&options.socket)
        .chain(&options.plugs)
        .zip(std::iter::once(socket).chain(&args.plugs))
        .map(|(input, path)| (input.name.clone(), path.display().to_string()))
        .collect();
    let composition = compose::compose(options).report_err()?;
    if let Some(emit) = &args.emit_wac {
        write_wac(
            emit,
            &composition,
            compose::wac::LOCAL_NAMESPACE,
            &files,
            ctx,
        )?;
    }
    finish(
        &composition,
        output,
        args.explain,
        stdout_ctx.is_some(),
        ctx,
    )
}

/// `wcomp compose app.wac`: the file says how; `--dep` and `deps/` say what its names are.
fn run_wac(args: &ComposeArgs, file: &Path, ctx: &Context) -> anyhow::Result<ExitStatus> {
    if args.emit_wac.is_some() || !args.plugs.is_empty() {
        return Err(ComposeUsageError::Misplaced {
            flag: if args.plugs.is_empty() {
                "--emit-wac"
            } else {
                "--plug"
            },
            why: "is for automatic plugging; a `.wac` file says itself what to compose",
        }
        .report());
    }
    let access = args.registry.access_in(ctx)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| file.with_extension("wasm"));
    let stdout_ctx = super::binary_stdout(&output, ctx)?;
    let ctx = stdout_ctx.as_ref().unwrap_or(ctx);
    let options = wac_options(file, &args.deps, &access, ctx)?;
    let result = compose::wac::compose(&options).report_err()?;
    finish(
        &result.composition,
        &output,
        args.explain,
        stdout_ctx.is_some(),
        ctx,
    )
}

/// What `wcomp compose` and `wcomp graph` compose a `.wac` file with: its text, the `--dep`
/// files (registry references pulled) and the file's directory for `deps/`.
pub fn wac_options(
    file: &Path,
    deps: &[String],
    access: &Access,
    ctx: &Context,
) -> anyhow::Result<WacOptions> {
    let path = ctx.path(file);
    let source = fs_err::read_to_string(&path)?;
    let deps = deps
        .iter()
        .map(|dep| {
            let (name, value) = dep
                .split_once('=')
                .filter(|(name, value)| name.contains(':') && !value.is_empty())
                .ok_or_else(|| ComposeUsageError::Dep(dep.clone()).report())?;
            Ok(Dep {
                name: name.to_owned(),
                path: component_path(Path::new(value), access, ctx)?,
                shown: value.to_owned(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(WacOptions {
        shown: file.display().to_string(),
        source,
        deps,
        dir: path.parent().map(Path::to_path_buf),
    })
}

fn write_wac(
    shown: &Path,
    composition: &Composition,
    namespace: &str,
    files: &[(String, String)],
    ctx: &Context,
) -> anyhow::Result<()> {
    let path = ctx.path(shown);
    let text = compose::wac::emit(composition, namespace, &shown.display().to_string(), files);
    crate::fsutil::write(&path, text.as_bytes())?;
    ctx.printer.status("Wrote", path.display());
    Ok(())
}

/// Reports the composition and writes it to `output` (or stdout).
fn finish(
    composition: &Composition,
    output: &Path,
    explain: bool,
    to_stdout: bool,
    ctx: &Context,
) -> anyhow::Result<ExitStatus> {
    print_unresolved(composition, ctx);
    if explain {
        print_explanation(composition, ctx);
    }
    if to_stdout {
        ctx.printer
            .write_binary(&composition.bytes)
            .map_err(|err| anyhow::anyhow!("cannot write the component to stdout: {err}"))?;
    } else {
        let path = ctx.path(output);
        crate::fsutil::write(&path, &composition.bytes)?;
        ctx.printer.emit(&Composed {
            path: &path,
            shown: output,
            composition,
        });
    }
    Ok(ExitStatus::Success)
}

fn report_workspace(
    result: &workspace::compose::WorkspaceComposition,
    workspace: &Workspace,
    ctx: &Context,
) {
    let relative = result
        .output
        .strip_prefix(&workspace.root)
        .unwrap_or(&result.output);
    if let Some(composition) = &result.composition {
        print_unresolved(composition, ctx);
    }
    ctx.printer.emit(&WorkspaceComposed {
        path: &result.output,
        relative,
        root: &result.root,
        composition: result.composition.as_ref(),
    });
}

/// A composition of explicit components, written to a file.
struct Composed<'a> {
    path: &'a Path,
    /// The file as the user named it.
    shown: &'a Path,
    composition: &'a Composition,
}

impl Message for Composed<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": "composed",
            "path": self.path,
            "size": self.composition.bytes.len(),
            "links": self.composition.links,
            "imports": self.composition.left,
        })
    }

    fn show(&self, printer: &Printer) {
        let components = self.composition.instances.len();
        printer.status(
            "Composed",
            format_args!(
                "{components} components into `{}` ({} KiB)",
                self.shown.display(),
                self.composition.bytes.len().div_ceil(1024)
            ),
        );
        printer.data(self.path.display());
    }
}

/// A workspace's composition: composed now, or up to date (`composition` is `None`).
struct WorkspaceComposed<'a> {
    path: &'a Path,
    /// `path` relative to the workspace.
    relative: &'a Path,
    root: &'a str,
    composition: Option<&'a Composition>,
}

impl Message for WorkspaceComposed<'_> {
    fn to_json(&self) -> Value {
        match self.composition {
            None => {
                json!({"reason": "composed", "path": self.path, "root": self.root, "fresh": true})
            }
            Some(composition) => json!({
                "reason": "composed",
                "path": self.path,
                "root": self.root,
                "fresh": false,
                "size": composition.bytes.len(),
                "links": composition.links,
                "imports": composition.left,
            }),
        }
    }

    fn show(&self, printer: &Printer) {
        match self.composition {
            None => printer.status(
                "Fresh",
                format_args!("`{}` is up to date", self.relative.display()),
            ),
            Some(composition) => printer.status(
                "Composed",
                format_args!(
                    "`{}` from root `{}` ({} KiB)",
                    self.relative.display(),
                    self.root,
                    composition.bytes.len().div_ceil(1024)
                ),
            ),
        }
        printer.data(self.path.display());
    }
}

/// What satisfied every import of a composition (`--explain`).
struct Explanation(Vec<crate::compose::explain::InstanceReport>);

impl Message for Explanation {
    fn to_json(&self) -> Value {
        json!({"reason": "explain", "instances": self.0})
    }

    fn show(&self, printer: &Printer) {
        printer.data(crate::compose::explain::render(&self.0).trim_end());
    }
}

/// Lists (with `-v`) what satisfied each import, and warns about imports left open.
fn print_unresolved(composition: &Composition, ctx: &Context) {
    for link in &composition.links {
        ctx.printer.verbose(format_args!(
            "`{}` imports `{}` from `{}`",
            link.importer, link.import, link.exporter
        ));
    }
    for left in &composition.left {
        match &left.reason {
            LeftReason::Wasi | LeftReason::Open => {}
            LeftReason::NoProvider => ctx.printer.warning(format_args!(
                "`{}` import `{}` is not satisfied by any other component; it stays an import",
                left.importer, left.import
            )),
            LeftReason::Mismatch { exporter, detail } => ctx.printer.warning(format_args!(
                "`{}` import `{}` stays an import: `{exporter}` exports it with an incompatible type: {detail}",
                left.importer, left.import
            )),
        }
    }
}

fn print_explanation(composition: &Composition, ctx: &Context) {
    ctx.printer
        .emit(&Explanation(crate::compose::explain::explain(composition)));
}
