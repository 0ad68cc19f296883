//! The wasmtime engine, linker and per-store host state every guest gets: WASI 0.2 (and
//! 0.3, for components that use the component model's async features) with
//! exactly the capabilities of its [`Sandbox`](super::Sandbox) and the [`Limits`] it is held
//! to. One place decides the engine configuration, because it is also part of the code cache
//! key.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{CacheStore, Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::config::{ConfigHost, ConfigView};
use super::http::HttpHooks;
use super::keyvalue::{self, KvHost, KvView};
use super::sandbox::Services;

use super::limits::{self, LimitExceeded, LimitedHost, Limits, MemoryLimiter};

/// Per-store host state.
pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: HttpHooks,
    limiter: MemoryLimiter,
    time_exceeded: Option<LimitExceeded>,
    services: Services,
}

impl Host {
    pub fn new(wasi: WasiCtx, limits: &Limits, hooks: HttpHooks, services: Services) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks,
            limiter: MemoryLimiter::new(limits.max_memory),
            time_exceeded: None,
            services,
        }
    }

    /// The `wasi:nn` view of this store: its table, and the run's models.
    fn nn(&mut self) -> super::nn::host::NnView<'_> {
        super::nn::host::NnView {
            table: &mut self.table,
            models: &self.services.nn,
        }
    }

    /// Bytes of linear memory and tables the guest holds.
    pub fn memory_used(&self) -> u64 {
        self.limiter.used()
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl KvHost for Host {
    fn keyvalue(&mut self) -> KvView<'_> {
        KvView {
            stores: &self.services.keyvalue,
            table: &mut self.table,
        }
    }
}

impl ConfigHost for Host {
    fn config(&mut self) -> ConfigView<'_> {
        ConfigView(&self.services.config)
    }
}

impl LimitedHost for Host {
    fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }

    fn time_exceeded(&mut self) -> &mut Option<LimitExceeded> {
        &mut self.time_exceeded
    }
}

/// What to do with imports the host does not provide.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownImports {
    /// Refuse to instantiate, naming the import (`wcomp run`).
    #[default]
    Reject,
    /// Instantiate anyway; calling such an import fails with a message naming it (see
    /// [`stub_unsatisfied_imports`]). For test harnesses that exercise one export of a
    /// component whose other imports are never called.
    Trap,
}

/// The engine configuration for `limits`: components, guest backtraces with source lines,
/// epoch interruption (always, so every timeout shares one compiled artifact) and fuel
/// metering only when a fuel limit is set (it slows the guest down). No native unwind info:
/// wasmtime's own guest backtraces do not need it, and registering it with the system unwinder
/// is a large part of loading compiled code (it is per function, for every run).
///
/// Component-model async (WASI 0.3) only when `concurrent`: supporting it costs every store
/// and call of a plain component (in `wcomp bench`, 1.25 µs against 0.85 µs per call, 18.6 µs
/// against 15.9 µs per instantiation), so a component is compiled without it first and with it
/// only if it needs it ([`super::session::compile_with`]).
pub fn config(limits: &Limits, concurrent: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.concurrency_support(concurrent);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    config.native_unwind_info(false);
    config.epoch_interruption(true);
    config.consume_fuel(limits.fuel.is_some());
    if let Some(functions) = FUNCTIONS.get() {
        // Cannot fail with Cranelift, which is the only compiler built in.
        let _ = config.enable_incremental_compilation(functions.clone());
    }
    config
}

/// Keeps every function Cranelift compiles from now on in memory, so the next compile of a
/// component that shares most of its code (the same program after an edit, under `--watch`)
/// compiles only the functions that changed. The code is the same as without the cache.
pub fn keep_compiled_functions() {
    let _ = FUNCTIONS.set(Arc::new(FunctionCache::default()));
}

static FUNCTIONS: OnceLock<Arc<FunctionCache>> = OnceLock::new();

/// Compiled functions by Cranelift's key for them (a hash of the function and the compiler's
/// settings), up to [`FunctionCache::LIMIT`] bytes: past that it starts over.
#[derive(Debug, Default)]
struct FunctionCache {
    entries: Mutex<(Functions, usize)>,
}

/// Compiled functions by key, and the bytes they take.
type Functions = HashMap<Vec<u8>, Vec<u8>>;

impl FunctionCache {
    const LIMIT: usize = 512 << 20;
}

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.0.get(key).map(|value| Cow::Owned(value.clone()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (map, bytes) = &mut *entries;
        if *bytes + key.len() + value.len() > Self::LIMIT {
            map.clear();
            *bytes = 0;
        }
        *bytes += key.len() + value.len();
        if let Some(old) = map.insert(key.to_vec(), value) {
            *bytes -= key.len() + old.len();
        }
        true
    }
}

