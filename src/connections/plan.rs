//! The connection budget on paper: what a deployment can open at worst (replicas × workers ×
//! (pool_size + max_overflow), a rolling deploy's surge, fixed holders), the limit the server
//! leaves the application's role, and the verdict. Pure: the server's figures come in as
//! [`ServerLimits`], read by `connections::server`.

use std::fmt;

/// One `--service NAME=REPLICASxWORKERS[:POOL+OVERFLOW]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    /// Also the application_name its connections are expected to carry.
    pub(crate) name: String,
    pub(crate) replicas: u32,
    pub(crate) workers: u32,
    pub(crate) pool_size: u32,
    /// `None`: SQLAlchemy's `max_overflow=-1`, no limit.
    pub(crate) max_overflow: Option<u32>,
    /// Whether pool and overflow came from the flag (else from the settings).
    pub(crate) pool_given: bool,
}

/// One `--extra NAME=N`: a fixed holder (a migration job, cron, an admin pool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extra {
    pub(crate) name: String,
    pub(crate) connections: u32,
}

/// The form `--service` takes, said in every refusal.
const SERVICE_FORM: &str = "NAME=REPLICASxWORKERS[:POOL+OVERFLOW], e.g. web=3x4 or web=3x4:5+10";

/// A bad `--service` or `--extra` value: what is wrong and the expected form, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadFlag(pub(crate) String);

impl fmt::Display for BadFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Service {
    /// Parses `NAME=REPLICASxWORKERS[:POOL+OVERFLOW]`; without the pool part, `pool` (the
    /// settings' DB_POOL_SIZE and DB_MAX_OVERFLOW) applies.
    pub(crate) fn parse(value: &str, pool: (u32, Option<u32>)) -> Result<Service, BadFlag> {
        let bad = |what: &str| {
            BadFlag(format!(
                "--service {value:?}: {what}; expected {SERVICE_FORM}"
            ))
        };
        let (name, shape) = value
            .split_once('=')
            .ok_or_else(|| bad("no = between the name and the shape"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad(
                "the name (the application_name its connections carry) is empty",
            ));
        }
        let (counts, sizes) = match shape.split_once(':') {
            Some((counts, sizes)) => (counts, Some(sizes)),
            None => (shape, None),
        };
        let (replicas, workers) = counts
            .split_once(['x', 'X'])
            .ok_or_else(|| bad("no x between replicas and workers"))?;
        let replicas =
            positive(replicas).ok_or_else(|| bad("replicas must be a whole number ≥ 1"))?;
        let workers = positive(workers).ok_or_else(|| bad("workers must be a whole number ≥ 1"))?;
        let (pool_size, max_overflow, pool_given) = match sizes {
            None => (pool.0, pool.1, false),
            Some(sizes) => {
                let (size, overflow) = sizes.split_once('+').ok_or_else(|| {
                    bad("the pool needs its overflow too (POOL+OVERFLOW, 5+0 for none)")
                })?;
                let size = size
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| bad("the pool size must be a whole number ≥ 0"))?;
                let overflow = match overflow.trim() {
                    "-1" => None,
                    text => Some(text.parse::<u32>().map_err(|_| {
                        bad("the overflow must be a whole number ≥ 0, or -1 for no limit")
                    })?),
                };
                (size, overflow, true)
            }
        };
        if pool_size == 0 && max_overflow == Some(0) {
            return Err(bad("a pool of 0+0 opens no connection"));
        }
        Ok(Service {
            name: name.to_string(),
            replicas,
            workers,
            pool_size,
            max_overflow,
            pool_given,
        })
    }

    /// pool_size + max_overflow; `None` when the overflow has no limit.
    pub(crate) fn per_worker(&self) -> Option<u64> {
        self.max_overflow
            .map(|overflow| u64::from(self.pool_size) + u64::from(overflow))
    }

    /// Worker processes at worst: its replicas plus the surge's, each with `workers` processes.
    pub(crate) fn processes(&self, surge: u32) -> u64 {
        (u64::from(self.replicas) + u64::from(surge)) * u64::from(self.workers)
    }

    /// The connections it can open at worst, surge included.
    pub(crate) fn worst_case(&self, surge: u32) -> Option<u64> {
        self.per_worker().map(|per| per * self.processes(surge))
    }
}

