//! `dbtool pool-bench`: the application's pool under a synthetic load, with its statistics.
//!
//! `clients` tasks loop checkout → workload → return → think time, for a duration or a number of
//! transactions; with `rate`, requests arrive on a fixed schedule instead (open loop), each
//! started on time and waiting in the pool as the application's concurrent requests do, and
//! latency is measured from the scheduled start, so a stall is not hidden (coordinated omission).
//! Errors never stop the run: they are counted by SQLSTATE or kind.
//!
//! This module owns the orchestration of a run ([`run`]), the server capacity check before it,
//! and the configuration `--verify` runs again ([`with_recommendation`]). The steps live below
//! it: `request` (one request: checkout, workload, return), `clients` (the closed loop's
//! clients), `schedule` (the open loop's arrivals), `monitor` (the once-a-second timeline, live
//! line and end of the run), `report` (the report's assembly) and `advice` (the sizing advice);
//! the application around the pool is `workers` (one pool and one `event_loop` per worker),
//! `app_model` (its time per round trip and the run's accounting of it) and `calibrate` (that
//! time measured from the real stack); `config` and `recorder` are the vocabulary they share.

mod advice;
mod app_model;
mod asyncio_order;
mod calibrate;
mod clients;
mod config;
mod event_loop;
mod lanes;
mod monitor;
mod recorder;
mod report;
mod request;
mod schedule;
mod workers;

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;

use crate::conn::connect;
use crate::conn::plan::{self, ConnectionPlan};
use crate::conn::tls::LATEST_LIBPQ;
use crate::driver::DriverModel;
use crate::environment::Environment;
use crate::exit::{invalid, problems};
use crate::interrupt::Interrupt;
use crate::pool::QueuePool;
use crate::pooler;
use crate::progress::Progress;

pub(crate) use advice::{Advice, Offered, ServerRoom};
pub(crate) use app_model::{AppModel, AppReport, CostSource, default_app_cpu, default_connect_cpu};
pub(crate) use config::{BenchConfig, Workload};
pub(crate) use report::{BenchReport, Percentiles};

use event_loop::{Cores, EventLoop};
use lanes::Lanes;
use monitor::Monitor;
use recorder::Recorder;
use request::Requests;
use workers::Workers;

/// Refuses a pool that could take more connections than the server has free, unless forced.
async fn check_server_capacity(
    target: &ConnectionPlan,
    config: &BenchConfig,
) -> Result<(ServerRoom, tokio_postgres::Client)> {
    // The monitor has its own application_name so it is not counted as one of the pool's backends.
    let mut monitor_config = target.config.clone();
    monitor_config.application_name("dbtool-pool-bench-monitor");
    let client = connect::connect_with(target, &monitor_config).await?;
    // A simple query, which reaches the server through a transaction-mode pooler too.
    let messages = client
        .simple_query(
            "SELECT current_setting('max_connections')::int8, current_setting('superuser_reserved_connections')::int8 \
             + coalesce(current_setting('reserved_connections', true)::int8, 0), \
             (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int8",
        )
        .await
        // The server took the connection: a query it fails is a refusal (exit 1).
        .map_err(|e| {
            problems(format!(
                "{}: reading the server's connection limits: {:#}",
                target.describe(),
                anyhow::Error::from(e)
            ))
        })?;
    let number = |column| monitor::value(&messages, column)?.parse::<i64>().ok();
    let (Some(max), Some(reserved), Some(used)) = (number(0), number(1), number(2)) else {
        return Err(problems("the server did not report its connection limits"));
    };
    let free = max - reserved - used;
    let wanted = config
        .pool
        .capacity()
        .map(|c| i64::from(c) * i64::from(config.workers.max(1)));
    let too_many = match wanted {
        Some(wanted) => wanted > free,
        None => true,
    };
    if too_many && !config.force {
        let wanted = wanted.map_or("an unlimited number of".to_string(), |w| w.to_string());
        return Err(invalid(format!(
            "the pool could open {wanted} connections but the server has {free} free (max_connections {max}, {reserved} \
             reserved, {used} in use); lower --pool-size/--max-overflow or pass --force"
        )));
    }
    let room = ServerRoom {
        max_connections: max,
        free,
    };
    Ok((room, client))
}

