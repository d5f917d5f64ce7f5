//! asyncpg's hosts and ports: the argument, else `PGHOST` read by `_parse_hostlist` (ports inside
//! it included), else its socket directories and `localhost`; the ports from the argument, else
//! `PGPORT`, else 5432; one port per host (`_validate_port_spec`).

use super::{AsyncpgAddr, truthy};
use crate::environment::Environment;
use crate::url::Origin;
use crate::url::dialect::{Kwargs, PyValue};
use crate::url::sqlalchemy::{python_int, python_repr};

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
fn env_ports(env: &Environment) -> Result<Ports, String> {
    match env.asyncpg("PGPORT").filter(|p| !p.is_empty()) {
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
    env: &Environment,
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

/// The hosts asyncpg tries, the port of each, and where each list came from.
pub(super) struct Hosts {
    pub(super) hosts: Vec<String>,
    pub(super) ports: Vec<i64>,
    pub(super) origins: (Origin, Origin),
}

impl Hosts {
    /// The addresses asyncpg tries: a socket file in a directory (unless the host names the file
    /// itself), or a TCP host and port.
    pub(super) fn addresses(&self) -> Vec<AsyncpgAddr> {
        self.hosts
            .iter()
            .zip(&self.ports)
            .map(|(host, port)| {
                if !host.starts_with('/') {
                    AsyncpgAddr::Tcp(host.clone(), *port)
                } else if host.contains(".s.PGSQL.") {
                    AsyncpgAddr::Socket(host.clone())
                } else {
                    AsyncpgAddr::Socket(format!("{}/.s.PGSQL.{port}", host.trim_end_matches('/')))
                }
            })
            .collect()
    }
}

/// The hosts and the port of each, with where they came from: the arguments, else `PGHOST`
/// (and the ports it names), else asyncpg's socket directories and `localhost`; the ports from
/// the argument, else `PGPORT`, else 5432.
pub(super) fn hosts_and_ports(kwargs: &Kwargs, env: &Environment) -> Result<Hosts, String> {
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
        } else if env.asyncpg("PGPORT").is_some_and(|p| !p.is_empty()) {
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
    if let Some(spec) = env.asyncpg("PGHOST").filter(|h| !h.is_empty()) {
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
