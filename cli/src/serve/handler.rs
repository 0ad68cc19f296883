//! One request: a fresh store and instance of the component (from one `ProxyPre`), the
//! guest's `wasi:http/incoming-handler` called with it (or, for a WASI 0.3 handler or under
//! `--reuse`, the request handed to an instance of [`super::workers`]), and its answer — or,
//! when the guest does not answer properly, wcomp's: `400` without a `Host`, `413` for a body over the
//! limit, `503` when every instance slot is busy and the queue is full, `504` when the guest
//! runs out of time, `500` (with the request id) when it traps or hits another limit. The
//! guest's failure never reaches anything but its own request.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use wasmtime_wasi_http::Error as HttpError;
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::handler::TrapOrPanicError;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};

use super::body::{Counted, Outcome, ResponseBody, sent_outcome, text};
use super::fault;
use super::log::{AccessRecord, Stats};
use super::metrics::{Held, Metrics};
use super::workers::{Failure, RequestLink, Reuse, Workers};
use crate::runtime::{GuestIo, Host, LimitExceeded, RunError, Session};

/// How requests are admitted and bounded.
#[derive(Debug, Clone)]
pub struct Admission {
    /// Guests running at once.
    pub max_concurrency: usize,
    /// Requests that may wait for a guest slot; beyond this, `503` at once.
    pub queue: usize,
    /// How long a request waits for a slot before `503`.
    pub queue_timeout: Duration,
    /// Largest request body accepted (`413` beyond).
    pub max_body: u64,
}

/// What answers requests: a fresh instance per request on wcomp's own path (WASI 0.2), or
/// wasmtime-wasi-http's workers (WASI 0.3, and reuse).
pub enum Guests {
    Fresh(ProxyPre<Host>),
    Workers(wasmtime_wasi_http::handler::ProxyHandler<Workers>),
}

/// What serves requests: the session (engine, sandbox, limits), its guests, admission and
/// the access log.
pub struct Handler {
    session: Arc<Session>,
    guests: Guests,
    admission: Admission,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    next_id: AtomicU64,
    log: SharedLog,
    pub(super) stats: Arc<Mutex<Stats>>,
    metrics: Arc<Metrics>,
    /// Whatever must live as long as the handler (the epoch ticker of its engine), so a
    /// request still running on a swapped-out handler keeps its deadline.
    _keep_alive: Option<Box<dyn Send + Sync>>,
}

/// The access log, shared by every handler a server swaps in.
pub type SharedLog = Arc<dyn Fn(&AccessRecord) + Send + Sync>;

/// How a guest's run for one request went.
#[derive(Debug, Default)]
struct GuestReport {
    instantiate: Option<Duration>,
    guest: Duration,
    /// Unknown for a worker's instance, which may serve several requests at once.
    memory: Option<u64>,
    error: Option<anyhow::Error>,
    timed_out: bool,
}

