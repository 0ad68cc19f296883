//! Instances that may serve more than one request: WASI 0.3 handlers (`wasi:http/handler`,
//! whose calls are `async` and may overlap in one instance) and, under `--reuse`, 0.2 ones.
//! Requests go to wasmtime-wasi-http's `ProxyHandler`, whose workers each own one store and
//! instance and drive it on the store's event loop, the response body included; this module
//! says when a worker takes another request, how long a request may take, and when an idle
//! instance is let go.
//!
//! How many requests an instance answers ([`ReuseChoice`]): a 0.2 handler gets a fresh
//! instance for every request unless `--reuse` says otherwise; a 0.3 handler, written for an
//! instance that answers requests concurrently, is reused for up to 128 requests, 16 at a time
//! (the defaults of wasmtime and Spin), unless `--reuse 1` asks for a fresh one per request.
//! Reuse trades isolation — what one request leaves in memory, the next one sees, and a trap
//! ends the requests that shared its instance — for the instantiation it saves: measured in
//! `benches/serve.sh`, 2× the requests per second for a Rust handler and 15× for a Python one.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::oneshot;
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};

use super::log::Stats;
use super::metrics::{Held, Metrics};
use crate::runtime::{Host, LimitExceeded, RunError, Session};

/// How many requests one instance answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    /// Requests one instance answers before it is dropped (`--reuse`); 1 is a fresh instance
    /// per request.
    pub requests: usize,
    /// Requests one instance answers at once (`--concurrent`); only WASI 0.3 handlers can
    /// take more than one.
    pub concurrent: usize,
}

impl Reuse {
    /// A fresh instance for every request.
    pub const FRESH: Self = Self {
        requests: 1,
        concurrent: 1,
    };

    /// Requests one WASI 0.3 instance answers by default (wasmtime's and Spin's default).
    pub const DEFAULT_REQUESTS: usize = 128;

    /// Requests one WASI 0.3 instance answers at once by default (wasmtime's and Spin's).
    pub const DEFAULT_CONCURRENT: usize = 16;

    pub fn is_fresh(&self) -> bool {
        self.requests <= 1
    }
}

/// What `--reuse` and `--concurrent` (or `[serve] reuse` and `concurrent`) say; `None` where
/// they say nothing. The defaults depend on the handler's WASI version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReuseChoice {
    pub requests: Option<usize>,
    pub concurrent: Option<usize>,
}

impl ReuseChoice {
    /// For a WASI 0.2 handler: a fresh instance per request unless `--reuse`; one request at
    /// a time (its `handle` is not async).
    pub fn for_p2(self) -> Reuse {
        Reuse {
            requests: self.requests.unwrap_or(1).max(1),
            concurrent: 1,
        }
    }

    /// For a WASI 0.3 handler: up to [`Reuse::DEFAULT_REQUESTS`] requests per instance,
    /// [`Reuse::DEFAULT_CONCURRENT`] at once, never more at once than in all.
    pub fn for_p3(self) -> Reuse {
        let requests = self.requests.unwrap_or(Reuse::DEFAULT_REQUESTS).max(1);
        Reuse {
            requests,
            concurrent: self
                .concurrent
                .unwrap_or(Reuse::DEFAULT_CONCURRENT)
                .clamp(1, requests),
        }
    }
}

/// How long an instance kept for reuse may sit idle before it is dropped (wasmtime's
/// default): long enough to carry a burst, short enough that a quiet server holds no memory.
const IDLE: Duration = Duration::from_secs(1);

/// What `ProxyHandler` asks of wcomp: instances from the session, with its sandbox and limits.
pub struct Workers {
    session: Arc<Session>,
    pre: ProxyPre<Host>,
    reuse: Reuse,
    /// The server's figures: each instance's instantiation time and memory go here.
    stats: Arc<Mutex<Stats>>,
    metrics: Arc<Metrics>,
}

impl Workers {
    pub fn new(
        session: Arc<Session>,
        pre: ProxyPre<Host>,
        reuse: Reuse,
        stats: Arc<Mutex<Stats>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            session,
            pre,
            reuse,
            stats,
            metrics,
        }
    }

    pub fn reuse(&self) -> Reuse {
        self.reuse
    }

    /// Whether the instances are WASI 0.3 handlers.
    pub fn is_p3(&self) -> bool {
        matches!(self.pre, ProxyPre::P3(_))
    }
}

impl HandlerState for Workers {
    type StoreData = Host;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<Host, Expiry, Worker>> {
        // A fresh instance keeps the per-guest deadline of 0.2's path; a shared one is
        // timed per request instead (see `Worker::on_request_start`).
        let store = if self.reuse.is_fresh() {
            self.session.async_store(crate::runtime::GuestIo::Inherit)
        } else {
            self.session.shared_store()
        };
        let mut store: Store<Host> = store.map_err(wasmtime::Error::from_anyhow)?;
        let started = Instant::now();
        let proxy = self.pre.instantiate_async(&mut store).await?;
        let instantiated = started.elapsed();
        let timeout = self.session.limits().timeout;
        Ok(Instance {
            store,
            proxy,
            view: Host::http,
            expiration: Expiry {
                timeout,
                timer: None,
            },
            state: Worker {
                reuse: self.reuse,
                timeout,
                stats: self.stats.clone(),
                waiting: Mutex::default(),
                instantiated: Mutex::new(Some(instantiated)),
                _alive: Metrics::hold(&self.metrics.instances),
            },
        })
    }
}

