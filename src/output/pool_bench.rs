//! `dbtool pool-bench`: the report (or one row per swept value, or with `--verify` the two runs
//! side by side), JSON, and the SVG plot.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value as Json, json};

use crate::cli::TableOrJson;
use crate::pool_bench::{
    Advice, AppReport, BenchReport, CostSource, Offered, Percentiles, Workload,
};

pub(super) type Run = (Option<String>, BenchReport);

/// `verify`: `runs` is the measured run, then (when there was a recommendation) the same load
/// with the recommended pool.
pub(crate) fn write_bench(
    out: &mut dyn Write,
    runs: &[Run],
    sweep_key: Option<&str>,
    verify: bool,
    format: TableOrJson,
    color: bool,
) -> io::Result<()> {
    match format {
        TableOrJson::Table => match (sweep_key, verify, runs) {
            (Some(key), _, _) => write_sweep(out, runs, key, color),
            (None, true, [(_, measured), (_, verified)]) => {
                write_report(out, measured, color)?;
                writeln!(out)?;
                write_verify(out, measured, verified, color)
            }
            _ => runs
                .iter()
                .try_for_each(|(_, report)| write_report(out, report, color)),
        },
        TableOrJson::Json => {
            let doc = match (sweep_key, verify, runs) {
                (None, true, [(_, measured), (_, verified)]) => {
                    let mut doc = to_json(measured);
                    doc["verify"] = to_json(verified);
                    doc
                }
                _ => match sweep_key {
                    Some(key) => Json::Array(
                        runs.iter()
                            .map(|(value, r)| {
                                let mut item = to_json(r);
                                item["sweep"] = json!({"key": key, "value": value});
                                item
                            })
                            .collect(),
                    ),
                    None => runs.first().map(|(_, r)| to_json(r)).unwrap_or(Json::Null),
                },
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
    }
}

fn workload_text(workload: &Workload) -> String {
    match workload {
        Workload::Query(sql) => format!("query {sql:?}"),
        Workload::Sleep(duration) => format!(
            "pg_sleep {} ms",
            crate::duration::format_number(duration.as_secs_f64() * 1000.0)
        ),
        Workload::Script(_) => "script (one transaction)".into(),
    }
}

fn percentile_row(name: &str, p: &Percentiles) -> [String; 7] {
    [
        name.to_string(),
        format!("{:.3}", p.mean),
        format!("{:.3}", p.p50),
        format!("{:.3}", p.p90),
        format!("{:.3}", p.p99),
        format!("{:.3}", p.p999),
        format!("{:.3}", p.max),
    ]
}

fn write_report(out: &mut dyn Write, report: &BenchReport, color: bool) -> io::Result<()> {
    let c = &report.config;
    let overflow = c
        .pool
        .max_overflow
        .map_or("unlimited".into(), |o| o.to_string());
    writeln!(
        out,
        "pool_size {} max_overflow {overflow} pool_timeout {:.1}s pre_ping {} · driver {} · {} · {}{}",
        c.pool.pool_size,
        c.pool.pool_timeout.as_secs_f64(),
        c.pool.pre_ping,
        c.driver,
        match c.rate {
            Some(rate) => format!(
                "open loop at {}/s, at most {} in flight",
                crate::duration::format_number(rate),
                c.clients
            ),
            None => format!("{} clients", c.clients),
        },
        workload_text(&c.workload),
        if c.commit { " · commit" } else { "" },
    )?;
    if report.interrupted {
        writeln!(out, "interrupted: the report covers what ran")?;
    }
    writeln!(
        out,
        "{} transactions in {:.1} s: {:.1} tps",
        report.transactions, report.elapsed, report.tps
    )?;
    let mut table = super::new_table(&["ms", "mean", "p50", "p90", "p99", "p99.9", "max"], color);
    table.add_row(percentile_row("latency", &report.latency));
    table.add_row(percentile_row("checkout wait", &report.wait));
    table.add_row(percentile_row("  at the limit", &report.queue_wait));
    table.add_row(percentile_row("held", &report.hold));
    writeln!(out, "{table}")?;
    let k = &report.connections;
    writeln!(
        out,
        "pool timeouts {} · checkouts that waited at the limit {} (overtaken {}) · most waiting {} · connections created {}, closed: overflow {}, recycle {}, pre-ping {}, broken {} · peak open {}, peak in use {}",
        report.timeouts,
        k.queued,
        k.overtaken,
        k.peak_waiting,
        k.created,
        k.closed_overflow,
        k.closed_recycle,
        k.closed_pre_ping,
        k.closed_broken,
        k.peak_open,
        k.peak_in_use
    )?;
    if !report.errors.is_empty() {
        let errors: Vec<String> = report
            .errors
            .iter()
            .map(|(code, n)| match report.error_messages.get(code) {
                Some(message) => format!("{code}: {n} ({message})"),
                None => format!("{code}: {n}"),
            })
            .collect();
        writeln!(out, "errors: {}", errors.join(", "))?;
    }
    if report.held_back > 0 {
        writeln!(
            out,
            "open loop: {} arrivals found all {} request slots taken and started late (--clients bounds the requests in flight)",
            report.held_back, c.clients
        )?;
    }
    if let Some(pooler) = &report.pooler {
        writeln!(out, "pooler: {}", super::pooler_line(Some(pooler)))?;
    }
    if let (Some(max), Some(peak)) = (report.server_max_connections, report.server_peak_backends) {
        writeln!(
            out,
            "server: peak {peak} backends with this application_name, max_connections {max}"
        )?;
    }
    let w = &report.wire;
    writeln!(
        out,
        "per request ({}): {:.2} round trips ({:.2} at checkout, {:.2} in the session), {:.2} statements; connection held {:.3} ms",
        c.driver,
        w.round_trips(),
        w.checkout_round_trips,
        w.request_round_trips,
        w.request_statements,
        report.mean_hold_ms
    )?;
    if let Some(app) = &report.app {
        write_application(out, app, c.workers)?;
    }
    writeln!(out, "{}", report.final_status.sqlalchemy_line())?;
    for line in &report.advice.text {
        writeln!(out, "advice: {line}")?;
    }
    if let Some(r) = &report.advice.recommended {
        writeln!(
            out,
            "recommended: DB_POOL_SIZE={} DB_MAX_OVERFLOW={}",
            r.pool_size, r.max_overflow
        )?;
    }
    Ok(())
}

/// The application model: where its time per round trip came from, the hold time's split, and
/// each worker loop's busy share.
fn write_application(out: &mut dyn Write, app: &AppReport, workers: u32) -> io::Result<()> {
    let model = &app.model;
    let source = match &model.source {
        CostSource::Flag => "--app-cpu-us".to_string(),
        CostSource::Default => "the driver's default".to_string(),
        CostSource::Calibrated(c) => format!(
            "calibrated with {} (Python {}, {}) at {}: {:.3} ms of CPU per request over {:.0} round trips, {} requests at {:.0}/s, p99 {:.2} ms, loop busy {:.0} %",
            c.python,
            c.python_version,
            versions_text(&c.versions),
            c.load,
            c.cpu_per_request.as_secs_f64() * 1000.0,
            c.round_trips_per_request,
            c.requests,
            c.tps,
            c.p99_ms,
            c.loop_utilization * 100.0
        ),
    };
    let handler = if model.handler.is_zero() {
        String::new()
    } else {
        format!(
            " + handler {} ms",
            crate::duration::format_number(model.handler.as_secs_f64() * 1000.0)
        )
    };
    writeln!(
        out,
        "application: {workers} worker(s) on {} core(s), {:.1} µs per round trip, {:.2} ms per connection{handler} ({source})",
        model.app_cpus.min(workers),
        model.app_cpu.as_secs_f64() * 1e6,
        model.connect_cpu.as_secs_f64() * 1000.0,
    )?;
    let loops: Vec<String> = app
        .utilization
        .iter()
        .map(|u| format!("{:.0} %", u * 100.0))
        .collect();
    writeln!(
        out,
        "connection held {:.3} ms = application {:.3} ms + database and waiting for the loop {:.3} ms · event loops busy {} · emulation {}",
        app.hold_application_ms + app.hold_database_ms,
        app.hold_application_ms,
        app.hold_database_ms,
        loops.join(", "),
        app.accuracy.map_or("idle".to_string(), |a| format!(
            "blocked the loops {:.1} % of the modelled time",
            a * 100.0
        ))
    )
}

fn versions_text(versions: &std::collections::BTreeMap<String, String>) -> String {
    versions
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The application model as JSON: `null` for the raw path.
fn app_json(app: Option<&AppReport>) -> Json {
    let Some(app) = app else { return Json::Null };
    let model = &app.model;
    let calibration = match &model.source {
        CostSource::Calibrated(c) => json!({
            "load": c.load,
            "requests": c.requests,
            "cpu_per_request_ms": c.cpu_per_request.as_secs_f64() * 1000.0,
            "connections_opened": c.connections_opened,
            "round_trips_per_request": c.round_trips_per_request,
            "loop_utilization": c.loop_utilization,
            "tps": c.tps,
            "p99_ms": c.p99_ms,
        }),
        _ => Json::Null,
    };
    let (python, versions) = match &model.source {
        CostSource::Calibrated(c) => (json!(c.python), json!(c.versions)),
        _ => (Json::Null, Json::Null),
    };
    json!({
        "app_cpu_us": model.app_cpu.as_secs_f64() * 1e6,
        "handler_ms": model.handler.as_secs_f64() * 1000.0,
        "connect_ms": model.connect_cpu.as_secs_f64() * 1000.0,
        "source": model.source.name(),
        "python": python,
        "versions": versions,
        "app_cpus": model.app_cpus,
        "calibration": calibration,
        "loop_utilization": app.utilization,
        "emulation_accuracy": app.accuracy,
        "hold_ms": {"application": app.hold_application_ms, "database_and_loop_wait": app.hold_database_ms},
    })
}

/// A row of the `--verify` table: its name, and its value in a run.
type VerifyRow = (&'static str, fn(&BenchReport) -> String);

/// `--verify`: the measured run and the run with the recommended pool, side by side.
fn write_verify(
    out: &mut dyn Write,
    measured: &BenchReport,
    verified: &BenchReport,
    color: bool,
) -> io::Result<()> {
    let pool = |r: &BenchReport| {
        format!(
            "{} + {}",
            r.config.pool.pool_size,
            r.config
                .pool
                .max_overflow
                .map_or("unlimited".into(), |o| o.to_string())
        )
    };
    let mut table = super::new_table(&["verify", "measured", "recommended"], color);
    let rows: [VerifyRow; 10] = [
        ("transactions/s", |r| format!("{:.1}", r.tps)),
        ("pool timeouts", |r| r.timeouts.to_string()),
        ("checkouts that waited at the limit", |r| {
            r.connections.queued.to_string()
        }),
        ("checkout wait p50 / p99 ms", |r| {
            format!("{:.3} / {:.3}", r.wait.p50, r.wait.p99)
        }),
        ("  at the limit p99 ms", |r| {
            format!("{:.3}", r.queue_wait.p99)
        }),
        ("latency p50 / p99 ms", |r| {
            format!("{:.3} / {:.3}", r.latency.p50, r.latency.p99)
        }),
        ("held mean / p99 ms", |r| {
            format!("{:.3} / {:.3}", r.hold.mean, r.hold.p99)
        }),
        ("errors", |r| r.errors.values().sum::<u64>().to_string()),
        ("peak open", |r| r.connections.peak_open.to_string()),
        ("transactions", |r| r.transactions.to_string()),
    ];
    table.add_row([
        "pool_size + max_overflow".to_string(),
        pool(measured),
        pool(verified),
    ]);
    for (name, value) in rows {
        table.add_row([name.to_string(), value(measured), value(verified)]);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "verify: {}", verdict(measured, verified))
}

/// What the second run shows about the recommendation, in one line.
fn verdict(measured: &BenchReport, verified: &BenchReport) -> String {
    let hold = verified.hold.mean;
    let outcome = if verified.timeouts == 0 && verified.queue_wait.p99 < hold / 2.0 {
        "the recommendation holds"
    } else {
        "the recommendation did not hold (hold times changed with more connections, or the server is the limit): \
         see the second run's advice"
    };
    format!(
        "{outcome}: {} pool timeouts (measured run: {}), checkout wait p99 {:.3} ms ({:.3} at the limit) against a \
         {hold:.3} ms mean hold",
        verified.timeouts, measured.timeouts, verified.wait.p99, verified.queue_wait.p99
    )
}

fn write_sweep(out: &mut dyn Write, runs: &[Run], key: &str, color: bool) -> io::Result<()> {
    let mut table = super::new_table(
        &[
            key,
            "tps",
            "p99 ms",
            "wait p99 ms",
            "timeouts",
            "errors",
            "peak open",
            "needed",
            "recommended",
        ],
        color,
    );
    for (value, r) in runs {
        table.add_row([
            value.clone().unwrap_or_default(),
            format!("{:.1}", r.tps),
            format!("{:.3}", r.latency.p99),
            format!("{:.3}", r.wait.p99),
            r.timeouts.to_string(),
            r.errors.values().sum::<u64>().to_string(),
            r.connections.peak_open.to_string(),
            format!("{:.1}", r.advice.connections_needed),
            r.advice
                .recommended
                .map(|r| format!("{} + {}", r.pool_size, r.max_overflow))
                .unwrap_or_default(),
        ]);
    }
    writeln!(out, "{table}")
}

fn percentiles_json(p: &Percentiles) -> Json {
    json!({"mean": p.mean, "p50": p.p50, "p90": p.p90, "p99": p.p99, "p999": p.p999, "max": p.max})
}

fn to_json(r: &BenchReport) -> Json {
    let c = &r.config;
    let k = &r.connections;
    json!({
        "config": {
            "pool_size": c.pool.pool_size,
            "max_overflow": c.pool.max_overflow.map_or(-1, i64::from),
            "pool_timeout": c.pool.pool_timeout.as_secs_f64(),
            "pool_recycle": c.pool.pool_recycle.map_or(-1.0, |d| d.as_secs_f64()),
            "pre_ping": c.pool.pre_ping,
            "use_lifo": c.pool.use_lifo,
            "statement_timeout": c.statement_timeout.as_secs_f64(),
            "clients": c.clients,
            "workload": workload_text(&c.workload),
            "driver": c.driver.name(),
            "commit": c.commit,
            "rate": c.rate,
            "workers": c.workers,
        },
        "transactions": r.transactions,
        "elapsed_s": r.elapsed,
        "tps": r.tps,
        "latency_ms": percentiles_json(&r.latency),
        "wait_ms": percentiles_json(&r.wait),
        "queue_wait_ms": percentiles_json(&r.queue_wait),
        "hold_ms": percentiles_json(&r.hold),
        "held_back": r.held_back,
        "per_request": {
            "round_trips": r.wire.round_trips(),
            "checkout_round_trips": r.wire.checkout_round_trips,
            "session_round_trips": r.wire.request_round_trips,
            "statements": r.wire.request_statements,
            "hold_ms": r.mean_hold_ms,
        },
        "max_waiting": k.peak_waiting,
        "timeouts": r.timeouts,
        "errors": r.errors,
        "error_messages": r.error_messages,
        "pooler": super::pooler_json(r.pooler.as_ref()),
        "pooler_findings": super::findings_json(&r.pooler_findings),
        "connections": {
            "created": k.created,
            "closed_overflow": k.closed_overflow,
            "closed_recycle": k.closed_recycle,
            "closed_pre_ping": k.closed_pre_ping,
            "closed_broken": k.closed_broken,
            "peak_open": k.peak_open,
            "peak_in_use": k.peak_in_use,
            "queued": k.queued,
            "overtaken": k.overtaken,
        },
        "server": {"max_connections": r.server_max_connections, "free_connections": r.server_free_connections, "peak_backends": r.server_peak_backends},
        "timeline": r.timeline.iter().map(|t| json!({"t": t.t, "tps": t.tps, "p99_ms": t.p99_ms, "open": t.open, "in_use": t.in_use, "idle": t.idle, "waiting": t.waiting, "errors": t.errors})).collect::<Vec<_>>(),
        "status": r.final_status.sqlalchemy_line(),
        "mean_hold_ms": r.mean_hold_ms,
        "advice": advice_json(&r.advice),
        "app_model": app_json(r.app.as_ref()),
        "interrupted": r.interrupted,
    })
}

/// The advice: its text, the recommended settings and the figures they come from.
fn advice_json(advice: &Advice) -> Json {
    let demand = advice.demand.as_ref().map(|d| {
        let (rate, clients, think) = match d.offered {
            Offered::Rate(rate) => (Some(rate), None, None),
            Offered::Clients { clients, think } => {
                (None, Some(clients), Some(think.as_secs_f64() * 1000.0))
            }
        };
        json!({
            "loop": if rate.is_some() { "open" } else { "closed" },
            "offered_rate": rate,
            "clients": clients,
            "think_ms": think,
            "hold_ms": {"mean": d.hold_mean_ms, "p99": d.hold_p99_ms},
            "connections_mean": d.mean,
            "connections_p999": d.p999,
            "assumption": d.assumption,
        })
    });
    let recommended = advice.recommended.map(|r| {
        json!({
            "pool_size": r.pool_size,
            "max_overflow": r.max_overflow,
            "capacity": r.capacity(),
            "wanted": r.wanted,
            "capped_by_server": r.capped_by_server,
        })
    });
    json!({
        "text": advice.text,
        "limit": advice.limit.name(),
        "recommended": recommended,
        "pool_was_limit": advice.pool_was_limit,
        "demand": demand,
        "connections_needed": advice.connections_needed,
        "capacity": advice.capacity,
    })
}

/// Throughput and p99 latency against the swept value, or over time for one run.
pub(crate) fn write_plot(path: &Path, runs: &[Run], sweep_key: Option<&str>) -> Result<()> {
    use plotters::prelude::*;
    let (label, points): (&str, Vec<(f64, f64, f64)>) = match sweep_key {
        Some(key) => (
            key,
            runs.iter()
                .filter_map(|(v, r)| {
                    Some((v.as_deref()?.parse::<f64>().ok()?, r.tps, r.latency.p99))
                })
                .collect(),
        ),
        None => (
            "seconds",
            runs.first()
                .map(|(_, r)| {
                    r.timeline
                        .iter()
                        .map(|t| (t.t as f64, t.tps, t.p99_ms))
                        .collect()
                })
                .unwrap_or_default(),
        ),
    };
    let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let x_min = points.iter().map(|p| p.0).fold(x_max, f64::min).min(0.0);
    let tps_max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let p99_max = points.iter().map(|p| p.2).fold(1.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("dbtool pool-bench", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .right_y_label_area_size(60)
            .build_cartesian_2d(x_min..x_max, 0.0..tps_max)?
            .set_secondary_coord(x_min..x_max, 0.0..p99_max);
        chart
            .configure_mesh()
            .x_desc(label)
            .y_desc("transactions/s")
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("p99 latency (ms)")
            .draw()?;
        chart
            .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), &BLUE))?
            .label("tps")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
        chart
            .draw_secondary_series(LineSeries::new(points.iter().map(|p| (p.0, p.2)), &RED))?
            .label("p99 ms")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
        chart.configure_series_labels().border_style(BLACK).draw()?;
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("writing the plot {}", path.display()))
}
