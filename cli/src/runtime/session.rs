//! One runtime session: a compiled component with its engine, linker and `InstancePre`, the
//! sandbox its guests get and the limits they are held to. `run`, `test` and `bench` (and
//! `serve`, through the same engine configuration, sandbox and limits) all make their guests
//! here, so a grant or a limit means the same thing under every command:
//!
//! - `timeout`: wall-clock time for one guest, from its store's creation through
//!   instantiation and every call made on it;
//! - `max-memory`: the bytes of every linear memory and table of one guest together (a
//!   composition has a memory per component);
//! - `fuel`: instructions for one guest.
//!
//! Each limit ends the guest with [`RunError::Limit`] (its message and exit code), never a
//! bare trap; a trap is [`RunError::Trap`] with the guest's backtrace.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{Component, Func, Instance, InstancePre, Val};
use wasmtime::{Engine, Store};

use super::cache::{self, CacheMode, Compiled};
use super::engine::{self, Execution, Host, UnknownImports};
use super::guest::{
    Events, GuestBacktrace, RunError, RunEvent, check_component, compile_failure, guest_error,
    instantiate_error, load,
};
use super::http::{HttpGrant, HttpHooks};
use super::invoke::{Call, Target, find_function};
use super::limits::{self, Deadline, LimitExceeded, Limits};
use super::sandbox::{GuestIo, PreparedSandbox, Sandbox};
use crate::diagnostic::{Diagnosed, ReportResult as _};

/// What every guest of a session shares.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// What guests may touch beyond stdio.
    pub sandbox: Sandbox,
    /// Time, fuel and memory limits of each guest.
    pub limits: Limits,
    /// Where compiled code is cached, if anywhere.
    pub cache: CacheMode,
    /// Whether imports the host lacks stop instantiation or trap when called.
    pub unknown_imports: UnknownImports,
    /// Who hears about compilation, grants and denials.
    pub events: Events,
    /// Where outgoing HTTP requests may go (`--allow-http`).
    pub http: Vec<HttpGrant>,
    /// Blocking calls, or futures on an async runtime (`serve`).
    pub execution: Execution,
    /// Keyvalue buckets and configuration already made (`wcomp test`'s, shared by every
    /// case), instead of those the sandbox grants.
    pub services: Option<super::sandbox::Services>,
}

/// A component ready to be instantiated, any number of times, under one set of options.
pub struct Session {
    engine: Engine,
    component: Component,
    pre: InstancePre<Host>,
    /// The component's path (or name), for messages and as guests' program name.
    path: PathBuf,
    sandbox: PreparedSandbox,
    limits: Limits,
    events: Events,
    hooks: HttpHooks,
    /// For an async component (compiled by an engine with component-model async) outside
    /// `serve`: the event loop
    /// its guests are instantiated and called on.
    driver: Option<Driver>,
}

