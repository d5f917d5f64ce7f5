//! `dbtool pool-bench`: flags and settings → one configuration per run (`--sweep`), the runs
//! (with `--verify`, the same load again with the recommended pool), the report and the plot.

use anyhow::Result;

use super::{Context, on_runtime};
use crate::cli::PoolBenchArgs;
use crate::driver::{DriverKind, DriverOptions};
use crate::environment::Environment;
use crate::exit::{Outcome, invalid};
use crate::interrupt::Interrupt;
use crate::output;
use crate::pool::PoolSettings;
use crate::pool_bench::{self, AppModel, BenchConfig, CostSource, Workload};
use crate::progress::Progress;
use crate::settings::Settings;
use crate::url::sqlalchemy::{parse_scheme, read_as_sqlalchemy};

pub(super) fn run(mut context: Context, args: &PoolBenchArgs) -> Result<Outcome> {
    let format = context.printer.table_or_json("pool-bench")?;
    let mut flags = context.flag_values_with_url(&args.url);
    args.pool.collect_into(&mut flags);
    let settings = context.settings(&flags)?;
    let base = bench_config(args, &settings)?;
    let sweep = args.sweep.as_deref().map(Sweep::parse).transpose()?;
    let runs = match &sweep {
        Some(sweep) => sweep.configs(&base, args.clients.is_none())?,
        None => vec![(None, base)],
    };
    let (printer, environment) = (context.printer, context.environment);
    let verify = args.verify;
    let reports = on_runtime(|interrupt| async move {
        let mut reports = Vec::new();
        for (value, config) in runs {
            let report =
                pool_bench::run(&config, environment, &printer.progress, &interrupt).await?;
            let stop = report.interrupted;
            reports.push((value, report));
            if stop {
                break;
            }
        }
        if verify
            && let Some((_, first)) = reports.first()
            && !first.interrupted
            && let Some(report) =
                verify_run(first, environment, &printer.progress, &interrupt).await?
        {
            reports.push((Some("verify".into()), report));
        }
        anyhow::Ok(reports)
    })??;
    let swept = sweep.as_ref().map(|s| s.key);
    printer
        .stdout(|out| output::write_bench(out, &reports, swept, verify, format, printer.color))?;
    if let Some(path) = &args.plot {
        output::write_plot(path, &reports, swept)?;
        printer.progress.info(&format!("wrote {}", path.display()));
    }
    Ok(if reports.iter().any(|(_, r)| r.interrupted) {
        Outcome::Interrupted
    } else {
        Outcome::Ok
    })
}

