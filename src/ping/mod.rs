//! `dbtool ping`: a staged connection pre-check — resolve, connect, tls, auth, pre-ping, server —
//! that says where and why a connection fails, and what to do about it.

mod facts;
pub(crate) mod idle;
pub(crate) mod idle_advice;

use std::future::Future;
use std::time::{Duration, Instant};

use crate::conn::connect;
use crate::conn::plan::{self, ConnectionPlan};
use crate::conn::target::{Endpoint, SessionAttrs};
use crate::conn::tls::{ClientRules, SslMode};
use crate::driver::{DriverKind, DriverModel, DriverOptions};
use crate::environment::Environment;
use crate::exit::Outcome;
use crate::finding::{Code, Finding, Level};
use crate::interrupt::Interrupt;
use crate::pooler::{self, Pooler};
use crate::progress::Progress;

use crate::wire::{Session, WireError};

use crate::conn::diagnosis;
pub(crate) use crate::conn::transport::Stage;
use crate::conn::transport::{self, Ended, Io, StageError, StageFailure, elapsed_ms};
pub(crate) use facts::ServerFacts;
pub(crate) use idle::IdleReport;

/// The pool settings ping checks capacity against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSizing {
    pub(crate) pool_size: u32,
    /// `None`: no overflow limit.
    pub(crate) max_overflow: Option<u32>,
    /// `None`: never recycled.
    pub(crate) pool_recycle: Option<Duration>,
    pub(crate) workers: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct PingConfig {
    pub(crate) url: String,
    pub(crate) connect_timeout: Option<Duration>,
    /// Pre-pings on the one connection, like ping(8).
    pub(crate) count: u32,
    pub(crate) interval: Duration,
    /// Retry until accepting or the deadline.
    pub(crate) wait: Option<Duration>,
    pub(crate) sizing: PoolSizing,
    /// The application's `statement_timeout` (DB_STATEMENT_TIMEOUT): with the URL's driver, it
    /// decides what the application sends at connect time, which a pooler may refuse.
    pub(crate) statement_timeout: Duration,
    /// The libpq major version whose connection rules apply (`--libpq-version`).
    pub(crate) libpq_version: u32,
    /// `--idle-probe UP_TO`: measure the path's idle cutoff after the ping.
    pub(crate) idle_probe: Option<Duration>,
    /// DB_POOL_PRE_PING, held against how idle connections die.
    pub(crate) pre_ping: bool,
}

/// pg_isready's four outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Accepting,
    Rejecting,
    NoResponse,
    NoAttempt,
}

impl Status {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Status::Accepting => "accepting",
            Status::Rejecting => "rejecting",
            Status::NoResponse => "no_response",
            Status::NoAttempt => "no_attempt",
        }
    }

    /// pg_isready's words.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Status::Accepting => "accepting connections",
            Status::Rejecting => "rejecting connections",
            Status::NoResponse => "no response",
            Status::NoAttempt => "no attempt",
        }
    }

    pub(crate) fn outcome(self) -> Outcome {
        match self {
            Status::Accepting => Outcome::Ok,
            Status::Rejecting => Outcome::Problems,
            Status::NoResponse => Outcome::NoResponse,
            Status::NoAttempt => Outcome::NoAttempt,
        }
    }
}

/// Everything tried against one host.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(crate) target: String,
    pub(crate) status: Status,
    pub(crate) stages: Vec<Stage>,
    pub(crate) hint: Option<String>,
    pub(crate) server: Option<ServerFacts>,
    /// The pooler between dbtool and the server, when one was found.
    pub(crate) pooler: Option<Pooler>,
    /// Whether libpq goes on to the next host after this one: it did not answer, was starting
    /// up, or did not satisfy target_session_attrs. Any other refusal ends the connection.
    pub(crate) tries_next_host: bool,
}

