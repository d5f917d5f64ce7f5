//! The SQLAlchemy layer of a URL: `dialect[+driver]://rest`, and how SQLAlchemy's `make_url` reads
//! the rest.
//!
//! SQLAlchemy does not hand the URL to libpq: `make_url` (`sqlalchemy/engine/url.py`,
//! `_parse_url`) splits it with a regular expression, percent-decodes only the user name, password
//! and database, takes the host verbatim, converts the port with `int()`, and reads the query with
//! `urllib.parse.parse_qsl` (which drops blank values, turns `+` into a space and collects repeated
//! keys into a list). The driver then receives those parts as keyword arguments. Where this reading
//! differs from libpq's, the application and psql connect to different places.

use std::sync::LazyLock;

use regex::Regex;

use crate::secret::Secret;

/// The dialect names dbtool understands. `postgres` is libpq's alias, rejected by SQLAlchemy ≥ 1.4.
pub(crate) const KNOWN_DIALECTS: [&str; 2] = ["postgresql", "postgres"];

/// A SQLAlchemy PostgreSQL driver (DBAPI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Asyncpg,
    Psycopg,
    Psycopg2,
    Pg8000,
    Psycopg2cffi,
}

impl Driver {
    pub(crate) const ALL: [Driver; 5] = [
        Driver::Asyncpg,
        Driver::Psycopg,
        Driver::Psycopg2,
        Driver::Pg8000,
        Driver::Psycopg2cffi,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Driver::Asyncpg => "asyncpg",
            Driver::Psycopg => "psycopg",
            Driver::Psycopg2 => "psycopg2",
            Driver::Pg8000 => "pg8000",
            Driver::Psycopg2cffi => "psycopg2cffi",
        }
    }

    fn from_name(name: &str) -> Option<Driver> {
        Driver::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Whether the driver builds a libpq connection string from the URL's parts.
    pub(crate) fn uses_libpq(self) -> bool {
        matches!(
            self,
            Driver::Psycopg | Driver::Psycopg2 | Driver::Psycopg2cffi
        )
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Driver::Asyncpg => "asyncpg: async driver speaking the protocol itself (not libpq)",
            Driver::Psycopg => "psycopg 3: sync and async driver on libpq",
            Driver::Psycopg2 => "psycopg2: sync driver on libpq",
            Driver::Pg8000 => "pg8000: pure-Python sync driver (not libpq)",
            Driver::Psycopg2cffi => "psycopg2cffi: psycopg2 API over libpq through CFFI",
        }
    }
}

/// The scheme of a SQLAlchemy URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// As written, e.g. `postgresql+asyncpg`.
    pub(crate) written: String,
    pub(crate) dialect: String,
    /// `None`: SQLAlchemy's default driver, psycopg2.
    pub driver: Option<Driver>,
    /// Byte offset where the part after `://` starts.
    pub(crate) rest_start: usize,
}

impl Scheme {
    /// The driver that will actually be used: without one, SQLAlchemy 2.1 takes psycopg (3)
    /// (`PGDialect_psycopg` is the `postgresql` default since 2.1; 2.0 took psycopg2), as
    /// recorded in tests/fixtures/sqlalchemy_urls.json.
    pub fn effective_driver(&self) -> Driver {
        self.driver.unwrap_or(Driver::Psycopg)
    }
}

/// Why a URL is not a SQLAlchemy PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeError {
    pub(crate) message: String,
    pub(crate) position: usize,
}

