//! `dbtool pool-bench`: the application's pool under a synthetic load, with its statistics.
//!
//! `clients` tasks loop checkout → workload → return → think time, for a duration or a number of
//! transactions; with `rate`, transactions arrive on a fixed schedule instead (open loop) and
//! latency is measured from the scheduled start, so a stall is not hidden (coordinated omission).
//! Errors never stop the run: they are counted by SQLSTATE or kind.

mod advice;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;

use crate::conn::connect::{self, Target};
use crate::exit::invalid;
use crate::interrupt::Interrupt;
use crate::pool::{CheckoutError, PoolCounters, PoolSettings, PoolStatus, QueuePool};
use crate::progress::Progress;
use crate::url::parse_database_url;

pub use advice::Advice;

/// What each simulated request does while it holds a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    Query(String),
    Sleep(Duration),
    /// Several statements, run in one transaction.
    Script(String),
}

#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub url: String,
    pub pool: PoolSettings,
    pub statement_timeout: Duration,
    pub clients: u32,
    pub workload: Workload,
    pub think: Duration,
    pub duration: Option<Duration>,
    pub transactions: Option<u64>,
    /// Open-loop arrivals per second.
    pub rate: Option<f64>,
    pub workers: u32,
    pub force: bool,
    pub connect_timeout: Option<Duration>,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
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

/// One second of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    pub t: u64,
    pub tps: f64,
    pub p99_ms: f64,
    pub open: u64,
    pub in_use: u64,
    pub idle: u64,
    pub waiting: u64,
    pub errors: u64,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub config: BenchConfig,
    pub transactions: u64,
    pub elapsed: f64,
    pub tps: f64,
    pub latency: Percentiles,
    pub wait: Percentiles,
    pub timeouts: u64,
    pub errors: BTreeMap<String, u64>,
    pub connections: PoolCounters,
    pub server_max_connections: Option<i64>,
    pub server_peak_backends: Option<i64>,
    pub timeline: Vec<Tick>,
    pub final_status: PoolStatus,
    /// Mean time a connection is held per transaction, in ms (Little's law input).
    pub mean_hold_ms: f64,
    pub advice: Advice,
    pub interrupted: bool,
}

/// Shared between the clients and the sampler.
struct Recorder {
    latency: Mutex<Histogram<u64>>,
    wait: Mutex<Histogram<u64>>,
    /// Latencies of the current second, for the timeline's p99.
    window: Mutex<Histogram<u64>>,
    transactions: AtomicU64,
    hold_micros: AtomicU64,
    holds: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    error_count: AtomicU64,
    stop: AtomicBool,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            latency: Mutex::new(histogram()),
            wait: Mutex::new(histogram()),
            window: Mutex::new(histogram()),
            transactions: AtomicU64::new(0),
            hold_micros: AtomicU64::new(0),
            holds: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            error_count: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    fn record(histogram: &Mutex<Histogram<u64>>, value: Duration) {
        let micros = (value.as_micros() as u64).clamp(1, 3_600_000_000);
        if let Ok(mut h) = histogram.lock() {
            let _ = h.record(micros);
        }
    }

    fn error(&self, kind: String) {
        self.error_count.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(kind).or_default() += 1;
        }
    }
}

/// Refuses a pool that could take more connections than the server has free, unless forced.
async fn check_server_capacity(
    target: &Target,
    config: &BenchConfig,
) -> Result<(Option<i64>, Option<tokio_postgres::Client>)> {
    // The monitor has its own application_name so it is not counted as one of the pool's backends.
    let mut monitor_config = target.config.clone();
    monitor_config.application_name("dbtool-pool-bench-monitor");
    let client = connect::connect_with(target, &monitor_config).await?;
    let row = client
        .query_one(
            "SELECT current_setting('max_connections')::int8, current_setting('superuser_reserved_connections')::int8 \
             + coalesce(current_setting('reserved_connections', true)::int8, 0), \
             (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int8",
            &[],
        )
        .await?;
    let (max, reserved, used): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
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
    Ok((Some(max), Some(client)))
}