/// ping(8)-style statistics of repeated pre-pings, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RoundTrips {
    pub(crate) count: u32,
    pub(crate) min: f64,
    pub(crate) avg: f64,
    pub(crate) max: f64,
    pub(crate) stddev: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct PingReport {
    pub(crate) status: Status,
    pub(crate) target: String,
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) hint: Option<String>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) round_trips: Option<RoundTrips>,
    /// With `--wait`: how many tries and how long.
    pub(crate) waited: Option<(u32, f64)>,
    pub(crate) error: Option<String>,
    /// With `--idle-probe`: what the pass found, and what to set.
    pub(crate) idle: Option<IdleReport>,
    pub(crate) idle_advice: Vec<String>,
    /// Why the idle probe could not run (its connections were refused).
    pub(crate) idle_error: Option<String>,
}

impl PingReport {
    pub(crate) fn server(&self) -> Option<&ServerFacts> {
        self.attempts.iter().rev().find_map(|a| a.server.as_ref())
    }

    pub(crate) fn pooler(&self) -> Option<&Pooler> {
        self.attempts.iter().rev().find_map(|a| a.pooler.as_ref())
    }

    /// Accepting, but with a finding the application will fail on: exit 1.
    pub(crate) fn outcome(&self) -> Outcome {
        match self.status.outcome() {
            Outcome::Ok if self.findings.iter().any(|f| f.level() == Level::Error) => {
                Outcome::Problems
            }
            outcome => outcome,
        }
    }

    fn no_attempt(target: String, error: &anyhow::Error) -> PingReport {
        PingReport {
            status: Status::NoAttempt,
            target,
            attempts: Vec::new(),
            hint: Some("fix the URL or arguments; `dbtool check-url` explains the URL".into()),
            findings: Vec::new(),
            round_trips: None,
            waited: None,
            error: Some(format!("{error:#}")),
            idle: None,
            idle_advice: Vec::new(),
            idle_error: None,
        }
    }
}

/// Runs the ping (and the waiting, and the repeated pre-pings). Never fails: failures are reports.
pub(crate) async fn ping(
    config: &PingConfig,
    env: &Environment,
    progress: &Progress,
    interrupt: &Interrupt,
) -> PingReport {
    let options = plan::Options {
        application_name: "dbtool-ping",
        connect_timeout: config.connect_timeout,
        libpq_major: config.libpq_version,
    };
    let target = match ConnectionPlan::new(&config.url, env, &options) {
        Ok(plan) => plan,
        Err(error) => return PingReport::no_attempt(crate::url::redact_url(&config.url), &error),
    };
    if let Some(warning) = &target.passfile_warning {
        progress.warn(warning);
    }
    let started = Instant::now();
    let mut tries = 0;
    let spinner = config
        .wait
        .and_then(|_| progress.spinner("waiting for the database"));
    loop {
        tries += 1;
        let driver = DriverKind::of(target.scheme.effective_driver());
        let (mut report, client) = ping_once(&target, config, env, driver, progress).await;
        let deadline_passed = config.wait.is_none_or(|w| started.elapsed() >= w);
        if report.status == Status::Accepting
            || report.status == Status::NoAttempt
            || deadline_passed
        {
            drop(spinner);
            if config.wait.is_some() {
                report.waited = Some((tries, started.elapsed().as_secs_f64()));
            }
            if let Some(mut client) = client {
                if config.count > 1 {
                    report.round_trips = Some(repeat(&mut client, config, progress).await);
                }
                client.terminate().await;
            }
            if let Some(up_to) = config.idle_probe
                && report.status == Status::Accepting
            {
                idle_probe(&mut report, &target, config, up_to, progress, interrupt).await;
            }
            return report;
        }
        if let Some(spinner) = &spinner {
            spinner.set_message(format!(
                "waiting for the database: try {tries}, {}",
                report.status.words()
            ));
        }
        let remaining = config
            .wait
            .unwrap_or_default()
            .saturating_sub(started.elapsed());
        tokio::time::sleep(remaining.min(Duration::from_millis(500))).await;
    }
}

