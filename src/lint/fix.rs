//! `--fix-sql`: one transaction renaming every violation, ordered so that no rename takes a name
//! still in use, and refusing renames that would collide.

use std::collections::{HashMap, HashSet};

use crate::lint::model::Schema;
use crate::lint::naming::Kind;
use crate::lint::rules::Violation;

/// Two or more objects that would end up with the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub schema: String,
    pub name: String,
    /// `table.name` of each object involved.
    pub objects: Vec<String>,
}

/// The namespace a name lives in: relations (indexes, and the indexes behind pk/uq/ex) per schema,
/// constraints per table.
fn namespaces(schema: &str, table: &str, kind: Kind) -> Vec<String> {
    let mut spaces = vec![format!("constraint:{schema}.{table}")];
    if matches!(kind, Kind::Ix | Kind::Pk | Kind::Uq | Kind::Ex) {
        spaces.push(format!("relation:{schema}"));
    }
    if kind == Kind::Ix {
        spaces.remove(0);
    }
    spaces
}

/// Marks violations whose rename would collide (their `fix` becomes `None`) and returns the collisions.
pub fn find_collisions(schema: &Schema, violations: &mut [Violation]) -> Vec<Collision> {
    // Every name in use after the renames: objects not renamed keep theirs.
    let renamed: HashSet<(String, String, String)> = violations
        .iter()
        .filter(|v| v.fix.is_some())
        .map(|v| (v.schema.clone(), v.table.clone(), v.name.clone()))
        .collect();
    let mut taken: HashMap<(String, String), Vec<String>> = HashMap::new();
    for table in &schema.tables {
        taken
            .entry((format!("relation:{}", table.schema), table.name.clone()))
            .or_default()
            .push(format!("table {}", table.name));
        for object in &table.objects {
            if renamed.contains(&(
                table.schema.clone(),
                table.name.clone(),
                object.name.clone(),
            )) {
                continue;
            }
            for space in namespaces(&table.schema, &table.name, object.kind) {
                taken
                    .entry((space, object.name.clone()))
                    .or_default()
                    .push(format!("{}.{}", table.name, object.name));
            }
        }
    }
    for violation in violations.iter().filter(|v| v.fix.is_some()) {
        let expected = violation.expected.clone().unwrap_or_default();
        for space in namespaces(&violation.schema, &violation.table, violation.kind) {
            taken
                .entry((space, expected.clone()))
                .or_default()
                .push(format!("{}.{}", violation.table, violation.name));
        }
    }
    let mut collisions = Vec::new();
    let mut colliding: HashSet<String> = HashSet::new();
    let mut keys: Vec<_> = taken
        .iter()
        .filter(|(_, owners)| owners.len() > 1)
        .collect();
    keys.sort();
    for ((space, name), owners) in keys {
        let schema_name = space
            .split_once(':')
            .map(|(_, s)| s.split('.').next().unwrap_or(s))
            .unwrap_or_default();
        collisions.push(Collision {
            schema: schema_name.to_string(),
            name: name.clone(),
            objects: owners.clone(),
        });
        colliding.extend(owners.iter().cloned());
    }
    for violation in violations.iter_mut() {
        if colliding.contains(&format!("{}.{}", violation.table, violation.name))
            && violation.fix.is_some()
        {
            violation.fix = None;
            violation
                .message
                .push_str("; not renamed: the expected name collides with another object");
        }
    }
    collisions.dedup();
    collisions
}

/// The script: renames ordered so a name is freed before it is taken.
pub fn script(violations: &[Violation]) -> String {
    let mut pending: Vec<&Violation> = violations.iter().filter(|v| v.fix.is_some()).collect();
    let mut ordered: Vec<&Violation> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let current: HashSet<(&str, &str)> = pending
            .iter()
            .map(|v| (v.schema.as_str(), v.name.as_str()))
            .collect();
        let (ready, blocked): (Vec<&Violation>, Vec<&Violation>) =
            pending.into_iter().partition(|v| {
                let target = v.expected.as_deref().unwrap_or_default();
                target == v.name || !current.contains(&(v.schema.as_str(), target))
            });
        if ready.is_empty() {
            // A cycle of renames (a swap): emit in order; the transaction fails rather than half-applies.
            ordered.extend(blocked);
            break;
        }
        ordered.extend(ready);
        pending = blocked;
    }
    let mut out = String::from(
        "-- dbtool lint-constraints --fix-sql: renames to the naming convention\nBEGIN;\n",
    );
    for violation in ordered {
        if let Some(fix) = &violation.fix {
            out.push_str(fix);
            out.push('\n');
        }
    }
    out.push_str("COMMIT;\n");
    out
}
