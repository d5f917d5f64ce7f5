//! Partitions: what a table gets from its parent when it is created as, or attached as, a
//! partition (`DefineRelation`, `ATExecAttachPartition` in `tablecmds.c`), and what it keeps
//! when detached.

use pg_query::protobuf::PartitionCmd;

use super::constraints::{clone_foreign_key, clone_referenced_for_partition, inherit_checks};
use super::index::attach_or_clone;
use super::session::{Handled, Problem, ReplaySession, missing};
use super::state::{Db, TableId};
use crate::lint::model::Location;
use crate::lint::naming::Kind;

/// The parent's indexes (attached or cloned and named for the partition), the hidden foreign
/// keys for references to the parent, and the parent's foreign keys (with their names).
pub(crate) fn clone_into_partition(
    db: &mut Db,
    parent: TableId,
    partition: TableId,
    at: &Location,
) {
    let indexes: Vec<_> = db.tables[parent]
        .objects
        .iter()
        .filter(|o| o.kind.is_relation() && !o.hidden)
        .map(|o| o.id)
        .collect();
    for id in indexes {
        attach_or_clone(db, id, parent, partition, at);
    }
    clone_referenced_for_partition(db, parent, partition);
    let foreign_keys: Vec<_> = db.tables[parent]
        .objects
        .iter()
        .filter(|o| o.kind == Kind::Fk && !o.hidden)
        .map(|o| o.id)
        .collect();
    for id in foreign_keys {
        clone_foreign_key(db, id, parent, partition, at);
    }
}

/// `ALTER TABLE parent ATTACH PARTITION child ...`.
pub(crate) fn attach(
    s: &mut ReplaySession<'_>,
    parent: TableId,
    cmd: &PartitionCmd,
    offset: i32,
) -> Handled {
    let Some(rv) = cmd.name.as_ref() else {
        return Ok(());
    };
    let child =
        s.db.lookup_table(&rv.schemaname, &rv.relname)
            .ok_or_else(|| missing(rv))?;
    let t = &s.db.tables[child];
    if t.partition_of.is_some() || !t.parents.is_empty() {
        return Err(Problem::new(
            format!("\"{}\" is already a child of another table", t.name),
            rv.location,
        ));
    }
    if s.db.descends_from(parent, child) {
        return Err(Problem::new(
            "circular inheritance not allowed",
            rv.location,
        ));
    }
    let at = s.at(offset);
    s.db.tables[child].partition_of = Some(parent);
    inherit_checks(s.db, parent, child, &at);
    clone_into_partition(s.db, parent, child, &at);
    Ok(())
}

/// `ALTER TABLE parent DETACH PARTITION child`: what was inherited becomes the child's own.
pub(crate) fn detach(s: &mut ReplaySession<'_>, parent: TableId, cmd: &PartitionCmd) -> Handled {
    let Some(rv) = cmd.name.as_ref() else {
        return Ok(());
    };
    let child =
        s.db.lookup_table(&rv.schemaname, &rv.relname)
            .ok_or_else(|| missing(rv))?;
    s.db.tables[child].partition_of = None;
    unlink(s.db, parent, child);
    Ok(())
}

/// Objects of `child` inherited from `parent` become its own.
pub(crate) fn unlink(db: &mut Db, parent: TableId, child: TableId) {
    let from_parent: Vec<_> = db.tables[parent].objects.iter().map(|o| o.id).collect();
    for obj in &mut db.tables[child].objects {
        if obj.parent.is_some_and(|p| from_parent.contains(&p)) {
            obj.parent = None;
            obj.inherited = false;
        }
    }
}
