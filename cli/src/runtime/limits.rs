//! Limits on what a guest may consume: wall-clock time (epoch interruption), fuel (instructions)
//! and memory (a resource limiter over linear memories and tables). Each limit, when hit, ends
//! the guest with its own [`LimitExceeded`] error and exit code instead of a bare trap. The
//! human forms of durations and sizes (`500ms`, `64MiB`) are [`crate::units`]'. It knows
//! nothing about WASI or the command line.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};

use crate::units::{format_duration, format_size, format_size_beside};

/// The limits a run is held to. The default is finite on time and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for instantiation plus the call; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Fuel units (roughly one per WebAssembly instruction); `None` counts nothing, which
    /// keeps the compiled code free of fuel checks.
    pub fuel: Option<u64>,
    /// Bytes of linear memory plus table storage, summed over every memory and table of the
    /// store (a composition has one memory per component).
    pub max_memory: u64,
}

/// 30 seconds: long enough for any interactive run, short enough that a runaway loop ends.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// 1 GiB: more than a componentize-py interpreter needs, far less than a host has.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Some(DEFAULT_TIMEOUT),
            fuel: None,
            max_memory: DEFAULT_MAX_MEMORY,
        }
    }
}

/// Which limit a guest ran into. Carried as the error of the run; each has its own exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum LimitExceeded {
    /// The guest ran longer than `--timeout`.
    #[error("guest exceeded its time limit of {}", format_duration(*limit))]
    #[diagnostic(help(
        "raise it with `--timeout <duration>` (e.g. `--timeout 2m`, or `none`), or `timeout` under `[run]` in wcomp.toml"
    ))]
    Time { limit: Duration },
    /// The guest used all the fuel `--fuel` gave it.
    #[error("guest ran out of fuel after {fuel} units")]
    #[diagnostic(help(
        "raise it with `--fuel <n>`, or `fuel` under `[run]` in wcomp.toml; a unit is about one WebAssembly instruction"
    ))]
    Fuel { fuel: u64 },
    /// A memory or table grew past `--max-memory`.
    #[error(
        "guest exceeded its memory limit of {} (it asked for {} in total)",
        format_size(*limit),
        format_size_beside(*requested)
    )]
    #[diagnostic(help(
        "raise it with `--max-memory <size>` (e.g. `--max-memory 2GiB`), or `max-memory` under `[run]` in wcomp.toml"
    ))]
    Memory { limit: u64, requested: u64 },
}

impl LimitExceeded {
    /// The process exit code for this limit, distinct from guest failures (1) and from each
    /// other, so scripts can tell them apart. 124 is what GNU `timeout` uses.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Memory { .. } => 122,
            Self::Fuel { .. } => 123,
            Self::Time { .. } => 124,
        }
    }
}

/// A [`ResourceLimiter`] holding the store's memories and tables to one byte budget, and
/// remembering what it refused so the run can report the limit instead of the trap.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: u64,
    used: u64,
    exceeded: Option<LimitExceeded>,
}

/// What one table element costs the host (a pointer; see `ResourceLimiter::table_growing`).
const TABLE_ELEMENT_BYTES: u64 = std::mem::size_of::<usize>() as u64;

impl MemoryLimiter {
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            used: 0,
            exceeded: None,
        }
    }

    /// The limit that stopped the guest, if any.
    pub fn exceeded(&self) -> Option<&LimitExceeded> {
        self.exceeded.as_ref()
    }

    /// Bytes granted so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    fn grow(&mut self, extra: u64) -> wasmtime::Result<bool> {
        let requested = self.used.saturating_add(extra);
        if requested > self.limit {
            let exceeded = LimitExceeded::Memory {
                limit: self.limit,
                requested,
            };
            self.exceeded = Some(exceeded.clone());
            // An error (rather than `Ok(false)`, which makes `memory.grow` return -1) ends the
            // guest right where it asked, with a backtrace to the allocation.
            return Err(wasmtime::Error::new(exceeded));
        }
        self.used = requested;
        Ok(true)
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(desired.saturating_sub(current) as u64)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // The host could not provide what was granted; the guest sees `memory.grow` fail.
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow((desired.saturating_sub(current) as u64).saturating_mul(TABLE_ELEMENT_BYTES))
    }
}

