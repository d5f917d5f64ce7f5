//! One simulated request, as the application's handler runs it: check a connection out (waiting
//! in the pool when it is at its limit), run the workload as the driver sends it, return the
//! connection. The closed loop's clients (`clients`) and the open loop's arrivals (`schedule`)
//! both run requests through [`Requests`]. Errors are counted by SQLSTATE or kind, never raised.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::recorder::{LaneRecorder, Recorder};
use super::workers::Workers;
use crate::driver::DriverModel;
use crate::pool::{CheckoutError, PooledConnection, QueuePool};
use crate::wire::WireError;

/// What every request of a run shares.
#[derive(Clone)]
pub(super) struct Requests {
    pub(super) workers: Arc<Workers>,
    pub(super) recorder: Arc<Recorder>,
    pub(super) driver: DriverModel,
    /// The workload's statements, sent as the driver sends them.
    pub(super) statements: Arc<[String]>,
    pub(super) commit: bool,
    /// Turns of the event loop between returning the connection and the next request, under
    /// the application model (see [`loop_turns_after_checkin`]).
    pub(super) turns_after_checkin: u32,
}

/// Turns of the application's event loop between a request returning its connection and the
/// client going on: AsyncSession's close runs in a task of its own and is awaited through
/// `asyncio.shield` (SQLAlchemy's `_run_to_completion`), so the request resumes two turns after
/// the close task returned the connection; after a commit (which returned it) the close task
/// itself starts one turn later still. While other requests run in those turns, returned
/// connections sit idle, and QueuePool closes those beyond `pool_size` (measured with
/// SQLAlchemy 2.1.9 and asyncpg: 38 connections opened and closed in 1.5 s at 10 clients on
/// pool 5+10). None for psycopg2 (threads) and without the model.
pub(super) fn loop_turns_after_checkin(config: &super::BenchConfig) -> u32 {
    match (&config.app, config.driver.is_async(), config.commit) {
        (Some(_), true, false) => 2,
        (Some(_), true, true) => 3,
        _ => 0,
    }
}

/// How a request ended.
pub(super) enum RequestEnd {
    /// It ran (successfully or not) and returned its connection at this instant.
    Ran(Instant),
    /// The checkout timed out in the pool.
    TimedOut,
    /// Opening a connection failed.
    ConnectFailed,
}

impl Requests {
    /// Runs one request on `lane`. Its latency counts from `intended` (the closed loop's start, the
    /// open loop's scheduled time), its checkout wait from `started` (when it reached the pool).
    pub(super) async fn run(&self, lane: usize, intended: Instant, started: Instant) -> RequestEnd {
        let record = self.recorder.lane(lane);
        let _in_flight = record.request_started();
        let (pool, pool_lane) = self.workers.pool(lane);
        let connection = match pool.checkout(pool_lane).await {
            Ok(connection) => connection,
            Err(CheckoutError::Timeout(_)) => {
                record.timed_out();
                return RequestEnd::TimedOut;
            }
            Err(CheckoutError::Connect { code, message }) => {
                record.error(code.unwrap_or_else(|| "connect".into()), Some(&message));
                return RequestEnd::ConnectFailed;
            }
        };
        let checked_out = Instant::now();
        record.waited(checked_out - started, connection.queued);
        RequestEnd::Ran(
            self.transact(pool, record, connection, intended, checked_out)
                .await,
        )
    }

    /// Runs the workload as the driver would, records the outcome and the round trips, returns
    /// the connection (as broken if it closed), and says when it ended.
    async fn transact(
        &self,
        pool: &QueuePool,
        record: &LaneRecorder,
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
        // The connection was unavailable to others from the pre-ping on.
        record.held(pooled.checkout_ping + (ended - checked_out));
        let session = &pooled.connection.session;
        record.wire(
            pooled.checkout_round_trips,
            session.round_trips - round_trips,
            session.statements - statements,
        );
        let broken = match &result {
            Ok(()) => false,
            Err(error) => {
                let message = match error {
                    WireError::Server { message, .. } => Some(message.as_str()),
                    _ => None,
                };
                record.error(error_kind(error), message);
                pooled.connection.session.is_closed()
            }
        };
        pool.checkin(pooled, broken);
        // The request ends when the handler goes on, which under the application model is a
        // few turns of its event loop after the connection went back.
        let ended = if self.turns_after_checkin > 0 {
            for _ in 0..self.turns_after_checkin {
                crate::driver::loop_turn().await;
            }
            Instant::now()
        } else {
            ended
        };
        if result.is_ok() {
            record.completed(ended - intended);
        }
        ended
    }
}

/// After a failed connect a closed-loop client pauses this long, so a down server is not
/// hammered.
pub(super) const CONNECT_FAILURE_PAUSE: Duration = Duration::from_millis(100);

/// How a failed request is counted: its SQLSTATE, else whether the connection was lost.
fn error_kind(error: &WireError) -> String {
    match error {
        WireError::Server { code, .. } => code.clone(),
        WireError::Io(_) => "connection_lost".to_string(),
        _ => "client".to_string(),
    }
}
