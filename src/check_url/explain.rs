//! The Part | Value | Meaning table: every part of the URL, and the defaults and environment
//! fallbacks that will fill in what it leaves out.

use crate::conn::pgpass::{self, PassFile};
use crate::conn::{DEFAULT_PORT, DEFAULT_SOCKET_DIR, ENV_FALLBACKS, os_user};
use crate::secret::MASK;
use crate::url::libpq::{self, ConnInfo, HostKind};
use crate::url::sqlalchemy::Scheme;

/// One row of the explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub part: String,
    pub value: String,
    pub meaning: String,
}

fn part(part: impl Into<String>, value: impl Into<String>, meaning: impl Into<String>) -> Part {
    Part {
        part: part.into(),
        value: value.into(),
        meaning: meaning.into(),
    }
}

pub fn explain(scheme: &Scheme, info: &ConnInfo, show_password: bool) -> Vec<Part> {
    let get = |k: &str| {
        info.get(k)
            .map(|v| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut rows = vec![part(
        &scheme.dialect,
        &scheme.written,
        match scheme.dialect.as_str() {
            "postgres" => "libpq's alias for postgresql; SQLAlchemy 1.4+ rejects it",
            _ => "SQLAlchemy dialect name for PostgreSQL",
        },
    )];
    rows.push(match scheme.driver {
        Some(driver) => part("driver", driver.name(), driver.describe()),
        None => part(
            "driver",
            "(none)",
            "SQLAlchemy's default driver for postgresql: psycopg2 (sync, on libpq)",
        ),
    });

    let user = get("user");
    rows.push(match (&user, env("PGUSER")) {
        (Some(user), _) => part("user", user, "role to log in as"),
        (None, Some(pguser)) => part(
            "user",
            format!("{pguser} (PGUSER)"),
            "role to log in as, from PGUSER",
        ),
        (None, None) => part(
            "user",
            format!("{} (default)", os_user()),
            "not in the URL: the operating-system user",
        ),
    });
    let effective_user = user.clone().or(env("PGUSER")).unwrap_or_else(os_user);

    rows.push(match info.get_bytes("password").filter(|p| !p.is_empty()) {
        Some(password) if show_password => part(
            "password",
            String::from_utf8_lossy(password),
            "password, from the URL (shown by --show-password)",
        ),
        Some(_) => part("password", MASK, "password, from the URL (hidden)"),
        None => part(
            "password",
            "(none)",
            "not in the URL: see PGPASSWORD and the password file below",
        ),
    });

    match info.hosts() {
        Ok(entries) => {
            let several = entries.len() > 1;
            for (i, entry) in entries.iter().enumerate() {
                let label = if several {
                    format!("host {}", i + 1)
                } else {
                    "host".to_string()
                };
                rows.push(match entry.kind {
                    HostKind::Tcp => part(label, &entry.host, "TCP host name, resolved by DNS"),
                    HostKind::HostAddr => part(
                        label,
                        entry.hostaddr.clone().unwrap_or_default(),
                        format!(
                            "numeric address (hostaddr), no DNS; {:?} names it for TLS and .pgpass",
                            entry.host
                        ),
                    ),
                    HostKind::Unix => part(label, &entry.host, "Unix-domain socket directory"),
                    HostKind::DefaultUnix => match env("PGHOST") {
                        Some(pghost) => part(
                            label,
                            format!("{pghost} (PGHOST)"),
                            "not in the URL: from PGHOST",
                        ),
                        None => part(
                            label,
                            format!("{DEFAULT_SOCKET_DIR} (default)"),
                            "not in the URL: a Unix socket in libpq's default directory",
                        ),
                    },
                });
                let port_label = if several {
                    format!("port {}", i + 1)
                } else {
                    "port".to_string()
                };
                rows.push(match entry.port.clone().filter(|p| !p.is_empty()) {
                    Some(port) => part(
                        port_label,
                        port,
                        "TCP port, or the socket file's suffix (.s.PGSQL.PORT)",
                    ),
                    None => match env("PGPORT") {
                        Some(pgport) => part(
                            port_label,
                            format!("{pgport} (PGPORT)"),
                            "not in the URL: from PGPORT",
                        ),
                        None => part(
                            port_label,
                            format!("{DEFAULT_PORT} (default)"),
                            "not in the URL: PostgreSQL's default port",
                        ),
                    },
                });
            }
        }
        Err(message) => rows.push(part(
            "host",
            get("host").unwrap_or_default(),
            format!("libpq will fail: {message}"),
        )),
    }

    rows.push(match (get("dbname"), env("PGDATABASE")) {
        (Some(db), _) => part("database", db, "database to connect to"),
        (None, Some(pgdb)) => part(
            "database",
            format!("{pgdb} (PGDATABASE)"),
            "not in the URL: from PGDATABASE",
        ),
        (None, None) => part(
            "database",
            format!("{effective_user} (default)"),
            "not in the URL: the same as the user name",
        ),
    });

    for (keyword, value) in info.iter() {
        if ["user", "password", "host", "hostaddr", "port", "dbname"].contains(&keyword.name) {
            continue;
        }
        let shown = if keyword.is_secret() && !show_password {
            MASK.to_string()
        } else {
            String::from_utf8_lossy(value).into_owned()
        };
        rows.push(part(
            keyword.name,
            shown,
            format!("query parameter: {}", keyword.label),
        ));
    }
    if get("sslmode").is_none() {
        rows.push(match env("PGSSLMODE") {
            Some(mode) => part(
                "sslmode",
                format!("{mode} (PGSSLMODE)"),
                "not in the URL: from PGSSLMODE",
            ),
            None => part(
                "sslmode",
                "prefer (default)",
                "not in the URL: TLS if the server offers it, without verifying the certificate",
            ),
        });
    }
    for (variable, keyword) in ENV_FALLBACKS {
        let Some(value) = env(variable) else { continue };
        let covered = ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSSLMODE"].contains(&variable);
        if covered || info.contains(keyword) {
            continue;
        }
        let value = if keyword == "password" && !show_password {
            MASK.to_string()
        } else {
            value
        };
        let label = libpq::keyword(keyword).map_or(keyword, |k| k.label);
        rows.push(part(
            variable,
            value,
            format!("environment: supplies {keyword} ({label}), which the URL leaves out"),
        ));
    }
    if info.get_bytes("password").is_none_or(|p| p.is_empty()) {
        let passfile = get("passfile");
        rows.push(match pgpass::locate(passfile.as_deref()) {
            Some(PassFile::Usable(path)) => part(
                "password file",
                path.display().to_string(),
                "consulted for the password when no other source gives one",
            ),
            Some(PassFile::TooOpen(path, mode)) => part(
                "password file",
                path.display().to_string(),
                format!("ignored by libpq: mode {mode:o} lets others read it (chmod 600)"),
            ),
            Some(PassFile::Missing(path)) => part(
                "password file",
                format!("{} (absent)", path.display()),
                "no password file",
            ),
            None => part("password file", "(none)", "no HOME, so no ~/.pgpass"),
        });
    }
    rows
}
