//! `wcomp serve`: a component exporting `wasi:http/incoming-handler` (the `wasi:http/proxy`
//! world, 0.2.x) or `wasi:http/handler` (the `wasi:http/service` world, 0.3.x) as an HTTP
//! server — hyper on tokio, one pre-instantiated component, and a fresh instance of it for
//! every request (the pooling allocator and copy-on-write memory images make that
//! microseconds), so no state leaks from one request to the next, unless `--reuse` trades
//! that for throughput ([`workers`]).
//!
//! Each request's guest gets the sandbox of `wcomp run` (deny-by-default files, environment,
//! sockets; outgoing HTTP only to `--allow-http` grants) and the same limits, per instance;
//! see [`handler`] for how each failure is answered. `SIGINT`/`SIGTERM` stop accepting,
//! let requests in flight finish within the drain time, and end the server. Knows nothing
//! about the command line: callers hear of requests through the access log callback.

pub mod body;
mod fault;
pub mod handler;
pub mod log;
pub mod metrics;
pub mod profile;
pub mod workers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

pub use handler::{Admission, Guests, Handler, SharedLog};
pub use log::{AccessRecord, Stats};
pub use metrics::Metrics;
pub use profile::ServeSettings;
pub use workers::{Reuse, ReuseChoice};

use crate::diagnostic::Report as _;
use crate::runtime::cache::CacheMode;
use crate::runtime::{
    Events, Execution, RunEvent, Session, SessionOptions, UnknownImports, engine,
};

/// Errors that keep a server from starting.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ServeError {
    /// The component is not an HTTP handler.
    #[error(
        "`{path}` exports neither `wasi:http/incoming-handler` nor `wasi:http/handler`, so it cannot serve HTTP"
    )]
    #[diagnostic(help(
        "it exports {exports}; an HTTP component exports `wasi:http/incoming-handler@0.2.x` (the `wasi:http/proxy` world) or `wasi:http/handler@0.3.x` (the `wasi:http/service` world): start one with `wcomp new <dir> --lang <rust|go|python|js> --template http`"
    ))]
    NotAHandler { path: PathBuf, exports: String },
    /// Another program listens on the address.
    #[error("cannot listen on {addr}: the address is in use")]
    #[diagnostic(help(
        "stop the other server, or pick another address with `--addr 127.0.0.1:<port>` (port 0 picks a free one)"
    ))]
    AddrInUse { addr: SocketAddr },
    /// Another program listens on the metrics address.
    #[error("cannot serve metrics on {addr}: the address is in use")]
    #[diagnostic(help(
        "pick another address with `--metrics 127.0.0.1:<port>` (port 0 picks a free one), or leave `--metrics` out"
    ))]
    MetricsAddrInUse { addr: SocketAddr },
    /// The address cannot be bound for another reason.
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The component file (`.wasm`, or `.wat`).
    pub component: PathBuf,
    /// Where to listen, what each request's guest may touch and use, admission and timeouts.
    pub settings: ServeSettings,
    pub cache: CacheMode,
    /// Denials and notes of the sandbox.
    pub events: Events,
    /// Keyvalue buckets and configuration already made (`wcomp test`), instead of those the
    /// sandbox grants.
    pub services: Option<crate::runtime::Services>,
}

/// How a server ended.
#[derive(Debug, Default)]
pub struct ServeSummary {
    pub stats: Stats,
    /// Connections still open when the drain time ran out.
    pub abandoned: bool,
    /// Access-log records dropped because the log could not keep up.
    pub log_dropped: u64,
}

/// Bytes of each memory and table slot reset in place rather than returned to the kernel.
const KEEP_RESIDENT: usize = 4 << 20;

/// Where a server listens, once it does.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub addr: SocketAddr,
    /// Where `GET /metrics` is answered (`--metrics`).
    pub metrics: Option<SocketAddr>,
}

/// Serves until `SIGINT`/`SIGTERM`; `ready` hears the bound addresses once the server accepts
/// connections, with the [`Swapper`] that replaces the served component while it runs.
pub fn serve(
    options: ServeOptions,
    ready: impl FnOnce(Listening, Swapper),
    log: impl Fn(&[AccessRecord]) + Send + Sync + 'static,
) -> anyhow::Result<ServeSummary> {
    let runtime = crate::async_runtime::multi_thread("wcomp-serve")?;
    let metrics = Arc::new(Metrics::new());
    let writer = log::LogWriter::start(log, metrics.log_dropped.clone())?;
    let log: SharedLog = Arc::new(writer.queue());
    let stats = Arc::new(Mutex::new(Stats::default()));
    let handler = prepare(&options, log.clone(), stats.clone(), metrics.clone())?;
    options.events.emit(&RunEvent::Note {
        message: handler.instances_note(),
    });
    let swapper = Swapper {
        current: Arc::new(RwLock::new(Arc::new(handler))),
        options: Arc::new(options),
        log,
        stats: stats.clone(),
        metrics,
    };
    let summary = runtime.block_on(listen(swapper, ready));
    // Every request's task ends with the runtime; the log thread then writes what is left.
    drop(runtime);
    let log_dropped = writer.finish();
    let stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(ServeSummary {
        stats,
        log_dropped,
        ..summary?
    })
}

