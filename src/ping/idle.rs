//! `ping --idle-probe UP_TO`: how long a connection may sit idle on the path from here to the
//! server before something on the way ends it — a NAT gateway or firewall that forgets idle
//! flows, a load balancer, the pooler's `client_idle_timeout`, the server's
//! `idle_session_timeout` — and how it ends.
//!
//! Any message resets a connection's idle timer, so each connection can test one idle time. The
//! probe opens a spread of connections at once, the way the application's driver opens them, and
//! leaves each idle for a different time up to `UP_TO`; the first to die bounds the cutoff, the
//! spread beyond it is closed unprobed, and rounds of new connections refine between the
//! longest idle that lived and the shortest that died while the pass still has the time. A
//! second, smaller set has TCP keepalives on, and says whether keepalives keep a connection
//! through the cutoff. Probing is the driver's pre-ping: read-only, no transaction left open.
//!
//! What is not modelled: a cutoff that varies between connections beyond noting it, and a path
//! that ends connections by age rather than idleness (a connection's probe here is its first use).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::watch;

use crate::conn::plan::ConnectionPlan;
use crate::conn::tcp::TcpSettings;
use crate::driver::{Connection, DriverModel};
use crate::interrupt::Interrupt;
use crate::progress::Progress;
use crate::wire::WireError;

/// Connections in the first spread, idle `UP_TO`/10, 2·`UP_TO`/10, … `UP_TO`.
const SPREAD: u32 = 10;
/// Connections per refining round, evenly between the last that lived and the first that died.
const REFINE: u32 = 6;
/// Connections with keepalives on.
const KEEPALIVE: usize = 2;
/// How long a probe waits for the answer before it calls the path silent.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// How a connection died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Death {
    /// PostgreSQL ended the session and said why (57P05: `idle_session_timeout`).
    ServerClosed,
    /// The pooler ended the client connection and said why (PgBouncer's `client_idle_timeout`).
    PoolerClosed,
    /// The connection was closed (FIN) without a message: a proxy or load balancer.
    Closed,
    /// The next write was answered with a TCP reset: a firewall or NAT that rejects flows it
    /// forgot.
    Reset,
    /// The next write vanished: no answer, no reset; the flow was forgotten and its packets are
    /// dropped.
    Silent,
}

impl Death {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Death::ServerClosed => "server_closed",
            Death::PoolerClosed => "pooler_closed",
            Death::Closed => "closed",
            Death::Reset => "reset",
            Death::Silent => "silent",
        }
    }

    pub(crate) fn words(self) -> &'static str {
        match self {
            Death::ServerClosed => "the server closed it",
            Death::PoolerClosed => "the pooler closed it",
            Death::Closed => "closed without a message (a proxy or load balancer)",
            Death::Reset => "reset (RST) at the next write",
            Death::Silent => "silence: the next write got no answer and no reset",
        }
    }
}

/// One connection's test: idle this long, then the pre-ping.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    /// How long it sat idle: from its last answer to the probe.
    pub(crate) idle: Duration,
    pub(crate) keepalive: bool,
    /// `None`: it lived.
    pub(crate) died: Option<Death>,
    /// What the driver would have seen: the server's message and SQLSTATE, the socket error.
    pub(crate) detail: String,
    /// The pre-ping's round trip when it lived.
    pub(crate) answer_ms: Option<f64>,
}

/// What the pass found.
#[derive(Debug, Clone)]
pub(crate) struct IdleReport {
    pub(crate) up_to: Duration,
    /// The longest idle time that lived (below the first death).
    pub(crate) lived: Option<Duration>,
    /// The shortest idle time that died: the cutoff lies in (`lived`, `died`].
    pub(crate) died: Option<Duration>,
    /// How the connection that died at `died` died.
    pub(crate) how: Option<Death>,
    /// What the driver saw then.
    pub(crate) message: Option<String>,
    pub(crate) keepalive_every: Duration,
    /// `None`: not tested (no cutoff, or the keepalive interval is not below it).
    pub(crate) keepalive_survives: Option<bool>,
    pub(crate) probes: Vec<Probe>,
    pub(crate) elapsed: Duration,
    pub(crate) interrupted: bool,
    /// Things worth knowing about the pass itself (connections refused in a later round, a
    /// cutoff that varies).
    pub(crate) notes: Vec<String>,
    /// The plain set's socket options: the driver's.
    pub(crate) tcp: TcpSettings,
}