/// `--idle-probe`: the pass with the application's driver (less what the pooler refused), its
/// findings and advice added to the report.
async fn idle_probe(
    report: &mut PingReport,
    target: &ConnectionPlan,
    config: &PingConfig,
    up_to: Duration,
    progress: &Progress,
    interrupt: &Interrupt,
) {
    let kind = DriverKind::of(target.scheme.effective_driver()).unwrap_or(DriverKind::Raw);
    let mut driver = DriverModel::new(
        kind,
        DriverOptions::default(),
        config.statement_timeout.as_millis(),
        "dbtool-idle-probe".into(),
    );
    let pooler = report.pooler();
    if let Some(pooler) = pooler {
        driver.left_out = pooler
            .refused_parameters
            .iter()
            .map(|refused| refused.name.clone())
            .collect();
    }
    let application = idle_advice::Application {
        driver: kind,
        pool_recycle: config.sizing.pool_recycle,
        pre_ping: config.pre_ping,
        pooler: pooler.is_some(),
    };
    let probe = idle::IdleProbe {
        target,
        driver,
        up_to,
        pooler: pooler.is_some(),
    };
    match idle::probe(probe, progress, interrupt).await {
        Ok(idle) => {
            report
                .findings
                .extend(idle_advice::findings(&idle, &application));
            report.idle_advice = idle_advice::advice(&idle, &application);
            report.idle = Some(idle);
        }
        Err(error) => report.idle_error = Some(error),
    }
}

/// Where asyncpg connects differently from libpq with the same mode, as check-url says too.
fn asyncpg_differences(ssl: Option<SslMode>, env: &Environment) -> Option<Finding> {
    let differences =
        crate::conn::tls::asyncpg_differences(ssl, crate::conn::tls::AsyncpgFiles::of(env));
    (!differences.is_empty()).then(|| {
        Finding::new(
            Code::AsyncpgTlsDiffers,
            format!("asyncpg is not libpq here: {}", differences.join("; ")),
        )
    })
}

/// One pass over the hosts, as libpq tries them.
async fn ping_once(
    target: &ConnectionPlan,
    config: &PingConfig,
    env: &Environment,
    driver: Option<DriverKind>,
    progress: &Progress,
) -> (PingReport, Option<Session>) {
    let mut attempts = Vec::new();
    // pg8000's traffic is not modelled: its startup parameters are taken as libpq's.
    let driver = DriverModel::new(
        driver.unwrap_or(DriverKind::Raw),
        DriverOptions::default(),
        config.statement_timeout.as_millis(),
        "dbtool-ping".into(),
    );
    let rules_differ = match target.tls.rules {
        ClientRules::Asyncpg { ssl } => asyncpg_differences(ssl, env),
        ClientRules::Libpq(_) => None,
    };
    for &attrs in target.session_attrs.passes() {
        for endpoint in &target.endpoints {
            let (attempt, client) = attempt_host(target, endpoint, attrs, &driver, progress).await;
            let accepted = attempt.status == Status::Accepting;
            let tries_next_host = attempt.tries_next_host;
            attempts.push(attempt);
            if !accepted && !tries_next_host {
                return (finish(attempts, rules_differ.into_iter().collect()), None);
            }
            if accepted {
                let attempt = attempts.last().cloned();
                let mut findings = attempt
                    .as_ref()
                    .and_then(|a| a.server.as_ref())
                    .map(|s| capacity(s, &config.sizing))
                    .unwrap_or_default();
                findings.extend(rules_differ);
                if let Some(pooler) = attempt.as_ref().and_then(|a| a.pooler.as_ref()) {
                    findings.extend(pooler::advice::behind_pooler(pooler, &driver, &target.user));
                }
                return (finish(attempts, findings), client);
            }
        }
    }
    (finish(attempts, rules_differ.into_iter().collect()), None)
}

fn finish(attempts: Vec<Attempt>, findings: Vec<Finding>) -> PingReport {
    let last = attempts.last();
    PingReport {
        status: last.map_or(Status::NoAttempt, |a| a.status),
        target: last.map(|a| a.target.clone()).unwrap_or_default(),
        hint: last.and_then(|a| a.hint.clone()),
        attempts,
        findings,
        round_trips: None,
        waited: None,
        error: None,
        idle: None,
        idle_advice: Vec::new(),
        idle_error: None,
    }
}

