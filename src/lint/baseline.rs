//! Baselines for adopting the lint in an existing database: record today's violations, then report
//! only new ones and list entries that no longer occur.

use std::path::Path;

use anyhow::Result;
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use crate::exit::invalid;
use crate::lint::rules::Violation;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct BaselineEntry {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) kind: String,
    pub(crate) name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    violations: Vec<BaselineEntry>,
}

fn entry(violation: &Violation) -> BaselineEntry {
    BaselineEntry {
        schema: violation.schema.clone(),
        table: violation.table.clone(),
        kind: violation.kind.abbreviation().to_string(),
        name: violation.name.clone(),
    }
}

pub(crate) fn write(path: &Path, violations: &[Violation]) -> Result<()> {
    let file = BaselineFile {
        version: 1,
        violations: violations.iter().map(entry).collect(),
    };
    let text = serde_json::to_string_pretty(&file)?;
    std::fs::write(path, text + "\n")
        .map_err(|e| invalid(format!("cannot write the baseline {}: {e}", path.display())))
}

/// Removes baselined violations; returns the baseline entries that no longer occur.
pub(crate) fn apply(path: &Path, violations: &mut Vec<Violation>) -> Result<Vec<BaselineEntry>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        invalid(format!(
            "cannot read the baseline {}: {e}; create it with --write-baseline",
            path.display()
        ))
    })?;
    let file: BaselineFile = serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "invalid baseline {}: {e}; recreate it with --write-baseline",
            path.display()
        ))
    })?;
    // Entries compared as (schema, table, kind, name), borrowed.
    fn key(v: &Violation) -> (&str, &str, &str, &str) {
        (&v.schema, &v.table, v.kind.abbreviation(), &v.name)
    }
    fn entry_key(e: &BaselineEntry) -> (&str, &str, &str, &str) {
        (&e.schema, &e.table, &e.kind, &e.name)
    }
    let current: FxHashSet<_> = violations.iter().map(key).collect();
    let stale = file
        .violations
        .iter()
        .filter(|e| !current.contains(&entry_key(e)))
        .cloned()
        .collect();
    let recorded: FxHashSet<_> = file.violations.iter().map(entry_key).collect();
    violations.retain(|v| !recorded.contains(&key(v)));
    Ok(stale)
}
