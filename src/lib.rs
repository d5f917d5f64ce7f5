//! dbtool: check, ping, benchmark and lint the PostgreSQL databases behind SQLAlchemy services.
//!
//! `run` dispatches the parsed command line to its subcommand's glue in `commands`, which
//! returns the outcome that `main` maps to an exit code.

pub mod bench;
pub(crate) mod check_migrations;
pub mod check_url;
pub mod cli;
mod commands;
pub mod conn;
pub mod driver;
pub mod duration;
pub mod environment;
pub mod exit;
pub mod finding;
pub mod interrupt;
pub mod lint;
pub mod output;
pub mod password;
pub mod ping;
pub mod pool;
pub mod pooler;
pub mod progress;
pub mod python;
pub mod secret;
pub mod settings;
pub mod system;
pub mod url;
pub mod wire;

/// Runs one command line to its outcome, with the environment read at start-up.
pub fn run(cli: cli::Cli, environment: &environment::Environment) -> anyhow::Result<exit::Outcome> {
    commands::run(cli, environment)
}
