//! Behind PgBouncer: its limits and pools from the admin console (`SHOW CONFIG`, `SHOW
//! DATABASES`, `SHOW POOLS`, simple protocol only), when the URL's user may read it
//! (admin_users or stats_users); else what could not be read is said.
//!
//! What the plan meets there: every client connection counts against `max_client_conn`; the
//! server connections for one database/user pair are at most the pool size (`default_pool_size`
//! or the database's `pool_size`) plus `reserve_pool_size`, capped by `max_db_connections` and
//! `max_user_connections`; in session pooling each client holds one of them for its whole
//! session, so clients beyond that wait (`query_wait_timeout`, 120 s by default).

use tokio_postgres::{SimpleQueryMessage, SimpleQueryRow};

use super::plan::{Budget, Verdict};
use super::{APPLICATION_NAME, BehindPooler};
use crate::conn::connect;
use crate::conn::plan::ConnectionPlan;
use crate::finding::{Code, Finding};
use crate::pooler::{PoolMode, Pooler, PoolerKind};

/// PgBouncer's settings for the URL's database, as its console says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BouncerLimits {
    pub(crate) pool_mode: String,
    pub(crate) max_client_conn: u64,
    /// The database's pool_size (SHOW DATABASES), else default_pool_size.
    pub(crate) pool_size: u64,
    pub(crate) reserve_pool_size: u64,
    /// 0: no limit.
    pub(crate) max_db_connections: u64,
    /// 0: no limit.
    pub(crate) max_user_connections: u64,
    pub(crate) query_wait_timeout: String,
}

impl BouncerLimits {
    /// The most server connections PgBouncer opens for one database/user pair.
    pub(crate) fn server_connections(&self) -> u64 {
        let mut most = self.pool_size + self.reserve_pool_size;
        for cap in [self.max_db_connections, self.max_user_connections] {
            if cap > 0 {
                most = most.min(cap);
            }
        }
        most
    }
}

/// One line of `SHOW POOLS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BouncerPool {
    pub(crate) database: String,
    pub(crate) user: String,
    pub(crate) cl_active: u64,
    pub(crate) cl_waiting: u64,
    pub(crate) sv_active: u64,
    pub(crate) sv_idle: u64,
    pub(crate) sv_used: u64,
    pub(crate) maxwait: u64,
    pub(crate) pool_mode: String,
}

fn column(row: &SimpleQueryRow, name: &str) -> Option<String> {
    let index = row.columns().iter().position(|c| c.name() == name)?;
    row.get(index).map(str::to_string)
}

