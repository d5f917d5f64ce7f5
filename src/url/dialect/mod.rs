//! What the application's stack does with a URL after `make_url`: the dialect's
//! `create_connect_args` (SQLAlchemy 2.1: `PGDialect_asyncpg`, `_PGDialect_common_psycopg` for
//! psycopg and psycopg2, `PGDialect_pg8000`, with `PGDialect._split_multihost_from_url`), then what
//! the driver does with those keyword arguments: psycopg's `make_conninfo` and psycopg2's
//! `make_dsn` build the conninfo libpq receives; asyncpg binds them to `asyncpg.connect` and
//! resolves hosts, ports, user, database and TLS by its own rules
//! (`connect_utils._parse_connect_dsn_and_args`, the path without a DSN, which is SQLAlchemy's).
//!
//! Ported line by line and checked against the real libraries on generated URLs
//! (`scripts/gen_url_fixture.py` → `tests/fixtures/sqlalchemy_urls.json`,
//! `tests/it/url_oracle.rs`). Errors are the libraries' exceptions as Python prints them.

mod asyncpg;

use std::fmt::Write as _;

use crate::environment::Environment;
use crate::url::libpq::keyword;
use crate::url::sqlalchemy::{Driver, SqlalchemyReading, python_int, python_repr};

pub(crate) use asyncpg::SQLALCHEMY_ASYNCPG_OWN;
use asyncpg::SSL_MODES;
pub use asyncpg::{ASYNCPG_CONNECT, AsyncpgAddr, AsyncpgConnection, asyncpg_connection};

/// A Python value as SQLAlchemy passes it to the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyValue {
    None,
    Int(i64),
    Str(String),
    List(Vec<PyValue>),
    /// A repeated query key: `url.query` holds its values as a tuple.
    Tuple(Vec<PyValue>),
    /// An object that is not data (psycopg's `AdaptersMap`): its module and class.
    Object(&'static str),
}

impl PyValue {
    /// Python's `str()`.
    pub fn py_str(&self) -> String {
        match self {
            PyValue::Str(text) => text.clone(),
            other => other.py_repr(),
        }
    }

    /// Python's `repr()`.
    pub(crate) fn py_repr(&self) -> String {
        match self {
            PyValue::None => "None".into(),
            PyValue::Int(n) => n.to_string(),
            PyValue::Str(text) => python_repr(text),
            PyValue::List(items) => {
                let inner: Vec<String> = items.iter().map(PyValue::py_repr).collect();
                format!("[{}]", inner.join(", "))
            }
            PyValue::Tuple(items) => {
                let inner: Vec<String> = items.iter().map(PyValue::py_repr).collect();
                match inner.as_slice() {
                    [one] => format!("({one},)"),
                    _ => format!("({})", inner.join(", ")),
                }
            }
            PyValue::Object(class) => format!("<{class} object>"),
        }
    }

    /// As JSON, with the password masked unless `show`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            PyValue::None => serde_json::Value::Null,
            PyValue::Int(n) => serde_json::json!(n),
            PyValue::Str(text) => serde_json::json!(text),
            PyValue::List(items) | PyValue::Tuple(items) => {
                items.iter().map(PyValue::to_json).collect()
            }
            PyValue::Object(class) => serde_json::json!(format!("<{class}>")),
        }
    }
}

/// An ordered keyword-argument dict with Python's `update` semantics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kwargs(pub Vec<(String, PyValue)>);

impl Kwargs {
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn set(&mut self, key: &str, value: PyValue) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<PyValue> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(index).1)
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// The dialect's `create_connect_args`: positional and keyword arguments for `connect()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectArgs {
    pub args: Vec<PyValue>,
    pub kwargs: Kwargs,
}

/// `url.query` as SQLAlchemy holds it: one value as a `str`, a repeated key as a tuple.
fn query_value(values: &[String]) -> PyValue {
    match values {
        [one] => PyValue::Str(one.clone()),
        many => PyValue::Tuple(many.iter().cloned().map(PyValue::Str).collect()),
    }
}

fn query_get<'a>(url: &'a SqlalchemyReading, key: &str) -> Option<&'a [String]> {
    url.query_value(key)
}

