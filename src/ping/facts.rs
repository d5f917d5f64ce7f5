//! Server facts, read in one round trip after the pre-ping.

use crate::wire::{Frontend, Session, WireError};

/// What the server says about itself and its limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerFacts {
    pub(crate) server_version: String,
    pub(crate) in_recovery: bool,
    pub(crate) read_only: bool,
    pub(crate) max_connections: i64,
    pub(crate) superuser_reserved_connections: i64,
    /// PostgreSQL 16+.
    pub(crate) reserved_connections: Option<i64>,
    pub(crate) client_backends: i64,
    /// -1: no limit.
    pub(crate) role_connection_limit: i64,
    pub(crate) statement_timeout_ms: i64,
    /// PostgreSQL 14+.
    pub(crate) idle_session_timeout_ms: Option<i64>,
    pub(crate) idle_in_transaction_session_timeout_ms: i64,
    /// The server process running this session (`pg_backend_pid()`).
    pub(crate) backend_pid: i32,
}

impl ServerFacts {
    /// Connections left to roles without superuser or pg_use_reserved_connections.
    pub(crate) fn available_to_ordinary_roles(&self) -> i64 {
        self.max_connections
            - self.superuser_reserved_connections
            - self.reserved_connections.unwrap_or(0)
    }
}

pub(super) const FACTS_SQL: &str = "SELECT current_setting('server_version'), pg_is_in_recovery()::text, \
    current_setting('transaction_read_only'), current_setting('max_connections'), \
    current_setting('superuser_reserved_connections'), current_setting('reserved_connections', true), \
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::text, \
    (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user)::text, \
    (extract(epoch FROM current_setting('statement_timeout')::interval) * 1000)::int8::text, \
    (extract(epoch FROM current_setting('idle_session_timeout', true)::interval) * 1000)::int8::text, \
    (extract(epoch FROM current_setting('idle_in_transaction_session_timeout')::interval) * 1000)::int8::text, \
    pg_backend_pid()::text";

pub(super) async fn read(client: &mut Session) -> Result<ServerFacts, WireError> {
    let rows = client.rows(&[Frontend::Query(FACTS_SQL)]).await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(ServerFacts::default());
    };
    let value = |i: usize| row.get(i).and_then(|v| v.as_deref());
    let text = |i: usize| value(i).unwrap_or_default().to_string();
    let number = |i: usize| value(i).and_then(|v| v.trim().parse::<i64>().ok());
    Ok(ServerFacts {
        server_version: text(0),
        in_recovery: text(1) == "true",
        read_only: text(2) == "on",
        max_connections: number(3).unwrap_or(0),
        superuser_reserved_connections: number(4).unwrap_or(0),
        reserved_connections: number(5),
        client_backends: number(6).unwrap_or(0),
        role_connection_limit: number(7).unwrap_or(-1),
        statement_timeout_ms: number(8).unwrap_or(0),
        idle_session_timeout_ms: number(9),
        idle_in_transaction_session_timeout_ms: number(10).unwrap_or(0),
        backend_pid: number(11).unwrap_or(0) as i32,
    })
}
