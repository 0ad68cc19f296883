//! wcomp: one toolchain for WebAssembly components written in Rust, Go, Python and JavaScript.
//!
//! The binary is a shim over [`main`]. Everything that talks to clap lives in [`cli`] and
//! [`commands`]; the operations underneath (`scaffold`, `lang`, `wit`, `compose`,
//! `runtime`) take plain option structs so they can be driven from tests and other tools.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod async_runtime;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod context;
pub mod deploy;
pub mod diagnostic;
pub mod digest;
pub mod error;
pub mod fsutil;
pub mod lang;
pub mod manifest;
pub mod printer;
pub mod process;
pub mod registry;
pub mod runtime;
pub mod scaffold;
pub mod serve;
pub mod testing;
pub mod units;
pub mod watch;
pub mod wit;
pub mod workspace;

use std::process::ExitCode;

use clap::Parser as _;

pub use context::Context;
pub use error::ExitStatus;

/// Parses the command line, runs the command and renders any error.
pub fn main() -> ExitCode {
    error::install_panic_hook();
    // The hook has reported a panic of this thread; it ends the command with exit code 2.
    std::panic::catch_unwind(run).unwrap_or(ExitCode::from(2))
}

fn run() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return cli::usage_error(&err),
    };
    let ctx = match Context::from_env(cli.global.printer()) {
        Ok(ctx) => ctx,
        Err(err) => return error::report(&printer::Printer::stderr_only(), &err).into(),
    };
    match commands::dispatch(cli.command, &ctx) {
        Ok(status) => status.into(),
        Err(err) => error::report(&ctx.printer, &err).into(),
    }
}
