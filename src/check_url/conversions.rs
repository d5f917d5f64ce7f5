//! The same connection written for other clients: the plain libpq URI, libpq's keyword/value
//! string, SQLAlchemy with asyncpg or psycopg, and JDBC. The password is `***` unless asked for.

use crate::conn::target::{EndpointKind, NO_ENVIRONMENT, Origin, endpoints};
use crate::secret::MASK;
use crate::url::dialect;
use crate::url::libpq::{self, ConnInfo};
use crate::url::sqlalchemy::{Driver, Scheme};

/// One form of the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Stable key, e.g. `libpq_uri`.
    pub key: &'static str,
    pub label: &'static str,
    /// `None` when the form cannot express this connection; `note` says why.
    pub value: Option<String>,
    pub note: Option<String>,
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
        value: Some(finish(libpq_uri.replacen(
            "postgresql://",
            "postgresql+psycopg://",
            1,
        ))),
        note: None,
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
            "connect_timeout" => extra.push(("timeout".into(), value_text)),
            name if accepted.contains(&name) => extra.push((name.into(), value_text)),
            name => dropped.push(name),
        }
    }
    let mut url = libpq::render_uri(&core).replacen("postgresql://", "postgresql+asyncpg://", 1);
    if let Some(hosts) = core.get("host").filter(|h| h.contains(',')) {
        return Err(format!(
            "several hosts ({hosts}) must be written ?host=h1:p1&host=h2:p2 for SQLAlchemy"
        ));
    }
    for (i, (key, value)) in extra.iter().enumerate() {
        url.push(if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        });
        url.push_str(&format!("{key}={}", libpq::encode_component(value)));
    }
    if !dropped.is_empty() {
        return Ok(format!(
            "{url}  (asyncpg has no {}; pass them through connect_args)",
            dropped.join(", ")
        ));
    }
    Ok(url)
}

/// `jdbc:postgresql://host:port/db?user=...`; JDBC cannot reach a Unix socket without extra jars.
fn jdbc(info: &ConnInfo) -> Result<String, String> {
    // The URL alone: the converted form will run where this environment does not.
    let hosts = endpoints(info, NO_ENVIRONMENT).map_err(|e| e.to_string())?;
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
