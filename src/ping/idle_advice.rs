//! The application's settings held against the idle cutoff `ping --idle-probe` measured: the
//! findings (pool_recycle above the cutoff, a silent path, closed connections met without
//! pre-ping) and, per driver, what to set.

use std::time::Duration;

use super::idle::{Death, IdleReport, seconds};
use crate::driver::DriverKind;
use crate::finding::{Code, Finding};

/// What the application runs with, as far as idle connections go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Application {
    pub(crate) driver: DriverKind,
    /// DB_POOL_RECYCLE (`None`: never recycled).
    pub(crate) pool_recycle: Option<Duration>,
    /// DB_POOL_PRE_PING.
    pub(crate) pre_ping: bool,
    /// Whether a pooler sits in front of the server.
    pub(crate) pooler: bool,
}

/// The pool_recycle that fits: four fifths of the longest idle time that lived, in whole
/// seconds (SQLAlchemy recycles a connection older than pool_recycle at checkout, and a
/// connection is idle no longer than it is old).
pub(crate) fn fitting_recycle(report: &IdleReport) -> Option<u64> {
    let died = report.cutoff()?;
    let lived = report.lived.unwrap_or(died / 2);
    Some(((lived.as_secs_f64() * 0.8).floor() as u64).max(1))
}

/// How long a query on a connection that died silently hangs before the driver hears of it.
pub(crate) fn silent_hang(report: &IdleReport) -> Duration {
    crate::conn::tcp::silent_write_gives_up_after(&report.tcp)
}

/// The findings about the application's settings.
pub(crate) fn findings(report: &IdleReport, app: &Application) -> Vec<Finding> {
    let (Some(died), Some(how), Some(fit)) = (report.cutoff(), report.how, fitting_recycle(report))
    else {
        return Vec::new();
    };
    let cutoff = describe_cutoff(report, died);
    let mut findings = Vec::new();
    let recycled_in_time = app
        .pool_recycle
        .is_some_and(|recycle| recycle < report.lived.unwrap_or_default());
    if !recycled_in_time {
        let now = app
            .pool_recycle
            .map_or("off (-1)".to_string(), |r| format!("{} s", seconds(r)));
        findings.push(Finding::new(
            Code::IdleRecycleAboveCutoff,
            format!(
                "connections idle {cutoff} die on this path ({}), but DB_POOL_RECYCLE is {now}: \
                 pooled connections die in the pool; set DB_POOL_RECYCLE={fit}",
                how.words()
            ),
        ));
    }
    if how == Death::Silent {
        let hang = silent_hang(report);
        let pre_ping = if app.pre_ping {
            "pre-ping does not save it: the ping hangs the same way"
        } else {
            "pre-ping would hang the same way"
        };
        findings.push(Finding::new(
            Code::IdleSilentCutoff,
            format!(
                "the path drops connections idle {cutoff} without a word: a query on one hangs for \
                 about {} s ({}) before {} reports the connection lost, and {pre_ping}; {}",
                seconds(hang),
                hang_source(report),
                app.driver,
                bound_the_hang(app.driver)
            ),
        ));
    } else if !app.pre_ping && !recycled_in_time {
        findings.push(Finding::new(
            Code::IdleClosedWithoutPrePing,
            format!(
                "the first request on a connection idle {cutoff} fails ({}): \"{}\"; with \
                 DB_POOL_PRE_PING=true SQLAlchemy would reconnect first (one round trip per checkout), \
                 or keep DB_POOL_RECYCLE below the cutoff",
                how.words(),
                report.message.as_deref().unwrap_or("connection lost")
            ),
        ));
    }
    findings
}

/// `5.7–6 s (resolution 0.3 s)`.
fn describe_cutoff(report: &IdleReport, died: Duration) -> String {
    format!(
        "longer than {}–{} s",
        report.lived.map_or("0".into(), seconds),
        seconds(died)
    )
}

fn hang_source(report: &IdleReport) -> String {
    match report.tcp.user_timeout {
        Some(_) => "the URL's tcp_user_timeout".into(),
        None => "the kernel's retransmission limit, net.ipv4.tcp_retries2".into(),
    }
}

fn bound_the_hang(driver: DriverKind) -> &'static str {
    match driver {
        DriverKind::Asyncpg => {
            "bound it with connect_args={\"command_timeout\": SECONDS} (asyncpg has no keepalive or tcp_user_timeout option)"
        }
        _ => "bound it with tcp_user_timeout=MILLISECONDS in the URL",
    }
}

/// What to set, per driver, in the user's words.
pub(crate) fn advice(report: &IdleReport, app: &Application) -> Vec<String> {
    let (Some(died), Some(how), Some(fit)) = (report.cutoff(), report.how, fitting_recycle(report))
    else {
        return vec![format!(
            "no idle cutoff up to {} s on this path{}",
            seconds(report.up_to),
            if report.interrupted {
                " (interrupted: only the times probed so far)"
            } else {
                ""
            }
        )];
    };
    let mut lines = vec![format!(
        "pool_recycle: DB_POOL_RECYCLE={fit} (below the cutoff of {} s)",
        seconds(died)
    )];
    let keepalives_help = matches!(how, Death::Silent | Death::Reset | Death::Closed)
        && report.keepalive_survives != Some(false);
    let idle = (report.lived.unwrap_or(died / 2).as_secs() / 2).max(1);
    match app.driver {
        DriverKind::Asyncpg if keepalives_help => lines.push(format!(
            "asyncpg has no keepalive option, but SQLAlchemy's connect event can set them on its socket: \
             @event.listens_for(engine.sync_engine, \"connect\") def keepalive(conn, _): \
             sock = conn.driver_connection._transport.get_extra_info(\"socket\"); \
             sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); \
             sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, {idle}); \
             sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, {idle})"
        )),
        DriverKind::Asyncpg => lines.push(
            "asyncpg: no TCP keepalive option; pool_recycle is what keeps connections inside the cutoff"
                .into(),
        ),
        driver if keepalives_help => lines.push(format!(
            "{driver}: keepalives_idle={idle}&keepalives_interval={idle}&keepalives_count=3&tcp_user_timeout={} in the URL keeps idle connections alive and bounds a hang",
            (idle * 3 + idle) * 1000
        )),
        driver => lines.push(format!(
            "{driver}: keepalives do not help here ({}); pool_recycle it is",
            how.words()
        )),
    }
    match how {
        Death::ServerClosed => lines.push(
            "PostgreSQL: keep pool_recycle below idle_session_timeout, or raise it for the application's role (ALTER ROLE ... SET idle_session_timeout)"
                .into(),
        ),
        Death::PoolerClosed => lines.push(
            "PgBouncer: keep pool_recycle below client_idle_timeout, or raise client_idle_timeout"
                .into(),
        ),
        _ if app.pooler => lines.push(format!(
            "PgBouncer: if the cutoff lies between the pooler and the server, tcp_keepalive = 1 and tcp_keepidle = {idle} in pgbouncer.ini"
        )),
        _ => {}
    }
    if how == Death::Silent && app.driver == DriverKind::Asyncpg {
        lines.push(
            "asyncpg on a silent path: pool_recycle replaces a dead connection at checkout only after \
             SQLAlchemy's 2 s graceful-close timeout, and engine.dispose() of one hangs (asyncpg's close() \
             waits for an answer): keepalives are the fix, pool_recycle the fallback"
                .into(),
        );
    }
    if report.keepalive_survives == Some(true) {
        lines.push(format!(
            "keepalives every {} s kept connections alive past the cutoff",
            seconds(report.keepalive_every)
        ));
    }
    lines
}
