//! The connection plan: what the application connects to, decided once from the URL and one
//! environment. The driver (from the URL's scheme), the endpoints in the order the driver tries
//! them, user, database, password and where it comes from, TLS rules, `target_session_attrs`,
//! the connect timeout and `application_name`: libpq's reading of the URL, PG* environment and
//! defaults ([`Resolved::read`]), or for asyncpg its own resolution ([`Resolved::asyncpg`]).
//!
//! check-url explains [`Reached`], the plan before anything is validated; ping, lint-constraints
//! and pool-bench connect with [`ConnectionPlan`], built from it by [`ConnectionPlan::new`].

use std::time::Duration;

use anyhow::Result;

use crate::conn::pgpass::{self, Lookup};
use crate::conn::target::{Endpoint, EndpointError, Origin, Resolved, SessionAttrs};
use crate::conn::tcp::TcpSettings;
use crate::conn::tls::{self, ClientRules, SslMode, TlsFiles, TlsSetup};
use crate::environment::Environment;
use crate::exit::invalid;
use crate::password::{PasswordFile, PasswordSource};
use crate::secret::Secret;
use crate::url::dialect::AsyncpgConnection;
use crate::url::libpq::ConnInfo;
use crate::url::sqlalchemy::Scheme;
use crate::url::{DatabaseUrl, parse_database_url};

/// What a connecting command brings to the plan besides the URL and the environment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options<'a> {
    /// Applies unless the URL or PGAPPNAME sets one.
    pub(crate) application_name: &'a str,
    /// Overrides `connect_timeout` (else PGCONNECT_TIMEOUT, else 10 s).
    pub(crate) connect_timeout: Option<Duration>,
    /// The libpq major version whose TLS rules apply to libpq drivers.
    pub(crate) libpq_major: u32,
}

/// Where the application's driver goes and as whom, as read before anything is checked: the
/// resolution (each value with its origin, invalid values kept as errors) and the password with
/// its source. check-url explains this; [`ConnectionPlan::new`] validates it.
pub(crate) struct Reached {
    pub(crate) resolved: Resolved,
    pub(crate) password: Option<Secret>,
    pub(crate) password_source: PasswordSource,
}

impl Reached {
    /// The driver's resolution of a URL read for connecting: asyncpg's own, else libpq's with
    /// `env`; the password from the URL, else PGPASSWORD, else the password file, each driver its
    /// way.
    pub(crate) fn of(url: &DatabaseUrl, env: &Environment) -> Reached {
        let info = &url.info;
        let resolved = match &url.asyncpg {
            None => Resolved::read(info, env),
            Some(connection) => Resolved::asyncpg(connection),
        };
        let (password, password_source) = match &url.asyncpg {
            None => {
                let first = resolved.endpoints.as_ref().ok().and_then(|e| e.first());
                let (user, dbname) = (&resolved.user.value, &resolved.dbname.value);
                libpq_password(info, env, first, dbname, user)
            }
            Some(connection) => asyncpg_password(info, env, connection),
        };
        Reached {
            resolved,
            password,
            password_source,
        }
    }
}

/// Everything needed to connect, decided and checked: what ping, lint-constraints and pool-bench
/// connect with.
pub(crate) struct ConnectionPlan {
    /// The URL's scheme: the dialect and the application's driver.
    pub(crate) scheme: Scheme,
    pub(crate) config: tokio_postgres::Config,
    /// TLS as libpq sets it up, with the libpq version whose rules apply.
    pub(crate) tls: TlsSetup,
    /// The hosts, in the order the driver tries them; never empty.
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) session_attrs: SessionAttrs,
    pub(crate) password: Option<Secret>,
    pub(crate) user: String,
    pub(crate) dbname: String,
    pub(crate) password_source: PasswordSource,
    /// Why a password file was not used, when it exists but libpq would ignore it.
    pub(crate) passfile_warning: Option<String>,
    pub(crate) connect_timeout: Duration,
    /// The socket options the driver sets: libpq's keepalives and `tcp_user_timeout`; none for
    /// asyncpg.
    pub(crate) tcp: TcpSettings,
}

impl ConnectionPlan {
    /// The plan for a database URL as the application's driver reads it
    /// ([`parse_database_url`], [`Reached::of`]), with TLS rules, timeout and
    /// `application_name`. An unusable URL or value is an invalid-input error (exit 3).
    pub(crate) fn new(
        url: &str,
        env: &Environment,
        options: &Options<'_>,
    ) -> Result<ConnectionPlan> {
        let url = parse_database_url(url, env)?;
        let Reached {
            resolved,
            password,
            password_source,
        } = Reached::of(&url, env);
        let info = &url.info;
        let rules = match &url.asyncpg {
            None => ClientRules::Libpq(options.libpq_major),
            // The mode asyncpg settled on: its `ssl`, else PGSSLMODE (read its way), else
            // prefer with a TCP host and disable with only sockets.
            Some(connection) => ClientRules::Asyncpg {
                ssl: Some(SslMode::parse_text(connection.sslmode).map_err(invalid)?),
            },
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
                .unwrap_or_else(|| options.application_name.to_string()),
        );
        if let Some(text) = info.get("options").filter(|o| !o.is_empty()) {
            config.options(text.as_ref());
        }
        let connect_timeout = connect_timeout(info, env, options.connect_timeout)?;
        config.connect_timeout(connect_timeout);
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
        let tcp = match &url.asyncpg {
            None => TcpSettings::libpq(info).map_err(invalid)?,
            Some(_) => TcpSettings::default(),
        };
        let passfile_warning = match &url.asyncpg {
            None => passfile_warning(info, env),
            Some(connection) => connection.passfile_warning.clone(),
        };
        Ok(ConnectionPlan {
            scheme: url.scheme,
            config,
            tls,
            endpoints,
            session_attrs,
            password,
            user,
            dbname,
            password_source,
            passfile_warning,
            connect_timeout,
            tcp,
        })
    }

    /// The startup parameters dbtool's own sessions send (as tokio-postgres sends them): user,
    /// database, client_encoding, and the URL's options and application_name.
    pub(crate) fn startup_parameters(&self) -> Vec<(&'static str, String)> {
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
    pub(crate) fn describe(&self) -> String {
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
fn libpq_password(
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
fn asyncpg_password(
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
