//! `dbtool check-migrations`: where the database stands and what the pending revisions will
//! meet, as a table, one JSON document, or the CI formats (`ci`).

use std::io::{self, Write};

use serde_json::json;

use super::ci::{self, Annotation};
use crate::check_migrations::MigrationsReport;
use crate::cli::Format;
use crate::finding::{Finding, Level};

pub(crate) fn write_check_migrations(
    out: &mut dyn Write,
    report: &MigrationsReport,
    format: Format,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, report),
        Format::Table => write_text(out, report, color),
        Format::Sarif => ci::write_sarif(out, &annotations(report)),
        Format::Github => ci::write_github(out, &annotations(report), &summary_line(report)),
        Format::Gitlab => ci::write_gitlab(out, &annotations(report), "Bug Risk"),
        Format::Junit => ci::write_junit(
            out,
            "dbtool check-migrations",
            "pending migrations",
            &annotations(report),
            &summary_line(report),
        ),
    }
}

/// One line: where the database stands and whether the upgrade will apply.
fn summary_line(report: &MigrationsReport) -> String {
    let pending = match &report.pending {
        Some(pending) => format!("{} pending revision(s)", pending.len()),
        None => "pending revisions unknown".to_string(),
    };
    let errors = report
        .all_findings()
        .filter(|f| f.level() == Level::Error)
        .count()
        + report.errors.len();
    let verdict = match (&report.fails_in, errors) {
        (Some(revision), _) => format!("alembic upgrade fails in revision {revision}"),
        (None, 0) => "the pending migrations will apply".to_string(),
        (None, n) => format!("{n} error(s): the upgrade will not apply as it is"),
    };
    format!(
        "check-migrations: database at {}, {pending}; {verdict}",
        revisions(&report.current)
    )
}

/// Every finding and migration error as the CI formats show it: the pending operations' at
/// their revision's file and line, the others about the database.
fn annotations(report: &MigrationsReport) -> Vec<Annotation> {
    let about_database = |finding: &Finding| Annotation {
        code: finding.code,
        title: finding.code.to_string(),
        message: finding.message.clone(),
        // the messages say what to do
        fix: None,
        location: None,
        subject: report.version_table.clone(),
        identity: finding.message.clone(),
        class: "database".to_string(),
    };
    let mut list: Vec<Annotation> = report.findings.iter().map(about_database).collect();
    list.extend(report.operations.iter().map(|o| {
        let object = o.object.as_deref().unwrap_or(&o.operation);
        Annotation {
            code: o.finding.code,
            title: format!("{} {object}", o.finding.code),
            message: o.finding.message.clone(),
            fix: None,
            location: Some((o.file.clone(), o.line, o.column)),
            subject: format!("{}:{object}", o.revision),
            identity: format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{object}",
                o.file, o.revision, o.operation
            ),
            class: format!("revision {}", o.revision),
        }
    }));
    list.extend(report.errors.iter().map(|e| Annotation {
        code: crate::finding::Code::MigrationGraphError,
        title: "migration error".to_string(),
        message: e.message.clone(),
        fix: None,
        location: Some((e.file.clone(), e.line, e.column)),
        subject: e.file.clone(),
        identity: format!("{}\u{1f}{}", e.file, e.message),
        class: "migrations".to_string(),
    }));
    list
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
