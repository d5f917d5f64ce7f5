//! The drivers' request patterns as steps over a `wire::Session`, with the per-connection state
//! that decides between preparing and reusing a statement.

use std::collections::HashMap;
use std::fmt;

use crate::conn::connect::Target;
use crate::wire::{self, Frontend, Session, WireError};

/// The driver whose traffic is reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    Asyncpg,
    Psycopg,
    Psycopg2,
    /// dbtool's minimal path: the workload as one cached prepared statement.
    Raw,
}

impl DriverKind {
    pub const ALL: [DriverKind; 4] = [
        DriverKind::Asyncpg,
        DriverKind::Psycopg,
        DriverKind::Psycopg2,
        DriverKind::Raw,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DriverKind::Asyncpg => "asyncpg",
            DriverKind::Psycopg => "psycopg",
            DriverKind::Psycopg2 => "psycopg2",
            DriverKind::Raw => "raw",
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
pub struct DriverOptions {
    /// asyncpg: `prepared_statement_cache_size` (SQLAlchemy's default 100; 0: no cache).
    pub statement_cache_size: usize,
    /// psycopg: `prepare_threshold` (default 5; `None`: never prepare).
    pub prepare_threshold: Option<u32>,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            statement_cache_size: 100,
            prepare_threshold: Some(5),
        }
    }
}

/// One step of a request, in the driver's protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A simple query (`Q`).
    Simple(String),
    /// A statement prepared once per connection under a name and reused: `P`+`D`+`S` the first
    /// time, then `B`+`E`+`S`.
    Cached(String),
}

/// A driver with the application's connect-time settings.
#[derive(Debug, Clone)]
pub struct Driver {
    pub kind: DriverKind,
    pub options: DriverOptions,
    /// `statement_timeout` in milliseconds (0: none), sent at connect time as the driver sends it.
    pub statement_timeout_ms: u128,
    pub application_name: String,
}

/// A connection as the driver holds it: the session and what the driver remembers about it.
pub struct Connection {
    pub session: Session,
    /// Statement text → the name it was prepared under on this connection.
    prepared: HashMap<String, String>,
    next_name: u64,
}

impl Driver {
    /// The startup parameters the driver sends (beyond the protocol version).
    pub fn startup_parameters<'a>(
        &'a self,
        target: &'a Target,
        timeout: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut parameters = vec![
            ("user", target.user.as_str()),
            ("database", target.dbname.as_str()),
            ("client_encoding", "UTF8"),
            ("application_name", self.application_name.as_str()),
        ];
        if !timeout.is_empty() {
            parameters.push(("options", timeout));
        }
        parameters
    }

    /// Opens a connection as the driver does.
    pub async fn connect(&self, target: &Target) -> Result<Connection, WireError> {
        let options = match self.statement_timeout_ms {
            0 => String::new(),
            ms => format!("-c statement_timeout={ms}"),
        };
        let parameters = self.startup_parameters(target, &options);
        let session = wire::open(target, &parameters).await?;
        Ok(Connection {
            session,
            prepared: HashMap::new(),
            next_name: 0,
        })
    }

    /// The pre-ping at checkout.
    pub async fn pre_ping(&self, connection: &mut Connection) -> Result<(), WireError> {
        connection.session.simple("SELECT 1").await
    }

    /// One request: the workload's statements, then COMMIT or the closing ROLLBACK.
    pub async fn request(
        &self,
        connection: &mut Connection,
        statements: &[String],
        _commit: bool,
    ) -> Result<(), WireError> {
        for statement in statements {
            self.run(connection, &Step::Cached(statement.clone()))
                .await?;
        }
        Ok(())
    }

    async fn run(&self, connection: &mut Connection, step: &Step) -> Result<(), WireError> {
        match step {
            Step::Simple(text) => connection.session.simple(text).await,
            Step::Cached(text) => {
                let name = match connection.prepared.get(text) {
                    Some(name) => name.clone(),
                    None => {
                        let name = format!("dbtool_{}", connection.next_name);
                        connection.next_name += 1;
                        connection
                            .session
                            .exchange(&[
                                Frontend::Parse { name: &name, text },
                                Frontend::DescribeStatement { name: &name },
                                Frontend::Sync,
                            ])
                            .await?;
                        connection.prepared.insert(text.clone(), name.clone());
                        name
                    }
                };
                connection
                    .session
                    .exchange(&[
                        Frontend::Bind { name: &name },
                        Frontend::Execute,
                        Frontend::Sync,
                    ])
                    .await
            }
        }
    }
}
