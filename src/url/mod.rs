//! Connection URLs: SQLAlchemy's and libpq's readings, conversions, and redaction of the password
//! wherever a URL is shown.

pub mod dialect;
pub mod libpq;
mod redact;
pub mod sqlalchemy;

pub(crate) use redact::redact_message;
pub use redact::{redact_text, redact_url};

use anyhow::Result;

use crate::environment::Environment;
use crate::exit::invalid;
use libpq::{ConnInfo, ParseOptions, UriError};
use sqlalchemy::Scheme;

/// Where a resolved value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The URL (a keyword of the connection string, or an argument the dialect builds from it).
    Url,
    /// This environment variable, because the URL leaves the keyword out.
    Env(&'static str),
    /// The client library's default (libpq's, or asyncpg's own).
    Default,
}

/// A database URL read for connecting, as the application's driver reads it.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    pub(crate) scheme: Scheme,
    /// libpq's reading, or for a driver the conninfo that reaches what the application reaches
    /// ([`dialect::ApplicationReading::libpq_equivalent`]).
    pub info: ConnInfo,
    /// For asyncpg, its own resolution: hosts, ports, user, database, password source and TLS
    /// mode by asyncpg's rules, which replace libpq's.
    pub(crate) asyncpg: Option<dialect::AsyncpgConnection>,
}

/// Parses a database URL for connecting: its scheme and the reading of the application's driver
/// (asyncpg's with `env`); an unusable URL is an invalid-input error (exit 3) whose message never
/// holds the password.
pub fn parse_database_url(url: &str, env: &Environment) -> Result<DatabaseUrl> {
    let scheme = sqlalchemy::parse_scheme(url)
        .map_err(|e| invalid(format!("invalid URL: {}", e.message)))?;
    let major = ParseOptions::default().libpq_major;
    let (parsed, _) = libpq_reading(url, &scheme, ParseOptions::default());
    let reading = sqlalchemy::read_as_sqlalchemy(url);
    let application =
        dialect::ApplicationReading::read(&reading, scheme.effective_driver(), major, env)
            .map_err(|e| redact_message(&e, url));
    connecting_url(scheme, parsed, &reading, &application, major).map_err(|unusable| {
        invalid(match unusable {
            Unusable::Application(message) => format!(
                "the application cannot use the URL {}: {message}; run `dbtool check-url` for details",
                redact_url(url)
            ),
            Unusable::DriverRefuses(message) => format!(
                "the driver refuses the URL {}: {}; run `dbtool check-url` for details",
                redact_url(url),
                redact_message(&message, url)
            ),
            Unusable::Libpq(error) => format!(
                "invalid URL {}: {}; run `dbtool check-url` for details",
                redact_url(url),
                error.message
            ),
        })
    })
}

/// Why the application cannot connect with a URL.
#[derive(Debug)]
pub(crate) enum Unusable {
    /// SQLAlchemy cannot build the driver's arguments (the message redacted).
    Application(String),
    /// The driver refuses its arguments.
    DriverRefuses(String),
    /// No driver, and libpq refuses the string.
    Libpq(UriError),
}

/// Which reading of a URL the application connects with — the one place that decides it. A URL
/// with a driver is read as the application reads it: what its driver receives (asyncpg resolves
/// everything itself), and wherever libpq refuses the string (a `%` escape SQLAlchemy takes
/// literally); otherwise libpq's reading `parsed`. `application` is the dialect's and driver's
/// reading of `sqlalchemy` for libpq `libpq_major`.
pub(crate) fn connecting_url(
    scheme: Scheme,
    parsed: Result<ConnInfo, UriError>,
    sqlalchemy: &Result<sqlalchemy::SqlalchemyReading, String>,
    application: &Result<dialect::ApplicationReading, String>,
    libpq_major: u32,
) -> Result<DatabaseUrl, Unusable> {
    let application_reads = sqlalchemy
        .as_ref()
        .is_ok_and(|reading| dialect::application_reading_connects(&scheme, reading));
    if scheme.driver.is_some() && (parsed.is_err() || application_reads) {
        let application = application
            .as_ref()
            .map_err(|message| Unusable::Application(message.clone()))?;
        let info = application.libpq_info(libpq_major).ok_or_else(|| {
            Unusable::DriverRefuses(
                application
                    .driver_error()
                    .unwrap_or("unknown error")
                    .to_string(),
            )
        })?;
        let asyncpg = match &application.reading {
            dialect::DriverReading::Asyncpg(Ok(connection)) => Some((**connection).clone()),
            _ => None,
        };
        return Ok(DatabaseUrl {
            scheme,
            info,
            asyncpg,
        });
    }
    Ok(DatabaseUrl {
        scheme,
        info: parsed.map_err(Unusable::Libpq)?,
        asyncpg: None,
    })
}

/// The libpq URI a SQLAlchemy URL stands for: the driver removed, `postgres` kept as libpq reads it.
fn libpq_uri(url: &str, scheme: &Scheme) -> String {
    format!("{}://{}", scheme.dialect, &url[scheme.rest_start..])
}

/// Maps a position in the libpq URI back to the URL as the user wrote it.
pub(crate) fn map_position(position: usize, scheme: &Scheme) -> usize {
    let prefix = scheme.dialect.len() + 3;
    if position >= prefix {
        position - prefix + scheme.rest_start
    } else {
        position
    }
}

/// Parses as libpq does. For drivers that do not use libpq, query parameters only the driver knows
/// (asyncpg's `ssl`, say) are set aside first: libpq never sees them.
pub(crate) fn libpq_reading(
    url: &str,
    scheme: &Scheme,
    options: ParseOptions,
) -> (Result<ConnInfo, UriError>, Vec<String>) {
    let mut uri = libpq_uri(url, scheme);
    let mut set_aside = Vec::new();
    loop {
        let result = libpq::parse_uri_with(&uri, options);
        let Err(error) = &result else {
            return (result, set_aside);
        };
        let unknown = error
            .message
            .strip_prefix("invalid URI query parameter: \"")
            .and_then(|rest| rest.strip_suffix('"'))
            .map(str::to_string);
        match unknown {
            Some(key) if !scheme.effective_driver().uses_libpq() && !set_aside.contains(&key) => {
                uri = remove_query_parameter(&uri, &key);
                set_aside.push(key);
            }
            _ => return (result, set_aside),
        }
    }
}

/// Removes every `key=value` query parameter (after `?` or `&`) named `key`.
fn remove_query_parameter(uri: &str, key: &str) -> String {
    let Some(query_start) = uri.find('?') else {
        return uri.to_string();
    };
    let (head, query) = uri.split_at(query_start);
    let kept: Vec<&str> = query[1..]
        .split('&')
        .filter(|param| param.split('=').next() != Some(key))
        .collect();
    if kept.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", kept.join("&"))
    }
}
