//! The connection target, resolved once: a parsed URL's keywords, then the PG* environment, then
//! libpq's defaults, into typed values — the endpoints libpq will try (TCP, Unix socket or Linux
//! abstract socket, each with its port), `sslmode` and `target_session_attrs` as enums, the user
//! and database, each with where it came from ([`Resolved::read`]); for asyncpg, the same values
//! from its own resolution ([`Resolved::asyncpg`]). Which reading it is built from (libpq's, the
//! conninfo a libpq driver receives, asyncpg's) is chosen once, by `url::connecting_url`; the
//! connection plan (`conn::plan`) is built on it: check-url explains the plan's reading, ping
//! walks its endpoints, lint-constraints and pool-bench connect with it.
//!
//! The rules are libpq's (`fe-connect.c`): `conninfo_add_defaults()` fills a keyword from its
//! environment variable only when the string did not set it at all; `connectOptions2()` splits
//! `host`, `hostaddr` and `port` on commas, counts the hosts from `hostaddr` first, then `host`,
//! lets one port serve every host, and gives an empty entry the default (the socket directory,
//! port 5432); `is_unixsock_path()` makes `/dir` a socket directory and `@name` an abstract
//! socket.

use std::fmt;
use std::net::IpAddr;

use crate::conn::{DEFAULT_PORT, DEFAULT_SOCKET_DIR};
use crate::environment::Environment;
use crate::url::dialect::{AsyncpgAddr, AsyncpgConnection};
use crate::url::libpq::ConnInfo;

pub use crate::url::Origin;

/// How libpq reaches one host (`pg_conn_host_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// TCP: to a host name through DNS, or to `hostaddr` without DNS.
    Tcp,
    /// A Unix-domain socket file in a directory: `DIR/.s.PGSQL.PORT`.
    Unix,
    /// A Linux abstract socket, `@NAME`: `\0NAME/.s.PGSQL.PORT` (libpq 14+).
    Abstract,
}

impl EndpointKind {
    pub(crate) fn key(self) -> &'static str {
        match self {
            EndpointKind::Tcp => "tcp",
            EndpointKind::Unix => "unix",
            EndpointKind::Abstract => "abstract",
        }
    }
}

/// One host libpq will try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub kind: EndpointKind,
    /// The host name, the socket directory, or `@name`; empty for a `hostaddr` without a name.
    pub host: String,
    /// A numeric address that replaces DNS (`hostaddr`).
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
    pub host_origin: Origin,
    pub port_origin: Origin,
}

impl Endpoint {
    /// The name the server is known by: the host, else its `hostaddr`.
    pub fn name(&self) -> String {
        match (&self.hostaddr, self.host.is_empty()) {
            (Some(addr), true) => addr.to_string(),
            _ => self.host.clone(),
        }
    }

    /// `host:port` or `dir:port`, as pg_isready shows it.
    pub(crate) fn describe(&self) -> String {
        format!("{}:{}", self.name(), self.port)
    }

    /// The socket file for Unix and abstract sockets (`@name/.s.PGSQL.5432` for the latter).
    pub(crate) fn socket_path(&self) -> Option<String> {
        match self.kind {
            EndpointKind::Tcp => None,
            EndpointKind::Unix | EndpointKind::Abstract => Some(format!(
                "{}/.s.PGSQL.{}",
                self.host.trim_end_matches('/'),
                self.port
            )),
        }
    }

    /// A socket, localhost or a loopback address: this machine.
    pub(crate) fn is_local(&self) -> bool {
        self.kind != EndpointKind::Tcp
            || self.host.eq_ignore_ascii_case("localhost")
            || self.hostaddr.is_some_and(|ip| ip.is_loopback())
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// `target_session_attrs`: which server of several libpq settles for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionAttrs {
    Any,
    ReadWrite,
    ReadOnly,
    Primary,
    Standby,
    PreferStandby,
}

impl SessionAttrs {
    pub(crate) const ALL: [SessionAttrs; 6] = [
        SessionAttrs::Any,
        SessionAttrs::ReadWrite,
        SessionAttrs::ReadOnly,
        SessionAttrs::Primary,
        SessionAttrs::Standby,
        SessionAttrs::PreferStandby,
    ];

