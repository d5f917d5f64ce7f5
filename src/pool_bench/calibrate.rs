//! `--calibrate PYTHON`: the application's time per round trip, measured from the real stack.
//!
//! The team's own interpreter runs the reference application (`scripts/reference_app.py`:
//! `create_async_engine`, `async_sessionmaker`, one session per request as FastAPI's `get_db`)
//! with SQLAlchemy and the URL's driver, against the target database, for a few seconds, under
//! the run's own load: its workers (processes), clients and think time or arrival rate, its
//! statements, its pool. The cost depends on the concurrency — requests that share one wake-up
//! of the loop share its fixed cost (measured: SQLAlchemy 2.1.9 + asyncpg, `SELECT 1`, 1.08 ms of
//! CPU per request at 1 client, 0.77 ms at 10, server on another core) — and on how many workers
//! share a core, so it is measured at the run's own, not taken from elsewhere.
//!
//! First the interpreter opens and closes a few connections one after another: their CPU time is
//! the cost of a connection (QueuePool opens and closes overflow connections under load). Then
//! process CPU time ÷ requests, less the connections it opened and the handler's work, ÷ the
//! round trips the driver model sends per request (counted on a real connection here) is the
//! time per round trip the run models.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;

use super::app_model::Calibration;
use super::config::{BenchConfig, Workload};
use crate::conn::plan::ConnectionPlan;
use crate::driver::{DriverKind, DriverModel};
use crate::exit::{invalid, problems};

/// The reference application, handed to the interpreter on its standard input (`python -`), so
/// no file is written anywhere.
const REFERENCE_APP: &str = include_str!("../../scripts/reference_app.py");

/// The calibration's measured window and the warm-up before it.
const WINDOW: Duration = Duration::from_secs(3);
const WARMUP: Duration = Duration::from_secs(1);

/// Connections opened and closed one after another to measure their cost.
const CONNECTS: u32 = 20;

/// How long the interpreter may take beyond its window before it is stopped.
const GRACE: Duration = Duration::from_secs(60);

/// Calibrates the application's time per round trip for `config`'s load with `python`.
pub(super) async fn calibrate(
    python: &str,
    config: &BenchConfig,
    target: &ConnectionPlan,
    driver: &DriverModel,
) -> Result<Calibration> {
    if let Workload::Script(_) = config.workload {
        return Err(invalid(
            "--calibrate runs --query or --sleep-ms workloads; with --script give the application's time with --app-cpu-us",
        ));
    }
    let round_trips = round_trips_per_request(config, target, driver).await?;
    let (python, config) = (python.to_string(), config.clone());
    let driver_kind = driver.kind;
    let output =
        tokio::task::spawn_blocking(move || run_reference_app(&python, &config, driver_kind))
            .await
            .context("the calibration's thread ended early")??;
    read_output(&output, round_trips)
}

/// What the interpreter printed, with what it was asked.
struct ReferenceAppOutput {
    python: String,
    stdout: String,
    stderr: String,
    status: Option<i32>,
    load: String,
    handler: Duration,
}

/// Round trips one request holds its connection for, in the driver model's steady state:
/// counted on a real connection over a few requests (the pre-ping as the pool sends it on a
/// reused connection, the session's BEGIN, the statements, COMMIT or ROLLBACK).
async fn round_trips_per_request(
    config: &BenchConfig,
    target: &ConnectionPlan,
    driver: &DriverModel,
) -> Result<f64> {
    let mut driver = driver.clone();
    driver.pacer = None;
    let mut connection = driver
        .connect(target, true)
        .await
        .map_err(|e| problems(format!("calibration: cannot connect: {e}")))?;
    let statements = config.workload.statements();
    let mut last = 0;
    for _ in 0..4 {
        let before = connection.session.round_trips;
        if config.pool.pre_ping {
            let _ = driver.pre_ping(&mut connection).await;
        }
        let _ = driver
            .request(&mut connection, &statements, config.commit)
            .await;
        last = connection.session.round_trips - before;
    }
    connection.session.terminate().await;
    Ok(last as f64)
}

