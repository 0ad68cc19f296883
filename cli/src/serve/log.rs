//! The access log (one record per request) and the server's own running figures, from which
//! the summary at shutdown comes: how many requests, by status, and how long instantiation
//! took (the cost of an instance per request).

use std::time::Duration;

use http::Request;

/// One request, as the access log shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccessRecord {
    #[serde(serialize_with = "as_request_id")]
    pub id: u64,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Response body bytes sent.
    pub bytes: u64,
    /// From the request's arrival to the end of its response.
    #[serde(serialize_with = "as_micros", rename = "total_us")]
    pub total: Duration,
    /// The guest's own run: instantiation, handler and body (absent when no guest ran).
    #[serde(serialize_with = "as_optional_micros", rename = "guest_us")]
    pub guest: Option<Duration>,
    #[serde(serialize_with = "as_optional_micros", rename = "instantiate_us")]
    pub instantiate: Option<Duration>,
    /// Bytes of linear memory and tables the instance held.
    pub memory: Option<u64>,
    /// Why wcomp answered instead of the guest, or what went wrong with its answer.
    pub note: Option<String>,
    /// The guest's trap or limit, with its backtrace.
    pub error: Option<String>,
}

fn as_request_id<S: serde::Serializer>(id: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{id:08x}"))
}

fn as_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1e6)
}

fn as_optional_micros<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64() * 1e6),
        None => s.serialize_none(),
    }
}

impl AccessRecord {
    pub fn new<B>(id: u64, request: &Request<B>) -> Self {
        Self {
            id,
            method: request.method().to_string(),
            path: request
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.to_string()),
            status: 0,
            bytes: 0,
            total: Duration::ZERO,
            guest: None,
            instantiate: None,
            memory: None,
            note: None,
            error: None,
        }
    }

    /// The id shown to clients (`x-request-id`) and in the log.
    pub fn request_id(&self) -> String {
        format!("{:08x}", self.id)
    }

    /// The human form: `GET /hello 200 13 B 1.2ms (guest 1.1ms, instantiate 14µs) 0000002a`.
    pub fn human(&self) -> String {
        let mut line = format!(
            "{} {} {} {} B {}",
            self.method,
            self.path,
            self.status,
            self.bytes,
            short(self.total)
        );
        let mut detail = Vec::new();
        if let Some(guest) = self.guest {
            detail.push(format!("guest {}", short(guest)));
        }
        if let Some(instantiate) = self.instantiate {
            detail.push(format!("instantiate {}", short(instantiate)));
        }
        if !detail.is_empty() {
            line.push_str(&format!(" ({})", detail.join(", ")));
        }
        line.push_str(&format!(" {}", self.request_id()));
        if let Some(note) = &self.note {
            line.push_str(&format!(": {note}"));
        }
        if let Some(error) = &self.error {
            line.push_str(&format!("\n{error}"));
        }
        line
    }
}

/// `850µs`, `1.2ms`, `2.35s`.
fn short(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.0}µs")
    } else if micros < 1e6 {
        format!("{:.1}ms", micros / 1e3)
    } else {
        format!("{:.2}s", micros / 1e6)
    }
}

/// Running figures of one server.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: u64,
    /// Requests by the hundreds digit of their status (`[_, 1xx, 2xx, 3xx, 4xx, 5xx]`).
    pub by_class: [u64; 6],
    /// Instantiation times in microseconds, the most recent [`SAMPLES`].
    instantiate: Vec<f64>,
    next_sample: usize,
    pub max_memory: u64,
}

/// How many instantiation times are kept for the percentiles.
const SAMPLES: usize = 100_000;

impl Stats {
    pub fn add(&mut self, record: &AccessRecord) {
        self.requests += 1;
        let class = usize::from(record.status / 100).min(5);
        self.by_class[class] += 1;
        self.add_instance(record.instantiate, record.memory);
    }

    /// An instance's instantiation time and the memory it held, where known: per request
    /// for a fresh instance, per instance for one that serves several.
    pub fn add_instance(&mut self, instantiate: Option<Duration>, memory: Option<u64>) {
        if let Some(instantiate) = instantiate {
            let micros = instantiate.as_secs_f64() * 1e6;
            if self.instantiate.len() < SAMPLES {
                self.instantiate.push(micros);
            } else {
                self.instantiate[self.next_sample] = micros;
                self.next_sample = (self.next_sample + 1) % SAMPLES;
            }
        }
        self.max_memory = self.max_memory.max(memory.unwrap_or(0));
    }