impl IdleReport {
    /// The cutoff, as the shortest idle time that died.
    pub(crate) fn cutoff(&self) -> Option<Duration> {
        self.died
    }

    /// The width of the interval the cutoff lies in.
    pub(crate) fn resolution(&self) -> Option<Duration> {
        self.died
            .map(|died| died.saturating_sub(self.lived.unwrap_or_default()))
    }
}

/// What the probe needs from ping.
pub(crate) struct IdleProbe<'a> {
    pub(crate) target: &'a ConnectionPlan,
    /// The application's driver, with what the pooler refused left out.
    pub(crate) driver: DriverModel,
    pub(crate) up_to: Duration,
    /// Whether ping found a pooler in front (who closed a connection with a message).
    pub(crate) pooler: bool,
}

/// Which part of the pass a connection belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Spread,
    Refine,
    Keepalive,
}

type Task<'a> = Pin<Box<dyn Future<Output = Option<(Part, Probe)>> + 'a>>;

/// The cutoff's bounds so far, from the plain connections.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Bounds {
    lived: Option<Duration>,
    died: Option<Duration>,
}

/// Runs the pass. The error is why the first set of connections could not be opened (a pooler
/// at its client limit, say): one line for the user.
pub(crate) async fn probe(
    probe: IdleProbe<'_>,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<IdleReport, String> {
    let IdleProbe {
        target,
        mut driver,
        up_to,
        pooler,
    } = probe;
    driver.application_name = "dbtool-idle-probe".into();
    let keepalive_every = Duration::from_secs((up_to.as_secs() / 10).clamp(1, 60));
    let mut keepalive_driver = driver.clone();
    keepalive_driver.tcp = Some(TcpSettings::keepalive_every(keepalive_every));
    let started = Instant::now();
    let mut pids = Vec::new();
    let spread = open(&driver, target, SPREAD as usize, &mut pids)
        .await
        .map_err(|error| {
            format!(
                "the idle probe needs {} connections at once and could not open them: {error}; \
                 free connections (or raise the pooler's max_client_conn) and try again",
                SPREAD as usize + KEEPALIVE
            )
        })?;
    let with_keepalive = match open(&keepalive_driver, target, KEEPALIVE, &mut pids).await {
        Ok(opened) => opened,
        Err(error) => {
            drop(spread);
            return Err(format!(
                "the idle probe needs {} connections at once and could not open them: {error}; \
                 free connections (or raise the pooler's max_client_conn) and try again",
                SPREAD as usize + KEEPALIVE
            ));
        }
    };
    let (bounds_sender, bounds) = watch::channel(Bounds::default());
    let mut tasks: FuturesUnordered<Task<'_>> = FuturesUnordered::new();
    for (i, opened) in spread.into_iter().enumerate() {
        let idle = up_to.mul_f64((i + 1) as f64 / f64::from(SPREAD));
        tasks.push(Box::pin(plain(
            &driver,
            opened,
            idle,
            Part::Spread,
            pooler,
            bounds.clone(),
        )));
    }
    for opened in with_keepalive {
        tasks.push(Box::pin(keepalive(
            &keepalive_driver,
            opened,
            started + up_to,
            pooler,
            bounds.clone(),
        )));
    }
    let floor = (up_to / 1000).max(Duration::from_millis(100));
    let mut report = IdleReport {
        up_to,
        lived: None,
        died: None,
        how: None,
        message: None,
        keepalive_every,
        keepalive_survives: None,
        probes: Vec::new(),
        elapsed: Duration::ZERO,
        interrupted: false,
        notes: Vec::new(),
        tcp: driver.tcp.unwrap_or(target.tcp),
    };
    let spinner = progress.spinner("idle probe: connections idle");
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut refining = 0u32;
    loop {
        tokio::select! {
            next = tasks.next() => {
                let Some(finished) = next else { break };
                let Some((part, probe)) = finished else { continue };
                refining -= u32::from(part == Part::Refine);
                progress.info(&format!(
                    "idle probe: {} s idle{}: {}",
                    seconds(probe.idle),
                    if probe.keepalive { " (keepalives on)" } else { "" },
                    probe.died.map_or("lived", Death::key)
                ));
                report.probes.push(probe);
                update_bounds(&mut report);
                bounds_sender.send_if_modified(|current| {
                    let next = Bounds { lived: report.lived, died: report.died };
                    (*current != next).then(|| *current = next).is_some()
                });
                let (Some(died), 0) = (report.died, refining) else { continue };
                let lived = report.lived.unwrap_or_default();
                // A round may end a little after UP_TO: "about UP_TO".
                let room = (started + up_to.mul_f64(1.1)).saturating_duration_since(Instant::now());
                if died.saturating_sub(lived) <= floor || died > room {
                    continue;
                }
                match open(&driver, target, REFINE as usize, &mut pids).await {
                    Ok(opened) => {
                        for (j, opened) in opened.into_iter().enumerate() {
                            let idle = lived + (died - lived).mul_f64((j + 1) as f64 / f64::from(REFINE + 1));
                            tasks.push(Box::pin(plain(&driver, opened, idle, Part::Refine, pooler, bounds.clone())));
                            refining += 1;
                        }
                    }
                    Err(error) => report.notes.push(format!("a refining round could not open its connections: {error}")),
                }
            }
            _ = interrupt.wait() => {
                report.interrupted = true;
                break;
            }
            _ = tick.tick() => {
                if let Some(spinner) = &spinner {
                    spinner.set_message(status_line(&report, started, tasks.len()));
                }
            }
        }
    }
    drop(spinner);
    // The connections still idle are closed here (dropping them closes their sockets).
    drop(tasks);
    if !pooler {
        leave_nothing_behind(&driver, target, &pids, &mut report).await;
    }
    report.keepalive_survives = keepalive_survives(&report);
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The progress line: how far, and what is known.
fn status_line(report: &IdleReport, started: Instant, idle: usize) -> String {
    let known = match (report.lived, report.died) {
        (_, None) => format!(
            "every connection lived so far (up to {} s)",
            report.lived.map_or("0".into(), seconds)
        ),
        (lived, Some(died)) => format!(
            "cutoff between {} and {} s",
            lived.map_or("0".into(), seconds),
            seconds(died)
        ),
    };
    format!(
        "idle probe: {:.0} of ~{} s, {idle} connection(s) idle; {known}",
        started.elapsed().as_secs_f64(),
        seconds(report.up_to)
    )
}

/// Opens `count` connections at once as the driver does; the first error when any fails (the
/// others are closed).
async fn open(
    driver: &DriverModel,
    target: &ConnectionPlan,
    count: usize,
    pids: &mut Vec<i32>,
) -> Result<Vec<(Connection, Instant)>, WireError> {
    let opening = (0..count).map(|_| async {
        let connection = driver.connect(target, false).await?;
        Ok::<_, WireError>((connection, Instant::now()))
    });
    let opened: Vec<_> = futures_util::future::join_all(opening).await;
    pids.extend(
        opened
            .iter()
            .flatten()
            .map(|(connection, _)| connection.session.process_id),
    );
    opened.into_iter().collect()
}

/// Ends the server sessions of probe connections whose goodbye never reached the server (a
/// silent or resetting path drops it too), so the pass leaves no idle sessions behind: only
/// dbtool's own, by their process ids and application_name. Without a pooler only: behind one,
/// the process ids are the pooler's.
async fn leave_nothing_behind(
    driver: &DriverModel,
    target: &ConnectionPlan,
    pids: &[i32],
    report: &mut IdleReport,
) {
    if pids.is_empty() {
        return;
    }
    let list: Vec<String> = pids.iter().map(i32::to_string).collect();
    let sql = format!(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = '{}' AND pid IN ({}) AND pid <> pg_backend_pid()",
        driver.application_name,
        list.join(", ")
    );
    let ended = async {
        let mut connection = driver.connect(target, false).await?;
        let rows = connection
            .session
            .rows(&[crate::wire::Frontend::Query(&sql)])
            .await;
        connection.session.terminate().await;
        rows
    };
    match tokio::time::timeout(target.connect_timeout * 2, ended).await {
        Ok(Ok(rows)) => {
            let count = rows
                .first()
                .and_then(|row| row.first().cloned().flatten())
                .unwrap_or_default();
            if count != "0" && !count.is_empty() {
                report.notes.push(format!(
                    "ended {count} server session(s) of the probe's that the path had cut off (the server still held them)"
                ));
            }
        }
        Ok(Err(error)) => report.notes.push(format!(
            "could not end the probe's server sessions the path cut off: {error}; they end with the server's TCP keepalives"
        )),
        Err(_) => report.notes.push(
            "could not end the probe's server sessions the path cut off: no answer in time".into(),
        ),
    }
}

/// A plain connection: idle `idle`, then probed; dropped unprobed once a shorter idle time died.
async fn plain(
    driver: &DriverModel,
    (mut connection, opened): (Connection, Instant),
    idle: Duration,
    part: Part,
    pooler: bool,
    mut bounds: watch::Receiver<Bounds>,
) -> Option<(Part, Probe)> {
    let beyond = |b: &Bounds| b.died.is_some_and(|died| died <= idle);
    tokio::select! {
        _ = tokio::time::sleep_until((opened + idle).into()) => {}
        _ = bounds.wait_for(beyond) => return None,
    }
    Some((
        part,
        probe_one(driver, &mut connection, opened, false, pooler).await,
    ))
}

/// A connection with keepalives on: probed well past the cutoff once one is known (half again
/// the cutoff), else at the end of the pass.
async fn keepalive(
    driver: &DriverModel,
    (mut connection, opened): (Connection, Instant),
    end: Instant,
    pooler: bool,
    mut bounds: watch::Receiver<Bounds>,
) -> Option<(Part, Probe)> {
    loop {
        let due = match bounds.borrow().died {
            None => end,
            Some(died) => (opened + died.mul_f64(1.5)).min(end.max(opened + died.mul_f64(1.1))),
        };
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => break,
            changed = bounds.changed() => if changed.is_err() { break },
        }
    }
    Some((
        Part::Keepalive,
        probe_one(driver, &mut connection, opened, true, pooler).await,
    ))
}