/// One instance's rules: how many requests it takes, and how long each may run.
pub struct Worker {
    reuse: Reuse,
    timeout: Option<Duration>,
    stats: Arc<Mutex<Stats>>,
    /// Requests this instance took whose callers may still want to hear of a failure.
    waiting: Mutex<Vec<FailureReport>>,
    /// How long the instance took to make, until its first request is told.
    instantiated: Mutex<Option<Duration>>,
    /// Counts the instance as alive for as long as it is.
    _alive: Held,
}

/// What a worker tells the request it takes: how long its instance took to make (to the
/// instance's first request only), and, should the instance fail, how. `ProxyHandler` answers
/// the requests of an instance that trapped with a bare "worker trapped or panicked"; the trap
/// itself reaches [`WorkerState::drop`], which sends it on to every request still waiting.
#[derive(Debug)]
pub struct RequestLink {
    pub instantiated: oneshot::Sender<Duration>,
    pub failure: FailureReport,
}

/// Where a worker tells a request how its instance failed.
pub type FailureReport = oneshot::Sender<Failure>;

/// Why a request got no response from its instance.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    /// The guest's trap or the limit it hit, in the words of `wcomp run`.
    pub error: Option<String>,
    /// The guest answered with this `wasi:http` error code.
    pub error_code: Option<String>,
    /// The request ran out of time.
    pub timed_out: bool,
}

impl Failure {
    /// `504` for a request out of time, `503` when the instance pool is full, `500` (with
    /// the trap, the limit or the error code) for anything else.
    pub fn of(err: wasmtime::Error) -> Self {
        use wasmtime_wasi_http::handler::ExpirationError;
        use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;
        let limit = err
            .chain()
            .find_map(|cause| cause.downcast_ref::<LimitExceeded>())
            .cloned();
        let expired = err.chain().any(|cause| cause.is::<ExpirationError>());
        let mut failure = Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: None,
            error_code: None,
            timed_out: false,
        };
        if expired || matches!(limit, Some(LimitExceeded::Time { .. })) {
            failure.status = StatusCode::GATEWAY_TIMEOUT;
            failure.timed_out = true;
        } else if let Some(code) = err.downcast_ref::<ErrorCode>() {
            failure.error_code = Some(format!("{code:?}"));
        } else if let Some(limit) = limit {
            failure.error = Some(
                RunError::Limit {
                    limit,
                    backtrace: None,
                }
                .to_string(),
            );
        } else if err
            .chain()
            .any(|cause| cause.is::<wasmtime::PoolConcurrencyLimitError>())
        {
            failure.status = StatusCode::SERVICE_UNAVAILABLE;
            failure.error = Some(format!("{err:#}"));
        } else {
            failure.error = Some(format!("{:#}", crate::runtime::guest_error(err)));
        }
        failure
    }
}

impl WorkerState for Worker {
    type StoreData = Host;
    type RequestData = RequestLink;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.reuse.requests {
            ShouldAccept::Never
        } else if concurrent >= self.reuse.concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, Host>,
        link: RequestLink,
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        if let Some(instantiated) = self.instantiated.lock().ok().and_then(|mut i| i.take()) {
            let _ = link.instantiated.send(instantiated);
        }
        if let Ok(mut waiting) = self.waiting.lock() {
            // Answered requests stop listening; at most `--concurrent` are kept.
            waiting.retain(|report| !report.is_closed());
            waiting.push(link.failure);
        }
        match self.timeout {
            Some(limit) => Box::pin(tokio::time::sleep(limit)),
            None => Box::pin(std::future::pending()),
        }
    }

    fn drop(&self, store: Store<Host>, result: wasmtime::Result<()>) {
        if let Ok(mut stats) = self.stats.lock() {
            stats.add_instance(None, Some(store.data().memory_used()));
        }
        let Err(err) = result else {
            return;
        };
        let failure = Failure::of(err);
        let waiting = self
            .waiting
            .lock()
            .map(|mut waiting| std::mem::take(&mut *waiting))
            .unwrap_or_default();
        for report in waiting {
            let _ = report.send(failure.clone());
        }
    }
}

/// When a worker's instance is dropped from outside its event loop: a request (or the work
/// after its response) past the time limit — a guest spinning on the CPU never lets the loop
/// see its own expiry — or an instance idle for [`IDLE`].
pub struct Expiry {
    timeout: Option<Duration>,
    /// The moment the timer is set for, and the timer.
    timer: Option<(Instant, Pin<Box<tokio::time::Sleep>>)>,
}

impl WorkerExpiration for Expiry {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        state: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let this = self.get_mut();
        let limit = match state {
            WorkerStatus::Idle => Some(IDLE),
            WorkerStatus::Requests | WorkerStatus::PostReturn => this.timeout,
        };
        let Some(limit) = limit else {
            return Poll::Pending;
        };
        let at = start + limit;
        if Instant::now() >= at {
            return Poll::Ready(());
        }
        if this.timer.as_ref().map(|(when, _)| *when) != Some(at) {
            this.timer = Some((at, Box::pin(tokio::time::sleep_until(at.into()))));
        }
        match &mut this.timer {
            Some((_, sleep)) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}
