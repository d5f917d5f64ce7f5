//! The drivers' traffic as SQLAlchemy 2.1 drives them, message for message, from the recorded
//! fixture (`tests/fixtures/driver_requests.json`):
//!
//! | | asyncpg | psycopg (3) | psycopg2 |
//! |---|---|---|---|
//! | startup | `client_encoding='utf-8'`, `server_settings` as their own parameters | libpq: `options=-c ...`, `application_name` | as psycopg |
//! | first connect | `BEGIN;`, four dialect queries prepared and run, `ROLLBACK;` | `BEGIN`, four simple queries, a TypeInfo query for hstore in a savepoint, `ROLLBACK` | the hstore lookup in its own transaction, then `BEGIN`, four simple queries, `ROLLBACK` |
//! | pre-ping | `BEGIN;`, `fetchrow(';')` through asyncpg's own statement cache, `ROLLBACK;` | `;` (autocommit) | `SELECT 1` (autocommit) |
//! | request | `BEGIN;`, each statement from SQLAlchemy's per-connection cache of named statements (`P`+`D`+`H` once, then `B`+`E`+`S`), `COMMIT;`/`ROLLBACK;` | `BEGIN`, each statement as a simple query until its execution count reaches `prepare_threshold`, then prepared (`P`+`S`) and bound by name (`B`+`D`+`E`+`S`); `COMMIT`, or `ROLLBACK` which clears the counts and sends `DEALLOCATE ALL` when something was prepared | `BEGIN`, simple queries, `COMMIT`/`ROLLBACK` |
//!
//! A freshly opened connection is not pre-pinged (SQLAlchemy pings only connections it reuses);
//! returning a connection to the pool sends nothing (the session's ROLLBACK already ended the
//! transaction).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::conn::plan::ConnectionPlan;
use crate::conn::tcp::TcpSettings;
use crate::wire::{self, Frontend, Pace, Session, WireError};

/// The asyncpg remedy for transaction pooling, from SQLAlchemy's asyncpg dialect documentation
/// ("Prepared Statement Name with PGBouncer"), with both statement caches off; proved by
/// `scripts/prove-pgbouncer-advice.sh`.
pub(crate) const ASYNCPG_FIX: &str = "create_async_engine(url + \"?prepared_statement_cache_size=0\", \
     connect_args={\"statement_cache_size\": 0, \"prepared_statement_name_func\": lambda: f\"__asyncpg_{uuid4()}__\"})";

/// psycopg's: never prepare (the URL form reaches psycopg as text and fails, see the fixture's
/// "probes").
pub(crate) const PSYCOPG_FIX: &str = "connect_args={\"prepare_threshold\": None}";

/// The driver whose traffic is reproduced (also `pool-bench --driver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DriverKind {
    Asyncpg,
    Psycopg,
    Psycopg2,
    /// dbtool's minimal path: the workload as one cached prepared statement, `SELECT 1` as the
    /// pre-ping, no transaction statements; for comparisons with pgbench.
    Raw,
}

impl DriverKind {
    /// Whether SQLAlchemy drives it from an asyncio event loop (`create_async_engine`).
    pub(crate) fn is_async(self) -> bool {
        matches!(self, DriverKind::Asyncpg | DriverKind::Psycopg)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            DriverKind::Asyncpg => "asyncpg",
            DriverKind::Psycopg => "psycopg",
            DriverKind::Psycopg2 => "psycopg2",
            DriverKind::Raw => "raw",
        }
    }
}

impl DriverKind {
    /// The model of the driver a URL's scheme names, as SQLAlchemy picks it (`postgresql://`:
    /// psycopg2); `None` for pg8000, whose traffic is not modelled.
    pub(crate) fn of(driver: crate::url::sqlalchemy::Driver) -> Option<DriverKind> {
        use crate::url::sqlalchemy::Driver;
        match driver {
            Driver::Asyncpg => Some(DriverKind::Asyncpg),
            Driver::Psycopg => Some(DriverKind::Psycopg),
            Driver::Psycopg2 | Driver::Psycopg2cffi => Some(DriverKind::Psycopg2),
            Driver::Pg8000 => None,
        }
    }
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The URL options SQLAlchemy passes to the driver that change what it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DriverOptions {
    /// asyncpg: SQLAlchemy's `prepared_statement_cache_size` (default 100; 0: no cache, every
    /// execution prepares a new statement and closes the previous one).
    pub(crate) statement_cache_size: usize,
    /// psycopg: `prepare_threshold` (default 5; `None`: never prepare).
    pub(crate) prepare_threshold: Option<u32>,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            statement_cache_size: 100,
            prepare_threshold: Some(5),
        }
    }
}

