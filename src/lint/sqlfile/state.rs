//! The replayed database: tables with their constraints and indexes, and, per schema, the
//! relation and constraint names that PostgreSQL looks at when it chooses a name.
//!
//! Objects keep what the model does not need but replaying does: the index column names
//! PostgreSQL stored (a clone of the index is named from them), the expressions (to match an
//! index or constraint when a partition is attached), the parent object of an inherited one
//! (drops and renames cascade), and the hidden foreign keys PostgreSQL adds for every partition
//! of a referenced partitioned table (they take names too, but the catalog reader skips them).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::lint::model::Location;
use crate::lint::naming::truncate::clip_bytes;
use crate::lint::naming::{
    IndexElem, Kind, PgNamespace, Unnamed, choose_postgres_name, make_object_name,
};

pub(crate) type TableId = usize;
pub(crate) type ObjId = u64;

/// The longest name PostgreSQL keeps, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 63;

/// A name as PostgreSQL stores it: cut to 63 bytes on a character boundary.
pub(crate) fn ident(name: &str) -> String {
    clip_bytes(name, MAX_NAME_BYTES).to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableKind {
    Table,
    Matview,
    Foreign,
}

/// An element of an index or index-backed constraint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Elem {
    Column(String),
    Expr(SqlExpr),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SqlExpr {
    /// `FigureIndexColname`: the function name for `lower(email)`, `None` for `a + b`.
    pub(crate) name: Option<String>,
    /// The columns it references, in source order.
    pub(crate) columns: Vec<String>,
    /// The parse tree without locations, for comparisons.
    pub(crate) tree: Value,
}

/// The referenced side of a foreign key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ref {
    pub(crate) target: Target,
    pub(crate) columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Table(TableId),
    /// A table the replay does not know.
    Named {
        schema: String,
        table: String,
    },
}

/// A constraint or index.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub(crate) id: ObjId,
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) unnamed: bool,
    /// pk/uq/ix/ex: the key elements; fk: the local columns.
    pub(crate) elems: Vec<Elem>,
    pub(crate) include: Vec<String>,
    /// pk/uq/ix/ex: the index column names PostgreSQL stored (keys and INCLUDE).
    pub(crate) colnames: Vec<String>,
    /// ck: the columns the expression references; indexes: the WHERE clause's.
    pub(crate) refs: Vec<String>,
    /// What else makes two definitions the same (expression, method, operators, actions).
    pub(crate) shape: Value,
    pub(crate) referred: Option<Ref>,
    pub(crate) unique: bool,
    pub(crate) no_inherit: bool,
    pub(crate) inherited: bool,
    pub(crate) parent: Option<ObjId>,
    pub(crate) hidden: bool,
    pub(crate) location: Option<Location>,
}

impl Obj {
    pub(crate) fn new(kind: Kind, name: String) -> Self {
        Obj {
            id: 0,
            kind,
            name,
            unnamed: false,
            elems: Vec::new(),
            include: Vec::new(),
            colnames: Vec::new(),
            refs: Vec::new(),
            shape: Value::Null,
            referred: None,
            unique: matches!(kind, Kind::Pk | Kind::Uq),
            no_inherit: false,
            inherited: false,
            parent: None,
            hidden: false,
            location: None,
        }
    }

    /// Every column the object depends on.
    pub(crate) fn uses_column(&self, column: &str) -> bool {
        self.elems.iter().any(|e| match e {
            Elem::Column(c) => c == column,
            Elem::Expr(x) => x.columns.iter().any(|c| c == column),
        }) || self.include.iter().any(|c| c == column)
            || self.refs.iter().any(|c| c == column)
    }

    /// Whether `other` defines the same index (PostgreSQL's `CompareIndexInfo`), names aside.
    pub(crate) fn same_index(&self, other: &Obj) -> bool {
        self.kind.is_relation()
            && other.kind.is_relation()
            && self.unique == other.unique
            && self.elems == other.elems
            && self.include == other.include
            && self.shape == other.shape
    }

