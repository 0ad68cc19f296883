use std::path::PathBuf;

use serde_json::json;

use crate::scaffold::{self, NewOptions};
use crate::toolchain::Language;
use crate::{Context, ExitStatus};

/// Create a new component project.
///
/// Without `--wit`, the project implements a small example world that builds as is.
/// With `--wit` (a `.wit` file or a directory with `deps/`) and `--world`, the WIT is
/// copied into the project and every export of the world gets a compiling stub.
///
/// The destination must not exist or must be empty: `new` never overwrites anything.
///
/// Examples:
///
///   wcomp new greeter --lang rust
///
///   wcomp new analyzer --lang rust --wit ../wit --world analyzer
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Directory to create; its name becomes the project name.
    pub dir: PathBuf,

    /// Language of the component.
    #[arg(long, value_enum)]
    pub lang: LanguageArg,

    /// Project name, when it should differ from the directory name.
    #[arg(long)]
    pub name: Option<String>,

    /// WIT file or directory defining the world to implement.
    #[arg(long)]
    pub wit: Option<PathBuf>,

    /// World to implement (optional when the WIT package defines exactly one).
    #[arg(long, requires = "wit")]
    pub world: Option<String>,
}

/// Languages `wcomp new` can scaffold.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LanguageArg {
    Rust,
    Go,
    Python,
}

impl From<LanguageArg> for Language {
    fn from(value: LanguageArg) -> Self {
        match value {
            LanguageArg::Rust => Language::Rust,
            LanguageArg::Go => Language::Go,
            LanguageArg::Python => Language::Python,
        }
    }
}

pub fn run(args: NewArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let options = NewOptions {
        dir: args.dir,
        language: args.lang.into(),
        name: args.name,
        wit: args.wit,
        world: args.world,
    };
    let created = scaffold::new_project(&options, ctx)?;
    if ctx.printer.is_json() {
        ctx.printer.json(json!({
            "reason": "project-created",
            "dir": created.dir,
            "name": created.name,
            "language": options.language,
            "world": created.world,
            "files": created.files,
        }));
    } else {
        ctx.printer.status(
            "Created",
            format_args!(
                "{} component `{}` (world `{}`) in `{}`",
                options.language,
                created.name,
                created.world,
                options.dir.display()
            ),
        );
        ctx.printer.note(format_args!(
            "build it with `wcomp build {}`",
            options.dir.display()
        ));
    }
    Ok(ExitStatus::Success)
}
