//! `DROP TABLE | INDEX | SEQUENCE | VIEW | MATERIALIZED VIEW | TYPE | DOMAIN | SCHEMA`.

use pg_query::NodeEnum;
use pg_query::protobuf::{DropBehavior, DropStmt, Node, ObjectType};

use super::expr::{qualified, string};
use super::session::{Handled, Problem, ReplaySession};
use super::state::{Rel, ident};
use crate::lint::naming::Kind;

/// The (schema, name) of a dropped object: a name list, a name, or a type name.
fn object_name(node: &Node) -> Option<(String, String)> {
    match node.node.as_ref()? {
        NodeEnum::List(list) => qualified(&list.items),
        NodeEnum::String(_) => Some((String::new(), ident(string(node)?))),
        NodeEnum::TypeName(t) => qualified(&t.names),
        _ => None,
    }
}

pub(crate) fn drop(s: &mut ReplaySession<'_>, d: &DropStmt) -> Handled {
    let Ok(kind) = ObjectType::try_from(d.remove_type) else {
        return Ok(());
    };
    let cascade = d.behavior == DropBehavior::DropCascade as i32;
    for (schema, name) in d.objects.iter().filter_map(object_name) {
        let result = match kind {
            ObjectType::ObjectTable
            | ObjectType::ObjectForeignTable
            | ObjectType::ObjectMatview => match s.db.lookup(&schema, &name) {
                Some((_, Rel::Table(table))) => {
                    s.db.drop_table(table, cascade);
                    Ok(())
                }
                _ => Err(format!("table \"{name}\" does not exist")),
            },
            ObjectType::ObjectIndex => drop_index(s, &schema, &name),
            ObjectType::ObjectSequence | ObjectType::ObjectView | ObjectType::ObjectType => {
                match s.db.lookup(&schema, &name) {
                    Some((schema, Rel::Other)) => {
                        s.db.namespace(&schema).remove_relation(&name);
                        Ok(())
                    }
                    _ => Err(format!("relation \"{name}\" does not exist")),
                }
            }
            ObjectType::ObjectDomain => {
                drop_domain(s, &schema, &name);
                Ok(())
            }
            ObjectType::ObjectSchema => drop_schema(s, &name),
            _ => Ok(()),
        };
        match result {
            Err(message) if !d.missing_ok || !message.ends_with("does not exist") => {
                return Err(Problem::new(message, -1));
            }
            _ => {}
        }
    }
    Ok(())
}

fn drop_index(s: &mut ReplaySession<'_>, schema: &str, name: &str) -> Result<(), String> {
    let Some((table, position)) = s.db.lookup_index(schema, name) else {
        return Err(format!("index \"{name}\" does not exist"));
    };
    let obj = &s.db.tables[table].objects[position];
    if obj.kind != Kind::Ix {
        return Err(format!(
            "cannot drop index {name} because constraint {name} on table {} requires it",
            s.db.tables[table].name
        ));
    }
    let id = obj.id;
    s.db.remove_objects(&[id]);
    Ok(())
}

fn drop_domain(s: &mut ReplaySession<'_>, schema: &str, name: &str) {
    let schemas: Vec<String> = if schema.is_empty() {
        s.db.search_path.clone()
    } else {
        vec![schema.to_owned()]
    };
    for schema in schemas {
        if let Some(names) = s.db.domains.remove(&(schema.clone(), name.to_owned())) {
            for constraint in names {
                s.db.namespace(&schema).remove_constraint(&constraint);
            }
            return;
        }
    }
}

fn drop_schema(s: &mut ReplaySession<'_>, name: &str) -> Result<(), String> {
    if !s.db.schemas.contains_key(name) {
        return Err(format!("schema \"{name}\" does not exist"));
    }
    let tables: Vec<_> =
        s.db.live()
            .filter(|&t| s.db.tables[t].schema == name)
            .collect();
    for table in tables {
        if !s.db.tables[table].dropped {
            s.db.drop_table(table, true);
        }
    }
    s.db.domains.retain(|(schema, _), _| schema != name);
    s.db.schemas.remove(name);
    Ok(())
}
