//! Building a workspace: every selected component in parallel, each skipped when the hash of
//! its inputs matches its last successful build. A failing component does not stop the others.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::fingerprint::{self, Record};
use super::{Member, Workspace};
use crate::Context;
use crate::toolchain::{self, Language};

/// What `wcomp build` in a workspace should do.
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
    pub outcome: Outcome,
}

/// Where a member's build record lives.
pub fn record_path(workspace: &Workspace, name: &str) -> PathBuf {
    workspace
        .target_dir()
        .join("fingerprints")
        .join(format!("{name}.json"))
}

/// Hash of everything a member's output depends on.
pub fn inputs_hash(
    workspace: &Workspace,
    member: &Member,
    toolchain_fingerprint: &str,
) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(concat!("wcomp ", env!("CARGO_PKG_VERSION"), "\0"));
    hasher.update(toolchain_fingerprint.as_bytes());
    hasher.update([0]);
    hasher.update(member.entry_text.as_bytes());
    hasher.update([0]);
    fingerprint::hash_tree(
        &mut hasher,
        &member.project.dir,
        &[workspace.wit_dir.as_path()],
    )?;
    hasher.update(b"\0wit\0");
    fingerprint::hash_tree(&mut hasher, &workspace.wit_dir, &[])?;
    Ok(fingerprint::hex(hasher))
}

/// Builds the selected members; never fails as a whole because one member failed.
pub fn build(
    workspace: &Workspace,
    options: &BuildOptions,
    ctx: &Context,
) -> anyhow::Result<Vec<MemberBuild>> {
    let selected = workspace.select(&options.packages)?;
    let mut fingerprints = BTreeMap::new();
    for member in &selected {
        let language = member.project.language;
        fingerprints
            .entry(language)
            .or_insert_with(|| toolchain::for_language(language).fingerprint());
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
                    let result = build_member(
                        workspace,
                        member,
                        &fingerprints[&member.project.language],
                        options.force,
                        ctx,
                        &progress,
                    );
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

fn build_member(
    workspace: &Workspace,
    member: &Member,
    toolchain_fingerprint: &str,
    force: bool,
    ctx: &Context,
    progress: &Progress,
) -> MemberBuild {
    let language = member.project.language;
    let done = |output, outcome| MemberBuild {
        name: member.name.clone(),
        language,
        output,
        outcome,
    };
    let record_file = record_path(workspace, &member.name);
    let inputs = match inputs_hash(workspace, member, toolchain_fingerprint) {
        Ok(inputs) => inputs,
        Err(err) => return done(None, Outcome::Failed(err)),
    };
    if !force
        && let Some(record) = Record::read(&record_file)
        && record.is_fresh(&inputs)
    {
        progress.fresh(&member.name);
        return done(Some(record.output), Outcome::Fresh);
    }

    progress.building(&member.name, language);
    let started = Instant::now();
    let built = toolchain::for_language(language).build(&member.project, ctx);
    let built = match built {
        Ok(built) => built,
        Err(err) => {
            progress.failed(&member.name);
            return done(None, Outcome::Failed(err));
        }
    };
    let Some(component) = built.into_iter().next() else {
        progress.failed(&member.name);
        return done(
            None,
            Outcome::Failed(anyhow::anyhow!(
                "the {language} toolchain produced no component for `{}`",
                member.name
            )),
        );
    };
    // Hash again after the build: toolchains may (re)generate binding files inside the
    // project, and those must not make the next build look stale.
    let recorded = inputs_hash(workspace, member, toolchain_fingerprint).and_then(|inputs| {
        let output_stamp = fingerprint::stamp(&component.path).unwrap_or_default();
        Record {
            inputs,
            output: component.path.clone(),
            output_stamp,
        }
        .write(&record_file)
    });
    if let Err(err) = recorded {
        progress.failed(&member.name);
        return done(None, Outcome::Failed(err));
    }
    let elapsed = started.elapsed();
    progress.built(&member.name, elapsed);
    done(Some(component.path), Outcome::Built { elapsed })
}

/// Per-component spinners on a terminal; status lines (or JSON) otherwise.
struct Progress<'a> {
    ctx: &'a Context,
    bars: Option<(MultiProgress, BTreeMap<String, ProgressBar>)>,
}

impl<'a> Progress<'a> {
    fn new(ctx: &'a Context, members: &[&Member]) -> Self {
        if !ctx.printer.shows_progress() {
            return Self { ctx, bars: None };
        }
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{spinner:.green} {prefix:>12.bold} {msg}")
            .expect("valid template");
        let bars = members
            .iter()
            .map(|member| {
                let bar = multi.add(ProgressBar::new_spinner().with_style(style.clone()));
                bar.set_prefix(member.name.clone());
                bar.set_message("waiting");
                bar.enable_steady_tick(Duration::from_millis(100));
                (member.name.clone(), bar)
            })
            .collect();
        Self {
            ctx,
            bars: Some((multi, bars)),
        }
    }

    fn set(&self, name: &str, message: String, finished: bool) -> bool {
        let Some((_, bars)) = &self.bars else {
            return false;
        };
        if let Some(bar) = bars.get(name) {
            if finished {
                bar.finish_with_message(message);
            } else {
                bar.set_message(message);
            }
        }
        true
    }

    fn fresh(&self, name: &str) {
        if self.ctx.printer.is_json() {
            self.ctx
                .printer
                .json(json!({"reason": "component-fresh", "name": name}));
        } else if !self.set(name, "fresh".into(), true) {
            self.ctx.printer.status("Fresh", name);
        }
    }

    fn building(&self, name: &str, language: Language) {
        if self.ctx.printer.is_json() {
            self.ctx
                .printer
                .json(json!({"reason": "component-building", "name": name, "language": language}));
        } else if !self.set(name, format!("building ({language})"), false) {
            self.ctx
                .printer
                .status("Building", format_args!("{name} ({language})"));
        }
    }

    fn built(&self, name: &str, elapsed: Duration) {
        if self.ctx.printer.is_json() {
            return;
        }
        if !self.set(
            name,
            format!("built in {:.1}s", elapsed.as_secs_f64()),
            true,
        ) {
            self.ctx.printer.status(
                "Built",
                format_args!("{name} in {:.1}s", elapsed.as_secs_f64()),
            );
        }
    }

    fn failed(&self, name: &str) {
        self.set(name, "failed".into(), true);
    }

    fn finish(&self) {
        if let Some((multi, _)) = &self.bars {
            let _ = multi.clear();
        }
    }
}
