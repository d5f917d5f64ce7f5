//! dbtool's integration tests: one binary, the real `dbtool` executable, a real PostgreSQL.

mod check_url;
mod cli;
mod completions;
mod exit_codes;
#[allow(dead_code)] // the harness serves later modules too
mod pg;
mod settings;
