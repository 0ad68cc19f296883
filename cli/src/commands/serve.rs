use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::commands::build::{current_component, project_here};
use crate::commands::registry::{RegistryFlags, component_path};
use crate::commands::run::{GuestFlags, nearest_manifest, printer_events};
use crate::diagnostic::ReportResult as _;
use crate::manifest::Manifest;
use crate::printer::{Message, Printer};
use crate::runtime::profile::RunProfile;
use crate::runtime::{HttpGrant, cache};
use crate::serve::profile::ServeFlags;
use crate::serve::profile::ServeProfile;
use crate::serve::{self, AccessRecord, ServeOptions};
use crate::watch::WatchLoop;
use crate::workspace::Workspace;
use crate::{Context, ExitStatus};

/// Serve a `wasi:http` component over HTTP (WASI 0.2 or 0.3).
///
/// The component exports `wasi:http/incoming-handler` (the `wasi:http/proxy` world, 0.2.x) or
/// `wasi:http/handler` (the `wasi:http/service` world, 0.3.x); `wcomp new <dir> --template
/// http` makes one in Rust, Go, Python or JavaScript (`--wasi 0.3`: Rust or Python). In a
/// workspace with no component given, serves the composition (building and composing first
/// whatever is stale), with defaults from `[serve]` in wcomp.toml.
///
/// Every request to a 0.2 handler gets a new instance, so nothing one request leaves in memory
/// is seen by the next; a 0.3 instance answers up to 128 requests, 16 at a time, unless
/// `--reuse 1` gives each its own. Each has the sandbox of `wcomp run` (no files, environment or sockets unless
/// granted; outgoing HTTP only to `--allow-http` authorities) and its own limits: a request
/// that runs out of time is answered `504`, one whose guest traps or exceeds its memory or
/// fuel `500` with a request id, and the server goes on. One log line per request goes to
/// stderr (one JSON object with `--format json`). `SIGINT`/`SIGTERM` stop accepting, let
/// requests in flight finish (up to `--drain`), and exit 0.
///
/// Examples:
///
///   wcomp serve hello.wasm
///
///   wcomp serve oci://ghcr.io/acme/wordsvc:1.0.0
///
///   wcomp serve --addr 127.0.0.1:3000 --allow-http api.example.com --timeout 5s
///
///   wcomp serve hello-p3.wasm --reuse 1     # a WASI 0.3 handler, a fresh instance per request
///
///   wcomp serve --watch      # in a project or workspace: rebuild and swap on every save
///
///   curl -s http://127.0.0.1:8080/
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The component to serve (default in a workspace: the composition, composed first if
    /// anything changed; in a project: its component, built first if stale).
    pub component: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080; port 0 picks a free one].
    #[arg(long, value_name = "IP:PORT")]
    pub addr: Option<SocketAddr>,

    /// Allow outgoing HTTP requests to this authority: `api.example.com` (default port),
    /// `*.internal:8443`, `localhost:*` (repeatable).
    #[arg(long = "allow-http", value_name = "HOST[:PORT]")]
    pub allow_http: Vec<String>,

    #[command(flatten)]
    pub guest: GuestFlags,

    #[command(flatten)]
    pub registry: RegistryFlags,

    /// Instances running at once; more requests wait in the queue [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_concurrency: Option<usize>,

    /// Requests that may wait for an instance; beyond, `503` [default: 4 × max-concurrency].
    #[arg(long, value_name = "N")]
    pub queue: Option<usize>,

    /// Requests one instance answers before it is dropped [default: 1 for a WASI 0.2
    /// handler, 128 for a 0.3 one]. 1 gives every request a fresh instance: nothing one request
    /// leaves in memory reaches the next. More saves instantiation at the cost of that
    /// isolation.
    #[arg(long, value_name = "N")]
    pub reuse: Option<usize>,

    /// Requests one WASI 0.3 instance answers at once [default: 16]. 0.2 handlers answer one
    /// at a time.
    #[arg(long, value_name = "N")]
    pub concurrent: Option<usize>,

    /// Largest request body accepted; larger is `413` [default: 10MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_body: Option<String>,

    /// How long a client may take to send its request headers [default: 10s]; a connection
    /// that sends nothing for that long is closed.
    #[arg(long, value_name = "DURATION")]
    pub header_timeout: Option<String>,

    /// Open connections at most; new ones past it are closed at once [default: what the
    /// process's open-file limit leaves, less a reserve for guests and the cache].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Serve the server's metrics (requests by status, latency, instances, queue, connections)
    /// for Prometheus at `http://<IP:PORT>/metrics`, apart from the service's own address.
    #[arg(long, value_name = "IP:PORT")]
    pub metrics: Option<SocketAddr>,

    /// How long requests in flight may take to finish after SIGINT/SIGTERM [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub drain: Option<String>,

    /// How many components to build at once in a workspace (default: CPU cores).
    #[arg(short, long)]
    pub jobs: Option<usize>,

    /// Compile the component even if its compiled code is cached, and cache nothing.
    #[arg(long)]
    pub no_cache: bool,

    /// Rebuild whenever a source of the workspace or project is saved and swap the new
    /// component in without dropping a request; a failed build keeps the last good one.
    #[arg(long, conflicts_with = "component")]
    pub watch: bool,
}

