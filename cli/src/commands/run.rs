use std::path::PathBuf;

use serde_json::json;

use crate::commands::CommandError;
use crate::runtime::{self, RunOptions, RunOutcome};
use crate::workspace::{self, Workspace};
use crate::{Context, ExitStatus};

/// Run a component on the embedded wasmtime.
///
/// Without `--invoke`, runs the component's `wasi:cli/run` export and exits with the
/// guest's exit code. With `--invoke`, calls one exported function with WAVE arguments
/// (the syntax of `wasmtime run --invoke`) and prints each result as WAVE on stdout.
/// A function may be named bare when unambiguous, or qualified with its interface:
/// `report#render(...)`, `acme:text/report@0.1.0#render(...)`.
///
/// In a workspace, with no component given, runs the composed workspace (building and
/// composing first whatever is stale).
///
/// The guest gets stdio and its arguments; no files, environment or network.
///
/// Examples:
///
///   wcomp run app.wasm --invoke 'render("Hello brave new world")'
///
///   wcomp run tool.wasm -- --input data.txt
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The component to run (default in a workspace: the composed workspace, composed first
    /// if anything changed).
    pub component: Option<PathBuf>,

    /// A WAVE function call, e.g. `render("hi")` or `iface#add(1, 2)`.
    #[arg(long)]
    pub invoke: Option<String>,

    /// Arguments for the guest (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

pub fn run(args: RunArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let component = match &args.component {
        Some(component) => ctx.path(component),
        None => {
            let root =
                Workspace::find(&ctx.cwd).ok_or(CommandError::NotInWorkspace { command: "run" })?;
            let workspace = Workspace::load(&root)?;
            let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
            workspace::compose::compose(&workspace, jobs, false, ctx)?.output
        }
    };
    let options = RunOptions {
        component,
        invoke: args.invoke,
        args: args.args,
    };
    match runtime::run(&options)? {
        RunOutcome::Returned(results) => {
            if ctx.printer.is_json() {
                ctx.printer
                    .json(json!({"reason": "returned", "results": results}));
            } else {
                for result in results {
                    ctx.printer.data(result);
                }
            }
            Ok(ExitStatus::Success)
        }
        RunOutcome::Exited(0) => Ok(ExitStatus::Success),
        RunOutcome::Exited(code) => {
            ctx.printer
                .verbose(format_args!("guest exited with code {code}"));
            Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(1)))
        }
    }
}
