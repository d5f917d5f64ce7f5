//! asyncpg's own reading of the keyword arguments SQLAlchemy passes (asyncpg 0.30+,
//! `connect_utils._parse_connect_dsn_and_args` on the path without a DSN, which is SQLAlchemy's):
//! `asyncpg.connect`'s signature, then the hosts and ports (the argument, else `PGHOST` read by
//! `_parse_hostlist` — ports inside it included — else its socket directories and `localhost`),
//! user (`PGUSER`, else `getpass.getuser()`), database, password (`PGPASSWORD`, else its password
//! file lookup), TLS mode and `target_session_attrs`. Without a DSN, asyncpg reads no service
//! file (`PGSERVICE` has no effect). Checked against asyncpg itself by `tests/it/url_oracle.rs`.

use super::{Kwargs, PyValue};
use crate::secret::Secret;
use crate::url::Origin;
use crate::url::sqlalchemy::{python_int, python_repr};

/// An address asyncpg tries: a Unix socket file or a TCP host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsyncpgAddr {
    Socket(String),
    Tcp(String, i64),
}

/// Where asyncpg's password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsyncpgPassword {
    /// The `password` argument (the URL's).
    Argument,
    /// `PGPASSWORD` (set, even empty).
    Env,
    /// A matching line of its password file (`passfile`, else `PGPASSFILE`, else `~/.pgpass`).
    PassFile { path: String, password: Secret },
    /// None: the server's request for one will fail.
    None,
}

/// A password file as asyncpg finds it (`_read_password_file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordFile {
    /// Not there, or not a plain file: no lines.
    Missing,
    /// Group or other permission bits: asyncpg warns and reads no lines.
    TooOpen {
        path: String,
        mode: u32,
    },
    Usable {
        path: String,
        text: String,
    },
}

/// Where asyncpg took each part of the connection from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncpgOrigins {
    pub host: Origin,
    pub port: Origin,
    pub user: Origin,
    pub database: Origin,
    pub sslmode: Origin,
}

/// What asyncpg resolves from the keyword arguments, as `connect_utils` does without a DSN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncpgConnection {
    pub addrs: Vec<AsyncpgAddr>,
    /// A `str`, unless a repeated query key made it a tuple (which fails later, at connect).
    pub user: PyValue,
    pub database: PyValue,
    pub password: AsyncpgPassword,
    pub sslmode: &'static str,
    pub target_session_attrs: String,
    pub origins: AsyncpgOrigins,
    /// asyncpg's warning about a password file it ignored.
    pub passfile_warning: Option<String>,
}

/// The keywords SQLAlchemy's `AsyncAdapt_asyncpg_dbapi.connect` keeps for itself.
pub const SQLALCHEMY_ASYNCPG_OWN: [&str; 3] = [
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

pub(super) const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

const SESSION_ATTRIBUTES: [&str; 6] = [
    "any",
    "primary",
    "standby",
    "prefer-standby",
    "read-write",
    "read-only",
];

/// The environment asyncpg reads: variables, and the home directory's `.postgresql/root.crt`.
pub trait AsyncpgEnvironment {
    /// `os.environ.get(name)`: set to the empty string is not unset.
    fn var(&self, name: &str) -> Option<String>;
    /// `getpass.getuser()`: LOGNAME, USER, LNAME, USERNAME, then the password database.
    fn login_name(&self) -> Option<String>;
    /// Whether `~/.postgresql/<name>` exists, and its path.
    fn dot_postgresql(&self, name: &str) -> (String, bool);
    /// The password file at `path`, else `~/.pgpass`.
    fn password_file(&self, path: Option<&str>) -> PasswordFile;
}

/// The process's environment, as asyncpg reads it.
pub struct ProcessEnvironment;

impl AsyncpgEnvironment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn login_name(&self) -> Option<String> {
        ["LOGNAME", "USER", "LNAME", "USERNAME"]
            .into_iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .or_else(|| crate::system::passwd_name(crate::system::effective_uid()))
    }

    fn dot_postgresql(&self, name: &str) -> (String, bool) {
        let home = std::env::var("HOME").unwrap_or_default();
        let path = std::path::Path::new(&home).join(".postgresql").join(name);
        (path.display().to_string(), path.is_file())
    }

    fn password_file(&self, path: Option<&str>) -> PasswordFile {
        use std::os::unix::fs::PermissionsExt;
        let path = match path {
            Some(path) => std::path::PathBuf::from(path),
            None => match std::env::var_os("HOME") {
                Some(home) => std::path::Path::new(&home).join(".pgpass"),
                None => return PasswordFile::Missing,
            },
        };
        let shown = path.display().to_string();
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o077 != 0 => {
                PasswordFile::TooOpen {
                    path: shown,
                    mode: meta.permissions().mode() & 0o777,
                }
            }
            Ok(meta) if meta.is_file() => PasswordFile::Usable {
                path: shown,
                // Unreadable: asyncpg's IOError, no lines.
                text: std::fs::read_to_string(&path).unwrap_or_default(),
            },
            _ => PasswordFile::Missing,
        }
    }
}

