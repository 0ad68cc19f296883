//! The command-line surface: global flags and the subcommand list. Each subcommand's own
//! arguments live beside its implementation in `commands/<name>.rs`.

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::printer::{self, OutputFormat, Printer, Verbosity};

/// One toolchain for WebAssembly components in Rust, Go and Python.
///
/// Scaffold a component, build it with its language's real toolchain, compose several
/// into one, and run the result on an embedded wasmtime.
#[derive(Debug, Parser)]
#[command(
    name = "wcomp",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Print more detail: the commands wcomp runs and what it decided (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only errors and the command's data.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// How to print messages: for people, or one JSON object per line for tools.
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,

    /// When to use colors on stderr.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl GlobalArgs {
    /// The printer these flags ask for.
    pub fn printer(&self) -> Printer {
        let verbosity = match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::VeryVerbose,
        };
        let format = match self.format {
            FormatArg::Human => OutputFormat::Human,
            FormatArg::Json => OutputFormat::Json,
            FormatArg::Sarif => OutputFormat::Sarif,
        };
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => printer::auto_color(),
        };
        Printer::new(verbosity, format, color)
    }
}

/// Output style for status, results and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    /// A SARIF 2.1.0 log on stdout (`wit check` only; other commands print as `human`).
    Sarif,
}

/// Whether stderr gets ANSI colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The subcommands. Each one's arguments are only built when it is the one being run (`defer`):
/// building all of them is a visible part of a short `wcomp run`. So the one-line summaries
/// `wcomp --help` lists are here; the full help comes from each `*Args`' documentation.
// Parsed once per process and matched at once: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a new component project or workspace
    New(commands::new::NewArgs),
    /// Build a component project, or every component of a workspace
    Build(commands::build::BuildArgs),
    /// Link components into one composed component
    Compose(commands::compose::ComposeArgs),
    /// Run a component on the embedded wasmtime, sandboxed
    Run(commands::run::RunArgs),
    /// Run the smoke tests declared in wcomp.toml
    Test(commands::test::TestArgs),
    /// Serve a wasi:http component (WASI 0.2 or 0.3) over HTTP
    Serve(commands::serve::ServeArgs),
    /// Publish a component to an OCI registry
    Publish(commands::publish::PublishArgs),
    /// Pull a component from an OCI registry
    Pull(commands::pull::PullArgs),
    /// Write a wasmCloud or Kubernetes manifest for a published HTTP component
    Deploy(commands::deploy::DeployArgs),
    /// Draw the composition graph
    Graph(commands::graph::GraphArgs),
    /// Check that the toolchains wcomp drives are installed and usable
    Doctor(commands::doctor::DoctorArgs),
    /// Measure how fast a component starts and how many instances of it fit in memory
    Bench(commands::bench::BenchArgs),
    /// Manage wcomp's cache of compiled code
    Cache(commands::cache::CacheArgs),
    /// Print a shell completion script
    Completions(commands::completions::CompletionsArgs),
    /// Check, format, compare, fetch and publish WIT packages
    Wit(commands::wit::WitArgs),
}

/// Prints a command-line error clap found (with a wcomp hint where one helps) and returns
/// its exit code: 0 for `--help` and `--version`, 1 for a usage mistake, which is the user's
/// (2 is kept for bugs in wcomp).
pub fn usage_error(err: &clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let _ = err.print();
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return std::process::ExitCode::SUCCESS;
    }
    let text = |kind| match err.get(kind) {
        Some(ContextValue::String(text)) => Some(text.as_str()),
        _ => None,
    };
    let picture = ["mermaid", "dot", "svg"];
    if err.kind() == ErrorKind::InvalidValue
        && text(ContextKind::InvalidArg).is_some_and(|arg| arg.starts_with("--format"))
        && let Some(value) = text(ContextKind::InvalidValue).filter(|v| picture.contains(v))
    {
        Printer::stderr_only().note(format_args!(
            "`--format` chooses how wcomp prints messages (`human` or `json`); pictures take `--as`: `wcomp graph --as {value}`"
        ));
    }
    std::process::ExitCode::from(1)
}