/// Runs one configuration to its report. `interrupt` ends the run early (Ctrl-C).
pub(crate) async fn run(
    config: &BenchConfig,
    env: &Environment,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<BenchReport> {
    let options = plan::Options {
        application_name: "dbtool-pool-bench",
        connect_timeout: config.connect_timeout,
        libpq_major: LATEST_LIBPQ,
    };
    let target = ConnectionPlan::new(&config.url, env, &options)?;
    let (room, server) = check_server_capacity(&target, config).await?;
    let mut driver = DriverModel::new(
        config.driver,
        config.driver_options,
        config.statement_timeout.as_millis(),
        target
            .config
            .get_application_name()
            .unwrap_or("dbtool-pool-bench")
            .to_string(),
    );
    // A pooler in front changes what the driver meets; the startup parameters it refuses are
    // left out, so the run measures the pool instead of failing every connect.
    let pooler = pooler::probe(&target, &driver).await;
    if let Some(pooler) = &pooler {
        driver.left_out = pooler
            .refused_parameters
            .iter()
            .map(|refused| refused.name.clone())
            .collect();
        for refused in &pooler.refused_parameters {
            progress.warn(&format!(
                "{} refuses the startup parameter {} ({}); the run leaves it out",
                pooler.kind.describe(),
                refused.name,
                refused.message
            ));
        }
    }
    let pooler_findings = pooler
        .as_ref()
        .map(|found| pooler::advice::behind_pooler(found, &driver, &target.user))
        .unwrap_or_default();
    let calibrated = calibrated(config, &target, &driver, progress).await?;
    let config = calibrated.as_ref().unwrap_or(config);
    let target = Arc::new(target);
    let (lanes, workers) = start_workers(config, &target, &driver)?;
    let workers = Arc::new(workers);
    let recorder = Arc::new(Recorder::new(lanes.len()));
    let started = Instant::now();
    let deadline = config.duration.map(|d| started + config.warmup + d);
    let requests = Requests {
        workers: workers.clone(),
        recorder: recorder.clone(),
        driver: driver.clone(),
        statements: config.workload.statements().into(),
        commit: config.commit,
        turns_after_checkin: request::loop_turns_after_checkin(config),
    };
    let load = match schedule::spawn(config, &requests, deadline, &lanes) {
        Some(schedule) => vec![schedule],
        None => clients::spawn(config, &requests, deadline, &lanes),
    };
    let started = warm_up(config, &recorder, &workers, progress, interrupt).await;
    let live = progress.spinner("starting");
    let mut observed = Monitor::new(&target, Some(&server), started, deadline)
        .watch(&load, &workers, &recorder, live.as_ref(), interrupt)
        .await;
    observed.abandoned = clients::stop(load, &recorder, observed.ending).await;
    drop(live);
    let final_status = workers.status();
    let loops = workers.loop_stats();
    workers.dispose();
    lanes.stop();
    drop(server);
    let mut report = report::assemble(
        config,
        &recorder,
        &workers,
        Some(room),
        observed,
        final_status,
        started,
    );
    report.explain_application(&loops);
    report.explain_pooler(pooler, pooler_findings);
    Ok(report)
}

/// `--warmup`: the load runs that long first, and what it recorded is dropped (the pool's
/// counters, which say how it got where it is, are kept). Says when the measurement starts.
async fn warm_up(
    config: &BenchConfig,
    recorder: &Recorder,
    workers: &Workers,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Instant {
    if config.warmup.is_zero() {
        return Instant::now();
    }
    let spinner = progress.spinner("warming up");
    tokio::select! {
        _ = tokio::time::sleep(config.warmup) => {}
        _ = interrupt.wait() => {}
    }
    drop(spinner);
    recorder.reset();
    workers.reset_stats();
    Instant::now()
}

/// `config` with the application's time per round trip measured by `--calibrate`; `None`
/// without it (or without an application model).
async fn calibrated(
    config: &BenchConfig,
    target: &ConnectionPlan,
    driver: &DriverModel,
    progress: &Progress,
) -> Result<Option<BenchConfig>> {
    let (Some(python), Some(app)) = (&config.calibrate, &config.app) else {
        return Ok(None);
    };
    let spinner = progress.spinner(&format!(
        "calibrating: the reference application on {python} for a few seconds"
    ));
    let calibration = calibrate::calibrate(python, config, target, driver).await?;
    drop(spinner);
    progress.info(&format!(
        "calibrated with {python}: {:.3} ms of CPU per request, {} round trips, {:.1} µs per round trip",
        calibration.cpu_per_request.as_secs_f64() * 1000.0,
        calibration.round_trips_per_request,
        calibration.per_round_trip().as_secs_f64() * 1e6
    ));
    let mut config = config.clone();
    config.app = Some(AppModel {
        app_cpu: calibration.per_round_trip(),
        connect_cpu: calibration.connect_cpu,
        source: CostSource::Calibrated(calibration),
        ..app.clone()
    });
    // `--verify` and later runs reuse this measurement.
    config.calibrate = None;
    Ok(Some(config))
}

/// The lanes and the workers' pools: for the raw path one pool over `jobs` lanes; under the
/// application model one lane, one event loop and one pool per worker.
fn start_workers(
    config: &BenchConfig,
    target: &Arc<ConnectionPlan>,
    driver: &DriverModel,
) -> Result<(Lanes, Workers)> {
    let Some(app) = &config.app else {
        let lanes = Lanes::start(config.jobs, false)?;
        let pool = QueuePool::new(target.clone(), config.pool, driver.clone(), lanes.len());
        return Ok((lanes, Workers::new(vec![Arc::new(pool)], Vec::new())));
    };
    let count = config.workers.max(1);
    let lanes = Lanes::start(count as usize, true)?;
    let cores = (app.app_cpus < count).then(|| Cores::new(app.app_cpus));
    let loops: Vec<Arc<EventLoop>> = (0..count)
        .map(|_| EventLoop::new(app.app_cpu, app.handler, app.connect_cpu, cores.clone()))
        .collect();
    let pools = loops
        .iter()
        .map(|event_loop| {
            let mut driver = driver.clone();
            driver.pacer = Some(event_loop.clone());
            Arc::new(QueuePool::new(target.clone(), config.pool, driver, 1))
        })
        .collect();
    Ok((lanes, Workers::new(pools, loops)))
}

/// The configuration `--verify` runs: the same load with the recommended pool. `None` without a
/// recommendation. The recommendation was already held to the connections the server had free,
/// so the capacity check is not repeated (the first run's connections may still be closing).
pub(crate) fn with_recommendation(config: &BenchConfig, advice: &Advice) -> Option<BenchConfig> {
    let recommended = advice.recommended?;
    let mut verify = config.clone();
    verify.pool.pool_size = recommended.pool_size;
    verify.pool.max_overflow = Some(recommended.max_overflow);
    verify.force = true;
    Some(verify)
}
