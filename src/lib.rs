//! dbtool: check, ping, benchmark and lint the PostgreSQL databases behind SQLAlchemy services.
//!
//! `run` turns the parsed command line into a validated configuration, dispatches to one
//! subcommand, and returns the outcome that `main` maps to an exit code.

pub mod bench;
pub mod check_url;
pub mod cli;
pub mod conn;
pub mod exit;
pub mod lint;
pub mod output;
pub mod ping;
pub mod pool;
pub mod secret;
pub mod settings;
pub mod url;

use anyhow::Result;
use clap::CommandFactory;

use crate::check_url::{CheckUrlConfig, check_url};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::exit::Outcome;
use crate::output::Printer;
use crate::settings::{DotenvChoice, FlagValues, Settings};

/// Runs one command line to its outcome.
pub fn run(cli: Cli) -> Result<Outcome> {
    let printer = Printer::new(
        cli.global.format,
        cli.global.color,
        cli.global.quiet,
        cli.global.verbose,
    );
    match cli.command {
        Command::CheckUrl(args) => {
            require_format(&printer, "check-url")?;
            let mut flags = global_flag_values(&cli.global);
            flags.set("DATABASE_URL", args.url.clone().or(cli.global.url.clone()));
            let settings = load_settings(&cli.global, &flags, &printer)?;
            let config = CheckUrlConfig {
                url: settings.database_url().to_string(),
                strict: args.strict,
                show_password: args.show_password,
                libpq_major: args.libpq_version,
            };
            let report = check_url(&config);
            printer.stdout(|out| {
                output::write_check_url(out, &report, printer.format, printer.color)
            })?;
            match &report.error {
                Some(error) if !report.valid => Err(exit::invalid(error.message.clone())),
                _ => Ok(report.outcome),
            }
        }
        Command::LintConstraints(args) => {
            let settings = load_settings(&cli.global, &global_flag_values(&cli.global), &printer)?;
            let printer = Printer {
                echo: settings.echo(),
                ..printer
            };
            let options = lint::config::resolve(
                args.config.as_deref(),
                &args.conventions,
                args.label_schema,
            )?;
            if let Some(path) = &options.config_file {
                printer.info(&format!("read {}", path.display()));
            }
            let config = lint::LintConfig {
                url: settings.database_url().to_string(),
                filter: lint::catalog::Filter {
                    schemas: args.schemas.clone(),
                    exclude_schemas: args.exclude_schemas.clone(),
                    tables: args.tables.clone(),
                },
                options,
                include_partitions: args.include_partitions,
                baseline: args.baseline.clone(),
                write_baseline: args.write_baseline.clone(),
                connect_timeout: args.connect_timeout,
                paths: args.paths.clone(),
                files_over_live: cli.global.url.is_some(),
            };
            let report = until_interrupted(lint::lint(&config, &printer))??;
            output::write_file_errors(&report.errors);
            printer.stdout(|out| {
                if args.fix_sql {
                    output::write_fix_sql(out, &report)
                } else {
                    output::write_lint(out, &report, printer.format, printer.color)
                }
            })?;
            Ok(
                if report.violations.is_empty() && report.errors.is_empty() {
                    Outcome::Ok
                } else {
                    Outcome::Problems
                },
            )
        }
        Command::Ping(args) => {
            require_format(&printer, "ping")?;
            let mut flags = global_flag_values(&cli.global);
            flags.set("DATABASE_URL", args.url.clone().or(cli.global.url.clone()));
            args.pool.collect_into(&mut flags);
            let settings = load_settings(&cli.global, &flags, &printer)?;
            let printer = Printer {
                echo: settings.echo(),
                ..printer
            };
            for (name, value) in [
                ("--connect-timeout", args.connect_timeout),
                ("--interval", Some(args.interval)),
                ("--timeout", Some(args.timeout)),
            ] {
                if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                    return Err(exit::invalid(format!(
                        "{name} must be a number of seconds ≥ 0"
                    )));
                }
            }
            let config = ping::PingConfig {
                url: settings.database_url().to_string(),
                connect_timeout: args.connect_timeout,
                count: args.count,
                interval: args.interval,
                wait: args.wait.then_some(args.timeout),
                sizing: ping::PoolSizing {
                    pool_size: settings.pool_size(),
                    max_overflow: settings.max_overflow(),
                    pool_recycle: settings.pool_recycle(),
                    workers: args.workers,
                },
            };
            let report = until_interrupted(ping::ping(&config, &printer))?;
            printer.stdout(|out| {
                output::write_ping(out, &report, printer.format, printer.color, printer.quiet)
            })?;
            if let Some(error) = &report.error {
                return Err(exit::invalid(error.clone()));
            }
            Ok(report.status.outcome())
        }
        Command::PoolBench(args) => {
            require_format(&printer, "pool-bench")?;
            let mut flags = global_flag_values(&cli.global);
            flags.set("DATABASE_URL", args.url.clone().or(cli.global.url.clone()));
            args.pool.collect_into(&mut flags);
            let settings = load_settings(&cli.global, &flags, &printer)?;
            let printer = Printer {
                echo: settings.echo(),
                ..printer
            };
            let base = bench_config(&args, &settings)?;
            let runs = match &args.sweep {
                Some(sweep) => sweep_configs(&base, sweep, args.clients.is_none())?,
                None => vec![(None, base)],
            };
            let interrupt = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            // One thread: the clients are I/O-bound, wake-ups never cross threads, and the cores
            // are left to the server under test (measured: ~0.88x pgbench against ~0.77x with
            // a two-worker runtime).
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let flag = interrupt.clone();
            runtime.spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    flag.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            });
            let mut reports = Vec::new();
            for (value, config) in runs {
                let report = runtime.block_on(bench::run(&config, &printer, interrupt.clone()))?;
                let stop = report.interrupted;
                reports.push((value, report));
                if stop {
                    break;
                }
            }
            let sweep_key = args
                .sweep
                .as_deref()
                .and_then(|s| s.split_once('='))
                .map(|(k, _)| k.trim().to_string());
            printer.stdout(|out| {
                output::write_bench(
                    out,
                    &reports,
                    sweep_key.as_deref(),
                    printer.format,
                    printer.color,
                )
            })?;
            if let Some(path) = &args.plot {
                output::write_plot(path, &reports, sweep_key.as_deref())?;
                printer.info(&format!("wrote {}", path.display()));
            }
            runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            Ok(if reports.iter().any(|(_, r)| r.interrupted) {
                Outcome::Interrupted
            } else {
                Outcome::Ok
            })
        }
        Command::Settings(args) => {
            require_format(&printer, "settings")?;
            let mut flags = global_flag_values(&cli.global);
            args.pool.collect_into(&mut flags);
            let settings = load_settings(&cli.global, &flags, &printer)?;
            printer.stdout(|out| {
                output::write_settings(out, &settings, printer.format, printer.color)
            })?;
            Ok(Outcome::Ok)
        }
        Command::Completions(args) => {
            output::write_completions(args.shell, &mut Cli::command())?;
            Ok(Outcome::Ok)
        }
    }
}

