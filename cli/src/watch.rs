//! Watching a project's sources for `--watch`: file events through `notify` and
//! `notify-debouncer-full`, settled briefly so an editor's save (write a temporary file,
//! rename it over the original) is one change.
//!
//! Only the directories that can hold a component's inputs are watched, found the way build
//! fingerprints find inputs: `.gitignore` rules apply, and outputs (`target/`, `.git/`,
//! `node_modules/`, `__pycache__/`, virtual environments) below the watched directories are
//! never entered; where the project itself lives does not matter (`~/target/app` is watched).
//!
//! A change counts only when it is one a cycle reads: a file the fingerprint of some component
//! hashes (or a directory holding one, or one that was deleted), the manifest, or a test's
//! request body. So a build writing its outputs, a log, or a file nothing reads never starts
//! another cycle. wcomp's own stdout and stderr never count either, even when they are
//! redirected to a file that is an input: every cycle writes them. Whether a change that
//! counts matters to a component is then decided by its fingerprint, not here.
//!
//! [`WatchLoop`] runs a command's cycle on every change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, NoCache, new_debouncer_opt};
use serde_json::{Value, json};

use crate::lang::Project;
use crate::printer::{Message, Printer};
use crate::workspace::build::BuildGraph;
use crate::workspace::fingerprint::{self, TOOL_WRITTEN};
use crate::workspace::{MANIFEST, Workspace};
use crate::{Context, ExitStatus};

/// How long events settle before they count as one change.
pub const SETTLE: Duration = Duration::from_millis(40);

/// Names of directories that only ever hold outputs or tools' state, below a watched root.
const NEVER_WATCHED: &[&str] = &[
    "target",
    ".git",
    // wcomp's own state (the embedded keyvalue store), written by every request that uses it.
    ".wcomp",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
];

/// File events under the directories of a workspace or project, filtered to what a cycle
/// reads.
pub struct Watcher {
    debouncer: Debouncer<RecommendedWatcher, NoCache>,
    events: Receiver<DebounceEventResult>,
    /// The workspace or project, to find its inputs again after each cycle.
    dir: PathBuf,
    roots: Vec<PathBuf>,
    ignores: Vec<Gitignore>,
    watched: BTreeSet<PathBuf>,
    /// What a cycle reads; `None` while nothing at `dir` loads (every source counts then).
    inputs: Option<Inputs>,
    /// wcomp's own stdout and stderr, when they are files.
    own_output: Vec<FileId>,
}

