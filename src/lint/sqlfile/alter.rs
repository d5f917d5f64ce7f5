//! `ALTER TABLE` and `ALTER INDEX ... ATTACH PARTITION`.
//!
//! The subcommands of one `ALTER TABLE` run in PostgreSQL's passes (`AT_PASS_*` in
//! `tablecmds.c`), which decides the order names are chosen in: drops first, then added
//! columns, then `ADD CONSTRAINT`s are examined; index-backed constraints (`USING INDEX` ones
//! first) are created before CHECK constraints and foreign keys, and the constraints written
//! on an added column are queued before the `ADD CONSTRAINT`s (PostgreSQL 15 names
//! `ADD COLUMN c int CHECK (c > 0), ADD CHECK (c < 9)` `t_c_check`, `t_c_check1`).

use pg_query::NodeEnum;
use pg_query::protobuf::{
    AlterTableCmd, AlterTableStmt, AlterTableType, ColumnDef, DropBehavior, Node, ObjectType,
    RangeVar,
};

use super::constraints::{add_check, add_foreign_key, drop_constraint};
use super::create::{merge_index_constraints, needs_sequence};
use super::defs::{CheckDef, Def, ForeignDef, IndexDef, from_constraint};
use super::index::add_index;
use super::partition;
use super::session::{Handled, Problem, ReplaySession, already_exists, missing};
use super::state::{Rel, TableId, Target, ident};
use crate::lint::naming::Kind;

const DROP: usize = 0;
const ADD_COLUMN: usize = 1;
const ADD_CONSTRAINT: usize = 2;
const ADD_INDEX_CONSTRAINT: usize = 3;
const ADD_INDEX: usize = 4;
const ADD_OTHER_CONSTRAINT: usize = 5;
const MISC: usize = 6;
const PASSES: usize = 7;

/// `ALTER TABLE` on an index, sequence or view: PostgreSQL refuses what this replay models
/// (adding or dropping columns and constraints, partitions, inheritance), and nothing else
/// names anything.
fn not_a_table(rv: &RangeVar, cmds: &[Node]) -> Handled {
    let refused = commands(cmds).find_map(|cmd| match AlterTableType::try_from(cmd.subtype) {
        Ok(AlterTableType::AtAddConstraint) => Some("ADD CONSTRAINT"),
        Ok(AlterTableType::AtDropConstraint) => Some("DROP CONSTRAINT"),
        Ok(AlterTableType::AtAddColumn) => Some("ADD COLUMN"),
        Ok(AlterTableType::AtDropColumn) => Some("DROP COLUMN"),
        _ => None,
    });
    match refused {
        Some(action) => Err(Problem::new(
            format!(
                "ALTER action {action} cannot be performed on relation \"{}\"",
                ident(&rv.relname)
            ),
            rv.location,
        )),
        None => Ok(()),
    }
}

/// One piece of work in a pass.
enum Work<'a> {
    Cmd(&'a AlterTableCmd),
    UsingIndex(IndexDef),
    Indexes(Vec<IndexDef>),
    Check(CheckDef),
    Foreign(ForeignDef),
}

/// One `ALTER TABLE` on one table.
struct Alter<'s, 'f> {
    session: &'s mut ReplaySession<'f>,
    table: TableId,
    only: bool,
}

