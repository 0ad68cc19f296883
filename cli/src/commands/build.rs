use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use crate::commands::CommandError;
use crate::diagnostic::ReportResult as _;
use crate::manifest::Project;
use crate::printer::{Message, Printer};
use crate::watch::WatchLoop;
use crate::workspace::build::{
    self as workspace_build, BuildGraph, BuildOptions, MemberBuild, Outcome,
};
use crate::workspace::{MANIFEST, Workspace};
use crate::{Context, ExitStatus};

/// Build a component project, or every component of a workspace.
///
/// In a workspace (a `wcomp.toml` with `[workspace]` here or in a parent directory), the
/// components build in parallel, and a component whose sources, WIT, manifest entry and
/// toolchain are unchanged since its last build is not rebuilt at all. Outside one, the
/// project in the given directory is built. Components are validated and written to
/// `<project>/target/wcomp/<name>.wasm`; their paths are printed on stdout.
///
/// Rust projects build with cargo, Go projects with go, Python projects with componentize-py:
/// wcomp pins its version, uses it from PATH when that version is there, and otherwise
/// installs it once into a private virtual environment in its cache. JavaScript projects build
/// with componentize-js, likewise pinned: from the project's `node_modules` when it has it,
/// otherwise installed once with npm into wcomp's cache. Neither is ever downloaded with
/// `--offline`.
///
/// Examples:
///
///   wcomp build
///
///   wcomp build -p tokenizer -p report
///
///   wcomp build path/to/project
///
///   wcomp build --offline
///
///   wcomp build --watch     # rebuild what a saved file changes, until Ctrl-C
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Project or workspace directory (default: the enclosing workspace, else the current
    /// directory).
    pub project: Option<PathBuf>,

    /// Build only this workspace component (repeatable).
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub packages: Vec<String>,

    /// How many components to build at once (default: the number of CPU cores).
    #[arg(short, long)]
    pub jobs: Option<usize>,

    /// Rebuild even when nothing changed.
    #[arg(long)]
    pub force: bool,

    /// Never download anything: a toolchain wcomp would install (componentize-py,
    /// componentize-js) must already be present.
    #[arg(long)]
    pub offline: bool,

    /// Build, then rebuild whenever a source is saved (only the components it changes),
    /// until Ctrl-C. Outputs and whatever `.gitignore` ignores never trigger a build.
    #[arg(long)]
    pub watch: bool,
}

/// What `wcomp build <dir>` refers to.
enum Target {
    Workspace {
        root: PathBuf,
        packages: Vec<String>,
    },
    Project(PathBuf),
}

fn is_workspace(dir: &Path) -> bool {
    Workspace::find(dir).is_some_and(|root| root == dir)
}

fn target(args: &BuildArgs, ctx: &Context) -> anyhow::Result<Target> {
    let packages = args.packages.clone();
    let Some(project) = &args.project else {
        return Ok(match Workspace::find(&ctx.cwd) {
            Some(root) => Target::Workspace { root, packages },
            None => Target::Project(ctx.cwd.clone()),
        });
    };
    let dir = ctx.path(project);
    let dir = dir.canonicalize().unwrap_or(dir);
    if is_workspace(&dir) {
        return Ok(Target::Workspace {
            root: dir,
            packages,
        });
    }
    // A member directory without its own manifest builds as that workspace member.
    if !dir.join(MANIFEST).is_file()
        && let Some(root) = dir.parent().and_then(Workspace::find)
    {
        let workspace = Workspace::load(&root)?;
        if let Some(member) = workspace
            .members
            .iter()
            .find(|m| m.project.dir.canonicalize().ok().as_deref() == Some(dir.as_path()))
        {
            return Ok(Target::Workspace {
                root,
                packages: vec![member.name.clone()],
            });
        }
    }
    Ok(Target::Project(dir))
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
    if args.watch {
        let dir = match &args.project {
            Some(project) => ctx.path(project),
            None => ctx.cwd.clone(),
        };
        let stop = std::sync::atomic::AtomicBool::new(false);
        // The manifest is read again every cycle: an edit to `wcomp.toml` counts too.
        // `--force` applies to the first build only.
        let mut force = args.force;
        return WatchLoop::new(&dir, ctx, crate::error::report)?.run(ctx, &stop, |ctx| {
            build_once(&args, std::mem::take(&mut force), ctx)
        });
    }
    build_once(&args, args.force, ctx)
}

