//! The wasmtime engine and the host state every guest gets: WASI 0.2 with inherited stdio, the
//! given arguments, and no filesystem, environment or network.

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Per-store host state.
pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// An engine configured for components with guest backtraces.
pub fn new_engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    Ok(Engine::new(&config)?)
}

/// A store whose guest sees `argv` and stdio, and a linker with WASI 0.2.
pub fn store_and_linker(
    engine: &Engine,
    argv: &[String],
) -> anyhow::Result<(Store<Host>, Linker<Host>)> {
    let wasi = WasiCtx::builder().inherit_stdio().args(argv).build();
    let store = Store::new(
        engine,
        Host {
            wasi,
            table: ResourceTable::new(),
        },
    );
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    Ok((store, linker))
}
