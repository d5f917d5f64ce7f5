//! dbtool: check, ping, benchmark and lint the PostgreSQL databases behind SQLAlchemy services.
//!
//! `run` dispatches the parsed command line to its subcommand's glue in `commands`, which
//! returns the outcome that `main` maps to an exit code.
//!
//! Everything is `pub(crate)` unless something outside the crate uses it, so that rustc reports
//! dead code (`unreachable_pub` keeps it that way). The public surface is what the binary
//! (`src/main.rs`), the integration tests (`tests/it/`) and the fuzz targets (`fuzz/src/lib.rs`)
//! call, and nothing more: the `pub mod`s below, and inside them only the items those callers
//! name (and the types their signatures carry). Widen an item only for such a caller.

#![warn(unreachable_pub)]

pub(crate) mod check_migrations;
pub mod check_url;
pub mod cli;
mod commands;
pub mod conn;
mod driver;
mod duration;
pub mod environment;
pub mod exit;
pub mod finding;
mod interrupt;
pub mod lint;
pub mod output;
pub mod password;
mod ping;
mod pool;
mod pool_bench;
mod pooler;
mod progress;
mod python;
pub mod secret;
pub mod settings;
mod system;
pub mod url;
mod wire;

/// Runs one command line to its outcome, with the environment read at start-up.
pub fn run(cli: cli::Cli, environment: &environment::Environment) -> anyhow::Result<exit::Outcome> {
    commands::run(cli, environment)
}
