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

/// Task polls between two looks for new I/O on a worker of [`multi_thread`].
const EVENT_INTERVAL: u32 = 4;

/// A runtime with a worker per core, its threads named `thread_name`, with I/O and timers.
///
/// A worker looks for new I/O (connections, requests) every [`EVENT_INTERVAL`] task polls
/// rather than tokio's 61: a guest that never waits yields only at an epoch tick (10 ms), so
/// with every worker busy with such guests, 61 polls meant the server heard nothing new for
/// over half a second.
pub fn multi_thread(thread_name: &str) -> anyhow::Result<Runtime> {
    Builder::new_multi_thread()
        .enable_all()
        .event_interval(EVENT_INTERVAL)
        .thread_name(thread_name)
        .build()
        .context("cannot start the async runtime")
}
