//! The `--watch` loop shared by `build`, `test`, `run` and `serve`: run a cycle, wait for a
//! saved source, say what changed, run the cycle again.
//!
//! Cycles never overlap: a change saved while one runs is queued, and the next cycle starts
//! as soon as the running one ends (the output says so). A failed cycle is reported like a
//! failed command and the loop goes on, so the next good save recovers.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde_json::json;

use crate::watch::Watcher;
use crate::workspace::Workspace;
use crate::{Context, ExitStatus};

/// What a watch loop watches, and how it reports.
pub struct WatchLoop {
    watcher: Watcher,
}

impl WatchLoop {
    /// Starts watching the sources of the workspace or project at `dir`; changes saved from
    /// now on count, including during the first cycle.
    pub fn new(dir: &Path, ctx: &Context) -> anyhow::Result<Self> {
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
        Ok(Self { watcher })
    }

    /// Runs `cycle` now and after every change until `stop` is set (never, for commands
    /// that end with Ctrl-C). An error of a cycle is printed and the loop goes on.
    pub fn run(
        &mut self,
        ctx: &Context,
        stop: &AtomicBool,
        mut cycle: impl FnMut(&Context) -> anyhow::Result<ExitStatus>,
    ) -> anyhow::Result<ExitStatus> {
        run_cycle(ctx, &mut cycle);
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
            run_cycle(ctx, &mut cycle);
        }
        Ok(ExitStatus::Success)
    }

    /// Waits for the next change (or takes the ones queued during the last cycle) and says
    /// what changed; `false` once `stop` is set.
    pub fn wait(&mut self, ctx: &Context, stop: &AtomicBool) -> anyhow::Result<bool> {
        let queued = self.watcher.pending()?;
        let (changed, during_cycle) = if queued.is_empty() {
            if ctx.printer.is_json() {
                ctx.printer
                    .json(json!({"reason": "watching", "directories": self.watcher.directories()}));
            } else {
                ctx.printer
                    .status("Watching", format_args!("for changes (Ctrl-C stops)"));
            }
            match self.watcher.next_change(stop)? {
                Some(changed) => (changed, false),
                None => return Ok(false),
            }
        } else {
            (queued, true)
        };
        let shown = describe(&changed, &ctx.cwd);
        if ctx.printer.is_json() {
            ctx.printer.json(json!({
                "reason": "changed",
                "paths": changed,
                "queued": during_cycle,
            }));
        } else if during_cycle {
            ctx.printer.status(
                "Queued",
                format_args!("{shown} changed during the last cycle; running again"),
            );
        } else {
            ctx.printer.status("Changed", shown);
        }
        Ok(true)
    }
}

/// One cycle; its error is reported like a command's, and the loop goes on.
fn run_cycle(ctx: &Context, cycle: &mut impl FnMut(&Context) -> anyhow::Result<ExitStatus>) {
    let started = Instant::now();
    let ok = match cycle(ctx) {
        Ok(status) => status == ExitStatus::Success,
        Err(err) => {
            crate::error::report(&ctx.printer, &err);
            false
        }
    };
    if ctx.printer.is_json() {
        ctx.printer.json(json!({
            "reason": "cycle-finished",
            "ok": ok,
            "seconds": started.elapsed().as_secs_f64(),
        }));
    }
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