    /// The copy PostgreSQL makes of this object for another table (clone, LIKE).
    pub(crate) fn copy(&self) -> Obj {
        let mut copy = self.clone();
        copy.id = 0;
        copy.parent = None;
        copy.inherited = false;
        copy.hidden = false;
        copy
    }
}

/// Element names as PostgreSQL passes them to `ChooseIndexColumnNames`.
pub(crate) fn index_elems(elems: &[Elem]) -> Vec<IndexElem<'_>> {
    elems
        .iter()
        .map(|e| match e {
            Elem::Column(c) => IndexElem::Column(c),
            Elem::Expr(x) => IndexElem::Expression(x.name.as_deref()),
        })
        .collect()
}

/// A table, partitioned table, materialized view or foreign table.
#[derive(Debug, Clone)]
pub(crate) struct TableState {
    pub(crate) schema: String,
    pub(crate) name: String,
    pub(crate) kind: TableKind,
    pub(crate) columns: Vec<String>,
    pub(crate) partitioned: bool,
    pub(crate) partition_of: Option<TableId>,
    pub(crate) parents: Vec<TableId>,
    /// From the base schema: a child whose parent is unknown.
    pub(crate) base_child: bool,
    pub(crate) objects: Vec<Obj>,
    pub(crate) dropped: bool,
}

impl TableState {
    pub(crate) fn new(schema: String, name: String, kind: TableKind) -> Self {
        TableState {
            schema,
            name,
            kind,
            columns: Vec::new(),
            partitioned: false,
            partition_of: None,
            parents: Vec::new(),
            base_child: false,
            objects: Vec::new(),
            dropped: false,
        }
    }

    /// In a complete replay, the first of `columns` the table does not have.
    pub(crate) fn missing_column<'c>(
        &self,
        complete: bool,
        columns: impl IntoIterator<Item = &'c String>,
    ) -> Option<&'c String> {
        if !complete {
            return None;
        }
        columns
            .into_iter()
            .find(|c| !self.columns.iter().any(|have| have == *c))
    }

    pub(crate) fn has_constraint(&self, name: &str) -> bool {
        self.objects
            .iter()
            .any(|o| o.name == name && o.kind.is_constraint())
    }
}

/// What a relation name in a schema belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rel {
    Table(TableId),
    Index(TableId),
    /// A sequence, view, composite type, ...
    Other,
}

/// The names taken in one schema.
#[derive(Debug, Clone, Default)]
pub(crate) struct Namespace {
    pub(crate) relations: HashMap<String, Rel>,
    constraints: HashMap<String, usize>,
    cache: Option<PgNamespace>,
}

impl Namespace {
    fn pg(&mut self) -> &PgNamespace {
        let (relations, constraints) = (&self.relations, &self.constraints);
        self.cache.get_or_insert_with(|| {
            let mut ns = PgNamespace::new();
            relations.keys().for_each(|r| ns.add_relation(r));
            constraints.keys().for_each(|c| ns.add_constraint(c));
            ns
        })
    }

    pub(crate) fn add_relation(&mut self, name: &str, rel: Rel) {
        self.relations.insert(name.to_owned(), rel);
        if let Some(cache) = &mut self.cache {
            cache.add_relation(name);
        }
    }

    pub(crate) fn remove_relation(&mut self, name: &str) -> Option<Rel> {
        self.cache = None;
        self.relations.remove(name)
    }

    pub(crate) fn add_constraint(&mut self, name: &str) {
        *self.constraints.entry(name.to_owned()).or_default() += 1;
        if let Some(cache) = &mut self.cache {
            cache.add_constraint(name);
        }
    }

    pub(crate) fn remove_constraint(&mut self, name: &str) {
        if let Some(count) = self.constraints.get_mut(name) {
            *count -= 1;
            if *count == 0 {
                self.constraints.remove(name);
            }
        }
        self.cache = None;
    }
}