/// One host, stage by stage; the first failing stage ends the attempt with its status and hint.
async fn attempt_host(
    target: &ConnectionPlan,
    endpoint: &Endpoint,
    attrs: SessionAttrs,
    driver: &DriverModel,
    progress: &Progress,
) -> (Attempt, Option<Session>) {
    let timeout = target.connect_timeout;
    let mut attempt = Attempt {
        target: endpoint.describe(),
        status: Status::Accepting,
        stages: Vec::new(),
        hint: None,
        server: None,
        pooler: None,
        tries_next_host: false,
    };
    macro_rules! stage {
        ($name:literal, $work:expr) => {
            match attempt.stage($name, $work).await {
                Some(value) => value,
                None => return (attempt, None),
            }
        };
    }
    let addrs = stage!("resolve", transport::resolve(endpoint, timeout));
    let mut startup = PingStartup { target };
    let opened = transport::open_session(
        endpoint,
        &addrs,
        &target.tls,
        &target.tcp,
        timeout,
        &mut attempt.stages,
        &mut startup,
    )
    .await;
    let mut client = match opened {
        Ok(client) => client,
        Err(Ended::Transport(error)) => {
            // asyncpg goes on to the next host after a TLS failure too (ssl.SSLError and
            // "rejected SSL upgrade" are OSErrors to it); libpq stops.
            attempt.tries_next_host = matches!(target.tls.rules, ClientRules::Asyncpg { .. })
                && matches!(
                    error.failure,
                    StageFailure::Handshake | StageFailure::Rejecting
                );
            attempt.fail(error);
            return (attempt, None);
        }
        Err(Ended::Startup(error)) => {
            attempt.tries_next_host = error.code() == Some("57P03");
            attempt.fail(auth_error(&error, target, endpoint));
            return (attempt, None);
        }
    };
    stage!("pre-ping", pre_ping(&mut client, progress, timeout));
    let facts = stage!("server", server_facts(&mut client, progress, timeout));
    let accepted = attrs.accepts(facts.read_only, facts.in_recovery);
    let backend_pid = facts.backend_pid;
    attempt.server = Some(facts);
    if !accepted {
        attempt.status = Status::Rejecting;
        attempt.tries_next_host = true;
        attempt.hint = Some(format!(
            "this server is not {attrs} (target_session_attrs); the next host is tried"
        ));
        attempt.stages.push(Stage {
            name: "session",
            ok: false,
            ms: 0.0,
            detail: format!("does not satisfy target_session_attrs={attrs}"),
        });
        return (attempt, None);
    }
    let pooler = stage!(
        "pooler",
        find_pooler(target, endpoint, &mut client, backend_pid, driver, progress)
    );
    attempt.pooler = pooler;
    (attempt, Some(client))
}

/// Whether a pooler sits in front of the server, and how it pools (see [`crate::pooler`]).
async fn find_pooler(
    target: &ConnectionPlan,
    endpoint: &Endpoint,
    client: &mut Session,
    backend_pid: i32,
    driver: &DriverModel,
    progress: &Progress,
) -> Result<(Option<Pooler>, String), StageError> {
    let timeout = target.connect_timeout;
    let probe = pooler::detect(target, endpoint, client, backend_pid, driver);
    // The probes open up to four sessions and run a few round trips each.
    let found = match tokio::time::timeout(timeout * 4, probe).await {
        Ok(found) => found,
        Err(_) => {
            progress.warn("the pooler probes got no answer in time; the pooler's mode is unknown");
            None
        }
    };
    let detail = match &found {
        None => "none: this session runs in the process its cancel key names".to_string(),
        Some(pooler) => format!(
            "{}, {} pooling",
            pooler.kind.describe(),
            pooler.mode.map_or("unknown", |mode| mode.name())
        ),
    };
    Ok((found, detail))
}