    /// The keyword value, e.g. `read-write`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SessionAttrs::Any => "any",
            SessionAttrs::ReadWrite => "read-write",
            SessionAttrs::ReadOnly => "read-only",
            SessionAttrs::Primary => "primary",
            SessionAttrs::Standby => "standby",
            SessionAttrs::PreferStandby => "prefer-standby",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<SessionAttrs, String> {
        SessionAttrs::ALL
            .into_iter()
            .find(|attrs| attrs.name() == text)
            .ok_or_else(|| {
                format!(
                    "invalid target_session_attrs value {text:?}: use {}",
                    names(SessionAttrs::ALL.map(SessionAttrs::name))
                )
            })
    }

    /// Whether a server with these properties satisfies the attribute (libpq's checks after
    /// connecting: `SHOW transaction_read_only`, `pg_is_in_recovery()`).
    pub(crate) fn accepts(self, read_only: bool, in_recovery: bool) -> bool {
        match self {
            SessionAttrs::Any | SessionAttrs::PreferStandby => true,
            SessionAttrs::ReadWrite => !read_only,
            SessionAttrs::ReadOnly => read_only,
            SessionAttrs::Primary => !in_recovery,
            SessionAttrs::Standby => in_recovery,
        }
    }

    /// The passes libpq makes over the hosts: `prefer-standby` first looks for a standby, then
    /// takes any server.
    pub(crate) fn passes(self) -> &'static [SessionAttrs] {
        match self {
            SessionAttrs::PreferStandby => &[SessionAttrs::Standby, SessionAttrs::Any],
            SessionAttrs::Any => &[SessionAttrs::Any],
            SessionAttrs::ReadWrite => &[SessionAttrs::ReadWrite],
            SessionAttrs::ReadOnly => &[SessionAttrs::ReadOnly],
            SessionAttrs::Primary => &[SessionAttrs::Primary],
            SessionAttrs::Standby => &[SessionAttrs::Standby],
        }
    }
}

impl fmt::Display for SessionAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `a, b, c or d`.
pub(crate) fn names<const N: usize>(names: [&str; N]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// Why libpq cannot lay out the hosts; it fails at connect time with these words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointError {
    /// The host, hostaddr and port lists do not line up.
    Mismatch(String),
    /// A port that is not a number from 1 to 65535.
    InvalidPort(String),
    /// A hostaddr that is not a numeric address.
    InvalidHostaddr(String),
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::Mismatch(message) => f.write_str(message),
            EndpointError::InvalidPort(port) => {
                write!(f, "invalid port number {port:?}: give a number 1-65535")
            }
            EndpointError::InvalidHostaddr(addr) => write!(
                f,
                "could not parse network address {addr:?}: give a numeric IP address"
            ),
        }
    }
}

/// libpq's sslmode values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub(crate) const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    /// The mode a keyword value names, or libpq's complaint.
    pub(crate) fn parse_text(text: &str) -> std::result::Result<SslMode, String> {
        SslMode::ALL
            .into_iter()
            .find(|mode| mode.name() == text)
            .ok_or_else(|| {
                format!(
                    "invalid sslmode value {text:?}: use {}",
                    names(SslMode::ALL.map(SslMode::name))
                )
            })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A value with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sourced<T> {
    pub(crate) value: T,
    pub(crate) origin: Origin,
}

/// The target as libpq will read it. Each part that can be invalid carries libpq's complaint,
/// so check-url can explain the rest of a URL that will fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) endpoints: Result<Vec<Endpoint>, EndpointError>,
    pub(crate) user: Sourced<String>,
    pub(crate) dbname: Sourced<String>,
    pub(crate) sslmode: Result<Sourced<SslMode>, String>,
    pub(crate) session_attrs: Result<SessionAttrs, String>,
}

