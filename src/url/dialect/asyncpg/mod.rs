//! asyncpg's own reading of the keyword arguments SQLAlchemy passes (asyncpg 0.30+): SQLAlchemy's
//! `AsyncAdapt_asyncpg_dbapi.connect`, `asyncpg.connect`'s signature and its own checks, then
//! `connect_utils._parse_connect_dsn_and_args` on the path without a DSN, which is SQLAlchemy's:
//! the hosts and ports ([`hosts`]), user (`PGUSER`, else `getpass.getuser()`), database, password
//! ([`password`]), TLS mode ([`tls`]) and `target_session_attrs`. Without a DSN, asyncpg reads no
//! service file (`PGSERVICE` has no effect). Checked against asyncpg itself by
//! `tests/it/url_oracle.rs`; each error is the exception the application would get.

mod hosts;
mod password;
mod tls;

use super::{Kwargs, PyValue};
use crate::environment::Environment;
use crate::password::PasswordSource;
use crate::secret::Secret;
use crate::url::Origin;
use crate::url::sqlalchemy::python_repr;

pub(in crate::url::dialect) use tls::SSL_MODES;

/// An address asyncpg tries: a Unix socket file or a TCP host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsyncpgAddr {
    Socket(String),
    Tcp(String, i64),
}

/// Where asyncpg took each part of the connection from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsyncpgOrigins {
    pub(crate) host: Origin,
    pub(crate) port: Origin,
    pub(crate) user: Origin,
    pub(crate) database: Origin,
    pub(crate) sslmode: Origin,
}

/// What asyncpg resolves from the keyword arguments, as `connect_utils` does without a DSN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncpgConnection {
    pub addrs: Vec<AsyncpgAddr>,
    /// A `str`, unless a repeated query key made it a tuple (which fails later, at connect).
    pub user: PyValue,
    pub database: PyValue,
    /// Where the password comes from: the `password` argument (the URL's), `PGPASSWORD` (set,
    /// even empty), a matching line of its password file (`passfile`, else `PGPASSFILE`, else
    /// `~/.pgpass`), or nowhere.
    pub password: PasswordSource,
    /// The password of that line, when the password file gives it.
    pub password_in_file: Option<Secret>,
    pub sslmode: &'static str,
    pub target_session_attrs: String,
    pub(crate) origins: AsyncpgOrigins,
    /// asyncpg's warning about a password file it ignored.
    pub(crate) passfile_warning: Option<String>,
}

/// The keywords SQLAlchemy's `AsyncAdapt_asyncpg_dbapi.connect` keeps for itself.
pub(crate) const SQLALCHEMY_ASYNCPG_OWN: [&str; 3] = [
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
    "async_creator_fn",
];

/// `asyncpg.connect`'s keyword parameters (0.30+; `tests/it/url_oracle.rs` compares them with
/// `inspect.signature(asyncpg.connect)`).
pub const ASYNCPG_CONNECT: &[&str] = &[
    "dsn",
    "host",
    "port",
    "user",
    "password",
    "passfile",
    "service",
    "servicefile",
    "database",
    "loop",
    "timeout",
    "statement_cache_size",
    "max_cached_statement_lifetime",
    "max_cacheable_statement_size",
    "command_timeout",
    "ssl",
    "direct_tls",
    "connection_class",
    "record_class",
    "server_settings",
    "target_session_attrs",
    "krbsrvname",
    "gsslib",
];

const SESSION_ATTRIBUTES: [&str; 6] = [
    "any",
    "primary",
    "standby",
    "prefer-standby",
    "read-write",
    "read-only",
];

