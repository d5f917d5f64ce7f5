//! Each subcommand's glue, one file each: flags and settings → a validated configuration, the
//! runtime and Ctrl-C, the report → `output`. The only layer that knows both the domain modules
//! and `output`; `lib.rs` just dispatches here.

mod check_migrations;
mod check_url;
mod completions;
mod connections;
mod explain;
mod lint_constraints;
mod ping;
mod pool_bench;
mod settings;

use std::future::Future;
use std::time::Duration;

use anyhow::Result;

use crate::cli::{Cli, Command, Format, GlobalArgs};
use crate::environment::Environment;
use crate::exit::{self, Outcome};
use crate::interrupt::Interrupt;
use crate::output::Printer;
use crate::settings::app::{self, AppChoice};
use crate::settings::{DotenvChoice, FlagValues, Settings};

/// Runs one parsed command line to its outcome, with the environment `main` read.
pub(crate) fn run(cli: Cli, environment: &Environment) -> Result<Outcome> {
    let printer = Printer::new(
        cli.global.format.unwrap_or(Format::Table),
        cli.global.color,
        cli.global.quiet,
        cli.global.verbose,
        environment,
    );
    let context = Context {
        global: &cli.global,
        printer,
        environment,
    };
    match &cli.command {
        Command::CheckUrl(args) => check_url::run(context, args),
        Command::CheckMigrations(args) => check_migrations::run(context, args),
        Command::LintConstraints(args) => lint_constraints::run(context, args),
        Command::Ping(args) => ping::run(context, args),
        Command::PoolBench(args) => pool_bench::run(context, args),
        Command::Connections(args) => connections::run(context, args),
        Command::Settings(args) => settings::run(context, args),
        Command::Explain(args) => explain::run(context, args),
        Command::Completions(args) => completions::run(args),
    }
}

/// What every subcommand's glue starts from: the global flags, how to print, and the
/// environment the settings and the connection are read with.
#[derive(Clone, Copy)]
struct Context<'a> {
    global: &'a GlobalArgs,
    printer: Printer,
    environment: &'a Environment,
}

impl Context<'_> {
    /// The settings that global flags set (`--url`, `--echo`), as flag values.
    fn flag_values(&self) -> FlagValues {
        let mut flags = FlagValues::default();
        flags.set("DATABASE_URL", self.global.url.clone());
        flags.set("DB_ECHO", self.global.echo.then(|| "true".to_string()));
        flags
    }

    /// The flag values with a subcommand's positional URL, which beats `--url`.
    fn flag_values_with_url(&self, positional: &Option<String>) -> FlagValues {
        let mut flags = self.flag_values();
        flags.set("DATABASE_URL", positional.clone());
        flags
    }

    /// Resolves the settings; `DB_ECHO` turns on echoing of SQL from here on.
    fn settings(&mut self, flags: &FlagValues) -> Result<Settings> {
        let dotenv = match (&self.global.env_file, self.global.no_dotenv) {
            (_, true) => DotenvChoice::Skip,
            (Some(path), false) => DotenvChoice::File(path.clone()),
            (None, false) => DotenvChoice::WorkingDirectory,
        };
        let app = match self
            .global
            .app_from
            .clone()
            .or_else(crate::lint::config::app_from)
        {
            Some(dir) => {
                let choice = AppChoice {
                    engine: self.global.app_engine.clone(),
                    env_file: self.global.env_file.clone(),
                    no_dotenv: self.global.no_dotenv,
                };
                let app = app::read(&dir, &choice, self.environment)?;
                self.printer.progress.info(&format!(
                    "read the engine from {} ({}())",
                    app.engine.place, app.engine.function
                ));
                for warning in &app.warnings {
                    self.printer.progress.warn(warning);
                }
                Some(app)
            }
            None if self.global.app_engine.is_some() => {
                return Err(exit::invalid(
                    "--app-engine needs --app-from DIR (or app_from in dbtool.toml)",
                ));
            }
            None => None,
        };
        let settings = Settings::resolve_with_app(flags, &dotenv, self.environment, app)?;
        if let Some(path) = &settings.dotenv_path {
            self.printer
                .progress
                .info(&format!("read settings from {}", path.display()));
            for line in &settings.skipped_lines {
                self.printer.progress.warn(&format!(
                    "{}: the statement on line {line} cannot be parsed; python-dotenv skips it, so the application and dbtool ignore it",
                    path.display()
                ));
            }
        }
        self.printer.progress.echo = settings.echo();
        Ok(settings)
    }
}

/// Runs a subcommand's future on a one-thread runtime until it finishes or Ctrl-C arrives. On
/// Ctrl-C the future is dropped and the runtime shut down, which closes every server connection,
/// and the error carries exit code 130.
fn until_interrupted<T, F: Future<Output = T>>(work: impl FnOnce() -> F) -> Result<T> {
    let finished = on_runtime(|interrupt| async move {
        tokio::select! {
            value = work() => Some(value),
            _ = interrupt.wait() => None,
        }
    })?;
    finished.ok_or_else(|| {
        exit::Failure {
            outcome: Outcome::Interrupted,
            message: "interrupted; every connection was closed".into(),
        }
        .into()
    })
}

/// Runs a future to its end on a one-thread runtime, handing it the [`Interrupt`] that Ctrl-C
/// sets, for runs that stop on their own and still report (pool-bench).
///
/// One runtime thread: ping and lint-constraints are I/O-bound and the server usually shares
/// the machine, so more runtime threads only add switches (a large lint-constraints ran 1.2x
/// slower with two workers). pool-bench's clients do not all run here: it starts threads of its
/// own, each with a one-thread runtime (`pool_bench::lanes`): `--jobs` lanes for `--driver raw`, one
/// event loop per `--workers` worker under the application model. This thread runs its monitor
/// (and, for `--driver raw`, lane 0).
fn on_runtime<T, F: Future<Output = T>>(work: impl FnOnce(Interrupt) -> F) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let value = runtime.block_on(async { work(Interrupt::listen()).await });
    runtime.shutdown_timeout(Duration::from_millis(500));
    Ok(value)
}
