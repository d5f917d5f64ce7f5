//! Renames and schema moves: `ALTER TABLE|INDEX|SEQUENCE|VIEW ... RENAME [TO | COLUMN |
//! CONSTRAINT]`, `ALTER SCHEMA ... RENAME`, `ALTER TABLE ... SET SCHEMA`.
//!
//! Renaming an index renames the constraint it backs and the other way round; renaming a
//! column updates every constraint and index that uses it (index column names stay as
//! PostgreSQL stored them, so later copies of the index are still named from the old name).

use pg_query::protobuf::{AlterObjectSchemaStmt, ObjectType, RangeVar, RenameStmt};

use super::expr::rename_refs;
use super::session::{Handled, Problem, ReplaySession, already_exists, missing};
use super::state::{Db, Elem, Rel, TableId, Target, ident};
use crate::lint::naming::Kind;

pub(crate) fn rename(s: &mut ReplaySession<'_>, r: &RenameStmt) -> Handled {
    let Ok(kind) = ObjectType::try_from(r.rename_type) else {
        return Ok(());
    };
    let new = ident(&r.newname);
    let Some(rv) = r.relation.as_ref() else {
        if kind == ObjectType::ObjectSchema {
            rename_schema(s.db, &ident(&r.subname), &new)?;
        }
        return Ok(());
    };
    match kind {
        ObjectType::ObjectTable
        | ObjectType::ObjectIndex
        | ObjectType::ObjectSequence
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectForeignTable => rename_relation(s, rv, &new, r.missing_ok),
        ObjectType::ObjectColumn => match s.db.lookup(&rv.schemaname, &rv.relname) {
            Some((_, Rel::Table(table))) => {
                rename_column(s.db, table, &ident(&r.subname), &new, rv.inh)
            }
            Some(_) => Ok(()),
            None if r.missing_ok => Ok(()),
            None => Err(missing(rv)),
        },
        ObjectType::ObjectTabconstraint => {
            let table = match s.db.lookup_table(&rv.schemaname, &rv.relname) {
                Some(table) => table,
                None if r.missing_ok => return Ok(()),
                None => return Err(missing(rv)),
            };
            rename_constraint(s.db, table, &ident(&r.subname), &new)
        }
        _ => Ok(()),
    }
}

fn rename_relation(
    s: &mut ReplaySession<'_>,
    rv: &RangeVar,
    new: &str,
    missing_ok: bool,
) -> Handled {
    let Some((schema, rel)) = s.db.lookup(&rv.schemaname, &rv.relname) else {
        return if missing_ok { Ok(()) } else { Err(missing(rv)) };
    };
    if s.db.lookup(&schema, new).is_some() {
        return Err(already_exists(new, -1));
    }
    let old = ident(&rv.relname);
    match rel {
        Rel::Table(table) => {
            let ns = s.db.namespace(&schema);
            ns.remove_relation(&old);
            ns.add_relation(new, rel);
            s.db.tables[table].name = new.to_owned();
        }
        Rel::Index(table) => {
            if let Some(position) = s.db.tables[table]
                .objects
                .iter()
                .position(|o| o.kind.is_relation() && o.name == old)
            {
                s.db.rename_object(table, position, new);
            }
        }
        Rel::Other => {
            let ns = s.db.namespace(&schema);
            ns.remove_relation(&old);
            ns.add_relation(new, rel);
        }
    }
    Ok(())
}

/// Renames a column of `table` (and its children unless `recurse` is false) everywhere.
fn rename_column(db: &mut Db, table: TableId, old: &str, new: &str, recurse: bool) -> Handled {
    let t = &mut db.tables[table];
    let Some(position) = t.columns.iter().position(|c| c == old) else {
        return Err(Problem::new(format!("column \"{old}\" does not exist"), -1));
    };
    if t.columns.iter().any(|c| c == new) {
        return Err(Problem::new(
            format!("column \"{new}\" of relation \"{}\" already exists", t.name),
            -1,
        ));
    }
    t.columns[position] = new.to_owned();
    let swap = |c: &mut String| {
        if c == old {
            *c = new.to_owned();
        }
    };
    for obj in &mut t.objects {
        for elem in &mut obj.elems {
            match elem {
                Elem::Column(c) => swap(c),
                Elem::Expr(x) => {
                    x.columns.iter_mut().for_each(swap);
                    rename_refs(&mut x.tree, old, new);
                }
            }
        }
        obj.include.iter_mut().for_each(swap);
        obj.refs.iter_mut().for_each(swap);
        rename_refs(&mut obj.shape, old, new);
    }
    for t in &mut db.tables {
        for obj in &mut t.objects {
            if let Some(referred) = &mut obj.referred
                && referred.target == Target::Table(table)
            {
                referred.columns.iter_mut().for_each(swap);
            }
        }
    }
    if recurse {
        for child in db.children(table) {
            if db.tables[child].columns.iter().any(|c| c == old) {
                rename_column(db, child, old, new, true)?;
            }
        }
    }
    Ok(())
}