impl Resolved {
    pub(crate) fn read(info: &ConnInfo, env: &Environment) -> Resolved {
        let user = match keyword(info, env, "user", "PGUSER") {
            Some((value, origin)) if !value.is_empty() => Sourced { value, origin },
            _ => Sourced {
                value: env.os_user(),
                origin: Origin::Default,
            },
        };
        let dbname = match keyword(info, env, "dbname", "PGDATABASE") {
            Some((value, origin)) if !value.is_empty() => Sourced { value, origin },
            _ => Sourced {
                value: user.value.clone(),
                origin: Origin::Default,
            },
        };
        let sslmode = match keyword(info, env, "sslmode", "PGSSLMODE") {
            Some((text, origin)) => {
                SslMode::parse_text(&text).map(|value| Sourced { value, origin })
            }
            None => Ok(Sourced {
                value: SslMode::Prefer,
                origin: Origin::Default,
            }),
        };
        let session_attrs = match keyword(info, env, "target_session_attrs", "PGTARGETSESSIONATTRS")
        {
            Some((text, _)) => SessionAttrs::parse(&text),
            None => Ok(SessionAttrs::Any),
        };
        Resolved {
            endpoints: endpoints(info, env),
            user,
            dbname,
            sslmode,
            session_attrs,
        }
    }
}

impl Resolved {
    /// asyncpg's resolution ([`crate::url::dialect::asyncpg_connection`]) in the same terms: its
    /// addresses in its order (a socket file as its directory and port; a host starting with `@`
    /// is a TCP host to asyncpg), user, database, TLS mode and `target_session_attrs`, each with
    /// where asyncpg took it from.
    pub(crate) fn asyncpg(connection: &AsyncpgConnection) -> Resolved {
        let origins = connection.origins;
        let endpoint = |kind, host: &str, port: &str| -> Result<Endpoint, EndpointError> {
            Ok(Endpoint {
                kind,
                host: host.to_string(),
                hostaddr: None,
                port: parse_port(port)?,
                host_origin: origins.host,
                port_origin: origins.port,
            })
        };
        let endpoints = connection
            .addrs
            .iter()
            .map(|addr| match addr {
                AsyncpgAddr::Socket(path) => match path.rsplit_once("/.s.PGSQL.") {
                    Some((dir, port)) => endpoint(EndpointKind::Unix, dir, port),
                    None => Err(EndpointError::InvalidPort(path.clone())),
                },
                AsyncpgAddr::Tcp(host, port) => {
                    endpoint(EndpointKind::Tcp, host, &port.to_string())
                }
            })
            .collect();
        Resolved {
            endpoints,
            user: Sourced {
                value: connection.user.py_str(),
                origin: origins.user,
            },
            dbname: Sourced {
                value: connection.database.py_str(),
                origin: origins.database,
            },
            sslmode: SslMode::parse_text(connection.sslmode).map(|value| Sourced {
                value,
                origin: origins.sslmode,
            }),
            session_attrs: SessionAttrs::parse(&connection.target_session_attrs),
        }
    }
}

/// A keyword's value and origin: the string's, else the environment's, else none. As libpq's
/// `conninfo_add_defaults()`, the environment fills only what the string did not set at all.
fn keyword(
    info: &ConnInfo,
    env: &Environment,
    name: &str,
    variable: &'static str,
) -> Option<(String, Origin)> {
    match info.get(name) {
        Some(value) => Some((value.into_owned(), Origin::Url)),
        None => env
            .libpq(variable)
            .map(|value| (value, Origin::Env(variable))),
    }
}