/// A short name for the engine configuration [`config`] gives `limits` (for
/// [`super::cache::recall`]).
pub fn variant(limits: &Limits, concurrent: bool) -> &'static str {
    match (limits.fuel.is_some(), concurrent) {
        (false, false) => "plain",
        (true, false) => "fuel",
        (false, true) => "plain-async",
        (true, true) => "fuel-async",
    }
}

/// An engine for running guests under `limits`.
pub fn engine_for(limits: &Limits, concurrent: bool) -> anyhow::Result<Engine> {
    Ok(Engine::new(&config(limits, concurrent))?)
}

/// How guests are driven: called to completion on the calling thread (`run`, `test`,
/// `bench`), or polled as futures on an async runtime (`serve`), which takes WASI's async
/// implementations and `wasi:http`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Execution {
    #[default]
    Blocking,
    Async,
}

/// A linker with WASI 0.2 (and, if asked, trapping stubs for `component`'s other imports).
/// [`Execution::Async`] links all of WASI 0.2 and `wasi:http`, once for a long-lived server.
/// On an engine with component-model async (an async component's: see
/// [`super::session::compile_with`]) it gets the async implementations, with WASI 0.3 (and its
/// `wasi:http`) beside 0.2 when it imports them.
pub fn linker(
    engine: &Engine,
    component: &Component,
    unknown: UnknownImports,
    execution: Execution,
) -> anyhow::Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    let blocking = execution == Execution::Blocking && !engine.get_concurrency_support();
    if blocking {
        add_wasi(&mut linker, engine, component)?;
    } else {
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        let imports = wasi_imports(engine, component);
        if execution == Execution::Async || imports.http_p2 {
            wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        }
        if imports.p3 {
            wasmtime_wasi::p3::add_to_linker(&mut linker)?;
        }
        if imports.http_p3 {
            wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
        }
    }
    add_services(&mut linker, engine, component, blocking)?;
    if unknown == UnknownImports::Trap {
        stub_unsatisfied_imports(&mut linker, engine, component)?;
    }
    Ok(linker)
}

/// Adds `wasi:keyvalue` and `wasi:config` when `component` imports them (their buckets and
/// values are the session's [`Services`]).
fn add_services(
    linker: &mut Linker<Host>,
    engine: &Engine,
    component: &Component,
    blocking: bool,
) -> anyhow::Result<()> {
    if keyvalue::imported(engine, component) {
        keyvalue::add_to_linker(linker, blocking)?;
    }
    if super::config::imported(engine, component) {
        super::config::add_to_linker(linker)?;
    }
    if super::nn::imported(engine, component) {
        super::nn::host::add_to_linker(linker, Host::nn)?;
    }
    Ok(())
}

/// Whether `component` imports WASI 0.3. An engine without component-model async may compile
/// such a component (when it uses no async function or stream itself), but WASI 0.3 is served
/// on the event loop that only an engine with it has.
pub fn imports_wasi_0_3(engine: &Engine, component: &Component) -> bool {
    wasi_imports(engine, component).p3
}

/// Which WASI versions a component imports.
#[derive(Debug, Default, Clone, Copy)]
struct WasiImports {
    /// Any `wasi:*@0.3.*` interface.
    p3: bool,
    http_p2: bool,
    http_p3: bool,
}

fn wasi_imports(engine: &Engine, component: &Component) -> WasiImports {
    let mut found = WasiImports::default();
    for (name, _) in component.component_type().imports(engine) {
        let Some((interface, version)) = name.strip_prefix("wasi:").and_then(|n| n.split_once('@'))
        else {
            continue;
        };
        let p3 = version.starts_with("0.3.");
        let http = interface.starts_with("http/");
        found.p3 |= p3;
        found.http_p3 |= http && p3;
        found.http_p2 |= http && version.starts_with("0.2.");
    }
    found
}

/// How deep [`type_is_concurrent`] looks (types nest; a limit keeps a hostile component from
/// making the walk expensive).
const TYPE_DEPTH: usize = 32;