/// `--verify`: the first run's load again with its recommended pool; `None` (and a warning)
/// without a recommendation.
async fn verify_run(
    first: &pool_bench::BenchReport,
    environment: &Environment,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<Option<pool_bench::BenchReport>> {
    let Some(config) = pool_bench::with_recommendation(&first.config, &first.advice) else {
        progress.warn("--verify: no recommendation to verify (no request held a connection)");
        return Ok(None);
    };
    progress.info(&format!(
        "verifying: the same load with pool_size {} max_overflow {}",
        config.pool.pool_size,
        config.pool.max_overflow.unwrap_or_default()
    ));
    Ok(Some(
        pool_bench::run(&config, environment, progress, interrupt).await?,
    ))
}

/// The pool-bench configuration from flags and settings; durations were checked at the edge.
fn bench_config(args: &PoolBenchArgs, settings: &Settings) -> Result<BenchConfig> {
    let pool = PoolSettings {
        pool_size: settings.pool_size(),
        max_overflow: settings.max_overflow(),
        pool_timeout: settings.pool_timeout(),
        pool_recycle: settings.pool_recycle(),
        pre_ping: settings.pool_pre_ping(),
        use_lifo: args.use_lifo,
    };
    let workload = match (&args.script, args.sleep_ms) {
        (Some(path), _) => Workload::Script(script_statements(path)?),
        (None, Some(sleep)) => Workload::Sleep(sleep),
        (None, None) => Workload::Query(args.query.clone()),
    };
    let url = settings.database_url();
    let (driver, driver_options) = driver(args, url)?;
    let clients = match args.rate {
        Some(_) => args.clients.unwrap_or(OPEN_LOOP_IN_FLIGHT),
        None => args.clients.unwrap_or(default_clients(&pool)),
    }
    .max(1);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(BenchConfig {
        url: url.to_string(),
        jobs: args
            .jobs
            .map_or(cpus, |jobs| jobs as usize)
            .min(clients as usize),
        driver,
        driver_options,
        commit: args.commit,
        clients,
        pool,
        statement_timeout: settings.statement_timeout(),
        workload,
        think: args.think_ms,
        duration: match (args.duration, args.transactions) {
            (Some(duration), _) => Some(duration),
            (None, Some(_)) => None,
            (None, None) => Some(std::time::Duration::from_secs(10)),
        },
        warmup: args.warmup,
        transactions: args.transactions,
        rate: args.rate,
        workers: args.workers,
        force: args.force,
        connect_timeout: args.connect_timeout,
        app: app_model(args, driver)?,
        calibrate: args.calibrate.clone(),
    })
}

/// The application around the pool: `None` for the raw path (flags that model an application
/// are refused there).
fn app_model(args: &PoolBenchArgs, driver: DriverKind) -> Result<Option<AppModel>> {
    let Some(default) = pool_bench::default_app_cpu(driver) else {
        if args.app_cpu_us.is_some()
            || args.app_connect_ms.is_some()
            || args.calibrate.is_some()
            || !args.handler_ms.is_zero()
            || args.app_cpus.is_some()
        {
            return Err(invalid(
                "--driver raw is dbtool's own client with no application around it: drop --app-cpu-us, --app-connect-ms, --calibrate, --handler-ms and --app-cpus, or pick the application's driver",
            ));
        }
        return Ok(None);
    };
    if args.jobs.is_some() {
        return Err(invalid(
            "--jobs sets the client threads of --driver raw; the application's drivers run one event loop per worker: use --workers",
        ));
    }
    let (app_cpu, source) = match args.app_cpu_us {
        Some(cost) => (cost, CostSource::Flag),
        None => (default, CostSource::Default),
    };
    Ok(Some(AppModel {
        app_cpu,
        handler: args.handler_ms,
        connect_cpu: args
            .app_connect_ms
            .unwrap_or_else(|| pool_bench::default_connect_cpu(driver)),
        app_cpus: args.app_cpus.unwrap_or(args.workers),
        source,
    }))
}

/// The statements of a `--script` file, split as psql splits them.
fn script_statements(path: &std::path::Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        invalid(format!(
            "cannot read the script {}: {e}; check the path given to --script",
            path.display()
        ))
    })?;
    if text.contains('\0') {
        return Err(invalid(format!(
            "the script {} contains a NUL byte, which no PostgreSQL statement can carry; remove it",
            path.display()
        )));
    }
    let statements: Vec<String> = crate::lint::sqlfile::split_statements(&text)
        .into_iter()
        .map(|range| text[range].trim().trim_end_matches(';').trim().to_string())
        .filter(|statement| !statement.is_empty())
        .collect();
    if statements.is_empty() {
        return Err(invalid(format!(
            "the script {} has no statement; give it at least one",
            path.display()
        )));
    }
    Ok(statements)
}

