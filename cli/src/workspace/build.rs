//! Building components: a [`BuildGraph`] is a workspace's members, or a single project as a
//! graph of one. Every selected component builds in parallel, each skipped when the hash of
//! its inputs matches its last successful build. A failing component does not stop the others.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::fingerprint::{self, Record};
use super::{Member, Workspace, WorkspaceError};
use crate::Context;
use crate::diagnostic::ReportResult as _;
use crate::diagnostic::{InternalError, Several};
use crate::lang::{self, Language, Project};
use crate::printer::{Message, Printer, Spinner};

/// What a build should do.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Only these components (`-p`); all when empty.
    pub packages: Vec<String>,
    /// How many components build at once.
    pub jobs: usize,
    /// Rebuild even when nothing changed.
    pub force: bool,
}

/// How one component's build went.
#[derive(Debug)]
pub enum Outcome {
    /// Inputs unchanged since the last build: nothing was run.
    Fresh,
    /// Built by its toolchain.
    Built {
        elapsed: Duration,
    },
    Failed(anyhow::Error),
}

/// One component's result.
#[derive(Debug)]
pub struct MemberBuild {
    pub name: String,
    pub language: Language,
    /// The component file, when there is a current one.
    pub output: Option<PathBuf>,
    /// Its size in bytes, when there is a current one.
    pub size: Option<u64>,
    /// The hash of the inputs the output was built from.
    pub inputs: Option<String>,
    pub outcome: Outcome,
}

/// The components one build considers, where their shared WIT lives and where build records
/// are kept.
#[derive(Debug, Clone)]
pub struct BuildGraph {
    pub members: Vec<Member>,
    /// A WIT directory outside the members' own directories that every member uses (a
    /// workspace's `wit/`), hashed once as an input of each.
    pub shared_wit: Option<PathBuf>,
    /// Where build records live (`<root>/target/wcomp`).
    pub state_dir: PathBuf,
    /// The directory of the `wcomp.toml` (and `wkg.lock`) that governs the build.
    pub root: PathBuf,
}

impl BuildGraph {
    /// The members of a workspace.
    pub fn workspace(workspace: &Workspace) -> Self {
        Self {
            members: workspace.members.clone(),
            shared_wit: Some(workspace.wit_dir.clone()),
            state_dir: workspace.target_dir(),
            root: workspace.root.clone(),
        }
    }

    /// A project outside any workspace: a graph of one, with the same fingerprints.
    pub fn project(project: Project) -> Self {
        let shared_wit = (!project.wit.starts_with(&project.dir)).then(|| project.wit.clone());
        let state_dir = project.output_dir();
        let root = project.dir.clone();
        let entry_text =
            fs_err::read_to_string(project.dir.join(crate::manifest::MANIFEST)).unwrap_or_default();
        Self {
            members: vec![Member {
                name: project.name.clone(),
                project,
                entry_text,
            }],
            shared_wit,
            state_dir,
            root,
        }
    }

    /// The members `-p` selects, or all of them.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Member>, WorkspaceError> {
        if self.members.is_empty() {
            return Err(WorkspaceError::Empty);
        }
        if names.is_empty() {
            return Ok(self.members.iter().collect());
        }
        names
            .iter()
            .map(|name| super::find_member(&self.members, name))
            .collect()
    }

    /// Where a member's build record lives.
    pub fn record_path(&self, name: &str) -> PathBuf {
        record_path(&self.state_dir, name)
    }

    /// Hash of everything a member's output depends on.
    pub fn inputs_hash(
        &self,
        member: &Member,
        toolchain_fingerprint: &str,
    ) -> anyhow::Result<String> {
        let mut hasher = Sha256::new();
        hasher.update(concat!("wcomp ", env!("CARGO_PKG_VERSION"), "\0"));
        hasher.update(toolchain_fingerprint.as_bytes());
        hasher.update([0]);
        hasher.update(member.entry_text.as_bytes());
        hasher.update([0]);
        let exclude: Vec<&Path> = self.shared_wit.iter().map(PathBuf::as_path).collect();
        fingerprint::hash_tree(&mut hasher, &member.project.dir, &exclude)?;
        if let Some(wit) = &self.shared_wit {
            hasher.update(b"\0wit\0");
            fingerprint::hash_tree(&mut hasher, wit, &[])?;
        }
        Ok(crate::digest::hex(&hasher.finalize()))
    }

    /// Hash of a member's own sources and WIT, without the files its toolchain writes beside
    /// them (lock files): what only a person editing can change while a build runs.
    fn sources_hash(&self, member: &Member) -> anyhow::Result<String> {
        let mut hasher = Sha256::new();
        let written: Vec<PathBuf> = fingerprint::TOOL_WRITTEN
            .iter()
            .map(|name| member.project.dir.join(name))
            .collect();
        let exclude: Vec<&Path> = self
            .shared_wit
            .iter()
            .chain(&written)
            .map(PathBuf::as_path)
            .collect();
        fingerprint::hash_tree(&mut hasher, &member.project.dir, &exclude)?;
        if let Some(wit) = &self.shared_wit {
            fingerprint::hash_tree(&mut hasher, wit, &[])?;
        }
        Ok(crate::digest::hex(&hasher.finalize()))
    }
}

