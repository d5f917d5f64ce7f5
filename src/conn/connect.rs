//! Opening a connection as libpq would: URL values, then PG* environment fallbacks, then libpq's
//! defaults; the password from the URL, else PGPASSWORD, else the password file; the hosts in
//! libpq's order with its TLS tries ([`transport::open_session`]) and its fall-through rules (the
//! next host only when one did not answer, was starting up, or did not satisfy
//! `target_session_attrs`).

use std::time::Duration;

use anyhow::Result;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};

use crate::conn::diagnosis;
use crate::conn::pgpass::{self, Lookup};
use crate::conn::target::{Endpoint, EndpointError, Origin, Resolved, SessionAttrs};
use crate::conn::tls::{self, ClientRules, SslMode, TlsFiles, TlsSetup};
use crate::conn::transport::{self, Ended, Failure, Io, StageError, Startup};
use crate::environment::Environment;
use crate::exit::{invalid, no_response, problems};
use crate::password::{PasswordFile, PasswordSource};
use crate::secret::Secret;
use crate::url::DatabaseUrl;
use crate::url::dialect::AsyncpgConnection;
use crate::url::libpq::ConnInfo;

/// Everything needed to connect, resolved.
pub struct Target {
    pub config: tokio_postgres::Config,
    /// TLS as libpq sets it up, with the libpq version whose rules apply.
    pub tls: TlsSetup,
    pub sslmode: SslMode,
    /// The hosts, in the order libpq tries them; never empty.
    pub endpoints: Vec<Endpoint>,
    pub session_attrs: SessionAttrs,
    pub password: Option<Secret>,
    pub user: String,
    pub dbname: String,
    pub password_source: PasswordSource,
    /// Why a password file was not used, when it exists but libpq would ignore it.
    pub passfile_warning: Option<String>,
    pub connect_timeout: Duration,
}

impl Target {
    /// The startup parameters dbtool's own sessions send (as tokio-postgres sends them): user,
    /// database, client_encoding, and the URL's options and application_name.
    pub fn startup_parameters(&self) -> Vec<(&'static str, String)> {
        let mut parameters = vec![
            ("user", self.user.clone()),
            ("database", self.dbname.clone()),
            ("client_encoding", "UTF8".to_string()),
        ];
        if let Some(options) = self.config.get_options().filter(|o| !o.is_empty()) {
            parameters.push(("options", options.to_string()));
        }
        if let Some(name) = self.config.get_application_name() {
            parameters.push(("application_name", name.to_string()));
        }
        parameters
    }

    /// `host:port` of the first host, as pg_isready shows it.
    pub fn describe(&self) -> String {
        self.endpoints[0].describe()
    }
}

/// A keyword's non-empty value, else its variable's (libpq's view).
fn setting(info: &ConnInfo, env: &Environment, keyword: &str, variable: &str) -> Option<String> {
    info.get(keyword)
        .map(|v| v.into_owned())
        .filter(|v| !v.is_empty())
        .or_else(|| env.libpq(variable))
}

