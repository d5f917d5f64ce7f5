//! `dbtool ping`: a pg_isready-style first line, the stages, server facts, findings; or JSON.

use std::io::{self, Write};

use serde_json::{Value as Json, json};

use crate::cli::TableOrJson;
use crate::ping::{PingReport, Stage};

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
    doc
}