/// Runs a subcommand's future until it finishes or Ctrl-C arrives. On Ctrl-C the future is
/// dropped and the runtime shut down, which closes every server connection, and the error
/// carries exit code 130.
///
/// One thread: the work is I/O-bound and the server usually shares the machine, so more runtime
/// threads only add switches (a large lint-constraints ran 1.2x slower with two workers).
fn until_interrupted<T>(future: impl std::future::Future<Output = T>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        tokio::select! {
            value = future => Some(value),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result.ok_or_else(|| {
        exit::Failure {
            outcome: Outcome::Interrupted,
            message: "interrupted; every connection was closed".into(),
        }
        .into()
    })
}

/// Refuses output formats a subcommand does not have.
fn require_format(printer: &Printer, command: &str) -> Result<()> {
    match printer.format {
        cli::Format::Table | cli::Format::Json => Ok(()),
        other => Err(exit::invalid(format!(
            "{command} has no --format {}: use table or json",
            format!("{other:?}").to_lowercase()
        ))),
    }
}

/// The pool-bench configuration from flags and settings.
fn bench_config(args: &cli::PoolBenchArgs, settings: &Settings) -> Result<bench::BenchConfig> {
    let seconds = |name: &str, value: f64| {
        if value.is_finite() && value >= 0.0 {
            Ok(std::time::Duration::from_secs_f64(value))
        } else {
            Err(exit::invalid(format!("{name} must be a number ≥ 0")))
        }
    };
    let pool = pool::PoolSettings {
        pool_size: settings.pool_size(),
        max_overflow: settings.max_overflow(),
        pool_timeout: seconds("DB_POOL_TIMEOUT", settings.pool_timeout())?,
        pool_recycle: settings
            .pool_recycle()
            .map(std::time::Duration::from_secs_f64),
        pre_ping: settings.pool_pre_ping(),
        use_lifo: args.use_lifo,
    };
    let workload = match (&args.script, args.sleep_ms) {
        (Some(path), _) => bench::Workload::Script(std::fs::read_to_string(path).map_err(|e| {
            exit::invalid(format!(
                "cannot read the script {}: {e}; check the path given to --script",
                path.display()
            ))
        })?),
        (None, Some(ms)) => {
            seconds("--sleep-ms", ms)?;
            bench::Workload::SleepMs(ms)
        }
        (None, None) => bench::Workload::Query(args.query.clone()),
    };
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(exit::invalid(
            "--rate must be a positive number of transactions per second",
        ));
    }
    let default_clients = pool.capacity().map_or(pool.pool_size + 5, |c| c + 5);
    Ok(bench::BenchConfig {
        url: settings.database_url().to_string(),
        pool,
        statement_timeout: seconds("DB_STATEMENT_TIMEOUT", settings.statement_timeout())?,
        clients: args.clients.unwrap_or(default_clients).max(1),
        workload,
        think: seconds("--think-ms", args.think_ms / 1000.0)?,
        duration: match (args.duration, args.transactions) {
            (Some(d), _) => Some(seconds("--duration", d)?),
            (None, Some(_)) => None,
            (None, None) => Some(std::time::Duration::from_secs(10)),
        },
        transactions: args.transactions,
        rate: args.rate,
        workers: args.workers,
        force: args.force,
        connect_timeout: args.connect_timeout,
    })
}

