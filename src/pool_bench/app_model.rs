//! What pool-bench models of the application around the pool: its workers, each one event loop
//! (`event_loop`), the application's own time per round trip on that loop, the handler's work
//! while it holds the connection, and the cores the workers run on — and where the time per
//! round trip came from (a flag, a default recorded from the real libraries, or a calibration
//! of the team's own Python: `calibrate`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::advice::LoopLoad;
use super::event_loop::LoopStats;
use crate::driver::DriverKind;

/// The application model of a run. `None` in a [`super::BenchConfig`] for `--driver raw`, which
/// is dbtool's own minimal client with no application around it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppModel {
    /// The application's time on its loop per round trip (SQLAlchemy and the driver).
    pub(crate) app_cpu: Duration,
    /// The handler's own work on the loop while it holds the connection.
    pub(crate) handler: Duration,
    /// The application's time on its loop to open a connection and later close it: QueuePool
    /// closes overflow connections returned while `pool_size` sit idle and opens new ones
    /// under the next burst, and each blocks the worker's loop for this long.
    pub(crate) connect_cpu: Duration,
    /// Cores the workers' loops run on; at least the number of workers gives each its own.
    pub(crate) app_cpus: u32,
    pub(crate) source: CostSource,
}

/// Where [`AppModel::app_cpu`] came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CostSource {
    /// `--app-cpu-us`.
    Flag,
    /// The driver's default, recorded by `scripts/record-app-cpu.sh`.
    Default,
    /// `--calibrate PYTHON`: measured from the real stack just before the run.
    Calibrated(Calibration),
}

impl CostSource {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            CostSource::Flag => "flag",
            CostSource::Default => "default",
            CostSource::Calibrated(_) => "calibrated",
        }
    }
}

/// What a calibration run of the real stack measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Calibration {
    /// The interpreter given to `--calibrate`.
    pub(crate) python: String,
    pub(crate) python_version: String,
    /// Package → version, as the interpreter imported them (SQLAlchemy and the driver).
    pub(crate) versions: BTreeMap<String, String>,
    /// Clients (closed loop) or arrivals per second (open loop) of the one worker calibrated.
    pub(crate) load: String,
    pub(crate) requests: u64,
    /// Process CPU time per request, the handler's work and the connections' taken off.
    pub(crate) cpu_per_request: Duration,
    /// Process CPU time to open and close one connection through SQLAlchemy.
    pub(crate) connect_cpu: Duration,
    /// Connections the reference application opened in its window.
    pub(crate) connections_opened: u64,
    /// Round trips per request, as the driver model sends them on a reused connection.
    pub(crate) round_trips_per_request: f64,
    /// Process CPU time ÷ wall time of the calibration's window.
    pub(crate) loop_utilization: f64,
    pub(crate) tps: f64,
    pub(crate) p99_ms: f64,
}

/// The driver's default application time per round trip, without `--calibrate` or
/// `--app-cpu-us`: recorded by `scripts/record-app-cpu.sh 3` (the medians of three calibrations
/// of the reference application with SQLAlchemy 2.1.9, asyncpg 0.32.0, psycopg 3.3.9,
/// psycopg2-binary 2.9.13 on CPython 3.11.7, 10 clients, `SELECT 1`, pool 5+10 with pre-ping,
/// the server and the application on separate cores of an Intel Xeon virtual machine).
/// `None` for the raw path, which has no application.
pub(crate) fn default_app_cpu(driver: DriverKind) -> Option<Duration> {
    let micros = match driver {
        DriverKind::Asyncpg => 80,
        DriverKind::Psycopg => 160,
        DriverKind::Psycopg2 => 51,
        DriverKind::Raw => return None,
    };
    Some(Duration::from_micros(micros))
}

/// The driver's default application time to open and close a connection, recorded with
/// [`default_app_cpu`]'s figures.
pub(crate) fn default_connect_cpu(driver: DriverKind) -> Duration {
    let micros = match driver {
        DriverKind::Asyncpg => 1710,
        DriverKind::Psycopg => 900,
        DriverKind::Psycopg2 => 320,
        DriverKind::Raw => 0,
    };
    Duration::from_micros(micros)
}

impl AppModel {
    /// The application's own time per request while it holds the connection: its round trips
    /// and the handler's work.
    pub(crate) fn own_time_per_request(&self, round_trips: f64) -> Duration {
        self.app_cpu.mul_f64(round_trips.max(0.0)) + self.handler
    }
}

/// What the application model did in a run: each worker loop's accounting, and the hold time
/// split into the application's own work and the rest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppReport {
    pub(crate) model: AppModel,
    pub(crate) loops: Vec<LoopStats>,
    /// Each worker loop's busy time ÷ the run's elapsed time.
    pub(crate) utilization: Vec<f64>,
    /// All loops' busy time ÷ the time the model asked for (1.0: exact).
    pub(crate) accuracy: Option<f64>,
    /// The application's own time per request while it holds the connection: its round trips
    /// (pre-ping included) × the time per round trip, and the handler's work.
    pub(crate) hold_application_ms: f64,
    /// The rest of the hold: the database's answers, and waiting for the loop to read them.
    pub(crate) hold_database_ms: f64,
}

impl AppReport {
    pub(crate) fn of(
        model: &AppModel,
        loops: Vec<LoopStats>,
        elapsed: f64,
        round_trips_per_request: f64,
        hold_mean_ms: f64,
    ) -> AppReport {
        let utilization = loops
            .iter()
            .map(|l| (l.busy.as_secs_f64() / elapsed.max(1e-9)).min(1.0))
            .collect();
        let mut total = LoopStats::default();
        for stats in &loops {
            total.add(stats);
        }
        let application = model
            .own_time_per_request(round_trips_per_request)
            .as_secs_f64()
            * 1000.0;
        let application = application.min(hold_mean_ms.max(0.0));
        AppReport {
            model: model.clone(),
            loops,
            utilization,
            accuracy: total.accuracy(),
            hold_application_ms: application,
            hold_database_ms: (hold_mean_ms - application).max(0.0),
        }
    }

    /// The busiest worker loop's utilization.
    pub(crate) fn busiest(&self) -> f64 {
        self.utilization.iter().copied().fold(0.0, f64::max)
    }

    /// What the advice reads of the loops, for requests of `round_trips`.
    pub(super) fn loop_load(&self, workers: u32, round_trips: f64) -> LoopLoad {
        LoopLoad {
            busiest: self.busiest(),
            workers,
            per_request_ms: self.model.own_time_per_request(round_trips).as_secs_f64() * 1000.0,
            round_trips,
            app_cpu_us: self.model.app_cpu.as_secs_f64() * 1e6,
            handler_ms: self.model.handler.as_secs_f64() * 1000.0,
        }
    }
}