/// SQLAlchemy's `AsyncAdapt_asyncpg_dbapi.connect`, then `asyncpg.connect`'s signature, its own
/// checks and its argument resolution (`_parse_connect_arguments`, `_parse_connect_dsn_and_args`
/// without a DSN), step by step in asyncpg's order.
pub fn asyncpg_connection(kwargs: &Kwargs, env: &Environment) -> Result<AsyncpgConnection, String> {
    let kwargs = bind(kwargs)?;
    connect_checks(&kwargs)?;
    argument_checks(&kwargs)?;
    let hosts = hosts::hosts_and_ports(&kwargs, env)?;
    let (user, user_origin) = user(&kwargs, env)?;
    let (database, database_origin) = match given(&kwargs, "database") {
        Some(database) => (database.clone(), Origin::Url),
        None => match env.asyncpg("PGDATABASE") {
            Some(database) => (PyValue::Str(database), Origin::Env("PGDATABASE")),
            None => (user.clone(), Origin::Default),
        },
    };
    let (password, password_in_file, passfile_warning) =
        password::password(&kwargs, env, &hosts, &user, &database)?;
    let addrs = hosts.addresses();
    let (sslmode, sslmode_origin) = tls::mode(&kwargs, env, &addrs)?;
    let target_session_attrs = session_checks(&kwargs, env)?;
    Ok(AsyncpgConnection {
        addrs,
        user,
        database,
        password,
        password_in_file,
        sslmode,
        target_session_attrs,
        origins: AsyncpgOrigins {
            host: hosts.origins.0,
            port: hosts.origins.1,
            user: user_origin,
            database: database_origin,
            sslmode: sslmode_origin,
        },
        passfile_warning,
    })
}

/// An argument that is given (not `None`).
fn given<'a>(kwargs: &'a Kwargs, key: &str) -> Option<&'a PyValue> {
    kwargs.get(key).filter(|v| **v != PyValue::None)
}

/// SQLAlchemy's `connect`: its own options set aside (`async_creator_fn` called instead of
/// `asyncpg.connect` when given), then `asyncpg.connect`'s signature.
fn bind(kwargs: &Kwargs) -> Result<Kwargs, String> {
    if let Some(creator) = given(kwargs, "async_creator_fn") {
        return Err(format!(
            "TypeError: '{}' object is not callable",
            python_type(creator)
        ));
    }
    let mut kwargs = kwargs.clone();
    for own in SQLALCHEMY_ASYNCPG_OWN {
        kwargs.remove(own);
    }
    if let Some((key, _)) = kwargs
        .0
        .iter()
        .find(|(key, _)| !ASYNCPG_CONNECT.contains(&key.as_str()))
    {
        return Err(format!(
            "TypeError: got an unexpected keyword argument {}",
            python_repr(key)
        ));
    }
    Ok(kwargs)
}

/// `asyncpg.connect`'s own checks, before it resolves anything; URL query values are strings.
fn connect_checks(kwargs: &Kwargs) -> Result<(), String> {
    if given(kwargs, "connection_class").is_some() {
        return Err("TypeError: issubclass() arg 1 must be a class".into());
    }
    if let Some(class) = given(kwargs, "record_class") {
        return Err(format!(
            "InterfaceError: record_class is expected to be a subclass of asyncpg.Record, got {}",
            class.py_repr()
        ));
    }
    // `async with compat.timeout(timeout)`: `loop.time() + timeout`.
    if let Some(timeout) = given(kwargs, "timeout").filter(|t| !matches!(t, PyValue::Int(_))) {
        return Err(format!(
            "TypeError: unsupported operand type(s) for +: 'float' and '{}'",
            python_type(timeout)
        ));
    }
    Ok(())
}

/// `_parse_connect_arguments`: the statement cache sizes and `command_timeout`.
fn argument_checks(kwargs: &Kwargs) -> Result<(), String> {
    for key in [
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
    ] {
        match given(kwargs, key) {
            Some(PyValue::Int(n)) if *n < 0 => {
                return Err(format!(
                    "ValueError: {key} is expected to be greater or equal to 0, got {n}"
                ));
            }
            Some(PyValue::Int(_)) | None => {}
            Some(other) => {
                return Err(format!(
                    "TypeError: '<' not supported between instances of '{}' and 'int'",
                    python_type(other)
                ));
            }
        }
    }
    let Some(timeout) = given(kwargs, "command_timeout") else {
        return Ok(());
    };
    let invalid = |shown: String| {
        format!(
            "ValueError: invalid command_timeout value: expected greater than 0 float (got {shown})"
        )
    };
    match timeout {
        PyValue::Str(text) => match text.trim().parse::<f64>() {
            // `value <= 0` is false for NaN, which asyncpg therefore accepts.
            Ok(value) if value > 0.0 || value.is_nan() => Ok(()),
            Ok(value) => Err(invalid(python_float_repr(value))),
            Err(_) => Err(invalid(python_repr(text))),
        },
        PyValue::Int(n) if *n > 0 => Ok(()),
        PyValue::Int(n) => Err(invalid(python_float_repr(*n as f64))),
        other => Err(format!(
            "TypeError: float() argument must be a string or a real number, not '{}'",
            python_type(other)
        )),
    }
}

