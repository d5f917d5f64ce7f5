//! The Part | Value | Meaning table: every part of the URL, and the defaults and environment
//! fallbacks that will fill in what it leaves out.

use crate::conn::ENV_FALLBACKS;
use crate::conn::pgpass;
use crate::conn::target::{Endpoint, EndpointKind, Origin, Resolved, Sourced, SslMode};
use crate::environment::Environment;
use crate::password::PasswordFile;
use crate::secret::MASK;
use crate::url::libpq::{self, ConnInfo};
use crate::url::sqlalchemy::Scheme;

/// One row of the explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) part: String,
    pub(crate) value: String,
    pub(crate) meaning: String,
}

fn part(part: impl Into<String>, value: impl Into<String>, meaning: impl Into<String>) -> Part {
    Part {
        part: part.into(),
        value: value.into(),
        meaning: meaning.into(),
    }
}

/// Every row, in reading order: the scheme, who connects where, the query parameters, then what
/// the environment and the password file add.
pub(super) fn explain(
    scheme: &Scheme,
    info: &ConnInfo,
    resolved: &Resolved,
    env: &Environment,
    show_password: bool,
) -> Vec<Part> {
    let mut rows = scheme_rows(scheme);
    rows.push(sourced_row(
        "user",
        &resolved.user,
        "role to log in as",
        "not in the URL: the operating-system user",
    ));
    rows.push(password_row(info, show_password));
    rows.extend(endpoint_rows(info, resolved));
    rows.push(sourced_row(
        "database",
        &resolved.dbname,
        "database to connect to",
        "not in the URL: the same as the user name",
    ));
    rows.extend(parameter_rows(info, show_password));
    rows.extend(sslmode_row(info, resolved));
    rows.extend(environment_rows(info, env, show_password));
    if info.get_bytes("password").is_none_or(|p| p.is_empty()) {
        rows.push(passfile_row(info, env));
    }
    rows
}

fn scheme_rows(scheme: &Scheme) -> Vec<Part> {
    vec![
        part(
            &scheme.dialect,
            &scheme.written,
            match scheme.dialect.as_str() {
                "postgres" => "libpq's alias for postgresql; SQLAlchemy 1.4+ rejects it",
                _ => "SQLAlchemy dialect name for PostgreSQL",
            },
        ),
        match scheme.driver {
            Some(driver) => part("driver", driver.name(), driver.describe()),
            None => part(
                "driver",
                "(none)",
                "SQLAlchemy 2.1's default driver for postgresql: psycopg (3, on libpq; 2.0 took psycopg2)",
            ),
        },
    ]
}

/// A resolved value with where it came from: the URL, an environment variable, a default.
fn sourced_row(label: &str, value: &Sourced<String>, from_url: &str, default: &str) -> Part {
    match value.origin {
        Origin::Url => part(label, &value.value, from_url),
        Origin::Env(variable) => part(
            label,
            format!("{} ({variable})", value.value),
            format!("not in the URL: from {variable}"),
        ),
        Origin::Default => part(label, format!("{} (default)", value.value), default),
    }
}

fn password_row(info: &ConnInfo, show_password: bool) -> Part {
    match info.get_bytes("password").filter(|p| !p.is_empty()) {
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
    }
}

/// A host and a port row per endpoint, numbered when there are several.
fn endpoint_rows(info: &ConnInfo, resolved: &Resolved) -> Vec<Part> {
    let endpoints = match &resolved.endpoints {
        Ok(endpoints) => endpoints,
        Err(error) => {
            return vec![part(
                "host",
                info.get("host").unwrap_or_default(),
                format!("libpq will fail: {error}"),
            )];
        }
    };
    let label = |what: &str, i: usize| {
        if endpoints.len() > 1 {
            format!("{what} {}", i + 1)
        } else {
            what.to_string()
        }
    };
    endpoints
        .iter()
        .enumerate()
        .flat_map(|(i, endpoint)| {
            [
                host_row(label("host", i), endpoint),
                port_row(label("port", i), endpoint),
            ]
        })
        .collect()
}