/// Replaces the component a running server answers with. Requests already in flight finish
/// on the instance pre they started on; every request accepted after [`Swapper::swap`]
/// returns gets the new one. Nothing is refused meanwhile: the old handler serves until the
/// new one is ready.
#[derive(Clone)]
pub struct Swapper {
    current: Arc<RwLock<Arc<Handler>>>,
    options: Arc<ServeOptions>,
    log: SharedLog,
    stats: Arc<Mutex<Stats>>,
    metrics: Arc<Metrics>,
}

impl Swapper {
    /// Compiles `component` with the server's settings and serves it from now on. On an
    /// error (the file is not an HTTP component, it does not compile), the server goes on
    /// with what it served before.
    pub fn swap(&self, component: &std::path::Path) -> anyhow::Result<()> {
        let mut options = (*self.options).clone();
        options.component = component.to_owned();
        let prepared = prepare(
            &options,
            self.log.clone(),
            self.stats.clone(),
            self.metrics.clone(),
        );
        self.metrics.swap(prepared.is_ok());
        let handler = Arc::new(prepared?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = handler;
        Ok(())
    }

    /// How many requests an instance of the served component answers, and how many at once.
    pub fn reuse(&self) -> Reuse {
        self.current().reuse()
    }

    fn current(&self) -> Arc<Handler> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The server without a socket: requests handed in one at a time, each answered by a fresh
/// instance exactly as over the network (`wcomp test`'s HTTP cases).
pub struct InProcess {
    runtime: tokio::runtime::Runtime,
    handler: Arc<Handler>,
}

/// A response as an HTTP client sees it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The access-log record of the request.
    pub record: Option<AccessRecord>,
}

impl InProcess {
    pub fn new(options: &ServeOptions) -> anyhow::Result<Self> {
        let runtime = crate::async_runtime::current_thread()?;
        let handler = Arc::new(prepare(
            options,
            Arc::new(|_: &AccessRecord| {}),
            Arc::default(),
            Arc::default(),
        )?);
        Ok(Self { runtime, handler })
    }

