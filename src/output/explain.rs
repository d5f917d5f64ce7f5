//! `dbtool explain`: one code's explanation, or the list of every code; table or JSON.

use std::io::{self, Write};

use serde_json::{Value as Json, json};

use crate::cli::TableOrJson;
use crate::explain::{self, Case};
use crate::finding::{Code, Level};

pub(crate) fn write_explain(
    out: &mut dyn Write,
    code: Option<Code>,
    format: TableOrJson,
    color: bool,
) -> io::Result<()> {
    match (format, code) {
        (TableOrJson::Table, Some(code)) => write_one(out, code, color),
        (TableOrJson::Table, None) => write_list(out, color),
        (TableOrJson::Json, Some(code)) => write_json(out, &entry(code)),
        (TableOrJson::Json, None) => write_json(
            out,
            &json!({"codes": Code::ALL.iter().map(|c| entry(*c)).collect::<Vec<_>>()}),
        ),
    }
}

fn write_one(out: &mut dyn Write, code: Code, color: bool) -> io::Result<()> {
    let kind = code.kind();
    let example = explain::example(code);
    let level = super::paint(kind.level.name(), kind.level == Level::Error, color);
    writeln!(
        out,
        "{}  ({level}; reported by {})",
        kind.code,
        example.reported_by.join(", ")
    )?;
    writeln!(out)?;
    writeln!(out, "What it means  {}.", kind.summary)?;
    writeln!(out, "How to fix     {}.", kind.fix)?;
    match example.case {
        Case::Offline(_) => writeln!(out, "Example        {}", example.case.render()),
        Case::Situation(text) => writeln!(out, "Example        {text}."),
    }
}

fn write_list(out: &mut dyn Write, color: bool) -> io::Result<()> {
    let mut table = super::new_table(&["code", "level", "reported by", "what it means"], color);
    for code in Code::ALL {
        let kind = code.kind();
        table.add_row([
            kind.code.to_string(),
            kind.level.name().to_string(),
            explain::example(*code).reported_by.join(", "),
            kind.summary.to_string(),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "{} codes; `dbtool explain CODE` explains one.",
        Code::ALL.len()
    )
}

fn entry(code: Code) -> Json {
    let kind = code.kind();
    let example = explain::example(code);
    let (command, situation) = match example.case {
        Case::Offline(_) => (Some(example.case.render()), None),
        Case::Situation(text) => (None, Some(text)),
    };
    json!({
        "code": kind.code,
        "level": kind.level.name(),
        "summary": kind.summary,
        "fix": kind.fix,
        "reported_by": example.reported_by,
        "example": {"command": command, "situation": situation},
    })
}

fn write_json(out: &mut dyn Write, value: &Json) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}
