//! `--fix-sql`: one transaction renaming every violation, ordered so that no rename takes a name
//! still in use, and refusing renames that would collide.

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

/// Marks violations whose rename would collide (`collides`) and returns the collisions.
///
/// Relations (tables, indexes, and the indexes behind pk/uq/ex) share a namespace per schema,
/// constraints one per table. Objects not renamed keep their names; renamed ones take the expected
/// name. Built for tens of thousands of objects: one pass with a count per relation name, and the
/// owners of a name are looked up only for names held twice.
pub fn find_collisions(schema: &Schema, violations: &mut [Violation]) -> Vec<Collision> {
    // The violation that renames each object, by the object's position in the model (objects
    // numbered table by table).
    let mut first: Vec<usize> = Vec::with_capacity(schema.tables.len() + 1);
    let mut count = 0;
    for table in &schema.tables {
        first.push(count);
        count += table.objects.len();
    }
    let mut renames: Vec<u32> = vec![u32::MAX; count];
    for (i, violation) in violations.iter().enumerate() {
        let (table, object) = (violation.position.0 as usize, violation.position.1 as usize);
        if violation.has_fix() && table < first.len() && first[table] + object < count {
            renames[first[table] + object] = i as u32;
        }
    }
    let renamed_by = |table: usize, object: usize| -> Option<usize> {
        let i = renames[first[table] + object];
        (i != u32::MAX).then_some(i as usize)
    };
    let final_name = |table: usize, object: usize| -> &str {
        match renamed_by(table, object) {
            Some(i) => violations[i].expected.as_deref().unwrap_or_default(),
            None => &schema.tables[table].objects[object].name,
        }
    };
    let mut relations: FxHashMap<(&str, &str), u32> = FxHashMap::default();
    relations.reserve(schema.tables.len() + count);
    let mut taken: Vec<(&str, Owner)> = Vec::new();
    let mut collisions: Vec<Collision> = Vec::new();
    // The violations whose rename takes a name held twice.
    let mut marked: Vec<usize> = Vec::new();
    for (ti, table) in schema.tables.iter().enumerate() {
        *relations.entry((&table.schema, &table.name)).or_default() += 1;
        taken.clear();
        for (oi, object) in table.objects.iter().enumerate() {
            let name = final_name(ti, oi);
            if matches!(object.kind, Kind::Ix | Kind::Pk | Kind::Uq | Kind::Ex) {
                *relations.entry((&table.schema, name)).or_default() += 1;
            }
            if object.kind != Kind::Ix {
                taken.push((name, owner(ti, oi, renamed_by(ti, oi))));
            }
        }
        // Constraint names per table: a handful, compared directly.
        taken.sort_by_key(|(name, _)| *name);
        for group in taken.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
            collisions.push(Collision {
                schema: table.schema.clone(),
                name: group[0].0.to_string(),
                objects: ordered(
                    group.iter().map(|(_, o)| *o),
                    schema,
                    violations,
                    &mut marked,
                ),
            });
        }
    }
    if relations.values().any(|count| *count > 1) {
        // Only now name the owners of the relation names held twice.
        let mut owners: FxHashMap<(&str, &str), Vec<Owner>> = FxHashMap::default();
        for (ti, table) in schema.tables.iter().enumerate() {
            for (oi, object) in table.objects.iter().enumerate() {
                let name = final_name(ti, oi);
                if matches!(object.kind, Kind::Ix | Kind::Pk | Kind::Uq | Kind::Ex)
                    && relations[&(table.schema.as_str(), name)] > 1
                {
                    owners.entry((&table.schema, name)).or_default().push(owner(
                        ti,
                        oi,
                        renamed_by(ti, oi),
                    ));
                }
            }
            if relations[&(table.schema.as_str(), table.name.as_str())] > 1 {
                owners
                    .entry((&table.schema, &table.name))
                    .or_default()
                    .push(Owner::Table(ti));
            }
        }
        for ((schema_name, name), list) in owners {
            collisions.push(Collision {
                schema: schema_name.to_string(),
                name: name.to_string(),
                objects: ordered(list.into_iter(), schema, violations, &mut marked),
            });
        }
    }
    if collisions.is_empty() {
        return collisions;
    }
    collisions.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    collisions.dedup();
    for i in marked {
        violations[i].collides = true;
    }
    collisions
}

