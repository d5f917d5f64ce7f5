//! `--fix-sql`: the renames that fix every violation, as a script safe to run on a busy database,
//! and the collisions that keep some of them out.
//!
//! What makes it safe:
//!
//! * **Weak locks where PostgreSQL allows them.** pk, uq and ex are renamed through their index
//!   ([`crate::lint::rules::rename_sql`]): SHARE UPDATE EXCLUSIVE on the index alone, which no
//!   query conflicts with. fk and ck can only be renamed with `ALTER TABLE ... RENAME CONSTRAINT`,
//!   which takes ACCESS EXCLUSIVE on the table; it waits for every open transaction that used the
//!   table, and every later query on the table queues behind it.
//! * **A bound on that wait.** Each transaction sets `lock_timeout`: a rename that cannot have its
//!   lock in time fails with 55P03 instead of stalling the table for as long as the longest open
//!   transaction.
//! * **Short transactions.** One per table, so a table that cannot be locked keeps only its own
//!   renames back, and locks are held for the few renames of one table. Where a rename takes a
//!   name another table's rename frees (index names are per schema), that table's transaction runs
//!   first; tables that wait for each other both ways share one transaction.
//! * **A second run finishes the job.** Each rename is a `DO` block that skips it when the table
//!   already has an index (or a constraint) of the new name: after a partial run, running the same
//!   script again does what is left; after a full one, nothing.
//!
//! Renames that form a cycle (two objects swapping names) are left out with a comment: they need
//! a temporary name, which is for a person to choose.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::lint::model::Schema;
use crate::lint::naming::{Kind, push_ident};
use crate::lint::rules::{Violation, rename_sql};

/// Two or more objects that would end up with the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub(crate) schema: String,
    pub(crate) name: String,
    /// `table.name` of each object involved.
    pub(crate) objects: Vec<String>,
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

/// The renames of a script, in the order they run.
#[derive(Debug, Default)]
pub(crate) struct Plan<'a> {
    /// One transaction per table, in an order where a table whose rename takes a name another
    /// table's rename frees comes after it; the tables on a cycle of such waits (and those after
    /// one) share the last transaction. Each ordered so that a name is freed before it is taken.
    pub(crate) transactions: Vec<Vec<&'a Violation>>,
    /// Renames that form a cycle (a swap), or wait for one: no order frees their names.
    pub(crate) cycles: Vec<&'a Violation>,
}

/// Where a name must be free: relations per schema (ix, and the indexes behind pk, uq and ex),
/// constraints per table (everything but ix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum NameScope<'a> {
    Relation(&'a str),
    Constraint(&'a str, &'a str),
}

fn namespaces(violation: &Violation) -> impl Iterator<Item = NameScope<'_>> {
    let relation = violation
        .kind
        .is_relation()
        .then_some(NameScope::Relation(&violation.schema));
    let constraint = violation
        .kind
        .is_constraint()
        .then_some(NameScope::Constraint(&violation.schema, &violation.table));
    relation.into_iter().chain(constraint)
}

