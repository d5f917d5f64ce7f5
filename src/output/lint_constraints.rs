//! `dbtool lint-constraints`: table grouped by table, JSON, SARIF 2.1.0, GitHub annotations, and
//! the `--fix-sql` script.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::ci::{self, Annotation};
use crate::cli::Format;
use crate::lint::{LintReport, Violation};

pub(crate) fn write_lint(
    out: &mut dyn Write,
    report: &LintReport,
    format: Format,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Table => write_text(out, report, color),
        Format::Json => write_json(out, report),
        Format::Sarif => write_sarif(out, report),
        Format::Github => write_github(out, report),
        Format::Gitlab => write_gitlab(out, report),
        Format::Junit => write_junit(out, report),
    }
}

/// Statements of SQL files that could not be parsed or replayed, one `FILE:LINE:COLUMN: message`
/// line each on stderr (the JSON report carries them too).
pub(crate) fn write_file_errors(errors: &[crate::lint::sqlfile::FileError]) {
    for error in errors {
        eprintln!("{}", crate::url::redact_text(&error.to_string()));
    }
}

pub(crate) fn write_fix_sql(
    out: &mut dyn Write,
    report: &LintReport,
    lock_timeout: std::time::Duration,
) -> io::Result<()> {
    out.write_all(report.fix_sql(lock_timeout).as_bytes())?;
    for collision in &report.collisions {
        let line = format!(
            "not renamed: {} would be the name of {} in schema {}",
            collision.name,
            collision.objects.join(" and "),
            collision.schema
        );
        writeln!(out, "-- {}", crate::lint::fix::comment_text(&line))?;
    }
    Ok(())
}

fn summary_line(report: &LintReport) -> String {
    let mut line = format!(
        "{} violation(s) in {} object(s) checked; {} inherited by partitions or child tables skipped",
        report.violations.len(),
        report.objects_checked,
        report.skipped
    );
    if report.ignored > 0 {
        line.push_str(&format!("; {} ignored", report.ignored));
    }
    if report.baselined > 0 {
        line.push_str(&format!("; {} in the baseline", report.baselined));
    }
    if !report.errors.is_empty() {
        line.push_str(&format!(
            "; {} statement(s) could not be read",
            report.errors.len()
        ));
    }
    line
}

fn write_text(out: &mut dyn Write, report: &LintReport, color: bool) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let mut current: Option<(&str, &str)> = None;
    for violation in &report.violations {
        let table = (violation.schema.as_str(), violation.table.as_str());
        if current != Some(table) {
            let name = format!("{}.{}", table.0, table.1);
            writeln!(out, "{}", super::paint(&name, false, color))?;
            current = Some(table);
        }
        let place = violation
            .location
            .as_ref()
            .map(|l| format!("{}:{}:{}: ", l.file, l.line, l.column))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<3} {place}{}",
            violation.kind.abbreviation(),
            violation.message()
        )?;
        if let Some(fix) = violation.fix() {
            writeln!(out, "      fix: {fix}")?;
        }
    }
    for collision in &report.collisions {
        writeln!(
            out,
            "collision: {} would be the name of {} in schema {}; rename one of them by hand",
            collision.name,
            collision.objects.join(" and "),
            collision.schema
        )?;
    }
    for entry in &report.stale_baseline {
        writeln!(
            out,
            "baseline entry no longer occurs: {}.{}.{} ({})",
            entry.schema, entry.table, entry.name, entry.kind
        )?;
    }
    writeln!(out, "{}", summary_line(report))?;
    out.flush()
}

/// One violation as JSON, serialized straight from the report (no intermediate tree).
#[derive(Serialize)]
struct JsonViolation<'a> {
    schema: &'a str,
    table: &'a str,
    kind: &'static str,
    name: &'a str,
    expected: Option<&'a str>,
    rule: &'a str,
    message: String,
    fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

impl<'a> From<&'a Violation> for JsonViolation<'a> {
    fn from(v: &'a Violation) -> Self {
        JsonViolation {
            schema: &v.schema,
            table: &v.table,
            kind: v.kind.abbreviation(),
            name: &v.name,
            expected: v.expected.as_deref(),
            rule: v.rule.as_str(),
            message: v.message(),
            fix: v.fix(),
            file: v.location.as_ref().map(|l| l.file.as_str()),
            line: v.location.as_ref().map(|l| l.line),
            column: v.location.as_ref().map(|l| l.column),
        }
    }
}

/// Everything after the violations.
#[derive(Serialize)]
struct JsonRest<'a> {
    collisions: Json,
    stale_baseline: &'a [crate::lint::baseline::BaselineEntry],
    errors: Json,
    /// `{heads, revisions, order}` when Alembic migrations were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    alembic: Option<&'a crate::lint::alembic::Graph>,
    summary: Json,
}