/// State a store needs to enforce [`Limits`]: implemented by the host state.
pub trait LimitedHost: Send + 'static {
    fn limiter(&mut self) -> &mut MemoryLimiter;
    /// Where the epoch callback records that time ran out.
    fn time_exceeded(&mut self) -> &mut Option<LimitExceeded>;
}

/// Called when a guest is still running [`OVERDUE_GRACE`] after its time limit: it is blocked
/// in a host call (a sleep, a read) where epoch interruption cannot reach it.
pub type Overdue = Box<dyn FnOnce() + Send>;

/// How long after its deadline a guest may take to reach an interruption point.
pub const OVERDUE_GRACE: Duration = Duration::from_secs(1);

/// Applies `limits` to a fresh store: the memory limiter, fuel, and a time deadline. The
/// returned [`Deadline`] must live as long as the guest runs; dropping it stops its timer.
pub fn apply<T: LimitedHost>(
    store: &mut Store<T>,
    limits: &Limits,
    overdue: Option<Overdue>,
) -> anyhow::Result<Option<Deadline>> {
    store.limiter(|host| host.limiter());
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel)?;
    }
    match limits.timeout {
        None => {
            // Epoch interruption is always compiled in (one code cache for every timeout); a
            // deadline that never arrives turns it off.
            store.set_epoch_deadline(u64::MAX);
            Ok(None)
        }
        Some(limit) => {
            let deadline = Deadline::start(store.engine(), limit, overdue);
            let at = deadline.at;
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |mut context| {
                // Another run sharing the engine may have ticked the epoch: only our own
                // deadline ends this guest.
                if Instant::now() < at {
                    return Ok(UpdateDeadline::Continue(1));
                }
                let exceeded = LimitExceeded::Time { limit };
                *context.data_mut().time_exceeded() = Some(exceeded.clone());
                Err(wasmtime::Error::new(exceeded))
            });
            Ok(Some(deadline))
        }
    }
}

/// Applies `limits` to a fresh store whose engine's epoch someone else ticks regularly (a
/// server's ticker): the memory limiter, fuel, and a deadline checked on every tick, which
/// ends the guest with [`LimitExceeded::Time`] once passed. A guest blocked in a host call
/// is not reached by ticks; an async caller bounds it with its own timer.
pub fn apply_ticked<T: LimitedHost>(store: &mut Store<T>, limits: &Limits) -> anyhow::Result<()> {
    store.limiter(|host| host.limiter());
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel)?;
    }
    match limits.timeout {
        // No deadline, but still a yield on every tick: a guest that never waits must not
        // hold a thread of the runtime for ever.
        None => yield_on_ticks(store),
        Some(limit) => {
            let at = Instant::now() + limit;
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |mut context| {
                if Instant::now() < at {
                    // Yield to the runtime on every tick: other requests share its threads.
                    return Ok(UpdateDeadline::Yield(1));
                }
                let exceeded = LimitExceeded::Time { limit };
                *context.data_mut().time_exceeded() = Some(exceeded.clone());
                Err(wasmtime::Error::new(exceeded))
            });
        }
    }
    Ok(())
}

/// Limits for a store whose instance serves several requests (`wcomp serve --reuse`): memory
/// and fuel as [`apply_ticked`], but no deadline of the store's own (the server times each
/// request and retires an instance one of whose requests ran out of time), and a yield on every
/// epoch tick, so a guest that never waits still lets the server notice.
pub fn apply_yielding<T: LimitedHost>(store: &mut Store<T>, limits: &Limits) -> anyhow::Result<()> {
    store.limiter(|host| host.limiter());
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel)?;
    }
    yield_on_ticks(store);
    Ok(())
}

/// Lets the guest of `store` run on, yielding to the runtime at every epoch tick.
fn yield_on_ticks<T>(store: &mut Store<T>) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
}

/// Which limit, if any, explains `err`, given the store that ran the guest.
pub fn exceeded<T: LimitedHost>(
    store: &mut Store<T>,
    limits: &Limits,
    err: &wasmtime::Error,
) -> Option<LimitExceeded> {
    if let Some(exceeded) = store.data_mut().time_exceeded().clone() {
        return Some(exceeded);
    }
    if let Some(exceeded) = store.data_mut().limiter().exceeded() {
        return Some(exceeded.clone());
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => Some(LimitExceeded::Fuel {
            fuel: limits.fuel.unwrap_or_default(),
        }),
        Some(wasmtime::Trap::Interrupt) => {
            limits.timeout.map(|limit| LimitExceeded::Time { limit })
        }
        _ => None,
    }
}

