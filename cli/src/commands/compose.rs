use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::commands::CommandError;
use crate::commands::registry::{RegistryFlags, component_path};
use crate::compose::Composition;
use crate::compose::{self, ComposeInput, ComposeOptions, LeftReason};
use crate::diagnostic::ReportResult as _;
use crate::printer::{Message, Printer};
use crate::registry::Access;
use crate::workspace::{self, Workspace};
use crate::{Context, ExitStatus};

/// Link components into one composed component.
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
#[derive(Debug, clap::Args)]
pub struct ComposeArgs {
    /// The component whose exports the composition exports (omit in a workspace).
    #[arg(requires_all = ["plugs", "output"])]
    pub socket: Option<PathBuf>,

    /// A component whose exports satisfy imports in the graph (repeatable).
    #[arg(long = "plug", requires = "socket")]
    pub plugs: Vec<PathBuf>,

    /// Where to write the composed component (`-` for stdout).
    #[arg(short, long, requires = "socket")]
    pub output: Option<PathBuf>,

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

pub fn run(args: ComposeArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let (Some(socket), Some(output)) = (&args.socket, &args.output) else {
        let root = Workspace::find(&ctx.cwd)
            .ok_or(CommandError::NotInWorkspace { command: "compose" })
            .report_err()?;
        let workspace = Workspace::load(&root)?;
        let jobs = args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let result = workspace::compose::compose(&workspace, jobs, args.explain, ctx)?;
        report_workspace(&result, &workspace, ctx);
        if args.explain
            && let Some(composition) = &result.composition
        {
            print_explanation(composition, ctx);
        }
        return Ok(ExitStatus::Success);
    };
    let explain = args.explain;
    let access = args.registry.access_in(ctx)?;
    let args = ExplicitCompose {
        socket,
        plugs: &args.plugs,
        output,
    };
    // With the component on stdout, every line of text (explanations, JSON messages) goes to
    // stderr: stdout carries the bytes and nothing else.
    let stdout_ctx = super::binary_stdout(args.output, ctx)?;
    let to_stdout = stdout_ctx.is_some();
    let ctx = stdout_ctx.as_ref().unwrap_or(ctx);
    let options = ComposeOptions {
        socket: input(ctx, args.socket, &access)?,
        plugs: args
            .plugs
            .iter()
            .map(|plug| input(ctx, plug, &access))
            .collect::<anyhow::Result<_>>()?,
        wires: Vec::new(),
        require_every_plug: true,
    };
    let composition = compose::compose(options).report_err()?;

    print_unresolved(&composition, ctx);
    if explain {
        print_explanation(&composition, ctx);
    }

    if to_stdout {
        ctx.printer
            .write_binary(&composition.bytes)
            .map_err(|err| anyhow::anyhow!("cannot write the component to stdout: {err}"))?;
    } else {
        let output = ctx.path(args.output);
        crate::fsutil::write(&output, &composition.bytes)?;
        ctx.printer.emit(&Composed {
            path: &output,
            shown: args.output,
            composition: &composition,
        });
    }
    Ok(ExitStatus::Success)
}

struct ExplicitCompose<'a> {
    socket: &'a Path,
    plugs: &'a [PathBuf],
    output: &'a Path,
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
        let components = self
            .composition
            .links
            .iter()
            .map(|l| &l.exporter)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            + 1;
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
            LeftReason::Wasi => {}
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