impl Extra {
    pub(crate) fn parse(value: &str) -> Result<Extra, BadFlag> {
        let bad = |what: &str| {
            BadFlag(format!(
                "--extra {value:?}: {what}; expected NAME=N, e.g. migrations=1"
            ))
        };
        let (name, count) = value
            .split_once('=')
            .ok_or_else(|| bad("no = between the name and the count"))?;
        if name.trim().is_empty() {
            return Err(bad("the name is empty"));
        }
        let connections = positive(count).ok_or_else(|| bad("N must be a whole number ≥ 1"))?;
        Ok(Extra {
            name: name.trim().to_string(),
            connections,
        })
    }
}

fn positive(text: &str) -> Option<u32> {
    text.trim().parse::<u32>().ok().filter(|n| *n >= 1)
}

/// What the server says about the limits of the role and database the URL connects as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerLimits {
    /// The major version (`server_version_num / 10000`).
    pub(crate) major: u32,
    pub(crate) max_connections: u64,
    pub(crate) superuser_reserved_connections: u64,
    /// PostgreSQL 16+.
    pub(crate) reserved_connections: Option<u64>,
    pub(crate) superuser: bool,
    /// Member of pg_use_reserved_connections (PostgreSQL 16+).
    pub(crate) uses_reserved: bool,
    /// The role's CONNECTION LIMIT; `None`: no limit.
    pub(crate) role_limit: Option<u64>,
    /// The database's CONNECTION LIMIT; `None`: no limit.
    pub(crate) database_limit: Option<u64>,
}

/// Client backends that belong to nobody in the plan (not dbtool's own session).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outsiders {
    /// On the whole server.
    pub(crate) server: u64,
    /// Of the URL's role.
    pub(crate) role: u64,
    /// In the URL's database.
    pub(crate) database: u64,
}

/// One term of the limit, for the table and JSON: what it is and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LimitTerm {
    pub(crate) name: &'static str,
    pub(crate) value: i64,
    pub(crate) note: String,
}

/// Which of the three limits binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    Server,
    Role,
    Database,
}

impl Binding {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Binding::Server => "server",
            Binding::Role => "role",
            Binding::Database => "database",
        }
    }
}

/// The connections the plan may open without SQLSTATE 53300, and how that was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limit {
    pub(crate) value: u64,
    pub(crate) binding: Binding,
    /// max_connections and what is taken off it, in order.
    pub(crate) server_terms: Vec<LimitTerm>,
    pub(crate) server: u64,
    /// rolconnlimit less the role's other sessions, when the role has a limit that applies.
    pub(crate) role: Option<u64>,
    /// datconnlimit less the database's other sessions, when it has one that applies.
    pub(crate) database: Option<u64>,
}

