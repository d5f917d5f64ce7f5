//! The checks `check-url` runs on a parsed URL, each giving findings with a stable code.

use crate::conn::pgpass::{self, Lookup};
use crate::conn::target::{
    Endpoint, EndpointError, Origin, Resolved, SessionAttrs, endpoints, parse_libpq_int,
};
use crate::conn::tls::{AsyncpgFiles, SslMode};
use crate::driver::{ASYNCPG_FIX, PSYCOPG_FIX};
use crate::environment::Environment;
use crate::finding::{Code, Finding};
use crate::password::{PasswordFile, PasswordSource};
use crate::secret::Secret;
use crate::url::dialect::{self, ApplicationReading, PyValue};
use crate::url::libpq::{self, Ambiguity, AmbiguityKind, ConnInfo};
use crate::url::sqlalchemy::{Driver, Scheme, SqlalchemyReading};

/// What the checks look at.
pub(super) struct CheckContext<'a> {
    pub(crate) url: &'a str,
    pub(crate) scheme: &'a Scheme,
    pub(crate) info: &'a ConnInfo,
    /// The URL with the PG* environment and defaults, as libpq will connect.
    pub(crate) resolved: &'a Resolved,
    pub(crate) sqlalchemy: &'a Result<SqlalchemyReading, String>,
    /// Where the application's driver takes the password from, when it reads its arguments.
    pub(crate) driver_password: Option<&'a PasswordSource>,
    /// The environment the URL is read with.
    pub(crate) environment: &'a Environment,
}

impl CheckContext<'_> {
    fn get(&self, keyword: &str) -> Option<String> {
        self.info.get(keyword).map(|v| v.into_owned())
    }

    fn driver(&self) -> Driver {
        self.scheme.effective_driver()
    }
}

/// Runs every check, errors first.
pub(super) fn collect(context: &CheckContext<'_>, show_password: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    scheme(context, &mut findings);
    findings.extend(from_ambiguities(
        context.info.ambiguities(),
        context.scheme,
        show_password,
    ));
    sqlalchemy_agreement(context, &mut findings);
    driver_parameters(context, &mut findings);
    connect_time_values(context, &mut findings);
    password(context, &mut findings);
    tls(context, &mut findings);
    asyncpg_tls_rules(context, &mut findings);
    multi_host(context, &mut findings);
    asyncpg_abstract_socket(context, &mut findings);
    pooler_hints(context, &mut findings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.level()));
    findings
}

fn scheme(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    if context.scheme.dialect == "postgres" {
        findings.push(Finding::new(
            Code::PostgresScheme,
            "SQLAlchemy 1.4 and later reject the postgres:// scheme (NoSuchModuleError: \
             sqlalchemy.dialects:postgres); write postgresql:// instead",
        ));
    }
}