/// `URL.translate_connect_args`: host, database, username, password, port, when truthy.
fn translate_connect_args(url: &SqlalchemyReading, username: &str, database: &str) -> Kwargs {
    let mut opts = Kwargs::default();
    if let Some(host) = url.host.as_ref().filter(|h| !h.is_empty()) {
        opts.set("host", PyValue::Str(host.clone()));
    }
    if let Some(db) = url.database.as_ref().filter(|d| !d.is_empty()) {
        opts.set(database, PyValue::Str(db.clone()));
    }
    if let Some(user) = url.username.as_ref().filter(|u| !u.is_empty()) {
        opts.set(username, PyValue::Str(user.clone()));
    }
    if let Some(password) = url.password.as_ref().filter(|p| !p.expose().is_empty()) {
        opts.set("password", PyValue::Str(password.expose().to_string()));
    }
    if let Some(port) = url.port.filter(|p| *p != 0) {
        opts.set("port", PyValue::Int(port));
    }
    opts
}

fn update_with_query(opts: &mut Kwargs, url: &SqlalchemyReading) {
    for (key, values) in &url.query {
        opts.set(key, query_value(values));
    }
}

/// The hosts and ports `PGDialect._split_multihost_from_url` finds in `?host=` and `?port=`.
type Multihost = (Vec<Option<String>>, Vec<Option<i64>>);

fn split_multihost(url: &SqlalchemyReading) -> Result<Option<Multihost>, String> {
    let mut hosts: Option<Vec<Option<String>>> = None;
    let mut ports_str: Option<Vec<Option<String>>> = None;
    let mut integrated = false;
    if let Some(values) = query_get(url, "host") {
        if values.len() > 1 {
            integrated = true;
            let (h, p): (Vec<_>, Vec<_>) = values
                .iter()
                .map(|token| match token.split_once(':') {
                    // Python's `token.split(":")` unpacked into two: more colons fail.
                    Some((h, p)) if !p.contains(':') => {
                        Ok((Some(h.to_string()), Some(p.to_string())))
                    }
                    Some(_) => Err(format!(
                        "ValueError: too many values to unpack (expected 2, got {})",
                        token.split(':').count()
                    )),
                    None => Ok((Some(token.clone()), None)),
                })
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .unzip();
            hosts = Some(h);
            ports_str = Some(p);
        } else {
            let host = &values[0];
            let split: Vec<Option<String>> = host.split(',').map(|h| Some(h.to_string())).collect();
            hosts = Some(split.clone());
            if query_get(url, "port").is_none() && split.len() == 1 && host.contains(':') {
                if let Some((h, p)) = host_port_match(host) {
                    integrated = true;
                    hosts = Some(vec![Some(h)]);
                    ports_str = Some(vec![p]);
                }
            }
        }
    }
    if let Some(values) = query_get(url, "port") {
        if integrated {
            return Err("ArgumentError: Can't mix 'multihost' formats together; use \"host=h1,h2,h3&port=p1,p2,p3\" or \"host=h1:p1&host=h2:p2&host=h3:p3\" separately".into());
        }
        ports_str = Some(if values.len() > 1 {
            values.iter().cloned().map(Some).collect()
        } else {
            values[0].split(',').map(|p| Some(p.to_string())).collect()
        });
    }
    let mut ports: Option<Vec<Option<i64>>> = None;
    if let Some(strings) = ports_str.as_ref().filter(|p| !p.is_empty()) {
        let mut converted = Vec::new();
        for text in strings {
            match text.as_deref().filter(|t| !t.is_empty()) {
                None => converted.push(None),
                Some(t) => match python_int(t) {
                    Some(n) => converted.push(Some(n)),
                    None => {
                        return Err(format!(
                            "ArgumentError: Received non-integer port arguments: {}",
                            tuple_repr(strings)
                        ));
                    }
                },
            }
        }
        ports = Some(converted);
    }
    if let Some(p) = &ports {
        let mismatch = match &hosts {
            None => p.len() > 1,
            Some(h) => h.len() != p.len() && (h.len() > 1 || p.len() > 1),
        };
        if mismatch {
            return Err("ArgumentError: number of hosts and ports don't match".into());
        }
    }
    Ok(hosts.map(|h| {
        let p = ports.unwrap_or_else(|| vec![None; h.len()]);
        (h, p)
    }))
}

/// `re.match(r"^([a-zA-Z0-9\-\.]*)(?:\:(\d*))?$", host)`.
fn host_port_match(host: &str) -> Option<(String, Option<String>)> {
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    // `\d` is Unicode in Python; ports from URLs are ASCII in practice.
    let port_ok = port.is_none_or(|p| p.chars().all(|c| c.is_ascii_digit()));
    (name_ok && port_ok).then(|| {
        (
            name.to_string(),
            port.filter(|p| !p.is_empty()).map(str::to_string),
        )
    })
}

fn tuple_repr(items: &[Option<String>]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|item| item.as_deref().map_or("None".to_string(), python_repr))
        .collect();
    if inner.len() == 1 {
        format!("({},)", inner[0])
    } else {
        format!("({})", inner.join(", "))
    }
}

