//! One module per subcommand. Each turns its clap arguments into the options of one
//! operation and calls it; no command holds logic of its own beyond that translation.

pub mod bench;
pub mod build;
pub mod cache;
pub mod completions;
pub mod compose;
pub mod deploy;
pub mod doctor;
pub mod graph;
pub mod new;
pub mod publish;
pub mod pull;
pub mod registry;
pub mod run;
pub mod serve;
pub mod test;
pub mod wit;

use crate::cli::Command;
use crate::{Context, ExitStatus};

/// Runs the chosen subcommand.
pub fn dispatch(command: Command, ctx: &Context) -> anyhow::Result<ExitStatus> {
    match command {
        Command::New(args) => new::run(args, ctx),
        Command::Build(args) => build::run(args, ctx),
        Command::Compose(args) => compose::run(args, ctx),
        Command::Run(args) => run::run(args, ctx),
        Command::Doctor(args) => doctor::run(args, ctx),
        Command::Graph(args) => graph::run(args, ctx),
        Command::Test(args) => test::run(args, ctx),
        Command::Serve(args) => serve::run(args, ctx),
        Command::Publish(args) => publish::run(args, ctx),
        Command::Pull(args) => pull::run(args, ctx),
        Command::Deploy(args) => deploy::run(args, ctx),
        Command::Bench(args) => bench::run(args, ctx),
        Command::Cache(args) => cache::run(args, ctx),
        Command::Completions(args) => completions::run(args, ctx),
        Command::Wit(args) => wit::run(args, ctx),
    }
}

/// For a command that writes a component to `output`: when that is stdout (`-`), refuses a
/// terminal and returns the context to use, whose printer leaves stdout to the bytes (every
/// line of text goes to stderr).
pub fn binary_stdout(output: &std::path::Path, ctx: &Context) -> anyhow::Result<Option<Context>> {
    use crate::diagnostic::Report as _;
    if output.as_os_str() != "-" {
        return Ok(None);
    }
    if ctx.printer.stdout_is_terminal() {
        return Err(CommandError::BinaryToTerminal.report());
    }
    Ok(Some(Context {
        printer: ctx.printer.with_stdout_reserved(),
        ..ctx.clone()
    }))
}

/// Errors in how a command was invoked, caught before any operation runs.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CommandError {
    /// Refusing to write a binary component to a terminal.
    #[error("refusing to write a binary component to the terminal")]
    #[diagnostic(help("pass `-o <file.wasm>`, or redirect stdout to a file"))]
    BinaryToTerminal,
    /// A workspace command run outside any workspace.
    #[error(
        "`wcomp {command}` without a file needs a workspace or a component project, and there is no `wcomp.toml` here (or one with `[workspace]` above)"
    )]
    #[diagnostic(help(
        "pass the component files explicitly (see `wcomp {command} --help`), run it in a project made by `wcomp new <dir>`, or create a workspace with `wcomp new <dir> --workspace`"
    ))]
    NotInWorkspace { command: &'static str },
}