/// The limit for the connecting role, as PostgreSQL's `InitPostgres` checks it (53300 in each
/// case): free slots of max_connections beyond superuser_reserved_connections (unless
/// superuser) and reserved_connections (16+, unless pg_use_reserved_connections), then the
/// role's and the database's CONNECTION LIMIT (neither applies to superusers). Walsenders and
/// background workers have slots of their own and take none of these.
pub(crate) fn limit(server: &ServerLimits, outsiders: Outsiders) -> Limit {
    let mut terms = vec![LimitTerm {
        name: "max_connections",
        value: server.max_connections as i64,
        note: String::new(),
    }];
    if !server.superuser {
        terms.push(LimitTerm {
            name: "superuser_reserved_connections",
            value: -(server.superuser_reserved_connections as i64),
            note: "kept for superusers".into(),
        });
    }
    if let Some(reserved) = server.reserved_connections
        && !server.superuser
        && !server.uses_reserved
    {
        terms.push(LimitTerm {
            name: "reserved_connections",
            value: -(reserved as i64),
            note: "kept for pg_use_reserved_connections".into(),
        });
    }
    terms.push(LimitTerm {
        name: "other sessions",
        value: -(outsiders.server as i64),
        note: "client backends of no service or extra in the plan".into(),
    });
    let server_limit = terms.iter().map(|t| t.value).sum::<i64>().max(0) as u64;
    let applies = |limit: Option<u64>| limit.filter(|_| !server.superuser);
    let role = applies(server.role_limit).map(|l| l.saturating_sub(outsiders.role));
    let database = applies(server.database_limit).map(|l| l.saturating_sub(outsiders.database));
    let mut value = server_limit;
    let mut binding = Binding::Server;
    for (candidate, which) in [(role, Binding::Role), (database, Binding::Database)] {
        if let Some(candidate) = candidate
            && candidate < value
        {
            value = candidate;
            binding = which;
        }
    }
    Limit {
        value,
        binding,
        server_terms: terms,
        server: server_limit,
        role,
        database,
    }
}

/// Whether the plan fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Fits,
    Over,
    /// A service has max_overflow -1: it can open connections without limit.
    Unbounded,
    /// No --service: nothing to check.
    NoPlan,
    /// Behind a pooler whose limits could not be read.
    Unknown,
}

impl Verdict {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Verdict::Fits => "fits",
            Verdict::Over => "over",
            Verdict::Unbounded => "unbounded",
            Verdict::NoPlan => "no_plan",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The plan against the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Budget {
    pub(crate) services: Vec<Service>,
    pub(crate) extras: Vec<Extra>,
    pub(crate) surge: u32,
    /// `None` when a service's overflow has no limit.
    pub(crate) worst_case: Option<u64>,
    pub(crate) limit: Limit,
    pub(crate) verdict: Verdict,
    /// The largest pool_size + max_overflow every worker may have for the plan to fit (`None`
    /// without services, or when the extras alone do not fit).
    pub(crate) largest_per_worker: Option<u64>,
}

impl Budget {
    pub(crate) fn new(
        services: Vec<Service>,
        extras: Vec<Extra>,
        surge: u32,
        limit: Limit,
    ) -> Budget {
        let extra: u64 = extras.iter().map(|e| u64::from(e.connections)).sum();
        let worst_case = services
            .iter()
            .map(|s| s.worst_case(surge))
            .sum::<Option<u64>>()
            .map(|services| services + extra);
        let processes: u64 = services.iter().map(|s| s.processes(surge)).sum();
        let largest_per_worker =
            (processes > 0 && extra <= limit.value).then(|| (limit.value - extra) / processes);
        let verdict = match worst_case {
            _ if services.is_empty() => Verdict::NoPlan,
            None => Verdict::Unbounded,
            Some(worst) if worst > limit.value => Verdict::Over,
            Some(_) => Verdict::Fits,
        };
        Budget {
            services,
            extras,
            surge,
            worst_case,
            limit,
            verdict,
            largest_per_worker,
        }
    }