pub fn run(args: ServeArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    if args.watch {
        return watch(&args, ctx);
    }
    let component = match &args.component {
        Some(component) => component_path(component, &args.registry.access_in(ctx)?, ctx)?,
        None => current_component(&ctx.cwd, args.jobs, "serve", ctx)?,
    };
    serve_component(&args, ctx, component, None)
}

/// `serve --watch`: the first good build is served; every later save rebuilds what it
/// changed and swaps the result in, while the server goes on answering.
fn watch(args: &ServeArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let quiet = Context {
        printer: ctx.printer.with_stdout_reserved(),
        ..ctx.clone()
    };
    let dir = ctx.cwd.clone();
    // Nothing to build here is an error at once, not something to wait for.
    if Workspace::find(&dir).is_none() {
        project_here(&dir, "serve")?;
    }
    let mut watch = WatchLoop::new(&dir, &quiet, crate::error::report)?;
    let never = AtomicBool::new(false);
    let component = loop {
        match current_component(&dir, args.jobs, "serve", &quiet) {
            Ok(component) => break component,
            Err(err) => {
                crate::error::report(&quiet.printer, &err);
                quiet
                    .printer
                    .status("Waiting", "for a save that builds before serving");
                watch.wait(&quiet, &never)?;
            }
        }
    };
    serve_component(args, ctx, component, Some(watch))
}

fn serve_component(
    args: &ServeArgs,
    ctx: &Context,
    component: PathBuf,
    watch: Option<WatchLoop>,
) -> anyhow::Result<ExitStatus> {
    let options = options(args, ctx, component)?;
    let shown = options.component.clone();
    let printer = ctx.printer.clone();
    let log_printer = ctx.printer.with_stdout_reserved();
    let slots = options.settings.admission.max_concurrency;
    let stop = Arc::new(AtomicBool::new(false));
    let mut watcher_thread = None;
    let summary = serve::serve(
        options,
        |listening, swapper| {
            // Only `--watch` keeps the hash of what is served; without it, only JSON shows it.
            let served = watch.as_ref().map(|_| Served::now(short_hash(&shown)));
            printer.with_stdout_reserved().emit(&Serving {
                addr: listening.addr,
                metrics: listening.metrics,
                component: &shown,
                slots,
                reuse: swapper.reuse(),
                served: served.as_ref(),
            });
            if let (Some(watch), Some(served)) = (watch, served) {
                let ctx = Context {
                    printer: ctx.printer.with_stdout_reserved(),
                    ..ctx.clone()
                };
                let stop = stop.clone();
                let jobs = args.jobs;
                watcher_thread = std::thread::Builder::new()
                    .name("wcomp-watch".into())
                    .spawn(move || swap_on_changes(watch, &ctx, &stop, &swapper, served, jobs))
                    .ok();
            }
        },
        move |records: &[AccessRecord]| log_requests(&log_printer, records),
    )?;
    stop.store(true, Ordering::Relaxed);
    if let Some(thread) = watcher_thread {
        // A build in progress is not waited for: the server is done.
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    ctx.printer.with_stdout_reserved().emit(&summary);
    Ok(ExitStatus::Success)
}

/// Rebuilds after each save and swaps the new component into the running server; a build
/// that fails, or a component that does not load, leaves the last good one serving.
fn swap_on_changes(
    mut watch: WatchLoop,
    ctx: &Context,
    stop: &AtomicBool,
    swapper: &serve::Swapper,
    served: Served,
    jobs: Option<usize>,
) {
    let dir = ctx.cwd.clone();
    let mut served = served;
    let result = watch.run_on_changes(ctx, stop, |ctx| {
        let started = Instant::now();
        let mut loaded_in = None;
        let swapped = current_component(&dir, jobs, "serve", ctx).and_then(|component| {
            let hash = short_hash(&component);
            if hash != served.hash {
                let loading = Instant::now();
                swapper.swap(&component)?;
                loaded_in = Some(loading.elapsed());
                served = Served::now(hash);
            }
            Ok(component)
        });
        // The build (and composition), then compiling the new component for the server.
        let built_in = started.elapsed() - loaded_in.unwrap_or_default();
        let status = match &swapped {
            Ok(_) => ExitStatus::Success,
            Err(err) => crate::error::report(&ctx.printer, err),
        };
        ctx.printer.emit(&SwapOutcome {
            component: swapped.as_ref().ok().map(PathBuf::as_path),
            served: &served,
            build_seconds: built_in.as_secs_f64(),
            load_seconds: loaded_in.map(|d| d.as_secs_f64()),
        });
        Ok(status)
    });
    if let Err(err) = result {
        // The watcher itself failed: the server goes on with what it serves.
        crate::error::report(&ctx.printer, &err);
    }
}

/// What a watching server serves: the component's hash, and since when.
struct Served {
    hash: String,
    since: String,
}

impl Served {
    fn now(hash: String) -> Self {
        Self {
            hash,
            since: chrono::Local::now().format("%H:%M:%S").to_string(),
        }
    }
}

/// The first 12 hex digits of the SHA-256 of the component's bytes.
fn short_hash(path: &std::path::Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let mut hex = crate::digest::sha256_hex(&bytes);
            hex.truncate(12);
            hex
        }
        Err(_) => "-".to_owned(),
    }
}

