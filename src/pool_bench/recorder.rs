//! What the clients record and the monitor and the report read: latency, checkout-wait, queue-wait
//! and hold histograms, transaction, wire and error counters, the requests in flight, and the
//! flag that stops the run.
//!
//! Each lane (thread) records into its own [`LaneRecorder`], aligned to its own cache lines, so
//! clients on different cores never write the same memory; readers sum the lanes.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Shared between the clients, the monitor and the report.
pub(super) struct Recorder {
    lanes: Vec<LaneRecorder>,
    pub(super) stop: AtomicBool,
    /// Open loop: arrivals that found every request slot (`--clients`) taken and started late.
    held_back: AtomicU64,
}

/// One lane's records.
#[repr(align(128))]
pub(super) struct LaneRecorder {
    latency: Mutex<Histogram<u64>>,
    wait: Mutex<Histogram<u64>>,
    /// The part of each checkout's wait spent at the pool's limit, for a connection to come back.
    queue_wait: Mutex<Histogram<u64>>,
    /// How long each request held its connection (pre-ping included).
    hold: Mutex<Histogram<u64>>,
    /// Latencies of the current second, for the timeline's p99.
    window: Mutex<Histogram<u64>>,
    transactions: AtomicU64,
    hold_micros: AtomicU64,
    holds: AtomicU64,
    /// Round trips spent at checkout (the pre-ping) and by the requests, and statements sent.
    checkout_round_trips: AtomicU64,
    request_round_trips: AtomicU64,
    request_statements: AtomicU64,
    requests: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    /// The server's first message for each SQLSTATE.
    messages: Mutex<BTreeMap<String, String>>,
    error_count: AtomicU64,
    /// Requests started on this lane and not yet ended (abandoned ones when a run is cut short).
    in_flight: AtomicU64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

fn record(histogram: &Mutex<Histogram<u64>>, value: Duration) {
    let micros = (value.as_micros() as u64).clamp(1, 3_600_000_000);
    if let Ok(mut h) = histogram.lock() {
        let _ = h.record(micros);
    }
}

impl LaneRecorder {
    fn new() -> LaneRecorder {
        LaneRecorder {
            latency: Mutex::new(histogram()),
            wait: Mutex::new(histogram()),
            queue_wait: Mutex::new(histogram()),
            hold: Mutex::new(histogram()),
            window: Mutex::new(histogram()),
            transactions: AtomicU64::new(0),
            hold_micros: AtomicU64::new(0),
            holds: AtomicU64::new(0),
            checkout_round_trips: AtomicU64::new(0),
            request_round_trips: AtomicU64::new(0),
            request_statements: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            messages: Mutex::new(BTreeMap::new()),
            error_count: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        }
    }

