//! `dbtool check-url`: the explanation table, findings and conversions; or one JSON object.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use crate::check_url::CheckUrlReport;
use crate::cli::Format;
use crate::secret::MASK;

pub fn write_check_url(
    out: &mut dyn Write,
    report: &CheckUrlReport,
    format: Format,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Table => write_text(out, report, color),
        Format::Json | Format::Sarif | Format::Github | Format::Gitlab | Format::Junit => {
            serde_json::to_writer_pretty(&mut *out, &to_json(report))?;
            writeln!(out)
        }
    }
}

fn write_text(out: &mut dyn Write, report: &CheckUrlReport, color: bool) -> io::Result<()> {
    writeln!(out, "{}", report.url_shown)?;
    if let Some(error) = &report.error {
        let at = error
            .position
            .map(|p| format!(" (at byte {p})"))
            .unwrap_or_default();
        writeln!(out, "invalid: {}{at}", error.message)?;
    }
    if !report.explanation.is_empty() {
        let mut table = super::new_table(&["Part", "Value", "Meaning"], color);
        for part in &report.explanation {
            table.add_row([&part.part, &part.value, &part.meaning]);
        }
        writeln!(out, "{table}")?;
    }
    if !report.driver_only_parameters.is_empty() {
        writeln!(
            out,
            "Query parameters for the driver only (libpq never sees them): {}",
            report.driver_only_parameters.join(", ")
        )?;
    }
    if report.findings.is_empty() {
        writeln!(out, "No findings.")?;
    } else {
        writeln!(out, "Findings:")?;
        for finding in &report.findings {
            let level = super::paint(
                finding.level.name(),
                finding.level == crate::check_url::Level::Error,
                color,
            );
            writeln!(out, "  {level} [{}] {}", finding.code, finding.message)?;
        }
    }
    if !report.conversions.is_empty() {
        writeln!(out, "Conversions:")?;
        for conversion in &report.conversions {
            match (&conversion.value, &conversion.note) {
                (Some(value), _) => writeln!(out, "  {:<26} {value}", conversion.label)?,
                (None, Some(note)) => {
                    writeln!(out, "  {:<26} (not expressible: {note})", conversion.label)?
                }
                (None, None) => {}
            }
        }
    }
    Ok(())
}

fn to_json(report: &CheckUrlReport) -> Json {
    let libpq: Map<String, Json> = report
        .libpq
        .iter()
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    let mut doc = json!({
        "valid": report.valid,
        "url": report.url_shown,
        "dialect": report.scheme.as_ref().map(|s| s.dialect.clone()),
        "driver": report.scheme.as_ref().and_then(|s| s.driver).map(|d| d.name()),
        "libpq": libpq,
        "driver_only_parameters": report.driver_only_parameters,
        "hosts": report.hosts.iter().map(|h| json!({"host": h.hostaddr.map_or_else(|| h.name(), |a| a.to_string()), "port": h.port.to_string(), "kind": h.kind.key()})).collect::<Vec<_>>(),
        "sqlalchemy": sqlalchemy_json(report),
        "explanation": report.explanation.iter().map(|p| json!({"part": p.part, "value": p.value, "meaning": p.meaning})).collect::<Vec<_>>(),
        "findings": report.findings.iter().map(|f| json!({"code": f.code, "level": f.level.name(), "message": f.message})).collect::<Vec<_>>(),
        "conversions": report.conversions.iter().map(|c| (c.key.to_string(), c.value.clone().map_or(Json::Null, Json::String))).collect::<Map<_, _>>(),
    });
    if let Some(error) = &report.error {
        doc["error"] = json!({"message": error.message, "position": error.position});
    }
    doc
}

fn sqlalchemy_json(report: &CheckUrlReport) -> Json {
    match &report.sqlalchemy {
        Some(Ok(reading)) => json!({
            "username": reading.username,
            "password": reading.password.as_ref().map(|p| if report.show_password { p.expose().to_string() } else { MASK.to_string() }),
            "host": reading.host,
            "port": reading.port,
            "database": reading.database,
            "query": reading.query.iter().map(|(k, v)| {
                let shown: Vec<&str> = v.iter().map(|x| if k == "password" && !report.show_password { MASK } else { x.as_str() }).collect();
                (k.clone(), json!(shown))
            }).collect::<Map<_, _>>(),
        }),
        Some(Err(message)) => json!({"error": message}),
        None => Json::Null,
    }
}