    /// The `p`-th percentile of instantiation, in microseconds.
    pub fn instantiate_percentile(&self, p: f64) -> Option<f64> {
        if self.instantiate.is_empty() {
            return None;
        }
        let mut sorted = self.instantiate.clone();
        sorted.sort_by(f64::total_cmp);
        let index = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
        sorted.get(index).copied()
    }
}

/// The access log written from a thread of its own, so that a slow or blocked stderr (a full
/// pipe, a terminal scrolled back) never holds up a request: requests hand their records over
/// a bounded queue, and when it is full a record is dropped and counted instead of waited for.
pub struct LogWriter {
    /// Records, and `None` for "stop": what is queued before it is written.
    sender: std::sync::mpsc::SyncSender<Option<AccessRecord>>,
    dropped: prometheus_client::metrics::counter::Counter,
    thread: std::thread::JoinHandle<()>,
}

/// Records the queue holds before they are dropped.
const LOG_QUEUE: usize = 8192;

/// Records written together at most.
const LOG_BATCH: usize = 256;

impl LogWriter {
    /// Starts the thread that writes the records with `sink`, in order, as many at a time as
    /// are waiting (so that a busy server writes its log in few large writes); records
    /// dropped are counted in `dropped`.
    pub fn start(
        sink: impl Fn(&[AccessRecord]) + Send + 'static,
        dropped: prometheus_client::metrics::counter::Counter,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Option<AccessRecord>>(LOG_QUEUE);
        let thread = std::thread::Builder::new()
            .name("wcomp-access-log".into())
            .spawn(move || {
                let mut batch = Vec::new();
                while let Ok(Some(record)) = receiver.recv() {
                    batch.push(record);
                    let mut stopping = false;
                    while batch.len() < LOG_BATCH {
                        match receiver.try_recv() {
                            Ok(Some(record)) => batch.push(record),
                            Ok(None) => {
                                stopping = true;
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    sink(&batch);
                    batch.clear();
                    if stopping {
                        break;
                    }
                }
            })?;
        Ok(Self {
            sender,
            dropped,
            thread,
        })
    }

    /// What requests call with their record: queues it, or counts it dropped.
    pub fn queue(&self) -> impl Fn(&AccessRecord) + Send + Sync + 'static {
        let sender = self.sender.clone();
        let dropped = self.dropped.clone();
        move |record| {
            if sender.try_send(Some(record.clone())).is_err() {
                dropped.inc();
            }
        }
    }

    /// Writes what is queued so far and ends the thread (a record queued later is counted
    /// dropped); the records dropped because the queue was full.
    pub fn finish(self) -> u64 {
        if self.sender.send(None).is_ok() {
            let _ = self.thread.join();
        }
        self.dropped.get()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn record(id: u64) -> AccessRecord {
        AccessRecord::new(id, &http::Request::get("/").body(()).unwrap())
    }

    /// Records reach the sink in order, several to a call when they queue up, and all those
    /// queued before `finish` are written.
    #[test]
    fn records_are_written_in_order_and_in_batches() {
        let calls = Arc::new(Mutex::new(Vec::<Vec<u64>>::new()));
        let seen = calls.clone();
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let writer = LogWriter::start(
            move |records: &[AccessRecord]| {
                // The first call waits, so the next records queue up behind it.
                let _ = held.recv_timeout(std::time::Duration::from_secs(5));
                seen.lock()
                    .unwrap()
                    .push(records.iter().map(|r| r.id).collect());
            },
            prometheus_client::metrics::counter::Counter::default(),
        )
        .unwrap();
        let queue = writer.queue();
        for id in 0..100 {
            queue(&record(id));
        }
        for _ in 0..100 {
            let _ = hold.send(());
        }
        assert_eq!(writer.finish(), 0);
        let calls = calls.lock().unwrap();
        let ids: Vec<u64> = calls.iter().flatten().copied().collect();
        assert_eq!(ids, (0..100).collect::<Vec<_>>());
        assert!(calls.len() < 100, "{} calls for 100 records", calls.len());
    }
}