    /// Sends `request` and reads the whole response.
    pub fn request(&self, request: http::Request<bytes::Bytes>) -> Answer {
        use http_body_util::BodyExt as _;
        self.runtime.block_on(async {
            let request = request.map(|body| {
                http_body_util::Full::new(body).map_err(
                    |never: std::convert::Infallible| -> wasmtime_wasi_http::Error {
                        match never {}
                    },
                )
            });
            let response = self.handler.handle(request).await;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = match response.into_body().collect().await {
                Ok(collected) => collected.to_bytes().to_vec(),
                Err(err) => format!("<the response body failed: {err}>").into_bytes(),
            };
            Answer {
                status,
                headers,
                body,
                record: None,
            }
        })
    }
}

/// Compiles the component for a pooled engine sized to `--max-concurrency` instances and
/// makes its `ProxyPre`; the handler ticks its engine's epoch for as long as it lives.
fn prepare(
    options: &ServeOptions,
    log: SharedLog,
    stats: Arc<Mutex<Stats>>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Handler> {
    let bytes = crate::runtime::load(&options.component)?;
    let needs = Needs::of(&bytes);
    // Component-model async only for a component that needs it (a WASI 0.3 handler, which an
    // engine without it refuses), or for a 0.2 handler under `--reuse`, whose workers run on
    // the store's event loop; a plain handler's stores and calls are cheaper without it.
    let reuse_asked = options.settings.reuse.requests.is_some_and(|n| n > 1);
    let (engine, compiled, _) = crate::runtime::session::compile_with(
        &options.component,
        &bytes,
        &options.cache,
        |concurrent| pooled_engine(options, &needs, concurrent || reuse_asked),
    )?;
    let session = Session::with_compiled(
        engine,
        compiled,
        &options.component,
        SessionOptions {
            sandbox: options.settings.sandbox.clone(),
            limits: options.settings.limits,
            cache: options.cache.clone(),
            unknown_imports: UnknownImports::Reject,
            events: options.events.clone(),
            http: options.settings.http.clone(),
            execution: Execution::Async,
            services: options.services.clone(),
        },
    )?;
    let session = Arc::new(session);
    let guests = guests(
        &session,
        &options.component,
        options.settings.reuse,
        stats.clone(),
        metrics.clone(),
    )?;
    for grant in &options.settings.http {
        options.events.emit(&RunEvent::Sandbox {
            line: format!("sandbox: outgoing HTTP to `{grant}`"),
        });
    }
    if options.settings.http.is_empty() {
        options.events.emit(&RunEvent::Sandbox {
            line: "sandbox: no outgoing HTTP (grant with `--allow-http <host>[:<port>]`)".into(),
        });
    }
    let handler = Handler::new(
        session,
        guests,
        options.settings.admission.clone(),
        log,
        stats,
        metrics,
    );
    let ticker = crate::runtime::limits::EpochTicker::start(handler.engine().clone());
    Ok(handler.keep(ticker))
}

/// An engine whose instance pool holds `--max-concurrency` instances of what `needs` says one
/// takes; with component-model async if `concurrent`.
fn pooled_engine(
    options: &ServeOptions,
    needs: &Needs,
    concurrent: bool,
) -> anyhow::Result<Engine> {
    let slots = u32::try_from(options.settings.admission.max_concurrency).unwrap_or(u32::MAX);
    let mut config = engine::config(&options.settings.limits, concurrent);
    let mut pooling = PoolingAllocationConfig::new();
    pooling
        .total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(needs.core_instances.saturating_mul(2) + 8))
        .total_memories(slots.saturating_mul(needs.memories.max(1)))
        .total_tables(slots.saturating_mul(needs.tables.max(1)))
        .total_stacks(slots)
        .total_gc_heaps(0)
        .max_memories_per_module(needs.memories_per_module.max(1))
        .max_tables_per_module(needs.tables_per_module.max(1))
        .table_elements(100_000)
        .max_memory_size(usize::try_from(options.settings.limits.max_memory).unwrap_or(usize::MAX));
    // A slot reused for the next request is reset by writing over its first pages instead of
    // handing them back to the kernel: on a many-core host, or a VM, giving pages back means a
    // TLB shootdown on every core per request, which cost more than the instance itself (a
    // third of the CPU in `perf`; `benches/serve.sh` measures the difference).
    pooling
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    // Where the kernel can say which pages an instance wrote (Linux 6.7's `PAGEMAP_SCAN`),
    // only those are reset: a request that touched a few pages costs a few pages, not the
    // whole resident prefix.
    pooling.pagemap_scan(wasmtime::Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    config.memory_init_cow(true);
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot set up the engine's instance pool")
}

/// How the session's component answers: a WASI 0.3 handler (`wasi:http/handler@0.3.x`)
/// through the workers, always (reused unless `--reuse 1`); a 0.2 one
/// (`wasi:http/incoming-handler@0.2.x`) on the fresh-instance path, or through the workers
/// under `--reuse`, one request at a time.
fn guests(
    session: &Arc<Session>,
    path: &std::path::Path,
    reuse: ReuseChoice,
    stats: Arc<Mutex<Stats>>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Guests> {
    use wasmtime_wasi_http::handler::{ProxyHandler, ProxyPre as AnyProxyPre};
    let pre = session.instance_pre();
    let workers = |pre, reuse| {
        Guests::Workers(ProxyHandler::new(workers::Workers::new(
            session.clone(),
            pre,
            reuse,
            stats.clone(),
            metrics.clone(),
        )))
    };
    if let Ok(service) = wasmtime_wasi_http::p3::bindings::ServicePre::new(pre.clone()) {
        return Ok(workers(AnyProxyPre::P3(service), reuse.for_p3()));
    }
    if let Ok(proxy) = ProxyPre::new(pre.clone()) {
        let reuse = reuse.for_p2();
        if reuse.is_fresh() {
            return Ok(Guests::Fresh(proxy));
        }
        return Ok(workers(AnyProxyPre::P2(proxy), reuse));
    }
    let exports: Vec<String> = session
        .component()
        .component_type()
        .exports(session.engine())
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    Err(ServeError::NotAHandler {
        path: path.to_owned(),
        exports: if exports.is_empty() {
            "nothing".to_owned()
        } else {
            exports.join(", ")
        },
    }
    .report())
}

/// Accepts connections until a shutdown signal, then drains.
async fn listen(
    swapper: Swapper,
    ready: impl FnOnce(Listening, Swapper),
) -> anyhow::Result<ServeSummary> {
    let options = swapper.options.clone();
    let listener = bind(options.settings.addr, |addr| ServeError::AddrInUse { addr })?;
    let local = listener.local_addr().unwrap_or(options.settings.addr);
    let metrics = swapper.metrics.clone();
    let metrics_addr = match options.settings.metrics {
        Some(addr) => {
            let listener = bind(addr, |addr| ServeError::MetricsAddrInUse { addr })?;
            let bound = listener.local_addr().unwrap_or(addr);
            tokio::spawn(metrics::expose(
                listener,
                metrics.clone(),
                options.settings.header_timeout,
            ));
            Some(bound)
        }
        None => None,
    };
    ready(
        Listening {
            addr: local,
            metrics: metrics_addr,
        },
        swapper.clone(),
    );
    let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.settings.header_timeout)
        // A client may close its sending side once its request is out and still wait for
        // the answer (`nc -N`, `curl` over some proxies): it gets one.
        .half_close(true)
        .keep_alive(true);
    http.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let max_connections = options
        .settings
        .max_connections
        .unwrap_or_else(profile::default_max_connections)
        .max(1);
    let connections = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let header_timeout = options.settings.header_timeout;
    let mut refusing = false;
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, a reset before accept: the next one may work.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Past `--max-connections` a new connection is closed at once: the accept loop never
        // waits, and the descriptors left serve the connections already open.
        let Ok(slot) = connections.clone().try_acquire_owned() else {
            drop(stream);
            metrics.refused.inc();
            if !refusing {
                refusing = true;
                options.events.emit(&RunEvent::Warning {
                    message: format!(
                        "{max_connections} connections are open (`--max-connections`): new ones are closed until some end"
                    ),
                });
            }
            continue;
        };
        refusing = false;
        let _ = stream.set_nodelay(true);
        let swapper = swapper.clone();
        let requested = Arc::new(AtomicBool::new(false));
        let seen = requested.clone();
        let service = hyper::service::service_fn(move |request| {
            seen.store(true, Ordering::Relaxed);
            // The handler of the moment: a swap between two requests of one connection
            // gives the second the new component.
            let handler = swapper.current();
            async move { Ok::<_, std::convert::Infallible>(handler.handle(request).await) }
        });
        let http = http.clone();
        let watcher = graceful.watcher();
        let open = Metrics::hold(&metrics.connections);
        tokio::spawn(async move {
            let _slot = (slot, open);
            // A connection that sends nothing within the header timeout is closed, whatever
            // its protocol turns out to be.
            let mut first = [0u8; 1];
            match tokio::time::timeout(header_timeout, stream.peek(&mut first)).await {
                Ok(Ok(read)) if read > 0 => {}
                _ => return,
            }
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let connection = watcher.watch(connection.into_owned());
            let mut connection = std::pin::pin!(connection);
            // Its first request's headers must be in within the header timeout too, whatever
            // the protocol: HTTP/1's are timed by hyper, an unfinished HTTP/2 HEADERS frame is
            // not.
            tokio::select! {
                _ = &mut connection => return,
                () = tokio::time::sleep(header_timeout) => {
                    if !requested.load(Ordering::Relaxed) {
                        return;
                    }
                }
            }
            let _ = connection.await;
        });
    }
    drop(listener);
    let open = graceful.count();
    if open > 0 {
        options.events.emit(&RunEvent::Note {
            message: format!(
                "stopping: waiting up to {} for {open} open connection{} to finish their requests; a second Ctrl-C stops at once",
                crate::units::format_duration(options.settings.drain),
                if open == 1 { "" } else { "s" },
            ),
        });
    }
    let drained = tokio::select! {
        drained = tokio::time::timeout(options.settings.drain, graceful.shutdown()) => drained.is_ok(),
        () = shutdown_signal() => false,
    };
    Ok(ServeSummary {
        stats: Stats::default(),
        abandoned: !drained,
        log_dropped: 0,
    })
}

/// A listener on `addr`; `in_use` is the error when another program holds it.
fn bind(
    addr: SocketAddr,
    in_use: fn(SocketAddr) -> ServeError,
) -> anyhow::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    };
    let bound = socket.and_then(|socket| {
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(1024)
    });
    bound.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            in_use(addr).report()
        } else {
            ServeError::Bind { addr, source }.report()
        }
    })
}

/// Resolves on `SIGINT` or `SIGTERM`.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        match (terminate, interrupt) {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What one instance takes from the pools, read from the component's bytes: memories and
/// tables its core modules define, and core instances it creates.
#[derive(Debug, Clone, Copy, Default)]
struct Needs {
    memories: u32,
    tables: u32,
    core_instances: u32,
    memories_per_module: u32,
    tables_per_module: u32,
}

impl Needs {
    fn of(bytes: &[u8]) -> Self {
        use wasmparser::Payload;
        let mut needs = Self::default();
        for payload in wasmparser::Parser::new(0).parse_all(bytes).flatten() {
            match payload {
                Payload::MemorySection(reader) => {
                    needs.memories += reader.count();
                    needs.memories_per_module = needs.memories_per_module.max(reader.count());
                }
                Payload::TableSection(reader) => {
                    needs.tables += reader.count();
                    needs.tables_per_module = needs.tables_per_module.max(reader.count());
                }
                Payload::InstanceSection(reader) => needs.core_instances += reader.count(),
                _ => {}
            }
        }
        needs
    }
}