/// The dialect's queries on the engine's first connection (`PGDialect.initialize`).
const INITIALIZE: [&str; 4] = [
    "select pg_catalog.version()",
    "select current_schema()",
    "show transaction isolation level",
    "show standard_conforming_strings",
];

/// psycopg's `TypeInfo.fetch(conn, "hstore")`, sent by SQLAlchemy's psycopg dialect.
const PSYCOPG_TYPE_INFO: &str = "SELECT\n    typname AS name, oid, typarray AS array_oid,\n    oid::regtype::text AS regtype, typdelim AS delimiter\nFROM pg_type t\nWHERE t.oid = to_regtype($1)\nORDER BY t.oid\n";

/// psycopg2's hstore lookup (`HstoreAdapter.get_oids`), sent from SQLAlchemy's on-connect hook.
const PSYCOPG2_HSTORE: &str = "SELECT t.oid, typarray\nFROM pg_type t JOIN pg_namespace ns\n    ON typnamespace = ns.oid\nWHERE typname = 'hstore';\n";

/// asyncpg binds with binary formats.
const BINARY: &[i16] = &[1];
const TEXT: &[i16] = &[0];

/// A driver with the application's connect-time settings. Clones share the statement-name
/// counter, which in asyncpg is process-wide.
#[derive(Debug, Clone)]
pub(crate) struct DriverModel {
    pub(crate) kind: DriverKind,
    pub(crate) options: DriverOptions,
    /// `statement_timeout` in milliseconds (0: none), sent at connect time as the driver sends it.
    pub(crate) statement_timeout_ms: u128,
    pub(crate) application_name: String,
    /// Startup parameters left out because the server (a pooler) refuses them.
    pub(crate) left_out: Vec<String>,
    /// The application's own time around each round trip (pool-bench's application model),
    /// given to every connection this driver opens.
    pub(crate) pacer: Option<Arc<dyn Pace>>,
    /// Socket options instead of the plan's (ping --idle-probe's keepalive set).
    pub(crate) tcp: Option<TcpSettings>,
    names: Arc<AtomicU64>,
}

/// A connection as the driver holds it: the session and what the driver remembers about it.
pub(crate) struct Connection {
    pub(crate) session: Session,
    /// SQLAlchemy's asyncpg cache, or the raw path's: statement text → name, least recently
    /// used first.
    cached: VecDeque<(String, String)>,
    /// asyncpg's own statement cache, used by the pre-ping's `fetchrow(';')`.
    asyncpg_internal: HashMap<String, String>,
    /// asyncpg without a cache: the last statement prepared, closed at the next prepare.
    uncached: Option<String>,
    /// psycopg: executions per statement text since the last ROLLBACK, statements prepared
    /// (text → name), and the per-connection name counter.
    executions: HashMap<String, u32>,
    prepared: HashMap<String, String>,
    next_prepared: u64,
}

