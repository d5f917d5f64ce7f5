//! Reads constraints and indexes from a live database's catalogs: three queries in one READ ONLY,
//! REPEATABLE READ transaction, as any role that can see the tables (no superuser needed).

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::lint::glob;
use crate::lint::model::{Object, Referred, Schema, Table};
use crate::lint::naming::Kind;
use crate::output::Printer;

/// Which schemas and tables to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these schemas (all user schemas when empty).
    pub schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    /// Glob patterns (`*`, `?`) on `table` or `schema.table`.
    pub tables: Vec<String>,
}

const SCHEMA_FILTER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
     AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[])) \
     AND NOT (n.nspname = ANY($2::text[]))";

fn tables_query() -> String {
    format!(
        "SELECT c.oid::int8, n.nspname::text, c.relname::text, \
           ARRAY(SELECT a.attname::text FROM pg_attribute a \
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum), \
           (c.relispartition OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid)) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                           AND d.objid = c.oid AND d.deptype = 'e') \
         ORDER BY n.nspname, c.relname"
    )
}

fn constraints_query() -> String {
    format!(
        "SELECT con.conrelid::int8, con.conname::text, con.contype::text, \
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord), \
           rn.nspname::text, rc.relname::text, \
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord), \
           (con.conparentid <> 0 OR NOT con.conislocal), \
           (con.conparentid <> 0 AND EXISTS (SELECT 1 FROM pg_constraint p \
                 WHERE p.oid = con.conparentid AND p.conrelid = con.conrelid)) \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
         WHERE con.contype IN ('p', 'f', 'u', 'c', 'x') AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
         ORDER BY con.conrelid, con.conname"
    )
}

fn indexes_query() -> String {
    format!(
        "SELECT i.indrelid::int8, ic.relname::text, i.indisunique, \
           ARRAY(SELECT CASE WHEN k.attnum = 0 THEN NULL ELSE a.attname::text END \
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                 WHERE k.ord <= i.indnkeyatts ORDER BY k.ord), \
           ARRAY(SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(i.indexrelid, k.ord::int, true) END \
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                 WHERE k.ord <= i.indnkeyatts ORDER BY k.ord), \
           EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid \
                           AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY i.indrelid, ic.relname"
    )
}