/// Runs one configuration to its report. `interrupt` ends the run early (Ctrl-C).
pub async fn run(
    config: &BenchConfig,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<BenchReport> {
    let (_, info) = parse_database_url(&config.url)?;
    let target = connect::resolve(&info, "dbtool-pool-bench", config.connect_timeout)?;
    let application_name = target
        .config
        .get_application_name()
        .unwrap_or("dbtool-pool-bench")
        .to_string();
    let (server_max_connections, monitor) = check_server_capacity(&target, config).await?;
    let pool = Arc::new(QueuePool::new(
        &target,
        config.pool,
        config.statement_timeout,
    ));
    let recorder = Arc::new(Recorder::new());
    let started = Instant::now();
    let deadline = config.duration.map(|d| started + d);
    let budget = config.transactions.map(|n| Arc::new(AtomicU64::new(n)));

    // Open loop: a schedule of intended start times, shared by the clients.
    let schedule = config.rate.map(|rate| {
        let (sender, receiver) = async_channel(config.clients as usize * 4);
        // `rate` was checked at the edge: 1/rate is a representable, non-zero interval.
        let interval = Duration::from_secs_f64(1.0 / rate);
        let recorder = recorder.clone();
        tokio::spawn(async move {
            let mut next = Instant::now();
            while !recorder.stop.load(Ordering::Relaxed) {
                if sender.send(next).await.is_err() {
                    break;
                }
                next += interval;
                tokio::time::sleep_until(next.into()).await;
            }
        });
        receiver
    });

    let mut clients = Vec::new();
    for _ in 0..config.clients {
        let (pool, recorder, budget, schedule, workload) = (
            pool.clone(),
            recorder.clone(),
            budget.clone(),
            schedule.clone(),
            config.workload.clone(),
        );
        let think = config.think;
        clients.push(tokio::spawn(async move {
            loop {
                if recorder.stop.load(Ordering::Relaxed)
                    || deadline.is_some_and(|d| Instant::now() >= d)
                {
                    break;
                }
                if let Some(budget) = &budget
                    && budget
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_err()
                {
                    break;
                }
                let intended = match &schedule {
                    Some(receiver) => match receiver.recv().await {
                        Some(at) => at,
                        None => break,
                    },
                    None => Instant::now(),
                };
                let checkout_started = Instant::now();
                let mut connection = match pool.checkout().await {
                    Ok(connection) => connection,
                    Err(CheckoutError::Timeout(_)) => {
                        recorder.error_count.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Err(CheckoutError::Connect { code, .. }) => {
                        recorder.error(code.unwrap_or_else(|| "connect".into()));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                Recorder::record(&recorder.wait, checkout_started.elapsed());
                let held = Instant::now();
                let result = run_workload(&mut connection, &workload).await;
                recorder
                    .hold_micros
                    .fetch_add(held.elapsed().as_micros() as u64, Ordering::Relaxed);
                recorder.holds.fetch_add(1, Ordering::Relaxed);
                let broken = match result {
                    Ok(()) => {
                        let latency = intended.elapsed();
                        Recorder::record(&recorder.latency, latency);
                        Recorder::record(&recorder.window, latency);
                        recorder.transactions.fetch_add(1, Ordering::Relaxed);
                        false
                    }
                    Err(error) => {
                        let kind = error.as_db_error().map_or_else(
                            || {
                                if connection.client.is_closed() {
                                    "connection_lost".to_string()
                                } else {
                                    "client".to_string()
                                }
                            },
                            |db| db.code().code().to_string(),
                        );
                        recorder.error(kind);
                        connection.client.is_closed()
                    }
                };
                pool.checkin(connection, broken);
                if !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
            }
        }));
    }

    // Once a second: the timeline, the live view and the server's count of our backends.
    let mut timeline = Vec::new();
    let mut peak_backends: Option<i64> = None;
    let live = progress.spinner("starting");
    let mut last_transactions = 0;
    let mut last_tick = started;
    let mut interrupted = false;
    let mut stuck = false;
    let grace = target.connect_timeout.max(Duration::from_secs(2));
    let mut second = 1;
    loop {
        let finished = clients.iter().all(|c| c.is_finished());
        if finished {
            break;
        }
        if interrupt.requested() {
            interrupted = true;
            recorder.stop.store(true, Ordering::Relaxed);
            break;
        }
        // A server that stops answering must not hold the run past its end: after a grace
        // period, requests still waiting for it are abandoned.
        if let Some(deadline) = deadline
            && Instant::now() > deadline + grace
        {
            stuck = true;
            break;
        }
        let next = started + Duration::from_secs(second);
        tokio::time::sleep_until(next.into()).await;
        if Instant::now() < next {
            continue;
        }
        second += 1;
        if let Some(monitor) = &monitor
            && let Ok(row) = monitor
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
                    &[&application_name],
                )
                .await
        {
            let backends: i64 = row.get(0);
            peak_backends = Some(peak_backends.map_or(backends, |p| p.max(backends)));
        }
        let transactions = recorder.transactions.load(Ordering::Relaxed);
        let seconds = last_tick.elapsed().as_secs_f64();
        last_tick = Instant::now();
        let p99 = recorder.window.lock().map(|mut w| {
            let p99 = if w.is_empty() {
                0.0
            } else {
                w.value_at_quantile(0.99) as f64 / 1000.0
            };
            w.reset();
            p99
        });
        let status = pool.status();
        let tick = Tick {
            t: started.elapsed().as_secs(),
            tps: (transactions - last_transactions) as f64 / seconds.max(1e-9),
            p99_ms: p99.unwrap_or(0.0),
            open: status.open,
            in_use: status.in_use,
            idle: status.idle,
            waiting: status.waiting,
            errors: recorder.error_count.load(Ordering::Relaxed),
        };
        last_transactions = transactions;
        if let Some(live) = &live {
            live.set_message(format!(
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
            ));
        }
        timeline.push(tick);
    }
    recorder.stop.store(true, Ordering::Relaxed);
    for client in clients {
        if interrupted || stuck {
            // Stop promptly: in-flight statements are dropped, which closes their connections.
            client.abort();
        }
        let _ = client.await;
    }
    drop(live);
    let final_status = pool.status();
    pool.dispose();
    drop(monitor);

    let elapsed = started.elapsed().as_secs_f64();
    let transactions = recorder.transactions.load(Ordering::Relaxed);
    let latency = recorder
        .latency
        .lock()
        .map(|h| Percentiles::of(&h))
        .unwrap_or_default();
    let wait = recorder
        .wait
        .lock()
        .map(|h| Percentiles::of(&h))
        .unwrap_or_default();
    let connections = pool.counters();
    let mut errors = recorder
        .errors
        .lock()
        .map(|e| e.clone())
        .unwrap_or_default();
    if connections.timeouts > 0 {
        errors.insert("pool_timeout".into(), connections.timeouts);
    }
    if stuck {
        errors.insert("abandoned_after_deadline".into(), u64::from(config.clients));
    }
    let holds = recorder.holds.load(Ordering::Relaxed);
    let mean_hold_ms =
        recorder.hold_micros.load(Ordering::Relaxed) as f64 / 1000.0 / holds.max(1) as f64;
    let tps = transactions as f64 / elapsed.max(1e-9);
    let advice = advice::advise(
        tps,
        mean_hold_ms,
        &config.pool,
        config.workers,
        server_max_connections,
        connections.timeouts,
    );
    Ok(BenchReport {
        config: config.clone(),
        transactions,
        elapsed,
        tps,
        latency,
        wait,
        timeouts: connections.timeouts,
        errors,
        connections,
        server_max_connections,
        server_peak_backends: peak_backends,
        timeline,
        final_status,
        mean_hold_ms,
        advice,
        interrupted,
    })
}

/// Runs the workload on one connection; the query is prepared once per connection and kept with
/// it, like `pgbench -M prepared`.
async fn run_workload(
    connection: &mut crate::pool::PooledConnection,
    workload: &Workload,
) -> Result<(), tokio_postgres::Error> {
    let client = &connection.client;
    match workload {
        Workload::Query(sql) => {
            let statement = match &connection.prepared {
                Some(statement) => statement.clone(),
                None => {
                    let statement = client.prepare(sql).await?;
                    connection.prepared = Some(statement.clone());
                    statement
                }
            };
            client.query(&statement, &[]).await.map(|_| ())
        }
        Workload::Sleep(duration) => client
            .execute("SELECT pg_sleep($1)", &[&duration.as_secs_f64()])
            .await
            .map(|_| ()),
        Workload::Script(script) => client
            .batch_execute(&format!("BEGIN;\n{script}\n;COMMIT;"))
            .await
            .map(|_| ()),
    }
}

/// A bounded multi-consumer channel of scheduled start times.
fn async_channel(capacity: usize) -> (ScheduleSender, ScheduleReceiver) {
    let (sender, receiver) = tokio::sync::mpsc::channel(capacity.max(1));
    (
        ScheduleSender(sender),
        ScheduleReceiver(Arc::new(tokio::sync::Mutex::new(receiver))),
    )
}

struct ScheduleSender(tokio::sync::mpsc::Sender<Instant>);

impl ScheduleSender {
    async fn send(&self, at: Instant) -> Result<(), ()> {
        self.0.send(at).await.map_err(|_| ())
    }
}

#[derive(Clone)]
struct ScheduleReceiver(Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Instant>>>);

impl ScheduleReceiver {
    async fn recv(&self) -> Option<Instant> {
        self.0.lock().await.recv().await
    }
}
