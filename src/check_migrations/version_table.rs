//! The version table as Alembic finds and reads it: `alembic_version` on the search path, or in
//! the schema `version_table_schema` names, read in a READ ONLY transaction.
//!
//! Alembic (1.20, `MigrationContext._has_version_table`) asks SQLAlchemy's PostgreSQL dialect
//! `has_table(name, schema)`: with no schema, a table-like relation (table, partitioned table,
//! view, materialized view, foreign table) of that name visible on the search path outside
//! `pg_catalog`; with a schema, one in that schema. No such table means nothing is applied; its
//! rows are the current heads.

use std::fmt;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::progress::Progress;

/// `--version-table`: env.py's `version_table` and `version_table_schema`, names as written
/// (Alembic quotes them, so they are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionTable {
    pub(crate) schema: Option<String>,
    pub(crate) name: String,
}

impl VersionTable {
    /// Reads `name` or `schema.name`; a part in double quotes may hold dots (`""` is a quote).
    pub(crate) fn parse(text: &str) -> Result<VersionTable, String> {
        let parts = split_parts(text)?;
        match parts.as_slice() {
            [name] => Ok(VersionTable {
                schema: None,
                name: name.clone(),
            }),
            [schema, name] => Ok(VersionTable {
                schema: Some(schema.clone()),
                name: name.clone(),
            }),
            _ => Err(format!(
                "--version-table {text:?}: write NAME or SCHEMA.NAME (quote a name that holds a dot: \"a.b\")"
            )),
        }
    }
}

impl Default for VersionTable {
    fn default() -> VersionTable {
        VersionTable {
            schema: None,
            name: "alembic_version".to_string(),
        }
    }
}

impl fmt::Display for VersionTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The dot-separated parts of `text`, double quotes removed.
fn split_parts(text: &str) -> Result<Vec<String>, String> {
    let empty = || format!("--version-table {text:?}: a part of the name is empty");
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if current.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            ('.', false) => {
                if current.is_empty() {
                    return Err(empty());
                }
                parts.push(std::mem::take(&mut current));
                was_quoted = false;
            }
            _ => current.push(c),
        }
    }
    if quoted {
        return Err(format!(
            "--version-table {text:?}: a double quote is not closed"
        ));
    }
    if current.is_empty() {
        return Err(empty());
    }
    parts.push(current);
    Ok(parts)
}

/// What the database says about its revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The table as PostgreSQL names it (schema-qualified when it is not on the search path),
    /// or none when there is no such table.
    pub(crate) found: Option<String>,
    /// Its rows: the current heads, sorted.
    pub(crate) current: Vec<String>,
}

/// Finds the table as SQLAlchemy's `has_table` does (`PGDialect._has_multi_table_query`).
const FIND: &str = "SELECT c.oid::regclass::text \
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relname = $1 AND c.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']::\"char\"[]) \
     AND CASE WHEN $2::text IS NULL \
     THEN pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog' \
     ELSE n.nspname = $2::text END";

/// Reads the version table in one READ ONLY transaction; nothing is written.
pub(crate) async fn read(
    client: &Client,
    table: &VersionTable,
    progress: &Progress,
) -> Result<Applied> {
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    progress.echo_sql(begin);
    client
        .batch_execute(begin)
        .await
        .context("starting a read-only transaction")?;
    progress.echo_sql(FIND);
    let found: Option<String> = client
        .query_opt(FIND, &[&table.name, &table.schema])
        .await
        .with_context(|| format!("looking for the version table {table}"))?
        .map(|row| row.get(0));
    let mut current = Vec::new();
    if let Some(relation) = &found {
        // `relation` is PostgreSQL's own quoted rendering of the table's oid.
        let select = format!("SELECT version_num::text FROM {relation} ORDER BY 1");
        progress.echo_sql(&select);
        for row in client
            .query(select.as_str(), &[])
            .await
            .with_context(|| {
                format!(
                    "reading the version table {relation} (check that the role may read it and that it is Alembic's, with version_num)"
                )
            })?
        {
            if let Some(revision) = row.get::<_, Option<String>>(0) {
                current.push(revision);
            }
        }
    }
    progress.echo_sql("COMMIT");
    client
        .batch_execute("COMMIT")
        .await
        .context("ending the read-only transaction")?;
    Ok(Applied { found, current })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_name_or_a_schema_and_a_name_as_written() {
        let table = |schema: Option<&str>, name: &str| VersionTable {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        };
        assert_eq!(
            VersionTable::parse("alembic_version"),
            Ok(table(None, "alembic_version"))
        );
        assert_eq!(
            VersionTable::parse("Meta.Versions"),
            Ok(table(Some("Meta"), "Versions"))
        );
        assert_eq!(
            VersionTable::parse("\"a.b\".\"x\"\"y\""),
            Ok(table(Some("a.b"), "x\"y"))
        );
        for bad in ["", ".", "a.", ".a", "a.b.c", "\"a", "a..b"] {
            assert!(VersionTable::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(table(Some("meta"), "v").to_string(), "meta.v");
    }
}
