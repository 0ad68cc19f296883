use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::commands::CommandError;
use crate::diagnostic::ReportResult as _;
use crate::printer::{Message, Printer};
use crate::runtime::bench::{self, BenchOptions, BenchReport, MemoryInit, Progress};
use crate::runtime::{CacheMode, cache};
use crate::workspace::{self, Workspace};
use crate::{Context, ExitStatus};

/// Measure how fast a component starts and how many instances of it fit in memory.
///
/// Runs on the same engine as `wcomp run`, with the pooling allocator and a pre-linked
/// `InstancePre`, and reports: compile time (cold, and from the cache), instantiation
/// latency (a fresh isolated store and instance each time) and call latency as p50/p99 in
/// µs, calls per second with one instance per core, and with `--instances N` how many
/// instances could be held live at once, the resident memory and kernel mappings each costs.
/// When a system limit such as Linux's `vm.max_map_count` stops the density run, the
/// report names it and the setting to raise.
///
/// In a workspace, with no component given, benchmarks the composed workspace.
///
/// Examples:
///
///   wcomp bench app.wasm --invoke 'render("Hello brave new world")'
///
///   wcomp bench app.wasm --invoke 'render("hi")' --instances 10000 --duration 2s
///
///   wcomp --format json bench app.wasm --invoke 'add(1, 2)'
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The component (default in a workspace: the composed workspace).
    pub component: Option<PathBuf>,

    /// The WAVE call to measure, e.g. `render("hi")`; `@<file>` reads it from a file (for
    /// arguments too long for a command line, such as a tensor's values).
    #[arg(long)]
    pub invoke: String,

    /// Hold this many instances live at once and report their memory and mappings.
    #[arg(long, value_name = "N")]
    pub instances: Option<u32>,

    /// Time spent on each timed phase: `500ms`, `2s`.
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub duration: String,

    /// Threads for the calls-per-second phase [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Limit on each instance's memories and tables; every memory slot of the pool reserves
    /// this much address space.
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    pub max_memory: String,

    /// How memories get their initial data: `copy` (fewest kernel mappings per instance) or
    /// `cow` (a copy-on-write image, wasmtime's default).
    #[arg(long, value_enum, default_value_t = MemoryInitArg::Copy)]
    pub memory_init: MemoryInitArg,

    /// Measure the from-cache load in a temporary cache instead of wcomp's own.
    #[arg(long)]
    pub no_cache: bool,

    /// Preload an ONNX model the component loads by name with `wasi:nn`:
    /// `<name>=<model.onnx>`. The report adds the same inference run outside the component.
    #[arg(long = "nn-graph", value_name = "NAME=MODEL")]
    pub nn_graph: Vec<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MemoryInitArg {
    Copy,
    Cow,
}

pub fn run(args: BenchArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let component = match &args.component {
        Some(component) => ctx.path(component),
        None => {
            let root = Workspace::find(&ctx.cwd)
                .ok_or(CommandError::NotInWorkspace { command: "bench" })
                .report_err()?;
            let workspace = Workspace::load(&root)?;
            let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
            workspace::compose::compose(&workspace, jobs, false, ctx)?.output
        }
    };
    let printer = ctx.printer.clone();
    let invoke = match args.invoke.strip_prefix('@') {
        Some(file) => fs_err::read_to_string(ctx.path(Path::new(file)))?
            .trim()
            .to_owned(),
        None => args.invoke,
    };
    let options = BenchOptions {
        component,
        invoke,
        instances: args.instances,
        duration: crate::units::parse_duration(&args.duration).report_err()?,
        threads: args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        }),
        max_memory: crate::units::parse_size(&args.max_memory).report_err()?,
        memory_init: match args.memory_init {
            MemoryInitArg::Copy => MemoryInit::Copy,
            MemoryInitArg::Cow => MemoryInit::Cow,
        },
        cache: if args.no_cache {
            CacheMode::Disabled
        } else {
            CacheMode::Dir(cache::compiled_dir(&ctx.cache_dir))
        },
        progress: Progress::new(move |phase| printer.status("Benchmarking", phase)),
        nn: args
            .nn_graph
            .iter()
            .map(|text| {
                text.parse::<crate::runtime::nn::NnGrant>()
                    .map(|grant| grant.relative_to(&ctx.cwd))
            })
            .collect::<Result<_, _>>()
            .report_err()?,
    };
    let report = bench::run(&options)?;
    ctx.printer.emit(&report);
    Ok(ExitStatus::Success)
}