/// Orders the renames: a rename that takes a name comes after the rename that frees it, in the
/// same transaction when they are on the same table, in an earlier one otherwise.
pub(crate) fn plan(violations: &[Violation]) -> Plan<'_> {
    let renames: Vec<&Violation> = violations
        .iter()
        .filter(|v| v.has_fix() && v.expected.as_deref() != Some(v.name.as_str()))
        .collect();
    // Who frees each name: the rename of the object holding it.
    let mut holder: FxHashMap<(NameScope<'_>, &str), usize> = FxHashMap::default();
    for (i, rename) in renames.iter().enumerate() {
        for namespace in namespaces(rename) {
            holder.insert((namespace, rename.name.as_str()), i);
        }
    }
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); renames.len()];
    let mut waits = vec![0usize; renames.len()];
    for (i, rename) in renames.iter().enumerate() {
        let target = rename.expected.as_deref().unwrap_or_default();
        for namespace in namespaces(rename) {
            if let Some(&first) = holder.get(&(namespace, target))
                && first != i
                && !after[first].contains(&i)
            {
                after[first].push(i);
                waits[i] += 1;
            }
        }
    }
    let order = kahn(&after, &mut waits);
    let mut position = vec![usize::MAX; renames.len()];
    for (p, &i) in order.iter().enumerate() {
        position[i] = p;
    }
    let cycles: Vec<&Violation> = (0..renames.len())
        .filter(|&i| position[i] == usize::MAX)
        .map(|i| renames[i])
        .collect();

    // The same for tables: a table's transaction runs after those of the tables it waits for.
    let mut table_of: Vec<usize> = Vec::with_capacity(renames.len());
    let mut tables: FxHashMap<(&str, &str), usize> = FxHashMap::default();
    for rename in &renames {
        let next = tables.len();
        table_of.push(
            *tables
                .entry((rename.schema.as_str(), rename.table.as_str()))
                .or_insert(next),
        );
    }
    let mut table_after: Vec<Vec<usize>> = vec![Vec::new(); tables.len()];
    let mut table_waits = vec![0usize; tables.len()];
    let mut table_edges: FxHashSet<(usize, usize)> = FxHashSet::default();
    for (first, followers) in after.iter().enumerate() {
        for &then in followers {
            let (a, b) = (table_of[first], table_of[then]);
            if a != b && position[then] != usize::MAX && table_edges.insert((a, b)) {
                table_after[a].push(b);
                table_waits[b] += 1;
            }
        }
    }
    let table_order = kahn(&table_after, &mut table_waits);
    // Tables left over are on a cycle of waits, or after one: they share one transaction, last.
    let mut transaction_of = vec![usize::MAX; tables.len()];
    for (t, &table) in table_order.iter().enumerate() {
        transaction_of[table] = t;
    }
    let mut transactions: Vec<Vec<&Violation>> = vec![Vec::new(); table_order.len() + 1];
    for &i in &order {
        let t = transaction_of[table_of[i]];
        transactions[t.min(table_order.len())].push(renames[i]);
    }
    transactions.retain(|t| !t.is_empty());
    Plan {
        transactions,
        cycles,
    }
}

