use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::commands::CommandError;
use crate::commands::registry::RegistryFlags;
use crate::diagnostic::ReportResult as _;
use crate::printer::{Message, Printer};
use crate::registry::{self, PublishOptions};
use crate::workspace::{self, Workspace};
use crate::{Context, ExitStatus};

/// Publish a component to an OCI registry, as the standard Wasm OCI artifact.
///
/// Pushes the component as wasmCloud, Kubernetes with runwasi, SpinKube, wkg and wash expect
/// it: a config of media type `application/vnd.wasm.config.v0+json` (architecture `wasm`, os
/// `wasip2`, the component's imports and exports) and one `application/wasm` layer, with
/// `org.opencontainers.image.*` annotations (`created`, and `version`, `description` and
/// `source` from `[workspace]` in wcomp.toml). The blobs go first and the tag last, so a push
/// that fails midway leaves no tag. Prints the reference pinned to its digest.
///
/// In a workspace with no component given, publishes the composition (composed first if
/// anything changed). Credentials come from the Docker config (`docker login`) unless
/// `--username`/`--password-stdin` are given.
///
/// Examples:
///
///   wcomp publish ghcr.io/acme/wordsvc:1.0.0
///
///   wcomp publish localhost:5000/hello:dev hello/target/wcomp/hello.wasm --insecure
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Where to push: `<registry>/<repository>:<tag>`.
    pub reference: String,

    /// The component (default in a workspace: the composition).
    pub component: Option<PathBuf>,

    /// An annotation to add: `key=value` (repeatable).
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub fn run(args: PublishArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let mut annotations = BTreeMap::new();
    let component = match &args.component {
        Some(path) => ctx.path(path),
        None => {
            let root = Workspace::find(&ctx.cwd)
                .ok_or(CommandError::NotInWorkspace { command: "publish" })
                .report_err()?;
            let workspace = Workspace::load(&root)?;
            if let Some(table) = &workspace.manifest.workspace {
                for (key, value) in [
                    ("version", &table.version),
                    ("description", &table.description),
                    ("source", &table.source),
                ] {
                    if let Some(value) = value {
                        annotations
                            .insert(format!("org.opencontainers.image.{key}"), value.clone());
                    }
                }
            }
            let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
            workspace::compose::compose(&workspace, jobs, false, ctx)?.output
        }
    };
    for text in &args.annotations {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("`--annotation {text}` is not `key=value`"))?;
        annotations.insert(key.to_owned(), value.to_owned());
    }
    let bytes = crate::runtime::load(&component)?;
    crate::runtime::check_component(&component, &bytes).report_err()?;
    let title = component.file_name().map_or_else(
        || "component.wasm".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    ctx.printer.status(
        "Publishing",
        format_args!(
            "`{title}` ({} KiB) to `{}`",
            bytes.len().div_ceil(1024),
            args.reference
        ),
    );
    let published = registry::publish(
        &PublishOptions {
            reference: args.reference.clone(),
            component: bytes,
            title,
            annotations,
            wit_package: false,
            // Component tags move (`:latest`, `:dev`), as with every OCI tool.
            immutable: false,
        },
        &args.registry.access_in(ctx)?,
    )?;
    ctx.printer.emit(&PublishedMessage(&published));
    Ok(ExitStatus::Success)
}

/// A component pushed, and its reference pinned by digest.
struct PublishedMessage<'a>(&'a registry::Published);

impl Message for PublishedMessage<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "published", "published": self.0})
    }

    fn show(&self, printer: &Printer) {
        printer.status("Published", &self.0.reference);
        printer.data(&self.0.pinned);
    }
}
