//! `wcomp bench`: the numbers behind "microsecond cold starts and tens of thousands of
//! instances per server", measured on the real engine with the pooling allocator and
//! `InstancePre`: compile time (cold and from the cache), instantiation and call latency
//! percentiles, calls per second on every core, and how many instances can be held live at
//! once with the memory and kernel mappings each costs. When the machine, not wcomp, stops
//! the density run (Linux's `vm.max_map_count`, address space), the report says which limit
//! and what to raise. Knows nothing about the command line.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use wasmtime::component::{Component, Func, Val};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::cache::{self, CacheMode, CacheOutcome, Compiled};
use super::engine::{self, UnknownImports};
use super::guest::{check_component, compile_failure, guest_error, load};
use super::invoke::{Call, Target};
use super::limits::Limits;
use super::sandbox::GuestIo;
use super::session::{Guest, Session, SessionOptions};
use crate::diagnostic::ReportResult as _;

/// Errors specific to benchmarking.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BenchError {
    /// The pool for `--instances` cannot be reserved.
    #[error("cannot reserve memory for {instances} instances of {per_instance} each")]
    #[diagnostic(help(
        "lower `--instances` or `--max-memory` (each memory slot reserves that much address space), or raise `ulimit -v`"
    ))]
    Reserve {
        instances: u32,
        per_instance: String,
        #[source]
        source: anyhow::Error,
    },
    /// The component instantiates a module it imports, so its needs cannot be counted.
    #[error("cannot tell how many memories `{path}` needs per instance")]
    #[diagnostic(help("bench a component that embeds its core modules (as `wcomp build` makes)"))]
    Unsized { path: PathBuf },
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub component: PathBuf,
    /// The call to time, e.g. `render("hi")`.
    pub invoke: String,
    /// Hold this many instances live at once and measure their cost.
    pub instances: Option<u32>,
    /// How long to spend on each timed phase (instantiation, calls, throughput).
    pub duration: Duration,
    /// Threads for the throughput phase.
    pub threads: usize,
    /// Limit on each instance's memories and tables; also the size of its pool slots.
    pub max_memory: u64,
    /// How linear memories get their initial data.
    pub memory_init: MemoryInit,
    /// Where to keep compiled code; `Disabled` uses a temporary directory for the
    /// from-cache measurement.
    pub cache: CacheMode,
    /// Called with the name of each phase as it starts.
    pub progress: Progress,
    /// `wasi:nn` models the component may load by name (`--nn-graph`).
    pub nn: Vec<super::nn::NnGrant>,
}

/// How a new instance's linear memory receives its data segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MemoryInit {
    /// Copy the segments into fresh memory. Fewer kernel mappings per instance (no image
    /// mapping splitting the memory's mapping), so more instances fit under
    /// `vm.max_map_count`; for components with small data segments it costs no latency.
    #[default]
    Copy,
    /// Map a copy-on-write image of the initial memory (wasmtime's default): faster for
    /// large images, but two to three more mappings per memory.
    Cow,
}

/// Reports phases to the caller.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<ProgressFn>>);

type ProgressFn = dyn Fn(&str) + Send + Sync;

impl Progress {
    pub fn new(report: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(report)))
    }

    fn phase(&self, name: &str) {
        if let Some(report) = &self.0 {
            report(name);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Latency percentiles over many samples.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Latency {
    pub samples: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let count = samples.len().max(1);
        let at = |percent: usize| {
            samples
                .get((count * percent / 100).min(count - 1))
                .map_or(0.0, |d| d.as_secs_f64() * 1e6)
        };
        let total: Duration = samples.iter().sum();
        Self {
            samples: samples.len(),
            p50_us: at(50),
            p99_us: at(99),
            mean_us: total.as_secs_f64() * 1e6 / count as f64,
        }
    }
}

/// How many instances were held live, and what they cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Density {
    pub requested: u32,
    pub live: u32,
    /// Resident memory added by the live instances, right after instantiation.
    pub rss_bytes: Option<u64>,
    pub bytes_per_instance: Option<f64>,
    /// The same after one call on every instance (pages the guest touched).
    pub bytes_per_instance_after_call: Option<f64>,
    pub mappings_per_instance: Option<f64>,
    pub mappings: Option<u64>,
    pub max_map_count: Option<u64>,
    pub wall_seconds: f64,
    /// Why fewer than `requested` instances are live.
    pub stopped_by: Option<Stop>,
}

