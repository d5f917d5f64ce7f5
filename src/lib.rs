//! dbtool: check, ping, benchmark and lint the PostgreSQL databases behind SQLAlchemy services.
//!
//! `run` turns the parsed command line into a validated configuration, dispatches to one
//! subcommand, and returns the outcome that `main` maps to an exit code.

pub mod check_url;
pub mod cli;
pub mod conn;
pub mod exit;
pub mod output;
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
        Command::Settings(args) => {
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
