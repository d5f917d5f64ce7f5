//! History drift: the live schema against the history replayed up to the current revision.
//! Constraints and indexes the history says a table has that the database lacks, or has under
//! another name (the same kind and columns), and the ones it has that the history never made.
//! Warnings: the names a pending revision uses are the replay's errors already.

use std::collections::BTreeSet;

use crate::finding::{Code, Finding};
use crate::lint::model::{Object, Schema};

/// The drift of `live` from `history`, leaving out the names in `reported`.
pub(crate) fn drift(live: &Schema, history: &Schema, reported: &BTreeSet<&str>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in &history.tables {
        let Some(live_table) = live
            .tables
            .iter()
            .find(|t| t.schema == table.schema && t.name == table.name)
        else {
            findings.push(Finding::new(
                Code::HistoryDrift,
                format!(
                    "the migrations' history creates table {}.{}, which the database does not have; find out where it went before deploying (alembic stamp, a manual drop, another schema)",
                    table.schema, table.name
                ),
            ));
            continue;
        };
        let same = |a: &Object, b: &Object| a.kind == b.kind && a.columns == b.columns;
        for object in &table.objects {
            if reported.contains(object.name.as_str())
                || live_table.objects.iter().any(|o| o.name == object.name)
            {
                continue;
            }
            let message = match live_table.objects.iter().find(|o| same(o, object)) {
                Some(found) => format!(
                    "{}.{}: the migrations' history names {} {:?}, the database calls it {:?}; a revision that refers to it by the history's name will fail here (rename it back, or write the revision with the database's name)",
                    table.schema,
                    table.name,
                    object.kind.abbreviation(),
                    object.name,
                    found.name
                ),
                None => format!(
                    "{}.{}: the migrations' history creates {} {:?}, which the database does not have; a revision that drops it will fail here",
                    table.schema,
                    table.name,
                    object.kind.abbreviation(),
                    object.name
                ),
            };
            findings.push(Finding::new(Code::HistoryDrift, message));
        }
        for object in &live_table.objects {
            let known = table
                .objects
                .iter()
                .any(|o| o.name == object.name || same(o, object));
            if !known && !reported.contains(object.name.as_str()) {
                findings.push(Finding::new(
                    Code::HistoryDrift,
                    format!(
                        "{}.{}: the database has {} {:?}, which the migrations' history never creates; a revision that creates that name will fail here",
                        table.schema,
                        table.name,
                        object.kind.abbreviation(),
                        object.name
                    ),
                ));
            }
        }
    }
    findings
}