/// The probe: first what arrived while the connection sat idle (a server's or pooler's goodbye),
/// then the driver's pre-ping, as the application's next checkout would send it.
async fn probe_one(
    driver: &DriverModel,
    connection: &mut Connection,
    opened: Instant,
    keepalive: bool,
    pooler: bool,
) -> Probe {
    let idle = opened.elapsed();
    let mut probe = Probe {
        idle,
        keepalive,
        died: None,
        detail: String::new(),
        answer_ms: None,
    };
    if let Some(error) = connection.session.closed_while_idle().await {
        (probe.died, probe.detail) = classify(&error, pooler);
        probe.detail = format!("while idle: {}", probe.detail);
        return probe;
    }
    let sent = Instant::now();
    match tokio::time::timeout(ANSWER_WITHIN, driver.pre_ping(connection)).await {
        Ok(Ok(())) => {
            probe.answer_ms = Some(sent.elapsed().as_secs_f64() * 1000.0);
            let _ = tokio::time::timeout(ANSWER_WITHIN, connection.session.close()).await;
        }
        Ok(Err(error)) => (probe.died, probe.detail) = classify(&error, pooler),
        Err(_) => {
            probe.died = Some(Death::Silent);
            probe.detail = format!(
                "the pre-ping got no answer within {} s",
                seconds(ANSWER_WITHIN)
            );
        }
    }
    probe
}