/// Violations as comma-separated JSON objects, `first` starting the list.
fn render_violations(chunk: &[Violation], first: bool) -> Result<Vec<u8>, serde_json::Error> {
    let mut buffer = Vec::with_capacity(chunk.len() * 384);
    for (i, violation) in chunk.iter().enumerate() {
        if i > 0 || !first {
            buffer.push(b',');
        }
        serde_json::to_writer(&mut buffer, &JsonViolation::from(violation))?;
    }
    Ok(buffer)
}

/// Writes the violations; a large report is rendered in chunks on two threads (the server is
/// idle by then), written in order.
fn write_violations(out: &mut impl Write, violations: &[Violation]) -> io::Result<()> {
    const CHUNK: usize = 2048;
    let chunks: Vec<&[Violation]> = violations.chunks(CHUNK).collect();
    if chunks.len() < 4 {
        for (k, chunk) in chunks.iter().enumerate() {
            out.write_all(&render_violations(chunk, k == 0)?)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(2);
        let odd: Vec<&[Violation]> = chunks.iter().skip(1).step_by(2).copied().collect();
        let helper = std::thread::Builder::new().spawn_scoped(scope, move || {
            for chunk in odd {
                // The receiver is gone only when writing failed: stop too.
                if sender.send(render_violations(chunk, false)).is_err() {
                    break;
                }
            }
        });
        // Without a helper thread, every chunk is rendered here.
        let helped = helper.is_ok();
        for (k, chunk) in chunks.iter().enumerate() {
            let rendered = if k % 2 == 0 || !helped {
                render_violations(chunk, k == 0)
            } else {
                receiver
                    .recv()
                    .map_err(|_| io::Error::other("rendering the report stopped"))?
            };
            out.write_all(&rendered?)?;
        }
        Ok(())
    })
}

fn write_json(out: &mut dyn Write, report: &LintReport) -> io::Result<()> {
    let rest = JsonRest {
        collisions: report
            .collisions
            .iter()
            .map(|c| json!({"schema": c.schema, "name": c.name, "objects": c.objects}))
            .collect(),
        stale_baseline: &report.stale_baseline,
        errors: report
            .errors
            .iter()
            .map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message}))
            .collect(),
        alembic: report.alembic.as_ref(),
        summary: json!({
            "objects_checked": report.objects_checked,
            "violations": report.violations.len(),
            "skipped": report.skipped,
            "ignored": report.ignored,
            "baselined": report.baselined,
        }),
    };
    // Compact (one line; `jq .` reads it): a large schema has tens of thousands of violations,
    // and indentation would add a fifth to the bytes every consumer has to read.
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    out.write_all(b"{\"violations\":[")?;
    write_violations(&mut out, &report.violations)?;
    out.write_all(b"],")?;
    // The rest as its own object, without its opening brace.
    let rest = serde_json::to_vec(&rest)?;
    out.write_all(rest.get(1..).unwrap_or_default())?;
    writeln!(out)?;
    out.flush()
}

/// One SARIF result, serialized straight from a violation.
#[derive(Serialize)]
struct SarifResult<'a> {
    #[serde(rename = "ruleId")]
    rule_id: &'a str,
    level: &'static str,
    message: SarifText,
    locations: [SarifLocation; 1],
    properties: SarifProperties<'a>,
}

#[derive(Serialize)]
struct SarifText {
    text: String,
}

#[derive(Serialize)]
struct SarifLocation {
    #[serde(rename = "physicalLocation", skip_serializing_if = "Option::is_none")]
    physical: Option<Json>,
    #[serde(rename = "logicalLocations")]
    logical: [SarifLogical; 1],
}

#[derive(Serialize)]
struct SarifLogical {
    #[serde(rename = "fullyQualifiedName")]
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct SarifProperties<'a> {
    kind: &'static str,
    expected: Option<&'a str>,
    fix: Option<String>,
}

impl<'a> From<&'a Violation> for SarifResult<'a> {
    fn from(v: &'a Violation) -> Self {
        SarifResult {
            rule_id: v.rule.as_str(),
            level: v.rule.level().name(),
            message: SarifText { text: v.message() },
            locations: [SarifLocation {
                physical: v.location.as_ref().map(|l| {
                    json!({"artifactLocation": {"uri": l.file}, "region": {"startLine": l.line, "startColumn": l.column}})
                }),
                logical: [SarifLogical {
                    fully_qualified_name: format!("{}.{}.{}", v.schema, v.table, v.name),
                    kind: "object",
                }],
            }],
            properties: SarifProperties {
                kind: v.kind.abbreviation(),
                expected: v.expected.as_deref(),
                fix: v.fix(),
            },
        }
    }
}