impl Attempt {
    /// Runs one timed stage and records it; a failure also sets the attempt's status and hint.
    async fn stage<T>(
        &mut self,
        name: &'static str,
        work: impl Future<Output = Result<(T, String), StageError>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = work.await;
        let ms = elapsed_ms(started);
        match result {
            Ok((value, detail)) => {
                self.stages.push(Stage {
                    name,
                    ok: true,
                    ms,
                    detail,
                });
                Some(value)
            }
            Err(error) => {
                self.stages.push(Stage {
                    name,
                    ok: false,
                    ms,
                    detail: error.detail.clone(),
                });
                self.fail(error);
                None
            }
        }
    }

    /// Ends the attempt with a failed stage's status and hint (the stage is recorded already).
    fn fail(&mut self, error: StageError) {
        self.status = match error.failure {
            StageFailure::NoResponse => Status::NoResponse,
            StageFailure::Rejecting | StageFailure::Handshake => Status::Rejecting,
            StageFailure::Unusable => Status::NoAttempt,
        };
        self.tries_next_host |= error.failure == StageFailure::NoResponse;
        self.hint = Some(error.hint);
    }
}

/// The startup message and authentication, over a stream the transport stages opened.
struct PingStartup<'a> {
    target: &'a ConnectionPlan,
}

impl transport::Startup for PingStartup<'_> {
    type Session = Session;
    type Error = WireError;

    async fn start(&mut self, stream: Box<dyn Io>) -> Result<(Session, String), WireError> {
        let target = self.target;
        let timeout = target.connect_timeout;
        let parameters = target.startup_parameters();
        let parameters: Vec<(&str, &str)> = parameters
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        let start = Session::start(stream, &parameters, &target.user, target.password.as_ref());
        let session = tokio::time::timeout(timeout, start).await.map_err(|_| {
            WireError::Unreachable(format!(
                "no answer to the startup message within {:.1} s",
                timeout.as_secs_f64()
            ))
        })??;
        let detail = format!(
            "user {}, database {}, {}",
            target.user, target.dbname, target.password_source
        );
        Ok((session, detail))
    }

    fn refusal(&self, error: &WireError) -> (Option<String>, String) {
        (error.code().map(str::to_string), error.to_string())
    }
}

/// The pre-ping itself: `SELECT 1` on the new session.
async fn pre_ping(
    client: &mut Session,
    progress: &Progress,
    timeout: Duration,
) -> Result<((), String), StageError> {
    progress.echo_sql("SELECT 1");
    let detail = match tokio::time::timeout(timeout, client.simple("SELECT 1")).await {
        Ok(Ok(())) => return Ok(((), "SELECT 1".into())),
        Ok(Err(error)) => format!("SELECT 1 failed: {error}"),
        Err(_) => format!(
            "SELECT 1 got no answer within {:.1} s",
            timeout.as_secs_f64()
        ),
    };
    Err(StageError {
        failure: StageFailure::NoResponse,
        detail,
        hint: "the server authenticated the session but stopped answering".into(),
    })
}

/// The server's version, role and connection counts.
async fn server_facts(
    client: &mut Session,
    progress: &Progress,
    timeout: Duration,
) -> Result<(ServerFacts, String), StageError> {
    progress.echo_sql(facts::FACTS_SQL);
    let detail = match tokio::time::timeout(timeout, facts::read(client)).await {
        Ok(Ok(facts)) => {
            let role = if facts.in_recovery {
                "standby (in recovery)"
            } else {
                "primary"
            };
            let detail = format!(
                "PostgreSQL {}, {role}, {} of {} connections in use",
                facts.server_version, facts.client_backends, facts.max_connections
            );
            return Ok((facts, detail));
        }
        Ok(Err(error)) => format!("reading server facts failed: {error}"),
        Err(_) => format!("no answer within {:.1} s", timeout.as_secs_f64()),
    };
    Err(StageError {
        failure: StageFailure::NoResponse,
        detail,
        hint: "the server stopped answering".into(),
    })
}

