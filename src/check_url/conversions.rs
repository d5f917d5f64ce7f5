//! The same connection written for other clients: the plain libpq URI, libpq's keyword/value
//! string, SQLAlchemy with asyncpg or psycopg, and JDBC. The password is `***` unless asked for.

use crate::conn::target::{EndpointKind, Origin, endpoints};
use crate::environment::Environment;
use crate::secret::MASK;
use crate::url::dialect;
use crate::url::libpq::{self, ConnInfo};
use crate::url::sqlalchemy::{Driver, Scheme, python_int};

/// One form of the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Stable key, e.g. `libpq_uri`.
    pub key: &'static str,
    pub(crate) label: &'static str,
    /// `None` when the form cannot express this connection; `note` says why.
    pub value: Option<String>,
    pub(crate) note: Option<String>,
}

/// Stands in for the password while rendering, so the rendered text can be masked safely.
const SENTINEL: &str = "DBTOOLPASSWORDSENTINEL";

pub fn all(info: &ConnInfo, scheme: &Scheme, show_password: bool) -> Vec<Conversion> {
    let mut masked = info.clone();
    if info.get_bytes("password").is_some() && !show_password {
        let _ = masked.set("password", SENTINEL);
    }
    let finish = |text: String| text.replace(SENTINEL, MASK);
    let libpq_uri = libpq::render_uri(&masked);
    let mut out = vec![
        Conversion {
            key: "libpq_uri",
            label: "libpq URI (psql, psycopg)",
            value: Some(finish(libpq_uri.clone())),
            note: None,
        },
        Conversion {
            key: "keyword_value",
            label: "libpq keyword/value",
            value: Some(finish(keyword_value(&masked))),
            note: None,
        },
    ];
    out.push(
        sqlalchemy_form(&masked, Driver::Asyncpg, scheme).map_or_else(
            |note| Conversion {
                key: "sqlalchemy_asyncpg",
                label: "SQLAlchemy + asyncpg",
                value: None,
                note: Some(note),
            },
            |url| Conversion {
                key: "sqlalchemy_asyncpg",
                label: "SQLAlchemy + asyncpg",
                value: Some(finish(url)),
                note: None,
            },
        ),
    );
    out.push(Conversion {
        key: "sqlalchemy_psycopg",
        label: "SQLAlchemy + psycopg",
        value: psycopg_form(&masked).ok().map(finish),
        note: psycopg_form(&masked).err(),
    });
    out.push(match jdbc(&masked) {
        Ok(url) => Conversion {
            key: "jdbc",
            label: "JDBC",
            value: Some(finish(url)),
            note: None,
        },
        Err(note) => Conversion {
            key: "jdbc",
            label: "JDBC",
            value: None,
            note: Some(note),
        },
    });
    out
}