/// How the driver saw the connection end.
fn classify(error: &WireError, pooler: bool) -> (Option<Death>, String) {
    use std::io::ErrorKind;
    let death = match error {
        // PostgreSQL's own reasons for ending a session are class 57 (operator intervention);
        // behind a pooler any other goodbye is the pooler's.
        WireError::Server { code, .. } if pooler && !code.starts_with("57") => Death::PoolerClosed,
        WireError::Server { .. } => Death::ServerClosed,
        WireError::Io(io) => match io.kind() {
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted => {
                Death::Reset
            }
            ErrorKind::TimedOut => Death::Silent,
            _ => Death::Closed,
        },
        _ => Death::Closed,
    };
    (Some(death), error.to_string())
}

/// The cutoff's bounds from the plain probes: the shortest idle that died, and the longest
/// below it that lived; a longer one that lived is noted (the cutoff varies).
fn update_bounds(report: &mut IdleReport) {
    let plain = || report.probes.iter().filter(|p| !p.keepalive);
    let first_death = plain()
        .filter(|p| p.died.is_some())
        .min_by_key(|p| p.idle)
        .cloned();
    let died = first_death.as_ref().map(|p| p.idle);
    let lived = plain()
        .filter(|p| p.died.is_none() && died.is_none_or(|d| p.idle < d))
        .map(|p| p.idle)
        .max();
    if let Some(died) = died
        && let Some(longer) = plain()
            .filter(|p| p.died.is_none() && p.idle >= died)
            .map(|p| p.idle)
            .max()
    {
        let note = format!(
            "the cutoff varies: a connection idle {} s lived while one idle {} s died",
            seconds(longer),
            seconds(died)
        );
        if !report.notes.contains(&note) {
            report.notes.push(note);
        }
    }
    report.lived = lived;
    report.died = died;
    report.how = first_death.as_ref().and_then(|p| p.died);
    report.message = first_death.map(|p| p.detail);
}