/// The other keywords the URL sets, secrets masked.
fn parameter_rows(info: &ConnInfo, show_password: bool) -> Vec<Part> {
    info.iter()
        .filter(|(keyword, _)| {
            !["user", "password", "host", "hostaddr", "port", "dbname"].contains(&keyword.name)
        })
        .map(|(keyword, value)| {
            let shown = if keyword.is_secret() && !show_password {
                MASK.to_string()
            } else {
                String::from_utf8_lossy(value).into_owned()
            };
            part(
                keyword.name,
                shown,
                format!("query parameter: {}", keyword.label),
            )
        })
        .collect()
}

/// The sslmode when the URL does not set it (the URL's own is a parameter row).
fn sslmode_row(info: &ConnInfo, resolved: &Resolved) -> Option<Part> {
    Some(match &resolved.sslmode {
        Ok(Sourced {
            value,
            origin: Origin::Env(variable),
        }) => part(
            "sslmode",
            format!("{} ({variable})", value.name()),
            format!("not in the URL: from {variable}"),
        ),
        Ok(Sourced {
            value,
            origin: Origin::Default,
        }) => part(
            "sslmode",
            format!("{} (default)", value.name()),
            match value {
                SslMode::Disable => "not in the URL: no TLS (asyncpg, only Unix sockets)",
                _ => {
                    "not in the URL: TLS if the server offers it, without verifying the certificate"
                }
            },
        ),
        // asyncpg's `ssl`, which libpq's reading of the string does not hold.
        Ok(Sourced {
            value,
            origin: Origin::Url,
        }) if !info.contains("sslmode") => part(
            "sslmode",
            value.name(),
            "from the URL's ssl, as asyncpg reads it",
        ),
        Err(message) if !info.contains("sslmode") => part(
            "sslmode",
            "(invalid)",
            format!("libpq will fail: {message}"),
        ),
        _ => return None,
    })
}

/// PG* variables that supply a keyword the URL leaves out, beyond those shown in place above.
fn environment_rows(info: &ConnInfo, env: &Environment, show_password: bool) -> Vec<Part> {
    const SHOWN_ABOVE: [&str; 6] = [
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGSSLMODE",
    ];
    ENV_FALLBACKS
        .iter()
        .filter(|(variable, keyword)| !SHOWN_ABOVE.contains(variable) && !info.contains(keyword))
        .filter_map(|&(variable, keyword)| {
            let value = env.libpq(variable)?;
            let value = if keyword == "password" && !show_password {
                MASK.to_string()
            } else {
                value
            };
            let label = libpq::keyword(keyword).map_or(keyword, |k| k.label);
            Some(part(
                variable,
                value,
                format!("environment: supplies {keyword} ({label}), which the URL leaves out"),
            ))
        })
        .collect()
}

/// The password file libpq consults when nothing else gives a password.
fn passfile_row(info: &ConnInfo, env: &Environment) -> Part {
    let passfile = info
        .get("passfile")
        .map(|v| v.into_owned())
        .filter(|v| !v.is_empty());
    match pgpass::locate(env, passfile.as_deref()) {
        Some(PasswordFile::Usable(path)) => part(
            "password file",
            path.display().to_string(),
            "consulted for the password when no other source gives one",
        ),
        Some(PasswordFile::TooOpen { path, mode }) => part(
            "password file",
            path.display().to_string(),
            format!("ignored by libpq: mode {mode:o} lets others read it (chmod 600)"),
        ),
        Some(PasswordFile::Missing(path)) => part(
            "password file",
            format!("{} (absent)", path.display()),
            "no password file",
        ),
        None => part("password file", "(none)", "no HOME, so no ~/.pgpass"),
    }
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
            "not in the URL: a default socket directory (libpq has one; asyncpg tries four, then localhost)".to_string()
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