pub(crate) fn alter_table(s: &mut ReplaySession<'_>, stmt: &AlterTableStmt) -> Handled {
    let Some(rv) = stmt.relation.as_ref() else {
        return Ok(());
    };
    if stmt.objtype == ObjectType::ObjectIndex as i32 {
        return alter_index(s, rv, &stmt.cmds, stmt.missing_ok);
    }
    let table = match s.db.lookup(&rv.schemaname, &rv.relname) {
        Some((_, Rel::Table(id))) => id,
        Some(_) => return not_a_table(rv, &stmt.cmds),
        None if stmt.missing_ok => return Ok(()),
        None => return Err(missing(rv)),
    };
    let mut passes: [Vec<Work<'_>>; PASSES] = Default::default();
    for cmd in commands(&stmt.cmds) {
        let pass = match AlterTableType::try_from(cmd.subtype) {
            Ok(AlterTableType::AtDropConstraint | AlterTableType::AtDropColumn) => DROP,
            Ok(AlterTableType::AtAddColumn) => ADD_COLUMN,
            Ok(AlterTableType::AtAddConstraint) => ADD_CONSTRAINT,
            Ok(
                AlterTableType::AtAttachPartition
                | AlterTableType::AtDetachPartition
                | AlterTableType::AtAddInherit
                | AlterTableType::AtDropInherit,
            ) => MISC,
            _ => continue,
        };
        passes[pass].push(Work::Cmd(cmd));
    }
    let mut alter = Alter {
        session: s,
        table,
        only: !rv.inh,
    };
    for pass in 0..PASSES {
        for work in std::mem::take(&mut passes[pass]) {
            alter.run(work, &mut passes)?;
        }
    }
    Ok(())
}

fn commands(nodes: &[Node]) -> impl Iterator<Item = &AlterTableCmd> {
    nodes.iter().filter_map(|n| match n.node.as_ref() {
        Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
        _ => None,
    })
}

fn def_node(cmd: &AlterTableCmd) -> Option<&NodeEnum> {
    cmd.def.as_deref().and_then(|n| n.node.as_ref())
}

impl<'stmt> Alter<'_, '_> {
    fn run(&mut self, work: Work<'stmt>, passes: &mut [Vec<Work<'stmt>>; PASSES]) -> Handled {
        let table = self.table;
        let recurse = !self.only;
        match work {
            Work::Cmd(cmd) => self.command(cmd, passes),
            Work::UsingIndex(def) => self.using_index(def),
            Work::Indexes(defs) => {
                for def in merge_index_constraints(defs) {
                    let location = self.session.at(def.offset);
                    add_index(self.session, table, def, location, recurse)?;
                }
                Ok(())
            }
            Work::Check(def) => {
                let location = self.session.at(def.offset);
                add_check(self.session, table, def, location, recurse)
            }
            Work::Foreign(def) => {
                let location = self.session.at(def.offset);
                add_foreign_key(self.session, table, def, location)
            }
        }
    }

    fn command(
        &mut self,
        cmd: &'stmt AlterTableCmd,
        passes: &mut [Vec<Work<'stmt>>; PASSES],
    ) -> Handled {
        let cascade = cmd.behavior == DropBehavior::DropCascade as i32;
        let name = ident(&cmd.name);
        match (AlterTableType::try_from(cmd.subtype), def_node(cmd)) {
            (Ok(AlterTableType::AtDropConstraint), _) => {
                drop_constraint(self.session, self.table, &name, cmd.missing_ok, cascade)
            }
            (Ok(AlterTableType::AtDropColumn), _) => {
                self.drop_column(self.table, &name, cmd.missing_ok, cascade)
            }
            (Ok(AlterTableType::AtAddColumn), Some(NodeEnum::ColumnDef(cd))) => {
                self.add_column(cd, cmd.missing_ok, passes)
            }
            (Ok(AlterTableType::AtAddConstraint), Some(NodeEnum::Constraint(c))) => {
                match from_constraint(c, None) {
                    Some(Def::Index(def)) if def.using_index.is_some() => {
                        passes[ADD_INDEX_CONSTRAINT].push(Work::UsingIndex(def));
                    }
                    Some(Def::Index(def)) => passes[ADD_INDEX].push(Work::Indexes(vec![def])),
                    Some(Def::Check(def)) => passes[ADD_OTHER_CONSTRAINT].push(Work::Check(def)),
                    Some(Def::Foreign(def)) => {
                        passes[ADD_OTHER_CONSTRAINT].push(Work::Foreign(def));
                    }
                    None => {}
                }
                Ok(())
            }
            (Ok(AlterTableType::AtAttachPartition), Some(NodeEnum::PartitionCmd(p))) => {
                partition::attach(self.session, self.table, p, -1)
            }
            (Ok(AlterTableType::AtDetachPartition), Some(NodeEnum::PartitionCmd(p))) => {
                partition::detach(self.session, self.table, p)
            }
            (Ok(AlterTableType::AtAddInherit), Some(NodeEnum::RangeVar(parent))) => {
                let offset = parent.location;
                let parent = self.find(parent)?;
                let db = &mut *self.session.db;
                if db.descends_from(parent, self.table) {
                    return Err(Problem::new("circular inheritance not allowed", offset));
                }
                if !db.tables[self.table].parents.contains(&parent) {
                    db.tables[self.table].parents.push(parent);
                }
                Ok(())
            }
            (Ok(AlterTableType::AtDropInherit), Some(NodeEnum::RangeVar(parent))) => {
                let parent = self.find(parent)?;
                self.session.db.tables[self.table]
                    .parents
                    .retain(|&p| p != parent);
                partition::unlink(self.session.db, parent, self.table);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn find(&self, rv: &RangeVar) -> Result<TableId, Problem> {
        self.session
            .db
            .lookup_table(&rv.schemaname, &rv.relname)
            .ok_or_else(|| missing(rv))
    }

    fn add_column(
        &mut self,
        cd: &'stmt ColumnDef,
        if_not_exists: bool,
        passes: &mut [Vec<Work<'stmt>>; PASSES],
    ) -> Handled {
        let db = &mut *self.session.db;
        let column = ident(&cd.colname);
        let t = &db.tables[self.table];
        if t.columns.contains(&column) {
            if if_not_exists {
                return Ok(());
            }
            return Err(Problem::new(
                format!(
                    "column \"{column}\" of relation \"{}\" already exists",
                    t.name
                ),
                cd.location,
            ));
        }
        let mut tables = vec![self.table];
        if !self.only {
            let mut i = 0;
            while let Some(&t) = tables.get(i) {
                tables.extend(db.children(t));
                i += 1;
            }
        }
        for t in tables {
            if !db.tables[t].columns.contains(&column) {
                db.tables[t].columns.push(column.clone());
            }
        }
        if needs_sequence(cd) {
            let (schema, name) = (
                db.tables[self.table].schema.clone(),
                db.tables[self.table].name.clone(),
            );
            let sequence = db.choose_relation_name(&schema, &name, Some(&column), "seq");
            db.namespace(&schema).add_relation(&sequence, Rel::Other);
        }
        let mut indexes = Vec::new();
        for c in &cd.constraints {
            let Some(NodeEnum::Constraint(c)) = c.node.as_ref() else {
                continue;
            };
            match from_constraint(c, Some(&column)) {
                Some(Def::Index(def)) => indexes.push(def),
                Some(Def::Check(def)) => passes[ADD_OTHER_CONSTRAINT].push(Work::Check(def)),
                Some(Def::Foreign(def)) => passes[ADD_OTHER_CONSTRAINT].push(Work::Foreign(def)),
                None => {}
            }
        }
        if !indexes.is_empty() {
            passes[ADD_INDEX].push(Work::Indexes(indexes));
        }
        Ok(())
    }

    /// `DROP COLUMN`: the indexes and constraints that use it go too, and, with CASCADE, the
    /// foreign keys that point at it.
    fn drop_column(
        &mut self,
        table: TableId,
        column: &str,
        missing_ok: bool,
        cascade: bool,
    ) -> Handled {
        let db = &mut *self.session.db;
        let t = &db.tables[table];
        let Some(position) = t.columns.iter().position(|c| c == column) else {
            if missing_ok {
                return Ok(());
            }
            return Err(Problem::new(
                format!(
                    "column \"{column}\" of relation \"{}\" does not exist",
                    t.name
                ),
                -1,
            ));
        };
        db.tables[table].columns.remove(position);
        let mut doomed: Vec<_> = db.tables[table]
            .objects
            .iter()
            .filter(|o| o.uses_column(column))
            .map(|o| o.id)
            .collect();
        if cascade {
            doomed.extend(
                db.tables
                    .iter()
                    .flat_map(|t| &t.objects)
                    .filter(|o| {
                        o.referred.as_ref().is_some_and(|r| {
                            r.target == Target::Table(table)
                                && r.columns.iter().any(|c| c == column)
                        })
                    })
                    .map(|o| o.id),
            );
        }
        db.remove_objects(&doomed);
        if !self.only {
            for child in db.children(table) {
                self.drop_column(child, column, true, cascade)?;
            }
        }
        Ok(())
    }

    /// `ADD [CONSTRAINT name] PRIMARY KEY | UNIQUE USING INDEX index`: the index becomes the
    /// constraint, renamed to the constraint's name if one is given.
    fn using_index(&mut self, def: IndexDef) -> Handled {
        let db = &mut *self.session.db;
        let index_name = def.using_index.clone().unwrap_or_default();
        let schema = db.tables[self.table].schema.clone();
        let found = db
            .lookup_index(&schema, &index_name)
            .filter(|(t, _)| *t == self.table);
        let Some((table, position)) = found else {
            return Err(Problem::new(
                format!("index \"{index_name}\" does not exist"),
                def.offset,
            ));
        };
        let index = &db.tables[table].objects[position];
        if index.kind != Kind::Ix {
            return Err(Problem::new(
                format!("index \"{index_name}\" is already associated with a constraint"),
                def.offset,
            ));
        }
        let unnamed = def.name.is_none() && index.unnamed;
        let name = def.name.clone().unwrap_or_else(|| index_name.clone());
        if name != index_name {
            if db.lookup(&schema, &name).is_some() {
                return Err(already_exists(&name, def.offset));
            }
            db.rename_object(table, position, &name);
        }
        db.namespace(&schema).add_constraint(&name);
        let location = self.session.at(def.offset);
        let obj = &mut self.session.db.tables[table].objects[position];
        obj.kind = def.kind;
        obj.unique = true;
        obj.unnamed = unnamed;
        obj.location = Some(location);
        Ok(())
    }
}

/// `ALTER INDEX parent ATTACH PARTITION child` (what pg_dump writes for partitioned indexes).
fn alter_index(
    s: &mut ReplaySession<'_>,
    rv: &RangeVar,
    cmds: &[Node],
    missing_ok: bool,
) -> Handled {
    for cmd in commands(cmds) {
        let Some(NodeEnum::PartitionCmd(p)) = def_node(cmd) else {
            continue;
        };
        if cmd.subtype != AlterTableType::AtAttachPartition as i32 {
            continue;
        }
        let Some(child_rv) = p.name.as_ref() else {
            continue;
        };
        let Some((parent_table, parent_pos)) = s.db.lookup_index(&rv.schemaname, &rv.relname)
        else {
            if missing_ok {
                return Ok(());
            }
            return Err(missing(rv));
        };
        let (child_table, child_pos) =
            s.db.lookup_index(&child_rv.schemaname, &child_rv.relname)
                .ok_or_else(|| missing(child_rv))?;
        let parent_id = s.db.tables[parent_table].objects[parent_pos].id;
        let child = &mut s.db.tables[child_table].objects[child_pos];
        child.parent = Some(parent_id);
        child.inherited = true;
    }
    Ok(())
}
