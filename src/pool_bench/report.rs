//! The report of a run, and its assembly once the clients have stopped: latency and wait
//! percentiles, the error counts, the pool's counters, the timeline and the sizing advice.

use std::collections::BTreeMap;
use std::time::Instant;

use hdrhistogram::Histogram;

use super::advice::{self, Advice, Measured, Offered, ServerRoom};
use super::app_model::AppReport;
use super::config::BenchConfig;
use super::event_loop::LoopStats;
use super::monitor::{Ending, Observed, Tick};
use super::recorder::Recorder;
use super::workers::Workers;
use crate::finding::{Code, Finding};
use crate::pool::{PoolCounters, PoolStatus};
use crate::pooler::Pooler;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Percentiles {
    pub(crate) mean: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Percentiles {
        if histogram.is_empty() {
            return Percentiles::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Percentiles {
            mean: histogram.mean() / 1000.0,
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BenchReport {
    pub(crate) config: BenchConfig,
    pub(crate) transactions: u64,
    pub(crate) elapsed: f64,
    pub(crate) tps: f64,
    pub(crate) latency: Percentiles,
    pub(crate) wait: Percentiles,
    /// The part of the checkout wait spent at the pool's limit.
    pub(crate) queue_wait: Percentiles,
    /// How long a request held its connection (pre-ping included).
    pub(crate) hold: Percentiles,
    pub(crate) timeouts: u64,
    /// Open loop: arrivals that found every request slot (`--clients`) taken and started late.
    pub(crate) held_back: u64,
    pub(crate) errors: BTreeMap<String, u64>,
    /// The server's first message for each SQLSTATE in `errors`.
    pub(crate) error_messages: BTreeMap<String, String>,
    pub(crate) connections: PoolCounters,
    pub(crate) server_max_connections: Option<i64>,
    /// Connections the server had free when the run started.
    pub(crate) server_free_connections: Option<i64>,
    pub(crate) server_peak_backends: Option<i64>,
    pub(crate) timeline: Vec<Tick>,
    pub(crate) final_status: PoolStatus,
    /// Mean time a connection is held per transaction, in ms (Little's law input).
    pub(crate) mean_hold_ms: f64,
    /// What one request cost on the wire, as the driver sends it.
    pub(crate) wire: WireCost,
    pub(crate) advice: Advice,
    pub(crate) interrupted: bool,
    /// The pooler between pool-bench and the server, and what it means for the driver.
    pub(crate) pooler: Option<Pooler>,
    pub(crate) pooler_findings: Vec<Finding>,
    /// The application model's accounting; `None` for the raw path.
    pub(crate) app: Option<AppReport>,
}

impl BenchReport {
    /// Records the pooler, and puts what it means for the driver first in the advice when the
    /// run met it (a refused parameter, or errors the pooler causes).
    pub(super) fn explain_pooler(&mut self, pooler: Option<Pooler>, findings: Vec<Finding>) {
        let Some(found) = &pooler else { return };
        let pooler_errors: u64 = POOLER_SQLSTATES
            .iter()
            .filter_map(|code| self.errors.get(*code))
            .sum();
        let mut first = vec![format!(
            "a pooler is in front of the server: {}, {} pooling",
            found.kind.describe(),
            found.mode.map_or("unknown", |mode| mode.name())
        )];
        for finding in &findings {
            let relevant = match finding.code {
                Code::PoolerPreparedStatements | Code::PoolerStatementMode => pooler_errors > 0,
                _ => true,
            };
            if relevant {
                first.push(finding.message.clone());
            }
        }
        if pooler_errors > 0 && findings.is_empty() {
            first.push(format!(
                "{pooler_errors} requests failed with prepared-statement or transaction errors the pooler causes"
            ));
        }
        first.append(&mut self.advice.text);
        self.advice.text = first;
        self.pooler = pooler;
        self.pooler_findings = findings;
    }

    /// The application model's accounting from the worker loops, and what limited the run.
    pub(super) fn explain_application(&mut self, loops: &[LoopStats]) {
        let round_trips = self.wire.round_trips();
        self.app = self.config.app.as_ref().map(|model| {
            AppReport::of(
                model,
                loops.to_vec(),
                self.elapsed,
                round_trips,
                self.mean_hold_ms,
            )
        });
        let workers = self.config.workers.max(1);
        let load = self
            .app
            .as_ref()
            .map(|app| app.loop_load(workers, round_trips));
        // The load wanted more than it got: closed-loop clients without think time always do;
        // an open loop that fell short of its rate did.
        let saturated = match self.config.rate {
            Some(rate) => self.tps < 0.9 * rate,
            None => self.config.think.is_zero(),
        };
        self.advice.settle_limit(load, saturated, self.tps);
    }
}

/// What transaction and statement pooling does to drivers that prepare by name: the statement
/// is gone (26000) or already there (42P05), or a transaction block is refused (08P01).
const POOLER_SQLSTATES: [&str; 3] = ["26000", "42P05", "08P01"];

/// Round trips and statements per request, as measured on the connections.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct WireCost {
    /// At checkout: the pre-ping.
    pub(crate) checkout_round_trips: f64,
    /// The request itself: BEGIN, the workload, COMMIT or ROLLBACK, preparing when needed.
    pub(crate) request_round_trips: f64,
    pub(crate) request_statements: f64,
}

impl WireCost {
    fn of(recorder: &Recorder) -> WireCost {
        let (checkout_round_trips, request_round_trips, request_statements) =
            recorder.wire_per_request();
        WireCost {
            checkout_round_trips,
            request_round_trips,
            request_statements,
        }
    }

    /// Every round trip a request holds a connection for.
    pub(crate) fn round_trips(&self) -> f64 {
        self.checkout_round_trips + self.request_round_trips
    }
}

/// The report of a stopped run; `elapsed` is measured now, from `started`.
pub(super) fn assemble(
    config: &BenchConfig,
    recorder: &Recorder,
    workers: &Workers,
    server: Option<ServerRoom>,
    observed: Observed,
    final_status: PoolStatus,
    started: Instant,
) -> BenchReport {
    let elapsed = started.elapsed().as_secs_f64();
    let transactions = recorder.transactions();
    let latency = Percentiles::of(&recorder.latency());
    let wait_histogram = recorder.wait();
    let wait = Percentiles::of(&wait_histogram);
    let queue_wait = Percentiles::of(&recorder.queue_wait());
    let hold_histogram = recorder.hold();
    let hold = Percentiles::of(&hold_histogram);
    let connections = workers.counters();
    let mut errors = recorder.errors();
    if connections.timeouts > 0 {
        errors.insert("pool_timeout".into(), connections.timeouts);
    }
    if observed.ending == Ending::Stuck {
        errors.insert("abandoned_after_deadline".into(), observed.abandoned);
    }
    let mean_hold_ms = recorder.mean_hold_ms();
    let tps = transactions as f64 / elapsed.max(1e-9);
    let held_back = recorder.held_back();
    let offered = match config.rate {
        Some(rate) => Offered::Rate(rate),
        None => Offered::Clients {
            clients: config.clients,
            think: config.think,
        },
    };
    let measured = Measured {
        tps,
        hold_mean_ms: mean_hold_ms,
        hold_p99_ms: hold.p99,
        holds: hold_histogram.len(),
        checkouts: wait_histogram.len() + connections.timeouts,
        queued: connections.queued,
        queue_wait_p99_ms: queue_wait.p99,
        peak_waiting: connections.peak_waiting,
        timeouts: connections.timeouts,
        held_back,
    };
    let advice = advice::advise(&config.pool, offered, &measured, config.workers, server);
    BenchReport {
        config: config.clone(),
        transactions,
        elapsed,
        tps,
        latency,
        wait,
        queue_wait,
        hold,
        timeouts: connections.timeouts,
        held_back,
        errors,
        error_messages: recorder.error_messages(),
        connections,
        server_max_connections: server.map(|s| s.max_connections),
        server_free_connections: server.map(|s| s.free),
        server_peak_backends: observed.peak_backends,
        timeline: observed.timeline,
        final_status,
        mean_hold_ms,
        wire: WireCost::of(recorder),
        advice,
        interrupted: observed.ending == Ending::Interrupted,
        pooler: None,
        pooler_findings: Vec::new(),
        app: None,
    }
}