/// `--driver`, else the URL's driver as SQLAlchemy reads it; with the URL options SQLAlchemy
/// passes to that driver (`prepared_statement_cache_size`, `prepare_threshold`).
fn driver(args: &PoolBenchArgs, url: &str) -> Result<(DriverKind, DriverOptions)> {
    let kind = match args.driver {
        Some(kind) => kind,
        None => match parse_scheme(url).map(|scheme| DriverKind::of(scheme.effective_driver())) {
            Ok(Some(kind)) => kind,
            Ok(None) => {
                return Err(invalid(
                    "pool-bench has no model of pg8000's traffic: pass --driver asyncpg, psycopg, psycopg2 or raw",
                ));
            }
            Err(error) => return Err(invalid(format!("invalid URL: {}", error.message))),
        },
    };
    let mut options = DriverOptions::default();
    let reading = read_as_sqlalchemy(url).ok();
    let option = |key: &str| {
        reading
            .as_ref()
            .and_then(|r| r.query_value(key)?.last().cloned())
    };
    if let Some(size) = option("prepared_statement_cache_size") {
        options.statement_cache_size = size.trim().parse().map_err(|_| {
            invalid(format!(
                "prepared_statement_cache_size={size:?} in the URL: give a whole number ≥ 0"
            ))
        })?;
    }
    if let Some(threshold) = option("prepare_threshold") {
        // Recorded with SQLAlchemy 2.1 and psycopg 3.3 (tests/fixtures/driver_requests.json,
        // "probes"): the URL passes the text on, and psycopg's first execute fails comparing it.
        return Err(invalid(format!(
            "prepare_threshold={threshold:?} in a psycopg URL reaches psycopg as text and its first query fails (TypeError); pass it in connect_args={{\"prepare_threshold\": ...}} and here with --prepare-threshold"
        )));
    }
    if let Some(size) = args.statement_cache_size {
        options.statement_cache_size = size;
    }
    if let Some(threshold) = &args.prepare_threshold {
        options.prepare_threshold = match threshold.trim() {
            "none" | "None" => None,
            text => Some(text.parse().map_err(|_| {
                invalid(format!(
                    "--prepare-threshold {threshold:?}: give a whole number ≥ 0 or none"
                ))
            })?),
        };
    }
    Ok((kind, options))
}

/// Without `--clients` in the open loop: requests in flight at once, a bound on memory (a few
/// kilobytes each) that an application's concurrent requests rarely reach.
const OPEN_LOOP_IN_FLIGHT: u32 = 10_000;

/// Without `--clients` in the closed loop: five more requests than the pool can serve at once.
fn default_clients(pool: &PoolSettings) -> u32 {
    pool.capacity()
        .map_or(pool.pool_size, |capacity| capacity)
        .saturating_add(5)
}

/// `--sweep KEY=V1,V2,...`.
struct Sweep<'a> {
    key: &'a str,
    values: Vec<&'a str>,
}

impl<'a> Sweep<'a> {
    fn parse(text: &'a str) -> Result<Sweep<'a>> {
        let (key, values) = text.split_once('=').ok_or_else(|| {
            invalid(format!(
                "--sweep {text:?}: expected KEY=V1,V2,... with KEY pool_size, max_overflow or clients"
            ))
        })?;
        let key = key.trim();
        if !["pool_size", "max_overflow", "clients"].contains(&key) {
            return Err(invalid(format!(
                "--sweep {key}: sweep pool_size, max_overflow or clients"
            )));
        }
        Ok(Sweep {
            key,
            values: values.split(',').map(str::trim).collect(),
        })
    }

    /// One configuration per value.
    fn configs(
        &self,
        base: &BenchConfig,
        default_clients: bool,
    ) -> Result<Vec<(Option<String>, BenchConfig)>> {
        let key = self.key;
        self.values
            .iter()
            .map(|&value| {
                let number: i64 = value.parse().map_err(|_| {
                    invalid(format!("--sweep {key}: {value:?} is not a whole number"))
                })?;
                let non_negative = || {
                    u32::try_from(number)
                        .map_err(|_| invalid(format!("--sweep {key}: {value} must be ≥ 0")))
                };
                let mut config = base.clone();
                match key {
                    "pool_size" => config.pool.pool_size = non_negative()?,
                    "max_overflow" if number == -1 => config.pool.max_overflow = None,
                    "max_overflow" => config.pool.max_overflow = Some(non_negative()?),
                    _ => config.clients = non_negative()?.max(1),
                }
                if default_clients && key != "clients" && base.rate.is_none() {
                    config.clients = self::default_clients(&config.pool);
                }
                Ok((Some(value.to_string()), config))
            })
            .collect()
    }
}
