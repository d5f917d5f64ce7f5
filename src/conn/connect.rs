//! Opening a connection as libpq would: URL values, then PG* environment fallbacks, then libpq's
//! defaults; the password from the URL, else PGPASSWORD, else the password file.

use std::time::Duration;

use anyhow::Result;
use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::conn::pgpass::{self, Lookup, PassFile};
use crate::conn::tls::{self, SslMode, TlsFiles};
use crate::conn::{DEFAULT_PORT, DEFAULT_SOCKET_DIR, os_user};
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
    /// Host names or socket directories, in the order libpq tries them.
    pub hosts: Vec<String>,
    /// One per host.
    pub ports: Vec<u16>,
    /// One per host: a numeric address that replaces DNS (`hostaddr`).
    pub hostaddrs: Vec<Option<std::net::IpAddr>>,
    /// `target_session_attrs`: any, read-write, read-only, primary, standby, prefer-standby.
    pub session_attrs: String,
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

    /// `host:port` of the first host, as pg_isready shows it.
    pub fn describe(&self) -> String {
        let host = self.hosts.first().cloned().unwrap_or_default();
        let port = self.ports.first().copied().unwrap_or(5432);
        format!("{host}:{port}")
    }
}

fn setting(info: &ConnInfo, keyword: &str, env: &str) -> Option<String> {
    info.get(keyword)
        .map(|v| v.into_owned())
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
}

/// Resolves a parsed URL into a connection target. `application_name` applies unless the URL or
/// PGAPPNAME sets one; `timeout` overrides `connect_timeout` (else PGCONNECT_TIMEOUT, else 10 s).
pub fn resolve(
    info: &ConnInfo,
    application_name: &str,
    timeout: Option<Duration>,
) -> Result<Target> {
    let mut config = tokio_postgres::Config::new();
    let hosts: Vec<String> = setting(info, "host", "PGHOST")
        .unwrap_or_else(|| DEFAULT_SOCKET_DIR.to_string())
        .split(',')
        .map(|h| {
            if h.is_empty() {
                DEFAULT_SOCKET_DIR.to_string()
            } else {
                h.to_string()
            }
        })
        .collect();
    let port_text = setting(info, "port", "PGPORT").unwrap_or_else(|| DEFAULT_PORT.to_string());
    let mut ports = Vec::new();
    for port in port_text.split(',') {
        let port = if port.trim().is_empty() {
            DEFAULT_PORT
        } else {
            port.trim()
        };
        let number: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| invalid(format!("invalid port {port:?}: give a number 1-65535")))?;
        ports.push(number);
    }
    if ports.len() != 1 && ports.len() != hosts.len() {
        return Err(invalid(format!(
            "could not match {} port numbers to {} hosts: give one port for all hosts or one per host",
            ports.len(),
            hosts.len()
        )));
    }
    for host in &hosts {
        if host.starts_with('/') {
            config.host_path(host);
        } else {
            config.host(host);
        }
    }
    for port in &ports {
        config.port(*port);
    }
    let ports = if ports.len() == 1 {
        vec![ports[0]; hosts.len()]
    } else {
        ports
    };
    let mut hostaddrs = vec![None; hosts.len()];
    if let Some(hostaddr) = setting(info, "hostaddr", "PGHOSTADDR") {
        for (i, addr) in hostaddr.split(',').enumerate() {
            if addr.is_empty() {
                continue;
            }
            let ip: std::net::IpAddr = addr.parse().map_err(|_| {
                invalid(format!(
                    "invalid hostaddr {addr:?}: give a numeric IP address"
                ))
            })?;
            config.hostaddr(ip);
            if let Some(slot) = hostaddrs.get_mut(i) {
                *slot = Some(ip);
            }
        }
    }
    let user = setting(info, "user", "PGUSER").unwrap_or_else(os_user);
    let dbname = setting(info, "dbname", "PGDATABASE").unwrap_or_else(|| user.clone());
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

    let (password, password_source) = password(info, &hosts[0], ports[0], &dbname, &user);
    if let Some(password) = &password {
        config.password(password.expose());
    }

    let sslmode =
        SslMode::parse(&setting(info, "sslmode", "PGSSLMODE").unwrap_or_else(|| "prefer".into()))?;
    let files = TlsFiles {
        sslrootcert: setting(info, "sslrootcert", "PGSSLROOTCERT"),
        sslcert: setting(info, "sslcert", "PGSSLCERT"),
        sslkey: setting(info, "sslkey", "PGSSLKEY"),
    };
    let (tls, sslmode, tls_config) = tls::connector(sslmode, &files)?;
    config.ssl_mode(sslmode.for_tokio_postgres());
    let session_attrs = setting(info, "target_session_attrs", "PGTARGETSESSIONATTRS")
        .unwrap_or_else(|| "any".into());
    if ![
        "any",
        "read-write",
        "read-only",
        "primary",
        "standby",
        "prefer-standby",
    ]
    .contains(&session_attrs.as_str())
    {
        return Err(invalid(format!(
            "invalid target_session_attrs {session_attrs:?}: use any, read-write, read-only, primary, standby or prefer-standby"
        )));
    }
    {
        use tokio_postgres::config::TargetSessionAttrs as Attrs;
        config.target_session_attrs(match session_attrs.as_str() {
            "read-write" | "primary" => Attrs::ReadWrite,
            "read-only" | "standby" => Attrs::ReadOnly,
            _ => Attrs::Any,
        });
    }
    Ok(Target {
        config,
        tls,
        tls_config,
        sslmode,
        hosts,
        ports,
        hostaddrs,
        session_attrs,
        password,
        user,
        dbname,
        password_source,
        passfile_warning: passfile_warning(info),
        connect_timeout,
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
    host: &str,
    port: u16,
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
        let port = port.to_string();
        let lookup = Lookup {
            host,
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
    let attempt = target.config.connect(target.tls.clone());
    let result =
        tokio::time::timeout(target.connect_timeout + Duration::from_millis(500), attempt).await;
    let (client, connection) = match result {
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
    tokio::spawn(async move {
        let _ = connection.await;
    });
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
                target.hosts[0], target.ports[0], target.user, target.dbname
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