/// Resolves a database URL into a connection target as the application's driver reads it:
/// libpq's reading of URL, PG* environment and defaults ([`Resolved::read`]) with the rules of
/// libpq `libpq_major`, or for asyncpg its own resolution ([`Resolved::asyncpg`]), password
/// lookup and TLS rules. `application_name` applies unless the URL or PGAPPNAME sets one;
/// `timeout` overrides `connect_timeout` (else PGCONNECT_TIMEOUT, else 10 s).
pub fn resolve(
    url: &DatabaseUrl,
    env: &Environment,
    application_name: &str,
    timeout: Option<Duration>,
    libpq_major: u32,
) -> Result<Target> {
    let info = &url.info;
    let (resolved, rules) = match &url.asyncpg {
        None => (Resolved::read(info, env), ClientRules::Libpq(libpq_major)),
        Some(connection) => {
            // The mode asyncpg settled on: its `ssl`, else PGSSLMODE (read its way), else
            // prefer with a TCP host and disable with only sockets.
            let ssl = SslMode::parse_text(connection.sslmode).map_err(invalid)?;
            (
                Resolved::asyncpg(connection),
                ClientRules::Asyncpg { ssl: Some(ssl) },
            )
        }
    };
    let endpoints = resolved.endpoints.map_err(|error| match error {
        EndpointError::Mismatch(message) => invalid(format!(
            "{message}: give one port for all hosts or one per host"
        )),
        other => invalid(other.to_string()),
    })?;
    let sslmode = resolved.sslmode.map_err(invalid)?;
    let explicit_sslmode = sslmode.origin != Origin::Default;
    let session_attrs = resolved.session_attrs.map_err(invalid)?;
    let (user, dbname) = (resolved.user.value, resolved.dbname.value);

    let mut config = tokio_postgres::Config::new();
    config.user(&user).dbname(&dbname);
    config.application_name(
        setting(info, env, "application_name", "PGAPPNAME")
            .unwrap_or_else(|| application_name.to_string()),
    );
    if let Some(options) = info.get("options").filter(|o| !o.is_empty()) {
        config.options(options.as_ref());
    }
    let connect_timeout = connect_timeout(info, env, timeout)?;
    config.connect_timeout(connect_timeout);

    let (password, password_source) = match &url.asyncpg {
        None => libpq_password(info, env, endpoints.first(), &dbname, &user),
        Some(connection) => asyncpg_password(info, env, connection),
    };
    if let Some(password) = &password {
        config.password(password.expose());
    }

    let files = TlsFiles {
        sslrootcert: setting(info, env, "sslrootcert", "PGSSLROOTCERT"),
        sslcert: setting(info, env, "sslcert", "PGSSLCERT"),
        sslkey: setting(info, env, "sslkey", "PGSSLKEY"),
    };
    let tls = tls::setup(sslmode.value, explicit_sslmode, &files, rules, env)?;
    // dbtool opens the streams (TLS included) and checks target_session_attrs itself.
    config.ssl_mode(tokio_postgres::config::SslMode::Disable);
    Ok(Target {
        config,
        sslmode: tls.mode,
        tls,
        endpoints,
        session_attrs,
        password,
        user,
        dbname,
        password_source,
        passfile_warning: match &url.asyncpg {
            None => passfile_warning(info, env),
            Some(connection) => connection.passfile_warning.clone(),
        },
        connect_timeout,
    })
}

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
pub async fn open(
    config: &tokio_postgres::Config,
    target: &Target,
) -> Result<(Client, JoinHandle<()>)> {
    let timeout = target.connect_timeout;
    let mut failure = None;
    for &attrs in target.session_attrs.passes() {
        for endpoint in &target.endpoints {
            let place = endpoint.describe();
            let stage_error =
                |error: StageError| format!("{place}: {}; {}", error.detail, error.hint);
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
                    Failure::NoResponse => failure = Some(no_response(stage_error(error))),
                    Failure::Unusable => return Err(invalid(stage_error(error))),
                    Failure::Rejecting | Failure::Handshake => {
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

/// How long each connection attempt may take: the flag, else the URL's `connect_timeout`, else
/// PGCONNECT_TIMEOUT, else 10 s. As libpq: 0 means no limit (an hour here), and a keyword value
/// below 2 s is raised to 2 s; a flag may go down to 0.1 s.
fn connect_timeout(info: &ConnInfo, env: &Environment, flag: Option<Duration>) -> Result<Duration> {
    let forever = Duration::from_secs(3600);
    if let Some(flag) = flag {
        return Ok(if flag.is_zero() {
            forever
        } else {
            flag.max(Duration::from_millis(100))
        });
    }
    let Some(text) = setting(info, env, "connect_timeout", "PGCONNECT_TIMEOUT") else {
        return Ok(Duration::from_secs(10));
    };
    let seconds = text.trim().parse::<i64>().map_err(|_| {
        invalid(format!(
            "invalid connect_timeout {text:?}: give whole seconds"
        ))
    })?;
    Ok(match u64::try_from(seconds) {
        Ok(0) | Err(_) => forever,
        Ok(seconds) => Duration::from_secs(seconds.clamp(2, crate::duration::MAX.as_secs())),
    })
}

/// libpq's password: the conninfo's, else PGPASSWORD, else its password file for the first
/// endpoint (none when the endpoints cannot be laid out).
pub fn libpq_password(
    info: &ConnInfo,
    env: &Environment,
    endpoint: Option<&Endpoint>,
    dbname: &str,
    user: &str,
) -> (Option<Secret>, PasswordSource) {
    if let Some(password) = info.get_bytes("password").filter(|p| !p.is_empty()) {
        return (
            Some(Secret::new(String::from_utf8_lossy(password))),
            PasswordSource::Url,
        );
    }
    if let Some(password) = env.libpq("PGPASSWORD") {
        return (Some(Secret::new(password)), PasswordSource::Env);
    }
    let passfile = info.get("passfile").map(|p| p.into_owned());
    if let Some(PasswordFile::Usable(path)) = pgpass::locate(env, passfile.as_deref())
        && let Some(endpoint) = endpoint
    {
        let port = endpoint.port.to_string();
        let host = endpoint.name();
        let lookup = Lookup {
            host: &host,
            port: &port,
            database: dbname,
            user,
        };
        if let Some(secret) = pgpass::find_password(&path, &lookup) {
            return (Some(secret), PasswordSource::PassFile(path));
        }
    }
    (None, PasswordSource::None)
}

/// asyncpg's password: its argument, else PGPASSWORD (even empty), else its password file.
pub fn asyncpg_password(
    info: &ConnInfo,
    env: &Environment,
    connection: &AsyncpgConnection,
) -> (Option<Secret>, PasswordSource) {
    let source = connection.password.clone();
    let password = match &source {
        PasswordSource::Url => info.get("password").map(|p| Secret::new(p.into_owned())),
        PasswordSource::Env => env.asyncpg("PGPASSWORD").map(Secret::new),
        PasswordSource::PassFile(_) => connection.password_in_file.clone(),
        PasswordSource::None => None,
    };
    (password, source)
}

/// libpq ignores a password file that others can read; say so instead of failing mysteriously.
fn passfile_warning(info: &ConnInfo, env: &Environment) -> Option<String> {
    let passfile = info.get("passfile").map(|p| p.into_owned());
    match pgpass::locate(env, passfile.as_deref())? {
        PasswordFile::TooOpen { path, mode } => Some(format!(
            "password file {} has group or world access (mode {mode:o}) and is ignored, as libpq does; run chmod 600 {}",
            path.display(),
            path.display()
        )),
        _ => None,
    }
}

/// Connects and spawns the connection task; errors carry the documented exit code and a hint.
pub async fn connect(target: &Target) -> Result<Client> {
    connect_with(target, &target.config).await
}

/// [`connect`] with other session settings (another application_name, say).
pub async fn connect_with(target: &Target, config: &tokio_postgres::Config) -> Result<Client> {
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
pub fn classify(
    error: &tokio_postgres::Error,
    target: &Target,
    endpoint: &Endpoint,
) -> anyhow::Error {
    let place = endpoint.describe();
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        let session = diagnosis::Session {
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

/// What to do when the server wants a password and no source gave one.
pub const NO_PASSWORD_HINT: &str =
    "put it in PGPASSWORD or ~/.pgpass (mode 0600), or in the URL (not recommended)";

/// The error with its sources, as one line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
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