/// Reads the schema; nothing is written, the transaction is READ ONLY.
pub async fn read_schema(client: &Client, filter: &Filter, printer: &Printer) -> Result<Schema> {
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    printer.echo_sql(begin);
    client
        .batch_execute(begin)
        .await
        .context("starting a read-only transaction")?;
    let default_schema_sql = "SELECT coalesce((current_schemas(false))[1]::text, 'public')";
    printer.echo_sql(default_schema_sql);
    let default_schema: String = client
        .query_one(default_schema_sql, &[])
        .await
        .context("reading the search path")?
        .get(0);

    let (tables_sql, constraints_sql, indexes_sql) =
        (tables_query(), constraints_query(), indexes_query());
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
        [&filter.schemas, &filter.exclude_schemas];
    printer.echo_sql(&tables_sql);
    let table_rows = client
        .query(&tables_sql, &params)
        .await
        .context("reading tables")?;
    printer.echo_sql(&constraints_sql);
    let constraint_rows = client
        .query(&constraints_sql, &params)
        .await
        .context("reading constraints")?;
    printer.echo_sql(&indexes_sql);
    let index_rows = client
        .query(&indexes_sql, &params)
        .await
        .context("reading indexes")?;
    printer.echo_sql("COMMIT");
    client
        .batch_execute("COMMIT")
        .await
        .context("ending the read-only transaction")?;

    let mut tables: Vec<Table> = Vec::with_capacity(table_rows.len());
    let mut by_oid: HashMap<i64, usize> = HashMap::with_capacity(table_rows.len());
    for row in &table_rows {
        let schema: String = row.get(1);
        let name: String = row.get(2);
        if !filter.matches_table(&schema, &name) {
            continue;
        }
        by_oid.insert(row.get(0), tables.len());
        tables.push(Table {
            schema,
            name,
            columns: row.get(3),
            is_child: row.get(4),
            objects: Vec::new(),
        });
    }
    for row in &constraint_rows {
        let Some(&index) = by_oid.get(&row.get::<_, i64>(0)) else {
            continue;
        };
        if row.get::<_, bool>(8) {
            continue; // a clone PostgreSQL keeps for a foreign key to a partitioned table
        }
        let contype: String = row.get(2);
        let kind = match contype.as_str() {
            "p" => Kind::Pk,
            "f" => Kind::Fk,
            "u" => Kind::Uq,
            "c" => Kind::Ck,
            _ => Kind::Ex,
        };
        let columns: Vec<String> = row.get(3);
        let referred = (kind == Kind::Fk).then(|| Referred {
            schema: row.get::<_, Option<String>>(4).unwrap_or_default(),
            table: row.get::<_, Option<String>>(5).unwrap_or_default(),
            columns: row.get(6),
        });
        tables[index].objects.push(Object {
            kind,
            name: row.get(1),
            columns: columns.into_iter().map(Some).collect(),
            expression_columns: Vec::new(),
            referred,
            unique: matches!(kind, Kind::Pk | Kind::Uq),
            inherited: row.get(7),
            location: None,
        });
    }
    for row in &index_rows {
        let Some(&index) = by_oid.get(&row.get::<_, i64>(0)) else {
            continue;
        };
        let columns: Vec<Option<String>> = row.get(3);
        let expressions: Vec<Option<String>> = row.get(4);
        let table_columns = &tables[index].columns;
        let expression_columns = expressions
            .iter()
            .map(|e| {
                e.as_deref()
                    .and_then(|text| first_column_in(text, table_columns))
            })
            .collect();
        tables[index].objects.push(Object {
            kind: Kind::Ix,
            name: row.get(1),
            columns,
            expression_columns,
            referred: None,
            unique: row.get(2),
            inherited: row.get(5),
            location: None,
        });
    }
    Ok(Schema {
        tables,
        default_schema,
    })
}

/// The first identifier in an expression that names a column of the table.
fn first_column_in(expression: &str, columns: &[String]) -> Option<String> {
    let mut chars = expression.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c == '"' {
            let mut name = String::new();
            while let Some((_, c)) = chars.next() {
                if c == '"' {
                    if chars.peek().map(|(_, n)| *n) == Some('"') {
                        chars.next();
                        name.push('"');
                        continue;
                    }
                    break;
                }
                name.push(c);
            }
            if columns.contains(&name) {
                return Some(name);
            }
        } else if c == '\'' {
            for (_, c) in chars.by_ref() {
                if c == '\'' {
                    break;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let mut end = start + c.len_utf8();
            while let Some((i, c)) = chars.peek().copied() {
                if c.is_alphanumeric() || c == '_' || c == '$' {
                    end = i + c.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = expression[start..end].to_lowercase();
            if chars.peek().map(|(_, c)| *c) != Some('(') && columns.contains(&word) {
                return Some(word);
            }
        }
    }
    None
}

impl Filter {
    fn matches_table(&self, schema: &str, table: &str) -> bool {
        self.tables.is_empty()
            || self
                .tables
                .iter()
                .any(|pattern| glob(pattern, table) || glob(pattern, &format!("{schema}.{table}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_give_their_first_column() {
        let columns = vec![
            "email".to_string(),
            "Name".to_string(),
            "created_at".to_string(),
        ];
        assert_eq!(
            first_column_in("lower(email)", &columns).as_deref(),
            Some("email")
        );
        assert_eq!(
            first_column_in("lower((\"Name\")::text)", &columns).as_deref(),
            Some("Name")
        );
        assert_eq!(
            first_column_in("date_trunc('day'::text, created_at)", &columns).as_deref(),
            Some("created_at")
        );
        assert_eq!(first_column_in("(1 + 2)", &columns), None);
    }
}
