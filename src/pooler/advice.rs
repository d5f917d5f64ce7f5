//! What a pooler found by [`super`] means for the application's driver, with the exact
//! change that fixes it. Each remedy was run through a real PgBouncer in transaction mode with a
//! real SQLAlchemy engine (`scripts/prove-pgbouncer-advice.sh`).

use super::{PoolMode, Pooler, PoolerKind};
use crate::driver::{DriverKind, DriverModel};
use crate::finding::{Code, Finding};

use crate::driver::{ASYNCPG_FIX, PSYCOPG_FIX};

/// PgBouncer's own answer since 1.21: it tracks protocol-level prepared statements.
const PGBOUNCER_FIX: &str =
    "or run PgBouncer 1.21 or newer with max_prepared_statements = 200 in pgbouncer.ini";

pub(crate) fn behind_pooler(pooler: &Pooler, driver: &DriverModel, user: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let who = pooler.kind.describe();
    for refused in &pooler.refused_parameters {
        findings.push(Finding::new(
            Code::PoolerRefusesStartupParameter,
            refused_parameter(&who, &refused.name, &refused.message, driver, user),
        ));
    }
    let transactions_lost = matches!(
        pooler.mode,
        Some(PoolMode::Transaction | PoolMode::Statement)
    ) && pooler.prepared_statements_survive == Some(false);
    if pooler.mode == Some(PoolMode::Statement) {
        findings.push(Finding::new(Code::PoolerStatementMode, format!(
                "{who} pools statements: SQLAlchemy runs every session in a transaction (BEGIN ... COMMIT), which statement pooling refuses (\"transaction blocks not allowed\"); set pool_mode = transaction for this database"
            )));
    }
    if transactions_lost {
        let pools = match pooler.mode {
            Some(PoolMode::Statement) => "statements",
            _ => "transactions",
        };
        let installed = match &pooler.kind {
            PoolerKind::Pgbouncer {
                version: Some(version),
            } => format!(" (this is {version})"),
            _ => String::new(),
        };
        match driver.kind {
            DriverKind::Asyncpg => findings.push(Finding::new(Code::PoolerPreparedStatements, format!(
                    "{who} pools {pools} and a named prepared statement does not survive from one transaction to the next: asyncpg prepares every statement by name and the application will fail with 'prepared statement \"__asyncpg_stmt_N__\" does not exist' (or 'already exists'); use {ASYNCPG_FIX} (SQLAlchemy's documented remedy), {PGBOUNCER_FIX}{installed}"
                ))),
            DriverKind::Psycopg => findings.push(Finding::new(Code::PoolerPreparedStatements, format!(
                    "{who} pools {pools} and a named prepared statement does not survive from one transaction to the next: psycopg prepares a statement from its 5th execution (prepare_threshold=5) and the application will fail with 'prepared statement \"_pg3_N\" already exists'; use {PSYCOPG_FIX} in create_engine, {PGBOUNCER_FIX}{installed}"
                ))),
            // psycopg2 sends simple queries only; pg8000 is not modelled.
            DriverKind::Psycopg2 | DriverKind::Raw => {}
        }
    }
    if pooler.mode.is_none() {
        findings.push(Finding::new(
            Code::PoolerModeUnknown,
            format!(
                "{who} sits in front of the server but its pooling mode could not be told: {}",
                pooler.evidence.last().map_or("", String::as_str)
            ),
        ));
    }
    findings
}

/// A startup parameter the driver sends and the pooler refuses: every connection fails.
fn refused_parameter(
    who: &str,
    name: &str,
    message: &str,
    driver: &DriverModel,
    user: &str,
) -> String {
    let timeout_ms = driver.statement_timeout_ms;
    let what = match (name, driver.kind) {
        ("statement_timeout", DriverKind::Asyncpg) => format!(
            "asyncpg sends DB_STATEMENT_TIMEOUT as the startup parameter statement_timeout={timeout_ms} (connect_args server_settings)"
        ),
        ("options", _) => format!(
            "{} sends DB_STATEMENT_TIMEOUT in the startup parameter options (-c statement_timeout={timeout_ms})",
            driver.kind
        ),
        _ => format!("{} sends the startup parameter {name}", driver.kind),
    };
    let fix = if name == "statement_timeout" || name == "options" {
        format!(
            "set the timeout on the role instead, where every server connection the pooler opens picks it up (ALTER ROLE {user} SET statement_timeout = '{timeout_ms}ms'), and stop sending it at connect time; or list {name} in PgBouncer's ignore_startup_parameters (the timeout is then not applied)"
        )
    } else {
        format!("stop sending it, or list {name} in PgBouncer's ignore_startup_parameters")
    };
    format!(
        "{who} refuses a startup parameter the application sends: {what}, and the pooler answers \"{message}\": every connection the application opens will fail; {fix}"
    )
}