/// The hosts libpq will try, in order, as `connectOptions2()` lays them out.
pub fn endpoints(info: &ConnInfo, env: &Environment) -> Result<Vec<Endpoint>, EndpointError> {
    let nonempty =
        |name, variable| keyword(info, env, name, variable).filter(|(v, _)| !v.is_empty());
    let hosts = nonempty("host", "PGHOST");
    let hostaddrs = nonempty("hostaddr", "PGHOSTADDR");
    let ports = nonempty("port", "PGPORT");
    let split = |list: &Option<(String, Origin)>| -> Option<(Vec<String>, Origin)> {
        list.as_ref()
            .map(|(text, origin)| (text.split(',').map(str::to_string).collect(), *origin))
    };
    let (hosts, hostaddrs, ports) = (split(&hosts), split(&hostaddrs), split(&ports));
    let count = match (&hostaddrs, &hosts) {
        (Some((addrs, _)), _) => addrs.len(),
        (None, Some((names, _))) => names.len(),
        (None, None) => 1,
    };
    if let Some((names, _)) = &hosts
        && names.len() != count
    {
        return Err(EndpointError::Mismatch(format!(
            "could not match {} host names to {count} hostaddr values",
            names.len()
        )));
    }
    if let Some((numbers, _)) = &ports
        && numbers.len() != 1
        && numbers.len() != count
    {
        return Err(EndpointError::Mismatch(format!(
            "could not match {} port numbers to {count} hosts",
            numbers.len()
        )));
    }
    let entry = |list: &Option<(Vec<String>, Origin)>, i: usize| {
        list.as_ref().and_then(|(items, origin)| {
            let item = if items.len() == 1 {
                &items[0]
            } else {
                &items[i]
            };
            Some((item.clone(), *origin)).filter(|(item, _)| !item.is_empty())
        })
    };
    (0..count)
        .map(|i| {
            let hostaddr = match &hostaddrs {
                Some((addrs, _)) => Some(addrs[i].as_str()).filter(|a| !a.is_empty()),
                None => None,
            }
            .map(|addr| {
                addr.parse::<IpAddr>()
                    .map_err(|_| EndpointError::InvalidHostaddr(addr.to_string()))
            })
            .transpose()?;
            let name = hosts
                .as_ref()
                .map(|(names, origin)| (names[i].clone(), *origin))
                .filter(|(name, _)| !name.is_empty());
            let (kind, host, host_origin) = match (hostaddr, name) {
                (Some(_), name) => {
                    let (host, origin) = name.unwrap_or((String::new(), Origin::Url));
                    (EndpointKind::Tcp, host, origin)
                }
                (None, Some((host, origin))) if host.starts_with('/') => {
                    (EndpointKind::Unix, host, origin)
                }
                (None, Some((host, origin))) if host.starts_with('@') => {
                    (EndpointKind::Abstract, host, origin)
                }
                (None, Some((host, origin))) => (EndpointKind::Tcp, host, origin),
                (None, None) => (
                    EndpointKind::Unix,
                    DEFAULT_SOCKET_DIR.to_string(),
                    Origin::Default,
                ),
            };
            let host_origin = match (&hostaddrs, hostaddr) {
                (Some((_, origin)), Some(_)) if host.is_empty() => *origin,
                _ => host_origin,
            };
            let (port_text, port_origin) =
                entry(&ports, i).unwrap_or((DEFAULT_PORT.to_string(), Origin::Default));
            Ok(Endpoint {
                kind,
                host,
                hostaddr,
                port: parse_port(&port_text)?,
                host_origin,
                port_origin,
            })
        })
        .collect()
}

/// A port as libpq reads it: an integer from 1 to 65535.
fn parse_port(text: &str) -> Result<u16, EndpointError> {
    parse_libpq_int(text)
        .and_then(|port| u16::try_from(port).ok())
        .filter(|port| *port > 0)
        .ok_or_else(|| EndpointError::InvalidPort(text.to_string()))
}

