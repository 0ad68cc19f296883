//! Watching a project's sources for `--watch`: file events through `notify` and
//! `notify-debouncer-full`, settled briefly so an editor's save (write a temporary file,
//! rename it over the original) is one change.
//!
//! Only the directories that can hold a component's inputs are watched, found the way build
//! fingerprints find inputs: `.gitignore` rules apply, and outputs (`target/`, `.git/`,
//! `node_modules/`, `__pycache__/`, virtual environments) are never entered. Events for ignored
//! paths and editors' scratch files are dropped as well, so a build writing its outputs never
//! starts another build. Whether a change matters to a component is then decided by its
//! fingerprint, not here.
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

use crate::printer::{Message, Printer};
use crate::workspace::Workspace;
use crate::workspace::fingerprint::TOOL_WRITTEN;
use crate::{Context, ExitStatus};

/// How long events settle before they count as one change.
pub const SETTLE: Duration = Duration::from_millis(40);

/// Directory names that only ever hold outputs or tools' state.
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

/// File events under some roots, filtered to what can be a source.
pub struct Watcher {
    debouncer: Debouncer<RecommendedWatcher, NoCache>,
    events: Receiver<DebounceEventResult>,
    roots: Vec<PathBuf>,
    ignores: Vec<Gitignore>,
    watched: BTreeSet<PathBuf>,
}

impl Watcher {
    /// Watches every source directory under `roots`.
    pub fn new(roots: &[PathBuf]) -> anyhow::Result<Self> {
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
        let mut watcher = Self {
            debouncer,
            events,
            roots: roots.to_vec(),
            ignores: Vec::new(),
            watched: BTreeSet::new(),
        };
        for root in roots {
            watcher.add_tree(root)?;
        }
        Ok(watcher)
    }

    /// How many directories are watched.
    pub fn directories(&self) -> usize {
        self.watched.len()
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
                !entry.file_type().is_some_and(|t| t.is_dir())
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

    /// Whether a change to `path` can matter to a build.
    fn counts(&self, path: &Path) -> bool {
        if !self.roots.iter().any(|root| path.starts_with(root)) {
            return false;
        }
        if path
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

    /// Takes the events that arrived so far (waiting up to `wait` for the first), keeping the
    /// paths that count; new directories start being watched.
    fn take(&mut self, wait: Duration) -> anyhow::Result<Option<BTreeSet<PathBuf>>> {
        let first = match self.events.recv_timeout(wait) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Err(RecvTimeoutError::Disconnected) => anyhow::bail!("the file watcher stopped"),
        };
        let mut changed = BTreeSet::new();
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
                for path in &event.paths {
                    if self.counts(path) {
                        changed.insert(path.clone());
                    }
                }
            }
        }
        let new_dirs: Vec<PathBuf> = changed
            .iter()
            .filter(|p| p.is_dir() && !self.watched.contains(*p))
            .cloned()
            .collect();
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
        let roots = roots(dir);
        let watcher = Watcher::new(&roots)?;
        // Each cycle compiles a component that differs from the last one by an edit.
        crate::runtime::engine::keep_compiled_functions();
        ctx.printer.verbose(format_args!(
            "watching {} directories under {}",
            watcher.directories(),
            roots
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

/// The directories holding the inputs of the workspace or project at `dir`: the workspace
/// root and any member or WIT directory outside it, or the project itself.
fn roots(dir: &Path) -> Vec<PathBuf> {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
    let Some(root) = Workspace::find(dir) else {
        return vec![canonical(dir)];
    };
    let root = canonical(&root);
    let mut roots = vec![root.clone()];
    if let Ok(workspace) = Workspace::load(&root) {
        let mut extra: Vec<PathBuf> = workspace
            .members
            .iter()
            .flat_map(|m| [canonical(&m.project.dir), canonical(&m.project.wit)])
            .chain([canonical(&workspace.wit_dir)])
            .filter(|p| p.is_dir() && !p.starts_with(&root))
            .collect();
        extra.sort();
        extra.dedup();
        roots.extend(extra);
    }
    roots
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
        let watcher = Watcher::new(std::slice::from_ref(&root)).unwrap();
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
        let mut watcher = Watcher::new(std::slice::from_ref(&root)).unwrap();
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
}