/// What stopped the density run early.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stop {
    /// `vm.max_map_count`, `address-space`, `pool` or `error`.
    pub limit: String,
    pub message: String,
    /// What to raise or change, when it is the system's limit.
    pub fix: Option<String>,
}

/// Everything `wcomp bench` measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub component: PathBuf,
    pub component_bytes: u64,
    pub call: String,
    pub memories_per_instance: u32,
    pub core_instances_per_instance: u32,
    pub compile_cold_ms: f64,
    /// `None` when the cache could not be used (the reason is in `cache_note`).
    pub compile_cached_ms: Option<f64>,
    pub cache_note: Option<String>,
    pub instantiate: Latency,
    pub call_latency: Latency,
    pub calls_per_second: f64,
    pub threads: usize,
    pub density: Option<Density>,
    pub memory_init: &'static str,
    /// Each `wasi:nn` graph the call used, run on the same inputs by the same engine outside
    /// the component: what the sandbox adds to an inference is the call's time less this.
    pub native_inference: Vec<NativeInference>,
}

/// One graph's inference outside the component.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NativeInference {
    pub graph: String,
    pub latency: Latency,
}

/// Per-component-instance needs, for sizing the pools.
#[derive(Debug, Clone, Copy)]
struct Needs {
    memories: u32,
    tables: u32,
    core_instances: u32,
    /// An async component runs on fibers: one stack per live instance.
    stacks: u32,
}

/// Bytes of each memory and table slot kept resident and reset in place, as `wcomp serve`
/// keeps them.
const KEEP_RESIDENT: usize = 4 << 20;

