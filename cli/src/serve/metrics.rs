//! The server's running figures for a monitoring system: requests by status, latency and
//! instantiation histograms, guests and instances in use, the admission queue, connections,
//! access-log lines dropped and components swapped in under `--watch`, plus the process's
//! memory and file descriptors. Kept always (each is an atomic or a short lock per request);
//! `--metrics <addr>` serves them in the OpenMetrics text format, which Prometheus scrapes,
//! on an address of their own, so they can stay private while the service is public.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::log::AccessRecord;

/// Requests by status code.
type ByCode = Family<[(&'static str, u16); 1], Counter>;

/// Swaps under `--watch` by outcome.
type ByOutcome = Family<[(&'static str, &'static str); 1], Counter>;

/// Every figure, registered once per server and shared by every handler it swaps in.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: ByCode,
    duration: Histogram,
    instantiation: Histogram,
    /// Requests holding a guest slot (`--max-concurrency` bounds them).
    pub(super) guests: Gauge,
    /// Instances alive: one per running request on the fresh-instance path, one per worker
    /// under reuse.
    pub(super) instances: Gauge,
    /// Requests waiting for a guest slot (`--queue` bounds them).
    pub(super) queued: Gauge,
    pub(super) connections: Gauge,
    /// Connections closed at once because `--max-connections` were open.
    pub(super) refused: Counter,
    /// Access-log records dropped because the log could not keep up.
    pub(super) log_dropped: Counter,
    swaps: ByOutcome,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = ByCode::default();
        registry.register(
            "wcomp_http_requests",
            "Requests answered, by status code (499: the client went away first)",
            requests.clone(),
        );
        // 100µs to about 13s.
        let duration = Histogram::new(exponential_buckets(1e-4, 2.0, 18));
        registry.register_with_unit(
            "wcomp_http_request_duration",
            "From a request's arrival to the end of its response",
            Unit::Seconds,
            duration.clone(),
        );
        // 1µs to about 2s: a pooled instance takes microseconds, an interpreter's start
        // milliseconds.
        let instantiation = Histogram::new(exponential_buckets(1e-6, 2.0, 22));
        registry.register_with_unit(
            "wcomp_instantiation",
            "Time to make an instance of the component",
            Unit::Seconds,
            instantiation.clone(),
        );
        let guests = Gauge::default();
        registry.register(
            "wcomp_guests_running",
            "Requests holding a guest slot (at most --max-concurrency)",
            guests.clone(),
        );
        let instances = Gauge::default();
        registry.register(
            "wcomp_instances",
            "Instances of the component alive",
            instances.clone(),
        );
        let queued = Gauge::default();
        registry.register(
            "wcomp_queue_length",
            "Requests waiting for a guest slot (at most --queue)",
            queued.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "wcomp_connections_open",
            "Client connections open (at most --max-connections)",
            connections.clone(),
        );
        let refused = Counter::default();
        registry.register(
            "wcomp_connections_refused",
            "Connections closed at once because --max-connections were open",
            refused.clone(),
        );
        let log_dropped = Counter::default();
        registry.register(
            "wcomp_access_log_dropped",
            "Access-log records dropped because the log could not keep up",
            log_dropped.clone(),
        );
        let swaps = ByOutcome::default();
        // Both series exist from the start, so a rate over them needs no first swap.
        for outcome in ["swapped", "failed"] {
            drop(swaps.get_or_create(&[("outcome", outcome)]));
        }
        registry.register(
            "wcomp_component_swaps",
            "New builds swapped in under --watch (swapped), or refused at load (failed)",
            swaps.clone(),
        );
        registry.register_collector(Box::new(Process));
        Self {
            registry,
            requests,
            duration,
            instantiation,
            guests,
            instances,
            queued,
            connections,
            refused,
            log_dropped,
            swaps,
        }
    }

    /// A request's figures, when its log line is written.
    pub(super) fn request(&self, record: &AccessRecord) {
        self.requests
            .get_or_create(&[("code", record.status)])
            .inc();
        self.duration.observe(record.total.as_secs_f64());
        if let Some(instantiate) = record.instantiate {
            self.instantiation(instantiate);
        }
    }

    /// An instance made, for one request or several.
    pub(super) fn instantiation(&self, took: Duration) {
        self.instantiation.observe(took.as_secs_f64());
    }

    /// A component swapped in, or one that failed to load.
    pub(super) fn swap(&self, swapped: bool) {
        let outcome = if swapped { "swapped" } else { "failed" };
        self.swaps.get_or_create(&[("outcome", outcome)]).inc();
    }

    /// One more of what `gauge` counts, until the guard is dropped.
    pub(super) fn hold(gauge: &Gauge) -> Held {
        gauge.inc();
        Held(gauge.clone())
    }

    /// The exposition, as a scrape gets it.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a `String` cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// One unit of a gauge, given back when dropped.
#[derive(Debug)]
pub(super) struct Held(Gauge);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The process's resident memory and file descriptors, read at each scrape (Linux), under the
/// names every Prometheus client library uses.
#[derive(Debug)]
struct Process;

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let figures = [
            (
                "process_resident_memory",
                "Resident memory of the server.",
                Some(Unit::Bytes),
                resident_bytes(),
            ),
            (
                "process_open_fds",
                "File descriptors open.",
                None,
                open_descriptors(),
            ),
        ];
        for (name, help, unit, value) in figures {
            let Some(value) = value else { continue };
            let gauge = ConstGauge::new(value);
            let metric =
                encoder.encode_descriptor(name, help, unit.as_ref(), gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

fn resident_bytes() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn open_descriptors() -> Option<i64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    i64::try_from(entries.count()).ok()
}

/// Serves `GET /metrics` on `listener` until the runtime ends. Anything else is `404` (another
/// path) or `405` (another method); a client that sends nothing within `header_timeout` is
/// closed.
pub(super) async fn expose(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    header_timeout: Duration,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let metrics = metrics.clone();
        let service = hyper::service::service_fn(move |request| {
            let answer = scrape(&metrics, &request);
            async move { Ok::<_, std::convert::Infallible>(answer) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}

/// The answer to one request on the metrics address.
fn scrape<B>(
    metrics: &Metrics,
    request: &http::Request<B>,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    use http::{Method, StatusCode, header};
    let (status, content_type, body) = if request.uri().path() != "/metrics" {
        (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "the metrics are at /metrics\n".to_owned(),
        )
    } else if request.method() != Method::GET && request.method() != Method::HEAD {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "the metrics are read with GET\n".to_owned(),
        )
    } else {
        (
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.encode(),
        )
    };
    let mut response = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(
        if request.method() == Method::HEAD {
            String::new()
        } else {
            body
        },
    )));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_code_and_timed() {
        let metrics = Metrics::new();
        let request = http::Request::get("/x").body(()).unwrap();
        let mut record = AccessRecord::new(1, &request);
        record.status = 200;
        record.total = Duration::from_millis(3);
        record.instantiate = Some(Duration::from_micros(12));
        metrics.request(&record);
        record.status = 503;
        record.instantiate = None;
        metrics.request(&record);
        let held = Metrics::hold(&metrics.guests);
        metrics.swap(true);
        let text = metrics.encode();
        assert!(
            text.contains("wcomp_http_requests_total{code=\"200\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("wcomp_http_requests_total{code=\"503\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("wcomp_http_request_duration_seconds_count 2\n"),
            "{text}"
        );
        assert!(
            text.contains("wcomp_instantiation_seconds_count 1\n"),
            "{text}"
        );
        assert!(text.contains("wcomp_guests_running 1\n"), "{text}");
        assert!(
            text.contains("wcomp_component_swaps_total{outcome=\"swapped\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("process_open_fds "), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        drop(held);
        assert!(metrics.encode().contains("wcomp_guests_running 0\n"));
    }
}
