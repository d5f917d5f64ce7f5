//! `dbtool check-migrations`: where the database stands, as a table or one JSON document.

use std::io::{self, Write};

use serde_json::json;

use crate::check_migrations::MigrationsReport;
use crate::cli::TableOrJson;
use crate::finding::Level;

pub(crate) fn write_check_migrations(
    out: &mut dyn Write,
    report: &MigrationsReport,
    format: TableOrJson,
    color: bool,
) -> io::Result<()> {
    match format {
        TableOrJson::Json => write_json(out, report),
        TableOrJson::Table => write_text(out, report, color),
    }
}

/// "none" for an empty list, else the revisions separated by commas.
fn revisions(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

fn write_text(out: &mut dyn Write, report: &MigrationsReport, color: bool) -> io::Result<()> {
    let table = match &report.version_table_found {
        Some(found) => found.clone(),
        None => format!("{} (no such table: nothing applied)", report.version_table),
    };
    writeln!(out, "Version table: {table}")?;
    writeln!(out, "Current:       {}", revisions(&report.current))?;
    writeln!(out, "Heads:         {}", revisions(&report.heads))?;
    match &report.pending {
        None => writeln!(
            out,
            "Pending:       unknown (the database is at a revision this code cannot place)"
        )?,
        Some(pending) if pending.is_empty() => writeln!(out, "Pending:       none")?,
        Some(pending) => {
            writeln!(
                out,
                "Pending:       {} revision(s), in upgrade order",
                pending.len()
            )?;
            let mut table = super::new_table(&["Revision", "File", "Message"], color);
            for p in pending {
                table.add_row([p.revision.as_str(), p.file.as_str(), p.message.as_str()]);
            }
            writeln!(out, "{table}")?;
        }
    }
    if report.pending.as_ref().is_some_and(|p| !p.is_empty()) {
        let replay_fails = report
            .operations
            .iter()
            .any(|o| o.finding.level() == Level::Error);
        if report.heads.len() > 1 {
            writeln!(
                out,
                "Upgrade:       `alembic upgrade head` stops on {} heads before it runs any revision (the checks below are of `alembic upgrade heads`)",
                report.heads.len()
            )?;
        } else if let Some(revision) = &report.fails_in {
            writeln!(
                out,
                "Upgrade:       fails in revision {revision} (the first error below)"
            )?;
        } else if !replay_fails {
            writeln!(
                out,
                "Upgrade:       every pending operation finds what it names in this database"
            )?;
        }
    }
    for finding in report.all_findings() {
        let level = super::paint(
            finding.level().name(),
            finding.level() == Level::Error,
            color,
        );
        writeln!(out, "{level} [{}] {}", finding.code, finding.message)?;
    }
    if !report.errors.is_empty() {
        writeln!(
            out,
            "{} error(s) in the migrations (listed on stderr)",
            report.errors.len()
        )?;
    }
    Ok(())
}

fn write_json(out: &mut dyn Write, report: &MigrationsReport) -> io::Result<()> {
    let document = json!({
        "version_table": report.version_table,
        "version_table_found": report.version_table_found,
        "current": report.current,
        "heads": report.heads,
        "pending": report.pending,
        "fails_in": report.fails_in,
        "findings": findings_json(report),
        "errors": report
            .errors
            .iter()
            .map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message}))
            .collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// Where the database stands, then one entry per pending operation with its revision, file,
/// line, operation, object, what the database has and the fix.
fn findings_json(report: &MigrationsReport) -> serde_json::Value {
    let mut findings = match super::findings_json(&report.findings) {
        serde_json::Value::Array(list) => list,
        _ => Vec::new(),
    };
    for operation in &report.operations {
        let mut entry = json!({
            "code": operation.finding.code.as_str(),
            "level": operation.finding.level().name(),
            "message": operation.finding.message,
        });
        if let (Some(map), Ok(serde_json::Value::Object(more))) =
            (entry.as_object_mut(), serde_json::to_value(operation))
        {
            map.extend(more);
        }
        findings.push(entry);
    }
    serde_json::Value::Array(findings)
}