/// Where the build record of member `name` lives under `state_dir`.
pub fn record_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("fingerprints").join(format!("{name}.json"))
}

/// The builds when every one succeeded; otherwise an error holding each failure (the
/// toolchain's output first), which the error renderer shows in full before the summary.
pub fn check_builds(builds: Vec<MemberBuild>) -> anyhow::Result<Vec<MemberBuild>> {
    let total = builds.len();
    let (failed, built): (Vec<MemberBuild>, Vec<MemberBuild>) = builds
        .into_iter()
        .partition(|b| matches!(b.outcome, Outcome::Failed(_)));
    if failed.is_empty() {
        return Ok(built);
    }
    // One component alone (a project outside a workspace, or `-p`): its error is the error.
    if total == 1 {
        return Err(match failed.into_iter().next().map(|b| b.outcome) {
            Some(Outcome::Failed(err)) => err,
            _ => InternalError::error("a failed build without its error"),
        });
    }
    let count = failed.len();
    let names = failed
        .iter()
        .map(|b| format!("`{}`", b.name))
        .collect::<Vec<_>>()
        .join(", ");
    let failures = failed
        .into_iter()
        .filter_map(|b| match b.outcome {
            Outcome::Failed(err) => Some((format!("{} ({})", b.name, b.language), err)),
            _ => None,
        })
        .collect();
    Err(anyhow::Error::new(Several {
        message: format!("{count} of {total} components failed to build: {names}"),
        failures,
    }))
}

/// Builds the selected members; never fails as a whole because one member failed.
pub fn build(
    graph: &BuildGraph,
    options: &BuildOptions,
    ctx: &Context,
) -> anyhow::Result<Vec<MemberBuild>> {
    let selected = graph.select(&options.packages).report_err()?;
    fetch_wit_packages(graph, &selected, ctx)?;
    let mut fingerprints = BTreeMap::new();
    for member in &selected {
        let language = member.project.language;
        fingerprints
            .entry(language)
            .or_insert_with(|| lang::for_language(language).fingerprint(ctx));
    }
    let progress = Progress::new(ctx, &selected);
    let queue = Mutex::new(selected.iter().copied().collect::<VecDeque<&Member>>());
    let results = Mutex::new(Vec::new());
    let jobs = options.jobs.max(1).min(selected.len());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let Some(member) = queue.lock().expect("queue lock").pop_front() else {
                        break;
                    };
                    let fingerprint = &fingerprints[&member.project.language];
                    let result =
                        build_member(graph, member, fingerprint, options.force, ctx, &progress);
                    results.lock().expect("results lock").push(result);
                }
            });
        }
    });
    progress.finish();
    let mut results = results.into_inner().expect("results lock");
    results.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(results)
}

/// WIT packages from registries that the members' WIT is missing, fetched into its `deps/`
/// first (for projects with a `[registry]` table or a `wkg.lock`; none are contacted when
/// `deps/` has everything).
fn fetch_wit_packages(
    graph: &BuildGraph,
    selected: &[&Member],
    ctx: &Context,
) -> anyhow::Result<()> {
    if !crate::registry::wit::uses_registries(&graph.root) {
        return Ok(());
    }
    let wit_dirs: std::collections::BTreeSet<&PathBuf> =
        selected.iter().map(|m| &m.project.wit).collect();
    for wit_dir in wit_dirs {
        let report = crate::registry::wit::fetch(&crate::registry::wit::FetchOptions {
            wit_dir: wit_dir.clone(),
            root: graph.root.clone(),
            cache_dir: ctx.cache_dir.clone(),
            offline: ctx.offline,
            update: false,
        })?;
        for fetched in &report.fetched {
            ctx.printer.status(
                "Fetched",
                format_args!("`{}` from `{}`", fetched.package, fetched.registry),
            );
        }
    }
    Ok(())
}