fn count(row: &SimpleQueryRow, name: &str) -> u64 {
    column(row, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn rows(messages: Vec<SimpleQueryMessage>) -> Vec<SimpleQueryRow> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .collect()
}

/// Reads the console for the pooler `found`; a pooler that is not PgBouncer, or a console that
/// refuses the user, leaves the limits unknown with the reason.
pub(crate) async fn read(target: &ConnectionPlan, found: Pooler) -> BehindPooler {
    let mut behind = BehindPooler {
        pooler: found,
        limits: None,
        pools: Vec::new(),
        unreadable: None,
        server_connections: None,
    };
    if !matches!(behind.pooler.kind, PoolerKind::Pgbouncer { .. }) {
        behind.unreadable =
            Some("the pooler does not say what it is, so its limits cannot be read".into());
        return behind;
    }
    let mut config = target.config.clone();
    config
        .dbname("pgbouncer")
        .application_name(APPLICATION_NAME);
    let console = match connect::connect_with(target, &config).await {
        Ok(console) => console,
        Err(error) => {
            behind.unreadable = Some(format!(
                "PgBouncer's admin console refused user {} ({}); add it to stats_users to read max_client_conn, default_pool_size, reserve_pool_size and max_db_connections",
                target.user,
                first_line(&format!("{error:#}"))
            ));
            return behind;
        }
    };
    let (Ok(config_rows), Ok(databases), Ok(pools)) = (
        console.simple_query("SHOW CONFIG").await.map(rows),
        console.simple_query("SHOW DATABASES").await.map(rows),
        console.simple_query("SHOW POOLS").await.map(rows),
    ) else {
        behind.unreadable = Some(format!(
            "PgBouncer's admin console took user {} but refused SHOW CONFIG, SHOW DATABASES or SHOW POOLS",
            target.user
        ));
        return behind;
    };
    let setting = |key: &str| {
        config_rows
            .iter()
            .find(|row| column(row, "key").as_deref() == Some(key))
            .and_then(|row| column(row, "value"))
            .unwrap_or_default()
    };
    let number = |key: &str| setting(key).trim().parse::<u64>().unwrap_or(0);
    let mut limits = BouncerLimits {
        pool_mode: setting("pool_mode"),
        max_client_conn: number("max_client_conn"),
        pool_size: number("default_pool_size"),
        reserve_pool_size: number("reserve_pool_size"),
        max_db_connections: number("max_db_connections"),
        max_user_connections: number("max_user_connections"),
        query_wait_timeout: setting("query_wait_timeout"),
    };
    if let Some(database) = databases
        .iter()
        .find(|row| column(row, "name").as_deref() == Some(target.dbname.as_str()))
    {
        // -1 (or an older PgBouncer's empty column): the global default applies.
        let own = |name: &str| {
            column(database, name)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .and_then(|v| u64::try_from(v).ok())
        };
        limits.pool_size = own("pool_size").unwrap_or(limits.pool_size);
        limits.reserve_pool_size = own("reserve_pool").unwrap_or(limits.reserve_pool_size);
        if let Some(mode) = column(database, "pool_mode").filter(|m| !m.is_empty()) {
            limits.pool_mode = mode;
        }
        let cap = count(database, "max_connections");
        if cap > 0 {
            limits.max_db_connections = cap;
        }
    }
    behind.pools = pools
        .iter()
        .map(|row| BouncerPool {
            database: column(row, "database").unwrap_or_default(),
            user: column(row, "user").unwrap_or_default(),
            cl_active: count(row, "cl_active"),
            cl_waiting: count(row, "cl_waiting"),
            sv_active: count(row, "sv_active"),
            sv_idle: count(row, "sv_idle"),
            sv_used: count(row, "sv_used"),
            maxwait: count(row, "maxwait"),
            pool_mode: column(row, "pool_mode").unwrap_or_default(),
        })
        .filter(|pool| pool.database != "pgbouncer")
        .collect();
    behind.server_connections = Some(limits.server_connections());
    behind.limits = Some(limits);
    behind
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The plan against the pooler's limits, and the pooler's server connections against the
/// server's limit for the role; the verdict these give.
pub(crate) fn findings(
    behind: &BehindPooler,
    budget: &Budget,
    server_limit: u64,
) -> (Vec<Finding>, Verdict) {
    let mut findings = Vec::new();
    let Some(limits) = &behind.limits else {
        findings.push(Finding::new(
            Code::PoolerLimitsUnknown,
            behind.unreadable.clone().unwrap_or_default(),
        ));
        let verdict = match budget.verdict {
            Verdict::Fits | Verdict::Over => Verdict::Unknown,
            other => other,
        };
        return (findings, verdict);
    };
    let worst = budget.worst_case;
    if let Some(worst) = worst
        && worst > limits.max_client_conn
    {
        findings.push(Finding::new(
            Code::ConnectionBudgetExceeded,
            format!(
                "the plan can open {worst} client connections but PgBouncer takes {} (max_client_conn); raise it",
                limits.max_client_conn
            ),
        ));
    }
    let servers = limits.server_connections();
    if servers > server_limit {
        findings.push(Finding::new(
            Code::ConnectionBudgetExceeded,
            format!(
                "PgBouncer may open {servers} server connections for this database and user (pool_size {} + reserve_pool_size {}) but the server leaves the role {server_limit}; lower them or set max_db_connections",
                limits.pool_size, limits.reserve_pool_size
            ),
        ));
    }
    let session = behind.pooler.mode == Some(PoolMode::Session) || limits.pool_mode == "session";
    if session
        && let Some(worst) = worst
        && worst > servers
    {
        findings.push(Finding::new(
            Code::PoolerSessionWait,
            format!(
                "session pooling gives each client a server connection for its whole session: the plan's {worst} clients share {servers} (pool_size {} + reserve_pool_size {}), so the rest wait up to query_wait_timeout ({} s) and fail; raise pool_size or use transaction pooling",
                limits.pool_size, limits.reserve_pool_size, limits.query_wait_timeout
            ),
        ));
    }
    let verdict = match budget.verdict {
        Verdict::Fits | Verdict::Over if findings.is_empty() => Verdict::Fits,
        Verdict::Fits | Verdict::Over => Verdict::Over,
        other => other,
    };
    (findings, verdict)
}