/// libpq's keyword/value form: values quoted when empty or holding spaces, quotes or backslashes.
pub fn keyword_value(info: &ConnInfo) -> String {
    info.iter()
        .map(|(keyword, value)| {
            let value = String::from_utf8_lossy(value);
            let plain = !value.is_empty()
                && !value
                    .chars()
                    .any(|c| c.is_whitespace() || c == '\'' || c == '\\');
            if plain {
                format!("{}={value}", keyword.name)
            } else {
                format!(
                    "{}='{}'",
                    keyword.name,
                    value.replace('\\', "\\\\").replace('\'', "\\'")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `postgresql+asyncpg://...`: sslmode becomes asyncpg's ssl, libpq-only keywords cannot be expressed.
fn sqlalchemy_form(info: &ConnInfo, driver: Driver, _scheme: &Scheme) -> Result<String, String> {
    let accepted = dialect::accepted_keywords(driver).unwrap_or_default();
    let mut core = ConnInfo::new();
    let mut extra: Vec<(String, String)> = Vec::new();
    let mut dropped = Vec::new();
    for (keyword, value) in info.iter() {
        let value_text = String::from_utf8_lossy(value).into_owned();
        match keyword.name {
            "user" | "password" | "host" | "port" | "dbname" => {
                let _ = core.set(keyword.name, value.to_vec());
            }
            "sslmode" => extra.push(("ssl".into(), value_text)),
            name if accepted.contains(&name) => extra.push((name.into(), value_text)),
            name => dropped.push(name),
        }
    }
    // SQLAlchemy's asyncpg dialect wants every port of several hosts written out.
    if let Some(hosts) = core.get("host").filter(|h| h.contains(',')) {
        let count = hosts.split(',').count();
        let given = core.get("port").map(|p| p.into_owned()).unwrap_or_default();
        let given: Vec<&str> = given.split(',').collect();
        let ports: Vec<&str> = (0..count)
            .map(|i| match given.as_slice() {
                [one] => *one,
                many => many.get(i).copied().unwrap_or_default(),
            })
            .map(|p| if p.is_empty() { "5432" } else { p })
            .collect();
        let _ = core.set("port", ports.join(","));
    }
    let url = sqlalchemy_uri("postgresql+asyncpg", &core, extra)?;
    if !dropped.is_empty() {
        return Ok(format!(
            "{url}  (asyncpg has no {}; pass them through connect_args)",
            dropped.join(", ")
        ));
    }
    Ok(url)
}

/// `postgresql+psycopg://...`: every keyword reaches libpq through the dialect's arguments.
fn psycopg_form(info: &ConnInfo) -> Result<String, String> {
    let mut core = ConnInfo::new();
    let mut query = Vec::new();
    for (keyword, value) in info.iter() {
        match keyword.name {
            "user" | "password" | "host" | "port" | "dbname" => {
                let _ = core.set(keyword.name, value.to_vec());
            }
            name => query.push((
                name.to_string(),
                String::from_utf8_lossy(value).into_owned(),
            )),
        }
    }
    sqlalchemy_uri("postgresql+psycopg", &core, query)
}

/// A SQLAlchemy URL whose dialect passes these values on, as `make_url` reads it: user, password
/// and database percent-encoded (it unquotes them); one plain host, or an IPv6 address in
/// brackets, in the netloc, which it takes as written; any other host — several, a socket
/// directory, characters the netloc cannot hold — in `?host=` and `?port=`, whose values it
/// decodes (`parse_qsl`); the other parameters after them.
fn sqlalchemy_uri(
    scheme: &str,
    core: &ConnInfo,
    parameters: Vec<(String, String)>,
) -> Result<String, String> {
    let get = |key: &str| {
        core.get(key)
            .map(|v| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    if let Some(port) = get("port")
        .iter()
        .flat_map(|ports| ports.split(',').map(str::to_string).collect::<Vec<_>>())
        .find(|port| !port.is_empty() && python_int(port).is_none())
    {
        return Err(format!(
            "SQLAlchemy takes only integer ports, and {port:?} is not one"
        ));
    }
    let mut out = format!("{scheme}://");
    let (user, password) = (get("user"), get("password"));
    if let Some(user) = &user {
        out.push_str(&libpq::encode_component(user));
    }
    if let Some(password) = &password {
        out.push(':');
        out.push_str(&libpq::encode_component(password));
    }
    if user.is_some() || password.is_some() {
        out.push('@');
    }
    let (host, port) = (get("host"), get("port"));
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
    let netloc_host = host.as_deref().and_then(|h| {
        if h.chars().all(plain) {
            Some(h.to_string())
        } else if h.contains(':') && !h.contains(['/', '?', '[', ']', ',', '@']) {
            Some(format!("[{h}]"))
        } else {
            None
        }
    });
    let netloc_port = port
        .as_deref()
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0'));
    let mut query = Vec::new();
    match (&netloc_host, &host) {
        (Some(netloc), _) => out.push_str(netloc),
        (None, Some(hosts)) => query.push(("host".to_string(), hosts.clone())),
        (None, None) => {}
    }
    match (netloc_port, &port) {
        (Some(port), _) if netloc_host.is_some() || host.is_none() => {
            out.push(':');
            out.push_str(port);
        }
        // libpq lets one port serve every host; the dialect wants one per host.
        (_, Some(port)) => {
            let hosts = host.as_deref().map_or(1, |h| h.split(',').count());
            let ports = match port.contains(',') {
                true => port.clone(),
                false => vec![port.as_str(); hosts].join(","),
            };
            query.push(("port".to_string(), ports));
        }
        (_, None) => {}
    }
    if let Some(database) = get("dbname") {
        out.push('/');
        out.push_str(&libpq::encode_component(&database));
    }
    query.extend(parameters);
    for (i, (key, value)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&format!("{key}={}", query_encode(value)));
    }
    Ok(out)
}

/// A query value as `parse_qsl` decodes it: `/ , :` stay readable; `@` (which `make_url` would
/// take for the end of a user name), `& = + % #`, spaces and
/// everything beyond ASCII are percent-encoded.
fn query_encode(value: &str) -> String {
    value
        .split_inclusive(|c: char| !(c.is_ascii_alphanumeric() || "-._~/,:".contains(c)))
        .map(|piece| {
            let mut chars = piece.chars();
            match chars.next_back() {
                Some(last) if !(last.is_ascii_alphanumeric() || "-._~/,:".contains(last)) => {
                    format!(
                        "{}{}",
                        chars.as_str(),
                        libpq::encode_component(&last.to_string())
                    )
                }
                _ => piece.to_string(),
            }
        })
        .collect()
}

/// `jdbc:postgresql://host:port/db?user=...`; JDBC cannot reach a Unix socket without extra jars.
fn jdbc(info: &ConnInfo) -> Result<String, String> {
    // The URL alone: the converted form will run where this environment does not.
    let hosts = endpoints(info, &Environment::empty()).map_err(|e| e.to_string())?;
    let mut authority = Vec::new();
    for entry in &hosts {
        if entry.kind != EndpointKind::Tcp {
            return Err("JDBC connects over TCP only; this URL uses a Unix socket".into());
        }
        let host = entry
            .hostaddr
            .map_or_else(|| entry.host.clone(), |a| a.to_string());
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        match entry.port_origin {
            Origin::Default => authority.push(host),
            _ => authority.push(format!("{host}:{}", entry.port)),
        }
    }
    let database = info
        .get("dbname")
        .map(|d| libpq::encode_component(&d))
        .unwrap_or_default();
    let mut params = Vec::new();
    for (keyword, value) in info.iter() {
        let key = match keyword.name {
            "host" | "hostaddr" | "port" | "dbname" => continue,
            "application_name" => "ApplicationName",
            "connect_timeout" => "connectTimeout",
            "target_session_attrs" => "targetServerType",
            name => name,
        };
        let value = String::from_utf8_lossy(value);
        let value = match (key, value.as_ref()) {
            ("targetServerType", "read-write" | "primary") => "primary",
            ("targetServerType", "read-only" | "standby") => "secondary",
            ("targetServerType", "prefer-standby") => "preferSecondary",
            (_, other) => other,
        };
        params.push(format!("{key}={}", libpq::encode_component(value)));
    }
    let query = if params.is_empty() {
        String::new()
    } else {
        format!("?{}", params.join("&"))
    };
    Ok(format!(
        "jdbc:postgresql://{}/{database}{query}",
        authority.join(",")
    ))
}
