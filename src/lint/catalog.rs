//! Reads constraints and indexes from a live database's catalogs: three queries in one READ ONLY,
//! REPEATABLE READ transaction, as any role that can see the tables (no superuser needed).

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::{Client, Row};

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
           (c.relispartition OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid)) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                           AND d.objid = c.oid AND d.deptype = 'e') \
         ORDER BY n.nspname, c.relname"
    )
}

fn columns_query() -> String {
    format!(
        "SELECT a.attrelid::int8, a.attnum, a.attname::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {SCHEMA_FILTER}"
    )
}

fn constraints_query() -> String {
    format!(
        "SELECT con.oid::int8, con.conrelid::int8, con.conname::text, con.contype::text, con.conkey, con.confkey, \
           rn.nspname::text, rc.relname::text, con.confrelid::int8, con.conparentid::int8, con.conislocal \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
         WHERE con.contype IN ('p', 'f', 'u', 'c', 'x') AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
         ORDER BY con.conrelid, con.conname"
    )
}

fn indexes_query() -> String {
    format!(
        "SELECT i.indrelid::int8, ic.relname::text, i.indisunique, i.indkey::int2[], i.indnkeyatts, \
           CASE WHEN i.indexprs IS NOT NULL THEN \
             ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts::int) k) END, \
           h.inhrelid IS NOT NULL \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_inherits h ON h.inhrelid = i.indexrelid \
         WHERE c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid \
                           AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY i.indrelid, ic.relname"
    )
}

type Params<'a> = [&'a (dyn tokio_postgres::types::ToSql + Sync); 2];

/// Runs one catalog query, echoing it.
async fn query(
    client: &Client,
    sql: &str,
    params: &Params<'_>,
    what: &str,
    printer: &Printer,
) -> Result<Vec<Row>> {
    printer.echo_sql(sql);
    client
        .query(sql, params)
        .await
        .with_context(|| format!("reading {what}"))
}

/// Reads the schema; nothing is written. Two sessions share one snapshot (READ ONLY, REPEATABLE
/// READ; the second imports the first's exported snapshot) so the catalog queries run in parallel.
pub async fn read_schema(
    client: &Client,
    second: Option<&Client>,
    filter: &Filter,
    printer: &Printer,
) -> Result<Schema> {
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    printer.echo_sql(begin);
    client
        .batch_execute(begin)
        .await
        .context("starting a read-only transaction")?;
    let header =
        "SELECT coalesce((current_schemas(false))[1]::text, 'public'), pg_export_snapshot()";
    printer.echo_sql(header);
    let row = client
        .query_one(header, &[])
        .await
        .context("reading the search path")?;
    let default_schema: String = row.get(0);
    let snapshot: String = row.get(1);
    let second = match second {
        Some(other) => {
            let import = format!("{begin}; SET TRANSACTION SNAPSHOT '{snapshot}'");
            printer.echo_sql(&import);
            other.batch_execute(&import).await.ok().map(|()| other)
        }
        None => None,
    };
    let (tables_sql, columns_sql, constraints_sql, indexes_sql) = (
        tables_query(),
        columns_query(),
        constraints_query(),
        indexes_query(),
    );
    let params: Params<'_> = [&filter.schemas, &filter.exclude_schemas];
    // The constraints query is the heaviest: it gets a session to itself when there are two.
    let other = second.unwrap_or(client);
    let (table_rows, column_rows, constraint_rows, index_rows) = tokio::try_join!(
        query(client, &tables_sql, &params, "tables", printer),
        query(client, &columns_sql, &params, "columns", printer),
        query(other, &constraints_sql, &params, "constraints", printer),
        query(client, &indexes_sql, &params, "indexes", printer),
    )?;
    printer.echo_sql("COMMIT");
    client
        .batch_execute("COMMIT")
        .await
        .context("ending the read-only transaction")?;
    if let Some(other) = second {
        let _ = other.batch_execute("COMMIT").await;
    }
    Ok(build(
        &table_rows,
        &column_rows,
        &constraint_rows,
        &index_rows,
        filter,
        default_schema,
    ))
}

