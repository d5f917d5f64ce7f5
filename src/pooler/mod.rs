//! Whether a connection pooler sits between dbtool and PostgreSQL, which one, how it pools, and
//! what that means for the application's driver — found by behaviour, with read-only probes.
//!
//! - **Present**: the BackendKeyData a pooler sends its client is its own (PgBouncer draws a
//!   random key), so its process id differs from `pg_backend_pid()`; PostgreSQL itself, or a
//!   TCP proxy that passes bytes through, sends the backend's own.
//! - **Mode**: two client sessions. A runs a named statement (`SELECT pg_backend_pid()`), B opens
//!   a transaction and holds it, then A runs its statement again. Under session pooling A keeps
//!   its server connection: the statement is found and the pid is the same. Under transaction
//!   pooling the server A used was released at the end of its transaction and B was given it
//!   (PgBouncer hands out the most recently used idle server first, and opens a new one only
//!   when none is idle), so A lands elsewhere: a different pid, or SQLSTATE 26000. Under
//!   statement pooling B's `BEGIN` is refused. Up to three rounds, for poolers that hand out
//!   servers in another order.
//! - **Prepared statements survive** exactly when A's second execution finds its statement
//!   (PgBouncer ≥ 1.21 with `max_prepared_statements` re-prepares it on the new server). Under
//!   statement pooling, B holds its server with a short `pg_sleep` instead of a transaction.
//! - **Which pooler**: PgBouncer's admin console (`SHOW VERSION`, `SHOW CONFIG`) when the user
//!   may use it (it is never required), else its words when it refuses a startup parameter (the
//!   driver's, or `dbtool.pooler_probe`, which PostgreSQL would take as a custom setting).
//! - **Startup parameters**: a session opened with exactly the parameters the application's
//!   driver sends; a pooler that refuses one refuses every connection the application opens.
//!
//! The probes change nothing: they read `pg_backend_pid()`, open and roll back an empty
//! transaction, and close their statement (under transaction pooling the statement may stay on
//! the server connection it was prepared on until PgBouncer closes that connection: one
//! `dbtool_probe_*` statement, which nothing else uses).

pub(crate) mod advice;

use std::time::Duration;

use crate::conn::plan::ConnectionPlan;
use crate::conn::target::Endpoint;
use crate::driver::DriverModel;
use crate::wire::{self, Frontend, Session, WireError};

/// The pooler's pooling mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl PoolMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }
}

/// Which pooler answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PoolerKind {
    /// With its version when the admin console said it.
    Pgbouncer { version: Option<String> },
    /// A pooler that does not say what it is.
    Unknown,
}

impl PoolerKind {
    pub(crate) fn key(&self) -> &'static str {
        match self {
            PoolerKind::Pgbouncer { .. } => "pgbouncer",
            PoolerKind::Unknown => "unknown",
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            PoolerKind::Pgbouncer {
                version: Some(version),
            } => version.clone(),
            PoolerKind::Pgbouncer { version: None } => "PgBouncer".into(),
            PoolerKind::Unknown => "a pooler".into(),
        }
    }
}

/// A startup parameter the application's driver sends and the pooler refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefusedParameter {
    pub(crate) name: String,
    /// The pooler's message.
    pub(crate) message: String,
}

/// What the probes found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pooler {
    pub(crate) kind: PoolerKind,
    /// `None` when the probes could not tell (a session lost for another reason).
    pub(crate) mode: Option<PoolMode>,
    pub(crate) prepared_statements_survive: Option<bool>,
    /// The parameters the driver sends that the pooler refuses, in the order it refused them.
    pub(crate) refused_parameters: Vec<RefusedParameter>,
    /// What the admin console said (`SHOW CONFIG`): pool_mode and max_prepared_statements.
    pub(crate) configured_mode: Option<String>,
    pub(crate) max_prepared_statements: Option<u64>,
    /// The observations the answer rests on, in the user's words.
    pub(crate) evidence: Vec<String>,
}