fn build_member(
    graph: &BuildGraph,
    member: &Member,
    toolchain_fingerprint: &str,
    force: bool,
    ctx: &Context,
    progress: &Progress,
) -> MemberBuild {
    let language = member.project.language;
    let done = |output: Option<PathBuf>, inputs, outcome| MemberBuild {
        name: member.name.clone(),
        language,
        size: output
            .as_deref()
            .and_then(|path| std::fs::metadata(path).ok())
            .map(|meta| meta.len()),
        output,
        inputs,
        outcome,
    };
    let record_file = graph.record_path(&member.name);
    let inputs = match graph.inputs_hash(member, toolchain_fingerprint) {
        Ok(inputs) => inputs,
        Err(err) => return done(None, None, Outcome::Failed(err)),
    };
    if !force
        && let Some(record) = Record::read(&record_file)
        && record.is_fresh(&inputs)
    {
        progress.fresh(&member.name);
        return done(Some(record.output), Some(inputs), Outcome::Fresh);
    }

    progress.building(&member.name, language);
    let started = Instant::now();
    let sources_before = graph.sources_hash(member).ok();
    let toolchain = lang::for_language(language);
    let built = match toolchain.build(&member.project, ctx) {
        Ok(built) => built,
        Err(err) => {
            progress.failed(&member.name);
            return done(None, None, Outcome::Failed(err));
        }
    };
    // Hash again after the build, with the toolchain as it is now: a first build may install
    // the toolchain (componentize-py), and toolchains may (re)generate binding files inside
    // the project; neither may make the next build look stale. A source saved while the
    // toolchain ran is the exception: the build may have read the old text, so the inputs
    // from before are recorded and the next build (the next cycle of `--watch`) redoes it.
    let edited_meanwhile =
        sources_before.is_none() || graph.sources_hash(member).ok() != sources_before;
    let recorded = if edited_meanwhile {
        Ok(inputs.clone())
    } else {
        graph.inputs_hash(member, &toolchain.fingerprint(ctx))
    };
    let recorded = recorded.and_then(|inputs| {
        let output_stamp = fingerprint::stamp(&built.path).unwrap_or_default();
        Record {
            inputs: inputs.clone(),
            output: built.path.clone(),
            output_stamp,
        }
        .write(&record_file)?;
        Ok(inputs)
    });
    let inputs = match recorded {
        Ok(inputs) => inputs,
        Err(err) => {
            progress.failed(&member.name);
            return done(None, None, Outcome::Failed(err));
        }
    };
    let elapsed = started.elapsed();
    progress.built(&member.name, elapsed);
    done(Some(built.path), Some(inputs), Outcome::Built { elapsed })
}

/// Where a member's build is: on its spinner when there is one, else a status line; a JSON
/// object under `--format json`.
struct MemberProgress<'a> {
    progress: &'a Progress<'a>,
    name: &'a str,
    state: MemberState,
}

enum MemberState {
    Fresh,
    Building(Language),
}

impl Message for MemberProgress<'_> {
    fn to_json(&self) -> serde_json::Value {
        match self.state {
            MemberState::Fresh => json!({"reason": "component-fresh", "name": self.name}),
            MemberState::Building(language) => {
                json!({"reason": "component-building", "name": self.name, "language": language})
            }
        }
    }

    fn show(&self, printer: &Printer) {
        let name = self.name;
        match self.state {
            MemberState::Fresh => {
                if !self.progress.set(name, "fresh".into(), true) {
                    printer.status("Fresh", name);
                }
            }
            MemberState::Building(language) => {
                if !self
                    .progress
                    .set(name, format!("building ({language})"), false)
                {
                    printer.status("Building", format_args!("{name} ({language})"));
                }
            }
        }
    }
}

/// Per-component spinners on a terminal; status lines (or JSON) otherwise.
struct Progress<'a> {
    ctx: &'a Context,
    spinners: BTreeMap<String, Spinner>,
}

impl<'a> Progress<'a> {
    fn new(ctx: &'a Context, members: &[&Member]) -> Self {
        let spinners = if ctx.printer.shows_progress() {
            members
                .iter()
                .map(|member| {
                    (
                        member.name.clone(),
                        ctx.printer.spinner(&member.name, "waiting"),
                    )
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        Self { ctx, spinners }
    }

    /// Updates the member's spinner; false when there are no spinners.
    fn set(&self, name: &str, message: String, finished: bool) -> bool {
        let Some(spinner) = self.spinners.get(name) else {
            return false;
        };
        if finished {
            spinner.finish_with(message);
        } else {
            spinner.message(message);
        }
        true
    }

    fn fresh(&self, name: &str) {
        self.ctx.printer.emit(&MemberProgress {
            progress: self,
            name,
            state: MemberState::Fresh,
        });
    }

    fn building(&self, name: &str, language: Language) {
        self.ctx.printer.emit(&MemberProgress {
            progress: self,
            name,
            state: MemberState::Building(language),
        });
    }

    /// Said to people only: in JSON, the build's `component-built` summary says it.
    fn built(&self, name: &str, elapsed: Duration) {
        if self.ctx.printer.is_json() {
            return;
        }
        let seconds = elapsed.as_secs_f64();
        if !self.set(name, format!("built in {seconds:.1}s"), true) {
            self.ctx
                .printer
                .status("Built", format_args!("{name} in {seconds:.1}s"));
        }
    }

    fn failed(&self, name: &str) {
        self.set(name, "failed".into(), true);
    }

    fn finish(&self) {
        for spinner in self.spinners.values() {
            spinner.clear();
        }
    }
}
