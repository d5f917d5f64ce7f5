//! The CI formats that carry one annotation per finding, written the same way for every
//! subcommand that has them (lint-constraints, check-migrations): GitHub workflow commands,
//! GitLab Code Quality, JUnit XML, SARIF's tool section, and their escaping. An [`Annotation`] is
//! what those formats need of a finding; each subcommand maps its own findings onto it.

use std::io::{self, Write};

use serde_json::{Value as Json, json};

use crate::finding::{Code, Level};

/// One finding as the CI formats show it.
#[derive(Debug, Clone)]
pub(crate) struct Annotation {
    pub(crate) code: Code,
    /// Short: the code and the object.
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) fix: Option<String>,
    /// File, line and column, for findings in files.
    pub(crate) location: Option<(String, usize, usize)>,
    /// What it is about: SARIF's logical location and the path of a finding without a file
    /// (`database:...`).
    pub(crate) subject: String,
    /// With the code, what the fingerprint is made of: stable across runs (no line numbers).
    pub(crate) identity: String,
    /// JUnit's test class.
    pub(crate) class: String,
}

impl Annotation {
    /// Where it is, for reports that need a path: the file, else the database object, which
    /// GitLab shows as text.
    fn path(&self) -> (String, usize) {
        match &self.location {
            Some((file, line, _)) => (file.clone(), *line),
            None => (format!("database:{}", self.subject), 1),
        }
    }

    /// The message, then the fix after `separator` (`"\nfix: "`).
    fn body(&self, separator: &str) -> String {
        match &self.fix {
            Some(fix) => format!("{}{separator}{fix}", self.message),
            None => self.message.clone(),
        }
    }
}

/// GitHub workflow commands: `%`, CR and LF escaped in the message, also `:` and `,` in
/// properties; then the summary line.
pub(crate) fn write_github(
    out: &mut dyn Write,
    annotations: &[Annotation],
    summary: &str,
) -> io::Result<()> {
    for a in annotations {
        let mut properties = vec![format!("title={}", escape_property(&a.title))];
        if let Some((file, line, column)) = &a.location {
            properties.insert(
                0,
                format!("file={},line={line},col={column}", escape_property(file)),
            );
        }
        let command = match a.code.level() {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            escape_data(&a.body("\nfix: "))
        )?;
    }
    writeln!(out, "{summary}")
}

/// Fingerprints stable across runs (no line numbers, which move when a file is edited) and
/// unique per annotation: the md5 of code and identity, with an occurrence number for the rare
/// identity reported twice.
fn fingerprints(annotations: &[Annotation]) -> Vec<String> {
    use md5::{Digest, Md5};
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    annotations
        .iter()
        .map(|a| {
            let identity = format!("{}\u{1f}{}", a.code, a.identity);
            let occurrence = seen.entry(identity.clone()).or_insert(0);
            *occurrence += 1;
            let digest = Md5::digest(format!("{identity}\u{1f}{occurrence}").as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

/// GitLab Code Quality (the Code Climate subset GitLab reads): a JSON array of issues.
pub(crate) fn write_gitlab(
    out: &mut dyn Write,
    annotations: &[Annotation],
    category: &str,
) -> io::Result<()> {
    let issues: Vec<Json> = annotations
        .iter()
        .zip(fingerprints(annotations))
        .map(|(a, fingerprint)| {
            let (path, line) = a.path();
            json!({
                "type": "issue",
                "description": a.body(" Fix: "),
                "check_name": a.code.as_str(),
                "categories": [category],
                "fingerprint": fingerprint,
                "severity": if a.code.level() == Level::Error { "major" } else { "minor" },
                "location": {"path": path, "lines": {"begin": line}},
            })
        })
        .collect();
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    serde_json::to_writer_pretty(&mut out, &issues)?;
    writeln!(out)?;
    out.flush()
}

/// JUnit XML as GitLab and Jenkins read it: one failed test case per error (warnings are cases
/// that pass, with their text as output), and one that passes for the whole check, so a clean
/// run is a report with a passing test and not an empty one.
pub(crate) fn write_junit(
    out: &mut dyn Write,
    suite: &str,
    check: &str,
    annotations: &[Annotation],
    summary: &str,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let failures = annotations
        .iter()
        .filter(|a| a.code.level() == Level::Error)
        .count();
    let tests = annotations.len() + 1;
    let suite = xml_escape(suite);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="{suite}" tests="{tests}" failures="{failures}" errors="0">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{suite}" tests="{tests}" failures="{failures}" errors="0" skipped="0">"#
    )?;
    for a in annotations {
        let (path, line) = a.path();
        writeln!(
            out,
            r#"    <testcase classname="{}" name="{}" file="{}" line="{line}">"#,
            xml_escape(&a.class),
            xml_escape(&a.title),
            xml_escape(&path),
        )?;
        if a.code.level() == Level::Error {
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                xml_escape(a.code.as_str()),
                xml_escape(&a.message),
                xml_escape(&a.body("\nfix: "))
            )?;
        } else {
            writeln!(
                out,
                r#"      <system-out>{}</system-out>"#,
                xml_escape(&a.body("\nfix: "))
            )?;
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(
        out,
        r#"    <testcase classname="dbtool" name="{}"><system-out>{}</system-out></testcase>"#,
        xml_escape(check),
        xml_escape(summary)
    )?;
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")?;
    out.flush()
}

/// SARIF's `tool` section: dbtool, with each code reported described once.
pub(crate) fn sarif_tool(mut codes: Vec<Code>) -> Json {
    codes.sort_unstable_by_key(|code| code.as_str());
    codes.dedup();
    json!({"driver": {
        "name": "dbtool",
        "version": env!("CARGO_PKG_VERSION"),
        "informationUri": "https://github.com/dbtool/dbtool",
        "rules": codes.iter().map(|c| json!({"id": c.as_str(), "shortDescription": {"text": c.kind().summary}})).collect::<Vec<_>>(),
    }})
}

/// A SARIF 2.1.0 log of the annotations, on one line.
pub(crate) fn write_sarif(out: &mut dyn Write, annotations: &[Annotation]) -> io::Result<()> {
    let results: Vec<Json> = annotations
        .iter()
        .map(|a| {
            let physical = a.location.as_ref().map(|(file, line, column)| {
                json!({"artifactLocation": {"uri": file}, "region": {"startLine": line, "startColumn": column}})
            });
            json!({
                "ruleId": a.code.as_str(),
                "level": a.code.level().name(),
                "message": {"text": a.message},
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [{"fullyQualifiedName": a.subject, "kind": "object"}],
                }],
                "properties": {"fix": a.fix},
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": sarif_tool(annotations.iter().map(|a| a.code).collect()),
            "results": results,
        }],
    });
    serde_json::to_writer(&mut *out, &doc)?;
    writeln!(out)
}

/// Text for XML attributes and content; characters XML 1.0 cannot carry become U+FFFD.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' => escaped.push_str("&#10;"),
            '\t' | '\r' => escaped.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                escaped.push('\u{fffd}')
            }
            c => escaped.push(c),
        }
    }
    escaped
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