    /// A request starts; the guard ends it when dropped (also when its task is aborted).
    pub(super) fn request_started(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// How long a checkout waited for its connection, `queued` of it at the pool's limit.
    pub(super) fn waited(&self, duration: Duration, queued: Duration) {
        record(&self.wait, duration);
        record(&self.queue_wait, queued);
    }

    /// A transaction that succeeded, `latency` after its intended start.
    pub(super) fn completed(&self, latency: Duration) {
        record(&self.latency, latency);
        record(&self.window, latency);
        self.transactions.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection held for one transaction, for the mean hold time.
    pub(super) fn held(&self, duration: Duration) {
        record(&self.hold, duration);
        self.hold_micros
            .fetch_add(duration.as_micros() as u64, Ordering::Relaxed);
        self.holds.fetch_add(1, Ordering::Relaxed);
    }

    /// What one checkout and its request cost on the wire.
    pub(super) fn wire(&self, checkout_round_trips: u64, round_trips: u64, statements: u64) {
        self.checkout_round_trips
            .fetch_add(checkout_round_trips, Ordering::Relaxed);
        self.request_round_trips
            .fetch_add(round_trips, Ordering::Relaxed);
        self.request_statements
            .fetch_add(statements, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// A failed checkout or request, by kind, with the server's message when it sent one.
    pub(super) fn error(&self, kind: String, message: Option<&str>) {
        self.error_count.fetch_add(1, Ordering::Relaxed);
        if let Some(message) = message
            && let Ok(mut messages) = self.messages.lock()
            && !messages.contains_key(&kind)
        {
            messages.insert(kind.clone(), message.to_string());
        }
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(kind).or_default() += 1;
        }
    }

    /// A checkout that timed out (counted by the pool itself as `pool_timeout`).
    pub(super) fn timed_out(&self) {
        self.error_count.fetch_add(1, Ordering::Relaxed);
    }
}

/// One request in flight, counted until dropped.
pub(super) struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sums a counter over the lanes.
fn sum(lanes: &[LaneRecorder], counter: impl Fn(&LaneRecorder) -> &AtomicU64) -> u64 {
    lanes
        .iter()
        .map(|lane| counter(lane).load(Ordering::Relaxed))
        .sum()
}

/// The lanes' histograms added up.
fn merged(
    lanes: &[LaneRecorder],
    which: impl Fn(&LaneRecorder) -> &Mutex<Histogram<u64>>,
) -> Histogram<u64> {
    let mut total = histogram();
    for lane in lanes {
        if let Ok(h) = which(lane).lock() {
            let _ = total.add(&*h);
        }
    }
    total
}

impl Recorder {
    pub(super) fn new(lanes: usize) -> Recorder {
        Recorder {
            lanes: (0..lanes.max(1)).map(|_| LaneRecorder::new()).collect(),
            stop: AtomicBool::new(false),
            held_back: AtomicU64::new(0),
        }
    }

    /// Requests started and not ended, over every lane.
    pub(super) fn in_flight(&self) -> u64 {
        sum(&self.lanes, |l| &l.in_flight)
    }

    /// An arrival found every request slot taken and waited for one.
    pub(super) fn arrival_held_back(&self) {
        self.held_back.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn held_back(&self) -> u64 {
        self.held_back.load(Ordering::Relaxed)
    }

    pub(super) fn queue_wait(&self) -> Histogram<u64> {
        merged(&self.lanes, |l| &l.queue_wait)
    }

    pub(super) fn hold(&self) -> Histogram<u64> {
        merged(&self.lanes, |l| &l.hold)
    }

    /// Where a client on `lane` records.
    pub(super) fn lane(&self, lane: usize) -> &LaneRecorder {
        &self.lanes[lane % self.lanes.len()]
    }

    pub(super) fn transactions(&self) -> u64 {
        sum(&self.lanes, |l| &l.transactions)
    }

    pub(super) fn error_count(&self) -> u64 {
        sum(&self.lanes, |l| &l.error_count)
    }

    pub(super) fn latency(&self) -> Histogram<u64> {
        merged(&self.lanes, |l| &l.latency)
    }

    pub(super) fn wait(&self) -> Histogram<u64> {
        merged(&self.lanes, |l| &l.wait)
    }

    /// Errors by kind, over every lane.
    pub(super) fn errors(&self) -> BTreeMap<String, u64> {
        let mut total = BTreeMap::new();
        for lane in &self.lanes {
            if let Ok(errors) = lane.errors.lock() {
                for (kind, n) in errors.iter() {
                    *total.entry(kind.clone()).or_default() += n;
                }
            }
        }
        total
    }

    /// The server's first message for each SQLSTATE counted, over every lane.
    pub(super) fn error_messages(&self) -> BTreeMap<String, String> {
        let mut all = BTreeMap::new();
        for lane in &self.lanes {
            if let Ok(messages) = lane.messages.lock() {
                for (kind, message) in messages.iter() {
                    all.entry(kind.clone()).or_insert_with(|| message.clone());
                }
            }
        }
        all
    }

    /// Mean time a connection is held per transaction, in ms.
    pub(super) fn mean_hold_ms(&self) -> f64 {
        let holds = sum(&self.lanes, |l| &l.holds);
        sum(&self.lanes, |l| &l.hold_micros) as f64 / 1000.0 / holds.max(1) as f64
    }

    /// Round trips at checkout, round trips and statements of the request, each per request.
    pub(super) fn wire_per_request(&self) -> (f64, f64, f64) {
        let requests = sum(&self.lanes, |l| &l.requests).max(1) as f64;
        let mean =
            |counter: fn(&LaneRecorder) -> &AtomicU64| sum(&self.lanes, counter) as f64 / requests;
        (
            mean(|l| &l.checkout_round_trips),
            mean(|l| &l.request_round_trips),
            mean(|l| &l.request_statements),
        )
    }

    /// Forgets everything recorded so far (the warm-up's); requests in flight stay counted.
    pub(super) fn reset(&self) {
        for lane in &self.lanes {
            for histogram in [
                &lane.latency,
                &lane.wait,
                &lane.queue_wait,
                &lane.hold,
                &lane.window,
            ] {
                if let Ok(mut h) = histogram.lock() {
                    h.reset();
                }
            }
            for counter in [
                &lane.transactions,
                &lane.hold_micros,
                &lane.holds,
                &lane.checkout_round_trips,
                &lane.request_round_trips,
                &lane.request_statements,
                &lane.requests,
                &lane.error_count,
            ] {
                counter.store(0, Ordering::Relaxed);
            }
            if let Ok(mut errors) = lane.errors.lock() {
                errors.clear();
            }
        }
        self.held_back.store(0, Ordering::Relaxed);
    }

    /// The p99 of the latencies recorded since the last call, in ms (0 without any); starts the
    /// next window.
    pub(super) fn take_window_p99(&self) -> f64 {
        let window = merged(&self.lanes, |l| &l.window);
        for lane in &self.lanes {
            if let Ok(mut w) = lane.window.lock() {
                w.reset();
            }
        }
        if window.is_empty() {
            0.0
        } else {
            window.value_at_quantile(0.99) as f64 / 1000.0
        }
    }
}