/// Places where libpq reads the URL differently from what its author most likely meant.
///
/// Suggestions come back for the libpq URI; they are given the URL's own scheme again.
pub(super) fn from_ambiguities(
    ambiguities: &[Ambiguity],
    scheme: &Scheme,
    show_password: bool,
) -> Vec<Finding> {
    let libpq_prefix = format!("{}://", scheme.dialect);
    let own_prefix = format!("{}://", scheme.written);
    ambiguities
        .iter()
        .map(|ambiguity| {
            let code = match ambiguity.kind {
                AmbiguityKind::AtInUserInfo => Code::AmbiguousAtInUserInfo,
                AmbiguityKind::SlashInUserInfo => Code::AmbiguousSlashInUserInfo,
                AmbiguityKind::AtAfterQuestionMark => Code::AmbiguousAtAfterQuestionMark,
                AmbiguityKind::NonPortableUserInfo => Code::NonPortableUserInfo,
                AmbiguityKind::HashIsLiteral => Code::HashIsLiteral,
                AmbiguityKind::BarePercent => Code::BarePercent,
                AmbiguityKind::Whitespace => Code::Whitespace,
                AmbiguityKind::PlusIsLiteral => Code::PlusIsLiteral,
                AmbiguityKind::UnknownParameter => Code::UnknownParameter,
                AmbiguityKind::NeedsNewerLibpq => Code::NeedsNewerLibpq,
                AmbiguityKind::SslParameter => Code::SslParameter,
                AmbiguityKind::ExtraEquals => Code::ExtraEquals,
                AmbiguityKind::RepeatedParameter => Code::RepeatedParameter,
                AmbiguityKind::QueryOverridesUri => Code::QueryOverridesUri,
                AmbiguityKind::EncodedCommaInHost => Code::EncodedCommaInHost,
                AmbiguityKind::HostListMismatch => Code::HostPortMismatch,
                AmbiguityKind::Scheme => Code::Scheme,
            };
            let suggestion = if show_password {
                &ambiguity.suggestion
            } else {
                &ambiguity.suggestion_redacted
            };
            let suggestion = suggestion
                .as_ref()
                .map(|url| match url.strip_prefix(&libpq_prefix) {
                    Some(rest) => format!("{own_prefix}{rest}"),
                    None => url.clone(),
                });
            let message = match suggestion {
                Some(url) => format!(
                    "{}; did you mean {url}",
                    ambiguity.message.trim_end_matches('.')
                ),
                None => ambiguity.message.clone(),
            };
            Finding::new(code, message)
        })
        .collect()
}

/// SQLAlchemy reads the URL with its own regular expression, then hands the parts to the driver.
fn sqlalchemy_agreement(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    let Ok(reading) = context.sqlalchemy else {
        if context.url[context.scheme.rest_start..]
            .split(['/', '?'])
            .next()
            .is_some_and(|a| a.contains(','))
        {
            // The hosts as written, each with its port (libpq's default where none is given).
            let hosts: Vec<(String, String)> = endpoints(context.info, &Environment::empty())
                .unwrap_or_default()
                .iter()
                .map(|e| (e.name(), e.port.to_string()))
                .collect();
            findings.push(Finding::new(Code::SqlalchemyMultiHost,
                format!(
                    "SQLAlchemy cannot read several hosts in the authority (int() of the port fails); \
                     write them as query parameters: ?{}",
                    host_query(&hosts)
                ),
            ));
        }
        return;
    };
    let query_sets = |key: &str| reading.query_value(key).is_some();
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let mut differences = Vec::new();
    let mut compare =
        |part: &str, libpq_key: &str, sqlalchemy: Option<String>, libpq: Option<String>| {
            if !query_sets(libpq_key) && non_empty(sqlalchemy.clone()) != non_empty(libpq.clone()) {
                differences.push(format!(
                    "{part}: SQLAlchemy reads {}, libpq reads {}",
                    shown(&sqlalchemy),
                    shown(&libpq)
                ));
            }
        };
    compare(
        "user",
        "user",
        reading.username.clone(),
        context.get("user"),
    );
    compare("host", "host", reading.host.clone(), context.get("host"));
    compare(
        "port",
        "port",
        reading.port.map(|p| p.to_string()),
        context.get("port"),
    );
    compare(
        "database",
        "dbname",
        reading.database.clone(),
        context.get("dbname"),
    );
    let libpq_password = context
        .info
        .get_bytes("password")
        .map(|b| String::from_utf8_lossy(b).into_owned());
    if !query_sets("password")
        && non_empty(reading.password.as_ref().map(|p| p.expose().to_string()))
            != non_empty(libpq_password)
    {
        differences.push("password: SQLAlchemy and libpq read different passwords".to_string());
    }
    if !differences.is_empty() {
        findings.push(Finding::new(Code::SqlalchemyDisagrees,
            format!(
                "SQLAlchemy and libpq read this URL differently ({}); percent-encode @ : / ? # in the user \
                 name and password",
                differences.join("; ")
            ),
        ));
    }
    if let Some(host) = &reading.host
        && host.contains('%')
    {
        findings.push(Finding::new(Code::SqlalchemyEncodedHost,
            format!(
                "SQLAlchemy does not percent-decode the host, so the driver gets {host:?}; give a socket \
                 directory as ?host=/path instead"
            ),
        ));
    }
}