impl Handler {
    pub fn new(
        session: Arc<Session>,
        guests: Guests,
        admission: Admission,
        log: SharedLog,
        stats: Arc<Mutex<Stats>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(admission.max_concurrency)),
            session,
            guests,
            admission,
            waiting: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            log,
            stats,
            metrics,
            _keep_alive: None,
        }
    }

    /// Keeps `value` alive as long as this handler.
    pub(super) fn keep(mut self, value: impl Send + Sync + 'static) -> Self {
        self._keep_alive = Some(Box::new(value));
        self
    }

    /// One line on how instances serve requests, and what the other choice would trade.
    pub fn instances_note(&self) -> String {
        let version = match &self.guests {
            Guests::Fresh(_) => "0.2",
            Guests::Workers(workers) if workers.state().is_p3() => "0.3",
            Guests::Workers(_) => "0.2",
        };
        let reuse = self.reuse();
        match &self.guests {
            Guests::Workers(_) if !reuse.is_fresh() => format!(
                "instances: WASI {version} handler; one instance answers up to {} requests, {} at a time (`--reuse`, `--concurrent`): faster, but what one request leaves in memory the next one sees, and a trap ends the requests that share its instance; `--reuse 1` gives each request its own",
                reuse.requests, reuse.concurrent
            ),
            _ => format!(
                "instances: WASI {version} handler; a fresh instance for every request, so no request sees another's state; `--reuse <n>` lets one instance answer several, for throughput"
            ),
        }
    }

    /// How many requests an instance answers, and how many at once.
    pub fn reuse(&self) -> Reuse {
        match &self.guests {
            Guests::Fresh(_) => Reuse::FRESH,
            Guests::Workers(workers) => workers.state().reuse(),
        }
    }

    pub fn engine(&self) -> &wasmtime::Engine {
        self.session.engine()
    }

    /// Answers `request` with a fresh instance of the component. A panic while answering it
    /// ends this request alone: a `500` whose log line says so, with the request id.
    pub async fn handle<B>(self: &Arc<Self>, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<HttpError>,
    {
        let started = Instant::now();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let record = AccessRecord::new(id, &request);
        let unanswered = Unanswered {
            handler: self.clone(),
            record: Some(record.clone()),
            started,
        };
        let answered = AssertUnwindSafe(self.answer_request(request, record.clone(), started))
            .catch_unwind()
            .await;
        unanswered.answered();
        answered.unwrap_or_else(|payload| {
            let mut record = record;
            record.error = Some(panicked(&*payload));
            self.answer(
                record,
                started,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error: the server failed while answering this request; it goes on serving others\n",
            )
        })
    }

    async fn answer_request<B>(
        self: &Arc<Self>,
        request: Request<B>,
        mut record: AccessRecord,
        started: Instant,
    ) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<HttpError>,
    {
        fault::inject(&request, fault::Fault::Panic);
        if request.uri().authority().is_none()
            && !request.headers().contains_key(http::header::HOST)
        {
            return self.answer(
                record,
                started,
                StatusCode::BAD_REQUEST,
                "the request has no `Host` header\n",
            );
        }
        // RFC 9112 §3.2: a request with more than one `Host` is answered 400.
        if request
            .headers()
            .get_all(http::header::HOST)
            .iter()
            .nth(1)
            .is_some()
        {
            return self.answer(
                record,
                started,
                StatusCode::BAD_REQUEST,
                "the request has more than one `Host` header\n",
            );
        }
        // A tunnel, which no `wasi:http` handler can serve: refused before any guest runs.
        if request.method() == http::Method::CONNECT {
            return self.answer(
                record,
                started,
                StatusCode::METHOD_NOT_ALLOWED,
                "CONNECT is not served here\n",
            );
        }
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.admission.max_body) {
            record.note = Some(format!(
                "body over the {} limit",
                crate::units::format_size(self.admission.max_body)
            ));
            return self.answer(
                record,
                started,
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than this server accepts\n",
            );
        }
        let Some(permit) = self.admit().await else {
            record.note = Some("every instance slot busy and the queue full".to_owned());
            return self.answer(
                record,
                started,
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is busy; try again\n",
            );
        };

        let too_large = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| limited(body, self.admission.max_body, too_large.clone()));
        if let Guests::Workers(workers) = &self.guests {
            let request = request.map(BodyExt::boxed_unsync);
            let response = self
                .by_worker(workers, request, record, started, &too_large)
                .await;
            drop(permit);
            return response;
        }
        let (response_tx, response_rx) = oneshot::channel();
        let (outcome_tx, outcome_rx) = oneshot::channel();
        let (report_tx, report_rx) = oneshot::channel();
        let handler = self.clone();
        let fault = fault::requested(&request, fault::Fault::PanicInGuestTask);
        tokio::spawn(async move {
            let run = async {
                assert!(!fault, "injected fault: a panic in a guest's task");
                handler.run_guest(request, response_tx).await
            };
            let report = AssertUnwindSafe(run)
                .catch_unwind()
                .await
                .unwrap_or_else(|payload| GuestReport {
                    error: Some(anyhow::anyhow!(panicked(&*payload))),
                    ..GuestReport::default()
                });
            let ok = report.error.is_none() && !report.timed_out;
            drop(permit);
            // The report first: a response body waits for the outcome before it ends, and
            // its log line then finds the report.
            let _ = report_tx.send(report);
            let _ = outcome_tx.send(ok);
        });

        match response_rx.await {
            Ok(Ok(response)) if !too_large.load(Ordering::Acquire) => self.guest_response(
                record,
                started,
                response,
                sent_outcome(outcome_rx),
                report_rx,
            ),
            Ok(answered) => {
                let report = report_rx.await.unwrap_or_default();
                if too_large.load(Ordering::Acquire) {
                    record.note = Some(format!(
                        "body over the {} limit",
                        crate::units::format_size(self.admission.max_body)
                    ));
                    return self.failed(record, started, report, StatusCode::PAYLOAD_TOO_LARGE);
                }
                let code = answered.err().map(|code| format!("{code:?}"));
                record.note = code.map(|code| format!("the guest answered with error code {code}"));
                self.failed(record, started, report, StatusCode::INTERNAL_SERVER_ERROR)
            }
            Err(_) => {
                // The guest never set a response: it failed, or returned without one.
                let report = report_rx.await.unwrap_or_default();
                let status = if too_large.load(Ordering::Acquire) {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    status_of(&report)
                };
                if report.error.is_none() && !report.timed_out {
                    record.note =
                        Some("the handler returned without setting a response".to_owned());
                }
                self.failed(record, started, report, status)
            }
        }
    }

    /// Hands `request` to a worker ([`Guests::Workers`]) and answers with its response, or
    /// with wcomp's for a request that ran out of time, trapped, was refused an instance or was
    /// too large.
    async fn by_worker(
        self: &Arc<Self>,
        workers: &wasmtime_wasi_http::handler::ProxyHandler<Workers>,
        request: Request<wasmtime_wasi_http::WasiBody>,
        mut record: AccessRecord,
        started: Instant,
        too_large: &AtomicBool,
    ) -> Response<ResponseBody> {
        let (failure_tx, failure) = oneshot::channel();
        let (instantiated_tx, mut instantiated) = oneshot::channel();
        let link = RequestLink {
            instantiated: instantiated_tx,
            failure: failure_tx,
        };
        let answered = match self.session.limits().timeout {
            Some(limit) => tokio::time::timeout(limit, workers.handle(link, request))
                .await
                .ok(),
            None => Some(workers.handle(link, request).await),
        };
        let mut report = GuestReport {
            guest: started.elapsed(),
            // Only a request that got a new instance has an instantiation time.
            instantiate: instantiated.try_recv().ok(),
            ..GuestReport::default()
        };
        let failure = match answered {
            Some(Ok(response)) if !too_large.load(Ordering::Acquire) => {
                let (report_tx, report_rx) = oneshot::channel();
                let outcome = WorkerOutcome {
                    failure,
                    report: Some((report, report_tx)),
                };
                return self.guest_response(
                    record,
                    started,
                    response,
                    Box::pin(outcome),
                    report_rx,
                );
            }
            Some(Ok(_)) => None,
            None => Some(Failure {
                status: StatusCode::GATEWAY_TIMEOUT,
                error: None,
                error_code: None,
                timed_out: true,
            }),
            Some(Err(err)) if err.is::<TrapOrPanicError>() => {
                // The trap itself comes from the worker as it drops the instance.
                let told = tokio::time::timeout(WORKER_REPORT, failure).await;
                Some(
                    told.ok()
                        .and_then(Result::ok)
                        .unwrap_or_else(|| Failure::of(err)),
                )
            }
            Some(Err(err)) => Some(Failure::of(err)),
        };
        let status = match failure {
            _ if too_large.load(Ordering::Acquire) => {
                record.note = Some(format!(
                    "body over the {} limit",
                    crate::units::format_size(self.admission.max_body)
                ));
                StatusCode::PAYLOAD_TOO_LARGE
            }
            None => StatusCode::INTERNAL_SERVER_ERROR,
            Some(failure) => {
                report.timed_out = failure.timed_out;
                report.error = failure.error.map(anyhow::Error::msg);
                record.note = failure
                    .error_code
                    .map(|code| format!("the guest answered with error code {code}"));
                failure.status
            }
        };
        self.failed(record, started, report, status)
    }

    /// Waits for a guest slot, within the queue's bounds.
    async fn admit(&self) -> Option<Slot> {
        let slot = |permit| Slot {
            _permit: permit,
            _running: Metrics::hold(&self.metrics.guests),
        };
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Some(slot(permit));
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.admission.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let queued = Metrics::hold(&self.metrics.queued);
        let permit = tokio::time::timeout(
            self.admission.queue_timeout,
            self.permits.clone().acquire_owned(),
        )
        .await;
        drop(queued);
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit.ok().and_then(Result::ok).map(slot)
    }

    /// Runs the guest for one request, within the time limit (which also bounds streaming
    /// the response body).
    async fn run_guest(
        &self,
        request: Request<impl Body<Data = Bytes, Error = HttpError> + Send + Unpin + 'static>,
        response_tx: oneshot::Sender<Result<Response<ResponseBody>, ErrorCode>>,
    ) -> GuestReport {
        let started = Instant::now();
        let mut report = GuestReport::default();
        let run = self.call_guest(request, response_tx, &mut report);
        let outcome = match self.session.limits().timeout {
            Some(limit) => tokio::time::timeout(limit, run).await.ok(),
            None => Some(run.await),
        };
        match outcome {
            None => report.timed_out = true,
            Some(Err(err)) => report.error = Some(err),
            Some(Ok(())) => {}
        }
        report.guest = started.elapsed();
        report
    }

    async fn call_guest(
        &self,
        request: Request<impl Body<Data = Bytes, Error = HttpError> + Send + Unpin + 'static>,
        response_tx: oneshot::Sender<Result<Response<ResponseBody>, ErrorCode>>,
        report: &mut GuestReport,
    ) -> anyhow::Result<()> {
        let mut store = self.session.async_store(GuestIo::Inherit)?;
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let outparam = store.data_mut().http().new_response_outparam(response_tx)?;
        let started = Instant::now();
        let _instance = Metrics::hold(&self.metrics.instances);
        let Guests::Fresh(pre) = &self.guests else {
            return Err(crate::diagnostic::InternalError::error(
                "a worker-served request reached the fresh-instance path",
            ));
        };
        let proxy = match pre.instantiate_async(&mut store).await {
            Ok(proxy) => proxy,
            Err(err) => return Err(self.session.guest_failure(&mut store, err, true)),
        };
        report.instantiate = Some(started.elapsed());
        let called = proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, incoming, outparam)
            .await;
        report.memory = Some(store.data().memory_used());
        called.map_err(|err| self.session.guest_failure(&mut store, err, false))
    }

    /// The guest's response, with its body counted and logged when it ends.
    fn guest_response(
        self: &Arc<Self>,
        mut record: AccessRecord,
        started: Instant,
        response: Response<ResponseBody>,
        outcome: Outcome,
        report: oneshot::Receiver<GuestReport>,
    ) -> Response<ResponseBody> {
        record.status = response.status().as_u16();
        let handler = self.clone();
        let (parts, body) = response.into_parts();
        let length = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse().ok());
        let body = Counted::with_outcome(body, length, outcome, move |bytes, whole| {
            record.bytes = bytes;
            record.total = started.elapsed();
            if !whole && record.note.is_none() {
                record.note = Some("the response was cut short".to_owned());
            }
            // The guest's task reports as soon as the handler returns, before its body ends;
            // a body cut short (its client gone) may end first: the line then waits for the
            // report, which the guest's time limit bounds, so it still has the guest's figures.
            let mut report = report;
            match report.try_recv() {
                Ok(report) => handler.finish_guest(record, &report),
                Err(oneshot::error::TryRecvError::Empty)
                    if tokio::runtime::Handle::try_current().is_ok() =>
                {
                    let line = PendingLine {
                        handler,
                        record: Some(record),
                    };
                    tokio::spawn(async move {
                        let report = report.await.ok();
                        line.finish(report.as_ref());
                    });
                }
                Err(_) => handler.finish(record, None),
            }
        });
        Response::from_parts(parts, body.boxed_unsync())
    }

    /// The line of a request whose guest answered: with its figures, and with its error if it
    /// failed after its headers went out (trapping while it wrote its body, or out of time),
    /// as the line of one that never answered has.
    fn finish_guest(&self, mut record: AccessRecord, report: &GuestReport) {
        record.error = record.error.take().or_else(|| self.guest_error(report));
        self.finish(record, Some(report));
    }

    /// wcomp's answer when the guest gave none: the status, the request id, a log line with
    /// the guest's error and its backtrace.
    fn failed(
        &self,
        mut record: AccessRecord,
        started: Instant,
        report: GuestReport,
        status: StatusCode,
    ) -> Response<ResponseBody> {
        record.error = record.error.take().or_else(|| self.guest_error(&report));
        let message = match status {
            StatusCode::GATEWAY_TIMEOUT => "the component did not answer in time",
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than this server accepts",
            StatusCode::SERVICE_UNAVAILABLE => "the server is busy; try again",
            _ => "the component failed to handle the request",
        };
        let body = format!("{message} (request {})\n", record.request_id());
        record.status = status.as_u16();
        record.bytes = body.len() as u64;
        record.total = started.elapsed();
        let response = error_response(status, &record.request_id(), body);
        self.finish(record, Some(&report));
        response
    }

    /// What the access log says of a guest that failed: its error (a trap with its wasm
    /// backtrace, a limit) or, for one out of time, the time limit.
    fn guest_error(&self, report: &GuestReport) -> Option<String> {
        if let Some(err) = &report.error {
            return Some(format!("{err:#}"));
        }
        report
            .timed_out
            .then_some(self.session.limits().timeout)
            .flatten()
            .map(|limit| LimitExceeded::Time { limit }.to_string())
    }

    /// A response wcomp makes before any guest runs.
    fn answer(
        &self,
        mut record: AccessRecord,
        started: Instant,
        status: StatusCode,
        body: &str,
    ) -> Response<ResponseBody> {
        record.status = status.as_u16();
        record.bytes = body.len() as u64;
        record.total = started.elapsed();
        let response = error_response(status, &record.request_id(), body.to_owned());
        self.finish(record, None);
        response
    }

    fn finish(&self, mut record: AccessRecord, report: Option<&GuestReport>) {
        if let Some(report) = report {
            record.guest = Some(report.guest);
            record.instantiate = report.instantiate;
            record.memory = report.memory;
        }
        if let Ok(mut stats) = self.stats.lock() {
            stats.add(&record);
        }
        self.metrics.request(&record);
        (self.log)(&record);
    }
}