/// Splits `dialect[+driver]://`; an unknown dialect or driver is an error listing the known ones.
pub fn parse_scheme(url: &str) -> Result<Scheme, SchemeError> {
    let Some(sep) = url.find("://") else {
        return Err(SchemeError {
            message: "not a URL: expected dialect[+driver]://user@host:port/database, e.g. \
                      postgresql+asyncpg://super@localhost:5432/super"
                .into(),
            position: 0,
        });
    };
    let written = &url[..sep];
    let (dialect, driver) = match written.split_once('+') {
        Some((dialect, driver)) => (dialect, Some(driver)),
        None => (written, None),
    };
    if !KNOWN_DIALECTS.contains(&dialect) {
        return Err(SchemeError {
            message: format!(
                "unknown dialect {dialect:?}: dbtool checks PostgreSQL URLs; use postgresql or postgresql+DRIVER \
                 (DRIVER: {})",
                driver_names()
            ),
            position: 0,
        });
    }
    let driver = match driver {
        None => None,
        Some(name) => Some(Driver::from_name(name).ok_or_else(|| SchemeError {
            message: format!(
                "unknown driver {name:?}: known PostgreSQL drivers are {}",
                driver_names()
            ),
            position: dialect.len() + 1,
        })?),
    };
    Ok(Scheme {
        written: written.to_string(),
        dialect: dialect.to_string(),
        driver,
        rest_start: sep + 3,
    })
}

fn driver_names() -> String {
    Driver::ALL
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parts SQLAlchemy's `make_url` extracts, as the driver will receive them.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlalchemyReading {
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub host: Option<String>,
    /// Python's `int` of the port: any size and sign (0 and negatives included; the driver
    /// refuses them later).
    pub port: Option<i64>,
    pub database: Option<String>,
    /// Query parameters in order; a repeated key collects every value.
    pub query: Vec<(String, Vec<String>)>,
}

impl SqlalchemyReading {
    pub(crate) fn query_value(&self, key: &str) -> Option<&[String]> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// The regular expression of `sqlalchemy.engine.url._parse_url`, unchanged.
static SQLALCHEMY_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        ^(?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        ",
    )
    .unwrap_or_else(|e| unreachable!("the SQLAlchemy URL pattern compiles: {e}"))
});

/// Where the password is in `url` as SQLAlchemy reads it (raw, still percent-encoded).
pub(crate) fn password_span(url: &str) -> Option<std::ops::Range<usize>> {
    SQLALCHEMY_URL
        .captures(url)?
        .name("password")
        .map(|m| m.range())
}

/// Reads a URL as SQLAlchemy's `make_url` does; the error is SQLAlchemy's exception, as Python
/// prints it (`ValueError: invalid literal for int() with base 10: ''`).
pub fn read_as_sqlalchemy(url: &str) -> Result<SqlalchemyReading, String> {
    let captures = SQLALCHEMY_URL.captures(url).ok_or_else(|| {
        "ArgumentError: Could not parse SQLAlchemy URL from given URL string".to_string()
    })?;
    let group = |name: &str| captures.name(name).map(|m| m.as_str());
    // `_parse_url` converts a non-empty port; `URL.create` then converts what is left, so an
    // empty port (`h:/db`) fails there too.
    let port = match group("port") {
        Some(text) => Some(python_int(text).ok_or_else(|| {
            format!(
                "ValueError: invalid literal for int() with base 10: {}",
                python_repr(text)
            )
        })?),
        None => None,
    };
    let host = group("ipv4host")
        .filter(|h| !h.is_empty())
        .or(group("ipv6host"))
        .map(str::to_string);
    Ok(SqlalchemyReading {
        username: group("username").map(unquote),
        password: group("password").map(|p| Secret::new(unquote(p))),
        host,
        port,
        database: group("database").map(unquote),
        query: group("query").map(parse_qsl).unwrap_or_default(),
    })
}

/// Python's `int(text)` for base 10: surrounding whitespace, an optional sign, ASCII digits with
/// single `_` separators between them. `None` where Python raises ValueError.
pub(crate) fn python_int(text: &str) -> Option<i64> {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace());
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    // Python has no limit; a port that does not fit is unusable anyway.
    let value = clean.parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -value } else { value })
}

