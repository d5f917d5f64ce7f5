//! What `connections` reads from the server, each in one READ ONLY transaction and one round
//! trip (simple protocol, so it passes through PgBouncer in any pooling mode): the limits of the
//! URL's role and database, and the sessions in pg_stat_activity.
//!
//! Visibility: without superuser or pg_read_all_stats, a role sees other roles' sessions with
//! their pid, database, user and application_name but no state, client address or times, and
//! with no backend_type either; such rows are kept as [`Backend::hidden`] when they are in a
//! database (an autovacuum worker looks the same: that is said, not guessed away).

use anyhow::{Context, Result};
use tokio_postgres::{Client, SimpleQueryMessage, SimpleQueryRow};

use super::plan::ServerLimits;

/// The role and database the session runs as, and the server's limits for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) limits: ServerLimits,
    pub(crate) user: String,
    pub(crate) database: String,
    pub(crate) server_version: String,
    /// Superuser or member of pg_read_all_stats: sees every session in full.
    pub(crate) sees_all: bool,
    pub(crate) backend_pid: i32,
}

const IDENTITY_SQL: &str = "SELECT current_setting('server_version_num'), current_setting('server_version'), \
    current_setting('max_connections'), current_setting('superuser_reserved_connections'), \
    current_setting('reserved_connections', true), r.rolsuper::text, \
    (SELECT pg_has_role(session_user, oid, 'USAGE') FROM pg_roles WHERE rolname = 'pg_use_reserved_connections')::text, \
    (SELECT pg_has_role(session_user, oid, 'USAGE') FROM pg_roles WHERE rolname = 'pg_read_all_stats')::text, \
    r.rolconnlimit::text, d.datconnlimit::text, session_user, current_database(), pg_backend_pid()::text \
    FROM pg_roles r, pg_database d WHERE r.rolname = session_user AND d.datname = current_database()";

/// One session in pg_stat_activity.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Backend {
    pub(crate) pid: i32,
    pub(crate) user: String,
    pub(crate) database: String,
    pub(crate) application_name: String,
    /// `None` for a Unix socket, or when hidden.
    pub(crate) client_addr: Option<String>,
    /// `None` when hidden.
    pub(crate) state: Option<String>,
    /// Seconds since its transaction began.
    pub(crate) transaction_age: Option<f64>,
    /// Seconds since its state last changed.
    pub(crate) state_age: Option<f64>,
    /// dbtool's own session.
    pub(crate) own: bool,
    /// Another role's session this role may not look into.
    pub(crate) hidden: bool,
}

impl Backend {
    /// Not idle: running, or holding a transaction open.
    pub(crate) fn in_use(&self) -> bool {
        self.state.as_deref().is_some_and(|state| state != "idle")
    }

    pub(crate) fn idle_in_transaction(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|state| state.starts_with("idle in transaction"))
    }
}

/// Client backends, and other roles' sessions in a database that this role may not see.
const ACTIVITY_SQL: &str = "SELECT pid::text, coalesce(usename, ''), coalesce(datname, ''), \
    coalesce(application_name, ''), host(client_addr), state, \
    extract(epoch FROM now() - xact_start)::float8::text, \
    extract(epoch FROM now() - state_change)::float8::text, \
    (pid = pg_backend_pid())::text, (backend_type IS NULL)::text \
    FROM pg_stat_activity \
    WHERE backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL) \
    ORDER BY pid";

/// Runs `sql` in a READ ONLY transaction, in one round trip, and returns its rows.
async fn read_only(client: &Client, sql: &str) -> Result<Vec<SimpleQueryRow>> {
    let messages = client
        .simple_query(&format!("BEGIN READ ONLY; {sql}; COMMIT"))
        .await?;
    Ok(messages
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .collect())
}

fn number<T: std::str::FromStr>(row: &SimpleQueryRow, i: usize) -> Option<T> {
    row.get(i).and_then(|v| v.trim().parse().ok())
}

fn text(row: &SimpleQueryRow, i: usize) -> String {
    row.get(i).unwrap_or_default().to_string()
}

/// A CONNECTION LIMIT: -1 is none.
fn connection_limit(row: &SimpleQueryRow, i: usize) -> Option<u64> {
    number::<i64>(row, i).and_then(|limit| u64::try_from(limit).ok())
}

pub(crate) async fn identity(client: &Client) -> Result<Identity> {
    let rows = read_only(client, IDENTITY_SQL)
        .await
        .context("reading the server's connection limits")?;
    let row = rows
        .first()
        .context("the session's role or database is not in pg_roles / pg_database")?;
    let superuser = text(row, 5) == "true";
    Ok(Identity {
        limits: ServerLimits {
            major: number::<u32>(row, 0).unwrap_or(0) / 10000,
            max_connections: number(row, 2).unwrap_or(0),
            superuser_reserved_connections: number(row, 3).unwrap_or(0),
            reserved_connections: number(row, 4),
            superuser,
            uses_reserved: text(row, 6) == "true",
            role_limit: connection_limit(row, 8),
            database_limit: connection_limit(row, 9),
        },
        server_version: text(row, 1),
        sees_all: superuser || text(row, 7) == "true",
        user: text(row, 10),
        database: text(row, 11),
        backend_pid: number(row, 12).unwrap_or(0),
    })
}

pub(crate) async fn activity(client: &Client) -> Result<Vec<Backend>> {
    let rows = read_only(client, ACTIVITY_SQL)
        .await
        .context("reading pg_stat_activity")?;
    Ok(rows
        .iter()
        .map(|row| Backend {
            pid: number(row, 0).unwrap_or(0),
            user: text(row, 1),
            database: text(row, 2),
            application_name: text(row, 3),
            client_addr: row.get(4).map(str::to_string),
            state: row.get(5).map(str::to_string),
            transaction_age: number(row, 6),
            state_age: number(row, 7),
            own: text(row, 8) == "true",
            hidden: text(row, 9) == "true",
        })
        .collect())
}

/// One sample for `--watch`: per application_name, open sessions, those in use, those idle in
/// a transaction and those hidden (no state); dbtool's own session left out. Grouped on the
/// server so a sample is a few rows whatever the number of sessions.
const SAMPLE_SQL: &str = "SELECT coalesce(application_name, ''), count(*)::text, \
    count(*) FILTER (WHERE state <> 'idle')::text, \
    count(*) FILTER (WHERE state LIKE 'idle in transaction%')::text, \
    count(*) FILTER (WHERE state IS NULL)::text \
    FROM pg_stat_activity \
    WHERE (backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL)) \
    AND pid <> pg_backend_pid() GROUP BY 1";

/// One application's counts in one sample.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SampleRow {
    pub(crate) application_name: String,
    pub(crate) open: u64,
    pub(crate) in_use: u64,
    pub(crate) idle_in_transaction: u64,
    pub(crate) hidden: u64,
}

pub(crate) async fn sample(client: &Client) -> Result<Vec<SampleRow>> {
    let rows = read_only(client, SAMPLE_SQL)
        .await
        .context("sampling pg_stat_activity")?;
    Ok(rows
        .iter()
        .map(|row| SampleRow {
            application_name: text(row, 0),
            open: number(row, 1).unwrap_or(0),
            in_use: number(row, 2).unwrap_or(0),
            idle_in_transaction: number(row, 3).unwrap_or(0),
            hidden: number(row, 4).unwrap_or(0),
        })
        .collect())
}
