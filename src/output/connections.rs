//! `dbtool connections`: the plan against the limit and the verdict, the pooler, the sessions
//! open now, the watch's peaks, the findings; or JSON `{plan, pooler, live, watch, findings}`.

use std::io::{self, Write};

use serde_json::{Value as Json, json};

use crate::cli::TableOrJson;
use crate::connections::plan::{Budget, Verdict};
use crate::connections::{ConnectionsReport, application_name_hint};

pub(crate) fn write_connections(
    out: &mut dyn Write,
    report: &ConnectionsReport,
    format: TableOrJson,
    color: bool,
) -> io::Result<()> {
    match format {
        TableOrJson::Json => {
            serde_json::to_writer_pretty(&mut *out, &to_json(report))?;
            writeln!(out)
        }
        TableOrJson::Table => write_text(out, report, color),
    }
}

fn or_none(limit: Option<u64>) -> String {
    limit.map_or("none".into(), |l| l.to_string())
}

fn per_worker(pool_size: u32, max_overflow: Option<u32>) -> String {
    match max_overflow {
        Some(overflow) => format!("{pool_size} + {overflow}"),
        None => format!("{pool_size} + unlimited"),
    }
}

fn write_text(out: &mut dyn Write, report: &ConnectionsReport, color: bool) -> io::Result<()> {
    let identity = &report.identity;
    writeln!(
        out,
        "{} - role {} on database {}, PostgreSQL {}",
        report.target, identity.user, identity.database, identity.server_version
    )?;
    write_plan(out, report, color)?;
    if let Some(behind) = &report.pooler {
        writeln!(out, "pooler: {}", super::pooler_line(Some(&behind.pooler)))?;
        if let Some(limits) = &behind.limits {
            writeln!(
                out,
                "  pool_mode {}, max_client_conn {}, pool_size {} + reserve_pool_size {}, max_db_connections {}, max_user_connections {}: at most {} server connections for this database and user",
                limits.pool_mode,
                limits.max_client_conn,
                limits.pool_size,
                limits.reserve_pool_size,
                limits.max_db_connections,
                limits.max_user_connections,
                limits.server_connections()
            )?;
            let mut table = super::new_table(
                &[
                    "database",
                    "user",
                    "clients active",
                    "clients waiting",
                    "servers active",
                    "servers idle",
                    "max wait s",
                ],
                color,
            );
            for pool in &behind.pools {
                table.add_row([
                    pool.database.clone(),
                    pool.user.clone(),
                    pool.cl_active.to_string(),
                    pool.cl_waiting.to_string(),
                    pool.sv_active.to_string(),
                    (pool.sv_idle + pool.sv_used).to_string(),
                    pool.maxwait.to_string(),
                ]);
            }
            writeln!(out, "{table}")?;
        }
        if let Some(reason) = &behind.unreadable {
            writeln!(out, "  not read: {reason}")?;
        }
    }
    write_live(out, report, color)?;
    write_watch(out, report, color)?;
    for finding in &report.findings {
        writeln!(
            out,
            "{} [{}] {}",
            finding.level().name(),
            finding.code,
            finding.message
        )?;
    }
    Ok(())
}

