//! `CREATE TABLE` in the order PostgreSQL names things (`transformCreateStmt` in
//! `parse_utilcmd.c`, `DefineRelation` in `tablecmds.c`):
//!
//! 1. sequences of `serial` and identity columns (`<table>_<column>_seq`);
//! 2. the table; CHECK constraints inherited from the parents keep their names; then the
//!    table's own CHECK constraints are named, in order (`AddRelationNewConstraints`);
//! 3. for `PARTITION OF`: the parent's indexes are cloned and named for the partition, its
//!    foreign keys cloned with their names;
//! 4. the primary key, then the other unique and exclusion constraints in order, equal ones
//!    merged (`transformIndexConstraints`);
//! 5. `LIKE ... INCLUDING CONSTRAINTS | INDEXES`: CHECK constraints keep their names, indexes
//!    are named for the new table;
//! 6. foreign keys, in order.

use pg_query::NodeEnum;
use pg_query::protobuf::{
    ColumnDef, ConstrType, CreateStmt, CreateTableAsStmt, IntoClause, ObjectType,
};

use super::defs::{CheckDef, Def, ForeignDef, IndexDef, from_constraint};
use super::expr::strings;
use super::session::{Handled, Problem, ReplaySession, already_exists, missing, relation_schema};
use super::state::{Rel, TableId, TableKind, TableState, ident};
use super::{constraints, index, partition};
use crate::lint::model::Location;
use crate::lint::naming::Kind;

/// `LIKE` options (`CREATE_TABLE_LIKE_*` bits).
const LIKE_CONSTRAINTS: u32 = 1 << 2;
const LIKE_INDEXES: u32 = 1 << 6;

const SERIAL_TYPES: [&str; 6] = [
    "serial",
    "serial4",
    "bigserial",
    "serial8",
    "smallserial",
    "serial2",
];

/// What the table elements define, in order.
#[derive(Default)]
struct Elements {
    columns: Vec<String>,
    sequences: Vec<String>,
    checks: Vec<CheckDef>,
    indexes: Vec<IndexDef>,
    foreign: Vec<ForeignDef>,
    likes: Vec<(TableId, u32, Location)>,
}

impl Elements {
    fn add_column(&mut self, column: &str) {
        if !self.columns.iter().any(|c| c == column) {
            self.columns.push(column.to_owned());
        }
    }

    fn add(&mut self, def: Option<Def>) {
        match def {
            Some(Def::Index(d)) => self.indexes.push(d),
            Some(Def::Check(d)) => self.checks.push(d),
            Some(Def::Foreign(d)) => self.foreign.push(d),
            None => {}
        }
    }

    fn column(&mut self, cd: &ColumnDef) {
        let name = ident(&cd.colname);
        self.add_column(&name);
        if needs_sequence(cd) {
            self.sequences.push(name.clone());
        }
        for c in &cd.constraints {
            if let Some(NodeEnum::Constraint(c)) = c.node.as_ref() {
                self.add(from_constraint(c, Some(&name)));
            }
        }
    }
}

/// `serial` types and identity columns get a sequence.
pub(crate) fn needs_sequence(cd: &ColumnDef) -> bool {
    let serial = cd.type_name.as_ref().is_some_and(|t| {
        t.names.len() == 1
            && strings(&t.names)
                .first()
                .is_some_and(|n| SERIAL_TYPES.contains(&n.as_str()))
    });
    let identity = cd.constraints.iter().any(|c| {
        matches!(c.node.as_ref(), Some(NodeEnum::Constraint(c))
            if c.contype == ConstrType::ConstrIdentity as i32)
    });
    serial || identity
}