/// libpq's `parse_int_param()`: optional surrounding whitespace around a base-10 `int`.
pub fn parse_libpq_int(text: &str) -> Option<i32> {
    text.trim_matches(|c: char| c.is_ascii_whitespace())
        .parse::<i32>()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::libpq::parse_uri;

    fn read(uri: &str, env: &[(&str, &str)]) -> Resolved {
        let info = parse_uri(uri).unwrap();
        Resolved::read(&info, &Environment::injected(env.iter().copied()))
    }

    fn shown(uri: &str, env: &[(&str, &str)]) -> Vec<String> {
        match read(uri, env).endpoints {
            Ok(endpoints) => endpoints
                .iter()
                .map(|e| format!("{} {}", e.kind.key(), e.describe()))
                .collect(),
            Err(error) => vec![error.to_string()],
        }
    }

    #[test]
    fn hosts_ports_and_sockets_follow_libpq() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            ("postgresql://h/db", &[], &["tcp h:5432"]),
            ("postgresql:///db", &[], &["unix /var/run/postgresql:5432"]),
            (
                "postgresql:///db",
                &[("PGHOST", "/tmp")],
                &["unix /tmp:5432"],
            ),
            ("postgresql:///db?host=@pg", &[], &["abstract @pg:5432"]),
            ("postgresql://a,b:6/db", &[], &["tcp a:5432", "tcp b:6"]),
            ("postgresql://a:5,b:6/db", &[], &["tcp a:5", "tcp b:6"]),
            (
                "postgresql://a,,c/db",
                &[("PGHOST", "x")],
                &["tcp a:5432", "unix /var/run/postgresql:5432", "tcp c:5432"],
            ),
            (
                "postgresql:///db",
                &[("PGHOST", "a,@s"), ("PGPORT", "7")],
                &["tcp a:7", "abstract @s:7"],
            ),
            (
                "postgresql:///db?hostaddr=127.0.0.1",
                &[],
                &["tcp 127.0.0.1:5432"],
            ),
            ("postgresql://n/db?hostaddr=::1", &[], &["tcp n:5432"]),
            (
                "postgresql://a,b,c/db?port=1,2",
                &[],
                &["could not match 2 port numbers to 3 hosts"],
            ),
            (
                "postgresql://a,b/db?hostaddr=1.1.1.1",
                &[],
                &["could not match 2 host names to 1 hostaddr values"],
            ),
            (
                "postgresql://h:0/db",
                &[],
                &["invalid port number \"0\": give a number 1-65535"],
            ),
        ];
        for (uri, env, expected) in cases {
            assert_eq!(shown(uri, env), *expected, "{uri} {env:?}");
        }
    }

    #[test]
    fn the_environment_fills_only_what_the_url_leaves_out() {
        let env = [
            ("PGUSER", "envuser"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
        ];
        let resolved = read("postgresql://u@h/db?sslmode=disable", &env);
        assert_eq!(resolved.user.origin, Origin::Url);
        assert_eq!(resolved.dbname.value, "db");
        assert_eq!(resolved.sslmode.unwrap().value, SslMode::Disable);
        let resolved = read("postgresql://h", &env);
        assert_eq!(
            resolved.user,
            Sourced {
                value: "envuser".into(),
                origin: Origin::Env("PGUSER")
            }
        );
        assert_eq!(resolved.dbname.origin, Origin::Env("PGDATABASE"));
        assert_eq!(resolved.sslmode.unwrap().origin, Origin::Env("PGSSLMODE"));
        let resolved = read("postgresql://h", &[]);
        assert_eq!(resolved.dbname.value, resolved.user.value);
        assert_eq!(resolved.sslmode.unwrap().value, SslMode::Prefer);
        // The default user comes from the environment given, not the process's.
        let resolved = read("postgresql://h", &[("USER", "injected-user")]);
        assert_eq!(
            (resolved.user.value.as_str(), resolved.dbname.value.as_str()),
            ("injected-user", "injected-user")
        );
        assert_eq!(resolved.user.origin, Origin::Default);
    }

    #[test]
    fn session_attrs_are_an_enum_with_libpqs_passes() {
        for attrs in SessionAttrs::ALL {
            assert_eq!(SessionAttrs::parse(attrs.name()), Ok(attrs));
        }
        assert!(
            SessionAttrs::parse("master")
                .unwrap_err()
                .contains("prefer-standby")
        );
        assert_eq!(
            SessionAttrs::PreferStandby.passes(),
            [SessionAttrs::Standby, SessionAttrs::Any]
        );
        assert!(SessionAttrs::Standby.accepts(true, true));
        assert!(!SessionAttrs::ReadWrite.accepts(true, false));
        let resolved = read("postgresql://h/db?target_session_attrs=bogus", &[]);
        assert!(resolved.session_attrs.is_err());
    }
}