/// The engine configuration `bench` measures: the runner's (so the numbers are `wcomp run`'s),
/// with memories confined to `max_memory` slots and, if `pool` is given, the pooling
/// allocator sized for that many component instances; component-model async only for an async
/// component (`concurrent`), as `wcomp run` decides.
fn config(options: &BenchOptions, pool: Option<(u32, Needs)>, concurrent: bool) -> Config {
    let limits = Limits {
        timeout: None,
        fuel: None,
        max_memory: options.max_memory,
    };
    let mut config = engine::config(&limits, concurrent);
    // Each slot reserves only what the guest may use (plus a small guard), so tens of
    // thousands of memories fit in the address space; bounds checks become explicit.
    config.memory_reservation(options.max_memory);
    config.memory_guard_size(64 << 10);
    config.memory_reservation_for_growth(0);
    config.memory_init_cow(options.memory_init == MemoryInit::Cow);
    if let Some((instances, needs)) = pool {
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_component_instances(instances)
            // Only a counter (no reservation), and wasmtime adds core instances of its own
            // (fused adapters between composed components), so leave ample room.
            .total_core_instances(
                instances.saturating_mul(needs.core_instances.saturating_mul(2).saturating_add(8)),
            )
            .total_memories(instances.saturating_mul(needs.memories.max(1)))
            .total_tables(instances.saturating_mul(needs.tables.max(1)))
            .total_stacks(instances.saturating_mul(needs.stacks))
            .total_gc_heaps(0)
            .max_memory_size(usize::try_from(options.max_memory).unwrap_or(usize::MAX))
            .max_memories_per_module(needs.memories.max(1))
            .max_tables_per_module(needs.tables.max(1))
            // Slots are reset as `wcomp serve` resets them (what an instance wrote, in place),
            // so the latency measured is the one a server sees.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    config
}

/// The component compiled for a pooled engine sized to what one instance needs, with the
/// compile times measured on the way.
struct Prepared {
    bytes: Vec<u8>,
    needs: Needs,
    engine: Engine,
    compiled: Compiled,
    compile_cold: Duration,
    compile_cached: Option<Duration>,
    cache_note: Option<String>,
}

/// Compiles cold on an engine without pools, to learn how many memories, tables and core
/// instances one instance needs; sizes the pools; then loads the code through the cache.
fn prepare(options: &BenchOptions) -> anyhow::Result<Prepared> {
    let bytes = load(&options.component)?;
    check_component(&options.component, &bytes).report_err()?;
    options.progress.phase("compiling (cold)");
    // Without component-model async first, as `wcomp run` compiles; an async component (refused
    // by that engine) or one importing WASI 0.3 is compiled by one with it.
    let mut probe = Engine::new(&config(options, None, false))?;
    let mut start = Instant::now();
    let mut concurrent = false;
    let mut cold = Component::from_binary(&probe, &bytes);
    let needs_async = match &cold {
        Ok(component) => engine::imports_wasi_0_3(&probe, component),
        Err(_) => true,
    };
    if needs_async {
        probe = Engine::new(&config(options, None, true))?;
        start = Instant::now();
        concurrent = true;
        cold = Component::from_binary(&probe, &bytes);
    }
    let cold = cold
        .map_err(anyhow::Error::from)
        .map_err(|err| compile_failure(&options.component, err))?;
    let compile_cold = start.elapsed();
    let needs = needs(&probe, &cold, &bytes)
        .ok_or_else(|| BenchError::Unsized {
            path: options.component.clone(),
        })
        .report_err()?;

    let threads = options.threads.max(1);
    let held = options.instances.unwrap_or(0);
    // Every phase drops its instances before the next, so the pool needs the largest phase
    // plus the one instance used to measure calls.
    let slots = held.max(u32::try_from(threads).unwrap_or(u32::MAX)) + 2;
    let engine = Engine::new(&config(options, Some((slots, needs)), concurrent))
        .map_err(|source| BenchError::Reserve {
            instances: slots,
            per_instance: format!(
                "{} memories × {}",
                needs.memories,
                crate::units::format_size(options.max_memory)
            ),
            source: source.into(),
        })
        .report_err()?;

    // The from-cache time: the cold artifact is stored under this engine's key when the
    // two engines are compatible (they differ only in allocation), then loaded back.
    options.progress.phase("loading from the cache");
    let temp;
    let cache_mode = match &options.cache {
        CacheMode::Dir(dir) => CacheMode::Dir(dir.clone()),
        CacheMode::Disabled => {
            temp = tempfile::tempdir().context("cannot create a temporary cache directory")?;
            CacheMode::Dir(temp.path().to_owned())
        }
    };
    let (compiled, compile_cached, cache_note) =
        cached(&engine, &probe, &cold, &bytes, &cache_mode)?;
    Ok(Prepared {
        bytes,
        needs,
        engine,
        compiled,
        compile_cold,
        compile_cached,
        cache_note,
    })
}

/// Runs every phase and returns the measurements.
pub fn run(options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let call = Call::parse(&options.invoke).report_err()?;
    let Prepared {
        bytes,
        needs,
        engine,
        compiled,
        compile_cold,
        compile_cached,
        cache_note,
    } = prepare(options)?;
    let threads = options.threads.max(1);
    let models = super::nn::Models::load_with(&options.nn, false, super::nn::Recording::LastInputs)
        .report_err()?;

    // The session `wcomp run` would make, on the pooled engine: same linker, sandbox and
    // memory limit (no time limit: the phases are timed by the clock).
    let session = Session::with_compiled(
        engine.clone(),
        compiled,
        &options.component,
        SessionOptions {
            limits: Limits {
                timeout: None,
                fuel: None,
                max_memory: options.max_memory,
            },
            unknown_imports: UnknownImports::Reject,
            services: Some(super::sandbox::Services {
                nn: models.clone(),
                ..super::sandbox::Services::default()
            }),
            ..SessionOptions::default()
        },
    )?;
    let target = session.target(&call)?;

    // One instance first: it checks the call and gives the parameter values.
    let mut probe_instance = Live::new(&session, &target)?;
    let ty = probe_instance.func.ty(probe_instance.guest.store());
    let params = call.params(&ty, &target.qualified_name).report_err()?;
    let results = ty.results().len();
    probe_instance.call(&params, results)?;
    let core_instances = engine
        .pooling_allocator_metrics()
        .map_or(needs.core_instances, |metrics| {
            u32::try_from(metrics.core_instances()).unwrap_or(u32::MAX)
        });

    options.progress.phase("timing instantiation");
    let instantiate = time_instantiation(&session, options.duration)?;

    options.progress.phase("timing calls");
    let call_latency = time_calls(&mut probe_instance, &params, results, options.duration)?;
    drop(probe_instance);
    let native_inference = time_native_inference(&models, options.duration)?;

    options.progress.phase("measuring throughput");
    let calls_per_second = throughput(
        &session,
        &target,
        &params,
        results,
        threads,
        options.duration,
    )?;

    let density = match options.instances {
        Some(requested) => {
            options
                .progress
                .phase(&format!("holding {requested} instances"));
            Some(density(&session, &target, &params, results, requested))
        }
        None => None,
    };

    Ok(BenchReport {
        component: options.component.clone(),
        component_bytes: bytes.len() as u64,
        call: options.invoke.clone(),
        memories_per_instance: needs.memories,
        core_instances_per_instance: core_instances,
        compile_cold_ms: compile_cold.as_secs_f64() * 1e3,
        compile_cached_ms: compile_cached.map(|d| d.as_secs_f64() * 1e3),
        cache_note,
        instantiate,
        call_latency,
        calls_per_second,
        threads,
        density,
        memory_init: match options.memory_init {
            MemoryInit::Copy => "copy",
            MemoryInit::Cow => "cow",
        },
        native_inference,
    })
}

/// For each graph the timed calls ran, the same inference (its latest inputs) by the same
/// engine, outside the component, for `duration`.
fn time_native_inference(
    models: &super::nn::Models,
    duration: Duration,
) -> anyhow::Result<Vec<NativeInference>> {
    let mut measured = Vec::new();
    for (name, compiled) in models.graphs() {
        let Some(inputs) = compiled.last_inputs() else {
            continue;
        };
        let run = || {
            compiled
                .run(inputs.clone())
                .map_err(|err| anyhow::anyhow!("graph `{name}`: {err}"))
        };
        run()?;
        let mut samples = Vec::new();
        let end = Instant::now() + duration;
        while Instant::now() < end && samples.len() < 10_000_000 {
            let start = Instant::now();
            run()?;
            samples.push(start.elapsed());
        }
        measured.push(NativeInference {
            graph: name.to_owned(),
            latency: Latency::of(samples),
        });
    }
    Ok(measured)
}

/// The component loaded through the cache, with the time of a hit.
fn cached(
    engine: &Engine,
    probe: &Engine,
    cold: &Component,
    bytes: &[u8],
    mode: &CacheMode,
) -> anyhow::Result<(Compiled, Option<Duration>, Option<String>)> {
    if cache::key(engine, bytes) == cache::key(probe, bytes) {
        let _ = cache::insert(engine, bytes, cold, mode);
    }
    let mut compiled = cache::load_or_compile(engine, bytes, mode)?;
    if compiled.outcome != CacheOutcome::Hit {
        // Stored just now (or replaced): the next load is the hit to time.
        compiled = cache::load_or_compile(engine, bytes, mode)?;
    }
    let note = match (&compiled.outcome, &compiled.store_error) {
        (CacheOutcome::Hit, _) => None,
        (_, Some(error)) => Some(format!("the cache could not be written: {error}")),
        (outcome, None) => Some(format!("the cache did not hit ({})", outcome.as_str())),
    };
    let elapsed = (compiled.outcome == CacheOutcome::Hit).then_some(compiled.elapsed);
    Ok((compiled, elapsed, note))
}

/// What one instance of `component` takes from the pools.
fn needs(engine: &Engine, component: &Component, bytes: &[u8]) -> Option<Needs> {
    let resources = component.resources_required()?;
    let mut core_instances = 0u32;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::InstanceSection(reader)) = payload {
            core_instances += reader
                .into_iter()
                .filter(|instance| matches!(instance, Ok(wasmparser::Instance::Instantiate { .. })))
                .count() as u32;
        }
    }
    Some(Needs {
        memories: resources.num_memories,
        tables: resources.num_tables,
        core_instances,
        stacks: u32::from(engine.get_concurrency_support()),
    })
}

