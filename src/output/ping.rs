//! `dbtool ping`: a pg_isready-style first line, the stages, server facts, findings; or JSON.

use std::io::{self, Write};

use serde_json::{Value as Json, json};

use crate::cli::TableOrJson;
use crate::ping::idle::{Death, seconds};
use crate::ping::{IdleReport, PingReport, Stage, idle_advice};

pub(crate) fn write_ping(
    out: &mut dyn Write,
    report: &PingReport,
    format: TableOrJson,
    color: bool,
    quiet: bool,
) -> io::Result<()> {
    match format {
        TableOrJson::Json => {
            serde_json::to_writer_pretty(&mut *out, &to_json(report))?;
            writeln!(out)
        }
        TableOrJson::Table => write_text(out, report, color, quiet),
    }
}

fn write_text(
    out: &mut dyn Write,
    report: &PingReport,
    color: bool,
    quiet: bool,
) -> io::Result<()> {
    let alert = report.status != crate::ping::Status::Accepting;
    let words = super::paint(report.status.words(), alert, color && alert);
    writeln!(
        out,
        "{} - {words}",
        if report.target.is_empty() {
            "?"
        } else {
            &report.target
        }
    )?;
    if quiet {
        return Ok(());
    }
    // A URL or argument error is printed once, to stderr, by the command's error path.
    for attempt in &report.attempts {
        if report.attempts.len() > 1 {
            writeln!(out, "{} - {}", attempt.target, attempt.status.words())?;
        }
        let mut table = super::new_table(&["stage", "ok", "ms", "detail"], color);
        for Stage {
            name,
            ok,
            ms,
            detail,
        } in &attempt.stages
        {
            table.add_row([
                name.to_string(),
                if *ok { "ok".into() } else { "FAILED".into() },
                format!("{ms:.1}"),
                detail.clone(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    if let Some(server) = report.server() {
        let mut table = super::new_table(&["server", "value"], color);
        let reserved = server
            .reserved_connections
            .map_or("n/a (PostgreSQL < 16)".into(), |r| r.to_string());
        let timeout = |ms: i64| {
            if ms == 0 {
                "0 (off)".to_string()
            } else {
                format!("{} s", ms as f64 / 1000.0)
            }
        };
        for (name, value) in [
            ("server_version", server.server_version.clone()),
            ("in recovery", server.in_recovery.to_string()),
            ("max_connections", server.max_connections.to_string()),
            (
                "superuser_reserved_connections",
                server.superuser_reserved_connections.to_string(),
            ),
            ("reserved_connections", reserved),
            ("client backends now", server.client_backends.to_string()),
            (
                "role connection limit",
                if server.role_connection_limit < 0 {
                    "none".into()
                } else {
                    server.role_connection_limit.to_string()
                },
            ),
            ("statement_timeout", timeout(server.statement_timeout_ms)),
            (
                "idle_session_timeout",
                server
                    .idle_session_timeout_ms
                    .map_or("n/a (PostgreSQL < 14)".into(), timeout),
            ),
            (
                "idle_in_transaction_session_timeout",
                timeout(server.idle_in_transaction_session_timeout_ms),
            ),
        ] {
            table.add_row([name.to_string(), value]);
        }
        writeln!(out, "{table}")?;
    }
    if report.status == crate::ping::Status::Accepting {
        writeln!(out, "pooler: {}", super::pooler_line(report.pooler()))?;
    }
    if let Some(trips) = &report.round_trips {
        writeln!(
            out,
            "{} pre-pings: round trip min/avg/max/stddev = {:.3}/{:.3}/{:.3}/{:.3} ms",
            trips.count, trips.min, trips.avg, trips.max, trips.stddev
        )?;
    }
    if let Some((tries, seconds)) = report.waited {
        writeln!(out, "waited {seconds:.1} s over {tries} attempt(s)")?;
    }
    if let Some(idle) = &report.idle {
        write_idle(out, idle, &report.idle_advice, color)?;
    }
    for finding in &report.findings {
        writeln!(
            out,
            "{} [{}] {}",
            finding.level().name(),
            finding.code,
            finding.message
        )?;
    }
    if let Some(hint) = &report.hint {
        writeln!(out, "hint: {hint}")?;
    }
    Ok(())
}

/// The idle probe: one row per connection probed, then the cutoff, how, and what to set.
fn write_idle(
    out: &mut dyn Write,
    idle: &IdleReport,
    advice: &[String],
    color: bool,
) -> io::Result<()> {
    let mut table = super::new_table(&["idle s", "keepalive", "lived", "how / answer"], color);
    let mut probes: Vec<_> = idle.probes.iter().collect();
    probes.sort_by_key(|p| (p.keepalive, p.idle));
    for probe in probes {
        table.add_row([
            format!("{:.1}", probe.idle.as_secs_f64()),
            if probe.keepalive {
                format!("every {} s", seconds(idle.keepalive_every))
            } else {
                "-".into()
            },
            if probe.died.is_none() { "yes" } else { "DIED" }.into(),
            match probe.died {
                None => format!("{:.1} ms", probe.answer_ms.unwrap_or_default()),
                Some(death) => format!("{}: {}", death.key(), probe.detail),
            },
        ]);
    }
    writeln!(
        out,
        "idle probe: up to {} s, {} connection(s), {:.1} s{}",
        seconds(idle.up_to),
        idle.probes.len(),
        idle.elapsed.as_secs_f64(),
        if idle.interrupted {
            " (interrupted: what is known so far)"
        } else {
            ""
        }
    )?;
    writeln!(out, "{table}")?;
    match (idle.cutoff(), idle.how) {
        (Some(died), Some(how)) => {
            writeln!(
                out,
                "idle cutoff: between {} and {} s (resolution {} s): {}",
                idle.lived.map_or("0".into(), seconds),
                seconds(died),
                idle.resolution().map_or("?".into(), seconds),
                how.words()
            )?;
            if let Some(message) = &idle.message {
                writeln!(out, "  the driver saw: {message}")?;
            }
            if how == Death::Silent {
                writeln!(
                    out,
                    "  the application would hang about {} s on such a connection before the driver hears of it",
                    seconds(idle_advice::silent_hang(idle))
                )?;
            }
            writeln!(
                out,
                "keepalives every {} s: {}",
                seconds(idle.keepalive_every),
                match idle.keepalive_survives {
                    Some(true) => "the connections survived the cutoff",
                    Some(false) => "the connections died all the same",
                    None =>
                        "not known (not probed past the cutoff, or the interval is not below it)",
                }
            )?;
        }
        _ => writeln!(
            out,
            "idle cutoff: none up to {} s",
            idle.lived.map_or("0".into(), seconds)
        )?,
    }
    for note in &idle.notes {
        writeln!(out, "note: {note}")?;
    }
    for line in advice {
        writeln!(out, "advice: {line}")?;
    }
    Ok(())
}

fn idle_json(idle: &IdleReport, advice: &[String]) -> Json {
    let secs = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    json!({
        "up_to_s": secs(idle.up_to),
        "cutoff_s": idle.cutoff().map(secs),
        "lived_s": idle.lived.map(secs),
        "resolution_s": idle.resolution().map(secs),
        "how": idle.how.map(Death::key),
        "message": idle.message,
        "hang_s": (idle.how == Some(Death::Silent)).then(|| secs(idle_advice::silent_hang(idle))),
        "keepalive_every_s": secs(idle.keepalive_every),
        "keepalive_survives": idle.keepalive_survives,
        "recycle_s": idle_advice::fitting_recycle(idle),
        "elapsed_s": secs(idle.elapsed),
        "interrupted": idle.interrupted,
        "notes": idle.notes,
        "advice": advice,
        "probes": idle.probes.iter().map(|p| json!({
            "idle_s": secs(p.idle),
            "keepalive": p.keepalive,
            "lived": p.died.is_none(),
            "how": p.died.map(Death::key),
            "detail": p.detail,
            "answer_ms": p.answer_ms,
        })).collect::<Vec<_>>(),
    })
}

fn stages_json(stages: &[Stage]) -> Json {
    Json::Array(
        stages
            .iter()
            .map(|s| json!({"name": s.name, "ok": s.ok, "ms": (s.ms * 1000.0).round() / 1000.0, "detail": s.detail}))
            .collect(),
    )
}

fn to_json(report: &PingReport) -> Json {
    let server = report.server().map(|s| {
        json!({
            "server_version": s.server_version,
            "in_recovery": s.in_recovery,
            "read_only": s.read_only,
            "max_connections": s.max_connections,
            "superuser_reserved_connections": s.superuser_reserved_connections,
            "reserved_connections": s.reserved_connections,
            "client_backends": s.client_backends,
            "role_connection_limit": s.role_connection_limit,
            "statement_timeout_ms": s.statement_timeout_ms,
            "idle_session_timeout_ms": s.idle_session_timeout_ms,
            "idle_in_transaction_session_timeout_ms": s.idle_in_transaction_session_timeout_ms,
        })
    });
    let last_stages = report
        .attempts
        .last()
        .map(|a| stages_json(&a.stages))
        .unwrap_or(Json::Array(Vec::new()));
    let mut doc = json!({
        "status": report.status.key(),
        "ready": report.status == crate::ping::Status::Accepting,
        "target": report.target,
        "stages": last_stages,
        "attempts": report.attempts.iter().map(|a| json!({"target": a.target, "status": a.status.key(), "stages": stages_json(&a.stages), "hint": a.hint})).collect::<Vec<_>>(),
        "server": server,
        "pooler": super::pooler_json(report.pooler()),
        "hint": report.hint,
        "findings": super::findings_json(&report.findings),
    });
    if let Some(trips) = &report.round_trips {
        doc["round_trips"] = json!({"count": trips.count, "min_ms": trips.min, "avg_ms": trips.avg, "max_ms": trips.max, "stddev_ms": trips.stddev});
    }
    if let Some((tries, seconds)) = report.waited {
        doc["waited"] = json!({"attempts": tries, "seconds": seconds});
    }
    if let Some(error) = &report.error {
        doc["error"] = json!(error);
    }
    if let Some(idle) = &report.idle {
        doc["idle"] = idle_json(idle, &report.idle_advice);
    }
    if let Some(error) = &report.idle_error {
        doc["idle_error"] = json!(error);
    }
    doc
}