/// `RENAME CONSTRAINT`: an inherited CHECK is renamed in the children too.
fn rename_constraint(db: &mut Db, table: TableId, old: &str, new: &str) -> Handled {
    let t = &db.tables[table];
    let Some(position) = t
        .objects
        .iter()
        .position(|o| o.name == old && o.kind.is_constraint() && !o.hidden)
    else {
        return Err(Problem::new(
            format!(
                "constraint \"{old}\" for table \"{}\" does not exist",
                t.name
            ),
            -1,
        ));
    };
    if t.has_constraint(new) {
        return Err(Problem::new(
            format!(
                "constraint \"{new}\" for relation \"{}\" already exists",
                t.name
            ),
            -1,
        ));
    }
    let obj = &t.objects[position];
    let (id, kind) = (obj.id, obj.kind);
    db.rename_object(table, position, new);
    if kind == Kind::Ck {
        for child in db.children(table) {
            if let Some(pos) = db.tables[child]
                .objects
                .iter()
                .position(|o| o.parent == Some(id))
            {
                let child_old = db.tables[child].objects[pos].name.clone();
                rename_constraint(db, child, &child_old, new)?;
            }
        }
    }
    Ok(())
}

fn rename_schema(db: &mut Db, old: &str, new: &str) -> Handled {
    if db.schemas.contains_key(new) {
        return Err(Problem::new(format!("schema \"{new}\" already exists"), -1));
    }
    let Some(ns) = db.schemas.remove(old) else {
        return Err(Problem::new(format!("schema \"{old}\" does not exist"), -1));
    };
    db.schemas.insert(new.to_owned(), ns);
    for t in &mut db.tables {
        if t.schema == old {
            t.schema = new.to_owned();
        }
    }
    for obj in db.tables.iter_mut().flat_map(|t| &mut t.objects) {
        if let Some(referred) = &mut obj.referred
            && let Target::Named { schema, .. } = &mut referred.target
            && schema == old
        {
            *schema = new.to_owned();
        }
    }
    let domains = std::mem::take(&mut db.domains);
    db.domains = domains
        .into_iter()
        .map(|((schema, name), v)| {
            let schema = if schema == old {
                new.to_owned()
            } else {
                schema
            };
            ((schema, name), v)
        })
        .collect();
    Ok(())
}

/// `ALTER TABLE ... SET SCHEMA`: the table's indexes and constraints move with it.
pub(crate) fn set_schema(s: &mut ReplaySession<'_>, a: &AlterObjectSchemaStmt) -> Handled {
    let Some(rv) = a.relation.as_ref() else {
        return Ok(());
    };
    let Some((old_schema, rel)) = s.db.lookup(&rv.schemaname, &rv.relname) else {
        return if a.missing_ok {
            Ok(())
        } else {
            Err(missing(rv))
        };
    };
    let new_schema = ident(&a.newschema);
    let name = ident(&rv.relname);
    if s.db.lookup(&new_schema, &name).is_some() {
        return Err(already_exists(&name, -1));
    }
    s.db.namespace(&old_schema).remove_relation(&name);
    s.db.namespace(&new_schema).add_relation(&name, rel);
    if let Rel::Table(table) = rel {
        let objects = s.db.tables[table].objects.clone();
        for obj in &objects {
            let old = s.db.namespace(&old_schema);
            if obj.kind.is_relation() {
                old.remove_relation(&obj.name);
            }
            if obj.kind.is_constraint() {
                old.remove_constraint(&obj.name);
            }
            let ns = s.db.namespace(&new_schema);
            if obj.kind.is_relation() {
                ns.add_relation(&obj.name, Rel::Index(table));
            }
            if obj.kind.is_constraint() {
                ns.add_constraint(&obj.name);
            }
        }
        s.db.tables[table].schema = new_schema;
    }
    Ok(())
}
