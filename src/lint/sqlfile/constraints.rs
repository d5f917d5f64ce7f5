//! CHECK constraints and foreign keys: their names, their copies on inheritance children and
//! partitions, and the hidden foreign keys PostgreSQL adds on the referencing table for every
//! partition of a referenced partitioned table (`addFkRecurseReferenced`, `CloneFkReferenced`
//! in `tablecmds.c`): they are named `<table>_<columns>_fkeyN` and so move later names on.

use super::defs::{CheckDef, ForeignDef};
use super::session::{Handled, Problem, ReplaySession};
use super::state::{Db, Elem, Obj, ObjId, Ref, TableId, Target, ident};
use crate::lint::model::Location;
use crate::lint::naming::{IndexElem, Kind, Unnamed};

/// The name PostgreSQL gives an unnamed CHECK: `<table>_<column>_check` when the expression
/// references exactly one column, else `<table>_check`.
fn check_name(db: &mut Db, table: TableId, refs: &[String]) -> String {
    // a single reference that is no column (a whole-row reference) names no column
    let elems: Vec<IndexElem<'_>> = match refs {
        [only] if !known_column(db, table, only) => Vec::new(),
        _ => refs.iter().map(|c| IndexElem::Column(c)).collect(),
    };
    let (schema, name) = (
        db.tables[table].schema.clone(),
        db.tables[table].name.clone(),
    );
    db.choose(
        &schema,
        &Unnamed::new(Kind::Ck, &name).with_elements(&elems),
    )
}

fn known_column(db: &Db, table: TableId, column: &str) -> bool {
    let columns = &db.tables[table].columns;
    columns.is_empty() || columns.iter().any(|c| c == column)
}

/// The name PostgreSQL gives an unnamed foreign key: `<table>_<columns>_fkey`.
fn fk_name(db: &mut Db, table: TableId, columns: &[String]) -> String {
    let elems: Vec<IndexElem<'_>> = columns.iter().map(|c| IndexElem::Column(c)).collect();
    let (schema, name) = (
        db.tables[table].schema.clone(),
        db.tables[table].name.clone(),
    );
    db.choose(
        &schema,
        &Unnamed::new(Kind::Fk, &name).with_elements(&elems),
    )
}

fn exists(db: &Db, table: TableId, name: &str, offset: i32) -> Problem {
    Problem::new(
        format!(
            "constraint \"{name}\" for relation \"{}\" already exists",
            db.tables[table].name
        ),
        offset,
    )
}

/// The CHECK constraints a new child or partition inherits from `parent`, with their names.
pub(crate) fn inherit_checks(db: &mut Db, parent: TableId, child: TableId, at: &Location) {
    let checks: Vec<Obj> = db.tables[parent]
        .objects
        .iter()
        .filter(|o| o.kind == Kind::Ck && !o.hidden && !o.no_inherit)
        .cloned()
        .collect();
    for check in checks {
        link_check(db, &check, child, at);
    }
}

/// Gives `child` its copy of `check`: an existing one of the same name is merged.
fn link_check(db: &mut Db, check: &Obj, child: TableId, at: &Location) {
    let is_partition = db.tables[child].partition_of.is_some();
    let existing = db.tables[child]
        .objects
        .iter_mut()
        .find(|o| o.kind == Kind::Ck && o.name == check.name);
    if let Some(existing) = existing {
        if existing.parent.is_none() {
            existing.parent = Some(check.id);
            existing.inherited |= is_partition;
        }
        return;
    }
    let mut copy = check.copy();
    copy.inherited = true;
    copy.parent = Some(check.id);
    copy.location = Some(at.clone());
    let id = db.add_object(child, copy);
    if let Some(copy) = db.object(child, id).cloned() {
        for grandchild in db.children(child) {
            link_check(db, &copy, grandchild, at);
        }
    }
}

/// A CHECK constraint of a table definition or `ADD CONSTRAINT`; `recurse` copies it to the
/// children (ALTER TABLE without ONLY).
pub(crate) fn add_check(
    s: &mut ReplaySession<'_>,
    table: TableId,
    def: CheckDef,
    location: Location,
    recurse: bool,
) -> Handled {
    let name = match &def.name {
        Some(name) => name.clone(),
        None => check_name(s.db, table, &def.refs),
    };
    let objects = &mut s.db.tables[table].objects;
    if let Some(existing) = objects
        .iter_mut()
        .find(|o| o.name == name && o.kind.is_constraint() && !o.hidden)
    {
        // a child restating its parent's constraint: it becomes its own
        if existing.kind == Kind::Ck && existing.inherited {
            existing.inherited = false;
            existing.location = Some(location);
            existing.unnamed = def.name.is_none();
            return Ok(());
        }
        return Err(exists(s.db, table, &name, def.offset));
    }
    let mut obj = Obj::new(Kind::Ck, name);
    obj.unnamed = def.name.is_none();
    obj.refs = def.refs;
    obj.shape = def.shape;
    obj.no_inherit = def.no_inherit;
    obj.location = Some(location.clone());
    let id = s.db.add_object(table, obj);
    if recurse && !def.no_inherit {
        if let Some(check) = s.db.object(table, id).cloned() {
            for child in s.db.children(table) {
                link_check(s.db, &check, child, &location);
            }
        }
    }
    Ok(())
}

