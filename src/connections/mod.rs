//! `dbtool connections`: the connection budget, planned and observed. The plan (`plan`): what
//! the deployment can open at worst against the limit the URL's role really has. Live
//! (`live`): the sessions open now by application_name. `--watch` (`watch`): what each
//! application used over a while. Behind PgBouncer (`bouncer`): the plan against the pooler's
//! limits, and the pooler's server connections against the server.
//!
//! Read-only: every query runs in a READ ONLY transaction; the pooler probes are ping's.

mod bouncer;
pub(crate) mod live;
pub(crate) mod plan;
pub(crate) mod server;
pub(crate) mod watch;

use std::time::Duration;

use anyhow::Result;

use crate::conn::connect;
use crate::conn::plan::{self as conn_plan, ConnectionPlan};
use crate::driver::{DriverKind, DriverModel, DriverOptions};
use crate::environment::Environment;
use crate::exit::Outcome;
use crate::finding::{Code, Finding, Level};
use crate::pooler::{self, Pooler};
use crate::progress::Progress;

use bouncer::{BouncerLimits, BouncerPool};
use live::Live;
use plan::{Budget, Extra, Outsiders, Service, Verdict};
use server::Identity;
use watch::Watch;

/// The application_name dbtool's own session carries.
pub(crate) const APPLICATION_NAME: &str = "dbtool-connections";

#[derive(Debug, Clone)]
pub(crate) struct ConnectionsConfig {
    pub(crate) url: String,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) services: Vec<Service>,
    pub(crate) extras: Vec<Extra>,
    pub(crate) surge: u32,
    pub(crate) watch: Option<Duration>,
}

/// What the pooler in front of the server allows, as far as it could be read.
#[derive(Debug, Clone)]
pub(crate) struct BehindPooler {
    pub(crate) pooler: Pooler,
    /// `None` when the admin console could not be read; `unreadable` says why.
    pub(crate) limits: Option<BouncerLimits>,
    pub(crate) pools: Vec<BouncerPool>,
    pub(crate) unreadable: Option<String>,
    /// The most server connections the pooler opens for the URL's database and user.
    pub(crate) server_connections: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct ConnectionsReport {
    pub(crate) target: String,
    pub(crate) identity: Identity,
    pub(crate) budget: Budget,
    pub(crate) live: Live,
    pub(crate) watch: Option<Watch>,
    pub(crate) pooler: Option<BehindPooler>,
    pub(crate) findings: Vec<Finding>,
    /// The URL's driver, for the application_name advice.
    pub(crate) driver: Option<DriverKind>,
}

impl ConnectionsReport {
    /// Exit 1 when the plan does not fit (an error finding).
    pub(crate) fn outcome(&self) -> Outcome {
        if self.findings.iter().any(|f| f.level() == Level::Error) {
            Outcome::Problems
        } else {
            Outcome::Ok
        }
    }

