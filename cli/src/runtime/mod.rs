//! Running components on an embedded wasmtime with WASI 0.2: `wasi:cli/run` commands, or one
//! exported function called with WAVE arguments (the syntax of `wasmtime run --invoke`).
//! The guest gets nothing beyond stdio and the arguments it is given.

pub mod engine;
pub mod invoke;

use std::path::PathBuf;

use anyhow::Context as _;
use wasmtime::component::{Component, Val};

pub use engine::Host;
pub use invoke::{Call, InvokeError};

/// Errors from running a guest.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunError {
    /// The file is not a component.
    #[error("`{path}` is not a WebAssembly component")]
    #[diagnostic(help("{advice}"))]
    NotAComponent { path: PathBuf, advice: String },
    /// The component needs an import nobody provides.
    #[error("cannot instantiate `{path}`")]
    #[diagnostic(help(
        "the component imports something the host does not provide; compose it with the component that exports it (`wcomp compose <this> --plug <provider>`)"
    ))]
    Instantiate {
        path: PathBuf,
        #[source]
        source: anyhow::Error,
    },
    /// Without `--invoke`, the component must be a command.
    #[error("`{path}` does not export `wasi:cli/run`, so it cannot run as a command")]
    #[diagnostic(help("call one of its functions with `--invoke`, e.g. `--invoke '{example}'`"))]
    NotACommand { path: PathBuf, example: String },
    /// The guest trapped.
    #[error("the guest trapped: {message}{}", backtrace.as_deref().map(|bt| format!("\n{bt}")).unwrap_or_default())]
    Trap {
        message: String,
        backtrace: Option<String>,
    },
}

/// What `wcomp run` should do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub component: PathBuf,
    /// A WAVE call such as `render("hi")`; `None` runs `wasi:cli/run`.
    pub invoke: Option<String>,
    /// Arguments after `--`, visible to the guest after its own name.
    pub args: Vec<String>,
}

/// How a run ended.
#[derive(Debug)]
pub enum RunOutcome {
    /// `--invoke` returned these values, one WAVE string each.
    Returned(Vec<String>),
    /// `wasi:cli/run` finished with this exit code.
    Exited(i32),
}

/// Loads, instantiates and runs a component.
pub fn run(options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let bytes = load(&options.component)?;
    if !wasmparser::Parser::is_component(&bytes) {
        let advice = if bytes.starts_with(b"\0asm") {
            "this is a core module; build a component (`wcomp build`) or wrap it with `wasm-tools component new`"
        } else {
            "this is not WebAssembly at all; pass a `.wasm` component"
        };
        return Err(RunError::NotAComponent {
            path: options.component.clone(),
            advice: advice.into(),
        }
        .into());
    }
    let engine = engine::new_engine()?;
    let component = Component::new(&engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile `{}`", options.component.display()))?;
    let program = options.component.file_name().map_or_else(
        || "component".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut argv = vec![program];
    argv.extend(options.args.iter().cloned());

    match &options.invoke {
        Some(source) => {
            let call = Call::parse(source)?;
            let target = invoke::find_function(&engine, &component, &call)?;
            let (mut store, linker) = engine::store_and_linker(&engine, &argv)?;
            let instance = linker
                .instantiate(&mut store, &component)
                .map_err(|err| instantiate_error(&options.component, err))?;
            let func = target.func(&instance, &mut store)?;
            let ty = func.ty(&store);
            let params = call.params(&ty, &target.qualified_name)?;
            let mut results = vec![Val::Bool(false); ty.results().len()];
            func.call(&mut store, &params, &mut results)
                .map_err(guest_error)?;
            let rendered = results
                .iter()
                .map(|val| {
                    val.to_wave()
                        .map_err(anyhow::Error::from)
                        .context("cannot print a result as WAVE")
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(RunOutcome::Returned(rendered))
        }
        None => {
            let (mut store, linker) = engine::store_and_linker(&engine, &argv)?;
            let has_run = component
                .component_type()
                .exports(&engine)
                .any(|(name, _)| name.starts_with("wasi:cli/run@"));
            if !has_run {
                let example =
                    invoke::example_call(&engine, &component).unwrap_or_else(|| "func()".into());
                return Err(RunError::NotACommand {
                    path: options.component.clone(),
                    example,
                }
                .into());
            }
            let command = wasmtime_wasi::p2::bindings::sync::Command::instantiate(
                &mut store, &component, &linker,
            )
            .map_err(|err| instantiate_error(&options.component, err))?;
            match command.wasi_cli_run().call_run(&mut store) {
                Ok(Ok(())) => Ok(RunOutcome::Exited(0)),
                Ok(Err(())) => Ok(RunOutcome::Exited(1)),
                Err(err) => match err.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    Some(exit) => Ok(RunOutcome::Exited(exit.0)),
                    None => Err(guest_error(err)),
                },
            }
        }
    }
}

/// Reads a component, accepting the WebAssembly text format for `.wat` files.
fn load(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let bytes = fs_err::read(path)?;
    if path.extension().is_some_and(|ext| ext == "wat") {
        let binary = wat::parse_bytes(&bytes).map_err(|mut err| {
            err.set_path(path);
            anyhow::Error::new(err).context(format!(
                "`{}` is not valid WebAssembly text",
                path.display()
            ))
        })?;
        return Ok(binary.into_owned());
    }
    Ok(bytes)
}

fn instantiate_error(path: &std::path::Path, err: wasmtime::Error) -> anyhow::Error {
    if err.downcast_ref::<wasmtime::Trap>().is_some() {
        return guest_error(err);
    }
    RunError::Instantiate {
        path: path.to_owned(),
        source: err.into(),
    }
    .into()
}

/// Turns a trap into [`RunError::Trap`] with the guest backtrace; other errors pass through.
fn guest_error(err: wasmtime::Error) -> anyhow::Error {
    let Some(trap) = err.downcast_ref::<wasmtime::Trap>() else {
        return err.into();
    };
    let backtrace = err
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string());
    let message = trap.to_string();
    let mut root = err.root_cause().to_string();
    if root == message {
        root.clear();
    }
    let message = if root.is_empty() {
        message
    } else {
        format!("{message} ({root})")
    };
    RunError::Trap { message, backtrace }.into()
}