/// A port specification before `_validate_port_spec`: one port, or a list.
enum Ports {
    One(i64),
    Many(Vec<i64>),
}

/// Python's `int()` of a port, with its error.
fn int_of(value: &PyValue) -> Result<i64, String> {
    match value {
        PyValue::Int(n) => Ok(*n),
        other => python_int(&other.py_str()).ok_or_else(|| {
            format!(
                "ValueError: invalid literal for int() with base 10: {}",
                other.py_repr()
            )
        }),
    }
}

/// `PGPORT` (one port or a comma list), else 5432.
fn env_ports(env: &dyn AsyncpgEnvironment) -> Result<Ports, String> {
    match env.var("PGPORT").filter(|p| !p.is_empty()) {
        None => Ok(Ports::One(5432)),
        Some(spec) if spec.contains(',') => Ok(Ports::Many(
            spec.split(',')
                .map(|p| int_of(&PyValue::Str(p.into())))
                .collect::<Result<_, _>>()?,
        )),
        Some(spec) => Ok(Ports::One(int_of(&PyValue::Str(spec))?)),
    }
}

/// `_validate_port_spec`: one port per host.
fn validate_port_spec(hosts: usize, ports: Ports) -> Result<Vec<i64>, String> {
    match ports {
        Ports::Many(many) if many.len() > 1 && many.len() != hosts => Err(format!(
            "ClientConfigurationError: could not match {} port numbers to {hosts} hosts",
            many.len()
        )),
        Ports::Many(many) if many.len() > 1 => Ok(many),
        Ports::Many(many) => Ok(vec![many.first().copied().unwrap_or_default(); hosts]),
        Ports::One(one) => Ok(vec![one; hosts]),
    }
}

/// `_parse_hostlist(PGHOST, port)`: hosts, and ports from `host:port` entries when no port was
/// given (else the given ones, else `PGPORT`'s). The second value says whether an entry named
/// its port.
fn parse_hostlist(
    spec: &str,
    port: Option<Ports>,
    env: &dyn AsyncpgEnvironment,
) -> Result<(Vec<String>, Vec<i64>, bool), String> {
    let specs: Vec<&str> = spec.split(',').collect();
    let (given, defaults) = match port {
        Some(port) => (Some(validate_port_spec(specs.len(), port)?), None),
        None => (
            None,
            Some(validate_port_spec(specs.len(), env_ports(env)?)?),
        ),
    };
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    let mut named = false;
    for (i, spec) in specs.iter().enumerate() {
        let (addr, port) = if spec.is_empty() {
            return Err("IndexError: string index out of range".into());
        } else if spec.starts_with('/') {
            (spec.to_string(), "")
        } else if let Some(rest) = spec.strip_prefix('[') {
            // `re.match(r'(?:\[([^\]]+)\])(?::([0-9]+))?', spec)`
            let close = rest.find(']').filter(|&at| at > 0).ok_or_else(|| {
                format!(
                    "ClientConfigurationError: invalid IPv6 address in the connection URI: {}",
                    python_repr(spec)
                )
            })?;
            let after = &rest[close + 1..];
            let digits = after
                .strip_prefix(':')
                .map(|d| &d[..d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len())])
                .unwrap_or("");
            (rest[..close].to_string(), digits)
        } else {
            let (addr, port) = spec.split_once(':').unwrap_or((spec, ""));
            (addr.to_string(), port)
        };
        hosts.push(addr);
        if let Some(defaults) = &defaults {
            if port.is_empty() {
                ports.push(defaults[i]);
            } else {
                named = true;
                ports.push(int_of(&PyValue::Str(port.into()))?);
            }
        }
    }
    Ok((hosts, given.unwrap_or(ports), named))
}

