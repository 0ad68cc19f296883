use std::path::PathBuf;

use crate::commands::CommandError;
use crate::commands::registry::RegistryFlags;
use crate::compose::graph::{self, NodeInfo};
use crate::compose::{self, ComposeInput, ComposeOptions};
use crate::diagnostic::ReportResult as _;
use crate::workspace::{self, Workspace};
use crate::{Context, ExitStatus};

/// Draw the composition graph.
///
/// Components are nodes labelled with their language and size; each edge is an interface
/// one component imports from another; the WASI interfaces the host provides are grouped
/// into one node. In a workspace, draws the workspace's composition (building what is
/// stale); otherwise, the composition of the given socket and plugs, or of a `.wac` file
/// (its `let` instances as the nodes).
///
/// `--as svg` is laid out and rendered by wcomp itself; no Graphviz install is needed.
///
/// Examples:
///
///   wcomp graph                      # Mermaid, for a README or a pull request
///
///   wcomp graph --as svg -o graph.svg
///
///   wcomp graph --as dot app.wasm --plug db.wasm | dot -Tpng > graph.png
///
///   wcomp graph app.wac --dep acme:db=db.wasm
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Socket component, or a `.wac` file (omit in a workspace).
    pub socket: Option<PathBuf>,

    /// The component a package name of the `.wac` file stands for, as for `wcomp compose`.
    #[arg(long = "dep", value_name = "NS:NAME=FILE", requires = "socket")]
    pub deps: Vec<String>,

    /// Plug components, as for `wcomp compose`.
    #[arg(long = "plug", requires = "socket")]
    pub plugs: Vec<PathBuf>,

    /// Picture format.
    #[arg(long = "as", value_enum, default_value_t = GraphFormat::Mermaid)]
    pub picture: GraphFormat,

    /// Write to this file instead of stdout (`-` is stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Formats `wcomp graph` can draw.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
    Svg,
}

pub fn run(args: GraphArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let (composition, info): (_, Vec<NodeInfo>) = match &args.socket {
        Some(file) if file.extension().is_some_and(|ext| ext == "wac") => {
            let access = RegistryFlags::default().access_in(ctx)?;
            let options = super::compose::wac_options(file, &args.deps, &access, ctx)?;
            let result = compose::wac::compose(&options).report_err()?;
            (result.composition, result.info)
        }
        Some(socket) => {
            let read = |path: &PathBuf| ComposeInput::read(&ctx.path(path), path);
            let socket = read(socket)?;
            let plugs = args
                .plugs
                .iter()
                .map(read)
                .collect::<anyhow::Result<Vec<_>>>()?;
            let info = std::iter::once(&socket)
                .chain(&plugs)
                .map(|input| NodeInfo {
                    name: input.name.clone(),
                    language: graph::detect_language(&input.bytes),
                    size: input.bytes.len() as u64,
                })
                .collect();
            let options = ComposeOptions {
                socket,
                plugs,
                wires: Vec::new(),
                require_every_plug: true,
            };
            (compose::compose(options).report_err()?, info)
        }
        None => {
            let root = Workspace::find(&ctx.cwd)
                .ok_or(CommandError::NotInWorkspace { command: "graph" })
                .report_err()?;
            let workspace = Workspace::load(&root)?;
            let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
            let result = workspace::compose::compose(&workspace, jobs, true, ctx)?;
            let info = if !result.info.is_empty() {
                result.info
            } else {
                result
                    .builds
                    .iter()
                    .map(|build| NodeInfo {
                        name: build.name.clone(),
                        language: Some(build.language.to_string()),
                        size: build
                            .output
                            .as_ref()
                            .and_then(|p| std::fs::metadata(p).ok())
                            .map_or(0, |m| m.len()),
                    })
                    .collect()
            };
            (
                result
                    .composition
                    .expect("a forced composition is always computed"),
                info,
            )
        }
    };
    let picture = graph::build(&composition, &info);
    let text = match args.picture {
        GraphFormat::Mermaid => graph::mermaid(&picture),
        GraphFormat::Dot => graph::dot(&picture),
        GraphFormat::Svg => graph::svg(&picture),
    };
    match args.output.as_ref().filter(|path| path.as_os_str() != "-") {
        Some(path) => {
            let path = ctx.path(path);
            crate::fsutil::write(&path, text.as_bytes())?;
            ctx.printer.status("Wrote", path.display());
        }
        None => ctx.printer.data(text.trim_end()),
    }
    Ok(ExitStatus::Success)
}