/// Who holds a name: a table, an object that keeps its name, or one renamed by a violation.
#[derive(Debug, Clone, Copy)]
enum Owner {
    Table(usize),
    Kept(usize, usize),
    Renamed(usize),
}

fn owner(table: usize, object: usize, renamed_by: Option<usize>) -> Owner {
    match renamed_by {
        Some(violation) => Owner::Renamed(violation),
        None => Owner::Kept(table, object),
    }
}

/// The owners as `table.name` (or `table T`): kept objects and tables first, in model order, then
/// renamed objects in report order, which are added to `marked`.
fn ordered(
    owners: impl Iterator<Item = Owner>,
    schema: &Schema,
    violations: &[Violation],
    marked: &mut Vec<usize>,
) -> Vec<String> {
    let mut owners: Vec<Owner> = owners.collect();
    marked.extend(owners.iter().filter_map(|owner| match owner {
        Owner::Renamed(v) => Some(*v),
        _ => None,
    }));
    owners.sort_by_key(|owner| match *owner {
        Owner::Kept(t, o) => (0, t, o),
        Owner::Table(t) => (0, t, usize::MAX),
        Owner::Renamed(v) => (1, v, 0),
    });
    owners
        .into_iter()
        .map(|owner| match owner {
            Owner::Table(t) => format!("table {}", schema.tables[t].name),
            Owner::Kept(t, o) => {
                let table = &schema.tables[t];
                format!("{}.{}", table.name, table.objects[o].name)
            }
            Owner::Renamed(v) => format!("{}.{}", violations[v].table, violations[v].name),
        })
        .collect()
}