/// A failed startup: the server's SQLSTATE and message decide the status and the hint.
fn auth_error(error: &WireError, target: &ConnectionPlan, endpoint: &Endpoint) -> StageError {
    let (code, message) = match error {
        WireError::Server { code, message } => (code.as_str(), message.as_str()),
        WireError::PasswordMissing => {
            return StageError {
                failure: StageFailure::Rejecting,
                detail: "the server asks for a password but none was given".into(),
                hint: connect::NO_PASSWORD_HINT.into(),
            };
        }
        WireError::Unreachable(detail) => {
            return StageError {
                failure: StageFailure::NoResponse,
                detail: detail.clone(),
                hint: "the server accepted the connection but does not answer: is it overloaded or frozen?".into(),
            };
        }
        other => {
            return StageError {
                failure: StageFailure::NoResponse,
                detail: other.to_string(),
                hint: "the server closed the connection during startup; check the server log"
                    .into(),
            };
        }
    };
    let session = diagnosis::LoginAttempt {
        user: &target.user,
        dbname: &target.dbname,
        endpoint,
    };
    StageError {
        failure: StageFailure::Rejecting,
        detail: format!("{message} (SQLSTATE {code})"),
        hint: diagnosis::hint(code, message, &session),
    }
}

/// N pre-pings on one connection with statistics.
async fn repeat(client: &mut Session, config: &PingConfig, progress: &Progress) -> RoundTrips {
    let mut times = Vec::with_capacity(config.count.min(1024) as usize);
    for i in 0..config.count {
        if i > 0 {
            tokio::time::sleep(config.interval).await;
        }
        progress.echo_sql("SELECT 1");
        let started = Instant::now();
        if client.simple("SELECT 1").await.is_ok() {
            times.push(elapsed_ms(started));
        }
    }
    let n = times.len().max(1) as f64;
    let avg = times.iter().sum::<f64>() / n;
    let variance = times.iter().map(|t| (t - avg).powi(2)).sum::<f64>() / n;
    RoundTrips {
        count: times.len() as u32,
        min: if times.is_empty() {
            0.0
        } else {
            times.iter().copied().fold(f64::INFINITY, f64::min)
        },
        avg,
        max: times.iter().copied().fold(0.0, f64::max),
        stddev: variance.sqrt(),
    }
}

/// Warnings about the pool settings against what the server allows.
fn capacity(facts: &ServerFacts, sizing: &PoolSizing) -> Vec<Finding> {
    let mut findings = Vec::new();
    let available = facts.available_to_ordinary_roles();
    match sizing.max_overflow {
        None => findings.push(Finding::new(Code::UnboundedOverflow, format!(
                "DB_MAX_OVERFLOW=-1 lets each of {} worker(s) open connections without limit; the server leaves {available} to ordinary roles",
                sizing.workers
            ))),
        Some(overflow) => {
            let per_worker = i64::from(sizing.pool_size) + i64::from(overflow);
            let demand = per_worker * i64::from(sizing.workers);
            if demand > available {
                findings.push(Finding::new(Code::PoolExceedsServer, format!(
                        "{} worker(s) × (pool_size {} + max_overflow {overflow}) = {demand} connections, but the server leaves {available} \
                         to ordinary roles (max_connections {} − reserved); lower DB_POOL_SIZE/DB_MAX_OVERFLOW or add PgBouncer",
                        sizing.workers, sizing.pool_size, facts.max_connections
                    )));
            }
            if facts.role_connection_limit >= 0 && demand > facts.role_connection_limit {
                findings.push(Finding::new(Code::PoolExceedsRoleLimit, format!(
                        "{demand} pooled connections exceed this role's CONNECTION LIMIT {}",
                        facts.role_connection_limit
                    )));
            }
        }
    }
    if let Some(idle_ms) = facts.idle_session_timeout_ms.filter(|ms| *ms > 0) {
        let idle_timeout = Duration::from_millis(idle_ms.unsigned_abs());
        let idle = crate::duration::format_seconds(idle_timeout);
        if sizing
            .pool_recycle
            .is_none_or(|recycle| recycle >= idle_timeout)
        {
            findings.push(Finding::new(Code::RecycleAfterIdleTimeout, format!(
                    "the server ends idle sessions after {idle} s (idle_session_timeout) but pool_recycle is {}; set DB_POOL_RECYCLE below {idle}",
                    sizing.pool_recycle.map_or("off".to_string(), crate::duration::format_seconds)
                )));
        }
    }
    findings
}