/// Whether a value of type `ty` holds a `stream`, a `future` or an `error-context`.
pub fn type_is_concurrent(ty: &wasmtime::component::Type, depth: usize) -> bool {
    use wasmtime::component::Type;
    if depth > TYPE_DEPTH {
        return false;
    }
    let inner = |ty: &Type| type_is_concurrent(ty, depth + 1);
    match ty {
        Type::Stream(_) | Type::Future(_) | Type::ErrorContext => true,
        Type::List(list) => inner(&list.ty()),
        Type::FixedLengthList(list) => inner(&list.ty()),
        Type::Map(map) => inner(&map.key()) || inner(&map.value()),
        Type::Record(record) => record.fields().any(|field| inner(&field.ty)),
        Type::Tuple(tuple) => tuple.types().any(|ty| inner(&ty)),
        Type::Variant(variant) => variant
            .cases()
            .any(|case| case.ty.as_ref().is_some_and(inner)),
        Type::Option(option) => inner(&option.ty()),
        Type::Result(result) => {
            result.ok().as_ref().is_some_and(inner) || result.err().as_ref().is_some_and(inner)
        }
        _ => false,
    }
}

/// Adds the WASI 0.2 interfaces `component` imports, with the implementations
/// `wasmtime_wasi::p2::add_to_linker_sync` would add, and no others: defining all thirty takes
/// longer than instantiating a small component. If it imports a WASI interface not listed
/// here, everything is added, so that instantiation names what is missing.
fn add_wasi(
    linker: &mut Linker<Host>,
    engine: &Engine,
    component: &Component,
) -> anyhow::Result<()> {
    let ty = component.component_type();
    let mut interfaces: Vec<&str> = ty
        .imports(engine)
        .filter_map(|(name, _)| name.strip_prefix("wasi:"))
        // Added beside WASI by `add_services`.
        .filter(|name| !name.starts_with("keyvalue/") && !name.starts_with("config/"))
        .map(|name| {
            name.split_once('@')
                .map_or(name, |(interface, _)| interface)
        })
        .collect();
    interfaces.sort_unstable();
    interfaces.dedup();
    for interface in interfaces {
        let added = add_io_clocks_files_random(linker, interface)?
            || add_cli(linker, interface)?
            || add_sockets(linker, interface)?;
        if !added {
            *linker = Linker::new(engine);
            wasmtime_wasi::p2::add_to_linker_sync(linker)?;
            return Ok(());
        }
    }
    Ok(())
}

/// The resource table, for `wasi:io`.
struct Io;
impl wasmtime::component::HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}
fn io(host: &mut Host) -> &mut ResourceTable {
    &mut host.table
}
fn rng(host: &mut Host) -> &mut wasmtime_wasi::random::WasiRandomCtx {
    host.wasi.random()
}