/// The server's options: the flags parsed, the manifest's `[run]` and `[serve]` read, and
/// the precedence between them settled by [`serve::profile::resolve`].
fn options(args: &ServeArgs, ctx: &Context, component: PathBuf) -> anyhow::Result<ServeOptions> {
    let (run_profile, serve_profile) = match nearest_manifest(&ctx.cwd) {
        Some(path) => {
            let manifest = Manifest::load(&path)?;
            (
                RunProfile::from_manifest(&manifest).report_err()?,
                ServeProfile::from_manifest(&manifest).report_err()?,
            )
        }
        None => (RunProfile::default(), ServeProfile::default()),
    };
    let flags = ServeFlags {
        addr: args.addr,
        guest: args.guest.profile(ctx)?,
        http: args
            .allow_http
            .iter()
            .map(|text| text.parse::<HttpGrant>().report_err())
            .collect::<anyhow::Result<_>>()?,
        max_concurrency: args.max_concurrency,
        max_connections: args.max_connections,
        metrics: args.metrics,
        queue: args.queue,
        reuse: args.reuse,
        concurrent: args.concurrent,
        max_body: args
            .max_body
            .as_deref()
            .map(crate::units::parse_size)
            .transpose()
            .report_err()?,
        header_timeout: args
            .header_timeout
            .as_deref()
            .map(crate::units::parse_duration)
            .transpose()
            .report_err()?,
        drain: args
            .drain
            .as_deref()
            .map(crate::units::parse_duration)
            .transpose()
            .report_err()?,
    };
    Ok(ServeOptions {
        component,
        settings: serve::profile::resolve(run_profile, serve_profile, flags),
        cache: if args.no_cache {
            crate::runtime::CacheMode::Disabled
        } else {
            crate::runtime::CacheMode::Dir(cache::compiled_dir(&ctx.cache_dir))
        },
        // The server's own output goes to stderr, beside its log: stdout is the guests'.
        events: printer_events(&Context {
            printer: ctx.printer.with_stdout_reserved(),
            ..ctx.clone()
        }),
        services: None,
    })
}

/// Access-log lines on stderr (or JSON objects), one per record, written together.
fn log_requests(printer: &Printer, records: &[AccessRecord]) {
    printer.batched(|printer| {
        for record in records {
            printer.emit(record);
        }
    });
}

impl Message for AccessRecord {
    fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("reason".into(), "request".into());
        }
        value
    }

    fn show(&self, printer: &Printer) {
        printer.status("Request", self.human());
    }
}

