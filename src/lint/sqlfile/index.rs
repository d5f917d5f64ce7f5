//! Indexes and index-backed constraints (primary key, unique, exclusion): their names
//! (`ChooseIndexName` in `indexcmds.c`) and their copies on partitions, where an equal index
//! already there is attached instead (`DefineIndex`, `AttachPartitionEnsureIndexes`).

use pg_query::protobuf::IndexStmt;

use super::defs::{IndexDef, from_index_stmt};
use super::session::{Handled, Problem, ReplaySession, already_exists, missing};
use super::state::{Db, Elem, ObjId, TableId, TableKind};
use crate::lint::model::Location;
use crate::lint::naming::{IndexElem, Kind, Unnamed};

/// The name PostgreSQL gives an unnamed index of `kind` on `table` with these index column
/// names (see [`IndexDef::colnames`]).
pub(crate) fn choose_index_name(
    db: &mut Db,
    table: TableId,
    kind: Kind,
    colnames: &[String],
) -> String {
    let elems: Vec<IndexElem<'_>> = colnames.iter().map(|c| IndexElem::Column(c)).collect();
    let (schema, name) = (
        db.tables[table].schema.clone(),
        db.tables[table].name.clone(),
    );
    db.choose(&schema, &Unnamed::new(kind, &name).with_elements(&elems))
}

/// Adds an index or index-backed constraint; `recurse` also gives the partitions theirs.
pub(crate) fn add_index(
    s: &mut ReplaySession<'_>,
    table: TableId,
    def: IndexDef,
    location: Location,
    recurse: bool,
) -> Result<ObjId, Problem> {
    let unnamed = def.name.is_none();
    let name = match &def.name {
        Some(name) => name.clone(),
        None => choose_index_name(s.db, table, def.kind, &def.colnames()),
    };
    let keys = def.elems.iter().filter_map(|e| match e {
        Elem::Column(c) => Some(c),
        Elem::Expr(_) => None,
    });
    if let Some(column) = s.db.tables[table].missing_column(s.db.complete, keys) {
        let message = if def.kind.is_constraint() {
            format!("column \"{column}\" named in key does not exist")
        } else {
            format!("column \"{column}\" does not exist")
        };
        return Err(Problem::new(message, def.offset));
    }
    let schema = s.db.tables[table].schema.clone();
    if s.db.lookup(&schema, &name).is_some() {
        return Err(already_exists(&name, def.offset));
    }
    if def.kind.is_constraint() && s.db.tables[table].has_constraint(&name) {
        return Err(Problem::new(
            format!(
                "constraint \"{name}\" for relation \"{}\" already exists",
                s.db.tables[table].name
            ),
            def.offset,
        ));
    }
    let id =
        s.db.add_object(table, def.into_obj(name, unnamed, location.clone()));
    if recurse {
        for partition in s.db.partitions(table) {
            attach_or_clone(s.db, id, table, partition, &location);
        }
    }
    Ok(id)
}

/// Gives `child` the parent's index `index_id`: an equal index not yet attached to anything is
/// attached, else a copy named for `child` is created (and so on down the partitions).
pub(crate) fn attach_or_clone(
    db: &mut Db,
    index_id: ObjId,
    parent: TableId,
    child: TableId,
    at: &Location,
) {
    if db.tables[child].kind == TableKind::Foreign {
        return;
    }
    let Some(index) = db.object(parent, index_id).cloned() else {
        return;
    };
    if let Some(existing) = db.tables[child].objects.iter_mut().find(|o| {
        !o.hidden
            && o.parent.is_none()
            && o.same_index(&index)
            && (!index.kind.is_constraint() || o.kind.is_constraint())
    }) {
        existing.parent = Some(index_id);
        existing.inherited = true;
        return;
    }
    let mut copy = index.copy();
    copy.name = choose_index_name(db, child, copy.kind, &copy.colnames);
    copy.unnamed = true;
    copy.inherited = true;
    copy.parent = Some(index_id);
    copy.location = Some(at.clone());
    let id = db.add_object(child, copy);
    for partition in db.partitions(child) {
        attach_or_clone(db, id, child, partition, at);
    }
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table ...`.
pub(crate) fn create_index(s: &mut ReplaySession<'_>, stmt: &IndexStmt) -> Handled {
    let Some(rv) = stmt.relation.as_ref() else {
        return Ok(());
    };
    let table =
        s.db.lookup_table(&rv.schemaname, &rv.relname)
            .ok_or_else(|| missing(rv))?;
    let def = from_index_stmt(stmt);
    let schema = s.db.tables[table].schema.clone();
    if let Some(name) = &def.name
        && s.db.lookup(&schema, name).is_some()
    {
        if !stmt.if_not_exists {
            return Err(already_exists(name, -1));
        }
        let same = s.db.tables[table].objects.iter().any(|o| {
            o.kind == Kind::Ix && o.name == *name && o.unique == def.unique && o.elems == def.elems
        });
        if !same && let Some(owner) = s.db.describe_relation(&schema, name) {
            s.notice(format!(
                "CREATE INDEX IF NOT EXISTS {name} creates nothing: the name is taken by {owner}; this index on {} is not made",
                s.db.tables[table].name
            ));
        }
        return Ok(());
    }
    let location = s.at(-1);
    add_index(s, table, def, location, rv.inh)?;
    Ok(())
}