/// One isolated instance with its own store, ready to call.
struct Live {
    guest: Guest,
    func: Func,
    results: Vec<Val>,
}

impl Live {
    fn new(session: &Session, target: &Target) -> anyhow::Result<Self> {
        let mut guest = session.guest(&[], GuestIo::Null)?;
        let instance = guest.instantiate_pre(session.instance_pre())?;
        let func = target.func(&instance, guest.store())?;
        Ok(Self {
            guest,
            func,
            results: Vec::new(),
        })
    }

    fn call(&mut self, params: &[Val], results: usize) -> anyhow::Result<()> {
        self.results.resize(results, Val::Bool(false));
        self.guest
            .call_func(self.func, params, &mut self.results)
            .map_err(guest_error)
    }
}

/// Store creation plus instantiation, each sample a fresh isolated instance (with no stdio:
/// the guest's output would drown the numbers).
fn time_instantiation(session: &Session, duration: Duration) -> anyhow::Result<Latency> {
    let pre = session.instance_pre();
    // Warm the pool's slots and the allocator first, as a long-running host would be.
    for _ in 0..100 {
        let mut guest = session.guest(&[], GuestIo::Null)?;
        guest.instantiate_pre(pre)?;
    }
    let mut samples = Vec::new();
    let end = Instant::now() + duration;
    while Instant::now() < end && samples.len() < 1_000_000 {
        let start = Instant::now();
        let mut guest = session.guest(&[], GuestIo::Null)?;
        guest.instantiate_pre(pre)?;
        samples.push(start.elapsed());
        drop(guest);
    }
    Ok(Latency::of(samples))
}