/// The event loop that drives an async component's guests to completion, one call at a time.
type Driver = Arc<tokio::runtime::Runtime>;

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("path", &self.path)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Compiles (or loads from the cache) the component at `path` and links it. A component
    /// file seen before is not even read: the cache's path index names its compiled code.
    pub fn open(path: &Path, options: SessionOptions) -> anyhow::Result<Self> {
        let is_text = path.extension().is_some_and(|ext| ext == "wat");
        // The engines made to look in the cache (plain first, then with async) compile too,
        // if it has nothing: none is made twice.
        let mut engines: [Option<Engine>; 2] = [None, None];
        if !is_text {
            for concurrent in [false, true] {
                let engine = engine::engine_for(&options.limits, concurrent)?;
                let variant = engine::variant(&options.limits, concurrent);
                if let Some(compiled) = cache::recall(&engine, variant, path, &options.cache) {
                    return Self::with_compiled(engine, compiled, path, options);
                }
                engines[usize::from(concurrent)] = Some(engine);
            }
        }
        let bytes = load(path)?;
        let (engine, compiled, concurrent) =
            compile_with(path, &bytes, &options.cache, |concurrent| {
                engines[usize::from(concurrent)]
                    .take()
                    .map_or_else(|| engine::engine_for(&options.limits, concurrent), Ok)
            })?;
        if !is_text {
            let variant = engine::variant(&options.limits, concurrent);
            cache::remember(variant, path, &compiled, &options.cache);
        }
        Self::with_compiled(engine, compiled, path, options)
    }

    /// A session for component `bytes`; `path` names it in messages. Any bytes at all give
    /// an error, never a panic.
    pub fn from_bytes(path: &Path, bytes: &[u8], options: SessionOptions) -> anyhow::Result<Self> {
        let (engine, compiled, _) = compile_with(path, bytes, &options.cache, |concurrent| {
            engine::engine_for(&options.limits, concurrent)
        })?;
        Self::with_compiled(engine, compiled, path, options)
    }

    /// A session over code compiled by `engine` (which must be configured by
    /// [`engine::config`] for `options.limits`, with any allocation strategy).
    pub fn with_compiled(
        engine: Engine,
        compiled: Compiled,
        path: &Path,
        options: SessionOptions,
    ) -> anyhow::Result<Self> {
        options.events.emit(&RunEvent::Compiled {
            cache: compiled.outcome.clone(),
            elapsed: compiled.elapsed,
            entry: compiled.entry.clone(),
            recalled: compiled.recalled,
        });
        if let Some(error) = compiled.store_error {
            options.events.emit(&RunEvent::CacheNotWritten { error });
        }
        for line in options.sandbox.describe() {
            options.events.emit(&RunEvent::Sandbox { line });
        }
        let component = compiled.component;
        let driver = if options.execution == Execution::Blocking && engine.get_concurrency_support()
        {
            Some(Arc::new(crate::async_runtime::current_thread()?))
        } else {
            None
        };
        let linker = engine::linker(
            &engine,
            &component,
            options.unknown_imports,
            options.execution,
        )?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|err| instantiate_error(path, err))?;
        let sandbox = match options.services {
            Some(services) => options
                .sandbox
                .prepare()
                .report_err()?
                .with_services(services),
            None => options
                .sandbox
                .prepare_services(
                    &options.events,
                    super::keyvalue::imported(&engine, &component),
                    super::nn::imported(&engine, &component),
                )
                .report_err()?,
        };
        Ok(Self {
            engine,
            component,
            pre,
            path: path.to_owned(),
            sandbox,
            limits: options.limits,
            hooks: HttpHooks::new(options.http, options.events.clone()),
            events: options.events,
            driver,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn component(&self) -> &Component {
        &self.component
    }

    pub fn instance_pre(&self) -> &InstancePre<Host> {
        &self.pre
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The guest's program name: the component's file name.
    pub fn program_name(&self) -> String {
        self.path.file_name().map_or_else(
            || "component".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The exported function `call` names, resolved before any guest exists (a bad call
    /// costs no guest time).
    pub fn target(&self, call: &Call) -> anyhow::Result<Target> {
        find_function(&self.engine, &self.component, call).report_err()
    }

    /// Whether the component is a command (exports `wasi:cli/run`).
    pub fn is_command(&self) -> bool {
        self.component
            .component_type()
            .exports(&self.engine)
            .any(|(name, _)| name.starts_with("wasi:cli/run@"))
    }

    /// A fresh store for one guest, its limits running from now. `argv` follows the program
    /// name. Keep the guest alive while it runs: its time limit ends with it.
    pub fn guest(&self, args: &[String], io: GuestIo) -> anyhow::Result<Guest> {
        let mut argv = Vec::with_capacity(args.len() + 1);
        argv.push(self.program_name());
        argv.extend(args.iter().cloned());
        let wasi = self
            .sandbox
            .wasi_ctx(&argv, &io, &self.events)
            .report_err()?;
        let overdue = self.limits.timeout.map(|limit| {
            let events = self.events.clone();
            Box::new(move || {
                events.emit(&RunEvent::Overdue {
                    limit: LimitExceeded::Time { limit },
                });
            }) as limits::Overdue
        });
        let (store, deadline) =
            engine::store(&self.engine, self.host(wasi), &self.limits, overdue)?;
        Ok(Guest {
            store,
            instance: None,
            limits: self.limits,
            path: self.path.clone(),
            deadline,
            driver: self.driver.clone(),
        })
    }

    /// A fresh store for one guest driven asynchronously (`serve`): its limits apply as for
    /// [`Session::guest`], but its time limit is checked on the engine's epoch ticks (the
    /// caller ticks the epoch; see [`limits::apply_ticked`]) rather than by a timer thread of
    /// its own, which would cost more than a request.
    pub fn async_store(&self, io: GuestIo) -> anyhow::Result<Store<Host>> {
        let mut store = self.server_store(&io)?;
        limits::apply_ticked(&mut store, &self.limits)?;
        Ok(store)
    }

    /// A store for an instance that serves several requests (`wcomp serve --reuse`): the
    /// limits of [`Session::async_store`] but no deadline of its own (see
    /// [`limits::apply_yielding`]).
    pub fn shared_store(&self) -> anyhow::Result<Store<Host>> {
        let mut store = self.server_store(&GuestIo::Inherit)?;
        limits::apply_yielding(&mut store, &self.limits)?;
        Ok(store)
    }

    /// A store with the sandbox and host state of a served guest, its limits not yet applied.
    fn server_store(&self, io: &GuestIo) -> anyhow::Result<Store<Host>> {
        let argv = [self.program_name()];
        let wasi = self
            .sandbox
            .wasi_ctx(&argv, io, &self.events)
            .report_err()?;
        Ok(Store::new(&self.engine, self.host(wasi)))
    }

    /// The host state of a new guest with WASI context `wasi`.
    fn host(&self, wasi: wasmtime_wasi::WasiCtx) -> Host {
        Host::new(
            wasi,
            &self.limits,
            self.hooks.clone(),
            self.sandbox.services().clone(),
        )
    }

    /// The error for a guest that stopped in `store`: a limit it hit (with its exit code),
    /// else its trap, else (while instantiating) a failure to instantiate.
    pub fn guest_failure(
        &self,
        store: &mut Store<Host>,
        err: wasmtime::Error,
        instantiating: bool,
    ) -> anyhow::Error {
        failure(store, &self.limits, &self.path, err, instantiating)
    }

    /// A guest, instantiated.
    pub fn instantiate(&self, args: &[String], io: GuestIo) -> anyhow::Result<Guest> {
        let mut guest = self.guest(args, io)?;
        let instance = match guest.instantiate_pre(&self.pre) {
            Ok(instance) => instance,
            Err(err) => return Err(guest.fail(err, true)),
        };
        guest.instance = Some(instance);
        Ok(guest)
    }

    /// Runs `wasi:cli/run` in a fresh guest; its exit code. A WASI 0.3 command
    /// (`wasi:cli/run@0.3.x`, an `async` function) runs on the session's event loop.
    pub fn run_command(&self, args: &[String]) -> anyhow::Result<(i32, Guest)> {
        let mut guest = self.guest(args, GuestIo::Inherit)?;
        let ran = match &self.driver {
            None => self.run_blocking(&mut guest)?,
            Some(driver) => driver.block_on(self.run_concurrent(&mut guest))?,
        };
        let code = match ran {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(err) => match err.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(guest.fail(err, false)),
            },
        };
        Ok((code, guest))
    }

    /// `wasi:cli/run@0.2.x` called to completion on this thread.
    fn run_blocking(&self, guest: &mut Guest) -> anyhow::Result<wasmtime::Result<Result<(), ()>>> {
        let command = wasmtime_wasi::p2::bindings::sync::CommandPre::new(self.pre.clone())
            .map_err(|err| instantiate_error(&self.path, err))?;
        match command.instantiate(&mut guest.store) {
            Ok(command) => Ok(command.wasi_cli_run().call_run(&mut guest.store)),
            Err(err) => Err(guest.fail(err, true)),
        }
    }

    /// `wasi:cli/run` of an async component, 0.3 or 0.2, on the event loop.
    async fn run_concurrent(
        &self,
        guest: &mut Guest,
    ) -> anyhow::Result<wasmtime::Result<Result<(), ()>>> {
        let instance = match self.pre.instantiate_async(&mut guest.store).await {
            Ok(instance) => instance,
            Err(err) => return Err(guest.fail(err, true)),
        };
        guest.instance = Some(instance);
        let store = &mut guest.store;
        if let Ok(command) = wasmtime_wasi::p3::bindings::Command::new(&mut *store, &instance) {
            let ran = store
                .run_concurrent(async |store| command.wasi_cli_run().call_run(store).await)
                .await;
            return Ok(ran.and_then(|ran| ran));
        }
        let command = wasmtime_wasi::p2::bindings::Command::new(&mut *store, &instance)
            .map_err(|err| instantiate_error(&self.path, err))?;
        Ok(command.wasi_cli_run().call_run(&mut *store).await)
    }
}

/// Compiles `bytes` (checked to be a component first), through the cache: with the engine
/// `engine_for(false)` makes, without component-model async, else (an async component, which
/// that engine refuses, or one importing WASI 0.3) with `engine_for(true)`'s. The engine, the code, and whether it is the
/// async one. The plain engine is dropped before the other is made (a pooled engine holds its
/// reservation until then).
pub fn compile_with(
    path: &Path,
    bytes: &[u8],
    mode: &CacheMode,
    mut engine_for: impl FnMut(bool) -> anyhow::Result<Engine>,
) -> anyhow::Result<(Engine, Compiled, bool)> {
    check_component(path, bytes).report_err()?;
    let plain = engine_for(false)?;
    if let Ok(compiled) = cache::load_or_compile(&plain, bytes, mode)
        && !engine::imports_wasi_0_3(&plain, &compiled.component)
    {
        return Ok((plain, compiled, false));
    }
    drop(plain);
    // The engine with async accepts all the other does: its error is the one to show.
    let engine = engine_for(true)?;
    let compiled =
        cache::load_or_compile(&engine, bytes, mode).map_err(|err| compile_failure(path, err))?;
    Ok((engine, compiled, true))
}

/// One guest: its own store (WASI context, limits) and, once instantiated, its instance.
pub struct Guest {
    store: Store<Host>,
    instance: Option<Instance>,
    limits: Limits,
    path: PathBuf,
    /// Keeps the time limit's timer alive as long as the guest.
    deadline: Option<Deadline>,
    /// The session's event loop, for an async component.
    driver: Option<Driver>,
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guest")
            .field("path", &self.path)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Guest {
    pub fn store(&mut self) -> &mut Store<Host> {
        &mut self.store
    }

    /// Calls `target` with `call`'s arguments (parsed at the function's type) and returns
    /// the results.
    pub fn call(&mut self, target: &Target, call: &Call) -> anyhow::Result<Vec<Val>> {
        let instance = self.instance.ok_or_else(|| {
            crate::diagnostic::InternalError::error("a guest was called before it was instantiated")
        })?;
        let func = target.func(&instance, &mut self.store)?;
        let ty = func.ty(&self.store);
        let params = call.params(&ty, &target.qualified_name).report_err()?;
        let mut results = vec![Val::Bool(false); ty.results().len()];
        match self.call_func(func, &params, &mut results) {
            Ok(()) => Ok(results),
            Err(err) => Err(self.fail(err, false)),
        }
    }

    /// Instantiates `pre` in this guest's store: on the session's event loop for an async
    /// component, else on this thread.
    pub fn instantiate_pre(&mut self, pre: &InstancePre<Host>) -> wasmtime::Result<Instance> {
        match &self.driver {
            None => pre.instantiate(&mut self.store),
            Some(driver) => driver.block_on(pre.instantiate_async(&mut self.store)),
        }
    }

    /// Calls `func` to completion: an async component's functions (`async` ones included)
    /// run on the event loop until the call returns.
    pub fn call_func(
        &mut self,
        func: Func,
        params: &[Val],
        results: &mut [Val],
    ) -> wasmtime::Result<()> {
        match &self.driver {
            None => func.call(&mut self.store, params, results),
            Some(driver) => driver
                .block_on(self.store.run_concurrent(async |store| {
                    func.call_concurrent(store, params, results).await
                }))
                .and_then(|called| called),
        }
    }

    /// Stops the guest's time limit: it will not run again. Its timer thread ends now instead
    /// of when the guest is dropped (see [`Deadline`]).
    pub fn stop_time_limit(&mut self) {
        if let Some(deadline) = &mut self.deadline {
            deadline.stop();
        }
    }

    /// The result types of `target`, for comparing results with expectations.
    pub fn result_types(
        &mut self,
        target: &Target,
    ) -> anyhow::Result<Vec<wasmtime::component::Type>> {
        let instance = self.instance.ok_or_else(|| {
            crate::diagnostic::InternalError::error(
                "a guest was inspected before it was instantiated",
            )
        })?;
        let func = target.func(&instance, &mut self.store)?;
        Ok(func.ty(&self.store).results().collect())
    }

    fn fail(&mut self, err: wasmtime::Error, instantiating: bool) -> anyhow::Error {
        failure(
            &mut self.store,
            &self.limits,
            &self.path,
            err,
            instantiating,
        )
    }
}

/// The error for a guest that stopped: a limit it hit (with its exit code), else its trap,
/// else (while instantiating) a failure to instantiate.
fn failure(
    store: &mut Store<Host>,
    limits: &Limits,
    path: &Path,
    err: wasmtime::Error,
    instantiating: bool,
) -> anyhow::Error {
    if let Some(exceeded) = limits::exceeded(store, limits, &err) {
        let backtrace = err
            .downcast_ref::<wasmtime::WasmBacktrace>()
            .map(|bt| bt.to_string().trim_end().to_owned())
            .filter(|bt| !bt.is_empty())
            .map(GuestBacktrace);
        let code = exceeded.exit_code();
        let limit = RunError::Limit {
            limit: exceeded,
            backtrace,
        };
        return anyhow::Error::new(Diagnosed::new(limit).with_exit_code(code));
    }
    if instantiating {
        instantiate_error(path, err)
    } else {
        guest_error(err)
    }
}
