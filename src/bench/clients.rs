//! The simulated clients: each loops checkout → workload → return → think time until the run
//! stops, its deadline passes or the transaction budget is spent. With a schedule (open loop), a
//! transaction first waits for its start time and its latency counts from that time. Errors never
//! stop a client: they are counted by SQLSTATE or kind.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::config::BenchConfig;
use super::lanes::Lanes;
use super::monitor::Ending;
use super::recorder::{LaneRecorder, Recorder};
use super::schedule::ScheduleReceiver;
use crate::driver::Driver;
use crate::pool::{CheckoutError, PooledConnection, QueuePool};
use crate::wire::WireError;

/// Starts `config.clients` clients sharing the pool, the recorder, the schedule and the
/// transaction budget (`config.transactions`).
pub(super) fn spawn(
    config: &BenchConfig,
    driver: &Driver,
    pool: &Arc<QueuePool>,
    recorder: &Arc<Recorder>,
    schedule: Option<&ScheduleReceiver>,
    deadline: Option<Instant>,
    lanes: &Lanes,
) -> Vec<JoinHandle<()>> {
    let budget = config.transactions.map(|n| Arc::new(AtomicU64::new(n)));
    (0..config.clients)
        .map(|index| {
            let lane = index as usize % lanes.len();
            let client = Client {
                lane,
                pool: pool.clone(),
                recorder: recorder.clone(),
                budget: budget.clone(),
                schedule: schedule.cloned(),
                driver: driver.clone(),
                statements: config.workload.statements(),
                commit: config.commit,
                think: config.think,
                deadline,
            };
            lanes.handle(lane).spawn(client.run())
        })
        .collect()
}

/// Stops the clients and waits for them. After Ctrl-C or a stuck server they are aborted rather
/// than left to finish their transaction.
pub(super) async fn stop(clients: Vec<JoinHandle<()>>, recorder: &Recorder, ending: Ending) {
    recorder.stop.store(true, Ordering::Relaxed);
    for client in clients {
        if ending != Ending::Finished {
            // Stop promptly: in-flight statements are dropped, which closes their connections.
            client.abort();
        }
        let _ = client.await;
    }
}

/// One simulated client of the application.
struct Client {
    /// The lane (thread) this client runs on.
    lane: usize,
    pool: Arc<QueuePool>,
    recorder: Arc<Recorder>,
    /// Transactions left to start, shared by all clients; `None`: no limit.
    budget: Option<Arc<AtomicU64>>,
    schedule: Option<ScheduleReceiver>,
    driver: Driver,
    /// The workload's statements, sent as the driver sends them.
    statements: Vec<String>,
    commit: bool,
    think: Duration,
    deadline: Option<Instant>,
}

impl Client {
    /// This client's lane's records.
    fn record(&self) -> &LaneRecorder {
        self.recorder.lane(self.lane)
    }

    /// The loop. Clock reads are few and reused (each costs a visible share of a `SELECT 1`
    /// round trip on a virtual machine): the end of one transaction is the start of the next.
    async fn run(self) {
        let mut now = Instant::now();
        while self.may_start(now) {
            let Some(intended) = self.next_start(now).await else {
                break;
            };
            let started = match self.schedule {
                Some(_) => Instant::now(),
                None => intended,
            };
            let Some((connection, checked_out)) = self.checkout(started).await else {
                now = Instant::now();
                continue;
            };
            now = self.transact(connection, intended, checked_out).await;
            if !self.think.is_zero() {
                tokio::time::sleep(self.think).await;
                now = Instant::now();
            }
        }
    }

    /// Whether another transaction may start at `now`: the run goes on, the deadline has not
    /// passed, and the budget had one left (now taken).
    fn may_start(&self, now: Instant) -> bool {
        if self.recorder.stop.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| now >= d) {
            return false;
        }
        match &self.budget {
            Some(budget) => budget
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            None => true,
        }
    }

    /// When the next transaction should start: its scheduled time in the open loop (`None` once
    /// the schedule ended), `now` in the closed loop.
    async fn next_start(&self, now: Instant) -> Option<Instant> {
        match &self.schedule {
            Some(receiver) => receiver.recv().await,
            None => Some(now),
        }
    }

    /// A connection and when it was handed over, with the wait since `started` recorded; `None`
    /// after a pool timeout or a failed connect (counted, and followed by a pause of 100 ms so
    /// a down server is not hammered).
    async fn checkout(&self, started: Instant) -> Option<(PooledConnection, Instant)> {
        match self.pool.checkout(self.lane).await {
            Ok(connection) => {
                let now = Instant::now();
                self.record().waited(now - started);
                Some((connection, now))
            }
            Err(CheckoutError::Timeout(_)) => {
                self.record().timed_out();
                None
            }
            Err(CheckoutError::Connect { code, message }) => {
                self.record()
                    .error(code.unwrap_or_else(|| "connect".into()), Some(&message));
                tokio::time::sleep(Duration::from_millis(100)).await;
                None
            }
        }
    }

    /// Runs one request as the driver would, records the outcome and the round trips, returns
    /// the connection (as broken if it closed), and says when it ended.
    async fn transact(
        &self,
        mut pooled: PooledConnection,
        intended: Instant,
        checked_out: Instant,
    ) -> Instant {
        let session = &pooled.connection.session;
        let (round_trips, statements) = (session.round_trips, session.statements);
        let result = self
            .driver
            .request(&mut pooled.connection, &self.statements, self.commit)
            .await;
        let ended = Instant::now();
        let record = self.record();
        // The connection was unavailable to others from the pre-ping on.
        record.held(pooled.checkout_ping + (ended - checked_out));
        let session = &pooled.connection.session;
        record.wire(
            pooled.checkout_round_trips,
            session.round_trips - round_trips,
            session.statements - statements,
        );
        let broken = match result {
            Ok(()) => {
                record.completed(ended - intended);
                false
            }
            Err(error) => {
                let message = match &error {
                    WireError::Server { message, .. } => Some(message.as_str()),
                    _ => None,
                };
                record.error(error_kind(&error), message);
                pooled.connection.session.is_closed()
            }
        };
        self.pool.checkin(pooled, broken);
        ended
    }
}

/// How a failed request is counted: its SQLSTATE, else whether the connection was lost.
fn error_kind(error: &WireError) -> String {
    match error {
        WireError::Server { code, .. } => code.clone(),
        WireError::Io(_) => "connection_lost".to_string(),
        _ => "client".to_string(),
    }
}
