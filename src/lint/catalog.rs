//! Reads constraints and indexes from a live database's catalogs in one READ ONLY, REPEATABLE
//! READ snapshot, as any role that can see the tables (no superuser needed).
//!
//! Built for large schemas: the queries read each catalog once, without joins or sorting the
//! server would spend time on (namespaces are passed as oids, names resolved here), run on two
//! sessions sharing one exported snapshot, and their rows are decoded as they stream in.

use std::borrow::Cow;

use anyhow::{Context, Result};
use futures_util::TryStreamExt;
use rustc_hash::{FxHashMap, FxHashSet};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};

use crate::lint::glob;
use crate::lint::model::{Object, Referred, Schema, Table};
use crate::lint::naming::Kind;
use crate::progress::Progress;

/// Which schemas and tables to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// Only these schemas (all user schemas when empty).
    pub(crate) schemas: Vec<String>,
    pub(crate) exclude_schemas: Vec<String>,
    /// Glob patterns (`*`, `?`) on `table` or `schema.table`.
    pub(crate) tables: Vec<String>,
}

/// The user schemas asked for, the first schema of the search path, the snapshot to share, and
/// whether names compare as their UTF-8 text does here (in any other server encoding, the
/// server's byte order is the order of the report).
const HEADER: &str = "SELECT coalesce((current_schemas(false))[1]::text, 'public'), pg_export_snapshot(), \
       current_setting('server_encoding') = 'UTF8', \
       coalesce(s.oids, '{}'), coalesce(s.names, '{}') \
     FROM (SELECT array_agg(n.oid ORDER BY n.oid) AS oids, array_agg(n.nspname::text ORDER BY n.oid) AS names \
           FROM pg_namespace n WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
             AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[])) \
             AND NOT (n.nspname = ANY($2::text[]))) s";

/// Tables and partitioned tables, without those an extension owns; whether each is a partition
/// or inheritance child.
const TABLES: &str = "SELECT c.oid, c.relnamespace, c.relname, \
       c.relispartition OR c.oid IN (SELECT h.inhrelid FROM pg_inherits h) \
     FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = ANY($1) \
       AND c.oid NOT IN (SELECT d.objid FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass \
                         AND d.classid = 'pg_class'::regclass AND d.deptype = 'e')";

/// The columns of the tables read (their oids are the parameter: cheaper than a join).
const COLUMNS: &str = "SELECT a.attrelid, a.attnum, a.attname FROM pg_attribute a \
     WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped";

/// A table constraint's namespace is its table's.
const CONSTRAINTS: &str = "SELECT con.oid, con.conrelid, con.conname, con.contype, con.conkey, con.confkey, \
       con.confrelid, con.conparentid, con.conislocal \
     FROM pg_constraint con \
     WHERE con.contype IN ('p', 'f', 'u', 'c', 'x') AND con.conrelid <> 0 AND con.connamespace = ANY($1)";

/// Indexes that back no primary key, unique or exclusion constraint (such a constraint's index
/// is on its own table, in its namespace); expression elements as text; whether the index is
/// attached to a partitioned table's index.
const INDEXES: &str = "SELECT i.indrelid, ic.relname, i.indisunique, i.indkey::int2[], i.indnkeyatts, \
       CASE WHEN i.indexprs IS NOT NULL THEN \
         ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts::int) k) END, \
       i.indexrelid IN (SELECT h.inhrelid FROM pg_inherits h) \
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
     WHERE ic.relnamespace = ANY($1) \
       AND i.indexrelid NOT IN (SELECT con.conindid FROM pg_constraint con \
                                WHERE con.contype IN ('p', 'u', 'x') AND con.connamespace = ANY($1))";

/// Tables outside the schemas read that foreign keys refer to, with their columns.
const REFERRED: &str = "SELECT c.oid, n.nspname, c.relname, a.attnum, a.attname \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     WHERE c.oid = ANY($1)";

struct RawTable {
    oid: u32,
    namespace: u32,
    name: String,
    is_child: bool,
}

struct RawConstraint {
    oid: u32,
    table: u32,
    name: String,
    kind: Kind,
    conkey: Vec<i16>,
    confkey: Vec<i16>,
    referred: u32,
    parent: u32,
    local: bool,
}

struct RawIndex {
    table: u32,
    name: String,
    unique: bool,
    keys: Vec<i16>,
    expressions: Option<Vec<String>>,
    inherited: bool,
}

/// Column names by (table oid, attnum), sorted for binary search.
#[derive(Default)]
struct Columns(Vec<(u32, i16, String)>);