/// A guest slot of one request, counted as running until dropped.
struct Slot {
    _permit: OwnedSemaphorePermit,
    _running: Held,
}

/// The outcome of a worker's request whose response went out. wasmtime-wasi-http ends the
/// body of an instance that trapped as if it were whole, so when the body ends (or is
/// dropped) a failure its worker reported by then is the request's: the body is aborted, and
/// the request's report, sent then, carries the trap or the limit. A worker reports the
/// failure before it drops the instance, and with it the body's end.
struct WorkerOutcome {
    failure: oneshot::Receiver<Failure>,
    /// The request's report, and where it goes once the outcome is known.
    report: Option<(GuestReport, oneshot::Sender<GuestReport>)>,
}

impl WorkerOutcome {
    fn settle(&mut self) -> bool {
        let failed = self.failure.try_recv().ok();
        let ok = failed.is_none();
        if let Some((mut report, sender)) = self.report.take() {
            if let Some(failure) = failed {
                report.timed_out = failure.timed_out;
                report.error = failure.error.map(anyhow::Error::msg);
            }
            let _ = sender.send(report);
        }
        ok
    }
}

impl std::future::Future for WorkerOutcome {
    type Output = bool;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<bool> {
        std::task::Poll::Ready(self.get_mut().settle())
    }
}

