use std::path::PathBuf;

use serde_json::json;

use crate::toolchain::{self, Project};
use crate::{Context, ExitStatus};

/// Build a component project with its language's toolchain.
///
/// Rust projects are built with `cargo build --release --target wasm32-wasip2`. Python
/// projects with componentize-py: wcomp pins its version, uses it from PATH when it matches,
/// and otherwise installs it once into a private virtual environment in its cache. The
/// component is validated and written to `<project>/target/wcomp/<name>.wasm`; its path
/// is printed on stdout.
///
/// Examples:
///
///   wcomp build
///
///   wcomp build path/to/project
///
///   wcomp build --offline
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Project directory (default: the current directory).
    pub project: Option<PathBuf>,

    /// Never download anything: a toolchain wcomp would install (componentize-py) must
    /// already be present.
    #[arg(long)]
    pub offline: bool,
}

pub fn run(args: BuildArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let offline_ctx;
    let ctx = if args.offline {
        offline_ctx = Context {
            offline: true,
            ..ctx.clone()
        };
        &offline_ctx
    } else {
        ctx
    };
    let dir = ctx.path(args.project.unwrap_or_else(|| PathBuf::from(".")));
    let project = Project::detect(&dir)?;
    let toolchain = toolchain::for_language(project.language);
    let started = std::time::Instant::now();
    ctx.printer.status(
        "Building",
        format_args!("{} ({})", dir.display(), project.language),
    );
    let built = toolchain.build(&project, ctx)?;
    for component in &built {
        if ctx.printer.is_json() {
            ctx.printer.json(json!({
                "reason": "component-built",
                "name": component.name,
                "language": component.language,
                "path": component.path,
                "size": component.size,
            }));
        } else {
            ctx.printer.status(
                "Finished",
                format_args!(
                    "`{}` ({} KiB) in {:.2}s",
                    component.name,
                    component.size.div_ceil(1024),
                    started.elapsed().as_secs_f64()
                ),
            );
            ctx.printer.data(component.path.display());
        }
    }
    Ok(ExitStatus::Success)
}