/// Whether keepalives kept connections past the cutoff: known when a cutoff was found, the
/// keepalive interval is below it, and a keepalive connection was probed past it.
fn keepalive_survives(report: &IdleReport) -> Option<bool> {
    let died = report.died?;
    if report.keepalive_every >= died {
        return None;
    }
    let past: Vec<&Probe> = report
        .probes
        .iter()
        .filter(|p| p.keepalive && p.idle > died)
        .collect();
    (!past.is_empty()).then(|| past.iter().all(|p| p.died.is_none()))
}

/// Seconds with one decimal when needed: `6`, `5.7`.
pub(crate) fn seconds(duration: Duration) -> String {
    let tenths = (duration.as_secs_f64() * 10.0).round() / 10.0;
    crate::duration::format_number(tenths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(idle_ms: u64, died: Option<Death>) -> Probe {
        Probe {
            idle: Duration::from_millis(idle_ms),
            keepalive: false,
            died,
            detail: String::new(),
            answer_ms: None,
        }
    }

    fn report(probes: Vec<Probe>) -> IdleReport {
        let mut report = IdleReport {
            up_to: Duration::from_secs(20),
            lived: None,
            died: None,
            how: None,
            message: None,
            keepalive_every: Duration::from_secs(2),
            keepalive_survives: None,
            probes,
            elapsed: Duration::ZERO,
            interrupted: false,
            notes: Vec::new(),
            tcp: TcpSettings::default(),
        };
        update_bounds(&mut report);
        report
    }

    #[test]
    fn the_cutoff_lies_between_the_longest_that_lived_and_the_shortest_that_died() {
        let found = report(vec![
            probe(2000, None),
            probe(4000, None),
            probe(8000, Some(Death::Silent)),
            probe(6000, Some(Death::Silent)),
            probe(5500, None),
        ]);
        assert_eq!(found.lived, Some(Duration::from_millis(5500)));
        assert_eq!(found.cutoff(), Some(Duration::from_millis(6000)));
        assert_eq!(found.resolution(), Some(Duration::from_millis(500)));
        assert_eq!(found.how, Some(Death::Silent));
        assert!(found.notes.is_empty());
    }

    #[test]
    fn a_longer_idle_that_lived_past_a_death_is_noted() {
        let varies = report(vec![probe(4000, Some(Death::Reset)), probe(6000, None)]);
        assert_eq!(varies.cutoff(), Some(Duration::from_millis(4000)));
        assert_eq!(varies.lived, None);
        assert_eq!(varies.notes.len(), 1, "{:?}", varies.notes);
    }

    #[test]
    fn keepalives_are_judged_only_past_the_cutoff() {
        let mut found = report(vec![probe(4000, None), probe(6000, Some(Death::Silent))]);
        found.probes.push(Probe {
            keepalive: true,
            ..probe(9000, None)
        });
        assert_eq!(keepalive_survives(&found), Some(true));
        found.probes.last_mut().unwrap().idle = Duration::from_secs(5);
        assert_eq!(keepalive_survives(&found), None);
        let none = report(vec![probe(20000, None)]);
        assert_eq!(keepalive_survives(&none), None);
    }

    #[test]
    fn a_server_goodbye_behind_a_pooler_is_the_servers_only_in_class_57() {
        let error = |code: &str| WireError::Server {
            code: code.into(),
            message: "m".into(),
        };
        assert_eq!(classify(&error("57P05"), true).0, Some(Death::ServerClosed));
        assert_eq!(classify(&error("08P01"), true).0, Some(Death::PoolerClosed));
        assert_eq!(
            classify(&error("08P01"), false).0,
            Some(Death::ServerClosed)
        );
        let reset = WireError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(classify(&reset, false).0, Some(Death::Reset));
    }
}