impl DriverModel {
    pub(crate) fn new(
        kind: DriverKind,
        options: DriverOptions,
        statement_timeout_ms: u128,
        application_name: String,
    ) -> DriverModel {
        DriverModel {
            kind,
            options,
            statement_timeout_ms,
            application_name,
            left_out: Vec::new(),
            pacer: None,
            tcp: None,
            names: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The startup parameters the driver sends, in its words: asyncpg passes `server_settings`
    /// as parameters of their own (`statement_timeout=30000`), libpq-based drivers put them in
    /// `options` (`-c statement_timeout=30000`).
    pub(crate) fn startup_parameters(&self, target: &ConnectionPlan) -> Vec<(String, String)> {
        let mut parameters = vec![
            ("user".to_string(), target.user.clone()),
            ("database".to_string(), target.dbname.clone()),
        ];
        let timeout = self.statement_timeout_ms;
        match self.kind {
            DriverKind::Asyncpg => {
                parameters.push(("client_encoding".into(), "'utf-8'".into()));
                parameters.push(("application_name".into(), self.application_name.clone()));
                if timeout > 0 {
                    parameters.push(("statement_timeout".into(), timeout.to_string()));
                }
            }
            DriverKind::Psycopg | DriverKind::Psycopg2 | DriverKind::Raw => {
                let options = target.config.get_options().unwrap_or_default();
                let options = match timeout {
                    0 => options.to_string(),
                    ms => format!("{options} -c statement_timeout={ms}")
                        .trim()
                        .to_string(),
                };
                if !options.is_empty() {
                    parameters.push(("options".into(), options));
                }
                parameters.push(("application_name".into(), self.application_name.clone()));
            }
        }
        parameters.retain(|(key, _)| !self.left_out.contains(key));
        parameters
    }

    /// Opens a connection as the driver does; `first` is the engine's first connection, which
    /// also gets the dialect's initialisation.
    pub(crate) async fn connect(
        &self,
        target: &ConnectionPlan,
        first: bool,
    ) -> Result<Connection, WireError> {
        let parameters = self.startup_parameters(target);
        let parameters: Vec<(&str, &str)> = parameters
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        let tcp = self.tcp.as_ref().unwrap_or(&target.tcp);
        let mut session = wire::open(target, tcp, &parameters).await?;
        session.pacer = self.pacer.clone();
        if let Some(pacer) = &session.pacer {
            pacer.connect();
        }
        let mut connection = Connection {
            session,
            cached: VecDeque::new(),
            asyncpg_internal: HashMap::new(),
            uncached: None,
            executions: HashMap::new(),
            prepared: HashMap::new(),
            next_prepared: 0,
        };
        if first {
            self.initialize(&mut connection).await?;
        }
        Ok(connection)
    }

    /// What the engine's first connection runs before its first use.
    async fn initialize(&self, connection: &mut Connection) -> Result<(), WireError> {
        match self.kind {
            DriverKind::Asyncpg => {
                connection.session.simple("BEGIN;").await?;
                for text in INITIALIZE {
                    self.asyncpg_execute(connection, text).await?;
                }
                connection.session.simple("ROLLBACK;").await
            }
            DriverKind::Psycopg => {
                let session = &mut connection.session;
                session.simple("BEGIN").await?;
                for text in INITIALIZE {
                    session.simple(text).await?;
                }
                session.simple("SAVEPOINT \"_pg3_1\"").await?;
                session
                    .exchange(&[
                        Frontend::Parse {
                            name: "",
                            text: PSYCOPG_TYPE_INFO,
                            param_types: &[0],
                        },
                        Frontend::Bind {
                            name: "",
                            param_formats: TEXT,
                            params: &["hstore"],
                            result_formats: TEXT,
                        },
                        Frontend::DescribePortal,
                        Frontend::Execute { max_rows: 0 },
                        Frontend::Sync,
                    ])
                    .await?;
                session.simple("RELEASE \"_pg3_1\"").await?;
                session.simple("ROLLBACK").await
            }
            DriverKind::Psycopg2 => {
                let session = &mut connection.session;
                for text in ["BEGIN", PSYCOPG2_HSTORE, "ROLLBACK", "BEGIN"] {
                    session.simple(text).await?;
                }
                for text in INITIALIZE {
                    session.simple(text).await?;
                }
                session.simple("ROLLBACK").await
            }
            DriverKind::Raw => Ok(()),
        }
    }

    /// The dialect's pre-ping on a reused connection.
    pub(crate) async fn pre_ping(&self, connection: &mut Connection) -> Result<(), WireError> {
        match self.kind {
            DriverKind::Asyncpg => {
                // "create a transaction explicitly to support pgbouncer transaction mode"
                connection.session.simple("BEGIN;").await?;
                let name = match connection.asyncpg_internal.get(";") {
                    Some(name) => name.clone(),
                    None => {
                        let name = self.asyncpg_name();
                        self.asyncpg_prepare(&mut connection.session, &name, ";")
                            .await?;
                        connection
                            .asyncpg_internal
                            .insert(";".to_string(), name.clone());
                        name
                    }
                };
                let pinged = asyncpg_bind_execute(&mut connection.session, &name, 1).await;
                connection.session.simple("ROLLBACK;").await?;
                pinged
            }
            DriverKind::Psycopg => connection.session.simple(";").await,
            DriverKind::Psycopg2 | DriverKind::Raw => connection.session.simple("SELECT 1").await,
        }
    }

    /// One request of the `get_db` pattern: the session's BEGIN, the statements, then COMMIT
    /// (`commit`) or the ROLLBACK of the session closing. After a failed statement the
    /// transaction is still ended, as the session's close would.
    pub(crate) async fn request(
        &self,
        connection: &mut Connection,
        statements: &[String],
        commit: bool,
    ) -> Result<(), WireError> {
        if self.kind == DriverKind::Raw {
            return self.raw_request(connection, statements).await;
        }
        let (begin, end) = match (self.kind, commit) {
            (DriverKind::Asyncpg, true) => ("BEGIN;", "COMMIT;"),
            (DriverKind::Asyncpg, false) => ("BEGIN;", "ROLLBACK;"),
            (_, true) => ("BEGIN", "COMMIT"),
            (_, false) => ("BEGIN", "ROLLBACK"),
        };
        connection.session.simple(begin).await?;
        let mut result = Ok(());
        for statement in statements {
            result = self.execute(connection, statement).await;
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            connection.session.handler_work();
        }
        // A failed transaction can only be rolled back; the handler's commit never runs.
        let end = if result.is_err() {
            if self.kind == DriverKind::Asyncpg {
                "ROLLBACK;"
            } else {
                "ROLLBACK"
            }
        } else {
            end
        };
        // AsyncSession's close runs in a task of its own (SQLAlchemy's `_run_to_completion`),
        // which starts one turn of the event loop later; a commit is awaited directly.
        if end.starts_with("ROLLBACK") && connection.session.pacer.is_some() && self.kind.is_async()
        {
            loop_turn().await;
        }
        let ended = connection.session.simple(end).await;
        if end.starts_with("ROLLBACK") && self.kind == DriverKind::Psycopg {
            self.psycopg_rolled_back(connection).await?;
        }
        result.and(ended)
    }

    /// One statement inside the session's transaction, in the driver's protocol.
    async fn execute(&self, connection: &mut Connection, text: &str) -> Result<(), WireError> {
        match self.kind {
            DriverKind::Asyncpg => self.asyncpg_execute(connection, text).await,
            DriverKind::Psycopg => self.psycopg_execute(connection, text).await,
            DriverKind::Psycopg2 | DriverKind::Raw => connection.session.simple(text).await,
        }
    }

    /// SQLAlchemy's asyncpg adapter: `Connection.prepare` through its per-connection LRU cache,
    /// then `fetch`.
    async fn asyncpg_execute(
        &self,
        connection: &mut Connection,
        text: &str,
    ) -> Result<(), WireError> {
        let size = self.options.statement_cache_size;
        if size == 0 {
            let name = self.asyncpg_name();
            self.asyncpg_prepare(&mut connection.session, &name, text)
                .await?;
            // The previous statement's object is collected now: asyncpg closes it.
            if let Some(previous) = connection.uncached.replace(name.clone()) {
                connection
                    .session
                    .exchange(&[Frontend::Close { name: &previous }, Frontend::Sync])
                    .await?;
            }
            return asyncpg_bind_execute(&mut connection.session, &name, 0).await;
        }
        match connection.cached.iter().position(|(t, _)| t == text) {
            // Most recently used moves to the back.
            Some(index) => {
                if let Some(entry) = connection.cached.remove(index) {
                    connection.cached.push_back(entry);
                }
            }
            None => {
                let name = self.asyncpg_name();
                self.asyncpg_prepare(&mut connection.session, &name, text)
                    .await?;
                connection.cached.push_back((text.to_string(), name));
                if connection.cached.len() > size {
                    connection.cached.pop_front();
                }
            }
        }
        let name = connection
            .cached
            .back()
            .map_or("", |(_, name)| name.as_str());
        asyncpg_bind_execute(&mut connection.session, name, 0).await
    }

    /// asyncpg's prepare: Parse and Describe, flushed and waited on; a failure ends the batch.
    async fn asyncpg_prepare(
        &self,
        session: &mut Session,
        name: &str,
        text: &str,
    ) -> Result<(), WireError> {
        let prepared = session
            .exchange(&[
                Frontend::Parse {
                    name,
                    text,
                    param_types: &[],
                },
                Frontend::DescribeStatement { name },
                Frontend::Flush,
            ])
            .await;
        if prepared.is_err() {
            session.exchange(&[Frontend::Sync]).await?;
        }
        prepared
    }

    /// asyncpg's statement names come from one process-wide counter, in hexadecimal.
    fn asyncpg_name(&self) -> String {
        let n = self.names.fetch_add(1, Ordering::Relaxed) + 1;
        format!("__asyncpg_stmt_{n:x}__")
    }

    /// psycopg 3: a simple query until the statement has run `prepare_threshold` times since
    /// the last ROLLBACK, then prepared under `_pg3_N` and bound by name.
    async fn psycopg_execute(
        &self,
        connection: &mut Connection,
        text: &str,
    ) -> Result<(), WireError> {
        if let Some(name) = connection.prepared.get(text).cloned() {
            return psycopg_bind_execute(&mut connection.session, &name).await;
        }
        let executions = connection.executions.get(text).copied().unwrap_or(0);
        match self.options.prepare_threshold {
            Some(threshold) if executions >= threshold => {
                let name = format!("_pg3_{}", connection.next_prepared);
                connection.next_prepared += 1;
                connection
                    .session
                    .exchange(&[
                        Frontend::Parse {
                            name: &name,
                            text,
                            param_types: &[],
                        },
                        Frontend::Sync,
                    ])
                    .await?;
                connection.prepared.insert(text.to_string(), name.clone());
                psycopg_bind_execute(&mut connection.session, &name).await
            }
            _ => {
                connection.session.simple(text).await?;
                *connection.executions.entry(text.to_string()).or_default() += 1;
                Ok(())
            }
        }
    }

    /// After psycopg's ROLLBACK: the counts start again, and prepared statements are dropped.
    async fn psycopg_rolled_back(&self, connection: &mut Connection) -> Result<(), WireError> {
        connection.executions.clear();
        if connection.prepared.is_empty() {
            return Ok(());
        }
        connection.prepared.clear();
        connection.session.simple("DEALLOCATE ALL").await
    }

    /// The raw path: one statement on its own; several (a `--script`) in one transaction,
    /// rolled back when one fails.
    async fn raw_request(
        &self,
        connection: &mut Connection,
        statements: &[String],
    ) -> Result<(), WireError> {
        if let [statement] = statements {
            return self.raw_execute(connection, statement).await;
        }
        connection.session.simple("BEGIN").await?;
        for statement in statements {
            if let Err(error) = self.raw_execute(connection, statement).await {
                connection.session.simple("ROLLBACK").await?;
                return Err(error);
            }
        }
        connection.session.simple("COMMIT").await
    }

    /// The raw path: the statement prepared once per connection, then Bind, Execute, Sync.
    async fn raw_execute(&self, connection: &mut Connection, text: &str) -> Result<(), WireError> {
        let index = match connection.cached.iter().position(|(t, _)| t == text) {
            Some(index) => index,
            None => {
                let name = format!("dbtool_{}", connection.cached.len());
                connection
                    .session
                    .exchange(&[
                        Frontend::Parse {
                            name: &name,
                            text,
                            param_types: &[],
                        },
                        Frontend::DescribeStatement { name: &name },
                        Frontend::Sync,
                    ])
                    .await?;
                connection.cached.push_back((text.to_string(), name));
                connection.cached.len() - 1
            }
        };
        let name = connection.cached[index].1.as_str();
        connection
            .session
            .exchange(&[
                Frontend::Bind {
                    name,
                    param_formats: &[],
                    params: &[],
                    result_formats: &[],
                },
                Frontend::Execute { max_rows: 0 },
                Frontend::Sync,
            ])
            .await
    }
}

/// asyncpg's `fetch`/`fetchrow` on a prepared statement: Bind (binary), Execute, Sync.
async fn asyncpg_bind_execute(
    session: &mut Session,
    name: &str,
    max_rows: i32,
) -> Result<(), WireError> {
    session
        .exchange(&[
            Frontend::Bind {
                name,
                param_formats: BINARY,
                params: &[],
                result_formats: BINARY,
            },
            Frontend::Execute { max_rows },
            Frontend::Sync,
        ])
        .await
}

/// psycopg's execution of a prepared statement: Bind, Describe (portal), Execute, Sync.
async fn psycopg_bind_execute(session: &mut Session, name: &str) -> Result<(), WireError> {
    session
        .exchange(&[
            Frontend::Bind {
                name,
                param_formats: &[],
                params: &[],
                result_formats: TEXT,
            },
            Frontend::DescribePortal,
            Frontend::Execute { max_rows: 0 },
            Frontend::Sync,
        ])
        .await
}

/// One turn of the event loop, as asyncio's `call_soon` gives it: the task goes to the back of
/// the runtime's queue, behind the tasks already ready (tokio's own `yield_now` waits for the
/// next poll of the I/O driver instead, which with many ready tasks is several turns later).
pub(crate) async fn loop_turn() {
    let mut turned = false;
    std::future::poll_fn(|cx| {
        if turned {
            std::task::Poll::Ready(())
        } else {
            turned = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
