//! dbtool: check, ping, benchmark and lint the PostgreSQL databases behind SQLAlchemy services.
//!
//! `run` turns the parsed command line into a validated configuration, dispatches to one
//! subcommand, and returns the outcome that `main` maps to an exit code.

pub mod check_url;
pub mod cli;
pub mod conn;
pub mod exit;
pub mod lint;
pub mod output;
pub mod ping;
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
            };
            let report = runtime()?.block_on(lint::lint_live(&config, &printer))?;
            printer.stdout(|out| {
                if args.fix_sql {
                    output::write_fix_sql(out, &report)
                } else {
                    output::write_lint(out, &report, printer.format, printer.color)
                }
            })?;
            Ok(if report.violations.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Problems
            })
        }
        Command::Ping(args) => {
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
            let report = runtime()?.block_on(ping::ping(&config, &printer));
            printer.stdout(|out| {
                output::write_ping(out, &report, printer.format, printer.color, printer.quiet)
            })?;
            if let Some(error) = &report.error {
                return Err(exit::invalid(error.clone()));
            }
            Ok(report.status.outcome())
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

/// A runtime for the subcommands that talk to a server.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
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