fn write_plan(out: &mut dyn Write, report: &ConnectionsReport, color: bool) -> io::Result<()> {
    let budget = &report.budget;
    let limit = &budget.limit;
    if !budget.services.is_empty() || !budget.extras.is_empty() {
        let mut table = super::new_table(
            &[
                "service",
                "replicas",
                "workers",
                "pool + overflow",
                "worst case",
            ],
            color,
        );
        for service in &budget.services {
            let replicas = if budget.surge > 0 {
                format!("{} + {} surge", service.replicas, budget.surge)
            } else {
                service.replicas.to_string()
            };
            table.add_row([
                service.name.clone(),
                replicas,
                service.workers.to_string(),
                per_worker(service.pool_size, service.max_overflow)
                    + if service.pool_given {
                        ""
                    } else {
                        " (settings)"
                    },
                service
                    .worst_case(budget.surge)
                    .map_or("unlimited".into(), |n| n.to_string()),
            ]);
        }
        for extra in &budget.extras {
            table.add_row([
                extra.name.clone(),
                String::new(),
                String::new(),
                "fixed".into(),
                extra.connections.to_string(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    let terms: Vec<String> = limit
        .server_terms
        .iter()
        .enumerate()
        .map(|(i, term)| match i {
            0 => format!("{} {}", term.name, term.value),
            _ => format!("- {} {}", term.name, -term.value),
        })
        .collect();
    writeln!(
        out,
        "limit for role {}: {} ({} = {}; role CONNECTION LIMIT {}, database CONNECTION LIMIT {}{})",
        report.identity.user,
        limit.value,
        terms.join(" "),
        limit.server,
        or_none(limit.role),
        or_none(limit.database),
        if report.identity.limits.superuser {
            "; superuser: no reserved slots or connection limits apply"
        } else {
            ""
        }
    )?;
    let worst = budget
        .worst_case
        .map_or("unlimited".into(), |n| n.to_string());
    let verdict = match budget.verdict {
        Verdict::NoPlan => {
            "no plan: give --service NAME=REPLICASxWORKERS[:POOL+OVERFLOW]".to_string()
        }
        Verdict::Fits => format!("fits: worst case {worst} of {}", limit.value),
        Verdict::Over => format!("OVER: worst case {worst}, limit {}", limit.value),
        Verdict::Unbounded => "OVER: a pool without an overflow limit".to_string(),
        Verdict::Unknown => {
            format!("unknown: worst case {worst}; the pooler's limits could not be read")
        }
    };
    let alert = matches!(budget.verdict, Verdict::Over | Verdict::Unbounded);
    writeln!(
        out,
        "verdict: {}",
        super::paint(&verdict, alert, color && alert)
    )?;
    if let Some(per) = budget.largest_per_worker {
        let (pool, overflow) = Budget::split(per);
        writeln!(
            out,
            "largest pool per worker that fits: {per} (e.g. pool_size {pool} + max_overflow {overflow})"
        )?;
    }
    Ok(())
}

fn seconds(value: Option<f64>) -> String {
    value.map_or(String::new(), |s| format!("{s:.1} s"))
}

fn write_live(out: &mut dyn Write, report: &ConnectionsReport, color: bool) -> io::Result<()> {
    let live = &report.live;
    writeln!(
        out,
        "now: {} session(s) besides dbtool's, {} without application_name{}",
        live.total,
        live.unattributed,
        if live.hidden > 0 {
            format!(", {} of other roles with no state shown", live.hidden)
        } else {
            String::new()
        }
    )?;
    if live.applications.is_empty() {
        return Ok(());
    }
    let mut table = super::new_table(
        &[
            "application_name",
            "open",
            "in use",
            "idle in tx",
            "oldest idle in tx",
            "users",
            "client addresses",
        ],
        color,
    );
    for app in &live.applications {
        let name = if app.application_name.is_empty() {
            "(none)".to_string()
        } else {
            app.application_name.clone()
        };
        let in_use = if app.hidden > 0 {
            format!("{} (+{} hidden)", app.in_use, app.hidden)
        } else {
            app.in_use.to_string()
        };
        table.add_row([
            name,
            app.open.to_string(),
            in_use,
            app.idle_in_transaction.to_string(),
            seconds(app.oldest_idle_in_transaction),
            app.users.join(", "),
            app.client_addrs.join(", "),
        ]);
    }
    writeln!(out, "{table}")?;
    if let Some(longest) = &live.longest_transaction {
        writeln!(
            out,
            "longest transaction: pid {} ({}, user {}), {:.1} s, {}",
            longest.pid,
            if longest.application_name.is_empty() {
                "no application_name"
            } else {
                &longest.application_name
            },
            longest.user,
            longest.seconds,
            longest.state
        )?;
    }
    Ok(())
}

fn write_watch(out: &mut dyn Write, report: &ConnectionsReport, color: bool) -> io::Result<()> {
    let Some(watch) = &report.watch else {
        return Ok(());
    };
    writeln!(
        out,
        "watched {:.1} s, {} samples:",
        watch.seconds, watch.samples
    )?;
    if watch.applications.is_empty() {
        return writeln!(out, "  no session besides dbtool's");
    }
    let mut table = super::new_table(
        &[
            "application_name",
            "peak open",
            "peak in use",
            "p50 in use",
            "p99 in use",
            "peak idle in tx",
        ],
        color,
    );
    for app in &watch.applications {
        table.add_row([
            if app.application_name.is_empty() {
                "(none)".to_string()
            } else {
                app.application_name.clone()
            },
            app.peak_open.to_string(),
            app.peak_in_use.to_string(),
            app.p50_in_use.to_string(),
            app.p99_in_use.to_string(),
            app.peak_idle_in_transaction.to_string(),
        ]);
    }
    writeln!(out, "{table}")?;
    for app in &watch.applications {
        if let Some((service, capacity)) = report.capacity(&app.application_name) {
            writeln!(
                out,
                "{} used at most {} of its {capacity} ({} process(es) × {}), {} open at most",
                app.application_name,
                app.peak_in_use,
                service.processes(0),
                per_worker(service.pool_size, service.max_overflow),
                app.peak_open
            )?;
        }
    }
    Ok(())
}

fn to_json(report: &ConnectionsReport) -> Json {
    let budget = &report.budget;
    let limit = &budget.limit;
    let identity = &report.identity;
    let services: Vec<Json> = budget
        .services
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "replicas": s.replicas,
                "surge_replicas": budget.surge,
                "workers": s.workers,
                "pool_size": s.pool_size,
                "max_overflow": s.max_overflow.map_or(-1, i64::from),
                "pool_from": if s.pool_given { "flag" } else { "settings" },
                "per_worker": s.per_worker(),
                "worst_case": s.worst_case(budget.surge),
            })
        })
        .collect();
    let plan = json!({
        "services": services,
        "extras": budget.extras.iter().map(|e| json!({"name": e.name, "connections": e.connections})).collect::<Vec<_>>(),
        "surge": budget.surge,
        "worst_case": budget.worst_case,
        "limit": {
            "value": limit.value,
            "binding": limit.binding.key(),
            "server": limit.server,
            "terms": limit.server_terms.iter().map(|t| json!({"name": t.name, "value": t.value, "note": t.note})).collect::<Vec<_>>(),
            "role": limit.role,
            "database": limit.database,
        },
        "verdict": budget.verdict.key(),
        "largest_per_worker": budget.largest_per_worker,
    });
    let server = json!({
        "server_version": identity.server_version,
        "major": identity.limits.major,
        "max_connections": identity.limits.max_connections,
        "superuser_reserved_connections": identity.limits.superuser_reserved_connections,
        "reserved_connections": identity.limits.reserved_connections,
        "user": identity.user,
        "database": identity.database,
        "superuser": identity.limits.superuser,
        "pg_use_reserved_connections": identity.limits.uses_reserved,
        "sees_all_sessions": identity.sees_all,
        "role_connection_limit": identity.limits.role_limit,
        "database_connection_limit": identity.limits.database_limit,
    });
    let live = &report.live;
    let applications: Vec<Json> = live
        .applications
        .iter()
        .map(|a| {
            json!({
                "application_name": a.application_name,
                "open": a.open,
                "in_use": a.in_use,
                "idle_in_transaction": a.idle_in_transaction,
                "oldest_idle_in_transaction_s": a.oldest_idle_in_transaction,
                "hidden": a.hidden,
                "users": a.users,
                "client_addrs": a.client_addrs,
                "planned": a.planned,
            })
        })
        .collect();
    let live_json = json!({
        "total": live.total,
        "unattributed": live.unattributed,
        "hidden": live.hidden,
        "application_name_hint": (live.unattributed > 0).then(|| application_name_hint(report.driver)),
        "applications": applications,
        "longest_transaction": live.longest_transaction.as_ref().map(|t| json!({
            "pid": t.pid, "application_name": t.application_name, "user": t.user, "state": t.state, "seconds": t.seconds,
        })),
    });
    let watch = report.watch.as_ref().map(|w| {
        json!({
            "seconds": w.seconds,
            "samples": w.samples,
            "interval_ms": crate::connections::watch::INTERVAL.as_millis() as u64,
            "applications": w.applications.iter().map(|a| {
                let capacity = report.capacity(&a.application_name).map(|(_, c)| c);
                json!({
                    "application_name": a.application_name,
                    "open": a.open,
                    "in_use": a.in_use,
                    "peak_open": a.peak_open,
                    "peak_in_use": a.peak_in_use,
                    "p50_in_use": a.p50_in_use,
                    "p99_in_use": a.p99_in_use,
                    "peak_idle_in_transaction": a.peak_idle_in_transaction,
                    "peak_hidden": a.peak_hidden,
                    "planned_capacity": capacity,
                })
            }).collect::<Vec<_>>(),
        })
    });
    let pooler = report.pooler.as_ref().map(|behind| {
        json!({
            "pooler": super::pooler_json(Some(&behind.pooler)),
            "limits": behind.limits.as_ref().map(|l| json!({
                "pool_mode": l.pool_mode,
                "max_client_conn": l.max_client_conn,
                "pool_size": l.pool_size,
                "reserve_pool_size": l.reserve_pool_size,
                "max_db_connections": l.max_db_connections,
                "max_user_connections": l.max_user_connections,
                "query_wait_timeout": l.query_wait_timeout,
            })),
            "server_connections": behind.server_connections,
            "pools": behind.pools.iter().map(|p| json!({
                "database": p.database, "user": p.user, "cl_active": p.cl_active, "cl_waiting": p.cl_waiting,
                "sv_active": p.sv_active, "sv_idle": p.sv_idle, "sv_used": p.sv_used, "maxwait": p.maxwait, "pool_mode": p.pool_mode,
            })).collect::<Vec<_>>(),
            "unreadable": behind.unreadable,
        })
    });
    json!({
        "target": report.target,
        "server": server,
        "plan": plan,
        "pooler": pooler,
        "live": live_json,
        "watch": watch,
        "findings": super::findings_json(&report.findings),
    })
}
