//! What a run is asked to do: the configuration of `dbtool pool-bench`, validated at the edge
//! (`commands::pool_bench`), and the workload each simulated request runs.

use std::time::Duration;

use super::app_model::AppModel;
use crate::driver::{DriverKind, DriverOptions};
use crate::pool::PoolSettings;

/// What each simulated request does while it holds a connection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Workload {
    Query(String),
    Sleep(Duration),
    /// Several statements, run in one transaction.
    Script(Vec<String>),
}

impl Workload {
    /// The statements one request sends, in order.
    pub(crate) fn statements(&self) -> Vec<String> {
        match self {
            Workload::Query(sql) => vec![sql.clone()],
            Workload::Sleep(duration) => {
                vec![format!("SELECT pg_sleep({})", duration.as_secs_f64())]
            }
            Workload::Script(statements) => statements.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BenchConfig {
    pub(crate) url: String,
    pub(crate) pool: PoolSettings,
    pub(crate) statement_timeout: Duration,
    pub(crate) clients: u32,
    pub(crate) workload: Workload,
    /// The driver whose traffic each request reproduces.
    pub(crate) driver: DriverKind,
    pub(crate) driver_options: DriverOptions,
    /// The handler commits (COMMIT) instead of letting the session close (ROLLBACK).
    pub(crate) commit: bool,
    pub(crate) think: Duration,
    pub(crate) duration: Option<Duration>,
    /// Run this long before measuring (`--warmup`), with `duration` only.
    pub(crate) warmup: Duration,
    pub(crate) transactions: Option<u64>,
    /// Open-loop arrivals per second.
    pub(crate) rate: Option<f64>,
    pub(crate) workers: u32,
    /// Threads the clients of `--driver raw` run on (pgbench's `-j`); the application model runs
    /// one thread per worker instead.
    pub(crate) jobs: usize,
    pub(crate) force: bool,
    pub(crate) connect_timeout: Option<Duration>,
    /// The application around the pool: its workers' event loops and its time per round trip;
    /// `None` for the raw path.
    pub(crate) app: Option<AppModel>,
    /// `--calibrate`: the interpreter whose SQLAlchemy and driver set the app model's time per
    /// round trip before the run.
    pub(crate) calibrate: Option<String>,
}

impl BenchConfig {
    /// The handler's own work per request (zero without an application model).
    pub(crate) fn handler(&self) -> Duration {
        self.app.as_ref().map_or(Duration::ZERO, |app| app.handler)
    }
}