pub(crate) fn create_table(
    s: &mut ReplaySession<'_>,
    stmt: &CreateStmt,
    kind: TableKind,
) -> Handled {
    let Some(rv) = stmt.relation.as_ref() else {
        return Ok(());
    };
    let schema = relation_schema(s.db, rv)?;
    let name = ident(&rv.relname);
    if let Some((_, rel)) = s.db.lookup(&schema, &name) {
        if !stmt.if_not_exists {
            return Err(already_exists(&name, rv.location));
        }
        let written: Vec<String> = stmt
            .table_elts
            .iter()
            .filter_map(|n| match n.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => Some(ident(&c.colname)),
                _ => None,
            })
            .collect();
        match rel {
            Rel::Table(existing) => {
                let mut have = s.db.tables[existing].columns.clone();
                let mut want = written.clone();
                have.sort();
                want.sort();
                if have != want && !written.is_empty() {
                    let have = s.db.tables[existing].columns.join(", ");
                    s.notice(format!(
                        "CREATE TABLE IF NOT EXISTS {name} creates nothing: table {schema}.{name} exists with the columns ({have}), not ({})",
                        written.join(", ")
                    ));
                }
            }
            _ => {
                if let Some(owner) = s.db.describe_relation(&schema, &name) {
                    s.notice(format!(
                        "CREATE TABLE IF NOT EXISTS {name} creates nothing: the name is taken by {owner}"
                    ));
                }
            }
        }
        return Ok(());
    }
    let mut parents = Vec::new();
    for node in &stmt.inh_relations {
        if let Some(NodeEnum::RangeVar(parent)) = node.node.as_ref() {
            parents.push(
                s.db.lookup_table(&parent.schemaname, &parent.relname)
                    .ok_or_else(|| missing(parent))?,
            );
        }
    }
    let partition_of = stmt
        .partbound
        .as_ref()
        .and_then(|_| parents.first().copied());
    let mut el = Elements::default();
    for &parent in &parents {
        for column in s.db.tables[parent].columns.clone() {
            el.add_column(&column);
        }
    }
    for node in stmt.table_elts.iter().chain(&stmt.constraints) {
        match node.node.as_ref() {
            Some(NodeEnum::ColumnDef(cd)) => el.column(cd),
            Some(NodeEnum::Constraint(c)) => el.add(from_constraint(c, None)),
            Some(NodeEnum::TableLikeClause(like)) => {
                let Some(source_rv) = like.relation.as_ref() else {
                    continue;
                };
                let source =
                    s.db.lookup_table(&source_rv.schemaname, &source_rv.relname)
                        .ok_or_else(|| missing(source_rv))?;
                for column in s.db.tables[source].columns.clone() {
                    el.add_column(&column);
                }
                el.likes
                    .push((source, like.options, s.at(source_rv.location)));
            }
            _ => {}
        }
    }

    for column in &el.sequences {
        let sequence =
            s.db.choose_relation_name(&schema, &name, Some(column), "seq");
        s.db.namespace(&schema).add_relation(&sequence, Rel::Other);
    }
    let mut table = TableState::new(schema, name, kind);
    table.columns = el.columns;
    table.partitioned = stmt.partspec.is_some();
    table.partition_of = partition_of;
    if partition_of.is_none() {
        table.parents = parents.clone();
    }
    let id = s.db.add_table(table);
    let here = s.at(-1);
    for &parent in &parents {
        constraints::inherit_checks(s.db, parent, id, &here);
    }
    for check in el.checks {
        let location = s.at(check.offset);
        constraints::add_check(s, id, check, location, false)?;
    }
    if let Some(parent) = partition_of {
        partition::clone_into_partition(s.db, parent, id, &here);
    }
    for def in merge_index_constraints(el.indexes) {
        let location = s.at(def.offset);
        index::add_index(s, id, def, location, false)?;
    }
    for (source, options, location) in el.likes {
        copy_like(s, source, id, options, &location);
    }
    for fk in el.foreign {
        let location = s.at(fk.offset);
        constraints::add_foreign_key(s, id, fk, location)?;
    }
    Ok(())
}

/// `transformIndexConstraints`: the primary key first, then the others in order; a definition
/// equal to an earlier one is dropped, giving it its name if it had none.
pub(crate) fn merge_index_constraints(defs: Vec<IndexDef>) -> Vec<IndexDef> {
    let pk = defs.iter().position(|d| d.kind == Kind::Pk);
    let mut out: Vec<IndexDef> = pk.map(|p| defs[p].clone()).into_iter().collect();
    for (i, def) in defs.into_iter().enumerate() {
        if Some(i) == pk {
            continue;
        }
        if let Some(prior) = out.iter_mut().find(|p| p.same_as(&def)) {
            prior.unique |= def.unique;
            if prior.name.is_none() {
                prior.name = def.name;
            }
            continue;
        }
        out.push(def);
    }
    out
}

/// `LIKE source INCLUDING CONSTRAINTS | INDEXES` (`expandTableLikeClause`).
fn copy_like(
    s: &mut ReplaySession<'_>,
    source: TableId,
    table: TableId,
    options: u32,
    at: &Location,
) {
    let objects: Vec<_> = s.db.tables[source]
        .objects
        .iter()
        .filter(|o| !o.hidden)
        .cloned()
        .collect();
    if options & LIKE_CONSTRAINTS != 0 {
        for check in objects.iter().filter(|o| o.kind == Kind::Ck) {
            if s.db.tables[table].has_constraint(&check.name) {
                continue;
            }
            let mut copy = check.copy();
            copy.location = Some(at.clone());
            s.db.add_object(table, copy);
        }
    }
    if options & LIKE_INDEXES != 0 {
        for source_index in objects.iter().filter(|o| o.kind.is_relation()) {
            let has_pk = s.db.tables[table]
                .objects
                .iter()
                .any(|o| o.kind == Kind::Pk);
            if source_index.kind == Kind::Pk && has_pk {
                continue;
            }
            let mut copy = source_index.copy();
            copy.name = index::choose_index_name(s.db, table, copy.kind, &copy.colnames);
            copy.unnamed = true;
            copy.location = Some(at.clone());
            s.db.add_object(table, copy);
        }
    }
}

/// `CREATE TABLE ... AS`, `CREATE MATERIALIZED VIEW`.
pub(crate) fn create_table_as(s: &mut ReplaySession<'_>, c: &CreateTableAsStmt) -> Handled {
    let Some(into) = c.into.as_deref() else {
        return Ok(());
    };
    let kind = if c.objtype == ObjectType::ObjectMatview as i32 {
        TableKind::Matview
    } else {
        TableKind::Table
    };
    create_from_into(s, into, kind, c.if_not_exists)
}

/// A table whose columns come from a query: only the names given are known.
pub(crate) fn create_from_into(
    s: &mut ReplaySession<'_>,
    into: &IntoClause,
    kind: TableKind,
    if_not_exists: bool,
) -> Handled {
    let Some(rv) = into.rel.as_ref() else {
        return Ok(());
    };
    let schema = relation_schema(s.db, rv)?;
    let name = ident(&rv.relname);
    if s.db.lookup(&schema, &name).is_some() {
        return if if_not_exists {
            Ok(())
        } else {
            Err(Problem::new(
                format!("relation \"{name}\" already exists"),
                rv.location,
            ))
        };
    }
    let mut table = TableState::new(schema, name, kind);
    table.columns = strings(&into.col_names);
    s.db.add_table(table);
    Ok(())
}
