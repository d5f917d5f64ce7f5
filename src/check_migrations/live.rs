//! What check-migrations reads from the database, all in READ ONLY transactions: the version
//! table (`version_table`), the tables with their columns, constraints and indexes (the catalog
//! reader lint-constraints uses), and what that reader leaves out but PostgreSQL's namespaces
//! hold: every other relation name, every user schema, and the session's search path.

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use super::CheckMigrationsConfig;
use super::version_table;
use crate::conn::connect;
use crate::conn::plan::{self, ConnectionPlan};
use crate::conn::tls::LATEST_LIBPQ;
use crate::environment::Environment;
use crate::lint::catalog;
use crate::lint::sqlfile::LiveBase;
use crate::progress::Progress;

/// The database as check-migrations sees it.
pub(crate) struct Database {
    pub(crate) version_table_found: Option<String>,
    pub(crate) current: Vec<String>,
    pub(crate) base: LiveBase,
}

/// User schemas, as the catalog reader chooses them.
const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// Connects, reads; nothing is written.
pub(crate) async fn read(
    config: &CheckMigrationsConfig,
    env: &Environment,
    progress: &Progress,
) -> Result<Database> {
    let options = plan::Options {
        application_name: "dbtool-check-migrations",
        connect_timeout: config.connect_timeout,
        libpq_major: LATEST_LIBPQ,
    };
    let target = ConnectionPlan::new(&config.url, env, &options)?;
    if let Some(warning) = &target.passfile_warning {
        progress.warn(warning);
    }
    let client = connect::connect(&target).await?;
    let applied = version_table::read(&client, &config.version_table, progress)
        .await
        .map_err(|e| connect::query_failure(e, &target, "reading the version table"))?;
    let schema = catalog::read_schema(&client, None, &catalog::Filter::default(), progress)
        .await
        .map_err(|e| connect::query_failure(e, &target, "reading the catalogs"))?;
    let mut base = names(&client, progress)
        .await
        .map_err(|e| connect::query_failure(e, &target, "reading the relation names"))?;
    base.schema = schema;
    Ok(Database {
        version_table_found: applied.found,
        current: applied.current,
        base,
    })
}

/// The names the table model leaves out, and the search path.
async fn names(client: &Client, progress: &Progress) -> Result<LiveBase> {
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    progress.echo_sql(begin);
    client
        .batch_execute(begin)
        .await
        .context("starting a read-only transaction")?;
    let relations = format!(
        "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMA}"
    );
    progress.echo_sql(&relations);
    let other_relations = client
        .query(relations.as_str(), &[])
        .await
        .context("reading the relation names")?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let schemas_sql =
        format!("SELECT n.nspname::text FROM pg_catalog.pg_namespace n WHERE {USER_SCHEMA}");
    progress.echo_sql(&schemas_sql);
    let schemas = client
        .query(schemas_sql.as_str(), &[])
        .await
        .context("reading the schemas")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let path = "SELECT current_schemas(false)::text[]";
    progress.echo_sql(path);
    let search_path: Vec<String> = client
        .query_one(path, &[])
        .await
        .context("reading the search path")?
        .get(0);
    progress.echo_sql("COMMIT");
    client
        .batch_execute("COMMIT")
        .await
        .context("ending the read-only transaction")?;
    Ok(LiveBase {
        other_relations,
        search_path,
        schemas,
        ..LiveBase::default()
    })
}