impl Drop for WorkerOutcome {
    fn drop(&mut self) {
        self.settle();
    }
}

/// How long a request whose instance trapped waits for the worker to say why.
const WORKER_REPORT: Duration = Duration::from_secs(1);

/// The log line of a response cut short, waiting for its guest's report; written without it
/// if the wait is abandoned (the server stopping).
struct PendingLine {
    handler: Arc<Handler>,
    record: Option<AccessRecord>,
}

impl PendingLine {
    fn finish(mut self, report: Option<&GuestReport>) {
        if let Some(record) = self.record.take() {
            match report {
                Some(report) => self.handler.finish_guest(record, report),
                None => self.handler.finish(record, None),
            }
        }
    }
}

impl Drop for PendingLine {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            self.handler.finish(record, None);
        }
    }
}

/// A request not answered yet. If its future is dropped first — the client went away (closed or
/// half-closed its connection) before the answer — the request still gets its log line, with
/// status 499, as nginx logs it.
struct Unanswered {
    handler: Arc<Handler>,
    record: Option<AccessRecord>,
    started: Instant,
}

impl Unanswered {
    fn answered(mut self) {
        self.record = None;
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.status = CLIENT_WENT_AWAY;
            record.total = self.started.elapsed();
            record.note = Some("the client went away before the answer".to_owned());
            self.handler.finish(record, None);
        }
    }
}

