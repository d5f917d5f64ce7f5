//! The once-a-second monitor of a run: the timeline, the live line on stderr, the server's count
//! of the pool's backends, and when to stop watching (every client done, Ctrl-C, or a server
//! still not answering a grace period after the deadline).

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::recorder::Recorder;
use super::workers::Workers;
use crate::conn::plan::ConnectionPlan;
use crate::interrupt::Interrupt;
use crate::pool::PoolStatus;
use crate::progress::Spinner;

/// One second of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tick {
    pub(crate) t: u64,
    pub(crate) tps: f64,
    pub(crate) p99_ms: f64,
    pub(crate) open: u64,
    pub(crate) in_use: u64,
    pub(crate) idle: u64,
    pub(crate) waiting: u64,
    pub(crate) errors: u64,
}

/// How often the monitor looks whether the run ended, between its once-a-second samples.
const END_POLL: Duration = Duration::from_millis(50);

/// Why the monitor stopped watching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Every client finished: the duration or the transaction budget is used up.
    Finished,
    /// Ctrl-C.
    Interrupted,
    /// The deadline passed more than a grace period ago and clients still wait for the server.
    Stuck,
}

/// What the monitor saw.
pub(super) struct Observed {
    pub(super) timeline: Vec<Tick>,
    pub(super) peak_backends: Option<i64>,
    pub(super) ending: Ending,
    /// Requests abandoned when the run was cut short (set when the load is stopped).
    pub(super) abandoned: u64,
}

/// The monitor's view of the run.
pub(super) struct Monitor<'a> {
    /// The monitor's own connection, under its own application_name so it is not counted.
    server: Option<&'a tokio_postgres::Client>,
    /// The pool's application_name, whose backends are counted.
    application_name: String,
    /// How long past the deadline a server that stopped answering is waited for.
    grace: Duration,
    started: Instant,
    deadline: Option<Instant>,
}

/// The counts at the previous tick, for the rate of the current second.
struct Previous {
    transactions: u64,
    at: Instant,
}

impl<'a> Monitor<'a> {
    pub(super) fn new(
        target: &ConnectionPlan,
        server: Option<&'a tokio_postgres::Client>,
        started: Instant,
        deadline: Option<Instant>,
    ) -> Monitor<'a> {
        Monitor {
            server,
            application_name: target
                .config
                .get_application_name()
                .unwrap_or("dbtool-pool-bench")
                .to_string(),
            grace: target.connect_timeout.max(Duration::from_secs(2)),
            started,
            deadline,
        }
    }

    /// Samples the run once a second, on the second since `started`, until it ends.
    pub(super) async fn watch(
        self,
        clients: &[JoinHandle<()>],
        pool: &Workers,
        recorder: &Recorder,
        live: Option<&Spinner>,
        interrupt: &Interrupt,
    ) -> Observed {
        let mut timeline = Vec::new();
        let mut peak_backends: Option<i64> = None;
        let mut previous = Previous {
            transactions: 0,
            at: self.started,
        };
        let mut second = 1;
        let ending = loop {
            if let Some(ending) = self.ending(clients, interrupt) {
                break ending;
            }
            let next = self.started + Duration::from_secs(second);
            // Woken between ticks too, so the run's end (and its elapsed time, which the report's
            // throughput divides by) is seen within END_POLL rather than at the next second.
            tokio::time::sleep_until(next.min(Instant::now() + END_POLL).into()).await;
            if Instant::now() < next {
                continue;
            }
            second += 1;
            if let Some(backends) = self.backends().await {
                peak_backends = Some(peak_backends.map_or(backends, |p| p.max(backends)));
            }
            let (tick, status) = self.sample(&mut previous, recorder, pool);
            if let Some(live) = live {
                live.set_message(live_line(&tick, &status, pool));
            }
            timeline.push(tick);
        };
        Observed {
            timeline,
            peak_backends,
            ending,
            abandoned: 0,
        }
    }

    /// Whether the run is over, and why.
    fn ending(&self, clients: &[JoinHandle<()>], interrupt: &Interrupt) -> Option<Ending> {
        if clients.iter().all(|c| c.is_finished()) {
            return Some(Ending::Finished);
        }
        if interrupt.requested() {
            return Some(Ending::Interrupted);
        }
        // A server that stops answering must not hold the run past its end: after a grace
        // period, requests still waiting for it are abandoned.
        if let Some(deadline) = self.deadline
            && Instant::now() > deadline + self.grace
        {
            return Some(Ending::Stuck);
        }
        None
    }

    /// The server's count of the pool's backends; `None` without a monitor connection or answer.
    async fn backends(&self) -> Option<i64> {
        let server = self.server?;
        // A simple query: behind a transaction-mode pooler a prepared statement may not reach
        // the server connection that runs it.
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = {} AND datname = current_database()",
            quote_literal(&self.application_name)
        );
        // Bounded: a server that stopped answering must not keep the monitor from ending the run.
        let answer = tokio::time::timeout(Duration::from_secs(1), server.simple_query(&sql))
            .await
            .ok()?
            .ok()?;
        value(&answer, 0)?.parse().ok()
    }

    /// This second's tick, and the pool's status it was taken from.
    fn sample(
        &self,
        previous: &mut Previous,
        recorder: &Recorder,
        pool: &Workers,
    ) -> (Tick, PoolStatus) {
        let transactions = recorder.transactions();
        let seconds = previous.at.elapsed().as_secs_f64();
        previous.at = Instant::now();
        let p99_ms = recorder.take_window_p99();
        let status = pool.status();
        let tick = Tick {
            t: self.started.elapsed().as_secs(),
            tps: (transactions - previous.transactions) as f64 / seconds.max(1e-9),
            p99_ms,
            open: status.open,
            in_use: status.in_use,
            idle: status.idle,
            waiting: status.waiting,
            errors: recorder.error_count(),
        };
        previous.transactions = transactions;
        (tick, status)
    }
}

/// The spinner's line for one tick.
fn live_line(tick: &Tick, status: &PoolStatus, pool: &Workers) -> String {
    format!(
        "{:>3}s  tps {:>8.0}  p99 {:>7.2} ms  pool: size {} idle {} in use {} overflow {} waiting {}  timeouts {}  errors {}",
        tick.t,
        tick.tps,
        tick.p99_ms,
        status.pool_size,
        status.idle,
        status.in_use,
        status.overflow(),
        status.waiting,
        pool.counters().timeouts,
        tick.errors
    )
}

/// A string as an SQL literal, `E'...'` with quotes and backslashes escaped.
pub(super) fn quote_literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A column of the first row of a simple query's answer.
pub(super) fn value(
    messages: &[tokio_postgres::SimpleQueryMessage],
    column: usize,
) -> Option<&str> {
    messages.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(column),
        _ => None,
    })
}