/// A foreign key of a table definition or `ADD CONSTRAINT`, with its copies on the partitions
/// and the hidden ones for the partitions of the referenced table.
pub(crate) fn add_foreign_key(
    s: &mut ReplaySession<'_>,
    table: TableId,
    def: ForeignDef,
    location: Location,
) -> Handled {
    let target_rv = &def.table;
    let target = s.db.lookup_table(&target_rv.schemaname, &target_rv.relname);
    if s.db.complete {
        complete_foreign_key(s.db, table, &def, target)?;
    }
    let referred = match target {
        Some(id) => Target::Table(id),
        None => Target::Named {
            schema: if target_rv.schemaname.is_empty() {
                s.db.creation_schema("")
                    .unwrap_or_else(|_| "public".to_owned())
            } else {
                ident(&target_rv.schemaname)
            },
            table: ident(&target_rv.relname),
        },
    };
    let ref_columns = if def.ref_columns.is_empty() {
        target.map(|t| primary_key(s.db, t)).unwrap_or_default()
    } else {
        def.ref_columns
    };
    let name = match &def.name {
        Some(name) => name.clone(),
        None => fk_name(s.db, table, &def.columns),
    };
    if s.db.tables[table].has_constraint(&name) {
        return Err(exists(s.db, table, &name, def.offset));
    }
    let mut obj = Obj::new(Kind::Fk, name);
    obj.unnamed = def.name.is_none();
    obj.elems = def.columns.into_iter().map(Elem::Column).collect();
    obj.referred = Some(Ref {
        target: referred,
        columns: ref_columns,
    });
    obj.shape = def.shape;
    obj.location = Some(location.clone());
    let id = s.db.add_object(table, obj);
    if let Some(target) = target {
        referenced_clones(s.db, table, id, target);
    }
    for partition in s.db.partitions(table) {
        clone_foreign_key(s.db, id, table, partition, &location);
    }
    Ok(())
}

/// What PostgreSQL checks of a new foreign key when every table is known: the referenced
/// table, the columns on both sides, and a primary key or unique constraint (or a plain unique
/// index) on exactly the referenced columns.
fn complete_foreign_key(
    db: &Db,
    table: TableId,
    def: &ForeignDef,
    target: Option<TableId>,
) -> Handled {
    let Some(target) = target else {
        return Err(super::session::missing(&def.table));
    };
    let missing = |column: &String| {
        Problem::new(
            format!("column \"{column}\" referenced in foreign key constraint does not exist"),
            def.offset,
        )
    };
    if let Some(column) = db.tables[table].missing_column(true, &def.columns) {
        return Err(missing(column));
    }
    let referenced = if def.ref_columns.is_empty() {
        primary_key(db, target)
    } else {
        def.ref_columns.clone()
    };
    if let Some(column) = db.tables[target].missing_column(true, &referenced) {
        return Err(missing(column));
    }
    let mut wanted: Vec<&String> = referenced.iter().collect();
    wanted.sort();
    let keyed = db.tables[target].objects.iter().any(|o| {
        let unique = matches!(o.kind, Kind::Pk | Kind::Uq) || (o.kind == Kind::Ix && o.unique);
        let mut columns: Vec<&String> = o
            .elems
            .iter()
            .filter_map(|e| match e {
                Elem::Column(c) => Some(c),
                Elem::Expr(_) => None,
            })
            .collect();
        columns.sort();
        unique && columns.len() == o.elems.len() && columns == wanted
    });
    if !keyed && !referenced.is_empty() {
        return Err(Problem::new(
            format!(
                "there is no unique constraint matching given keys for referenced table \"{}\"",
                db.tables[target].name
            ),
            def.offset,
        ));
    }
    Ok(())
}