/// `util.coerce_kw_type(opts, key, int)`.
fn coerce_int(opts: &mut Kwargs, key: &str) -> Result<(), String> {
    let Some(value) = opts.get(key).cloned() else {
        return Ok(());
    };
    let converted = match value {
        PyValue::Int(_) | PyValue::None => return Ok(()),
        PyValue::Str(text) => PyValue::Int(python_int(&text).ok_or_else(|| {
            format!(
                "ValueError: invalid literal for int() with base 10: {}",
                python_repr(&text)
            )
        })?),
        PyValue::List(_) | PyValue::Tuple(_) => {
            return Err(
                "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'tuple'"
                    .into(),
            );
        }
        PyValue::Object(_) => return Err("TypeError: int() argument".into()),
    };
    opts.set(key, converted);
    Ok(())
}

/// Whether dbtool's own connections take the application's reading rather than libpq's reading
/// of the same string: for every URL that names asyncpg, psycopg or psycopg2 (what the driver
/// receives is what counts); for pg8000, modelled only up to its arguments, where the dialect
/// rewrites the hosts (`?host=` replaces the one before the path). A plain `postgresql://` URL
/// keeps libpq's reading, which psql shares.
pub(crate) fn application_reading_connects(
    scheme: &crate::url::sqlalchemy::Scheme,
    url: &SqlalchemyReading,
) -> bool {
    match scheme.driver {
        None => false,
        Some(_) if scheme.effective_driver() == Driver::Pg8000 => url.query_value("host").is_some(),
        Some(_) => true,
    }
}

pub fn create_connect_args(driver: Driver, url: &SqlalchemyReading) -> Result<ConnectArgs, String> {
    match driver {
        Driver::Asyncpg => {
            let mut opts = translate_connect_args(url, "user", "database");
            let multihost = split_multihost(url)?;
            update_with_query(&mut opts, url);
            match multihost {
                Some((hosts, ports)) => {
                    if hosts.len() == 1 {
                        opts.set("host", hosts[0].clone().map_or(PyValue::None, PyValue::Str));
                        if let Some(port) = ports[0] {
                            opts.set("port", PyValue::Int(port));
                        }
                    } else if !hosts
                        .iter()
                        .all(|h| h.as_ref().is_some_and(|h| !h.is_empty()))
                    {
                        return Err("ArgumentError: All hosts are required to be present for asyncpg multiple host URL".into());
                    } else if !ports.iter().all(|p| p.is_some_and(|p| p != 0)) {
                        return Err("ArgumentError: All ports are required to be present for asyncpg multiple host URL".into());
                    } else {
                        opts.set(
                            "host",
                            PyValue::List(hosts.into_iter().flatten().map(PyValue::Str).collect()),
                        );
                        opts.set(
                            "port",
                            PyValue::List(ports.into_iter().flatten().map(PyValue::Int).collect()),
                        );
                    }
                }
                None => coerce_int(&mut opts, "port")?,
            }
            coerce_int(&mut opts, "prepared_statement_cache_size")?;
            Ok(ConnectArgs {
                args: Vec::new(),
                kwargs: opts,
            })
        }
        Driver::Psycopg | Driver::Psycopg2 | Driver::Psycopg2cffi => {
            let mut opts = translate_connect_args(url, "user", "dbname");
            let multihost = split_multihost(url)?;
            let mut args = ConnectArgs {
                args: Vec::new(),
                kwargs: Kwargs::default(),
            };
            if !opts.0.is_empty() || !url.query.is_empty() {
                update_with_query(&mut opts, url);
                if let Some((hosts, ports)) = multihost {
                    let mut joined = String::new();
                    for (i, host) in hosts.iter().enumerate() {
                        let Some(host) = host else {
                            return Err(format!(
                                "TypeError: sequence item {i}: expected str instance, NoneType found"
                            ));
                        };
                        if i > 0 {
                            joined.push(',');
                        }
                        joined.push_str(host);
                    }
                    opts.set("host", PyValue::Str(joined));
                    let comma_ports: Vec<String> = ports
                        .iter()
                        .map(|p| {
                            p.filter(|p| *p != 0)
                                .map_or(String::new(), |p| p.to_string())
                        })
                        .collect();
                    let comma_ports = comma_ports.join(",");
                    if !comma_ports.is_empty() {
                        opts.set("port", PyValue::Str(comma_ports));
                    }
                }
                args.kwargs = opts;
            } else {
                args.args.push(PyValue::Str(String::new()));
            }
            if driver == Driver::Psycopg {
                args.kwargs
                    .set("context", PyValue::Object("psycopg.adapt.AdaptersMap"));
            }
            Ok(args)
        }
        Driver::Pg8000 => {
            let mut opts = translate_connect_args(url, "user", "database");
            update_with_query(&mut opts, url);
            Ok(ConnectArgs {
                args: Vec::new(),
                kwargs: opts,
            })
        }
    }
}