fn shown(value: &Option<String>) -> String {
    match value {
        Some(v) if !v.is_empty() => format!("{v:?}"),
        _ => "nothing".to_string(),
    }
}

/// Query parameters the driver cannot take.
fn driver_parameters(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    let driver = context.driver();
    let (Some(accepted), Ok(reading)) = (dialect::accepted_keywords(driver), context.sqlalchemy)
    else {
        return;
    };
    for (key, values) in &reading.query {
        if accepted.contains(&key.as_str()) {
            continue;
        }
        let last = values.last().cloned().unwrap_or_default();
        if driver == Driver::Asyncpg && (key == "sslmode" || key == "requiressl") {
            let mode = if key == "sslmode" {
                last.as_str()
            } else {
                "require"
            };
            findings.push(Finding::new(Code::AsyncpgSslmode,
                format!(
                    "asyncpg has no {key}: SQLAlchemy passes it to asyncpg.connect(), which fails with \
                     TypeError; write ?ssl={mode} instead"
                ),
            ));
        } else if libpq::keyword(key).is_some() {
            findings.push(Finding::new(Code::DriverLibpqParameter,
                format!(
                    "{key} is a libpq keyword, but {} does not use libpq: SQLAlchemy passes it to connect(), \
                     which fails with TypeError; {}",
                    driver.name(),
                    libpq_alternative(driver, key)
                ),
            ));
        } else {
            findings.push(Finding::new(
                Code::DriverUnknownParameter,
                format!(
                    "{} does not accept {key:?}: connect() fails with TypeError; accepted: {}",
                    driver.name(),
                    accepted.join(", ")
                ),
            ));
        }
    }
    if driver == Driver::Asyncpg
        && let Some(ssl) = reading.query_value("ssl").and_then(|v| v.last())
        && SslMode::parse_text(ssl).is_err()
    {
        findings.push(Finding::new(
            Code::InvalidSsl,
            format!(
                "asyncpg's ssl must be one of {}, not {ssl:?}",
                SslMode::ALL.map(SslMode::name).join(", ")
            ),
        ));
    }
}

fn libpq_alternative(driver: Driver, key: &str) -> String {
    match (driver, key) {
        (Driver::Asyncpg, "application_name" | "options") => {
            "pass it as connect_args={\"server_settings\": {...}} to create_async_engine".into()
        }
        // A `?timeout=` would reach asyncpg as a string, which its connect() cannot add to a time.
        (Driver::Asyncpg, "connect_timeout") => {
            "pass connect_args={\"timeout\": SECONDS} to create_async_engine instead (not ?timeout=, which asyncpg receives as a string and fails on)".into()
        }
        (Driver::Asyncpg, "dbname") => "write the database in the path instead".into(),
        _ => "remove it or pass the driver's own option through connect_args".into(),
    }
}

/// asyncpg arguments that must not be strings, as every URL query value is: what to do instead.
fn string_valued_hint(application: &ApplicationReading) -> String {
    const NOT_STRINGS: [&str; 8] = [
        "async_creator_fn",
        "timeout",
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
        "connection_class",
        "record_class",
        "loop",
    ];
    if application.driver != Driver::Asyncpg {
        return String::new();
    }
    let named: Vec<&str> = NOT_STRINGS
        .into_iter()
        .filter(|key| application.connect.kwargs.contains(key))
        .collect();
    match named.as_slice() {
        [] => String::new(),
        keys => format!(
            "; URL query values reach asyncpg as strings: remove {} from the URL and pass {} through create_async_engine(..., connect_args={{...}})",
            keys.join(", "),
            if keys.len() == 1 { "it" } else { "them" }
        ),
    }
}

