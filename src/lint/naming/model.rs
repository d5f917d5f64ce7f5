//! The database-free description of one named object.
//!
//! An [`ObjectRef`] carries exactly what SQLAlchemy's `ConventionDict`
//! (`sqlalchemy/sql/naming.py`) reads from a constraint or index: its table,
//! its columns (with their names and keys), and for a foreign key the referred
//! table and columns.

use crate::lint::naming::Kind;

/// The table an object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRef<'a> {
    /// The table name (`TableRef.name`).
    pub name: &'a str,
    /// The schema the SQLAlchemy `TableRef` is declared with (`schema=`, or the
    /// `MetaData(schema=...)` default), or `None` when it relies on the
    /// search path. Only `%(column_N_label)s` uses it: the label is
    /// `<schema>_<table>_<column>`, with `.` in the schema replaced by `_`
    /// (`ColumnClause._gen_tq_label`).
    pub schema: Option<&'a str>,
}

impl<'a> TableRef<'a> {
    /// A table without a declared schema.
    pub fn new(name: &'a str) -> Self {
        TableRef { name, schema: None }
    }

    /// A table declared with `schema=`.
    pub fn in_schema(schema: &'a str, name: &'a str) -> Self {
        TableRef {
            name,
            schema: Some(schema),
        }
    }
}

/// A column as SQLAlchemy sees it: its name and its Python-side key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    /// `Column.name`, the database name.
    pub(crate) name: &'a str,
    /// `Column.key`; `None` means "same as the name", which is always the
    /// case for reflected columns.
    pub(crate) key: Option<&'a str>,
}

impl<'a> Column<'a> {
    /// A column whose key is its name.
    pub fn new(name: &'a str) -> Self {
        Column { name, key: None }
    }

    /// A column declared with `key=`.
    pub fn with_key(name: &'a str, key: &'a str) -> Self {
        Column {
            name,
            key: Some(key),
        }
    }

    /// The effective key.
    pub(crate) fn key(&self) -> &'a str {
        self.key.unwrap_or(self.name)
    }
}

/// One constraint or index, without its name.
///
/// `columns` must be in SQLAlchemy's order, which is what the database
/// reports for pk, fk, uq and plain-column indexes (`conkey`/`indkey`
/// order). For the other cases SQLAlchemy derives the list itself:
///
/// * an index or exclusion element that is an expression contributes the
///   first column it references, and repeated columns are dropped
///   (`coercions.expect_col_expression_collection`, then the constraint's
///   column collection); see [`ObjectRef::index_columns`];
/// * a check constraint's columns are every column its expression
///   references, in traversal order, without repeats (`CheckConstraint`
///   built from a SQL expression; a textual one has no columns).
///
/// For a foreign key, `columns` are the local (referencing) columns and
/// `referred_columns` the referred ones, pairwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// What kind of object.
    pub kind: Kind,
    /// Its table.
    pub table: TableRef<'a>,
    /// Its columns, as described above.
    pub columns: &'a [Column<'a>],
    /// For a foreign key: the referred table's name, never its schema.
    pub referred_table: Option<&'a str>,
    /// For a foreign key: the referred columns' names.
    pub referred_columns: &'a [&'a str],
    /// For an index: whether it is UNIQUE.
    pub unique: bool,
}

impl<'a> ObjectRef<'a> {
    /// An object with no columns; add them with [`ObjectRef::with_columns`].
    pub fn new(kind: Kind, table: TableRef<'a>) -> Self {
        ObjectRef {
            kind,
            table,
            columns: &[],
            referred_table: None,
            referred_columns: &[],
            unique: false,
        }
    }

    /// Sets the columns.
    pub fn with_columns(mut self, columns: &'a [Column<'a>]) -> Self {
        self.columns = columns;
        self
    }

    /// Sets the referred table and columns of a foreign key.
    pub fn referring_to(mut self, table: &'a str, columns: &'a [&'a str]) -> Self {
        self.referred_table = Some(table);
        self.referred_columns = columns;
        self
    }

    /// Marks an index as UNIQUE.
    pub fn unique(mut self, unique: bool) -> Self {
        self.unique = unique;
        self
    }

    /// SQLAlchemy's column list for index (or exclusion) elements: a plain
    /// column is itself, an expression is the first column it references
    /// (`None` when it references none), and repeats are dropped.
    #[cfg(test)]
    fn index_columns(elements: &[Option<Column<'a>>]) -> Vec<Column<'a>> {
        let mut out: Vec<Column<'a>> = Vec::new();
        for column in elements.iter().flatten() {
            if !out.iter().any(|c| c.name == column.name) {
                out.push(*column);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_defaults_to_name() {
        assert_eq!(Column::new("email").key(), "email");
        assert_eq!(Column::with_key("user_name", "username").key(), "username");
    }

    #[test]
    fn index_columns_follow_sqlalchemy() {
        // Index(None, func.concat(t.c.b, t.c.a), t.c.c, t.c.b, text("1"))
        let cols = ObjectRef::index_columns(&[
            Some(Column::new("b")),
            Some(Column::new("c")),
            Some(Column::new("b")),
            None,
        ]);
        let names: Vec<_> = cols.iter().map(|c| c.name).collect();
        assert_eq!(names, ["b", "c"]);
    }

    #[test]
    fn builder() {
        let cols = [Column::new("org_id")];
        let fk = ObjectRef::new(Kind::Fk, TableRef::in_schema("app", "users"))
            .with_columns(&cols)
            .referring_to("orgs", &["id"]);
        assert_eq!(fk.referred_table, Some("orgs"));
        assert_eq!(fk.table.schema, Some("app"));
        assert!(!fk.unique);
    }
}