/// The application_name of the sessions the probes open themselves, so a server log or
/// pg_stat_activity tells them from the application's and the benchmark's.
const PROBE_APPLICATION_NAME: &str = "dbtool-pooler-probe";

/// dbtool's own startup parameters, under the probes' application_name.
fn probe_parameters(target: &ConnectionPlan) -> Vec<(&'static str, String)> {
    let mut parameters = target.startup_parameters();
    parameters.retain(|(key, _)| *key != "application_name");
    parameters.push(("application_name", PROBE_APPLICATION_NAME.to_string()));
    parameters
}

/// The process id a session's BackendKeyData gave and the one the server runs it in.
pub(crate) async fn backend_pid(session: &mut Session) -> Result<i32, WireError> {
    let rows = session
        .rows(&[Frontend::Query("SELECT pg_backend_pid()")])
        .await?;
    Ok(first_number(&rows).unwrap_or(0) as i32)
}

/// Opens a session with dbtool's own startup parameters on the first endpoint that takes it
/// and probes behind it (pool-bench, which has no session of its own to start from).
pub(crate) async fn probe(target: &ConnectionPlan, driver: &DriverModel) -> Option<Pooler> {
    let parameters = probe_parameters(target);
    let parameters: Vec<(&str, &str)> = parameters
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect();
    for endpoint in &target.endpoints {
        let Ok(mut first) = wire::open_endpoint(target, endpoint, &target.tcp, &parameters).await
        else {
            continue;
        };
        let found = match backend_pid(&mut first).await {
            Ok(pid) => detect(target, endpoint, &mut first, pid, driver).await,
            Err(_) => None,
        };
        first.terminate().await;
        return found;
    }
    None
}

/// Probes behind `first`, a session already open on `endpoint` with dbtool's own startup
/// parameters, whose server process is `backend_pid`. `None`: no pooler.
pub(crate) async fn detect(
    target: &ConnectionPlan,
    endpoint: &Endpoint,
    first: &mut Session,
    backend_pid: i32,
    driver: &DriverModel,
) -> Option<Pooler> {
    if first.process_id == backend_pid {
        return None;
    }
    let mut pooler = Pooler {
        kind: PoolerKind::Unknown,
        mode: None,
        prepared_statements_survive: None,
        refused_parameters: Vec::new(),
        configured_mode: None,
        max_prepared_statements: None,
        evidence: vec![format!(
            "the cancel key names process {} but the server runs this session in process {backend_pid}",
            first.process_id
        )],
    };
    let second = open_as_driver(target, endpoint, driver, &mut pooler).await;
    admin_console(target, endpoint, &mut pooler).await;
    if pooler.kind == PoolerKind::Unknown {
        fingerprint(target, endpoint, &mut pooler).await;
    }
    if let Some(mut second) = second {
        probe_mode(target, endpoint, first, &mut second, &mut pooler).await;
        second.terminate().await;
    }
    Some(pooler)
}

/// Opens a session with the driver's startup parameters; each one the pooler refuses is
/// recorded and left out of the next try.
async fn open_as_driver(
    target: &ConnectionPlan,
    endpoint: &Endpoint,
    driver: &DriverModel,
    pooler: &mut Pooler,
) -> Option<Session> {
    let mut parameters = driver.startup_parameters(target);
    for _ in 0..8 {
        let borrowed: Vec<(&str, &str)> = parameters
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        match wire::open_endpoint(target, endpoint, &target.tcp, &borrowed).await {
            Ok(session) => return Some(session),
            Err(WireError::Server { code, message }) if code == "08P01" => {
                let Some(name) = refused_parameter(&message) else {
                    pooler.evidence.push(format!(
                        "a session with {}'s startup parameters was refused: {message}",
                        driver.kind
                    ));
                    return None;
                };
                // PgBouncer's words (client.c: "unsupported startup parameter: %s").
                if message.starts_with("unsupported startup parameter") {
                    pooler.kind = PoolerKind::Pgbouncer { version: None };
                }
                let before = parameters.len();
                parameters.retain(|(key, _)| *key != name);
                pooler.refused_parameters.push(RefusedParameter {
                    name: name.clone(),
                    message,
                });
                if parameters.len() == before {
                    return None;
                }
            }
            Err(error) => {
                pooler
                    .evidence
                    .push(format!("a second session could not be opened: {error}"));
                return None;
            }
        }
    }
    None
}