/// The status logged for a request whose client went away before its answer (nginx's 499).
const CLIENT_WENT_AWAY: u16 = 499;

/// The access log's error for a panic with `payload`.
fn panicked(payload: &(dyn std::any::Any + Send)) -> String {
    format!(
        "internal error: wcomp panicked: {}",
        crate::error::panic_message(payload)
    )
}

/// The status for a guest that gave no response.
fn status_of(report: &GuestReport) -> StatusCode {
    if report.timed_out {
        return StatusCode::GATEWAY_TIMEOUT;
    }
    let limit = report
        .error
        .as_ref()
        .and_then(crate::diagnostic::find::<RunError>)
        .and_then(|run| match run {
            RunError::Limit { limit, .. } => Some(limit.clone()),
            _ => None,
        });
    match limit {
        Some(LimitExceeded::Time { .. }) => StatusCode::GATEWAY_TIMEOUT,
        _ if report.error.as_ref().is_some_and(is_pool_exhausted) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn is_pool_exhausted(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
    })
}

fn error_response(status: StatusCode, request_id: &str, body: String) -> Response<ResponseBody> {
    let mut response = Response::new(text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", id);
    }
    response
}

/// The request body, cut off at `limit` bytes: past it the guest's read fails with
/// `HttpRequestBodySize`, and `tripped` tells the handler to answer `413`.
fn limited<B>(
    body: B,
    limit: u64,
    tripped: Arc<AtomicBool>,
) -> impl Body<Data = Bytes, Error = HttpError> + Send + Unpin + 'static
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<HttpError>,
{
    let bytes = usize::try_from(limit).unwrap_or(usize::MAX);
    http_body_util::Limited::new(body.map_err(Into::<HttpError>::into), bytes).map_err(
        move |err: Box<dyn std::error::Error + Send + Sync>| {
            if err.is::<http_body_util::LengthLimitError>() {
                tripped.store(true, Ordering::Release);
                return HttpError::HttpRequestBodySize(Some(limit));
            }
            // `Limited` passes the body's own errors through, boxed.
            match err.downcast::<HttpError>() {
                Ok(err) => *err,
                Err(other) => HttpError::InternalError(Some(other.to_string())),
            }
        },
    )
}
