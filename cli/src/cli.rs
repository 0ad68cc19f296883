//! The command-line surface: global flags and the subcommand list. Each subcommand's own
//! arguments live beside its implementation in `commands/<name>.rs`.

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;

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
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// When to use colors on stderr.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Output style for status, results and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
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

#[derive(Debug, Subcommand)]
pub enum Command {
    New(commands::new::NewArgs),
    Build(commands::build::BuildArgs),
    Compose(commands::compose::ComposeArgs),
    Run(commands::run::RunArgs),
    Test(commands::test::TestArgs),
    Graph(commands::graph::GraphArgs),
    Doctor(commands::doctor::DoctorArgs),
    Bench(commands::bench::BenchArgs),
    Cache(commands::cache::CacheArgs),
    Completions(commands::completions::CompletionsArgs),
    Wit(commands::wit::WitArgs),
}