/// `--sweep KEY=V1,V2,...`: one configuration per value.
fn sweep_configs(
    base: &bench::BenchConfig,
    sweep: &str,
    default_clients: bool,
) -> Result<Vec<(Option<String>, bench::BenchConfig)>> {
    let (key, values) = sweep.split_once('=').ok_or_else(|| {
        exit::invalid(format!(
            "--sweep {sweep:?}: expected KEY=V1,V2,... with KEY pool_size, max_overflow or clients"
        ))
    })?;
    let key = key.trim();
    values
        .split(',')
        .map(|value| {
            let value = value.trim();
            let number: i64 = value.parse().map_err(|_| {
                exit::invalid(format!("--sweep {key}: {value:?} is not a whole number"))
            })?;
            let mut config = base.clone();
            let non_negative = || {
                u32::try_from(number)
                    .map_err(|_| exit::invalid(format!("--sweep {key}: {value} must be ≥ 0")))
            };
            match key {
                "pool_size" => config.pool.pool_size = non_negative()?,
                "max_overflow" if number == -1 => config.pool.max_overflow = None,
                "max_overflow" => config.pool.max_overflow = Some(non_negative()?),
                "clients" => config.clients = non_negative()?.max(1),
                other => {
                    return Err(exit::invalid(format!(
                        "--sweep {other}: sweep pool_size, max_overflow or clients"
                    )));
                }
            }
            if default_clients && key != "clients" {
                config.clients = config
                    .pool
                    .capacity()
                    .map_or(config.pool.pool_size + 5, |c| c + 5);
            }
            Ok((Some(value.to_string()), config))
        })
        .collect()
}

/// The settings that global flags set: `--url` and `--echo`.
fn global_flag_values(global: &GlobalArgs) -> FlagValues {
    let mut flags = FlagValues::default();
    flags.set("DATABASE_URL", global.url.clone());
    flags.set("DB_ECHO", global.echo.then(|| "true".to_string()));
    flags
}

fn load_settings(global: &GlobalArgs, flags: &FlagValues, printer: &Printer) -> Result<Settings> {
    let dotenv = match (&global.env_file, global.no_dotenv) {
        (_, true) => DotenvChoice::Skip,
        (Some(path), false) => DotenvChoice::File(path.clone()),
        (None, false) => DotenvChoice::WorkingDirectory,
    };
    let settings = Settings::resolve(flags, &dotenv)?;
    if let Some(path) = &settings.dotenv_path {
        printer.info(&format!("read settings from {}", path.display()));
    }
    Ok(settings)
}
