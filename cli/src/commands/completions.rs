use clap::CommandFactory;

use crate::{Context, ExitStatus};

/// Print a shell completion script.
///
/// Examples:
///
///   wcomp completions bash > ~/.local/share/bash-completion/completions/wcomp
///
///   wcomp completions zsh > "${fpath[1]}/_wcomp"
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// Shell to generate completions for.
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let mut command = crate::cli::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "wcomp", &mut script);
    ctx.printer
        .data(String::from_utf8_lossy(&script).trim_end());
    Ok(ExitStatus::Success)
}