/// Values libpq accepts in the URL but rejects only when connecting.
fn connect_time_values(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    if let Some(ports) = context.get("port") {
        for port in ports.split(',').filter(|p| !p.is_empty()) {
            if let Some(message) = invalid_port(port) {
                findings.push(Finding::new(Code::InvalidPort, message));
            }
        }
    }
    // asyncpg's ports may come from PGHOST or PGPORT; it fails on them when it connects.
    if context.driver() == Driver::Asyncpg
        && let Err(EndpointError::InvalidPort(port)) = &context.resolved.endpoints
        && !findings.iter().any(|f| f.code == Code::InvalidPort)
    {
        findings.push(Finding::new(
            Code::InvalidPort,
            format!("asyncpg will fail to connect to port {port}: give a number 1-65535"),
        ));
    }
    if let Err(EndpointError::Mismatch(message)) = &context.resolved.endpoints
        && !context
            .info
            .ambiguities()
            .iter()
            .any(|a| a.kind == AmbiguityKind::HostListMismatch)
    {
        findings.push(Finding::new(
            Code::HostPortMismatch,
            format!(
                "libpq will fail to connect: {message}; give one port for all hosts or one per host"
            ),
        ));
    }
    let ssl_modes = SslMode::ALL.map(SslMode::name);
    let session_attrs = SessionAttrs::ALL.map(SessionAttrs::name);
    let enums: [(&str, Code, &[&str]); 9] = [
        ("sslmode", Code::InvalidSslmode, &ssl_modes),
        (
            "target_session_attrs",
            Code::InvalidTargetSessionAttrs,
            &session_attrs,
        ),
        (
            "gssencmode",
            Code::InvalidValue,
            &["disable", "prefer", "require"],
        ),
        (
            "channel_binding",
            Code::InvalidValue,
            &["disable", "prefer", "require"],
        ),
        (
            "load_balance_hosts",
            Code::InvalidValue,
            &["disable", "random"],
        ),
        (
            "sslnegotiation",
            Code::InvalidValue,
            &["postgres", "direct"],
        ),
        (
            "sslcertmode",
            Code::InvalidValue,
            &["disable", "allow", "require"],
        ),
        (
            "ssl_min_protocol_version",
            Code::InvalidValue,
            &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
        ),
        (
            "ssl_max_protocol_version",
            Code::InvalidValue,
            &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
        ),
    ];
    for (keyword, code, allowed) in enums {
        if let Some(value) = context.get(keyword)
            && !(value.is_empty() && keyword.starts_with("ssl_"))
            && !allowed.contains(&value.as_str())
        {
            findings.push(Finding::new(
                code,
                format!(
                    "invalid {keyword} value {value:?}: libpq accepts {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    for keyword in [
        "connect_timeout",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    ] {
        if let Some(value) = context.get(keyword)
            && !value.is_empty()
            && parse_libpq_int(&value).is_none()
        {
            let code = if keyword == "connect_timeout" {
                Code::InvalidConnectTimeout
            } else {
                Code::InvalidValue
            };
            findings.push(Finding::new(code,
                format!("invalid integer value {value:?} for connection option {keyword:?}: give whole seconds"),
            ));
        }
    }
}

fn invalid_port(port: &str) -> Option<String> {
    match parse_libpq_int(port) {
        None => Some(format!(
            "invalid integer value {port:?} for connection option \"port\": give a number 1-65535"
        )),
        Some(n) if !(1..=65535).contains(&n) => Some(format!(
            "invalid port number: {port:?}: give a number 1-65535"
        )),
        Some(_) => None,
    }
}

/// A password in the URL is a secret in a config value; no password means something else supplies it.
fn password(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    let in_url = context
        .info
        .get_bytes("password")
        .is_some_and(|p| !p.is_empty());
    if in_url {
        findings.push(Finding::new(Code::PasswordInUrl,
            "the URL carries a password: keep it in a secret store, PGPASSWORD or ~/.pgpass rather than in \
             config files and process listings",
        ));
        return;
    }
    let source = password_source(context);
    findings.push(Finding::new(
        Code::NoPassword,
        format!("no password in the URL: {source}"),
    ));
}

/// Which password source applies when the URL has none.
pub(super) fn password_source(context: &CheckContext<'_>) -> String {
    let driver = context.driver();
    if driver == Driver::Pg8000 {
        return "pg8000 reads neither PGPASSWORD nor ~/.pgpass, so the server must trust this connection \
                (trust, or peer over a Unix socket)"
            .into();
    }
    // asyncpg reads PGPASSWORD even when empty, and its password file its own way.
    if driver == Driver::Asyncpg
        && let Some(source) = context.driver_password
    {
        return match source {
            PasswordSource::Url | PasswordSource::Env => "PGPASSWORD supplies it".into(),
            PasswordSource::PassFile(path) => {
                format!("{} supplies it, as asyncpg reads it", path.display())
            }
            PasswordSource::None => "neither PGPASSWORD nor a password file supplies one as asyncpg reads them, so the \
                server must trust this connection (trust, or peer over a Unix socket); fine for a local Docker \
                Compose database, not for production"
                .into(),
        };
    }
    if context.environment.libpq("PGPASSWORD").is_some() {
        return "PGPASSWORD supplies it".into();
    }
    let passfile = context.get("passfile");
    match pgpass::locate(context.environment, passfile.as_deref()) {
        Some(PasswordFile::Usable(path)) => {
            // The first host libpq tries, as connecting looks the password up.
            let resolved = context.resolved;
            let (host, port) = match &resolved.endpoints {
                Ok(endpoints) => (endpoints[0].name(), endpoints[0].port.to_string()),
                Err(_) => (String::new(), crate::conn::DEFAULT_PORT.to_string()),
            };
            let lookup = Lookup {
                host: &host,
                port: &port,
                database: &resolved.dbname.value,
                user: &resolved.user.value,
            };
            match pgpass::find_password(&path, &lookup).map(|s: Secret| s.is_empty()) {
                Some(_) => format!("{} supplies it", path.display()),
                None => format!(
                    "{} has no matching line, so the server must trust this connection (trust, or peer over a \
                     Unix socket); fine for a local Docker Compose database, not for production",
                    path.display()
                ),
            }
        }
        Some(PasswordFile::TooOpen { path, mode }) => format!(
            "{} would supply one but libpq ignores it because its mode is {mode:o}; run chmod 600 {}",
            path.display(),
            path.display()
        ),
        _ => "neither PGPASSWORD nor a password file supplies one, so the server must trust this connection \
              (trust, or peer over a Unix socket); fine for a local Docker Compose database, not for production"
            .into(),
    }
}

/// TLS that is off or unverified on a connection that leaves this machine.
fn tls(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    let remote: Vec<String> = match &context.resolved.endpoints {
        Ok(endpoints) => endpoints
            .iter()
            .filter(|e| !e.is_local())
            .map(Endpoint::name)
            .collect(),
        Err(_) => Vec::new(),
    };
    if remote.is_empty() {
        return;
    }
    let (name, mode) = if context.driver() == Driver::Asyncpg {
        let ssl = context
            .sqlalchemy
            .as_ref()
            .ok()
            .and_then(|r| r.query_value("ssl")?.last().cloned());
        ("ssl", ssl.unwrap_or_else(|| "prefer".into()))
    } else {
        let mode = match &context.resolved.sslmode {
            Ok(mode) => mode.value.name().to_string(),
            Err(_) => return,
        };
        ("sslmode", mode)
    };
    let target = remote.join(", ");
    match mode.as_str() {
        "allow" | "prefer" | "require" => findings.push(Finding::new(Code::TlsNotVerified,
            format!(
                "{name}={mode} to {target} does not verify the server's certificate, so a man in the middle \
                 goes unnoticed; use {name}=verify-full with the server's CA (sslrootcert)"
            ),
        )),
        "disable" => findings.push(Finding::new(Code::TlsDisabled,
            format!("{name}=disable sends the password and data to {target} in clear text; use {name}=verify-full"),
        )),
        _ => {}
    }
}

/// Where asyncpg, with this URL's ssl, connects differently from libpq (see `conn::tls`).
fn asyncpg_tls_rules(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    let Ok(reading) = context.sqlalchemy else {
        return;
    };
    let ssl = reading.query_value("ssl").and_then(|v| v.last());
    if context.driver() != Driver::Asyncpg {
        return;
    }
    let Ok(ssl) = ssl
        .map(|s| SslMode::parse_text(&s.replace('_', "-")))
        .transpose()
    else {
        return;
    };
    let differences =
        crate::conn::tls::asyncpg_differences(ssl, AsyncpgFiles::of(context.environment));
    if !differences.is_empty() {
        findings.push(Finding::new(
            Code::AsyncpgTlsDiffers,
            format!("asyncpg is not libpq here: {}", differences.join("; ")),
        ));
    }
}

/// `@name` is a Linux abstract socket to libpq 14+, but a TCP host name to asyncpg.
fn asyncpg_abstract_socket(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    if context.driver() != Driver::Asyncpg {
        return;
    }
    let endpoints = context.resolved.endpoints.as_deref().unwrap_or_default();
    if let Some(endpoint) = endpoints.iter().find(|e| e.host.starts_with('@')) {
        findings.push(Finding::new(
            Code::AsyncpgAbstractSocket,
            format!(
                "asyncpg has no abstract sockets: it looks {} up in DNS and fails; give the \
                 server a socket directory (?host=/dir) or TCP, or use psycopg, whose libpq \
                 reads @name as an abstract socket",
                endpoint.host
            ),
        ));
    }
}

fn multi_host(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    let endpoints = context.resolved.endpoints.as_deref().unwrap_or_default();
    // asyncpg's own defaults (its socket directories, then localhost) are one machine.
    let chosen = endpoints.iter().any(|e| e.host_origin != Origin::Default);
    let count = endpoints.len();
    if chosen && count > 1 && context.get("target_session_attrs").is_none() {
        findings.push(Finding::new(Code::MultiHostWithoutTargetSessionAttrs,
            format!(
                "{count} hosts but no target_session_attrs: the driver takes the first that answers, which may be a \
                 read-only standby; add ?target_session_attrs=read-write (or primary)"
            ),
        ));
    }
}

/// Where the application's stack reads the URL differently from libpq: the driver refusing
/// what SQLAlchemy passes it, hosts the dialect drops, and a string psql would refuse although
/// the application reads it.
pub(super) fn application(
    scheme: &Scheme,
    sqlalchemy: &Result<SqlalchemyReading, String>,
    application: &ApplicationReading,
    url: &str,
    psql_rejects: Option<String>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let driver = application.driver;
    if let Some(error) = application.driver_error() {
        findings.push(Finding::new(
            Code::DriverRefusesArguments,
            format!(
                "{} refuses what SQLAlchemy passes it, so every connection fails: {}{}",
                driver.name(),
                crate::url::redact_message(error, url),
                string_valued_hint(application)
            ),
        ));
    }
    if let Ok(reading) = sqlalchemy
        && let Some(host) = reading.host.as_ref().filter(|h| !h.is_empty())
        && reading.query_value("host").is_some()
    {
        let given = |key: &str| {
            application
                .connect
                .kwargs
                .get(key)
                .map_or("(none)".to_string(), |v| v.py_repr())
        };
        // Every host the URL names: the one before the path, then those the dialect passes.
        let mut hosts = vec![(
            host.clone(),
            reading.port.map(|p| p.to_string()).unwrap_or_default(),
        )];
        let listed = |key: &str| -> Vec<String> {
            match application.connect.kwargs.get(key) {
                Some(PyValue::List(items) | PyValue::Tuple(items)) => items
                    .iter()
                    .map(|v| match v {
                        PyValue::None => String::new(),
                        other => other.py_str(),
                    })
                    .collect(),
                Some(PyValue::None) | None => Vec::new(),
                Some(other) => other.py_str().split(',').map(str::to_string).collect(),
            }
        };
        let ports = listed("port");
        for (i, name) in listed("host").into_iter().enumerate() {
            let port = match ports.as_slice() {
                [one] => one.clone(),
                many => many.get(i).cloned().unwrap_or_default(),
            };
            hosts.push((name, port));
        }
        // SQLAlchemy's asyncpg dialect wants every port of several hosts.
        if driver == Driver::Asyncpg {
            for (_, port) in hosts.iter_mut().filter(|(_, port)| port.is_empty()) {
                *port = "5432".into();
            }
        }
        findings.push(Finding::new(Code::DialectDropsHost,
            format!(
                "SQLAlchemy's {} dialect drops the host {host:?} written before the path: ?host= replaces it, and the driver gets host={} port={}; list every host in the query instead: ?{}",
                driver.name(),
                given("host"),
                given("port"),
                host_query(&hosts)
            ),
        ));
    }
    if let Some(message) = psql_rejects {
        findings.push(Finding::new(Code::PsqlRejectsUrl,
            format!(
                "psql and libpq would reject this string ({message}), but the application reads it: SQLAlchemy decodes the URL leniently and {} receives keyword arguments; do not hand this URL to psql, pg_dump or pg_isready as is (`dbtool check-url` shows the libpq forms)",
                scheme.effective_driver().name()
            ),
        ));
    }
    findings
}

/// `host=h1:5432&host=h2:5433&host=h3`: SQLAlchemy's one-host-per-parameter form.
fn host_query(hosts: &[(String, String)]) -> String {
    hosts
        .iter()
        .map(|(host, port)| match port.is_empty() {
            true => format!("host={host}"),
            false => format!("host={host}:{port}"),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// What can be said about a pooler without connecting: a well-known pooler port or host name,
/// and what transaction pooling does to the URL's driver. `dbtool ping` finds out for sure.
fn pooler_hints(context: &CheckContext<'_>, findings: &mut Vec<Finding>) {
    let Ok(endpoints) = &context.resolved.endpoints else {
        return;
    };
    let Some(sign) = endpoints.iter().find_map(pooler_sign) else {
        return;
    };
    let option = |key: &str| {
        context
            .sqlalchemy
            .as_ref()
            .ok()
            .and_then(|reading| reading.query_value(key)?.last().cloned())
    };
    let check = "`dbtool ping` finds the pooler and its mode";
    let message = match context.driver() {
        Driver::Asyncpg if option("prepared_statement_cache_size").as_deref() != Some("0") => {
            format!(
                "{sign}: if it pools transactions (PgBouncer's transaction mode, Supavisor on 6543), asyncpg's named prepared statements fail there ('prepared statement \"__asyncpg_stmt_N__\" does not exist'); use {ASYNCPG_FIX}; {check}"
            )
        }
        Driver::Psycopg => format!(
            "{sign}: if it pools transactions, psycopg's prepared statements fail there from a statement's 5th execution ('prepared statement \"_pg3_N\" already exists'); pass {PSYCOPG_FIX} to create_engine; {check}"
        ),
        _ if context.get("options").is_some() => format!(
            "{sign}: PgBouncer refuses the startup parameter options (\"unsupported startup parameter: options\") unless it is in ignore_startup_parameters; set these settings on the role instead (ALTER ROLE ... SET); {check}"
        ),
        _ => return,
    };
    findings.push(Finding::new(Code::PoolerLikely, message));
}

/// Why an endpoint looks like a pooler: its port or its name.
fn pooler_sign(endpoint: &Endpoint) -> Option<String> {
    let host = endpoint.host.to_ascii_lowercase();
    match endpoint.port {
        6432 => Some(format!(
            "{}: port 6432 is PgBouncer's default",
            endpoint.describe()
        )),
        6543 => Some(format!(
            "{}: port 6543 is Supabase's transaction-mode pooler",
            endpoint.describe()
        )),
        _ if host.contains("pgbouncer") || host.contains("pooler") => Some(format!(
            "{}: the host name says it is a pooler",
            endpoint.describe()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_libpq() {
        assert!(invalid_port("5432").is_none());
        assert!(invalid_port(" 5432 ").is_none());
        assert!(invalid_port("abc").is_some());
        assert!(invalid_port("0").is_some());
        assert!(invalid_port("65536").is_some());
    }
}
