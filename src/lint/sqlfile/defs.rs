//! Constraint and index definitions read from the parse tree, before they are named.

use pg_query::NodeEnum;
use pg_query::protobuf::{ConstrType, Constraint, IndexElem, IndexStmt, Node, RangeVar};
use serde_json::{Value, json};

use super::expr::{column_refs, index_colname, plain_column, strings, tree};
use super::state::{Elem, Obj, SqlExpr, ident, index_elems};
use crate::lint::model::Location;
use crate::lint::naming::Kind;
use crate::lint::naming::postgres_names::index_column_names;

/// A constraint of a table definition or `ADD CONSTRAINT`.
#[derive(Debug, Clone)]
pub(crate) enum Def {
    Index(IndexDef),
    Check(CheckDef),
    Foreign(ForeignDef),
}

/// A primary key, unique or exclusion constraint, or a `CREATE INDEX`.
#[derive(Debug, Clone)]
pub(crate) struct IndexDef {
    pub(crate) kind: Kind,
    pub(crate) name: Option<String>,
    pub(crate) elems: Vec<Elem>,
    pub(crate) include: Vec<String>,
    /// Method, WHERE clause, exclusion operators, NULLS NOT DISTINCT.
    pub(crate) shape: Value,
    pub(crate) where_refs: Vec<String>,
    pub(crate) unique: bool,
    pub(crate) deferrable: (bool, bool),
    /// `ADD CONSTRAINT ... USING INDEX name`.
    pub(crate) using_index: Option<String>,
    pub(crate) offset: i32,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckDef {
    pub(crate) name: Option<String>,
    pub(crate) refs: Vec<String>,
    pub(crate) shape: Value,
    pub(crate) no_inherit: bool,
    pub(crate) offset: i32,
}

#[derive(Debug, Clone)]
pub(crate) struct ForeignDef {
    pub(crate) name: Option<String>,
    pub(crate) columns: Vec<String>,
    pub(crate) table: RangeVar,
    pub(crate) ref_columns: Vec<String>,
    pub(crate) shape: Value,
    pub(crate) offset: i32,
}

fn name_of(conname: &str) -> Option<String> {
    (!conname.is_empty()).then(|| ident(conname))
}

fn opt_tree(node: Option<&Node>) -> Value {
    node.map_or(Value::Null, tree)
}

fn method(access_method: &str) -> &str {
    if access_method.is_empty() {
        "btree"
    } else {
        access_method
    }
}

/// The definition of a constraint; `column` for a column constraint. `None` for what names
/// nothing (NOT NULL, DEFAULT, ...).
pub(crate) fn from_constraint(c: &Constraint, column: Option<&str>) -> Option<Def> {
    let contype = ConstrType::try_from(c.contype).ok()?;
    let own_columns = |list: &[Node]| match column {
        Some(col) if list.is_empty() => vec![ident(col)],
        _ => strings(list),
    };
    let index = |kind: Kind, elems: Vec<Elem>, ops: Value| IndexDef {
        kind,
        name: name_of(&c.conname),
        elems,
        include: strings(&c.including),
        shape: json!({
            "method": method(&c.access_method),
            "where": opt_tree(c.where_clause.as_deref()),
            "ops": ops,
            "nulls_not_distinct": c.nulls_not_distinct,
        }),
        where_refs: c
            .where_clause
            .as_deref()
            .map(column_refs)
            .unwrap_or_default(),
        unique: kind != Kind::Ex,
        deferrable: (c.deferrable, c.initdeferred),
        using_index: name_of(&c.indexname),
        offset: c.location,
    };
    Some(match contype {
        ConstrType::ConstrPrimary | ConstrType::ConstrUnique => {
            let kind = if contype == ConstrType::ConstrPrimary {
                Kind::Pk
            } else {
                Kind::Uq
            };
            let elems = own_columns(&c.keys).into_iter().map(Elem::Column).collect();
            Def::Index(index(kind, elems, Value::Null))
        }
        ConstrType::ConstrExclusion => {
            let (elems, ops): (Vec<Elem>, Vec<Value>) = c
                .exclusions
                .iter()
                .filter_map(|pair| match pair.node.as_ref()? {
                    NodeEnum::List(list) => {
                        let elem = match list.items.first()?.node.as_ref()? {
                            NodeEnum::IndexElem(e) => elem(e),
                            _ => return None,
                        };
                        let ops = list.items.get(1).map_or(Value::Null, tree);
                        Some((elem, ops))
                    }
                    _ => None,
                })
                .unzip();
            Def::Index(index(Kind::Ex, elems, Value::Array(ops)))
        }
        ConstrType::ConstrCheck => Def::Check(CheckDef {
            name: name_of(&c.conname),
            refs: c.raw_expr.as_deref().map(column_refs).unwrap_or_default(),
            shape: opt_tree(c.raw_expr.as_deref()),
            no_inherit: c.is_no_inherit,
            offset: c.location,
        }),
        ConstrType::ConstrForeign => Def::Foreign(ForeignDef {
            name: name_of(&c.conname),
            columns: own_columns(&c.fk_attrs),
            table: c.pktable.clone().unwrap_or_default(),
            ref_columns: strings(&c.pk_attrs),
            shape: json!({
                "match": c.fk_matchtype,
                "update": c.fk_upd_action,
                "delete": c.fk_del_action,
            }),
            offset: c.location,
        }),
        _ => return None,
    })
}

/// An index element: a column, or an expression with its name and columns.
pub(crate) fn elem(e: &IndexElem) -> Elem {
    if !e.name.is_empty() {
        return Elem::Column(ident(&e.name));
    }
    let Some(expr) = e.expr.as_deref() else {
        return Elem::Column(String::new());
    };
    match plain_column(expr) {
        Some(column) => Elem::Column(column),
        None => Elem::Expr(SqlExpr {
            name: index_colname(expr),
            columns: column_refs(expr),
            tree: tree(expr),
        }),
    }
}

fn elems_of(nodes: &[Node]) -> Vec<Elem> {
    nodes
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::IndexElem(e) => Some(elem(e)),
            _ => None,
        })
        .collect()
}