impl Columns {
    fn sort(&mut self) {
        if !self.0.is_sorted_by_key(|(oid, number, _)| (*oid, *number)) {
            self.0
                .sort_unstable_by_key(|(oid, number, _)| (*oid, *number));
        }
    }

    fn name(&self, table: u32, number: i16) -> Option<&str> {
        self.0
            .binary_search_by(|(oid, n, _)| (*oid, *n).cmp(&(table, number)))
            .ok()
            .map(|i| self.0[i].2.as_str())
    }

    fn of(&self, table: u32) -> &[(u32, i16, String)] {
        let start = self.0.partition_point(|(oid, _, _)| *oid < table);
        let end = self.0.partition_point(|(oid, _, _)| *oid <= table);
        &self.0[start..end]
    }
}

/// Runs one catalog query, echoing it, and decodes each row as it arrives.
async fn stream<T>(
    client: &Client,
    sql: &str,
    oids: &Vec<u32>,
    what: &str,
    progress: &Progress,
    decode: impl Fn(&Row) -> Result<T, tokio_postgres::Error>,
) -> Result<Vec<T>> {
    progress.echo_sql(sql);
    let read = async {
        let rows = client
            .query_typed_raw(sql, [(oids, Type::OID_ARRAY)])
            .await?;
        futures_util::pin_mut!(rows);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await? {
            out.push(decode(&row)?);
        }
        Ok::<_, tokio_postgres::Error>(out)
    };
    read.await.with_context(|| format!("reading {what}"))
}

fn table_row(row: &Row) -> Result<RawTable, tokio_postgres::Error> {
    Ok(RawTable {
        oid: row.try_get(0)?,
        namespace: row.try_get(1)?,
        name: row.try_get(2)?,
        is_child: row.try_get(3)?,
    })
}

fn column_row(row: &Row) -> Result<(u32, i16, String), tokio_postgres::Error> {
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

fn constraint_row(row: &Row) -> Result<RawConstraint, tokio_postgres::Error> {
    let kind = match row.try_get::<_, i8>(3)? as u8 {
        b'p' => Kind::Pk,
        b'f' => Kind::Fk,
        b'u' => Kind::Uq,
        b'c' => Kind::Ck,
        _ => Kind::Ex,
    };
    Ok(RawConstraint {
        oid: row.try_get(0)?,
        table: row.try_get(1)?,
        name: row.try_get(2)?,
        kind,
        conkey: row.try_get::<_, Option<Vec<i16>>>(4)?.unwrap_or_default(),
        confkey: row.try_get::<_, Option<Vec<i16>>>(5)?.unwrap_or_default(),
        referred: row.try_get(6)?,
        parent: row.try_get(7)?,
        local: row.try_get(8)?,
    })
}

fn index_row(row: &Row) -> Result<RawIndex, tokio_postgres::Error> {
    let mut keys: Vec<i16> = row.try_get(3)?;
    keys.truncate(usize::try_from(row.try_get::<_, i16>(4)?).unwrap_or(0));
    Ok(RawIndex {
        table: row.try_get(0)?,
        name: row.try_get(1)?,
        unique: row.try_get(2)?,
        keys,
        expressions: row.try_get(5)?,
        inherited: row.try_get(6)?,
    })
}

/// What the queries returned.
struct Rows {
    default_schema: String,
    namespaces: FxHashMap<u32, String>,
    /// In (schema, name) order.
    tables: Vec<RawTable>,
    columns: Columns,
    constraints: Vec<RawConstraint>,
    indexes: Vec<RawIndex>,
    /// Tables outside the schemas read that foreign keys refer to: schema and name.
    referred: FxHashMap<u32, (String, String)>,
    /// Constraints and indexes arrived in the server's name order (non-UTF-8 databases).
    server_order: bool,
}

/// The tables the filter matches, in order, with their columns but no objects yet; and each
/// one's position by oid.
struct Layout {
    tables: Vec<Table>,
    by_oid: FxHashMap<u32, usize>,
}

/// Reads the schema; nothing is written. Two sessions share one snapshot (READ ONLY, REPEATABLE
/// READ; the second imports the first's exported snapshot) so the catalog queries run in parallel.
pub(crate) async fn read_schema(
    client: &Client,
    second: Option<&Client>,
    filter: &Filter,
    progress: &Progress,
) -> Result<Schema> {
    let header = begin_snapshot(client, filter, progress).await?;
    let second = match second {
        Some(other) => join_snapshot(other, &header.snapshot, progress).await,
        None => None,
    };
    // The two heaviest queries (columns, constraints) go to different sessions.
    let mut catalog =
        read_catalog(client, second.unwrap_or(client), &header, filter, progress).await?;
    let referred = read_referred(client, &mut catalog, progress).await?;
    end_snapshot(client, second, progress).await?;
    Ok(build(
        Rows {
            default_schema: header.default_schema,
            namespaces: header.namespaces,
            tables: catalog.tables,
            columns: catalog.columns,
            constraints: catalog.constraints,
            indexes: catalog.indexes,
            referred,
            server_order: !header.utf8,
        },
        catalog.layout,
    ))
}

/// What [`HEADER`] says.
struct Header {
    default_schema: String,
    /// The exported snapshot the second session imports.
    snapshot: String,
    /// Names compare as their UTF-8 text does: the rows are sorted here.
    utf8: bool,
    /// The user schemas asked for.
    oids: Vec<u32>,
    namespaces: FxHashMap<u32, String>,
}

/// Starts the read-only transaction and exports its snapshot.
async fn begin_snapshot(client: &Client, filter: &Filter, progress: &Progress) -> Result<Header> {
    // No JIT: it would spend longer compiling these queries than running them.
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off";
    progress.echo_sql(begin);
    client
        .batch_execute(begin)
        .await
        .context("starting a read-only transaction")?;
    progress.echo_sql(HEADER);
    let row = client
        .query_one(HEADER, &[&filter.schemas, &filter.exclude_schemas])
        .await
        .context("reading the search path and schemas")?;
    let oids: Vec<u32> = row.get(3);
    let namespaces = oids
        .iter()
        .copied()
        .zip(row.get::<_, Vec<String>>(4))
        .collect();
    Ok(Header {
        default_schema: row.get(0),
        snapshot: row.get(1),
        utf8: row.get(2),
        oids,
        namespaces,
    })
}

/// The second session in the same snapshot, or none when it cannot import it (the queries
/// then all run on the first).
async fn join_snapshot<'c>(
    other: &'c Client,
    snapshot: &str,
    progress: &Progress,
) -> Option<&'c Client> {
    let import = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
         SET TRANSACTION SNAPSHOT '{snapshot}'; SET LOCAL jit = off"
    );
    progress.echo_sql(&import);
    other.batch_execute(&import).await.ok().map(|()| other)
}