/// `_parse_tls_version`: a name of Python's `ssl.TLSVersion`, dots for underscores.
fn tls_version(version: &str) -> Result<(), String> {
    const VERSIONS: [&str; 7] = [
        "MINIMUM_SUPPORTED",
        "SSLv3",
        "TLSv1",
        "TLSv1_1",
        "TLSv1_2",
        "TLSv1_3",
        "MAXIMUM_SUPPORTED",
    ];
    if version.starts_with("SSL") {
        return Err(format!(
            "ClientConfigurationError: Unsupported TLS version: {version}"
        ));
    }
    if !VERSIONS.contains(&version.replace('.', "_").as_str()) {
        return Err(format!(
            "ClientConfigurationError: No such TLS version: {version}"
        ));
    }
    Ok(())
}

/// The name of a value's Python type.
fn python_type(value: &PyValue) -> &'static str {
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
fn truthy(value: &PyValue) -> bool {
    match value {
        PyValue::None => false,
        PyValue::Int(n) => *n != 0,
        PyValue::Str(text) => !text.is_empty(),
        PyValue::List(items) | PyValue::Tuple(items) => !items.is_empty(),
        PyValue::Object(_) => true,
    }
}

/// SQLAlchemy's `AsyncAdapt_asyncpg_dbapi.connect`, then `asyncpg.connect`'s signature and its
/// argument resolution (`_parse_connect_arguments`, `_parse_connect_dsn_and_args` without a
/// DSN); the error is the exception the application would get.
pub fn asyncpg_connection(
    kwargs: &Kwargs,
    env: &dyn AsyncpgEnvironment,
) -> Result<AsyncpgConnection, String> {
    // SQLAlchemy calls `async_creator_fn` instead of `asyncpg.connect` when it is given.
    if let Some(creator) = kwargs
        .get("async_creator_fn")
        .filter(|c| **c != PyValue::None)
    {
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
    let get = |key: &str| kwargs.get(key).filter(|v| **v != PyValue::None);
    // `asyncpg.connect`'s own checks, before it resolves anything; URL query values are strings.
    if get("connection_class").is_some() {
        return Err("TypeError: issubclass() arg 1 must be a class".into());
    }
    if let Some(class) = get("record_class") {
        return Err(format!(
            "InterfaceError: record_class is expected to be a subclass of asyncpg.Record, got {}",
            class.py_repr()
        ));
    }
    // `async with compat.timeout(timeout)`: `loop.time() + timeout`.
    if let Some(timeout) = get("timeout").filter(|t| !matches!(t, PyValue::Int(_))) {
        return Err(format!(
            "TypeError: unsupported operand type(s) for +: 'float' and '{}'",
            python_type(timeout)
        ));
    }
    for key in [
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
    ] {
        match get(key) {
            Some(PyValue::Int(n)) if *n < 0 => {
                return Err(format!(
                    "ValueError: {key} is expected to be greater or equal to 0, got {n}"
                ));
            }
            Some(PyValue::Int(_)) | None => {}
            Some(other) => {
                let class = if matches!(other, PyValue::Str(_)) {
                    "str"
                } else {
                    "tuple"
                };
                return Err(format!(
                    "TypeError: '<' not supported between instances of '{class}' and 'int'"
                ));
            }
        }
    }
    if let Some(timeout) = get("command_timeout") {
        let invalid = |shown: String| {
            format!(
                "ValueError: invalid command_timeout value: expected greater than 0 float (got {shown})"
            )
        };
        match timeout {
            PyValue::Str(text) => match text.trim().parse::<f64>() {
                // `value <= 0` is false for NaN, which asyncpg therefore accepts.
                Ok(value) if value > 0.0 || value.is_nan() => {}
                Ok(value) => return Err(invalid(python_float_repr(value))),
                Err(_) => return Err(invalid(python_repr(text))),
            },
            PyValue::Int(n) if *n > 0 => {}
            PyValue::Int(n) => return Err(invalid(python_float_repr(*n as f64))),
            _ => {
                return Err(
                    "TypeError: float() argument must be a string or a real number, not 'tuple'"
                        .into(),
                );
            }
        }
    }

    let Hosts {
        hosts,
        ports,
        origins,
    } = hosts_and_ports(&kwargs, env)?;
    let (user, user_origin) = match get("user") {
        Some(user) => (user.clone(), Origin::Url),
        None => match env.var("PGUSER").filter(|u| !u.is_empty()) {
            Some(user) => (PyValue::Str(user), Origin::Env("PGUSER")),
            None => (
                PyValue::Str(env.login_name().ok_or(
                    "ClientConfigurationError: could not determine user name to connect with",
                )?),
                Origin::Default,
            ),
        },
    };
    let (database, database_origin) = match get("database") {
        Some(database) => (database.clone(), Origin::Url),
        None => match env.var("PGDATABASE") {
            Some(database) => (PyValue::Str(database), Origin::Env("PGDATABASE")),
            None => (user.clone(), Origin::Default),
        },
    };
    let mut passfile_warning = None;
    let password = if get("password").is_some() {
        AsyncpgPassword::Argument
    } else if env.var("PGPASSWORD").is_some() {
        AsyncpgPassword::Env
    } else {
        // The password file is read for these hosts: socket directories as `localhost`, and
        // only `localhost` with the first port when asyncpg chose the hosts itself.
        let lookup: Vec<(String, i64)> = if origins.0 == Origin::Default {
            vec![("localhost".to_string(), ports[0])]
        } else {
            hosts
                .iter()
                .zip(&ports)
                .map(|(host, port)| {
                    let host = if host.starts_with('/') {
                        "localhost"
                    } else {
                        host
                    };
                    (host.to_string(), *port)
                })
                .collect()
        };
        let file = get("passfile")
            .map(PyValue::py_str)
            .or_else(|| env.var("PGPASSFILE"));
        match env.password_file(file.as_deref()) {
            PasswordFile::Missing => AsyncpgPassword::None,
            PasswordFile::TooOpen { path, mode } => {
                passfile_warning = Some(format!(
                    "password file {path} has group or world access (mode {mode:o}) and is ignored, as asyncpg does; run chmod 600 {path}"
                ));
                AsyncpgPassword::None
            }
            PasswordFile::Usable { path, text } => {
                let (database, user) = (database.py_str(), user.py_str());
                match find_in_password_file(&text, &lookup, &database, &user)? {
                    Some(password) => AsyncpgPassword::PassFile { path, password },
                    None => AsyncpgPassword::None,
                }
            }
        }
    };
    let mut addrs = Vec::new();
    for (host, port) in hosts.iter().zip(&ports) {
        if host.starts_with('/') {
            let path = if host.contains(".s.PGSQL.") {
                host.clone()
            } else {
                format!("{}/.s.PGSQL.{port}", host.trim_end_matches('/'))
            };
            addrs.push(AsyncpgAddr::Socket(path));
        } else {
            addrs.push(AsyncpgAddr::Tcp(host.clone(), *port));
        }
    }
    let have_tcp = addrs.iter().any(|a| matches!(a, AsyncpgAddr::Tcp(..)));
    let (ssl, sslmode_origin) = match get("ssl") {
        Some(PyValue::Str(text)) => (Some(text.clone()), Origin::Url),
        // Not a str (a repeated key's tuple): asyncpg takes it for "no TLS" here.
        Some(_) => (None, Origin::Url),
        None => match env.var("PGSSLMODE") {
            Some(mode) => (Some(mode), Origin::Env("PGSSLMODE")),
            None => (have_tcp.then(|| "prefer".to_string()), Origin::Default),
        },
    };
    // `direct_tls` (any truthy value), else PGSSLNEGOTIATION.
    let direct = match get("direct_tls") {
        Some(value) => truthy(value),
        None => match env.var("PGSSLNEGOTIATION").as_deref() {
            None | Some("postgres") => false,
            Some("direct") => true,
            Some(_) => {
                return Err(
                    "ClientConfigurationError: `sslnegotiation` parameter must be one of: postgres, direct"
                        .into(),
                );
            }
        },
    };
    let sslmode = match ssl {
        None => "disable",
        Some(text) => {
            // `SSLMode.parse`: `getattr(SSLMode, text.replace("-", "_"))`.
            let wanted = text.replace('-', "_");
            let mode = SSL_MODES
                .into_iter()
                .find(|m| m.replace('-', "_") == wanted)
                .ok_or_else(|| {
                    format!(
                        "ClientConfigurationError: `sslmode` parameter must be one of: {}",
                        SSL_MODES.join(", ")
                    )
                })?;
            if mode == "verify-ca" || mode == "verify-full" {
                let configured = env.var("PGSSLROOTCERT").filter(|c| !c.is_empty());
                if configured.is_none() {
                    let (path, exists) = env.dot_postgresql("root.crt");
                    if !exists {
                        return Err(format!(
                            "ClientConfigurationError: root certificate file \"{path}\" does not exist or cannot be accessed"
                        ));
                    }
                }
            }
            if mode != "disable" {
                for variable in ["PGSSLMINPROTOCOLVERSION", "PGSSLMAXPROTOCOLVERSION"] {
                    if let Some(version) = env.var(variable).filter(|v| !v.is_empty()) {
                        tls_version(&version)?;
                    }
                }
            }
            mode
        }
    };
    if direct && SSL_MODES.iter().position(|m| *m == sslmode) < Some(3) {
        return Err(
            "ClientConfigurationError: direct TLS requires sslmode=require, verify-ca, or verify-full"
                .into(),
        );
    }
    if get("server_settings").is_some() {
        return Err(
            "ClientConfigurationError: server_settings is expected to be None or a Dict[str, str]"
                .into(),
        );
    }
    let attrs = match get("target_session_attrs") {
        Some(attrs) => attrs.clone(),
        None => PyValue::Str(
            env.var("PGTARGETSESSIONATTRS")
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
    let gsslib = match get("gsslib") {
        Some(gsslib) => gsslib.py_str(),
        None => env.var("PGGSSLIB").unwrap_or_else(|| "gssapi".into()),
    };
    if gsslib != "gssapi" && gsslib != "sspi" {
        return Err(format!(
            "ClientConfigurationError: gsslib parameter must be either 'gssapi' or 'sspi', got {}",
            python_repr(&gsslib)
        ));
    }
    // The event loop asyncpg is handed is used only once it connects.
    if let Some(event_loop) = get("loop") {
        return Err(format!(
            "AttributeError: '{}' object has no attribute 'get_debug'",
            python_type(event_loop)
        ));
    }
    Ok(AsyncpgConnection {
        addrs,
        user,
        database,
        password,
        sslmode,
        target_session_attrs,
        origins: AsyncpgOrigins {
            host: origins.0,
            port: origins.1,
            user: user_origin,
            database: database_origin,
            sslmode: sslmode_origin,
        },
        passfile_warning,
    })
}

/// The hosts asyncpg tries, the port of each, and where each list came from.
struct Hosts {
    hosts: Vec<String>,
    ports: Vec<i64>,
    origins: (Origin, Origin),
}

/// The hosts and the port of each, with where they came from: the arguments, else `PGHOST`
/// (and the ports it names), else asyncpg's socket directories and `localhost`; the ports from
/// the argument, else `PGPORT`, else 5432.
fn hosts_and_ports(kwargs: &Kwargs, env: &dyn AsyncpgEnvironment) -> Result<Hosts, String> {
    let port = kwargs.get("port").filter(|p| truthy(p));
    let given = |port: &PyValue| -> Result<Ports, String> {
        match port {
            PyValue::List(items) | PyValue::Tuple(items) => Ok(Ports::Many(
                items.iter().map(int_of).collect::<Result<_, _>>()?,
            )),
            one => Ok(Ports::One(int_of(one)?)),
        }
    };
    let port_origin = |named_in_pghost: bool| {
        if port.is_some() {
            Origin::Url
        } else if named_in_pghost {
            Origin::Env("PGHOST")
        } else if env.var("PGPORT").is_some_and(|p| !p.is_empty()) {
            Origin::Env("PGPORT")
        } else {
            Origin::Default
        }
    };
    if let Some(host) = kwargs.get("host").filter(|h| truthy(h)) {
        let hosts: Vec<String> = match host {
            PyValue::List(items) | PyValue::Tuple(items) => {
                items.iter().map(PyValue::py_str).collect()
            }
            one => vec![one.py_str()],
        };
        let ports = match port {
            Some(port) => given(port)?,
            None => env_ports(env)?,
        };
        let ports = validate_port_spec(hosts.len(), ports)?;
        return Ok(Hosts {
            hosts,
            ports,
            origins: (Origin::Url, port_origin(false)),
        });
    }
    if let Some(spec) = env.var("PGHOST").filter(|h| !h.is_empty()) {
        let port = port.map(given).transpose()?;
        let (hosts, ports, named) = parse_hostlist(&spec, port, env)?;
        return Ok(Hosts {
            hosts,
            ports,
            origins: (Origin::Env("PGHOST"), port_origin(named)),
        });
    }
    let hosts: Vec<String> = [
        "/run/postgresql",
        "/var/run/postgresql",
        "/tmp",
        "/private/tmp",
        "localhost",
    ]
    .map(String::from)
    .to_vec();
    let ports = match port {
        Some(port) => given(port)?,
        None => env_ports(env)?,
    };
    let ports = validate_port_spec(hosts.len(), ports)?;
    Ok(Hosts {
        hosts,
        ports,
        origins: (Origin::Default, port_origin(false)),
    })
}

/// asyncpg's lookup (`_read_password_from_pgpass`): for each (host, port) in order, the first
/// line that matches. Its reading differs from libpq's: lines are stripped, and `\` escapes
/// only keep a `:` from separating — the backslashes stay in the values. A line with fewer than
/// five fields makes asyncpg fail (`ValueError`) when the lookup reaches it.
pub fn find_in_password_file(
    text: &str,
    hosts: &[(String, i64)],
    database: &str,
    user: &str,
) -> Result<Option<Secret>, String> {
    let table: Vec<Vec<String>> = text
        .lines()
        .map(|line| line.trim_matches(|c: char| c.is_whitespace()))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(password_file_fields)
        .collect();
    for (host, port) in hosts {
        let port = port.to_string();
        let wanted = [host.as_str(), port.as_str(), database, user];
        for fields in &table {
            if fields.len() < 5 {
                return Err(format!(
                    "ValueError: not enough values to unpack (expected 5, got {})",
                    fields.len()
                ));
            }
            if fields.iter().zip(wanted).all(|(f, w)| f == "*" || f == w) {
                return Ok(Some(Secret::new(fields[4].clone())));
            }
        }
    }
    Ok(None)
}

/// `re.split(r'(?<!\\):', line, maxsplit=4)` after `\\` is set aside, as asyncpg splits.
fn password_file_fields(line: &str) -> Vec<String> {
    let line = line.replace("\\\\", "\n");
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut previous = None;
    for c in line.chars() {
        if c == ':' && previous != Some('\\') && fields.len() < 4 {
            fields.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
        previous = Some(c);
    }
    fields.push(current);
    fields
        .into_iter()
        .map(|f| f.replace('\n', "\\\\"))
        .collect()
}

/// Python's `repr()` of a float, for the values asyncpg shows (whole numbers and plain decimals).
fn python_float_repr(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}
