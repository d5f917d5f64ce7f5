//! Between the replay state and the model: loading a live schema to replay on top of, and
//! the schema the replay leaves behind, in the catalog reader's terms (constraint columns as
//! `conkey` lists them, expression columns for indexes, hidden objects left out).

use std::collections::HashMap;

use serde_json::Value;

use super::state::{
    Db, Elem, Obj, Ref, SqlExpr, TableId, TableKind, TableState, Target, index_elems,
};
use crate::lint::model::{Object, Referred, Schema, Table};
use crate::lint::naming::Kind;
use crate::lint::naming::postgres_names::index_column_names;

impl Db {
    /// Loads a live schema to replay on top of.
    pub(crate) fn load(&mut self, base: Schema) {
        self.default_schema = base.default_schema.clone();
        let mut ids = HashMap::new();
        for table in &base.tables {
            let mut state =
                TableState::new(table.schema.clone(), table.name.clone(), TableKind::Table);
            state.columns = table.columns.clone();
            state.base_child = table.is_child;
            let id = self.add_table(state);
            ids.insert((table.schema.clone(), table.name.clone()), id);
        }
        for table in base.tables {
            let id = ids[&(table.schema.clone(), table.name.clone())];
            for object in table.objects {
                let obj = from_model(object, &ids);
                self.add_object(id, obj);
            }
        }
    }

    /// The model: tables only (no materialized views, foreign or temporary tables), sorted by
    /// schema and name; objects in the order they were defined, hidden ones left out.
    pub(crate) fn to_schema(&self) -> Schema {
        let mut tables: Vec<Table> = self
            .live()
            .map(|id| &self.tables[id])
            .filter(|t| t.kind == TableKind::Table && t.schema != "pg_temp")
            .map(|t| Table {
                schema: t.schema.clone(),
                name: t.name.clone(),
                columns: t.columns.clone(),
                is_child: t.partition_of.is_some() || !t.parents.is_empty() || t.base_child,
                objects: t
                    .objects
                    .iter()
                    .filter(|o| !o.hidden)
                    .map(|o| self.to_model(t, o))
                    .collect(),
            })
            .collect();
        tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        Schema {
            tables,
            default_schema: self.default_schema.clone(),
        }
    }

    fn to_model(&self, table: &TableState, obj: &Obj) -> Object {
        let (columns, expression_columns) = match obj.kind {
            Kind::Ix => obj
                .elems
                .iter()
                .map(|e| match e {
                    Elem::Column(c) => (Some(c.clone()), None),
                    Elem::Expr(x) => (None, x.columns.first().cloned()),
                })
                .unzip(),
            Kind::Ck => {
                // conkey: the columns referenced (a whole-row reference is none), in column order
                let mut refs: Vec<&String> = obj
                    .refs
                    .iter()
                    .filter(|c| table.columns.is_empty() || table.columns.contains(c))
                    .collect();
                refs.sort_by_key(|c| table.columns.iter().position(|t| t == *c));
                (
                    refs.into_iter().map(|c| Some(c.clone())).collect(),
                    Vec::new(),
                )
            }
            _ => (
                obj.elems
                    .iter()
                    .filter_map(|e| match e {
                        Elem::Column(c) => Some(Some(c.clone())),
                        Elem::Expr(_) => None,
                    })
                    .collect(),
                Vec::new(),
            ),
        };
        let referred = obj.referred.as_ref().map(|r| {
            Box::new(match &r.target {
                Target::Table(id) => Referred {
                    schema: self.tables[*id].schema.clone(),
                    table: self.tables[*id].name.clone(),
                    columns: r.columns.clone(),
                },
                Target::Named { schema, table } => Referred {
                    schema: schema.clone(),
                    table: table.clone(),
                    columns: r.columns.clone(),
                },
            })
        });
        Object {
            kind: obj.kind,
            name: obj.name.clone(),
            columns,
            expression_columns,
            referred,
            unique: obj.unique,
            inherited: obj.inherited,
            location: obj.location.clone().map(Box::new),
            unnamed: obj.unnamed,
        }
    }
}

fn from_model(object: Object, ids: &HashMap<(String, String), TableId>) -> Obj {
    let mut obj = Obj::new(object.kind, object.name);
    obj.unique = object.unique;
    obj.inherited = object.inherited;
    obj.location = object.location.map(|l| *l);
    obj.unnamed = object.unnamed;
    if object.kind == Kind::Ck {
        obj.refs = object.columns.into_iter().flatten().collect();
    } else {
        obj.elems = object
            .columns
            .into_iter()
            .enumerate()
            .map(|(i, c)| match c {
                Some(c) => Elem::Column(c),
                None => Elem::Expr(SqlExpr {
                    name: None,
                    columns: object
                        .expression_columns
                        .get(i)
                        .cloned()
                        .flatten()
                        .into_iter()
                        .collect(),
                    tree: Value::Null,
                }),
            })
            .collect();
    }
    if object.kind.is_relation() {
        obj.colnames = index_column_names(&index_elems(&obj.elems));
    }
    obj.referred = object.referred.map(|r| *r).map(|r| Ref {
        target: ids.get(&(r.schema.clone(), r.table.clone())).map_or(
            Target::Named {
                schema: r.schema,
                table: r.table,
            },
            |&id| Target::Table(id),
        ),
        columns: r.columns,
    });
    obj
}