/// The rows of the catalog queries, and the tables laid out.
struct Catalog {
    /// In (schema, name) order.
    tables: Vec<RawTable>,
    columns: Columns,
    constraints: Vec<RawConstraint>,
    indexes: Vec<RawIndex>,
    layout: Layout,
}

/// Tables and columns on `client`, constraints and indexes on `other`, at the same time.
async fn read_catalog(
    client: &Client,
    other: &Client,
    header: &Header,
    filter: &Filter,
    progress: &Progress,
) -> Result<Catalog> {
    let oids = &header.oids;
    let [tables_sql, constraints_sql, indexes_sql] = ordered_queries(header.utf8);
    let ((tables, columns, layout), constraints, indexes) = tokio::try_join!(
        read_tables(client, &tables_sql, header, filter, progress),
        stream(
            other,
            &constraints_sql,
            oids,
            "constraints",
            progress,
            constraint_row
        ),
        stream(other, &indexes_sql, oids, "indexes", progress, index_row),
    )?;
    Ok(Catalog {
        tables,
        columns,
        constraints,
        indexes,
        layout,
    })
}

/// The tables, constraints and indexes queries: sorted here in UTF-8 databases, by the server
/// in the others.
fn ordered_queries(utf8: bool) -> [Cow<'static, str>; 3] {
    let order = |sql: &'static str, by: &str| -> Cow<'static, str> {
        if utf8 {
            sql.into()
        } else {
            format!("{sql} ORDER BY {by}").into()
        }
    };
    [
        order(
            TABLES,
            "(SELECT n.nspname FROM pg_namespace n WHERE n.oid = c.relnamespace), c.relname",
        ),
        order(CONSTRAINTS, "con.conname"),
        order(INDEXES, "ic.relname"),
    ]
}

