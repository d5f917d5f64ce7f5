//! The Part | Value | Meaning table: every part of the URL, and the defaults and environment
//! fallbacks that will fill in what it leaves out.

use crate::conn::ENV_FALLBACKS;
use crate::conn::pgpass::{self, PassFile};
use crate::conn::target::{Endpoint, EndpointKind, Origin, Resolved, Sourced};
use crate::secret::MASK;
use crate::url::libpq::{self, ConnInfo};
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

pub fn explain(
    scheme: &Scheme,
    info: &ConnInfo,
    resolved: &Resolved,
    show_password: bool,
) -> Vec<Part> {
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

    rows.push(match &resolved.user.origin {
        Origin::Url => part("user", &resolved.user.value, "role to log in as"),
        Origin::Env(variable) => part(
            "user",
            format!("{} ({variable})", resolved.user.value),
            format!("role to log in as, from {variable}"),
        ),
        Origin::Default => part(
            "user",
            format!("{} (default)", resolved.user.value),
            "not in the URL: the operating-system user",
        ),
    });

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

    match &resolved.endpoints {
        Ok(endpoints) => {
            let several = endpoints.len() > 1;
            let label = |what: &str, i: usize| {
                if several {
                    format!("{what} {}", i + 1)
                } else {
                    what.to_string()
                }
            };
            for (i, endpoint) in endpoints.iter().enumerate() {
                rows.push(host_row(label("host", i), endpoint));
                rows.push(port_row(label("port", i), endpoint));
            }
        }
        Err(error) => rows.push(part(
            "host",
            get("host").unwrap_or_default(),
            format!("libpq will fail: {error}"),
        )),
    }

    rows.push(match &resolved.dbname.origin {
        Origin::Url => part("database", &resolved.dbname.value, "database to connect to"),
        Origin::Env(variable) => part(
            "database",
            format!("{} ({variable})", resolved.dbname.value),
            format!("not in the URL: from {variable}"),
        ),
        Origin::Default => part(
            "database",
            format!("{} (default)", resolved.dbname.value),
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
    match &resolved.sslmode {
        Ok(Sourced {
            value,
            origin: Origin::Env(variable),
        }) => rows.push(part(
            "sslmode",
            format!("{} ({variable})", value.name()),
            format!("not in the URL: from {variable}"),
        )),
        Ok(Sourced {
            value,
            origin: Origin::Default,
        }) => rows.push(part(
            "sslmode",
            format!("{} (default)", value.name()),
            "not in the URL: TLS if the server offers it, without verifying the certificate",
        )),
        Err(message) if !info.contains("sslmode") => rows.push(part(
            "sslmode",
            "(invalid)",
            format!("libpq will fail: {message}"),
        )),
        _ => {}
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

/// The row for one host: what kind of endpoint it is and where its name came from.
fn host_row(label: String, endpoint: &Endpoint) -> Part {
    let value = match endpoint.host_origin {
        Origin::Url => endpoint.name(),
        Origin::Env(variable) => format!("{} ({variable})", endpoint.name()),
        Origin::Default => format!("{} (default)", endpoint.host),
    };
    let meaning = match (endpoint.kind, endpoint.hostaddr) {
        (EndpointKind::Tcp, Some(address)) if !endpoint.host.is_empty() => format!(
            "numeric address (hostaddr) {address}, no DNS; {:?} names it for TLS and .pgpass",
            endpoint.host
        ),
        (EndpointKind::Tcp, Some(_)) => "numeric address (hostaddr), no DNS".to_string(),
        (EndpointKind::Tcp, None) => "TCP host name, resolved by DNS".to_string(),
        (EndpointKind::Unix, _) if endpoint.host_origin == Origin::Default => {
            "not in the URL: a Unix socket in libpq's default directory".to_string()
        }
        (EndpointKind::Unix, _) => "Unix-domain socket directory".to_string(),
        (EndpointKind::Abstract, _) => {
            "Linux abstract Unix socket (libpq 14+): no file, the name is in the abstract namespace"
                .to_string()
        }
    };
    let meaning = match endpoint.host_origin {
        Origin::Env(variable) => format!("not in the URL: from {variable}; {meaning}"),
        _ => meaning,
    };
    part(label, value, meaning)
}

/// The row for one port, with where it came from.
fn port_row(label: String, endpoint: &Endpoint) -> Part {
    match endpoint.port_origin {
        Origin::Url => part(
            label,
            endpoint.port.to_string(),
            "TCP port, or the socket file's suffix (.s.PGSQL.PORT)",
        ),
        Origin::Env(variable) => part(
            label,
            format!("{} ({variable})", endpoint.port),
            format!("not in the URL: from {variable}"),
        ),
        Origin::Default => part(
            label,
            format!("{} (default)", endpoint.port),
            "not in the URL: PostgreSQL's default port",
        ),
    }
}
