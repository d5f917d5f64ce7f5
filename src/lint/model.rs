//! The schema model the checks run on. `catalog` fills it from a live database, the replay of
//! `sqlfile` from SQL files and Alembic migrations (over a live schema with `--url`).

use crate::lint::naming::Kind;

/// Where an object was defined, for file-based input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Written as an Alembic operation (`op.create_table`, `op.create_index`, ...), where a
    /// name is given as `name=op.f("...")`; `false` for SQL, `op.execute`'s included.
    pub alembic_operation: bool,
}

/// A named constraint or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: Kind,
    pub name: String,
    /// Key columns in order; `None` for an expression element.
    pub columns: Vec<Option<String>>,
    /// For an expression element, the first column it references (SQLAlchemy's rule).
    pub expression_columns: Vec<Option<String>>,
    /// For a foreign key: the referred schema, table and columns (boxed: most objects have none,
    /// and a large schema has tens of thousands of objects).
    pub referred: Option<Box<Referred>>,
    /// For an index: UNIQUE.
    pub unique: bool,
    /// Created by PostgreSQL for a partition or child table from its parent's definition.
    pub inherited: bool,
    pub location: Option<Box<Location>>,
    /// Defined without a name, so the name is the one PostgreSQL chose (or, for a copy such as
    /// an inherited CHECK, the unnamed original's). Always `false` for catalog input, where it
    /// cannot be known.
    pub unnamed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referred {
    pub schema: String,
    pub table: String,
    pub columns: Vec<String>,
}

/// A table with its constraints and indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub columns: Vec<String>,
    /// A partition or inheritance child.
    pub is_child: bool,
    pub objects: Vec<Object>,
}

/// Every table of the schemas read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: Vec<Table>,
    /// The first schema of the search path: tables there are declared without `schema=`.
    pub default_schema: String,
}

impl Object {
    /// The columns SQLAlchemy sees: a plain column is itself, an expression the first column it
    /// references, repeats dropped.
    pub fn sqlalchemy_columns(&self) -> Vec<&str> {
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
