//! What the clients record and the monitor and the report read: latency and checkout-wait
//! histograms, transaction, hold and error counters, and the flag that stops the run.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Shared between the clients and the sampler.
pub(super) struct Recorder {
    pub(super) latency: Mutex<Histogram<u64>>,
    pub(super) wait: Mutex<Histogram<u64>>,
    /// Latencies of the current second, for the timeline's p99.
    window: Mutex<Histogram<u64>>,
    pub(super) transactions: AtomicU64,
    pub(super) hold_micros: AtomicU64,
    pub(super) holds: AtomicU64,
    /// Round trips spent at checkout (the pre-ping) and by the requests, and statements sent.
    pub(super) checkout_round_trips: AtomicU64,
    pub(super) request_round_trips: AtomicU64,
    pub(super) request_statements: AtomicU64,
    pub(super) requests: AtomicU64,
    pub(super) errors: Mutex<BTreeMap<String, u64>>,
    pub(super) error_count: AtomicU64,
    pub(super) stop: AtomicBool,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

impl Recorder {
    pub(super) fn new() -> Recorder {
        Recorder {
            latency: Mutex::new(histogram()),
            wait: Mutex::new(histogram()),
            window: Mutex::new(histogram()),
            transactions: AtomicU64::new(0),
            hold_micros: AtomicU64::new(0),
            holds: AtomicU64::new(0),
            checkout_round_trips: AtomicU64::new(0),
            request_round_trips: AtomicU64::new(0),
            request_statements: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            error_count: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    pub(super) fn record(histogram: &Mutex<Histogram<u64>>, value: Duration) {
        let micros = (value.as_micros() as u64).clamp(1, 3_600_000_000);
        if let Ok(mut h) = histogram.lock() {
            let _ = h.record(micros);
        }
    }

    /// A transaction that succeeded, `latency` after its intended start.
    pub(super) fn completed(&self, latency: Duration) {
        Recorder::record(&self.latency, latency);
        Recorder::record(&self.window, latency);
        self.transactions.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection held for one transaction, for the mean hold time.
    pub(super) fn held(&self, duration: Duration) {
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

    pub(super) fn error(&self, kind: String) {
        self.error_count.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(kind).or_default() += 1;
        }
    }

    /// The p99 of the latencies recorded since the last call, in ms (0 without any); starts the
    /// next window.
    pub(super) fn take_window_p99(&self) -> f64 {
        let p99 = self.window.lock().map(|mut w| {
            let p99 = if w.is_empty() {
                0.0
            } else {
                w.value_at_quantile(0.99) as f64 / 1000.0
            };
            w.reset();
            p99
        });
        p99.unwrap_or(0.0)
    }
}