/// The database being replayed.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub(crate) tables: Vec<TableState>,
    pub(crate) schemas: BTreeMap<String, Namespace>,
    pub(crate) search_path: Vec<String>,
    /// Domain constraint names, per (schema, domain).
    pub(crate) domains: HashMap<(String, String), Vec<String>>,
    pub(crate) default_schema: String,
    /// Every relation and column is known (a replay over a live database): a reference to one
    /// that is not there fails, as in PostgreSQL, instead of pointing at something elsewhere.
    pub(crate) complete: bool,
    next_id: ObjId,
}

/// PostgreSQL's default `search_path`.
pub(crate) fn default_search_path() -> Vec<String> {
    vec!["$user".to_owned(), "public".to_owned()]
}

impl Db {
    pub(crate) fn new() -> Self {
        let mut schemas = BTreeMap::new();
        schemas.insert("public".to_owned(), Namespace::default());
        Db {
            tables: Vec::new(),
            schemas,
            search_path: default_search_path(),
            domains: HashMap::new(),
            default_schema: "public".to_owned(),
            complete: false,
            next_id: 1,
        }
    }

    pub(crate) fn namespace(&mut self, schema: &str) -> &mut Namespace {
        self.schemas.entry(schema.to_owned()).or_default()
    }

    /// The schema an unqualified new object goes to: the first schema of the search path that
    /// exists (or, if none is known, the first one named).
    pub(crate) fn creation_schema(&self, explicit: &str) -> Result<String, String> {
        if !explicit.is_empty() {
            return Ok(ident(explicit));
        }
        let candidates: Vec<&String> = self
            .search_path
            .iter()
            .filter(|s| *s != "$user" && *s != "pg_catalog" && !s.starts_with("pg_temp"))
            .collect();
        candidates
            .iter()
            .find(|s| self.schemas.contains_key(s.as_str()))
            .or_else(|| candidates.first())
            .map(|s| (*s).clone())
            .ok_or_else(|| "no schema has been selected to create in".to_owned())
    }

    /// The schemas searched for an unqualified name, in order.
    fn lookup_schemas(&self) -> Vec<&str> {
        std::iter::once("pg_temp")
            .chain(
                self.search_path
                    .iter()
                    .map(String::as_str)
                    .filter(|s| *s != "$user"),
            )
            .collect()
    }

    /// Finds a relation: in `schema`, or along the search path.
    pub(crate) fn lookup(&self, schema: &str, name: &str) -> Option<(String, Rel)> {
        let name = ident(name);
        if !schema.is_empty() {
            let schema = ident(schema);
            let rel = *self.schemas.get(&schema)?.relations.get(&name)?;
            return Some((schema, rel));
        }
        self.lookup_schemas().into_iter().find_map(|s| {
            let rel = *self.schemas.get(s)?.relations.get(&name)?;
            Some((s.to_owned(), rel))
        })
    }

    pub(crate) fn lookup_table(&self, schema: &str, name: &str) -> Option<TableId> {
        match self.lookup(schema, name) {
            Some((_, Rel::Table(id))) => Some(id),
            _ => None,
        }
    }

    /// The table and position of the index (or index-backed constraint) `name`.
    pub(crate) fn lookup_index(&self, schema: &str, name: &str) -> Option<(TableId, usize)> {
        let (_, Rel::Index(table)) = self.lookup(schema, name)? else {
            return None;
        };
        let name = ident(name);
        let position = self.tables[table]
            .objects
            .iter()
            .position(|o| o.kind.is_relation() && o.name == name)?;
        Some((table, position))
    }