/// The parameter named in a pooler's refusal (`unsupported startup parameter: options`).
fn refused_parameter(message: &str) -> Option<String> {
    let (_, name) = message.rsplit_once("startup parameter")?;
    let name = name
        .trim_start_matches([':', ' ', '"'])
        .trim_end_matches('"');
    (!name.is_empty() && !name.contains(' ')).then(|| name.to_string())
}

/// PgBouncer's admin console, when this user may read it (admin_users or stats_users).
async fn admin_console(target: &ConnectionPlan, endpoint: &Endpoint, pooler: &mut Pooler) {
    let parameters = [
        ("user", target.user.as_str()),
        ("database", "pgbouncer"),
        ("application_name", PROBE_APPLICATION_NAME),
    ];
    let Ok(mut console) = wire::open_endpoint(target, endpoint, &target.tcp, &parameters).await
    else {
        return;
    };
    // The console speaks the simple protocol only.
    if let Ok(rows) = console.rows(&[Frontend::Query("SHOW VERSION")]).await
        && let Some(version) = rows.first().and_then(|row| row.first().cloned().flatten())
        && version.starts_with("PgBouncer")
    {
        pooler.kind = PoolerKind::Pgbouncer {
            version: Some(version),
        };
        if let Ok(rows) = console.rows(&[Frontend::Query("SHOW CONFIG")]).await {
            for row in rows {
                match (
                    row.first().cloned().flatten(),
                    row.get(1).cloned().flatten(),
                ) {
                    (Some(key), Some(value)) if key == "pool_mode" => {
                        pooler.configured_mode = Some(value);
                    }
                    (Some(key), Some(value)) if key == "max_prepared_statements" => {
                        pooler.max_prepared_statements = value.parse().ok();
                    }
                    _ => {}
                }
            }
        }
    }
    console.terminate().await;
}

/// A startup parameter no client sends: PostgreSQL takes it as a custom setting, PgBouncer
/// refuses it in its own words.
async fn fingerprint(target: &ConnectionPlan, endpoint: &Endpoint, pooler: &mut Pooler) {
    let parameters = [
        ("user", target.user.as_str()),
        ("database", target.dbname.as_str()),
        ("application_name", PROBE_APPLICATION_NAME),
        ("dbtool.pooler_probe", "1"),
    ];
    match wire::open_endpoint(target, endpoint, &target.tcp, &parameters).await {
        Err(WireError::Server { message, .. })
            if message == "unsupported startup parameter: dbtool.pooler_probe" =>
        {
            pooler.kind = PoolerKind::Pgbouncer { version: None };
        }
        Ok(session) => session.terminate().await,
        Err(_) => {}
    }
}