/// The tables in order and their columns, laid out while the other session is usually still
/// streaming.
async fn read_tables(
    client: &Client,
    tables_sql: &str,
    header: &Header,
    filter: &Filter,
    progress: &Progress,
) -> Result<(Vec<RawTable>, Columns, Layout)> {
    let mut tables = stream(
        client,
        tables_sql,
        &header.oids,
        "tables",
        progress,
        table_row,
    )
    .await?;
    let table_oids: Vec<u32> = tables.iter().map(|t| t.oid).collect();
    let mut columns = Columns(
        stream(
            client,
            COLUMNS,
            &table_oids,
            "columns",
            progress,
            column_row,
        )
        .await?,
    );
    columns.sort();
    let schema_of = |namespace: u32| header.namespaces.get(&namespace).map_or("", String::as_str);
    if header.utf8 {
        tables.sort_unstable_by(|a, b| {
            (schema_of(a.namespace), a.name.as_str())
                .cmp(&(schema_of(b.namespace), b.name.as_str()))
        });
    }
    let layout = lay_out(&tables, &columns, &header.namespaces, filter);
    Ok((tables, columns, layout))
}

/// Foreign keys to tables outside the schemas read (rare): those tables' schemas and names,
/// their columns added to the catalog's.
async fn read_referred(
    client: &Client,
    catalog: &mut Catalog,
    progress: &Progress,
) -> Result<FxHashMap<u32, (String, String)>> {
    let known: FxHashSet<u32> = catalog.tables.iter().map(|t| t.oid).collect();
    let mut outside: Vec<u32> = catalog
        .constraints
        .iter()
        .filter(|c| c.kind == Kind::Fk && !known.contains(&c.referred))
        .map(|c| c.referred)
        .collect();
    outside.sort_unstable();
    outside.dedup();
    let mut referred = FxHashMap::default();
    if outside.is_empty() {
        return Ok(referred);
    }
    let rows = stream(
        client,
        REFERRED,
        &outside,
        "referred tables",
        progress,
        |row| {
            Ok((
                row.try_get::<_, u32>(0)?,
                row.try_get::<_, String>(1)?,
                row.try_get::<_, String>(2)?,
                row.try_get::<_, Option<i16>>(3)?,
                row.try_get::<_, Option<String>>(4)?,
            ))
        },
    )
    .await?;
    for (oid, schema, table, number, column) in rows {
        if let (Some(number), Some(column)) = (number, column) {
            catalog.columns.0.push((oid, number, column));
        }
        referred.entry(oid).or_insert((schema, table));
    }
    catalog.columns.sort();
    Ok(referred)
}

/// Ends the transaction on both sessions.
async fn end_snapshot(client: &Client, second: Option<&Client>, progress: &Progress) -> Result<()> {
    progress.echo_sql("COMMIT");
    client
        .batch_execute("COMMIT")
        .await
        .context("ending the read-only transaction")?;
    if let Some(other) = second {
        let _ = other.batch_execute("COMMIT").await;
    }
    Ok(())
}

/// The tables (already in order) that the filter matches, with their columns.
fn lay_out(
    tables: &[RawTable],
    columns: &Columns,
    namespaces: &FxHashMap<u32, String>,
    filter: &Filter,
) -> Layout {
    let mut model: Vec<Table> = Vec::with_capacity(tables.len());
    let mut by_oid: FxHashMap<u32, usize> = FxHashMap::default();
    by_oid.reserve(tables.len());
    for table in tables {
        let schema = namespaces.get(&table.namespace).map_or("", String::as_str);
        if !filter.matches_table(schema, &table.name) {
            continue;
        }
        by_oid.insert(table.oid, model.len());
        model.push(Table {
            schema: schema.to_owned(),
            name: table.name.clone(),
            columns: columns
                .of(table.oid)
                .iter()
                .map(|(_, _, n)| n.clone())
                .collect(),
            is_child: table.is_child,
            objects: Vec::new(),
        });
    }
    Layout {
        tables: model,
        by_oid,
    }
}

/// Assembles the model: the laid-out tables, each with its constraints and then its indexes,
/// both by name.
fn build(rows: Rows, layout: Layout) -> Schema {
    let Rows {
        default_schema,
        namespaces,
        tables,
        columns,
        constraints,
        indexes,
        referred,
        server_order,
    } = rows;
    let Layout {
        tables: mut model,
        by_oid,
    } = layout;
    reserve_objects(&mut model, &by_oid, &constraints, &indexes);
    let names = table_names(&tables, &namespaces, &referred);
    add_constraints(&mut model, &by_oid, &columns, &names, constraints);
    add_indexes(&mut model, &by_oid, &columns, indexes);
    if !server_order {
        for table in &mut model {
            table.objects.sort_unstable_by(|a, b| {
                (a.kind == Kind::Ix, &a.name).cmp(&(b.kind == Kind::Ix, &b.name))
            });
        }
    }
    Schema {
        tables: model,
        default_schema,
    }
}

