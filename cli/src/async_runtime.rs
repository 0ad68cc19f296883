//! The tokio runtimes wcomp starts: a current-thread one for a command that waits on the
//! network (registries) or serves one request at a time in-process (`wcomp test`), a
//! multi-threaded one for `wcomp serve`. A leaf: depends on nothing of wcomp's.

use anyhow::Context as _;
use tokio::runtime::{Builder, Runtime};

/// A runtime on the calling thread, with I/O and timers.
pub fn current_thread() -> anyhow::Result<Runtime> {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A runtime with a worker per core, its threads named `thread_name`, with I/O and timers.
pub fn multi_thread(thread_name: &str) -> anyhow::Result<Runtime> {
    Builder::new_multi_thread()
        .enable_all()
        .thread_name(thread_name)
        .build()
        .context("cannot start the async runtime")
}