/// Adds one `wasi:io`, `wasi:clocks`, `wasi:filesystem` or `wasi:random` interface; false
/// when `interface` is none of those.
fn add_io_clocks_files_random(l: &mut Linker<Host>, interface: &str) -> anyhow::Result<bool> {
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
    use wasmtime_wasi::p2::bindings::{clocks, filesystem, random, sync};
    use wasmtime_wasi::random::WasiRandom;
    match interface {
        "io/error" => sync::io::error::add_to_linker::<Host, Io>(l, io)?,
        "io/poll" => sync::io::poll::add_to_linker::<Host, Io>(l, io)?,
        "io/streams" => sync::io::streams::add_to_linker::<Host, Io>(l, io)?,
        "clocks/wall-clock" => {
            clocks::wall_clock::add_to_linker::<Host, WasiClocks>(l, Host::clocks)?
        }
        "clocks/monotonic-clock" => {
            clocks::monotonic_clock::add_to_linker::<Host, WasiClocks>(l, Host::clocks)?
        }
        "filesystem/types" => {
            sync::filesystem::types::add_to_linker::<Host, WasiFilesystem>(l, Host::filesystem)?
        }
        "filesystem/preopens" => {
            filesystem::preopens::add_to_linker::<Host, WasiFilesystem>(l, Host::filesystem)?
        }
        "random/random" => random::random::add_to_linker::<Host, WasiRandom>(l, rng)?,
        "random/insecure" => random::insecure::add_to_linker::<Host, WasiRandom>(l, rng)?,
        "random/insecure-seed" => random::insecure_seed::add_to_linker::<Host, WasiRandom>(l, rng)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Adds one `wasi:cli` interface; false when `interface` is not one.
fn add_cli(l: &mut Linker<Host>, interface: &str) -> anyhow::Result<bool> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
    use wasmtime_wasi::p2::bindings::cli;
    match interface {
        "cli/exit" => cli::exit::add_to_linker::<Host, WasiCli>(l, Host::cli)?,
        "cli/environment" => cli::environment::add_to_linker::<Host, WasiCli>(l, Host::cli)?,
        "cli/stdin" => cli::stdin::add_to_linker::<Host, WasiCli>(l, Host::cli)?,
        "cli/stdout" => cli::stdout::add_to_linker::<Host, WasiCli>(l, Host::cli)?,
        "cli/stderr" => cli::stderr::add_to_linker::<Host, WasiCli>(l, Host::cli)?,
        "cli/terminal-input" => cli::terminal_input::add_to_linker::<Host, WasiCli>(l, Host::cli)?,
        "cli/terminal-output" => {
            cli::terminal_output::add_to_linker::<Host, WasiCli>(l, Host::cli)?
        }
        "cli/terminal-stdin" => cli::terminal_stdin::add_to_linker::<Host, WasiCli>(l, Host::cli)?,
        "cli/terminal-stdout" => {
            cli::terminal_stdout::add_to_linker::<Host, WasiCli>(l, Host::cli)?
        }
        "cli/terminal-stderr" => {
            cli::terminal_stderr::add_to_linker::<Host, WasiCli>(l, Host::cli)?
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Adds one `wasi:sockets` interface; false when `interface` is not one.
fn add_sockets(l: &mut Linker<Host>, interface: &str) -> anyhow::Result<bool> {
    use wasmtime_wasi::p2::bindings::{sockets, sync};
    use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView as _};
    match interface {
        "sockets/tcp" => sync::sockets::tcp::add_to_linker::<Host, WasiSockets>(l, Host::sockets)?,
        "sockets/udp" => sync::sockets::udp::add_to_linker::<Host, WasiSockets>(l, Host::sockets)?,
        "sockets/udp-create-socket" => {
            sync::sockets::udp_create_socket::add_to_linker::<Host, WasiSockets>(l, Host::sockets)?
        }
        "sockets/tcp-create-socket" => {
            sockets::tcp_create_socket::add_to_linker::<Host, WasiSockets>(l, Host::sockets)?
        }
        "sockets/instance-network" => {
            sockets::instance_network::add_to_linker::<Host, WasiSockets>(l, Host::sockets)?
        }
        "sockets/network" => sockets::network::add_to_linker::<Host, WasiSockets>(
            l,
            &sockets::network::LinkOptions::default(),
            Host::sockets,
        )?,
        "sockets/ip-name-lookup" => {
            sockets::ip_name_lookup::add_to_linker::<Host, WasiSockets>(l, Host::sockets)?
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A store for one guest, with `limits` applied. Keep the returned deadline alive while the
/// guest runs; `overdue` is called if the guest is stuck in a host call past its time limit.
pub fn store(
    engine: &Engine,
    host: Host,
    limits: &Limits,
    overdue: Option<limits::Overdue>,
) -> anyhow::Result<(Store<Host>, Option<limits::Deadline>)> {
    let mut store = Store::new(engine, host);
    let deadline = limits::apply(&mut store, limits, overdue)?;
    Ok((store, deadline))
}

/// How a call of a stubbed import starts its error message.
pub const STUB_CALLED: &str = "called the stubbed import";

/// Defines every non-WASI import of `component` as functions that fail naming the import, so a
/// component can be tested without the components that would satisfy its imports. (WASI is left
/// to the real implementation: `Linker::define_unknown_imports_as_traps` would shadow it with
/// stubs whenever the component asks for another 0.2.x patch version than the host's.)
pub fn stub_unsatisfied_imports<T: 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    component: &Component,
) -> anyhow::Result<()> {
    use wasmtime::component::ResourceType;
    use wasmtime::component::types::ComponentItem;

    let stub = |name: String| {
        move |_: wasmtime::StoreContextMut<'_, T>,
              _: wasmtime::component::types::ComponentFunc,
              _: &[wasmtime::component::Val],
              _: &mut [wasmtime::component::Val]|
              -> wasmtime::Result<()> {
            wasmtime::bail!(
                "{STUB_CALLED} `{name}`: nothing provides it when the component is tested alone"
            )
        }
    };
    for (name, item) in component.component_type().imports(engine) {
        if crate::compose::is_wasi(name) {
            continue;
        }
        match item.ty {
            ComponentItem::ComponentFunc(_) => {
                linker.root().func_new(name, stub(name.to_owned()))?
            }
            ComponentItem::ComponentInstance(instance) => {
                let mut scope = linker.instance(name)?;
                for (export, item) in instance.exports(engine) {
                    match item.ty {
                        ComponentItem::ComponentFunc(_) => {
                            scope.func_new(export, stub(format!("{name}#{export}")))?
                        }
                        ComponentItem::Resource(_) => {
                            scope.resource(export, ResourceType::host::<()>(), |_, _| Ok(()))?
                        }
                        _ => {}
                    }
                }
            }
            ComponentItem::Resource(_) => {
                linker
                    .root()
                    .resource(name, ResourceType::host::<()>(), |_, _| Ok(()))?
            }
            _ => {}
        }
    }
    Ok(())
}