/// Each table's list of objects allocated once, at its size.
fn reserve_objects(
    model: &mut [Table],
    by_oid: &FxHashMap<u32, usize>,
    constraints: &[RawConstraint],
    indexes: &[RawIndex],
) {
    let mut counts = vec![0usize; model.len()];
    for table in constraints
        .iter()
        .map(|c| c.table)
        .chain(indexes.iter().map(|i| i.table))
    {
        if let Some(&index) = by_oid.get(&table) {
            counts[index] += 1;
        }
    }
    for (table, count) in model.iter_mut().zip(counts) {
        table.objects.reserve_exact(count);
    }
}

/// The schema and name of every table read, for foreign keys (only those the filter matches are
/// checked), and of the tables outside the schemas read that they refer to.
fn table_names<'a>(
    tables: &'a [RawTable],
    namespaces: &'a FxHashMap<u32, String>,
    referred: &'a FxHashMap<u32, (String, String)>,
) -> FxHashMap<u32, (&'a str, &'a str)> {
    let schema_of = |namespace: u32| namespaces.get(&namespace).map_or("", String::as_str);
    let mut names: FxHashMap<u32, (&str, &str)> = tables
        .iter()
        .map(|t| (t.oid, (schema_of(t.namespace), t.name.as_str())))
        .collect();
    names.extend(
        referred
            .iter()
            .map(|(oid, (s, t))| (*oid, (s.as_str(), t.as_str()))),
    );
    names
}

/// The constraints of the laid-out tables, in the order read.
fn add_constraints(
    model: &mut [Table],
    by_oid: &FxHashMap<u32, usize>,
    columns: &Columns,
    names: &FxHashMap<u32, (&str, &str)>,
    constraints: Vec<RawConstraint>,
) {
    let column = |table: u32, number: i16| columns.name(table, number).map(str::to_owned);
    // A constraint PostgreSQL clones onto the same table for a foreign key to a partitioned table.
    let clones: FxHashSet<(u32, u32)> = if constraints.iter().any(|c| c.parent != 0) {
        constraints.iter().map(|c| (c.oid, c.table)).collect()
    } else {
        FxHashSet::default()
    };
    for raw in constraints {
        let Some(&index) = by_oid.get(&raw.table) else {
            continue;
        };
        if raw.parent != 0 && clones.contains(&(raw.parent, raw.table)) {
            continue;
        }
        let referred = (raw.kind == Kind::Fk).then(|| {
            let (schema, table) = names.get(&raw.referred).copied().unwrap_or_default();
            Box::new(Referred {
                schema: schema.to_owned(),
                table: table.to_owned(),
                columns: raw
                    .confkey
                    .iter()
                    .map(|n| column(raw.referred, *n).unwrap_or_else(|| n.to_string()))
                    .collect(),
            })
        });
        model[index].objects.push(Object {
            kind: raw.kind,
            name: raw.name,
            columns: raw.conkey.iter().map(|n| column(raw.table, *n)).collect(),
            expression_columns: Vec::new(),
            referred,
            unique: matches!(raw.kind, Kind::Pk | Kind::Uq),
            inherited: raw.parent != 0 || !raw.local,
            location: None,
            unnamed: false,
        });
    }
}

/// The indexes of the laid-out tables, in the order read; for an expression element, the first
/// column it references (SQLAlchemy's rule).
fn add_indexes(
    model: &mut [Table],
    by_oid: &FxHashMap<u32, usize>,
    columns: &Columns,
    indexes: Vec<RawIndex>,
) {
    let column = |table: u32, number: i16| columns.name(table, number).map(str::to_owned);
    for raw in indexes {
        let Some(&index) = by_oid.get(&raw.table) else {
            continue;
        };
        let table = &model[index];
        let columns: Vec<Option<String>> = raw
            .keys
            .iter()
            .map(|n| if *n == 0 { None } else { column(raw.table, *n) })
            .collect();
        let expression_columns = match &raw.expressions {
            Some(definitions) => raw
                .keys
                .iter()
                .zip(definitions)
                .map(|(n, text)| {
                    if *n == 0 {
                        first_column_in(text, &table.columns)
                    } else {
                        None
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        model[index].objects.push(Object {
            kind: Kind::Ix,
            name: raw.name,
            columns,
            expression_columns,
            referred: None,
            unique: raw.unique,
            inherited: raw.inherited,
            location: None,
            unnamed: false,
        });
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
