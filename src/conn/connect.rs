//! Opening a connection as libpq would: URL values, then PG* environment fallbacks, then libpq's
//! defaults; the password from the URL, else PGPASSWORD, else the password file.

use std::time::Duration;

use anyhow::Result;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::conn::pgpass::{self, Lookup, PassFile};
use crate::conn::socket;
use crate::conn::target::{
    Endpoint, EndpointError, EndpointKind, ProcessEnvironment, Resolved, SessionAttrs,
};
use crate::conn::tls::{self, SslMode, TlsFiles};
use crate::exit::{invalid, no_response, problems};
use crate::secret::Secret;
use crate::url::libpq::ConnInfo;

/// Where a password came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    Url,
    Env,
    PassFile(String),
    None,
}

/// Everything needed to connect, resolved.
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    /// The same TLS settings, for code that runs the handshake itself (ping).
    pub tls_config: std::sync::Arc<rustls::ClientConfig>,
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
    /// The startup settings for one session, without hosts or TLS: for a stream opened by the caller.
    pub fn session_config(&self) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
        config
    }

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

fn setting(info: &ConnInfo, keyword: &str, env: &str) -> Option<String> {
    info.get(keyword)
        .map(|v| v.into_owned())
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
}

/// Resolves a parsed URL into a connection target, through the one reading of URL, PG*
/// environment and defaults in [`Resolved`]. `application_name` applies unless the URL or
/// PGAPPNAME sets one; `timeout` overrides `connect_timeout` (else PGCONNECT_TIMEOUT, else 10 s).
pub fn resolve(
    info: &ConnInfo,
    application_name: &str,
    timeout: Option<Duration>,
) -> Result<Target> {
    let resolved = Resolved::read(info, &ProcessEnvironment);
    let endpoints = resolved.endpoints.map_err(|error| match error {
        EndpointError::Mismatch(message) => invalid(format!(
            "{message}: give one port for all hosts or one per host"
        )),
        other => invalid(other.to_string()),
    })?;
    let sslmode = resolved.sslmode.map_err(invalid)?.value;
    let session_attrs = resolved.session_attrs.map_err(invalid)?;
    let (user, dbname) = (resolved.user.value, resolved.dbname.value);

    let mut config = tokio_postgres::Config::new();
    config.user(&user).dbname(&dbname);
    config.application_name(
        setting(info, "application_name", "PGAPPNAME")
            .unwrap_or_else(|| application_name.to_string()),
    );
    if let Some(options) = info.get("options").filter(|o| !o.is_empty()) {
        config.options(options.as_ref());
    }
    let connect_timeout = connect_timeout(info, timeout)?;
    config.connect_timeout(connect_timeout);

    let (password, password_source) = password(info, &endpoints[0], &dbname, &user);
    if let Some(password) = &password {
        config.password(password.expose());
    }

    let files = TlsFiles {
        sslrootcert: setting(info, "sslrootcert", "PGSSLROOTCERT"),
        sslcert: setting(info, "sslcert", "PGSSLCERT"),
        sslkey: setting(info, "sslkey", "PGSSLKEY"),
    };
    let (tls, sslmode, tls_config) = tls::connector(sslmode, &files)?;
    config.ssl_mode(sslmode.for_tokio_postgres());
    {
        use tokio_postgres::config::TargetSessionAttrs as Attrs;
        // tokio-postgres knows only read-write and read-only: primary and standby are
        // approximated by them; ping checks them exactly.
        config.target_session_attrs(match session_attrs {
            SessionAttrs::ReadWrite | SessionAttrs::Primary => Attrs::ReadWrite,
            SessionAttrs::ReadOnly | SessionAttrs::Standby => Attrs::ReadOnly,
            SessionAttrs::Any | SessionAttrs::PreferStandby => Attrs::Any,
        });
    }
    Ok(Target {
        config,
        tls,
        tls_config,
        sslmode,
        endpoints,
        session_attrs,
        password,
        user,
        dbname,
        password_source,
        passfile_warning: passfile_warning(info),
        connect_timeout,
    })
}

/// One endpoint in tokio-postgres's terms: its host (name or socket directory), port and
/// `hostaddr`, added to the session settings. Abstract sockets have no such terms (see [`open`]).
fn config_for(base: &tokio_postgres::Config, endpoint: &Endpoint) -> tokio_postgres::Config {
    let mut config = base.clone();
    match endpoint.kind {
        EndpointKind::Unix => {
            config.host_path(&endpoint.host);
        }
        EndpointKind::Tcp | EndpointKind::Abstract => {
            config.host(endpoint.name());
        }
    }
    config.port(endpoint.port);
    if let Some(address) = endpoint.hostaddr {
        config.hostaddr(address);
    }
    config
}