/// The definition of `CREATE [UNIQUE] INDEX`.
pub(crate) fn from_index_stmt(stmt: &IndexStmt) -> IndexDef {
    let include = elems_of(&stmt.index_including_params)
        .into_iter()
        .filter_map(|e| match e {
            Elem::Column(c) => Some(c),
            Elem::Expr(_) => None,
        })
        .collect();
    IndexDef {
        kind: Kind::Ix,
        name: name_of(&stmt.idxname),
        elems: elems_of(&stmt.index_params),
        include,
        shape: json!({
            "method": method(&stmt.access_method),
            "where": opt_tree(stmt.where_clause.as_deref()),
            "ops": Value::Null,
            "nulls_not_distinct": stmt.nulls_not_distinct,
        }),
        where_refs: stmt
            .where_clause
            .as_deref()
            .map(column_refs)
            .unwrap_or_default(),
        unique: stmt.unique,
        deferrable: (false, false),
        using_index: None,
        offset: -1,
    }
}

impl IndexDef {
    /// The elements PostgreSQL names the index from: keys, then INCLUDE columns.
    pub(crate) fn colnames(&self) -> Vec<String> {
        let mut all = index_elems(&self.elems);
        all.extend(
            self.include
                .iter()
                .map(|c| crate::lint::naming::IndexElem::Column(c)),
        );
        index_column_names(&all)
    }

    /// Same index for `transformIndexConstraints`' de-duplication.
    pub(crate) fn same_as(&self, other: &IndexDef) -> bool {
        self.elems == other.elems
            && self.include == other.include
            && self.shape == other.shape
            && self.deferrable == other.deferrable
    }

    pub(crate) fn into_obj(self, name: String, unnamed: bool, location: Location) -> Obj {
        let mut obj = Obj::new(self.kind, name);
        obj.colnames = self.colnames();
        obj.unnamed = unnamed;
        obj.elems = self.elems;
        obj.include = self.include;
        obj.refs = self.where_refs;
        obj.shape = self.shape;
        obj.unique = self.unique;
        obj.location = Some(location);
        obj
    }
}