/// A timer that advances the engine's epoch once the time limit has passed, waking the
/// guest's epoch check. One thread per run, parked until the deadline and woken as soon as the
/// run ends ([`Deadline::stop`], or dropping it) rather than sleeping out the whole limit.
///
/// The thread is never joined, but a process cannot end before all its threads have: one still
/// parked when `wcomp run` exits must first be woken and scheduled to die, and the exit waits
/// for it (a median 1.3 ms of a 5.8 ms warm `wcomp run` on 2 cores at a load of 4, 3 ms at a
/// load of 7). So a run stops its timer the moment its guest is done ([`Deadline::stop`]): the
/// thread ends on the other core while the results are printed.
pub struct Deadline {
    at: Instant,
    timer: Option<Timer>,
}

/// The timer thread of a [`Deadline`], and how to stop it.
struct Timer {
    stop: Arc<AtomicBool>,
    thread: std::thread::Thread,
}

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deadline").field("at", &self.at).finish()
    }
}

impl Deadline {
    fn start(engine: &Engine, limit: Duration, overdue: Option<Overdue>) -> Self {
        let at = Instant::now() + limit;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let engine = engine.clone();
        let spawned = std::thread::Builder::new()
            .name("wcomp-deadline".into())
            .spawn(move || {
                if wait_until(at, &stopped) {
                    engine.increment_epoch();
                    if wait_until(at + OVERDUE_GRACE, &stopped)
                        && let Some(overdue) = overdue
                    {
                        overdue();
                    }
                }
            });
        // Without a thread (the system refused one) the limit cannot be enforced; the guest
        // still runs, as it would with `--timeout none`.
        Self {
            at,
            timer: spawned.ok().map(|handle| Timer {
                stop,
                thread: handle.thread().clone(),
            }),
        }
    }

    /// Ends the timer now: the guest will not run again. (Dropping the deadline does the same;
    /// this is for a guest that is left to the end of the process instead of dropped.)
    pub fn stop(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.stop.store(true, Ordering::Release);
            timer.thread.unpark();
        }
    }
}

/// Parks the calling thread until `at` (`true`) or until `stop` is set (`false`).
fn wait_until(at: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Acquire) {
            return false;
        }
        let now = Instant::now();
        if now >= at {
            return true;
        }
        std::thread::park_timeout(at - now);
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Ticks an engine's epoch every [`TICK`] until dropped, so the deadline of every guest that
/// engine runs is checked on each tick ([`apply_ticked`]): the one ticker of an engine that
/// runs many guests at once (`wcomp serve`). A single run uses its own [`Deadline`] instead.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often guests' time limits are checked.
const TICK: Duration = Duration::from_millis(10);

impl EpochTicker {
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("wcomp-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deadline whose overdue callback reports on a channel; the channel closes when the
    /// timer thread ends (it drops the callback).
    fn deadline(limit: Duration) -> (Deadline, std::sync::mpsc::Receiver<()>) {
        let engine = Engine::new(wasmtime::Config::new().epoch_interruption(true)).unwrap();
        let (overdue, called) = std::sync::mpsc::channel();
        let deadline = Deadline::start(
            &engine,
            limit,
            Some(Box::new(move || overdue.send(()).unwrap())),
        );
        (deadline, called)
    }

    #[test]
    fn a_guest_still_running_after_its_deadline_is_overdue() {
        let (_deadline, called) = deadline(Duration::from_millis(1));
        assert_eq!(called.recv_timeout(Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn a_stopped_deadline_ends_its_timer_at_once() {
        let (mut deadline, called) = deadline(Duration::from_secs(3600));
        deadline.stop();
        // Disconnected, not timed out: the thread ended without calling it.
        assert_eq!(
            called.recv_timeout(Duration::from_secs(60)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
    }

    #[test]
    fn the_limiter_sums_every_memory() {
        let mut limiter = MemoryLimiter::new(10 << 16);
        assert!(limiter.memory_growing(0, 4 << 16, None).unwrap());
        assert!(limiter.memory_growing(0, 4 << 16, None).unwrap());
        assert!(limiter.memory_growing(4 << 16, 7 << 16, None).is_err());
        assert_eq!(
            limiter.exceeded(),
            Some(&LimitExceeded::Memory {
                limit: 10 << 16,
                requested: 11 << 16
            })
        );
    }
}