    /// What a service's processes may open at most (no surge): the capacity `--watch` compares
    /// its peak with.
    pub(crate) fn capacity(&self, application_name: &str) -> Option<(&Service, u64)> {
        let service = self
            .budget
            .services
            .iter()
            .find(|s| s.name == application_name)?;
        Some((service, service.worst_case(0)?))
    }
}

/// Connects, reads the limits and the sessions (and samples them with `--watch`), probes for a
/// pooler, and weighs the plan.
pub(crate) async fn connections(
    config: &ConnectionsConfig,
    env: &Environment,
    progress: &Progress,
) -> Result<ConnectionsReport> {
    let options = conn_plan::Options {
        application_name: APPLICATION_NAME,
        connect_timeout: config.connect_timeout,
        libpq_major: 18,
    };
    let target = ConnectionPlan::new(&config.url, env, &options)?;
    if let Some(warning) = &target.passfile_warning {
        progress.warn(warning);
    }
    let client = connect::connect(&target).await?;
    let reading = |error| connect::query_failure(error, &target, "reading pg_stat_activity");
    let identity = server::identity(&client).await.map_err(reading)?;
    let backends = server::activity(&client).await.map_err(reading)?;
    let driver = DriverKind::of(target.scheme.effective_driver());
    let pooler = behind_pooler(&target, driver).await;

    let owned = |name: &str| {
        config.services.iter().any(|s| s.name == name)
            || config.extras.iter().any(|e| e.name == name)
    };
    let budget = Budget::new(
        config.services.clone(),
        config.extras.clone(),
        config.surge,
        plan::limit(&identity.limits, outsiders(&backends, &identity, owned)),
    );
    let live = live::summarize(&backends, owned);
    let watch = match config.watch {
        Some(duration) => {
            let spinner = progress.spinner(&format!(
                "sampling pg_stat_activity every {} ms for {:.1} s",
                watch::INTERVAL.as_millis(),
                duration.as_secs_f64()
            ));
            let watched = watch::watch(&client, duration).await.map_err(reading)?;
            drop(spinner);
            Some(watched)
        }
        None => None,
    };
    let mut report = ConnectionsReport {
        target: target.describe(),
        identity,
        budget,
        live,
        watch,
        pooler,
        findings: Vec::new(),
        driver,
    };
    report.findings = findings(&mut report);
    Ok(report)
}

/// Sessions that belong to no service or extra of the plan, dbtool's own left out: on the
/// server, of the URL's role, in the URL's database. Hidden sessions count (their
/// application_name is visible; an autovacuum worker among them makes the limit look lower, never
/// higher).
fn outsiders(
    backends: &[server::Backend],
    identity: &Identity,
    owned: impl Fn(&str) -> bool,
) -> Outsiders {
    let mut outsiders = Outsiders::default();
    for backend in backends
        .iter()
        .filter(|b| !b.own && !owned(&b.application_name))
    {
        outsiders.server += 1;
        outsiders.role += u64::from(backend.user == identity.user);
        outsiders.database += u64::from(backend.database == identity.database);
    }
    outsiders
}

/// The pooler in front of the server (ping's probes) and, for PgBouncer, what its admin console
/// says.
async fn behind_pooler(
    target: &ConnectionPlan,
    driver: Option<DriverKind>,
) -> Option<BehindPooler> {
    let model = DriverModel::new(
        driver.unwrap_or(DriverKind::Raw),
        DriverOptions::default(),
        0,
        APPLICATION_NAME.into(),
    );
    let probe = pooler::probe(target, &model);
    let found = tokio::time::timeout(target.connect_timeout * 4, probe)
        .await
        .ok()
        .flatten()?;
    Some(bouncer::read(target, found).await)
}

/// The verdict and what else the on-call engineer must know, as findings.
fn findings(report: &mut ConnectionsReport) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(pooler) = &report.pooler {
        let (behind, verdict) =
            bouncer::findings(pooler, &report.budget, report.budget.limit.value);
        findings.extend(behind);
        report.budget.verdict = verdict;
    }
    let budget = &report.budget;
    let limit = &budget.limit;
    let fits = budget
        .largest_per_worker
        .map(|per| {
            let (pool, overflow) = Budget::split(per);
            format!(
                "; at most {per} per worker fits (pool_size + max_overflow, e.g. {pool} + {overflow})"
            )
        })
        .unwrap_or_default();
    match (budget.verdict, &report.pooler) {
        (Verdict::Over, None) => findings.push(Finding::new(
            Code::ConnectionBudgetExceeded,
            format!(
                "the plan can open {} connections but role {} may open {} ({} limit){fits}; or put PgBouncer in front",
                budget.worst_case.unwrap_or(0),
                report.identity.user,
                limit.value,
                limit.binding.key(),
            ),
        )),
        (Verdict::Unbounded, _) => findings.push(Finding::new(
            Code::ConnectionBudgetExceeded,
            format!(
                "a service has max_overflow -1 (no limit): its workers can open connections until the server refuses them with 53300{fits}"
            ),
        )),
        _ => {}
    }
    if report.live.unattributed > 0 {
        findings.push(Finding::new(
            Code::UnattributedConnections,
            format!(
                "{} session(s) have no application_name, so no plan or person can own them; {}",
                report.live.unattributed,
                application_name_hint(report.driver)
            ),
        ));
    }
    if !report.identity.sees_all {
        findings.push(Finding::new(
            Code::ActivityHidden,
            format!(
                "role {} has neither superuser nor pg_read_all_stats: other roles' sessions show no state, client address or times ({} such now); \
                 counts by application_name stay exact. GRANT pg_read_all_stats TO {} for the full view",
                report.identity.user, report.live.hidden, report.identity.user
            ),
        ));
    }
    findings
}

/// How the URL's driver sets application_name.
pub(crate) fn application_name_hint(driver: Option<DriverKind>) -> &'static str {
    match driver {
        Some(DriverKind::Asyncpg) => {
            "with asyncpg set it in connect_args={\"server_settings\": {\"application_name\": \"web\"}}"
        }
        _ => {
            "with libpq drivers (psycopg, psycopg2) add ?application_name=web to the URL or connect_args={\"application_name\": \"web\"}"
        }
    }
}