/// What libpq receives from psycopg (`make_conninfo("", **kwargs)`) or psycopg2
/// (`make_dsn(**kwargs)`), or the driver's error. `libpq_major` is the libpq the driver bundles
/// (its keywords decide which options are valid).
pub fn libpq_conninfo(driver: Driver, kwargs: &Kwargs, libpq_major: u32) -> Result<String, String> {
    let mut rest = kwargs.clone();
    let psycopg = driver == Driver::Psycopg;
    let named: &[&str] = if psycopg {
        &[
            "autocommit",
            "prepare_threshold",
            "context",
            "row_factory",
            "cursor_factory",
        ]
    } else {
        &["connection_factory", "cursor_factory", "async", "async_"]
    };
    rest.0.retain(|(key, _)| !named.contains(&key.as_str()));
    if !psycopg && let Some(database) = rest.remove("database") {
        if rest.contains("dbname") {
            return Err(
                "TypeError: you can't specify both 'database' and 'dbname' arguments".into(),
            );
        }
        rest.set("dbname", database);
    }
    rest.0.retain(|(_, value)| *value != PyValue::None);
    let mut conninfo = String::new();
    for (key, value) in &rest.0 {
        if !conninfo.is_empty() {
            conninfo.push(' ');
        }
        let _ = write!(conninfo, "{key}={}", param_escape(&value.py_str()));
    }
    // Both verify the result with PQconninfoParse: an unknown keyword fails.
    if let Some((key, _)) = rest
        .0
        .iter()
        .find(|(key, _)| keyword(key).is_none_or(|k| k.since > libpq_major))
    {
        let message = format!("invalid connection option \"{key}\"");
        return Err(if psycopg {
            format!("ProgrammingError: {message}")
        } else {
            format!("ProgrammingError: invalid dsn: {message}")
        });
    }
    Ok(conninfo)
}

/// `_param_escape` of psycopg and psycopg2: `''` for empty, `\` and `'` escaped, quoted when it
/// has whitespace.
fn param_escape(text: &str) -> String {
    if text.is_empty() {
        return "''".into();
    }
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' || c == '\'' {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    if escaped.chars().any(char::is_whitespace) {
        format!("'{escaped}'")
    } else {
        escaped
    }
}
/// `pg8000.connect`'s keyword parameters (1.31; compared with its signature by
/// `tests/it/url_oracle.rs`).
pub const PG8000_CONNECT: &[&str] = &[
    "user",
    "host",
    "database",
    "port",
    "password",
    "source_address",
    "unix_sock",
    "ssl_context",
    "timeout",
    "tcp_keepalive",
    "application_name",
    "replication",
    "startup_params",
];

/// The keyword arguments the driver's `connect()` takes through SQLAlchemy: its signature (and
/// for asyncpg, SQLAlchemy's own), or `None` for libpq drivers, which take libpq's keywords.
pub(crate) fn accepted_keywords(driver: Driver) -> Option<Vec<&'static str>> {
    match driver {
        Driver::Asyncpg => Some(
            ASYNCPG_CONNECT
                .iter()
                .copied()
                .chain(SQLALCHEMY_ASYNCPG_OWN)
                .collect(),
        ),
        Driver::Pg8000 => Some(PG8000_CONNECT.to_vec()),
        Driver::Psycopg | Driver::Psycopg2 | Driver::Psycopg2cffi => None,
    }
}

/// What the driver makes of the keyword arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DriverReading {
    /// psycopg and psycopg2: the conninfo libpq receives, or the driver's error.
    Libpq(Result<String, String>),
    /// asyncpg's own resolution, or its error.
    Asyncpg(Result<Box<AsyncpgConnection>, String>),
    /// pg8000: not modelled beyond its arguments.
    Unmodelled,
}

/// The application's reading of a URL: SQLAlchemy's arguments, then the driver's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplicationReading {
    pub(crate) driver: Driver,
    pub(crate) connect: ConnectArgs,
    pub(crate) reading: DriverReading,
}