    /// What holds the relation name `name` in `schema`, in words: "table orders",
    /// "unique constraint orders_email_key on orders (email)", "a sequence, view or type".
    pub(crate) fn describe_relation(&self, schema: &str, name: &str) -> Option<String> {
        let (schema, rel) = self.lookup(schema, name)?;
        Some(match rel {
            Rel::Table(table) => format!("table {schema}.{}", self.tables[table].name),
            Rel::Index(table) => {
                let name = ident(name);
                match self.tables[table]
                    .objects
                    .iter()
                    .find(|o| o.kind.is_relation() && o.name == name)
                {
                    Some(obj) => describe_object(&self.tables[table], obj),
                    None => format!("an index on {schema}.{}", self.tables[table].name),
                }
            }
            Rel::Other => format!("a sequence, view or other relation in schema {schema}"),
        })
    }

    /// The name PostgreSQL gives `unnamed` in `schema` now.
    pub(crate) fn choose(&mut self, schema: &str, unnamed: &Unnamed<'_>) -> String {
        choose_postgres_name(self.namespace(schema).pg(), unnamed)
    }

    /// `ChooseRelationName` for other relations (sequences: label `seq`).
    pub(crate) fn choose_relation_name(
        &mut self,
        schema: &str,
        name1: &str,
        name2: Option<&str>,
        label: &str,
    ) -> String {
        let ns = self.namespace(schema);
        let mut pass = 0u64;
        let mut candidate = make_object_name(name1, name2, Some(label));
        while ns.relations.contains_key(&candidate) {
            pass += 1;
            candidate = make_object_name(name1, name2, Some(&format!("{label}{pass}")));
        }
        candidate
    }

    pub(crate) fn add_table(&mut self, table: TableState) -> TableId {
        let id = self.tables.len();
        let (schema, name) = (table.schema.clone(), table.name.clone());
        self.tables.push(table);
        self.namespace(&schema).add_relation(&name, Rel::Table(id));
        id
    }

    /// Adds an object to a table, taking its names in the schema.
    pub(crate) fn add_object(&mut self, table: TableId, mut obj: Obj) -> ObjId {
        obj.id = self.next_id;
        self.next_id += 1;
        let schema = self.tables[table].schema.clone();
        let ns = self.namespace(&schema);
        if obj.kind.is_relation() {
            ns.add_relation(&obj.name, Rel::Index(table));
        }
        if obj.kind.is_constraint() {
            ns.add_constraint(&obj.name);
        }
        let id = obj.id;
        self.tables[table].objects.push(obj);
        id
    }

    /// The object `id` of `table`.
    pub(crate) fn object(&self, table: TableId, id: ObjId) -> Option<&Obj> {
        self.tables[table].objects.iter().find(|o| o.id == id)
    }

    /// Removes objects and, recursively, everything inherited from them.
    pub(crate) fn remove_objects(&mut self, ids: &[ObjId]) {
        let mut doomed: HashSet<ObjId> = ids.iter().copied().collect();
        loop {
            let more: Vec<ObjId> = self
                .tables
                .iter()
                .flat_map(|t| &t.objects)
                .filter(|o| {
                    o.parent.is_some_and(|p| doomed.contains(&p)) && !doomed.contains(&o.id)
                })
                .map(|o| o.id)
                .collect();
            if more.is_empty() {
                break;
            }
            doomed.extend(more);
        }
        for table in 0..self.tables.len() {
            let (keep, gone): (Vec<Obj>, Vec<Obj>) =
                std::mem::take(&mut self.tables[table].objects)
                    .into_iter()
                    .partition(|o| !doomed.contains(&o.id));
            self.tables[table].objects = keep;
            let schema = self.tables[table].schema.clone();
            for obj in gone {
                self.unregister(&schema, &obj);
            }
        }
    }

    fn unregister(&mut self, schema: &str, obj: &Obj) {
        let ns = self.namespace(schema);
        if obj.kind.is_relation() {
            ns.remove_relation(&obj.name);
        }
        if obj.kind.is_constraint() {
            ns.remove_constraint(&obj.name);
        }
    }