/// The server accepts connections.
struct Serving<'a> {
    addr: std::net::SocketAddr,
    /// Where `GET /metrics` is answered.
    metrics: Option<std::net::SocketAddr>,
    component: &'a Path,
    slots: usize,
    reuse: serve::Reuse,
    /// Under `--watch`: what is served since when.
    served: Option<&'a Served>,
}

impl Message for Serving<'_> {
    fn to_json(&self) -> Value {
        let addr = self.addr;
        let hash = self
            .served
            .map_or_else(|| short_hash(self.component), |served| served.hash.clone());
        let metrics = self.metrics.map(|addr| format!("http://{addr}/metrics"));
        json!({"reason": "serving", "addr": addr.to_string(), "url": format!("http://{addr}/"), "component": self.component, "hash": hash, "reuse": self.reuse.requests, "concurrent": self.reuse.concurrent, "metrics": metrics})
    }

    fn show(&self, printer: &Printer) {
        printer.status(
            "Serving",
            format_args!(
                "`{}` on http://{}/ ({}, {} at once; Ctrl-C stops)",
                self.component.display(),
                self.addr,
                if self.reuse.is_fresh() {
                    "a fresh instance per request".to_owned()
                } else {
                    format!("an instance per {} requests", self.reuse.requests)
                },
                self.slots
            ),
        );
        if let Some(addr) = self.metrics {
            printer.status("Metrics", format_args!("http://{addr}/metrics"));
        }
        if let Some(served) = self.served {
            printer.status(
                "Serving",
                format_args!("{} since {}", served.hash, served.since),
            );
        }
    }
}

/// The server stopped: what it answered, and whether requests were cut off by the drain time.
impl Message for serve::ServeSummary {
    fn to_json(&self) -> Value {
        let stats = &self.stats;
        json!({
            "reason": "stopped",
            "requests": stats.requests,
            "status_2xx": stats.by_class[2],
            "status_4xx": stats.by_class[4],
            "status_5xx": stats.by_class[5],
            "instantiate_p50_us": stats.instantiate_percentile(50.0),
            "instantiate_p99_us": stats.instantiate_percentile(99.0),
            "max_memory_per_instance": stats.max_memory,
            "abandoned": self.abandoned,
            "log_dropped": self.log_dropped,
        })
    }

    fn show(&self, printer: &Printer) {
        let stats = &self.stats;
        let percentile = |p| {
            stats
                .instantiate_percentile(p)
                .map_or_else(|| "-".to_owned(), |us| format!("{us:.1}µs"))
        };
        printer.status(
            "Stopped",
            format_args!(
                "after {} requests ({} 2xx, {} 4xx, {} 5xx); instantiation p50 {}, p99 {}; largest instance {}",
                stats.requests,
                stats.by_class[2],
                stats.by_class[4],
                stats.by_class[5],
                percentile(50.0),
                percentile(99.0),
                crate::units::format_size(stats.max_memory.max(1)),
            ),
        );
        if self.log_dropped > 0 {
            printer.warning(format_args!(
                "{} access-log lines were dropped: the log's output did not keep up",
                self.log_dropped
            ));
        }
        if self.abandoned {
            printer.warning(
                "some requests were still running when the server stopped (the drain time ran out, or a second Ctrl-C)",
            );
        }
    }
}

/// After a `--watch` cycle: the new component swapped in, or the last good one kept.
struct SwapOutcome<'a> {
    /// The component now served, when the cycle produced one.
    component: Option<&'a Path>,
    served: &'a Served,
    build_seconds: f64,
    /// `None` when the component was unchanged and nothing was loaded.
    load_seconds: Option<f64>,
}

impl Message for SwapOutcome<'_> {
    fn to_json(&self) -> Value {
        json!({
            "reason": if self.component.is_some() { "swapped" } else { "kept" },
            "component": self.component,
            "hash": self.served.hash,
            "since": self.served.since,
            "build_seconds": self.build_seconds,
            "load_seconds": self.load_seconds,
        })
    }

    fn show(&self, printer: &Printer) {
        let Served { hash, since } = self.served;
        if self.component.is_none() {
            printer.status(
                "Serving",
                format_args!("{hash} since {since} (the last good build)"),
            );
            return;
        }
        let timing = match self.load_seconds {
            Some(loaded) => format!(
                "built in {:.2}s, loaded in {loaded:.2}s",
                self.build_seconds
            ),
            None => format!("built in {:.2}s, unchanged", self.build_seconds),
        };
        printer.status("Serving", format_args!("{hash} since {since} ({timing})"));
    }
}