impl Watcher {
    /// Watches every source directory of the workspace or project at `dir`.
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        let (sender, events) = channel();
        let debouncer = new_debouncer_opt::<_, RecommendedWatcher, NoCache>(
            SETTLE,
            None,
            move |result: DebounceEventResult| {
                let _ = sender.send(result);
            },
            NoCache,
            notify::Config::default(),
        )
        .context("cannot watch files")?;
        let inputs = Inputs::load(dir);
        let roots = roots(dir, inputs.as_ref());
        let mut watcher = Self {
            debouncer,
            events,
            dir: dir.to_owned(),
            roots: roots.clone(),
            ignores: Vec::new(),
            watched: BTreeSet::new(),
            inputs,
            own_output: own_output(),
        };
        for root in &roots {
            watcher.add_tree(root)?;
        }
        Ok(watcher)
    }

    /// How many directories are watched.
    pub fn directories(&self) -> usize {
        self.watched.len()
    }

    /// The directories watched with everything below them.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Finds the inputs again (a cycle may have added a source, or the manifest a component);
    /// the last ones stay while the manifest does not load, so the save that fixes it counts.
    pub fn refresh_inputs(&mut self) {
        if let Some(inputs) = Inputs::load(&self.dir) {
            self.inputs = Some(inputs);
        }
    }

    /// Watches `dir` and the source directories below it; reads their `.gitignore` files.
    fn add_tree(&mut self, dir: &Path) -> anyhow::Result<()> {
        let walk = ignore::WalkBuilder::new(dir)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(false)
            .git_global(false)
            .require_git(false)
            .filter_entry(|entry| {
                entry.depth() == 0
                    || !entry.file_type().is_some_and(|t| t.is_dir())
                    || !NEVER_WATCHED.contains(&entry.file_name().to_string_lossy().as_ref())
            })
            .build();
        for entry in walk.flatten() {
            let path = entry.path();
            if entry.file_type().is_some_and(|t| t.is_dir()) {
                if self.watched.insert(path.to_owned()) {
                    self.debouncer
                        .watch(path, RecursiveMode::NonRecursive)
                        .with_context(|| format!("cannot watch `{}`", path.display()))?;
                }
            } else if entry.file_name() == ".gitignore" {
                let mut builder = GitignoreBuilder::new(path.parent().unwrap_or(dir));
                if builder.add(path).is_none()
                    && let Ok(ignore) = builder.build()
                {
                    self.ignores.push(ignore);
                }
            }
        }
        Ok(())
    }

    /// Whether `path` is below a root, outside its output directories, not ignored and not
    /// an editor's scratch file: what may be a source, and what a new directory must be to be
    /// watched.
    fn may_be_source(&self, path: &Path) -> bool {
        // Names are matched below the root only: the directories above it are the user's.
        let Some(relative) = self
            .roots
            .iter()
            .find_map(|root| path.strip_prefix(root).ok())
        else {
            return false;
        };
        if relative
            .components()
            .any(|c| NEVER_WATCHED.contains(&c.as_os_str().to_string_lossy().as_ref()))
        {
            return false;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Editors' scratch files: vim's swap files and `4913` probe, emacs locks, backups.
        if name.ends_with('~')
            || name.starts_with(".#")
            || name.ends_with(".swp")
            || name.ends_with(".swx")
            || name == "4913"
        {
            return false;
        }
        let is_dir = path.is_dir();
        !self.ignores.iter().any(|ignore| {
            path.starts_with(ignore.path())
                && ignore.matched_path_or_any_parents(path, is_dir).is_ignore()
        })
    }

    /// Whether a change to `path` can matter to a cycle.
    fn counts(&self, path: &Path) -> bool {
        self.may_be_source(path)
            && !self.is_own_output(path)
            && self.inputs.as_ref().is_none_or(|inputs| inputs.hold(path))
    }

    /// Whether `path` is the file wcomp's stdout or stderr goes to, by whatever name.
    fn is_own_output(&self, path: &Path) -> bool {
        !self.own_output.is_empty()
            && std::fs::metadata(path)
                .ok()
                .and_then(|meta| FileId::of(&meta))
                .is_some_and(|id| self.own_output.contains(&id))
    }

    /// Takes the events that arrived so far (waiting up to `wait` for the first), keeping the
    /// paths that count; new directories start being watched.
    fn take(&mut self, wait: Duration) -> anyhow::Result<Option<BTreeSet<PathBuf>>> {
        let first = match self.events.recv_timeout(wait) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Err(RecvTimeoutError::Disconnected) => anyhow::bail!("the file watcher stopped"),
        };
        let mut changed = BTreeSet::new();
        let mut new_dirs = BTreeSet::new();
        let mut results = vec![first];
        results.extend(self.events.try_iter());
        for result in results {
            let Ok(events) = result else {
                // Errors of the OS watcher (a removed directory): the paths still count.
                continue;
            };
            for event in events {
                if event.kind.is_access() {
                    continue;
                }
                for path in event.paths.iter().filter(|p| self.may_be_source(p)) {
                    // Watched even while it holds no input: one may be saved into it.
                    if path.is_dir() && !self.watched.contains(path) {
                        new_dirs.insert(path.clone());
                    }
                    if self.counts(path) {
                        changed.insert(path.clone());
                    }
                }
            }
        }
        for dir in new_dirs {
            self.add_tree(&dir)?;
        }
        Ok(Some(changed))
    }

    /// Waits until a change that counts arrives (its paths), or `stop` is set (`None`).
    pub fn next_change(&mut self, stop: &AtomicBool) -> anyhow::Result<Option<Vec<PathBuf>>> {
        while !stop.load(Ordering::Relaxed) {
            if let Some(changed) = self.take(Duration::from_millis(100))?
                && !changed.is_empty()
            {
                return Ok(Some(changed.into_iter().collect()));
            }
        }
        Ok(None)
    }

    /// Changes that arrived while a cycle ran (without waiting), if any count. The lock
    /// files toolchains write as they build do not: the build that wrote them has already
    /// accounted for them.
    pub fn pending(&mut self) -> anyhow::Result<Vec<PathBuf>> {
        // The last save may still be settling.
        std::thread::sleep(SETTLE + SETTLE / 2);
        let mut all = BTreeSet::new();
        while let Some(changed) = self.take(Duration::ZERO)? {
            all.extend(changed.into_iter().filter(|path| {
                !path
                    .file_name()
                    .is_some_and(|name| TOOL_WRITTEN.iter().any(|w| name == *w))
            }));
        }
        Ok(all.into_iter().collect())
    }
}