fn time_calls(
    live: &mut Live,
    params: &[Val],
    results: usize,
    duration: Duration,
) -> anyhow::Result<Latency> {
    for _ in 0..1000 {
        live.call(params, results)?;
    }
    let mut samples = Vec::new();
    let end = Instant::now() + duration;
    while Instant::now() < end && samples.len() < 10_000_000 {
        let start = Instant::now();
        live.call(params, results)?;
        samples.push(start.elapsed());
    }
    Ok(Latency::of(samples))
}

/// Calls per second with one instance per thread, all threads calling at once.
fn throughput(
    session: &Session,
    target: &Target,
    params: &[Val],
    results: usize,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let counts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || -> anyhow::Result<(u64, Duration)> {
                    let mut live = Live::new(session, target)?;
                    let start = Instant::now();
                    let end = start + duration;
                    let mut calls = 0u64;
                    while Instant::now() < end {
                        // Check the clock every 64 calls: reading it costs as much as a call.
                        for _ in 0..64 {
                            live.call(params, results)?;
                        }
                        calls += 64;
                    }
                    Ok((calls, start.elapsed()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a benchmark thread panicked")))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    Ok(counts
        .iter()
        .map(|(calls, elapsed)| *calls as f64 / elapsed.as_secs_f64())
        .sum())
}

/// Holds `requested` instances live at once; stops at the first failure and says why.
fn density(
    session: &Session,
    target: &Target,
    params: &[Val],
    results: usize,
    requested: u32,
) -> Density {
    let rss_before = rss_bytes();
    let maps_before = mappings();
    let start = Instant::now();
    let mut live = Vec::with_capacity(requested as usize);
    let mut stopped_by = None;
    for _ in 0..requested {
        match Live::new(session, target) {
            Ok(instance) => live.push(instance),
            Err(err) => {
                stopped_by = Some(classify(&err));
                break;
            }
        }
    }
    let wall_seconds = start.elapsed().as_secs_f64();
    let rss_after = rss_bytes();
    let maps_after = mappings();
    let count = live.len() as u32;
    let per = |total: Option<u64>| {
        total
            .filter(|_| count > 0)
            .map(|t| t as f64 / f64::from(count))
    };
    let rss = rss_before.zip(rss_after).map(|(b, a)| a.saturating_sub(b));
    let mut after_call = None;
    if stopped_by.is_none() {
        let called = live
            .iter_mut()
            .try_for_each(|instance| instance.call(params, results));
        match called {
            Ok(()) => {
                after_call = per(rss_before
                    .zip(rss_bytes())
                    .map(|(b, a)| a.saturating_sub(b)));
            }
            Err(err) => stopped_by = Some(classify(&err)),
        }
    }
    let mapping_delta = maps_before
        .zip(maps_after)
        .map(|(b, a)| a.saturating_sub(b));
    drop(live);
    Density {
        requested,
        live: count,
        rss_bytes: rss,
        bytes_per_instance: per(rss),
        bytes_per_instance_after_call: after_call,
        mappings_per_instance: per(mapping_delta),
        mappings: maps_after,
        max_map_count: max_map_count(),
        wall_seconds,
        stopped_by,
    }
}

/// Names the limit behind an instantiation failure, and what to raise.
fn classify(err: &anyhow::Error) -> Stop {
    let message = format!("{err:#}");
    if err.chain().any(|cause| {
        cause
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
    }) {
        return Stop {
            limit: "pool".into(),
            message,
            fix: Some("this is a sizing bug in wcomp bench; please report it".into()),
        };
    }
    let out_of_memory = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.raw_os_error() == Some(12))
    }) || message.contains("Cannot allocate memory");
    if let (Some(maps), Some(max)) = (mappings(), max_map_count())
        && maps + 64 >= max
    {
        return Stop {
            limit: "vm.max_map_count".into(),
            message: format!(
                "the process has {maps} memory mappings, the kernel's limit `vm.max_map_count` ({max}): {message}"
            ),
            fix: Some(format!(
                "raise it, e.g. `sudo sysctl -w vm.max_map_count={}` (or fewer mappings per instance: `--memory-init copy`)",
                (max * 4).max(262_144)
            )),
        };
    }
    if out_of_memory {
        return Stop {
            limit: "address-space".into(),
            message,
            fix: Some(
                "the system refused memory: check `ulimit -v`, `vm.overcommit_memory` and free RAM, or lower `--max-memory`"
                    .into(),
            ),
        };
    }
    Stop {
        limit: "error".into(),
        message,
        fix: None,
    }
}

/// Resident memory of this process (Linux `/proc/self/status`).
pub fn rss_bytes() -> Option<u64> {
    let status = fs_err::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Memory mappings of this process, the quantity `vm.max_map_count` limits.
pub fn mappings() -> Option<u64> {
    let maps = fs_err::read("/proc/self/maps").ok()?;
    Some(maps.iter().filter(|b| **b == b'\n').count() as u64)
}

/// Linux's per-process mapping limit.
pub fn max_map_count() -> Option<u64> {
    fs_err::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let samples = (1..=100).map(Duration::from_micros).collect();
        let latency = Latency::of(samples);
        assert_eq!(latency.samples, 100);
        assert_eq!(latency.p50_us, 51.0);
        assert_eq!(latency.p99_us, 100.0);
        assert!((latency.mean_us - 50.5).abs() < 1e-9);
    }
}