/// Assembles the model from the catalog rows.
fn build(
    table_rows: &[Row],
    column_rows: &[Row],
    constraint_rows: &[Row],
    index_rows: &[Row],
    filter: &Filter,
    default_schema: String,
) -> Schema {
    let mut columns: HashMap<i64, Vec<(i16, String)>> = HashMap::with_capacity(table_rows.len());
    for row in column_rows {
        columns
            .entry(row.get(0))
            .or_default()
            .push((row.get(1), row.get(2)));
    }
    let mut tables: Vec<Table> = Vec::with_capacity(table_rows.len());
    let mut by_oid: HashMap<i64, usize> = HashMap::with_capacity(table_rows.len());
    let mut attnums: Vec<Vec<(i16, String)>> = Vec::with_capacity(table_rows.len());
    for row in table_rows {
        let schema: String = row.get(1);
        let name: String = row.get(2);
        if !filter.matches_table(&schema, &name) {
            continue;
        }
        let oid: i64 = row.get(0);
        let mut attributes = columns.remove(&oid).unwrap_or_default();
        attributes.sort_unstable_by_key(|(number, _)| *number);
        by_oid.insert(oid, tables.len());
        tables.push(Table {
            schema,
            name,
            columns: attributes.iter().map(|(_, name)| name.clone()).collect(),
            is_child: row.get(3),
            objects: Vec::new(),
        });
        attnums.push(attributes);
    }
    let name_of = |index: usize, number: i16| -> Option<String> {
        let attributes = &attnums[index];
        attributes
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| attributes[i].1.clone())
    };
    let constraint_table: HashMap<i64, i64> = constraint_rows
        .iter()
        .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)))
        .collect();
    for row in constraint_rows {
        let conrelid: i64 = row.get(1);
        let Some(&index) = by_oid.get(&conrelid) else {
            continue;
        };
        let parent: i64 = row.get(9);
        if parent != 0 && constraint_table.get(&parent) == Some(&conrelid) {
            continue; // a clone PostgreSQL keeps for a foreign key to a partitioned table
        }
        let contype: String = row.get(3);
        let kind = match contype.as_str() {
            "p" => Kind::Pk,
            "f" => Kind::Fk,
            "u" => Kind::Uq,
            "c" => Kind::Ck,
            _ => Kind::Ex,
        };
        let conkey: Vec<i16> = row.get::<_, Option<Vec<i16>>>(4).unwrap_or_default();
        let referred = (kind == Kind::Fk).then(|| {
            let confkey: Vec<i16> = row.get::<_, Option<Vec<i16>>>(5).unwrap_or_default();
            let referred_index = by_oid.get(&row.get::<_, i64>(8)).copied();
            Referred {
                schema: row.get::<_, Option<String>>(6).unwrap_or_default(),
                table: row.get::<_, Option<String>>(7).unwrap_or_default(),
                columns: confkey
                    .iter()
                    .map(|n| {
                        referred_index
                            .and_then(|i| name_of(i, *n))
                            .unwrap_or_else(|| n.to_string())
                    })
                    .collect(),
            }
        });
        tables[index].objects.push(Object {
            kind,
            name: row.get(2),
            columns: conkey.iter().map(|n| name_of(index, *n)).collect(),
            expression_columns: Vec::new(),
            referred,
            unique: matches!(kind, Kind::Pk | Kind::Uq),
            inherited: parent != 0 || !row.get::<_, bool>(10),
            location: None,
            unnamed: false,
        });
    }
    for row in index_rows {
        let Some(&index) = by_oid.get(&row.get::<_, i64>(0)) else {
            continue;
        };
        let indkey: Vec<i16> = row.get(3);
        let key_count = usize::try_from(row.get::<_, i16>(4)).unwrap_or(0);
        let expressions: Option<Vec<String>> = row.get(5);
        let keys = &indkey[..key_count.min(indkey.len())];
        let columns: Vec<Option<String>> = keys
            .iter()
            .map(|n| if *n == 0 { None } else { name_of(index, *n) })
            .collect();
        let expression_columns = match &expressions {
            Some(definitions) => keys
                .iter()
                .zip(definitions)
                .map(|(n, text)| {
                    if *n == 0 {
                        first_column_in(text, &tables[index].columns)
                    } else {
                        None
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        tables[index].objects.push(Object {
            kind: Kind::Ix,
            name: row.get(1),
            columns,
            expression_columns,
            referred: None,
            unique: row.get(2),
            inherited: row.get(6),
            location: None,
            unnamed: false,
        });
    }
    Schema {
        tables,
        default_schema,
    }
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
