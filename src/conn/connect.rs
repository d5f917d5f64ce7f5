//! Opening a connection from a [`ConnectionPlan`] as libpq would: the hosts in the plan's order
//! with libpq's TLS tries ([`transport::open_session`]) and its fall-through rules (the next host
//! only when one did not answer, was starting up, or did not satisfy `target_session_attrs`).

use std::time::Duration;

use anyhow::Result;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};

use crate::conn::diagnosis;
use crate::conn::plan::ConnectionPlan;
use crate::conn::target::{Endpoint, SessionAttrs};
use crate::conn::transport::{self, Ended, Io, StageError, StageFailure, Startup};
use crate::exit::{invalid, no_response, problems};

/// tokio-postgres's startup over a stream [`transport::open_session`] opened.
struct TokioStartup<'a> {
    config: &'a tokio_postgres::Config,
}

impl Startup for TokioStartup<'_> {
    type Session = (Client, JoinHandle<()>);
    type Error = tokio_postgres::Error;

    async fn start(
        &mut self,
        stream: Box<dyn Io>,
    ) -> Result<(Self::Session, String), tokio_postgres::Error> {
        let (client, connection) = self.config.connect_raw(stream, NoTls).await?;
        Ok(((client, spawn(connection)), String::new()))
    }

    fn refusal(&self, error: &tokio_postgres::Error) -> (Option<String>, String) {
        let code = error.as_db_error().map(|db| db.code().code().to_string());
        (code, error_chain(error))
    }
}

/// Opens a session on the first endpoint that takes it, as libpq does: its TLS tries on each
/// host, the next host only after one that did not answer, was starting up (57P03), or did not
/// satisfy `target_session_attrs` (checked here, for every value libpq knows). Errors carry the
/// documented exit code and a hint.
pub(crate) async fn open(
    config: &tokio_postgres::Config,
    target: &ConnectionPlan,
) -> Result<(Client, JoinHandle<()>)> {
    let timeout = target.connect_timeout;
    let mut failure = None;
    for &attrs in target.session_attrs.passes() {
        for endpoint in &target.endpoints {
            let place = endpoint.describe();
            // A TCP failure names each address it tried; for a host given as an address
            // that is the place itself, said once.
            let stage_error = |error: StageError| {
                let detail = error
                    .detail
                    .strip_prefix(&format!("{place}: "))
                    .unwrap_or(&error.detail);
                format!("{place}: {detail}; {}", error.hint)
            };
            let addrs = match transport::resolve(endpoint, timeout).await {
                Ok((addrs, _)) => addrs,
                Err(error) => {
                    failure = Some(no_response(stage_error(error)));
                    continue;
                }
            };
            let mut startup = TokioStartup { config };
            let mut stages = Vec::new();
            let opened = transport::open_session(
                endpoint,
                &addrs,
                &target.tls,
                &target.tcp,
                timeout,
                &mut stages,
                &mut startup,
            )
            .await;
            match opened {
                Ok((client, handle)) => {
                    if satisfies(&client, attrs).await {
                        return Ok((client, handle));
                    }
                    failure = Some(problems(format!(
                        "{place}: the server is not {attrs} (target_session_attrs)"
                    )));
                }
                Err(Ended::Transport(error)) => match error.failure {
                    StageFailure::NoResponse => failure = Some(no_response(stage_error(error))),
                    StageFailure::Unusable => return Err(invalid(stage_error(error))),
                    StageFailure::Rejecting | StageFailure::Handshake => {
                        return Err(problems(stage_error(error)));
                    }
                },
                Err(Ended::Startup(error)) => {
                    let starting_up = error
                        .as_db_error()
                        .is_some_and(|db| db.code().code() == "57P03");
                    let error = classify(&error, target, endpoint);
                    if !starting_up {
                        return Err(error);
                    }
                    failure = Some(error);
                }
            }
        }
    }
    Err(failure.unwrap_or_else(|| no_response("no host to connect to")))
}

/// libpq's checks after connecting: `SHOW transaction_read_only`, `pg_is_in_recovery()`.
async fn satisfies(client: &Client, attrs: SessionAttrs) -> bool {
    if attrs == SessionAttrs::Any {
        return true;
    }
    let Ok(rows) = client
        .simple_query("SELECT current_setting('transaction_read_only'), pg_is_in_recovery()::text")
        .await
    else {
        return false;
    };
    let row = rows.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => {
            Some((row.get(0) == Some("on"), row.get(1) == Some("true")))
        }
        _ => None,
    });
    row.is_some_and(|(read_only, in_recovery)| attrs.accepts(read_only, in_recovery))
}

/// Runs a session's connection until it ends.
fn spawn<T: std::future::Future + Send + 'static>(connection: T) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = connection.await;
    })
}

/// Connects and spawns the connection task; errors carry the documented exit code and a hint.
pub(crate) async fn connect(target: &ConnectionPlan) -> Result<Client> {
    connect_with(target, &target.config).await
}

/// [`connect`] with other session settings (another application_name, say).
pub(crate) async fn connect_with(
    target: &ConnectionPlan,
    config: &tokio_postgres::Config,
) -> Result<Client> {
    let attempt = open(config, target);
    let wait =
        target.connect_timeout * 2 * target.endpoints.len() as u32 + Duration::from_millis(500);
    match tokio::time::timeout(wait, attempt).await {
        Err(_) => Err(no_response(format!(
            "{}: no response within {:.1} s (timed out); is the server up and reachable?",
            target.describe(),
            target.connect_timeout.as_secs_f64()
        ))),
        Ok(opened) => opened.map(|(client, _)| client),
    }
}

/// Maps a tokio-postgres startup error to dbtool's exit codes: a server error means it answered
/// (1), anything else at connect time means it did not (2).
pub(crate) fn classify(
    error: &tokio_postgres::Error,
    target: &ConnectionPlan,
    endpoint: &Endpoint,
) -> anyhow::Error {
    let place = endpoint.describe();
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        let session = diagnosis::LoginAttempt {
            user: &target.user,
            dbname: &target.dbname,
            endpoint,
        };
        let hint = diagnosis::hint(code, db.message(), &session);
        return problems(format!(
            "{place}: server refused: {} (SQLSTATE {code}); {hint}",
            db.message()
        ));
    }
    let text = error_chain(error);
    if text.contains("password missing") {
        return problems(format!(
            "{place}: the server asks for a password but none was given; {}",
            NO_PASSWORD_HINT
        ));
    }
    no_response(format!(
        "{place}: no response: {text}; is the server running, and are host and port right?"
    ))
}

/// Classifies an error of a query on an open session: the connection lost is no response (2),
/// a server that answered and refused (a revoked privilege, a timeout) is a problem (1);
/// `reading` says what was being read ("reading the catalogs").
pub(crate) fn query_failure(
    error: anyhow::Error,
    target: &ConnectionPlan,
    reading: &str,
) -> anyhow::Error {
    match error.downcast_ref::<tokio_postgres::Error>() {
        Some(pg) if pg.as_db_error().is_none() => no_response(format!(
            "{}: the server went away while {reading}: {error:#}",
            target.describe()
        )),
        Some(_) => problems(format!("{error:#}")),
        None => error,
    }
}

/// What to do when the server wants a password and no source gave one.
pub(crate) const NO_PASSWORD_HINT: &str =
    "put it in PGPASSWORD or ~/.pgpass (mode 0600), or in the URL (not recommended)";

/// The error with its sources, as one line.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
