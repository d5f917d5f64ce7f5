//! The schema model the checks run on. `catalog` fills it from a live database, the replay of
//! `sqlfile` from SQL files and Alembic migrations (over a live schema with `--url`).

use crate::lint::naming::Kind;

/// Where an object was defined, for file-based input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    /// Written as an Alembic operation (`op.create_table`, `op.create_index`, ...), where a
    /// name is given as `name=op.f("...")`; `false` for SQL, `op.execute`'s included.
    pub(crate) alembic_operation: bool,
}

/// A named constraint or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    /// Key columns in order; `None` for an expression element.
    pub(crate) columns: Vec<Option<String>>,
    /// For an expression element, the first column it references (SQLAlchemy's rule).
    pub(crate) expression_columns: Vec<Option<String>>,
    /// For a foreign key: the referred schema, table and columns (boxed: most objects have none,
    /// and a large schema has tens of thousands of objects).
    pub(crate) referred: Option<Box<Referred>>,
    /// For an index: UNIQUE.
    pub(crate) unique: bool,
    /// Created by PostgreSQL for a partition or child table from its parent's definition.
    pub(crate) inherited: bool,
    pub(crate) location: Option<Box<Location>>,
    /// Defined without a name, so the name is the one PostgreSQL chose (or, for a copy such as
    /// an inherited CHECK, the unnamed original's). Always `false` for catalog input, where it
    /// cannot be known.
    pub(crate) unnamed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Referred {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) columns: Vec<String>,
}

/// A table with its constraints and indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub schema: String,
    pub name: String,
    pub(crate) columns: Vec<String>,
    /// A partition or inheritance child.
    pub(crate) is_child: bool,
    pub(crate) objects: Vec<Object>,
}

/// Every table of the schemas read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub(crate) tables: Vec<Table>,
    /// The first schema of the search path: tables there are declared without `schema=`.
    pub(crate) default_schema: String,
}

impl Object {
    /// The columns SQLAlchemy sees: a plain column is itself, an expression the first column it
    /// references, repeats dropped.
    pub(crate) fn sqlalchemy_columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::with_capacity(self.columns.len());
        for (i, column) in self.columns.iter().enumerate() {
            let column = column
                .as_deref()
                .or_else(|| self.expression_columns.get(i).and_then(|c| c.as_deref()));
            if let Some(column) = column
                && !out.contains(&column)
            {
                out.push(column);
            }
        }
        out
    }
}