fn build_once(args: &BuildArgs, force: bool, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    match target(args, ctx)? {
        Target::Workspace { root, packages } => build_workspace(
            &root,
            BuildOptions {
                packages,
                jobs,
                force,
            },
            ctx,
        ),
        Target::Project(dir) => {
            if let Some(name) = args.packages.first() {
                anyhow::bail!(
                    "`-p {name}` selects a workspace component, and `{}` is a project outside any workspace",
                    dir.display()
                );
            }
            build_project(
                &dir,
                BuildOptions {
                    packages: Vec::new(),
                    jobs,
                    force,
                },
                ctx,
            )
        }
    }
}

fn build_workspace(
    root: &Path,
    options: BuildOptions,
    ctx: &Context,
) -> anyhow::Result<ExitStatus> {
    let workspace = Workspace::load(root)?;
    build_graph(&BuildGraph::workspace(&workspace), &options, ctx)
}

/// A project outside a workspace builds as a graph of one: the same fingerprints, so an
/// unchanged project is not handed to its toolchain again.
fn build_project(dir: &Path, options: BuildOptions, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let project = Project::detect(dir)?;
    build_graph(&BuildGraph::project(project), &options, ctx)
}

fn build_graph(
    graph: &BuildGraph,
    options: &BuildOptions,
    ctx: &Context,
) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    let results = workspace_build::build(graph, options, ctx)?;
    let results = workspace_build::check_builds(results)?;
    let built = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Built { .. }))
        .count();
    let fresh = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fresh))
        .count();
    for result in &results {
        ctx.printer.emit(&ComponentBuilt(result));
    }
    ctx.printer.emit(&BuildFinished {
        results: &results,
        built,
        fresh,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(ExitStatus::Success)
}

/// The component a command run in `dir` with none named works on: the workspace's
/// composition (building and composing first whatever is stale), or the component of the
/// project in `dir` (built first if stale).
pub fn current_component(
    dir: &Path,
    jobs: Option<usize>,
    command: &'static str,
    ctx: &Context,
) -> anyhow::Result<PathBuf> {
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Some(root) = Workspace::find(dir) {
        let workspace = Workspace::load(&root)?;
        return Ok(crate::workspace::compose::compose(&workspace, jobs, false, ctx)?.output);
    }
    let graph = BuildGraph::project(project_here(dir, command)?);
    let options = BuildOptions {
        packages: Vec::new(),
        jobs,
        force: false,
    };
    let results = workspace_build::check_builds(workspace_build::build(&graph, &options, ctx)?)?;
    let Some(built) = results.into_iter().next() else {
        return Err(crate::diagnostic::InternalError::error(
            "a project built nothing",
        ));
    };
    built
        .output
        .ok_or_else(|| crate::diagnostic::InternalError::error("a successful build has an output"))
}

/// The project in `dir`, for a command that needs a workspace or a project there.
pub fn project_here(dir: &Path, command: &'static str) -> anyhow::Result<Project> {
    if !dir.join(MANIFEST).is_file() && !dir.join("Cargo.toml").is_file() {
        return Err(CommandError::NotInWorkspace { command }).report_err();
    }
    Project::detect(dir)
}

/// One component of a build, built or fresh (in JSON; people read the summary).
struct ComponentBuilt<'a>(&'a MemberBuild);

impl Message for ComponentBuilt<'_> {
    fn to_json(&self) -> Value {
        let result = self.0;
        json!({
            "reason": "component-built",
            "name": result.name,
            "language": result.language,
            "path": result.output,
            "size": result.size,
            "fresh": matches!(result.outcome, Outcome::Fresh),
        })
    }

    fn show(&self, _: &Printer) {}
}

/// The end of a build: how many components were built and fresh, and where they are.
struct BuildFinished<'a> {
    results: &'a [MemberBuild],
    built: usize,
    fresh: usize,
    seconds: f64,
}

impl Message for BuildFinished<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "build-finished", "built": self.built, "fresh": self.fresh, "seconds": self.seconds})
    }

    fn show(&self, printer: &Printer) {
        let what = match self.results {
            [only] => format!(
                "`{}` ({}, {} KiB)",
                only.name,
                if self.built == 1 { "built" } else { "fresh" },
                only.size.unwrap_or(0).div_ceil(1024)
            ),
            _ => format!(
                "{} components ({} built, {} fresh)",
                self.results.len(),
                self.built,
                self.fresh
            ),
        };
        printer.status("Finished", format_args!("{what} in {:.2}s", self.seconds));
        for result in self.results {
            if let Some(output) = &result.output {
                printer.data(output.display());
            }
        }
    }
}