    /// Renames an object (an index-backed constraint renames its index, and back).
    pub(crate) fn rename_object(&mut self, table: TableId, position: usize, new_name: &str) {
        let schema = self.tables[table].schema.clone();
        let obj = self.tables[table].objects[position].clone();
        self.unregister(&schema, &obj);
        let ns = self.namespace(&schema);
        if obj.kind.is_relation() {
            ns.add_relation(new_name, Rel::Index(table));
        }
        if obj.kind.is_constraint() {
            ns.add_constraint(new_name);
        }
        let obj = &mut self.tables[table].objects[position];
        obj.name = new_name.to_owned();
        obj.unnamed = false;
    }

    /// Live partitions and inheritance children, in creation order.
    pub(crate) fn children(&self, table: TableId) -> Vec<TableId> {
        self.live()
            .filter(|&id| {
                let t = &self.tables[id];
                t.partition_of == Some(table) || t.parents.contains(&table)
            })
            .collect()
    }

    /// Whether `table` is `ancestor` or inherits from it, directly or not.
    pub(crate) fn descends_from(&self, table: TableId, ancestor: TableId) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![table];
        while let Some(t) = stack.pop() {
            if t == ancestor {
                return true;
            }
            if seen.insert(t) {
                stack.extend(self.tables[t].partition_of);
                stack.extend(self.tables[t].parents.iter().copied());
            }
        }
        false
    }

    pub(crate) fn partitions(&self, table: TableId) -> Vec<TableId> {
        self.live()
            .filter(|&id| self.tables[id].partition_of == Some(table))
            .collect()
    }

    pub(crate) fn live(&self) -> impl Iterator<Item = TableId> + '_ {
        (0..self.tables.len()).filter(|&id| !self.tables[id].dropped)
    }

    /// Drops a table, its partitions (and, with `cascade`, its inheritance children) and the
    /// foreign keys that point at it.
    pub(crate) fn drop_table(&mut self, table: TableId, cascade: bool) {
        for child in self.children(table) {
            if cascade || self.tables[child].partition_of == Some(table) {
                self.drop_table(child, cascade);
            } else {
                self.tables[child].parents.retain(|&p| p != table);
            }
        }
        let own: Vec<ObjId> = self.tables[table].objects.iter().map(|o| o.id).collect();
        let referring: Vec<ObjId> = self
            .tables
            .iter()
            .flat_map(|t| &t.objects)
            .filter(|o| {
                o.referred
                    .as_ref()
                    .is_some_and(|r| r.target == Target::Table(table))
            })
            .map(|o| o.id)
            .collect();
        self.remove_objects(&[own, referring].concat());
        let (schema, name) = (
            self.tables[table].schema.clone(),
            self.tables[table].name.clone(),
        );
        self.namespace(&schema).remove_relation(&name);
        self.tables[table].dropped = true;
    }
}

/// An object in words: "foreign key fk_a_b_users on a (b) referencing users (id)".
pub(crate) fn describe_object(table: &TableState, obj: &Obj) -> String {
    let kind = match obj.kind {
        Kind::Pk => "primary key",
        Kind::Uq => "unique constraint",
        Kind::Fk => "foreign key",
        Kind::Ck => "check constraint",
        Kind::Ix if obj.unique => "unique index",
        Kind::Ix => "index",
        _ => "exclusion constraint",
    };
    let columns: Vec<&str> = obj
        .elems
        .iter()
        .map(|e| match e {
            Elem::Column(c) => c.as_str(),
            Elem::Expr(_) => "(expression)",
        })
        .chain(if obj.kind == Kind::Ck {
            obj.refs.iter().map(String::as_str).collect::<Vec<_>>()
        } else {
            Vec::new()
        })
        .collect();
    let mut text = format!(
        "{kind} {} on {}.{} ({})",
        obj.name,
        table.schema,
        table.name,
        columns.join(", ")
    );
    if let Some(referred) = &obj.referred {
        let target = match &referred.target {
            Target::Named { schema, table } => format!("{schema}.{table}"),
            Target::Table(_) => "a table".to_owned(),
        };
        text.push_str(&format!(
            " referencing {target} ({})",
            referred.columns.join(", ")
        ));
    }
    text
}