/// What the cycles of a workspace or project read, found as the build's fingerprints find it.
#[derive(Debug)]
struct Inputs {
    /// The directory of the manifest: the workspace's root, or the project's own.
    root: PathBuf,
    /// Files read whole: the manifest, tests' request bodies.
    files: BTreeSet<PathBuf>,
    /// Directories whose input files each component's fingerprint hashes (members' and the
    /// shared WIT), each with the subtrees its walk leaves out.
    trees: Vec<(PathBuf, Vec<PathBuf>)>,
    /// The input files as they were last found: deleting one counts.
    known: BTreeSet<PathBuf>,
}

impl Inputs {
    /// The inputs of the workspace or project at `dir`; `None` when it does not load.
    fn load(dir: &Path) -> Option<Self> {
        let (graph, bodies) = match Workspace::find(dir) {
            Some(root) => {
                let workspace = Workspace::load(&root).ok()?;
                let bodies: Vec<PathBuf> = workspace
                    .manifest
                    .tests
                    .iter()
                    .filter_map(|test| test.get_ref().body_file.as_ref())
                    .map(|file| root.join(file.get_ref()))
                    .collect();
                (BuildGraph::workspace(&workspace), bodies)
            }
            None => (BuildGraph::project(Project::detect(dir).ok()?), Vec::new()),
        };
        // As `BuildGraph::inputs_hash` hashes them: each member without the shared WIT, which
        // is hashed on its own.
        let shared_wit = graph.shared_wit.as_deref().map(canonical);
        let mut trees: Vec<(PathBuf, Vec<PathBuf>)> = graph
            .members
            .iter()
            .map(|member| {
                let dir = canonical(&member.project.dir);
                (dir, shared_wit.iter().cloned().collect())
            })
            .chain(shared_wit.clone().map(|wit| (wit, Vec::new())))
            .collect();
        trees.sort();
        trees.dedup();
        let files: BTreeSet<PathBuf> = std::iter::once(graph.root.join(MANIFEST))
            .chain(bodies)
            .map(|path| canonical(&path))
            .collect();
        let mut known = BTreeSet::new();
        for (dir, exclude) in &trees {
            let exclude: Vec<&Path> = exclude.iter().map(PathBuf::as_path).collect();
            known.extend(fingerprint::input_files(dir, &exclude).unwrap_or_default());
        }
        Some(Self {
            root: canonical(&graph.root),
            files,
            trees,
            known,
        })
    }

    /// Whether a cycle reads `path`: one of the files, an input (or a directory holding one)
    /// by the fingerprint's rules, or a deleted input.
    fn hold(&self, path: &Path) -> bool {
        if self.files.contains(path) || self.known.contains(path) {
            return true;
        }
        if !path.exists() {
            // A deleted directory that held inputs; they sort right after it.
            return self
                .known
                .range(path.to_owned()..)
                .next()
                .is_some_and(|known| known.starts_with(path));
        }
        self.trees.iter().any(|(dir, exclude)| {
            let exclude: Vec<&Path> = exclude.iter().map(PathBuf::as_path).collect();
            fingerprint::holds_inputs(dir, &exclude, path)
        })
    }
}