fn primary_key(db: &Db, table: TableId) -> Vec<String> {
    db.tables[table]
        .objects
        .iter()
        .find(|o| o.kind == Kind::Pk)
        .map(|pk| {
            pk.elems
                .iter()
                .filter_map(|e| match e {
                    Elem::Column(c) => Some(c.clone()),
                    Elem::Expr(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn local_columns(fk: &Obj) -> Vec<String> {
    fk.elems
        .iter()
        .filter_map(|e| match e {
            Elem::Column(c) => Some(c.clone()),
            Elem::Expr(_) => None,
        })
        .collect()
}

/// A parent's foreign key on a partition: an equal one there is attached, else it is copied,
/// keeping the name unless the partition already uses it.
pub(crate) fn clone_foreign_key(
    db: &mut Db,
    fk_id: ObjId,
    parent: TableId,
    child: TableId,
    at: &Location,
) {
    let Some(fk) = db.object(parent, fk_id).cloned() else {
        return;
    };
    if let Some(existing) = db.tables[child].objects.iter_mut().find(|o| {
        o.kind == Kind::Fk
            && !o.hidden
            && o.parent.is_none()
            && o.elems == fk.elems
            && o.referred == fk.referred
    }) {
        existing.parent = Some(fk_id);
        existing.inherited = true;
        return;
    }
    let mut copy = fk.copy();
    if db.tables[child].has_constraint(&fk.name) {
        copy.name = fk_name(db, child, &local_columns(&fk));
    }
    copy.inherited = true;
    copy.parent = Some(fk_id);
    copy.location = Some(at.clone());
    let id = db.add_object(child, copy);
    for partition in db.partitions(child) {
        clone_foreign_key(db, id, child, partition, at);
    }
}

/// The hidden foreign keys of `fk_id` (on `table`) for each partition of `target`.
fn referenced_clones(db: &mut Db, table: TableId, fk_id: ObjId, target: TableId) {
    for partition in db.partitions(target) {
        hidden_clone(db, table, fk_id, partition);
    }
}

fn hidden_clone(db: &mut Db, table: TableId, fk_id: ObjId, partition: TableId) {
    let Some(fk) = db.object(table, fk_id).cloned() else {
        return;
    };
    let mut copy = fk.copy();
    if db.tables[table].has_constraint(&fk.name) {
        copy.name = fk_name(db, table, &local_columns(&fk));
    }
    copy.hidden = true;
    copy.parent = Some(fk_id);
    if let Some(referred) = &mut copy.referred {
        referred.target = Target::Table(partition);
    }
    let id = db.add_object(table, copy);
    referenced_clones(db, table, id, partition);
}

/// `CloneFkReferenced`: every foreign key to `parent` (but not the copies of one that is
/// itself cloned) gets a hidden copy for its new partition.
pub(crate) fn clone_referenced_for_partition(db: &mut Db, parent: TableId, partition: TableId) {
    let to_parent: Vec<(TableId, ObjId, Option<ObjId>)> = db
        .live()
        .flat_map(|t| {
            db.tables[t]
                .objects
                .iter()
                .filter(|o| {
                    o.kind == Kind::Fk
                        && o.referred
                            .as_ref()
                            .is_some_and(|r| r.target == Target::Table(parent))
                })
                .map(move |o| (t, o.id, o.parent))
        })
        .collect();
    let ids: Vec<ObjId> = to_parent.iter().map(|(_, id, _)| *id).collect();
    for (table, id, fk_parent) in to_parent {
        if fk_parent.is_some_and(|p| ids.contains(&p)) {
            continue;
        }
        hidden_clone(db, table, id, partition);
    }
}

/// `ALTER TABLE ... DROP CONSTRAINT`: with what was inherited from it and, with CASCADE, the
/// foreign keys that rely on a dropped key.
pub(crate) fn drop_constraint(
    s: &mut ReplaySession<'_>,
    table: TableId,
    name: &str,
    missing_ok: bool,
    cascade: bool,
) -> Handled {
    let t = &s.db.tables[table];
    let Some(obj) = t
        .objects
        .iter()
        .find(|o| o.name == name && o.kind.is_constraint())
        .cloned()
    else {
        if missing_ok {
            return Ok(());
        }
        return Err(Problem::new(
            format!(
                "constraint \"{name}\" of relation \"{}\" does not exist",
                t.name
            ),
            -1,
        ));
    };
    let mut doomed = vec![obj.id];
    if cascade && obj.kind.is_relation() {
        let key = local_columns(&obj);
        doomed.extend(
            s.db.tables
                .iter()
                .flat_map(|t| &t.objects)
                .filter(|o| {
                    o.referred
                        .as_ref()
                        .is_some_and(|r| r.target == Target::Table(table) && r.columns == key)
                })
                .map(|o| o.id),
        );
    }
    s.db.remove_objects(&doomed);
    Ok(())
}