/// The user: the argument, else `PGUSER`, else the login name.
fn user(kwargs: &Kwargs, env: &Environment) -> Result<(PyValue, Origin), String> {
    Ok(match given(kwargs, "user") {
        Some(user) => (user.clone(), Origin::Url),
        None => match env.asyncpg("PGUSER").filter(|u| !u.is_empty()) {
            Some(user) => (PyValue::Str(user), Origin::Env("PGUSER")),
            None => (
                PyValue::Str(env.login_name().ok_or(
                    "ClientConfigurationError: could not determine user name to connect with",
                )?),
                Origin::Default,
            ),
        },
    })
}

/// After TLS: `server_settings`, `target_session_attrs`, `gsslib`, and the event loop, which
/// asyncpg uses only once it connects.
fn session_checks(kwargs: &Kwargs, env: &Environment) -> Result<String, String> {
    if given(kwargs, "server_settings").is_some() {
        return Err(
            "ClientConfigurationError: server_settings is expected to be None or a Dict[str, str]"
                .into(),
        );
    }
    let attrs = match given(kwargs, "target_session_attrs") {
        Some(attrs) => attrs.clone(),
        None => PyValue::Str(
            env.asyncpg("PGTARGETSESSIONATTRS")
                .unwrap_or_else(|| "any".into()),
        ),
    };
    let target_session_attrs = match &attrs {
        PyValue::Str(text) if SESSION_ATTRIBUTES.contains(&text.as_str()) => text.clone(),
        other => {
            return Err(format!(
                "ClientConfigurationError: target_session_attrs is expected to be one of <built-in method values of mappingproxy object at 0x...>, got {}",
                other.py_repr()
            ));
        }
    };
    let gsslib = match given(kwargs, "gsslib") {
        Some(gsslib) => gsslib.py_str(),
        None => env.asyncpg("PGGSSLIB").unwrap_or_else(|| "gssapi".into()),
    };
    if gsslib != "gssapi" && gsslib != "sspi" {
        return Err(format!(
            "ClientConfigurationError: gsslib parameter must be either 'gssapi' or 'sspi', got {}",
            python_repr(&gsslib)
        ));
    }
    if let Some(event_loop) = given(kwargs, "loop") {
        return Err(format!(
            "AttributeError: '{}' object has no attribute 'get_debug'",
            python_type(event_loop)
        ));
    }
    Ok(target_session_attrs)
}

/// The name of a value's Python type.
pub(super) fn python_type(value: &PyValue) -> &'static str {
    match value {
        PyValue::None => "NoneType",
        PyValue::Int(_) => "int",
        PyValue::Str(_) => "str",
        PyValue::List(_) => "list",
        PyValue::Tuple(_) => "tuple",
        PyValue::Object(_) => "object",
    }
}

/// Python's truth value of an argument.
pub(super) fn truthy(value: &PyValue) -> bool {
    match value {
        PyValue::None => false,
        PyValue::Int(n) => *n != 0,
        PyValue::Str(text) => !text.is_empty(),
        PyValue::List(items) | PyValue::Tuple(items) => !items.is_empty(),
        PyValue::Object(_) => true,
    }
}

/// Python's `repr()` of a float, for the values asyncpg shows (whole numbers and plain decimals).
fn python_float_repr(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}