/// Kahn's topological sort, smallest index first among the ready: the order of the nodes that
/// wait for nothing on a cycle. `waits` counts each node's unmet predecessors.
fn kahn(after: &[Vec<usize>], waits: &mut [usize]) -> Vec<usize> {
    let mut ready: BinaryHeap<Reverse<usize>> = (0..waits.len())
        .filter(|&i| waits[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(waits.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &then in &after[i] {
            waits[then] -= 1;
            if waits[then] == 0 {
                ready.push(Reverse(then));
            }
        }
    }
    order
}

/// The `--fix-sql` script (module docs): a header on locks and retries, then one short
/// transaction per table, each rename guarded so that a second run finishes a first that failed.
pub fn script(violations: &[Violation], lock_timeout: Duration) -> String {
    let plan = plan(violations);
    let timeout = lock_timeout_literal(lock_timeout);
    let mut out = header(&timeout);
    if plan.transactions.is_empty() {
        out.push_str("-- nothing to rename\n");
    }
    for transaction in &plan.transactions {
        let mut tables: Vec<(&str, &str)> = Vec::new();
        let mut comment = String::new();
        for rename in transaction {
            let table = (rename.schema.as_str(), rename.table.as_str());
            if !tables.contains(&table) {
                tables.push(table);
                comment.push(' ');
                push_ident(&mut comment, table.0);
                comment.push('.');
                push_ident(&mut comment, table.1);
            }
        }
        out.push_str("\n--");
        out.push_str(&comment_text(&comment));
        out.push_str("\nBEGIN;\nSET LOCAL lock_timeout = ");
        out.push_str(&timeout);
        out.push_str(";\n");
        for rename in transaction {
            push_guarded(&mut out, rename);
        }
        out.push_str("COMMIT;\n");
    }
    for rename in &plan.cycles {
        let mut names = String::new();
        push_ident(&mut names, &rename.name);
        names.push_str(" on ");
        push_ident(&mut names, &rename.schema);
        names.push('.');
        push_ident(&mut names, &rename.table);
        names.push_str(" (to ");
        push_ident(&mut names, rename.expected.as_deref().unwrap_or_default());
        out.push_str("-- not renamed: ");
        out.push_str(&comment_text(&names));
        out.push_str(
            "): the renames form a cycle (each takes a name another one holds); rename one to a temporary name by hand\n",
        );
    }
    out
}

/// `text` made fit for a `--` comment line: a control character (a line break above all, which
/// would end the comment and run the rest of a hostile name as SQL) written as its escape.
pub(crate) fn comment_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `'2s'` or `'1500ms'`: PostgreSQL counts `lock_timeout` in whole milliseconds.
fn lock_timeout_literal(lock_timeout: Duration) -> String {
    let millis = lock_timeout.as_millis().max(1);
    if millis % 1000 == 0 {
        format!("'{}s'", millis / 1000)
    } else {
        format!("'{millis}ms'")
    }
}

fn header(timeout: &str) -> String {
    format!(
        "\
-- dbtool lint-constraints --fix-sql: renames to the naming convention.
--
-- Locks (PostgreSQL 12 or newer):
--   pk, uq, ex, ix: ALTER INDEX ... RENAME TO renames the index and the constraint it backs under
--     SHARE UPDATE EXCLUSIVE on that index alone; reads and writes on the table go on.
--   fk, ck: ALTER TABLE ... RENAME CONSTRAINT takes ACCESS EXCLUSIVE on the table (for an
--     inherited check, on its children too): it waits for every open transaction that used the
--     table, and every query on the table waits behind it.
-- Each table's renames are one short transaction with lock_timeout = {timeout}: a rename that cannot
-- have its lock by then fails with SQLSTATE 55P03 (lock_not_available) and rolls back that
-- table's renames only, so no query waits behind it for longer than that.
-- Retry: a rename already done is skipped, so run the whole script again (when the table is
-- quieter, or generated with a longer --lock-timeout) until dbtool lint-constraints is clean.
-- psql -f FILE runs every table's transaction and exits 0 even when one failed (read its ERROR
-- lines); psql -v ON_ERROR_STOP=1 -f FILE stops at the first failure and exits 3.
"
    )
}

/// The rename, skipped when the object already has its new name: an index of the same table, or
/// a constraint of the same table, of that name. Names being unique once renamed (collisions get
/// no fix), that is the object itself.
fn push_guarded(out: &mut String, rename: &Violation) {
    let target = rename.expected.as_deref().unwrap_or_default();
    let mut table = String::with_capacity(rename.schema.len() + rename.table.len() + 5);
    push_ident(&mut table, &rename.schema);
    table.push('.');
    push_ident(&mut table, &rename.table);
    let mut body = String::with_capacity(320);
    if rename.kind.is_relation() {
        body.push_str(
            "  IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid\n                 WHERE i.indrelid = ",
        );
        push_literal(&mut body, &table);
        body.push_str("::regclass AND c.relname = ");
    } else {
        body.push_str(
            "  IF NOT EXISTS (SELECT FROM pg_constraint\n                 WHERE conrelid = ",
        );
        push_literal(&mut body, &table);
        body.push_str("::regclass AND conname = ");
    }
    push_literal(&mut body, target);
    body.push_str(") THEN\n    ");
    body.push_str(&rename_sql(
        &rename.schema,
        &rename.table,
        rename.kind,
        &rename.name,
        target,
    ));
    body.push_str("\n  END IF;\n");
    // A dollar-quote tag that the names inside do not contain.
    let mut tag = String::from("$fix$");
    let mut n = 0;
    while body.contains(&tag) {
        n += 1;
        tag = format!("$fix{n}$");
    }
    out.push_str("DO ");
    out.push_str(&tag);
    out.push_str(" BEGIN\n");
    out.push_str(&body);
    out.push_str("END ");
    out.push_str(&tag);
    out.push_str(";\n");
}

/// A string literal that reads the same whatever `standard_conforming_strings` says (PostgreSQL's
/// `quote_literal`: `E'...'` with doubled backslashes when there is a backslash).
fn push_literal(out: &mut String, text: &str) {
    if text.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
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

    /// A rename of `name` on `table` to `expected`, not a PostgreSQL default name.
    fn rename(table: &str, kind: Kind, name: &str, expected: &str) -> Violation {
        Violation {
            postgres_default: false,
            ..Violation::example(table, kind, name, expected)
        }
    }

    /// The plan as `table:name` per transaction, and the names left out.
    fn planned(violations: &[Violation]) -> (Vec<Vec<String>>, Vec<String>) {
        let plan = plan(violations);
        let transactions = plan
            .transactions
            .iter()
            .map(|t| {
                t.iter()
                    .map(|v| format!("{}:{}", v.table, v.name))
                    .collect()
            })
            .collect();
        let cycles = plan.cycles.iter().map(|v| v.name.clone()).collect();
        (transactions, cycles)
    }

    const TIMEOUT: Duration = Duration::from_secs(2);

    #[test]
    fn the_script_frees_a_name_before_taking_it() {
        // b's rename takes a's old name... a is renamed away first.
        let script = script(
            &[
                rename("t", Kind::Ix, "b", "a"),
                rename("t", Kind::Ix, "a", "c"),
            ],
            TIMEOUT,
        );
        let first = script.find("RENAME TO c").unwrap();
        let second = script.find("RENAME TO a").unwrap();
        assert!(first < second, "{script}");
        assert!(script.starts_with("-- dbtool") && script.ends_with("COMMIT;\n"));
    }

    #[test]
    fn one_transaction_per_table_with_a_lock_timeout_and_guarded_renames() {
        let script = script(
            &[
                rename("orders", Kind::Pk, "orders_pkey", "pk_orders"),
                rename("orders", Kind::Ck, "positive", "ck_orders_positive"),
                rename("users", Kind::Uq, "users_email_key", "uq_users_email"),
            ],
            Duration::from_millis(1500),
        );
        assert_eq!(
            script
                .matches("BEGIN;\nSET LOCAL lock_timeout = '1500ms';\n")
                .count(),
            2,
            "{script}"
        );
        assert_eq!(script.matches("COMMIT;\n").count(), 2);
        let orders = script.find("-- public.orders").unwrap();
        let users = script.find("-- public.users").unwrap();
        assert!(orders < users, "{script}");
        assert!(
            script.contains(
                "DO $fix$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 WHERE i.indrelid = 'public.orders'::regclass AND c.relname = 'pk_orders') THEN
    ALTER INDEX public.orders_pkey RENAME TO pk_orders;
  END IF;
END $fix$;
"
            ),
            "{script}"
        );
        assert!(
            script.contains(
                "DO $fix$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_constraint
                 WHERE conrelid = 'public.orders'::regclass AND conname = 'ck_orders_positive') THEN
    ALTER TABLE public.orders RENAME CONSTRAINT positive TO ck_orders_positive;
  END IF;
END $fix$;
"
            ),
            "{script}"
        );
        // The header says what each kind locks and how to retry.
        for needle in [
            "SHARE UPDATE EXCLUSIVE on that index alone",
            "ACCESS EXCLUSIVE on the table",
            "lock_timeout = '1500ms'",
            "55P03",
            "run the whole script again",
        ] {
            assert!(script.contains(needle), "{needle}: {script}");
        }
        assert_eq!(lock_timeout_literal(Duration::from_secs(2)), "'2s'");
        assert_eq!(lock_timeout_literal(Duration::from_micros(1500)), "'1ms'");
    }

    #[test]
    fn a_table_whose_rename_takes_a_name_another_table_frees_comes_after_it() {
        // Index names are per schema: u's index wants the name t's index holds.
        let violations = [
            rename("u", Kind::Ix, "u_a_idx", "ix_u_a"),
            rename("t", Kind::Ix, "ix_u_a", "ix_t_a"),
            rename("t", Kind::Ck, "c", "ck_t_c"),
        ];
        let (transactions, cycles) = planned(&violations);
        assert_eq!(
            transactions,
            [vec!["t:ix_u_a", "t:c"], vec!["u:u_a_idx"]],
            "t first"
        );
        assert!(cycles.is_empty());
        // Constraint names are per table: the same name on two tables is no dependency.
        let (transactions, _) = planned(&[
            rename("u", Kind::Ck, "x", "ck_u_x"),
            rename("t", Kind::Ck, "ck_u_x", "ck_t_y"),
        ]);
        assert_eq!(
            transactions,
            [vec!["u:x"], vec!["t:ck_u_x"]],
            "report order"
        );
    }

    #[test]
    fn tables_that_wait_for_each_other_share_a_transaction() {
        let (transactions, cycles) = planned(&[
            rename("a", Kind::Ix, "a_x_idx", "ix_a_x"),
            rename("a", Kind::Ix, "ix_b_y", "ix_a_y"),
            rename("b", Kind::Ix, "b_y_idx", "ix_b_y"),
            rename("b", Kind::Ix, "ix_a_x", "ix_b_x"),
            rename("c", Kind::Pk, "c_pkey", "pk_c"),
        ]);
        assert!(cycles.is_empty());
        assert_eq!(transactions.len(), 2, "{transactions:?}");
        assert_eq!(transactions[0], ["c:c_pkey"]);
        let shared = &transactions[1];
        let at = |name: &str| shared.iter().position(|n| n.ends_with(name)).unwrap();
        assert!(
            at(":ix_b_y") < at(":b_y_idx") && at(":ix_a_x") < at(":a_x_idx"),
            "{shared:?}"
        );
    }

    #[test]
    fn a_swap_and_what_waits_for_it_are_left_out_with_a_comment() {
        let violations = [
            rename("t", Kind::Ix, "ix_t_a", "ix_t_b"),
            rename("t", Kind::Ix, "ix_t_b", "ix_t_a"),
            rename("t", Kind::Ix, "t_c_idx", "ix_t_c"),
            rename("u", Kind::Ix, "ix_t_c", "ix_u_c"),
        ];
        let (transactions, cycles) = planned(&violations);
        assert_eq!(cycles, ["ix_t_a", "ix_t_b"]);
        assert_eq!(transactions, [vec!["u:ix_t_c"], vec!["t:t_c_idx"]]);
        let waiting = [
            rename("t", Kind::Ix, "ix_t_a", "ix_t_b"),
            rename("t", Kind::Ix, "ix_t_b", "ix_t_a"),
            rename("t", Kind::Ix, "t_x_idx", "ix_t_a_old"),
            rename("t", Kind::Ix, "ix_t_d", "ix_t_a"),
        ];
        let (_, cycles) = planned(&waiting);
        assert_eq!(
            cycles,
            ["ix_t_a", "ix_t_b", "ix_t_d"],
            "ix_t_d waits for the swap"
        );
        let script = script(&violations, TIMEOUT);
        assert!(
            script.contains(
                "-- not renamed: ix_t_a on public.t (to ix_t_b): the renames form a cycle"
            ),
            "{script}"
        );
        assert!(!script.contains("RENAME TO ix_t_b"), "{script}");
    }

    /// The kinds of statement in a script, as PostgreSQL's parser reads it.
    fn statements(script: &str) -> Vec<&'static str> {
        use pg_query::NodeEnum;
        let parsed = pg_query::parse(script, pg_query::ParserOptions::DEFAULT).unwrap();
        parsed
            .protobuf
            .stmts
            .iter()
            .map(|s| match s.stmt.as_ref().and_then(|n| n.node.as_ref()) {
                Some(NodeEnum::TransactionStmt(_)) => "transaction",
                Some(NodeEnum::VariableSetStmt(_)) => "set",
                Some(NodeEnum::DoStmt(_)) => "do",
                other => panic!("unexpected statement {other:?} in\n{script}"),
            })
            .collect()
    }

    #[test]
    fn a_line_break_in_a_name_cannot_end_a_comment() {
        let hostile = "x\nDROP TABLE users; --";
        let violations = [
            Violation {
                schema: hostile.to_string(),
                ..rename(hostile, Kind::Ck, hostile, "ck_x")
            },
            rename("t", Kind::Ix, "a\nDROP TABLE t;", "b\rDROP TABLE u;"),
            rename("t", Kind::Ix, "b\rDROP TABLE u;", "a\nDROP TABLE t;"),
        ];
        let script = script(&violations, TIMEOUT);
        assert_eq!(
            statements(&script),
            ["transaction", "set", "do", "transaction"],
            "{script}"
        );
        assert!(script.contains("\\nDROP TABLE users"), "{script}");
        assert_eq!(comment_text("a\u{7}b"), "a\\u{7}b");
    }

    #[test]
    fn hostile_names_stay_inside_their_quotes() {
        let violation = Violation {
            schema: "s'\\".to_string(),
            ..rename("t$fix$", Kind::Ck, "it's $fix$", "ck_$fix1$")
        };
        let script = script(&[violation], TIMEOUT);
        assert!(
            script.contains("WHERE conrelid = E'\"s''\\\\\".\"t$fix$\"'::regclass AND conname = 'ck_$fix1$') THEN"),
            "{script}"
        );
        assert!(
            script.contains("DO $fix2$ BEGIN\n") && script.contains("END $fix2$;\n"),
            "{script}"
        );
    }
}
