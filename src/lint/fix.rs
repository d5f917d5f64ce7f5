//! `--fix-sql`: one transaction renaming every violation, ordered so that no rename takes a name
//! still in use, and refusing renames that would collide.

use std::collections::HashSet;

use rustc_hash::{FxHashMap, FxHashSet};

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

/// The namespace a name lives in: relations (tables, indexes, and the indexes behind pk/uq/ex)
/// per schema, constraints per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Space<'a> {
    Relation(&'a str),
    Constraint(&'a str, &'a str),
}

fn spaces<'a>(schema: &'a str, table: &'a str, kind: Kind) -> impl Iterator<Item = Space<'a>> {
    let relation = matches!(kind, Kind::Ix | Kind::Pk | Kind::Uq | Kind::Ex)
        .then_some(Space::Relation(schema));
    let constraint = (kind != Kind::Ix).then_some(Space::Constraint(schema, table));
    relation.into_iter().chain(constraint)
}

/// Marks violations whose rename would collide (their `fix` becomes `None`) and returns the collisions.
pub fn find_collisions(schema: &Schema, violations: &mut [Violation]) -> Vec<Collision> {
    let renamed: FxHashSet<(&str, &str, &str)> = violations
        .iter()
        .filter(|v| v.fix.is_some())
        .map(|v| (v.schema.as_str(), v.table.as_str(), v.name.as_str()))
        .collect();
    // Every name in use after the renames, with who holds it: objects not renamed keep theirs.
    let mut holders: Vec<(Space<'_>, &str, String)> = Vec::new();
    for table in &schema.tables {
        holders.push((
            Space::Relation(&table.schema),
            &table.name,
            format!("table {}", table.name),
        ));
        for object in &table.objects {
            if renamed.contains(&(
                table.schema.as_str(),
                table.name.as_str(),
                object.name.as_str(),
            )) {
                continue;
            }
            for space in spaces(&table.schema, &table.name, object.kind) {
                holders.push((space, &object.name, String::new()));
            }
        }
    }
    for violation in violations.iter().filter(|v| v.fix.is_some()) {
        let expected = violation.expected.as_deref().unwrap_or_default();
        for space in spaces(&violation.schema, &violation.table, violation.kind) {
            holders.push((space, expected, String::new()));
        }
    }
    let mut counts: FxHashMap<(Space<'_>, &str), u32> = FxHashMap::default();
    counts.reserve(holders.len());
    for (space, name, _) in &holders {
        *counts.entry((*space, name)).or_default() += 1;
    }
    if counts.values().all(|count| *count < 2) {
        return Vec::new();
    }
    // Only now name the owners of the names held twice.
    let mut owners: FxHashMap<(Space<'_>, &str), Vec<String>> = FxHashMap::default();
    for table in &schema.tables {
        for object in &table.objects {
            let keep = !renamed.contains(&(
                table.schema.as_str(),
                table.name.as_str(),
                object.name.as_str(),
            ));
            for space in spaces(&table.schema, &table.name, object.kind) {
                if keep
                    && counts
                        .get(&(space, object.name.as_str()))
                        .is_some_and(|c| *c > 1)
                {
                    owners
                        .entry((space, &object.name))
                        .or_default()
                        .push(format!("{}.{}", table.name, object.name));
                }
            }
        }
        if counts
            .get(&(Space::Relation(&table.schema), table.name.as_str()))
            .is_some_and(|c| *c > 1)
        {
            owners
                .entry((Space::Relation(&table.schema), &table.name))
                .or_default()
                .push(format!("table {}", table.name));
        }
    }
    for violation in violations.iter().filter(|v| v.fix.is_some()) {
        let expected = violation.expected.as_deref().unwrap_or_default();
        for space in spaces(&violation.schema, &violation.table, violation.kind) {
            if counts.get(&(space, expected)).is_some_and(|c| *c > 1) {
                owners
                    .entry((space, expected))
                    .or_default()
                    .push(format!("{}.{}", violation.table, violation.name));
            }
        }
    }
    let mut collisions: Vec<Collision> = owners
        .into_iter()
        .map(|((space, name), objects)| {
            let schema = match space {
                Space::Relation(schema) | Space::Constraint(schema, _) => schema,
            };
            Collision {
                schema: schema.to_string(),
                name: name.to_string(),
                objects,
            }
        })
        .collect();
    collisions.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    collisions.dedup();
    let colliding: FxHashSet<String> = collisions
        .iter()
        .flat_map(|c| c.objects.iter().cloned())
        .collect();
    for violation in violations.iter_mut() {
        if violation.fix.is_some()
            && colliding.contains(&format!("{}.{}", violation.table, violation.name))
        {
            violation.fix = None;
            violation
                .message
                .push_str("; not renamed: the expected name collides with another object");
        }
    }
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