/// The results, each rendered as it is written.
struct SarifResults<'a>(&'a [Violation]);

impl Serialize for SarifResults<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(SarifResult::from))
    }
}

#[derive(Serialize)]
struct SarifRun<'a> {
    tool: Json,
    results: SarifResults<'a>,
}

#[derive(Serialize)]
struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun<'a>; 1],
}

fn write_sarif(out: &mut dyn Write, report: &LintReport) -> io::Result<()> {
    let doc = SarifLog {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [SarifRun {
            tool: ci::sarif_tool(report.violations.iter().map(|v| v.rule).collect()),
            results: SarifResults(&report.violations),
        }],
    };
    // Streamed like the JSON report, and compact for the same reason.
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    serde_json::to_writer(&mut out, &doc)?;
    writeln!(out)?;
    out.flush()
}

/// A violation as the CI formats show it.
fn annotation(v: &Violation) -> Annotation {
    Annotation {
        code: v.rule,
        title: format!("{} {}", v.rule, v.name),
        message: v.message(),
        fix: v.fix(),
        location: v
            .location
            .as_ref()
            .map(|l| (l.file.clone(), l.line, l.column)),
        subject: v.key(),
        identity: format!(
            "{}\u{1f}{}\u{1f}{}",
            v.kind.abbreviation(),
            v.key(),
            v.location.as_ref().map_or("", |l| l.file.as_str())
        ),
        class: format!("{}.{}", v.schema, v.table),
    }
}

fn annotations(report: &LintReport) -> Vec<Annotation> {
    report.violations.iter().map(annotation).collect()
}

fn write_github(out: &mut dyn Write, report: &LintReport) -> io::Result<()> {
    ci::write_github(out, &annotations(report), &summary_line(report))
}

fn write_gitlab(out: &mut dyn Write, report: &LintReport) -> io::Result<()> {
    ci::write_gitlab(out, &annotations(report), "Style")
}

fn write_junit(out: &mut dyn Write, report: &LintReport) -> io::Result<()> {
    let mut annotations = annotations(report);
    for (a, v) in annotations.iter_mut().zip(&report.violations) {
        a.title = format!("{} {} {}", v.rule, v.kind.abbreviation(), v.name);
    }
    ci::write_junit(
        out,
        "dbtool lint-constraints",
        "naming convention",
        &annotations,
        &summary_line(report),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::naming::Kind;

    fn report(count: usize) -> LintReport {
        LintReport {
            violations: (0..count)
                .map(|i| Violation {
                    position: (i as u32, 0),
                    ..Violation::example(
                        &format!("t{i}"),
                        Kind::Pk,
                        &format!("t{i}_pkey"),
                        &format!("pk_t{i}"),
                    )
                })
                .collect(),
            collisions: Vec::new(),
            objects_checked: count,
            skipped: 0,
            ignored: 0,
            baselined: 0,
            stale_baseline: Vec::new(),
            errors: Vec::new(),
            alembic: None,
            references: Vec::new(),
        }
    }

    #[test]
    fn a_collision_between_hostile_names_stays_a_comment_in_the_fix_script() {
        let mut report = report(1);
        report.collisions.push(crate::lint::Collision {
            schema: "public".to_string(),
            name: "x\nDROP TABLE users;".to_string(),
            objects: vec!["t.a".to_string(), "t.b\r\nDROP TABLE t;".to_string()],
        });
        let mut out = Vec::new();
        write_fix_sql(&mut out, &report, std::time::Duration::from_secs(2)).unwrap();
        let script = String::from_utf8(out).unwrap();
        let last = script.lines().last().unwrap();
        assert!(
            last.starts_with("-- not renamed: x\\nDROP TABLE users;") && !script.contains("\nDROP"),
            "{script}"
        );
    }

    #[test]
    fn json_reports_of_every_size_are_one_document_in_order() {
        // 0, a few, and enough for the two-thread rendering (odd chunks on the helper).
        for count in [0, 3, 2048 * 5 + 7] {
            let mut out = Vec::new();
            write_json(&mut out, &report(count)).unwrap();
            assert!(out.ends_with(b"}\n"));
            let json: Json = serde_json::from_slice(&out).unwrap();
            let violations = json["violations"].as_array().unwrap();
            assert_eq!(violations.len(), count);
            for (i, v) in violations.iter().enumerate() {
                assert_eq!(v["name"], format!("t{i}_pkey"));
            }
            assert_eq!(json["summary"]["violations"], count);
            assert_eq!(json["collisions"], Json::Array(Vec::new()));
            if count > 0 {
                assert_eq!(
                    violations[count - 1]["fix"],
                    format!("ALTER INDEX public.t{0}_pkey RENAME TO pk_t{0};", count - 1)
                );
            }
        }
    }
}
