//! Limits on what a guest may consume: wall-clock time (epoch interruption), fuel (instructions)
//! and memory (a resource limiter over linear memories and tables). Each limit, when hit, ends
//! the guest with its own [`LimitExceeded`] error and exit code instead of a bare trap. This
//! module also parses the human forms the CLI and `wcomp.toml` accept (`500ms`, `64MiB`).
//! It knows nothing about WASI or the command line.

use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};

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

/// Errors in how a limit was written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LimitError {
    /// Not a duration.
    #[error("invalid duration `{text}`")]
    #[diagnostic(help(
        "write a number with a unit: `500ms`, `1s`, `2m`, `1h` (or `none` for no limit)"
    ))]
    Duration { text: String },
    /// Not a size.
    #[error("invalid size `{text}`")]
    #[diagnostic(help(
        "write a number with a unit: `64MiB`, `1GiB`, `512KiB` (plain numbers are bytes)"
    ))]
    Size { text: String },
}

/// Parses `500ms`, `1s`, `1.5s`, `2m`, `1h`, `250us`; `none`, `off` and `0` mean no limit.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, LimitError> {
    let trimmed = text.trim();
    if matches!(trimmed, "none" | "off" | "0") {
        return Ok(None);
    }
    parse_duration(trimmed).map(Some)
}

/// Parses a duration with a unit (see [`parse_timeout`]).
pub fn parse_duration(text: &str) -> Result<Duration, LimitError> {
    let error = || LimitError::Duration {
        text: text.to_owned(),
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(error)?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| error())?;
    let seconds = match unit.trim() {
        "ns" => value / 1e9,
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" | "sec" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(error()),
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(error)
}

/// Parses `64MiB`, `1GiB`, `512KiB`, `1GB`, `64M` (binary), or a plain number of bytes.
pub fn parse_size(text: &str) -> Result<u64, LimitError> {
    let error = || LimitError::Size {
        text: text.to_owned(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.parse().map_err(|_| error())?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        _ => return Err(error()),
    };
    let bytes = value * scale;
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(error());
    }
    Ok(bytes as u64)
}

/// `1s`, `500ms`, `2m`, `1m 30s`: the shortest exact form.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return format!("{}µs", duration.as_micros());
    }
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    let seconds = millis / 1000;
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h {m}m {s}s"),
    }
}

/// `64 MiB`, `1 GiB`, `1.5 KiB`, `12 B`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `bytes` in MiB (or KiB below one MiB) with a decimal, fine enough to differ visibly from a
/// round limit just below it.
fn format_size_beside(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    if kib >= 1024.0 {
        format!("{:.1} MiB", kib / 1024.0)
    } else {
        format!("{kib:.1} KiB")
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
/// guest's epoch check. One thread per run, parked on a channel so it ends as soon as the
/// run does rather than sleeping out the whole limit.
pub struct Deadline {
    at: Instant,
    stop: Option<mpsc::Sender<()>>,
}

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deadline").field("at", &self.at).finish()
    }
}

impl Deadline {
    fn start(engine: &Engine, limit: Duration, overdue: Option<Overdue>) -> Self {
        let at = Instant::now() + limit;
        let (stop, stopped) = mpsc::channel::<()>();
        let engine = engine.clone();
        let spawned = std::thread::Builder::new()
            .name("wcomp-deadline".into())
            .spawn(move || {
                let timed_out = |wait| {
                    matches!(
                        stopped.recv_timeout(wait),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    )
                };
                if timed_out(at.saturating_duration_since(Instant::now())) {
                    engine.increment_epoch();
                    if timed_out(OVERDUE_GRACE)
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
            stop: spawned.is_ok().then_some(stop),
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(
            parse_timeout("500ms").unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_timeout("1s").unwrap(), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_timeout("1.5s").unwrap(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_timeout("2m").unwrap(), Some(Duration::from_secs(120)));
        assert_eq!(parse_timeout("none").unwrap(), None);
        assert!(parse_timeout("10").is_err());
        assert!(parse_timeout("1 fortnight").is_err());
        assert!(parse_timeout("-1s").is_err());
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("1gb").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn formats_for_messages() {
        assert_eq!(format_duration(Duration::from_secs(1)), "1s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m 30s");
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size_beside((1 << 30) + (1 << 20)), "1025.0 MiB");
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
