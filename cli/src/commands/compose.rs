use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::commands::CommandError;
use crate::compose::{self, ComposeInput, ComposeOptions, LeftReason};
use crate::{Context, ExitStatus};

/// Link components into one composed component.
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
#[derive(Debug, clap::Args)]
pub struct ComposeArgs {
    /// The component whose exports the composition exports.
    pub socket: PathBuf,

    /// A component whose exports satisfy imports in the graph (repeatable).
    #[arg(long = "plug", required = true)]
    pub plugs: Vec<PathBuf>,

    /// Where to write the composed component (`-` for stdout).
    #[arg(short, long)]
    pub output: PathBuf,
}

fn input(ctx: &Context, path: &Path) -> anyhow::Result<ComposeInput> {
    let bytes = fs_err::read(ctx.path(path))?;
    let name = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    Ok(ComposeInput { name, bytes })
}

pub fn run(args: ComposeArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout && std::io::stdout().is_terminal() {
        return Err(CommandError::BinaryToTerminal.into());
    }
    let options = ComposeOptions {
        socket: input(ctx, &args.socket)?,
        plugs: args
            .plugs
            .iter()
            .map(|plug| input(ctx, plug))
            .collect::<anyhow::Result<_>>()?,
    };
    let composition = compose::compose(&options)?;

    for link in &composition.links {
        ctx.printer.verbose(format_args!(
            "`{}` imports `{}` from `{}`",
            link.importer, link.import, link.exporter
        ));
    }
    let unresolved: Vec<_> = composition
        .left
        .iter()
        .filter(|left| !matches!(left.reason, LeftReason::Wasi))
        .collect();
    for left in &unresolved {
        let why = match &left.reason {
            LeftReason::Mismatch { exporter, detail } => {
                format!(" (`{exporter}` exports it with an incompatible type: {detail})")
            }
            _ => String::new(),
        };
        ctx.printer.warning(format_args!(
            "`{}` import `{}` is not satisfied by any plug; it stays an import{why}",
            left.importer, left.import
        ));
    }

    if to_stdout {
        use std::io::Write as _;
        std::io::stdout().lock().write_all(&composition.bytes)?;
    } else {
        let output = ctx.path(&args.output);
        crate::fsutil::write_atomic(&output, &composition.bytes)?;
        if ctx.printer.is_json() {
            ctx.printer.json(json!({
                "reason": "composed",
                "path": output,
                "size": composition.bytes.len(),
                "links": composition.links,
                "imports": composition.left,
            }));
        } else {
            ctx.printer.status(
                "Composed",
                format_args!(
                    "{} components into `{}` ({} KiB)",
                    composition
                        .links
                        .iter()
                        .map(|l| &l.exporter)
                        .collect::<std::collections::BTreeSet<_>>()
                        .len()
                        + 1,
                    args.output.display(),
                    composition.bytes.len().div_ceil(1024)
                ),
            );
            ctx.printer.data(output.display());
        }
    }
    Ok(ExitStatus::Success)
}