/// A file's identity, whatever path names it: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    /// The identity of a regular file (devices, pipes and terminals have none that matters).
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        meta.is_file().then(|| Self {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    fn of(_: &std::fs::Metadata) -> Option<Self> {
        None
    }
}

/// The files wcomp's stdout and stderr are redirected to (`wcomp build --watch > build.log`):
/// every cycle writes them, so they never count, wherever they are.
#[cfg(unix)]
fn own_output() -> Vec<FileId> {
    use std::os::fd::AsFd as _;
    // `fstat` of the descriptors themselves, through a duplicate closed right away.
    [std::io::stdout().as_fd(), std::io::stderr().as_fd()]
        .into_iter()
        .filter_map(|fd| fd.try_clone_to_owned().ok())
        .filter_map(|fd| std::fs::File::from(fd).metadata().ok())
        .filter_map(|meta| FileId::of(&meta))
        .collect()
}

#[cfg(not(unix))]
fn own_output() -> Vec<FileId> {
    Vec::new()
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// Renders the error of a failed cycle, as the command line renders a failed command's.
pub type Reporter = fn(&Printer, &anyhow::Error) -> ExitStatus;

/// The `--watch` loop shared by `build`, `test`, `run` and `serve`: run a cycle, wait for a
/// saved source, say what changed, run the cycle again.
///
/// Cycles never overlap: a change saved while one runs is queued, and the next cycle starts
/// as soon as the running one ends (the output says so). A failed cycle is reported like a
/// failed command and the loop goes on, so the next good save recovers.
pub struct WatchLoop {
    watcher: Watcher,
    report: Reporter,
}

impl WatchLoop {
    /// Starts watching the sources of the workspace or project at `dir`; changes saved from
    /// now on count, including during the first cycle. `report` renders a failed cycle's error.
    pub fn new(dir: &Path, ctx: &Context, report: Reporter) -> anyhow::Result<Self> {
        let watcher = Watcher::new(dir)?;
        // Each cycle compiles a component that differs from the last one by an edit.
        crate::runtime::engine::keep_compiled_functions();
        ctx.printer.verbose(format_args!(
            "watching {} directories under {}",
            watcher.directories(),
            watcher
                .roots()
                .iter()
                .map(|r| format!("`{}`", r.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(Self { watcher, report })
    }

    /// Runs `cycle` now and after every change until `stop` is set (never, for commands
    /// that end with Ctrl-C). An error of a cycle is printed and the loop goes on.
    pub fn run(
        &mut self,
        ctx: &Context,
        stop: &AtomicBool,
        mut cycle: impl FnMut(&Context) -> anyhow::Result<ExitStatus>,
    ) -> anyhow::Result<ExitStatus> {
        run_cycle(ctx, self.report, &mut cycle);
        self.run_on_changes(ctx, stop, cycle)
    }

    /// Like [`WatchLoop::run`], but waits for the first change before the first cycle.
    pub fn run_on_changes(
        &mut self,
        ctx: &Context,
        stop: &AtomicBool,
        mut cycle: impl FnMut(&Context) -> anyhow::Result<ExitStatus>,
    ) -> anyhow::Result<ExitStatus> {
        while self.wait(ctx, stop)? {
            run_cycle(ctx, self.report, &mut cycle);
        }
        Ok(ExitStatus::Success)
    }

    /// Waits for the next change (or takes the ones queued during the last cycle) and says
    /// what changed; `false` once `stop` is set.
    pub fn wait(&mut self, ctx: &Context, stop: &AtomicBool) -> anyhow::Result<bool> {
        let queued = self.watcher.pending()?;
        // What the next cycle reads, as the last one left it.
        self.watcher.refresh_inputs();
        let (changed, during_cycle) = if queued.is_empty() {
            ctx.printer.emit(&Watching {
                directories: self.watcher.directories(),
            });
            match self.watcher.next_change(stop)? {
                Some(changed) => (changed, false),
                None => return Ok(false),
            }
        } else {
            (queued, true)
        };
        ctx.printer.emit(&Changed {
            paths: &changed,
            queued: during_cycle,
            cwd: &ctx.cwd,
        });
        Ok(true)
    }
}

/// One cycle; its error is reported like a command's, and the loop goes on.
fn run_cycle(
    ctx: &Context,
    report: Reporter,
    cycle: &mut impl FnMut(&Context) -> anyhow::Result<ExitStatus>,
) {
    let started = Instant::now();
    let ok = match cycle(ctx) {
        Ok(status) => status == ExitStatus::Success,
        Err(err) => {
            report(&ctx.printer, &err);
            false
        }
    };
    ctx.printer.emit(&CycleFinished {
        ok,
        seconds: started.elapsed().as_secs_f64(),
    });
}

/// Waiting for the next change.
struct Watching {
    directories: usize,
}

impl Message for Watching {
    fn to_json(&self) -> Value {
        json!({"reason": "watching", "directories": self.directories})
    }

    fn show(&self, printer: &Printer) {
        printer.status("Watching", format_args!("for changes (Ctrl-C stops)"));
    }
}

/// The files whose change starts a cycle; `queued` when they changed during the last one.
struct Changed<'a> {
    paths: &'a [PathBuf],
    queued: bool,
    cwd: &'a Path,
}

impl Message for Changed<'_> {
    fn to_json(&self) -> Value {
        json!({"reason": "changed", "paths": self.paths, "queued": self.queued})
    }

    fn show(&self, printer: &Printer) {
        let shown = describe(self.paths, self.cwd);
        if self.queued {
            printer.status(
                "Queued",
                format_args!("{shown} changed during the last cycle; running again"),
            );
        } else {
            printer.status("Changed", shown);
        }
    }
}

/// A cycle ended (in JSON; people have read its own output).
struct CycleFinished {
    ok: bool,
    seconds: f64,
}

impl Message for CycleFinished {
    fn to_json(&self) -> Value {
        json!({"reason": "cycle-finished", "ok": self.ok, "seconds": self.seconds})
    }

    fn show(&self, _: &Printer) {}
}

/// `src/lib.rs`, or `src/lib.rs and 2 more`, relative to `cwd` where possible.
fn describe(changed: &[PathBuf], cwd: &Path) -> String {
    let show = |path: &PathBuf| {
        let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_owned());
        format!("`{}`", path.strip_prefix(&cwd).unwrap_or(path).display())
    };
    match changed {
        [] => "nothing".to_owned(),
        [one] => show(one),
        [first, rest @ ..] => format!("{} and {} more", show(first), rest.len()),
    }
}

/// The directories holding the inputs of the workspace or project at `dir`: its own
/// directory, and any member or WIT directory outside it.
fn roots(dir: &Path, inputs: Option<&Inputs>) -> Vec<PathBuf> {
    let root = match inputs {
        Some(inputs) => inputs.root.clone(),
        None => canonical(&Workspace::find(dir).unwrap_or_else(|| dir.to_owned())),
    };
    let mut extra: Vec<PathBuf> = inputs
        .iter()
        .flat_map(|inputs| &inputs.trees)
        .map(|(tree, _)| tree.clone())
        .filter(|tree| tree.is_dir() && !tree.starts_with(&root))
        .collect();
    extra.sort();
    extra.dedup();
    std::iter::once(root).chain(extra).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_ignored_files_and_scratch_files_do_not_count() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::create_dir_all(root.join("gen")).unwrap();
        std::fs::write(root.join(".gitignore"), "/gen/\n*.log\n").unwrap();
        let watcher = Watcher::new(&root).unwrap();
        assert!(watcher.counts(&root.join("src/lib.rs")));
        assert!(watcher.counts(&root.join("wit/world.wit")));
        assert!(!watcher.counts(&root.join("target/debug/x.wasm")));
        assert!(!watcher.counts(&root.join("gen/bindings.go")));
        assert!(!watcher.counts(&root.join("build.log")));
        assert!(!watcher.counts(&root.join("src/.lib.rs.swp")));
        assert!(!watcher.counts(&root.join("src/lib.rs~")));
        assert!(!watcher.counts(Path::new("/elsewhere/lib.rs")));
        // `target/` and `gen/` are not even watched.
        assert!(!watcher.watched.contains(&root.join("target")));
        assert!(!watcher.watched.contains(&root.join("gen")));
        assert!(watcher.watched.contains(&root.join("src")));
    }

    #[test]
    fn a_saved_file_is_one_change() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "old").unwrap();
        let mut watcher = Watcher::new(&root).unwrap();
        // Save as an editor does: a temporary file renamed over the original.
        std::fs::write(root.join("src/.lib.rs.tmp"), "new").unwrap();
        std::fs::rename(root.join("src/.lib.rs.tmp"), root.join("src/lib.rs")).unwrap();
        let stop = AtomicBool::new(false);
        let changed = watcher.next_change(&stop).unwrap().unwrap();
        assert!(changed.contains(&root.join("src/lib.rs")), "{changed:?}");
        std::fs::write(root.join("target-file"), "x").unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("target/out.wasm"), "x").unwrap();
        let pending = watcher.pending().unwrap();
        assert!(
            pending.iter().all(|p| !p.starts_with(root.join("target"))),
            "{pending:?}"
        );
    }

    /// A watched workspace (in a directory removed when the first is dropped) of one Rust
    /// component, `a`, with a test whose request body is a file.
    fn watched_workspace() -> (tempfile::TempDir, PathBuf, Watcher) {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().canonicalize().unwrap();
        workspace(&root);
        let watcher = Watcher::new(&root).unwrap();
        (temp, root, watcher)
    }

    /// Writes the workspace [`watched_workspace`] watches into `root`.
    fn workspace(root: &Path) {
        let manifest = "[workspace]\nname = \"ws\"\n\n[component.a]\nlang = \"rust\"\npath = \"a\"\n\n\
            [[test]]\nname = \"posts\"\nrequest = \"POST /\"\nbody-file = \"fixtures/body.json\"\n";
        std::fs::write(root.join(MANIFEST), manifest).unwrap();
        for dir in ["a/src", "a/gen", "wit", "docs", "fixtures"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("a/Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        std::fs::write(root.join("a/.gitignore"), "/gen/\n").unwrap();
        std::fs::write(root.join("a/gen/bindings.rs"), "").unwrap();
        std::fs::write(root.join("a/src/lib.rs"), "").unwrap();
        std::fs::write(root.join("a/src/old.rs"), "").unwrap();
        std::fs::write(root.join("wit/world.wit"), "package a:b;").unwrap();
        std::fs::write(root.join("docs/notes.md"), "").unwrap();
        std::fs::write(root.join("fixtures/body.json"), "{}").unwrap();
        std::fs::write(root.join("fixtures/other.json"), "{}").unwrap();
    }

    #[test]
    fn only_what_a_cycle_reads_counts() {
        let (_temp, root, mut watcher) = watched_workspace();
        for read in [
            "a/src/lib.rs",
            "a/Cargo.toml",
            "a/.gitignore",
            "a/src",
            "wit/world.wit",
            "wcomp.toml",
            "fixtures/body.json",
        ] {
            assert!(watcher.counts(&root.join(read)), "{read}");
        }
        for unread in [
            "docs/notes.md",
            "docs",
            "fixtures/other.json",
            "a/gen/bindings.rs",
            "a/target/wcomp/a.wasm",
        ] {
            assert!(!watcher.counts(&root.join(unread)), "{unread}");
        }
        // A log beside the manifest is read by nothing.
        std::fs::write(root.join("watch.log"), "{}\n").unwrap();
        assert!(!watcher.counts(&root.join("watch.log")));
        // A new source counts, and so does a deleted one and a new directory holding one.
        std::fs::write(root.join("a/src/new.rs"), "").unwrap();
        assert!(watcher.counts(&root.join("a/src/new.rs")));
        std::fs::remove_file(root.join("a/src/old.rs")).unwrap();
        assert!(watcher.counts(&root.join("a/src/old.rs")));
        assert!(!watcher.counts(&root.join("a/src/never-there.rs")));
        std::fs::create_dir_all(root.join("a/src/more")).unwrap();
        assert!(!watcher.counts(&root.join("a/src/more")));
        std::fs::write(root.join("a/src/more/mod.rs"), "").unwrap();
        assert!(watcher.counts(&root.join("a/src/more")));
        // A component added to the manifest counts once the inputs are found again.
        std::fs::create_dir_all(root.join("docs/src")).unwrap();
        std::fs::write(root.join("docs/Cargo.toml"), "").unwrap();
        let mut manifest = std::fs::read_to_string(root.join(MANIFEST)).unwrap();
        manifest.push_str("\n[component.docs]\nlang = \"rust\"\n");
        std::fs::write(root.join(MANIFEST), manifest).unwrap();
        assert!(!watcher.counts(&root.join("docs/notes.md")));
        watcher.refresh_inputs();
        assert!(watcher.counts(&root.join("docs/notes.md")));
        // A broken manifest keeps the inputs found last.
        std::fs::write(root.join(MANIFEST), "[workspace").unwrap();
        watcher.refresh_inputs();
        assert!(watcher.counts(&root.join("docs/notes.md")));
        assert!(watcher.counts(&root.join(MANIFEST)));
    }

    #[test]
    fn wcomps_own_output_never_counts() {
        let (_temp, root, mut watcher) = watched_workspace();
        // As if stdout went to a file that is a source: known by identity, under any name.
        let log = root.join("a/src/build.log");
        std::fs::write(&log, "").unwrap();
        assert!(watcher.counts(&log));
        let id = FileId::of(&std::fs::metadata(&log).unwrap()).unwrap();
        watcher.own_output.push(id);
        assert!(!watcher.counts(&log));
        assert!(watcher.is_own_output(&root.join("a/gen/../src/build.log")));
        assert!(watcher.counts(&root.join("a/src/lib.rs")));
    }

    #[test]
    fn output_directory_names_above_the_project_do_not_matter() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp
            .path()
            .canonicalize()
            .unwrap()
            .join("target/.venv/proj");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"proj\"\n").unwrap();
        std::fs::write(root.join("src/lib.rs"), "").unwrap();
        let watcher = Watcher::new(&root).unwrap();
        assert!(watcher.watched.contains(&root.join("src")));
        assert!(!watcher.watched.contains(&root.join("target")));
        assert!(watcher.counts(&root.join("src/lib.rs")));
        assert!(!watcher.counts(&root.join("target/debug/x.wasm")));
    }
}