impl ApplicationReading {
    /// `make_url`'s reading (as [`crate::url::sqlalchemy::read_as_sqlalchemy`] gives it) →
    /// create_connect_args → the driver. `Err`: SQLAlchemy cannot build the driver's arguments
    /// (the application cannot start), as Python prints the exception.
    pub(crate) fn read(
        sqlalchemy: &Result<SqlalchemyReading, String>,
        driver: Driver,
        libpq_major: u32,
        env: &Environment,
    ) -> Result<ApplicationReading, String> {
        let parsed = sqlalchemy.as_ref().map_err(String::clone)?;
        let connect = create_connect_args(driver, parsed)?;
        let reading = match driver {
            Driver::Psycopg | Driver::Psycopg2 | Driver::Psycopg2cffi => {
                DriverReading::Libpq(libpq_conninfo(driver, &connect.kwargs, libpq_major))
            }
            Driver::Asyncpg => {
                DriverReading::Asyncpg(asyncpg_connection(&connect.kwargs, env).map(Box::new))
            }
            Driver::Pg8000 => DriverReading::Unmodelled,
        };
        Ok(ApplicationReading {
            driver,
            connect,
            reading,
        })
    }

    /// The driver's refusal, when it refuses its arguments (at connect time).
    pub(crate) fn driver_error(&self) -> Option<&str> {
        match &self.reading {
            DriverReading::Libpq(Err(error)) | DriverReading::Asyncpg(Err(error)) => Some(error),
            _ => None,
        }
    }

    /// [`Self::libpq_equivalent`], parsed as libpq `libpq_major` parses a conninfo.
    pub(crate) fn libpq_info(&self, libpq_major: u32) -> Option<crate::url::libpq::ConnInfo> {
        let conninfo = self.libpq_equivalent(libpq_major)?;
        crate::url::libpq::parse_conninfo_with(
            &conninfo,
            crate::url::libpq::ParseOptions::libpq(libpq_major),
        )
        .ok()
    }

    /// The driver's arguments in libpq's words, for explaining a URL and for dbtool's own
    /// connections: the libpq drivers' own conninfo; for asyncpg and pg8000, the host, port,
    /// user, password, database, TLS mode and `target_session_attrs` the dialect passes (asyncpg's
    /// own defaults are [`AsyncpgConnection`]'s, not this string's). `None` when the driver
    /// refuses its arguments.
    pub(crate) fn libpq_equivalent(&self, libpq_major: u32) -> Option<String> {
        match &self.reading {
            DriverReading::Libpq(result) => result.as_ref().ok().cloned(),
            DriverReading::Asyncpg(Err(_)) => None,
            DriverReading::Asyncpg(Ok(_)) | DriverReading::Unmodelled => {
                let mut kwargs = Kwargs::default();
                for (key, value) in &self.connect.kwargs.0 {
                    let key = match key.as_str() {
                        "database" => "dbname",
                        "ssl" if SSL_MODES.contains(&value.py_str().as_str()) => "sslmode",
                        "host" | "port" | "user" | "password" | "target_session_attrs" => key,
                        _ => continue,
                    };
                    let value = match value {
                        PyValue::List(items) | PyValue::Tuple(items) => PyValue::Str(
                            items
                                .iter()
                                .map(PyValue::py_str)
                                .collect::<Vec<_>>()
                                .join(","),
                        ),
                        other => other.clone(),
                    };
                    kwargs.set(key, value);
                }
                libpq_conninfo(Driver::Psycopg2, &kwargs, libpq_major).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::sqlalchemy::read_as_sqlalchemy;

    fn args(driver: Driver, url: &str) -> Result<ConnectArgs, String> {
        create_connect_args(driver, &read_as_sqlalchemy(url).unwrap())
    }

    #[test]
    fn the_dialect_drops_the_netloc_host_for_query_hosts() {
        let connect = args(
            Driver::Psycopg,
            "postgresql+psycopg://u:p@h1:5432/db?host=h2:5433&host=h3",
        )
        .unwrap();
        assert_eq!(
            connect.kwargs.get("host"),
            Some(&PyValue::Str("h2,h3".into()))
        );
        assert_eq!(
            connect.kwargs.get("port"),
            Some(&PyValue::Str("5433,".into()))
        );
        let conninfo = libpq_conninfo(Driver::Psycopg, &connect.kwargs, 17).unwrap();
        assert_eq!(
            conninfo,
            "host=h2,h3 dbname=db user=u password=p port=5433,"
        );
    }

    #[test]
    fn escapes_as_psycopg_does() {
        assert_eq!(param_escape(""), "''");
        assert_eq!(param_escape("a b"), "'a b'");
        assert_eq!(param_escape("it's"), "it\\'s");
        assert_eq!(param_escape("c:\\x"), "c:\\\\x");
    }
}