impl Message for BenchReport {
    fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        value["reason"] = json!("bench");
        value
    }

    fn show(&self, printer: &Printer) {
        print_report(printer, self);
    }
}

fn print_report(p: &Printer, report: &BenchReport) {
    p.data(format_args!(
        "component     {} ({}, {} memories and {} core instances per instance)",
        report.component.display(),
        crate::units::format_size(report.component_bytes),
        report.memories_per_instance,
        report.core_instances_per_instance,
    ));
    let cached = match (report.compile_cached_ms, &report.cache_note) {
        (Some(ms), _) => format!("from cache {ms:.2} ms"),
        (None, Some(note)) => format!("from cache: n/a ({note})"),
        (None, None) => "from cache: n/a".into(),
    };
    p.data(format_args!(
        "compile       cold {:.1} ms, {cached}",
        report.compile_cold_ms
    ));
    p.data(format_args!(
        "instantiate   p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs ({} samples; pooling allocator, InstancePre, memory init: {})",
        report.instantiate.p50_us,
        report.instantiate.p99_us,
        report.instantiate.mean_us,
        report.instantiate.samples,
        report.memory_init,
    ));
    p.data(format_args!(
        "call          p50 {:.2} µs, p99 {:.2} µs ({} samples of `{}`)",
        report.call_latency.p50_us,
        report.call_latency.p99_us,
        report.call_latency.samples,
        report.call,
    ));
    for native in &report.native_inference {
        p.data(format_args!(
            "native        p50 {:.2} µs, p99 {:.2} µs: graph `{}` on the same inputs outside the component ({:.1} % of the call's p50)",
            native.latency.p50_us,
            native.latency.p99_us,
            native.graph,
            100.0 * native.latency.p50_us / report.call_latency.p50_us.max(f64::EPSILON),
        ));
    }
    p.data(format_args!(
        "throughput    {} calls/s on {} thread{}",
        thousands(report.calls_per_second as u64),
        report.threads,
        if report.threads == 1 { "" } else { "s" }
    ));
    if let Some(density) = &report.density {
        let per = density
            .bytes_per_instance
            .map(|b| format!("{:.1} KiB each", b / 1024.0))
            .unwrap_or_else(|| "memory not measurable here".into());
        let after = density
            .bytes_per_instance_after_call
            .map(|b| format!(", {:.1} KiB after one call each", b / 1024.0))
            .unwrap_or_default();
        let rss = density
            .rss_bytes
            .map(|b| format!("+{} RSS, ", crate::units::format_size(b)))
            .unwrap_or_default();
        p.data(format_args!(
            "live          {} of {} instances in {:.2} s: {rss}{per}{after}",
            thousands(u64::from(density.live)),
            thousands(u64::from(density.requested)),
            density.wall_seconds,
        ));
        if let (Some(each), Some(total), Some(max)) = (
            density.mappings_per_instance,
            density.mappings,
            density.max_map_count,
        ) {
            p.data(format_args!(
                "mappings      {each:.1} per instance; {} of vm.max_map_count {} in use (room for about {} instances)",
                thousands(total),
                thousands(max),
                if each > 0.0 {
                    thousands(((max.saturating_sub(total)) as f64 / each) as u64 + u64::from(density.live))
                } else {
                    "unlimited".into()
                }
            ));
        }
        // Part of the result, not a passing remark: on stdout even under `-q`.
        if let Some(stop) = &density.stopped_by {
            p.data(format_args!(
                "stopped       at {} instances by {}: {}",
                thousands(u64::from(density.live)),
                stop.limit,
                stop.message
            ));
            if let Some(fix) = &stop.fix {
                p.data(format_args!("fix           {fix}"));
            }
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