/// Python's `repr()` of a `str`: single quotes unless the text has one and no double quote.
pub(crate) fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `urllib.parse.unquote`: `%XX` decoded as UTF-8 with replacement, malformed escapes kept.
pub(crate) fn unquote(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `urllib.parse.parse_qsl(query, keep_blank_values=False)` grouped as `_parse_url` groups it.
fn parse_qsl(query: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for pair in query.split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let key = unquote(&key.replace('+', " "));
        let value = unquote(&value.replace('+', " "));
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => out.push((key, vec![value])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_dialect_and_driver() {
        let scheme = parse_scheme("postgresql+asyncpg://super@localhost:5432/super").unwrap();
        assert_eq!(
            (scheme.dialect.as_str(), scheme.driver),
            ("postgresql", Some(Driver::Asyncpg))
        );
        assert_eq!(scheme.rest_start, "postgresql+asyncpg://".len());
        let plain = parse_scheme("postgresql://h/d").unwrap();
        assert_eq!(
            (plain.driver, plain.effective_driver()),
            (None, Driver::Psycopg)
        );
    }

    #[test]
    fn unknown_dialects_and_drivers_list_the_known_ones() {
        let error = parse_scheme("mysql+pymysql://h/d").unwrap_err();
        assert!(error.message.contains("postgresql"), "{}", error.message);
        let error = parse_scheme("postgresql+asyncpgg://h/d").unwrap_err();
        assert!(
            error
                .message
                .contains("asyncpg, psycopg, psycopg2, pg8000, psycopg2cffi"),
            "{}",
            error.message
        );
        assert_eq!(error.position, "postgresql+".len());
        assert!(parse_scheme("localhost:5432").is_err());
    }

    /// Expected values as SQLAlchemy 2.1's own `make_url` gives them; generated URLs are compared
    /// with the real `make_url` in `tests/it/url_oracle.rs`.
    #[test]
    fn reads_urls_as_sqlalchemy_does() {
        let reading = read_as_sqlalchemy("postgresql+asyncpg://u:p@ss@host/db").unwrap();
        assert_eq!(reading.username.as_deref(), Some("u"));
        assert_eq!(reading.password.as_ref().map(Secret::expose), Some("p"));
        assert_eq!(reading.host.as_deref(), Some("ss@host"));
        let reading = read_as_sqlalchemy("postgresql://user@a@host/db").unwrap();
        assert_eq!(
            (reading.username.as_deref(), reading.host.as_deref()),
            (Some("user@a"), Some("host"))
        );
        let reading = read_as_sqlalchemy("postgresql://[::1]x/db").unwrap();
        assert_eq!(
            (reading.host.as_deref(), reading.database.as_deref()),
            (Some("::1"), None)
        );
        let reading =
            read_as_sqlalchemy("postgresql://u@%2Fvar%2Frun/db?a=1&a=2&b=&c=x+y").unwrap();
        assert_eq!(reading.host.as_deref(), Some("%2Fvar%2Frun"));
        assert_eq!(
            reading.query,
            vec![
                ("a".to_string(), vec!["1".to_string(), "2".to_string()]),
                ("c".to_string(), vec!["x y".to_string()])
            ]
        );
        let reading = read_as_sqlalchemy("postgresql://u:p%40ss@h/d%20b").unwrap();
        assert_eq!(reading.password.as_ref().map(Secret::expose), Some("p@ss"));
        assert_eq!(reading.database.as_deref(), Some("d b"));
        assert!(read_as_sqlalchemy("postgresql://u@h1:5432,h2:5433/db").is_err());
        assert_eq!(
            read_as_sqlalchemy("postgresql+asyncpg://u@h:/db").unwrap_err(),
            "ValueError: invalid literal for int() with base 10: ''"
        );
        assert_eq!(
            read_as_sqlalchemy("postgresql://h:+5_432/db").unwrap().port,
            Some(5432)
        );
        assert_eq!(
            read_as_sqlalchemy("postgresql://h:0/db").unwrap().port,
            Some(0)
        );
        assert!(read_as_sqlalchemy("postgresql://h:abc/db").is_err());
        let empty = read_as_sqlalchemy("postgresql://").unwrap();
        assert_eq!(
            (empty.username, empty.host, empty.database),
            (None, None, None)
        );
        let reading = read_as_sqlalchemy("postgresql://u:pa/ss@h/db").unwrap();
        assert_eq!(reading.password.as_ref().map(Secret::expose), Some("pa/ss"));
    }
}