/// Runs the reference application under the run's load and waits for it.
fn run_reference_app(
    python: &str,
    config: &BenchConfig,
    driver: DriverKind,
) -> Result<ReferenceAppOutput> {
    let workers = config.workers.max(1);
    let mut command = Command::new(python);
    command
        .arg("-")
        .args(["--driver", driver.name()])
        .args(["--workers", &workers.to_string()])
        .args(["--measure-connect", &CONNECTS.to_string()])
        .args(["--duration", &seconds(WINDOW)])
        .args(["--warmup", &seconds(WARMUP)])
        .args(["--pool-size", &config.pool.pool_size.to_string()])
        .args([
            "--max-overflow",
            &config.pool.max_overflow.map_or(-1, i64::from).to_string(),
        ])
        .args(["--pool-timeout", &seconds(config.pool.pool_timeout)])
        .args([
            "--pool-recycle",
            &config.pool.pool_recycle.map_or("-1".to_string(), seconds),
        ])
        .arg(if config.pool.pre_ping {
            "--pre-ping"
        } else {
            "--no-pre-ping"
        })
        .args(["--statement-timeout", &seconds(config.statement_timeout)])
        .args(["--think-ms", &milliseconds(config.think)])
        .args(["--handler-ms", &milliseconds(config.handler())])
        // The URL goes through the environment: a command line is visible to every user.
        .env("DATABASE_URL", &config.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let load = match config.rate {
        Some(rate) => {
            command
                .args(["--rate", &rate.to_string()])
                .args(["--clients", &config.clients.to_string()]);
            format!("{} arrivals/s", crate::duration::format_number(rate))
        }
        None => {
            command.args(["--clients", &config.clients.to_string()]);
            format!("{} clients", config.clients)
        }
    };
    let load = format!("{load}, {workers} worker(s)");
    match &config.workload {
        Workload::Sleep(sleep) => command.args(["--sleep-ms", &milliseconds(*sleep)]),
        workload => command.args(["--query", &workload.statements().join("; ")]),
    };
    if config.commit {
        command.arg("--commit");
    }
    let (stdout, stderr, status) = wait(python, command)?;
    Ok(ReferenceAppOutput {
        python: python.to_string(),
        stdout,
        stderr,
        status,
        load,
        handler: config.handler(),
    })
}

/// Starts the interpreter and waits for it, at most the window, the warm-up and a grace.
fn wait(python: &str, mut command: Command) -> Result<(String, String, Option<i32>)> {
    let mut child = command.spawn().map_err(|e| {
        invalid(format!(
            "--calibrate {python}: cannot run it ({e}); give the path of the application's Python, e.g. .venv/bin/python"
        ))
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        // The interpreter reads the whole script before it runs it; EOF when `stdin` drops.
        let _ = stdin.write_all(REFERENCE_APP.as_bytes());
    }
    let mut stdout = child.stdout.take().context("no stdout")?;
    let mut stderr = child.stderr.take().context("no stderr")?;
    let readers = (
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        }),
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        }),
    );
    let deadline = Instant::now() + WINDOW + WARMUP + GRACE;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(problems(format!(
                "--calibrate {python}: the reference application did not finish within {} s; is the database answering?",
                (WINDOW + WARMUP + GRACE).as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = readers.0.join().unwrap_or_default();
    let stderr = readers.1.join().unwrap_or_default();
    Ok((stdout, stderr, status.code()))
}

/// The calibration from what the interpreter printed.
fn read_output(output: &ReferenceAppOutput, round_trips: f64) -> Result<Calibration> {
    let python = &output.python;
    let last_line = output.stdout.lines().rev().find(|l| !l.trim().is_empty());
    let json: Option<Value> = last_line.and_then(|line| serde_json::from_str(line).ok());
    let Some(json) = json else {
        let why = output
            .stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        return Err(invalid(format!(
            "--calibrate {python}: the reference application failed (exit {}): {}; is this the application's Python 3?",
            output
                .status
                .map_or("by a signal".to_string(), |c| c.to_string()),
            crate::url::redact_text(why.trim())
        )));
    };
    if let Some(missing) = json["missing"].as_str() {
        return Err(invalid(format!(
            "--calibrate {python}: it cannot import {missing}; install it there ({}) or give --app-cpu-us",
            json["install"]
                .as_str()
                .unwrap_or("pip install 'sqlalchemy[asyncio]'")
        )));
    }
    if let Some(error) = json["error"].as_str() {
        return Err(problems(format!(
            "--calibrate {python}: the reference application could not run: {}",
            crate::url::redact_text(error)
        )));
    }
    let requests = json["requests"].as_u64().unwrap_or(0);
    let cpu = json["cpu_s"].as_f64().unwrap_or(f64::NAN);
    if requests == 0 || !cpu.is_finite() || cpu < 0.0 {
        return Err(problems(format!(
            "--calibrate {python}: the reference application completed no request in {} s (errors: {}); check the database and the workload",
            WINDOW.as_secs(),
            json["errors"]
        )));
    }
    let connect_ms = json["connect_cpu_ms"]
        .as_f64()
        .filter(|ms| ms.is_finite() && *ms >= 0.0);
    let connect_cpu = Duration::from_secs_f64(connect_ms.unwrap_or(0.0) / 1000.0);
    let connections_opened = json["connections_opened"].as_u64().unwrap_or(0);
    let connects = connect_cpu.as_secs_f64() * connections_opened as f64;
    let per_request = Duration::from_secs_f64((cpu - connects).max(0.0) / requests as f64);
    let versions: BTreeMap<String, String> = json["versions"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Calibration {
        python: python.clone(),
        python_version: json["python"].as_str().unwrap_or_default().to_string(),
        versions,
        load: output.load.clone(),
        requests,
        // The handler's work was passed to the interpreter, and is modelled on its own.
        cpu_per_request: per_request.saturating_sub(output.handler),
        connect_cpu,
        connections_opened,
        round_trips_per_request: round_trips,
        loop_utilization: json["loop_utilization"].as_f64().unwrap_or(0.0),
        tps: json["tps"].as_f64().unwrap_or(0.0),
        p99_ms: json["latency_ms"]["p99"].as_f64().unwrap_or(0.0),
    })
}

impl Calibration {
    /// The application's time per round trip.
    pub(crate) fn per_round_trip(&self) -> Duration {
        self.cpu_per_request
            .div_f64(self.round_trips_per_request.max(1.0))
    }
}

fn seconds(duration: Duration) -> String {
    duration.as_secs_f64().to_string()
}

fn milliseconds(duration: Duration) -> String {
    (duration.as_secs_f64() * 1000.0).to_string()
}