/// The script: renames ordered so a name is freed before it is taken.
pub fn script(violations: &[Violation]) -> String {
    let mut pending: Vec<&Violation> = violations.iter().filter(|v| v.has_fix()).collect();
    let mut ordered: Vec<&Violation> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let current: FxHashSet<(&str, &str)> = pending
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
        if let Some(fix) = violation.fix() {
            out.push_str(&fix);
            out.push('\n');
        }
    }
    out.push_str("COMMIT;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::config::{LabelSchema, LintOptions};
    use crate::lint::model::{Object, Table};
    use crate::lint::naming::NamingConvention;
    use crate::lint::rules::check_schema;

    fn object(kind: Kind, name: &str, columns: &[&str]) -> Object {
        Object {
            kind,
            name: name.to_string(),
            columns: columns.iter().map(|c| Some(c.to_string())).collect(),
            expression_columns: Vec::new(),
            referred: None,
            unique: matches!(kind, Kind::Pk | Kind::Uq),
            inherited: false,
            location: None,
            unnamed: false,
        }
    }

    fn table(name: &str, objects: Vec<Object>) -> Table {
        Table {
            schema: "public".to_string(),
            name: name.to_string(),
            columns: Vec::new(),
            is_child: false,
            objects,
        }
    }

    /// Checks the schema with the default convention, then looks for collisions.
    fn collisions_of(tables: Vec<Table>) -> (Vec<Collision>, Vec<Violation>) {
        let schema = Schema {
            tables,
            default_schema: "public".to_string(),
        };
        let options = LintOptions {
            convention: NamingConvention::app_default(),
            label_schema: LabelSchema::OutsideSearchPath,
            ignore: Vec::new(),
            config_file: None,
        };
        let mut violations = check_schema(&schema, &options, false).unwrap().violations;
        let collisions = find_collisions(&schema, &mut violations);
        (collisions, violations)
    }

    #[test]
    fn distinct_names_do_not_collide() {
        let (collisions, violations) = collisions_of(vec![table(
            "orders",
            vec![
                object(Kind::Pk, "orders_pkey", &["id"]),
                object(Kind::Ix, "orders_status_idx", &["status"]),
            ],
        )]);
        assert!(collisions.is_empty());
        assert_eq!(violations.len(), 2);
        assert!(violations.iter().all(Violation::has_fix));
    }

    #[test]
    fn two_indexes_wanting_one_name_collide_and_lose_their_fix() {
        let (collisions, violations) = collisions_of(vec![table(
            "orders",
            vec![
                object(Kind::Ix, "orders_status_idx", &["status"]),
                object(Kind::Ix, "orders_status_idx1", &["status"]),
            ],
        )]);
        assert_eq!(
            collisions,
            vec![Collision {
                schema: "public".to_string(),
                name: "ix_orders_status".to_string(),
                objects: vec![
                    "orders.orders_status_idx".to_string(),
                    "orders.orders_status_idx1".to_string()
                ],
            }]
        );
        assert!(violations.iter().all(|v| v.collides && v.fix().is_none()));
        assert!(
            violations[0]
                .message()
                .ends_with("collides with another object")
        );
    }

    #[test]
    fn a_rename_onto_a_name_an_object_keeps_collides() {
        // A unique index already (rightly) named uq_orders_status, and a unique constraint on the
        // same column whose convention name is that.
        let mut index = object(Kind::Ix, "uq_orders_status", &["status"]);
        index.unique = true;
        let (collisions, violations) = collisions_of(vec![table(
            "orders",
            vec![object(Kind::Uq, "orders_status_key", &["status"]), index],
        )]);
        assert_eq!(collisions.len(), 1, "{collisions:?}");
        assert_eq!(
            collisions[0].objects,
            ["orders.uq_orders_status", "orders.orders_status_key"]
        );
        assert_eq!(violations.len(), 1);
        assert!(violations[0].collides);
    }

    #[test]
    fn two_unique_constraints_wanting_one_name_collide() {
        let (collisions, violations) = collisions_of(vec![table(
            "t",
            vec![
                object(Kind::Uq, "t_a_b_key", &["a", "b"]),
                object(Kind::Uq, "t_a_c_key", &["a", "c"]),
            ],
        )]);
        assert_eq!(collisions.len(), 1, "{collisions:?}");
        assert_eq!(collisions[0].name, "uq_t_a");
        assert_eq!(collisions[0].objects, ["t.t_a_b_key", "t.t_a_c_key"]);
        assert!(violations.iter().all(|v| v.collides));
    }

    #[test]
    fn only_the_colliding_object_loses_its_fix_not_a_namesake() {
        // A check constraint and an index may share a name on one table; only the index's
        // namesake collides (with the index t_a_idx wants to become).
        let (collisions, violations) = collisions_of(vec![table(
            "t",
            vec![
                object(Kind::Ck, "ix_t_a", &[]),
                object(Kind::Ix, "ix_t_a", &["a"]),
                object(Kind::Ix, "t_a_idx", &["a"]),
            ],
        )]);
        assert_eq!(collisions.len(), 1, "{collisions:?}");
        assert_eq!(collisions[0].objects, ["t.ix_t_a", "t.t_a_idx"]);
        let check = violations.iter().find(|v| v.kind == Kind::Ck).unwrap();
        assert_eq!(check.expected.as_deref(), Some("ck_t_ix_t_a"));
        assert!(check.has_fix(), "{check:?}");
        let index = violations.iter().find(|v| v.name == "t_a_idx").unwrap();
        assert!(index.collides);
    }

    #[test]
    fn a_rename_onto_a_table_name_collides() {
        let (collisions, _) = collisions_of(vec![
            table("ix_t_a", Vec::new()),
            table("t", vec![object(Kind::Ix, "t_a_idx", &["a"])]),
        ]);
        assert_eq!(collisions.len(), 1, "{collisions:?}");
        assert_eq!(collisions[0].objects, ["table ix_t_a", "t.t_a_idx"]);
    }

    #[test]
    fn the_script_frees_a_name_before_taking_it() {
        // b's rename takes a's old name... a is renamed away first.
        let violation = |name: &str, expected: &str| Violation {
            postgres_default: false,
            ..Violation::example("t", Kind::Ix, name, expected)
        };
        let script = script(&[violation("b", "a"), violation("a", "c")]);
        let first = script.find("RENAME TO c").unwrap();
        let second = script.find("RENAME TO a").unwrap();
        assert!(first < second, "{script}");
        assert!(script.starts_with("-- dbtool") && script.ends_with("COMMIT;\n"));
    }
}