/// The two-session rounds described in the module documentation.
async fn probe_mode(
    target: &ConnectionPlan,
    endpoint: &Endpoint,
    first: &mut Session,
    second: &mut Session,
    pooler: &mut Pooler,
) {
    for round in 0..3 {
        // A name of its own per round: under transaction pooling the Close of the last one may
        // have reached another server connection than the statement.
        let name = probe_name(round);
        let prepare = [
            Frontend::Parse {
                name: &name,
                text: "SELECT pg_backend_pid()",
                param_types: &[],
            },
            Frontend::Bind {
                name: &name,
                param_formats: &[],
                params: &[],
                result_formats: &[0],
            },
            Frontend::Execute { max_rows: 0 },
            Frontend::Sync,
        ];
        let execute = &prepare[1..];
        let Ok(rows) = first.rows(&prepare).await else {
            pooler
                .evidence
                .push("the probe statement could not be prepared".into());
            return;
        };
        let Some(a1) = first_number(&rows) else {
            return;
        };
        let held = second
            .rows(&[Frontend::Query("BEGIN; SELECT pg_backend_pid()")])
            .await;
        let b1 = match held {
            Ok(rows) => first_number(&rows),
            Err(error) => {
                pooler.mode = Some(PoolMode::Statement);
                pooler.evidence.push(format!(
                    "a transaction block was refused: {}",
                    one_line(&error)
                ));
                statement_mode_survival(target, endpoint, first, &name, pooler).await;
                return;
            }
        };
        let again = first.rows(execute).await;
        let _ = second.simple("ROLLBACK").await;
        let _ = first
            .exchange(&[Frontend::Close { name: &name }, Frontend::Sync])
            .await;
        match again {
            Err(WireError::Server { code, message }) if code == "26000" => {
                pooler.mode = Some(PoolMode::Transaction);
                pooler.prepared_statements_survive = Some(false);
                pooler.evidence.push(format!(
                    "a statement prepared in one transaction was gone in the next while another session held the first server connection: {message}"
                ));
                return;
            }
            Err(error) => {
                pooler
                    .evidence
                    .push(format!("the probe was cut short: {}", one_line(&error)));
                return;
            }
            Ok(rows) => {
                let a2 = first_number(&rows);
                if b1 == Some(a1) || a2 != Some(a1) {
                    pooler.mode = Some(PoolMode::Transaction);
                    pooler.prepared_statements_survive = Some(true);
                    pooler.evidence.push(format!(
                        "one session ran in server processes {a1} and {}, another in {} while the first was idle; its named statement was found on the new one",
                        a2.map_or("?".into(), |pid| pid.to_string()),
                        b1.map_or("?".into(), |pid| pid.to_string()),
                    ));
                    return;
                }
            }
        }
    }
    pooler.mode = Some(PoolMode::Session);
    pooler.prepared_statements_survive = Some(true);
    pooler.evidence.push(
        "each session kept its server process across transactions while another held one".into(),
    );
}

/// Under statement pooling no transaction can hold a server: a third session holds one with a
/// short `pg_sleep` while the first runs its statement again.
async fn statement_mode_survival(
    target: &ConnectionPlan,
    endpoint: &Endpoint,
    first: &mut Session,
    name: &str,
    pooler: &mut Pooler,
) {
    let parameters = probe_parameters(target);
    let parameters: Vec<(&str, &str)> = parameters
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect();
    let Ok(mut holder) = wire::open_endpoint(target, endpoint, &target.tcp, &parameters).await
    else {
        return;
    };
    let execute = [
        Frontend::Bind {
            name,
            param_formats: &[],
            params: &[],
            result_formats: &[0],
        },
        Frontend::Execute { max_rows: 0 },
        Frontend::Sync,
    ];
    let (_, again) = tokio::join!(holder.simple("SELECT pg_sleep(0.3)"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        first.rows(&execute).await
    });
    pooler.prepared_statements_survive = Some(match again {
        Ok(_) => true,
        Err(WireError::Server { code, .. }) => code != "26000",
        Err(_) => false,
    });
    let _ = first
        .exchange(&[Frontend::Close { name }, Frontend::Sync])
        .await;
    holder.terminate().await;
}

/// `dbtool_probe_<pid>_<nanoseconds>_<round>`: unique without a random number generator.
fn probe_name(round: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("dbtool_probe_{}_{nanos}_{round}", std::process::id())
}

fn first_number(rows: &[wire::Row]) -> Option<i64> {
    rows.first()?.first()?.as_deref()?.trim().parse().ok()
}

fn one_line(error: &WireError) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::refused_parameter;

    #[test]
    fn the_refused_parameter_is_read_from_pgbouncers_words() {
        assert_eq!(
            refused_parameter("unsupported startup parameter: statement_timeout").as_deref(),
            Some("statement_timeout")
        );
        assert_eq!(
            refused_parameter("unsupported startup parameter: options").as_deref(),
            Some("options")
        );
        assert_eq!(refused_parameter("no such database: x"), None);
    }
}