    /// A pool_size + max_overflow split of `per_worker` in the ratio of the settings' default
    /// (5 + 10), for the advice line.
    pub(crate) fn split(per_worker: u64) -> (u64, u64) {
        let pool = per_worker / 3;
        (
            pool.max(u64::from(per_worker > 0)),
            per_worker - pool.max(u64::from(per_worker > 0)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: (u32, Option<u32>) = (5, Some(10));

    fn ordinary(max: u64) -> ServerLimits {
        ServerLimits {
            major: 15,
            max_connections: max,
            superuser_reserved_connections: 3,
            ..ServerLimits::default()
        }
    }

    #[test]
    fn a_service_reads_replicas_workers_and_its_pool() {
        let web = Service::parse("web=3x4:5+10", DEFAULTS).unwrap();
        assert_eq!(
            (web.replicas, web.workers, web.pool_size, web.max_overflow),
            (3, 4, 5, Some(10))
        );
        assert_eq!(web.worst_case(0), Some(180));
        assert_eq!(web.worst_case(1), Some(240));
        let settings = Service::parse("worker=2x1", (2, Some(0))).unwrap();
        assert_eq!(settings.per_worker(), Some(2));
        assert!(!settings.pool_given);
        assert_eq!(
            Service::parse("w=1x1:5+-1", DEFAULTS).unwrap().per_worker(),
            None
        );
    }

    #[test]
    fn bad_services_say_the_expected_form_in_one_line() {
        for bad in [
            "web=3",
            "web=1x0",
            "web=0x1",
            "web=1x2:5",
            "=1x1",
            "web",
            "web=ax1",
            "web=1x1:0+0",
            "web=1x1:5+x",
        ] {
            let error = Service::parse(bad, DEFAULTS).unwrap_err().to_string();
            assert!(
                error.contains("expected NAME=REPLICASxWORKERS"),
                "{bad}: {error}"
            );
            assert_eq!(error.lines().count(), 1, "{error}");
        }
        for bad in ["cron", "cron=0", "=1", "cron=x"] {
            assert!(
                Extra::parse(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("expected NAME=N")
            );
        }
    }

    #[test]
    fn an_ordinary_role_loses_the_reserved_slots_and_the_other_sessions() {
        let limit = limit(
            &ordinary(30),
            Outsiders {
                server: 2,
                role: 0,
                database: 1,
            },
        );
        assert_eq!(limit.value, 25);
        assert_eq!(limit.binding, Binding::Server);
        let mut superuser = ordinary(30);
        superuser.superuser = true;
        superuser.role_limit = Some(1);
        assert_eq!(super::limit(&superuser, Outsiders::default()).value, 30);
    }

    #[test]
    fn reserved_connections_count_from_16_unless_the_role_may_use_them() {
        let mut server = ordinary(100);
        server.major = 16;
        server.reserved_connections = Some(5);
        assert_eq!(limit(&server, Outsiders::default()).value, 92);
        server.uses_reserved = true;
        assert_eq!(limit(&server, Outsiders::default()).value, 97);
    }

    #[test]
    fn the_role_or_database_limit_binds_when_lower() {
        let mut server = ordinary(100);
        server.role_limit = Some(20);
        server.database_limit = Some(30);
        let limit = limit(
            &server,
            Outsiders {
                server: 5,
                role: 4,
                database: 5,
            },
        );
        assert_eq!((limit.value, limit.binding), (16, Binding::Role));
    }

    #[test]
    fn the_verdict_and_the_largest_pool_that_fits() {
        let limit = limit(&ordinary(30), Outsiders::default());
        let three = Service::parse("web=1x3:5+10", DEFAULTS).unwrap();
        let budget = Budget::new(vec![three], vec![], 0, limit.clone());
        assert_eq!(
            (budget.worst_case, budget.verdict),
            (Some(45), Verdict::Over)
        );
        assert_eq!(budget.largest_per_worker, Some(9));
        let one = Service::parse("web=1x1:5+10", DEFAULTS).unwrap();
        let extras = vec![Extra::parse("migrations=2").unwrap()];
        let budget = Budget::new(vec![one.clone()], extras, 0, limit.clone());
        assert_eq!(
            (budget.worst_case, budget.verdict),
            (Some(17), Verdict::Fits)
        );
        let budget = Budget::new(vec![one], vec![], 1, limit.clone());
        assert_eq!(budget.worst_case, Some(30));
        assert_eq!(budget.verdict, Verdict::Over);
        let unbounded = Service::parse("web=1x1:5+-1", DEFAULTS).unwrap();
        assert_eq!(
            Budget::new(vec![unbounded], vec![], 0, limit.clone()).verdict,
            Verdict::Unbounded
        );
        assert_eq!(
            Budget::new(vec![], vec![], 0, limit).verdict,
            Verdict::NoPlan
        );
        assert_eq!(Budget::split(9), (3, 6));
        assert_eq!(Budget::split(1), (1, 0));
    }
}