/// Opens a session on the first endpoint that takes it, in libpq's order, and spawns its
/// connection task. Each endpoint is tried with tokio-postgres's own connect (TLS, password,
/// `target_session_attrs`); an abstract socket, which tokio-postgres cannot open, is opened here
/// and the session started over it without TLS (as libpq: none over Unix sockets).
pub async fn open(
    base: &tokio_postgres::Config,
    endpoints: &[Endpoint],
    tls: &MakeRustlsConnect,
) -> Result<(Client, JoinHandle<()>), tokio_postgres::Error> {
    let mut failure = None;
    for endpoint in endpoints {
        let attempt = match endpoint.kind {
            EndpointKind::Abstract => {
                let mut config = base.clone();
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                let opened = tokio::time::timeout(
                    base.get_connect_timeout().copied().unwrap_or(Duration::MAX),
                    socket::connect(endpoint),
                )
                .await
                .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()));
                match opened {
                    Ok(stream) => config
                        .connect_raw(stream, NoTls)
                        .await
                        .map(|(c, conn)| (c, spawn(conn))),
                    Err(error) => config
                        .connect_raw(socket::Failed::new(error), NoTls)
                        .await
                        .map(|(c, conn)| (c, spawn(conn))),
                }
            }
            _ => config_for(base, endpoint)
                .connect(tls.clone())
                .await
                .map(|(c, conn)| (c, spawn(conn))),
        };
        match attempt {
            Ok(opened) => return Ok(opened),
            Err(error) => failure = Some(error),
        }
    }
    Err(failure.expect("a target has at least one endpoint"))
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
fn connect_timeout(info: &ConnInfo, flag: Option<Duration>) -> Result<Duration> {
    let forever = Duration::from_secs(3600);
    if let Some(flag) = flag {
        return Ok(if flag.is_zero() {
            forever
        } else {
            flag.max(Duration::from_millis(100))
        });
    }
    let Some(text) = setting(info, "connect_timeout", "PGCONNECT_TIMEOUT") else {
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

fn password(
    info: &ConnInfo,
    endpoint: &Endpoint,
    dbname: &str,
    user: &str,
) -> (Option<Secret>, PasswordSource) {
    if let Some(password) = info.get_bytes("password").filter(|p| !p.is_empty()) {
        return (
            Some(Secret::new(String::from_utf8_lossy(password))),
            PasswordSource::Url,
        );
    }
    if let Ok(password) = std::env::var("PGPASSWORD")
        && !password.is_empty()
    {
        return (Some(Secret::new(password)), PasswordSource::Env);
    }
    let passfile = info.get("passfile").map(|p| p.into_owned());
    if let Some(PassFile::Usable(path)) = pgpass::locate(passfile.as_deref()) {
        let port = endpoint.port.to_string();
        let host = endpoint.name();
        let lookup = Lookup {
            host: &host,
            port: &port,
            database: dbname,
            user,
        };
        if let Some(secret) = pgpass::find_password(&path, &lookup) {
            return (
                Some(secret),
                PasswordSource::PassFile(path.display().to_string()),
            );
        }
    }
    (None, PasswordSource::None)
}

/// libpq ignores a password file that others can read; say so instead of failing mysteriously.
fn passfile_warning(info: &ConnInfo) -> Option<String> {
    let passfile = info.get("passfile").map(|p| p.into_owned());
    match pgpass::locate(passfile.as_deref())? {
        PassFile::TooOpen(path, mode) => Some(format!(
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
    let attempt = open(config, &target.endpoints, &target.tls);
    let wait = target.connect_timeout * target.endpoints.len() as u32 + Duration::from_millis(500);
    let result = tokio::time::timeout(wait, attempt).await;
    let (client, _) = match result {
        Err(_) => {
            return Err(no_response(format!(
                "{}: no response within {:.1} s (timed out); is the server up and reachable?",
                target.describe(),
                target.connect_timeout.as_secs_f64()
            )));
        }
        Ok(Err(error)) => return Err(classify(&error, target)),
        Ok(Ok(pair)) => pair,
    };
    Ok(client)
}

/// Maps a tokio-postgres error to dbtool's exit codes: a server error means it answered (1),
/// anything else at connect time means it did not (2).
pub fn classify(error: &tokio_postgres::Error, target: &Target) -> anyhow::Error {
    let place = target.describe();
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        let hint = match code {
            "28P01" => "check the password in the URL, PGPASSWORD and ~/.pgpass".to_string(),
            "28000" => format!(
                "check that role {:?} exists and that pg_hba.conf allows this connection",
                target.user
            ),
            "3D000" => format!(
                "create it: createdb -h {} -p {} -U {} {}",
                target.endpoints[0].name(),
                target.endpoints[0].port,
                target.user,
                target.dbname
            ),
            "53300" => {
                "the server is at max_connections: close idle connections or raise max_connections"
                    .into()
            }
            "57P03" => {
                "the server is starting up, shutting down or in recovery: retry shortly".into()
            }
            _ => "see the server's message".into(),
        };
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
    if text.contains("certificate")
        || text.contains("tls")
        || text.contains("TLS")
        || text.contains("ssl")
    {
        return problems(format!(
            "{place}: TLS failed: {text}; check sslmode and sslrootcert"
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
