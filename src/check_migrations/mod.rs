//! `dbtool check-migrations`: will this deploy's Alembic migrations apply to this database?
//! Where the database stands: its current revisions (`version_table`), the code's heads and
//! graph errors (`lint::alembic`'s reader, never running the migrations), and the revisions an
//! upgrade would run, in Alembic's order (`standing`). Then the pending references: those
//! revisions replayed over the live schema, read in READ ONLY transactions (`live`), failing
//! where PostgreSQL would (`replay`).
//!
//! History drift (`drift`): the live schema against the history replayed up to the current
//! revision, checked when revisions are pending.
//!
//! Not yet: the blockers (locks, sizes, timeouts) of issue 28.

mod drift;
mod live;
mod replay;
mod standing;
mod version_table;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::environment::Environment;
use crate::exit;
use crate::finding::{Finding, Level};
use crate::lint::alembic::migration::Migration;
use crate::lint::alembic::{self, Graph, Revisions};
use crate::lint::naming::NamingConvention;
use crate::lint::sqlfile::{self, FileError, SourceFile};
use crate::progress::Progress;
use crate::python::{self, Statement};

pub(crate) use replay::OperationFinding;
pub(crate) use standing::Pending;
pub(crate) use version_table::VersionTable;

/// What a run needs, validated from the flags and settings.
#[derive(Debug, Clone)]
pub(crate) struct CheckMigrationsConfig {
    pub(crate) url: String,
    pub(crate) version_table: VersionTable,
    /// `versions/` directories and migration files.
    pub(crate) versions: Vec<PathBuf>,
    pub(crate) connect_timeout: Option<Duration>,
}

/// Where the database stands against the code.
#[derive(Debug, Clone)]
pub(crate) struct MigrationsReport {
    /// `--version-table` as given.
    pub(crate) version_table: String,
    /// The table as PostgreSQL names it, or none: nothing applied.
    pub(crate) version_table_found: Option<String>,
    pub(crate) current: Vec<String>,
    pub(crate) heads: Vec<String>,
    /// None when it cannot be known (a current revision not in the code, a cycle).
    pub(crate) pending: Option<Vec<Pending>>,
    pub(crate) findings: Vec<Finding>,
    /// What the replay of the pending revisions over the live schema found, in upgrade order.
    pub(crate) operations: Vec<OperationFinding>,
    /// The pending revision `alembic upgrade` would stop in, if any.
    pub(crate) fails_in: Option<String>,
    /// Graph errors and unreadable migration files, as lint-constraints reports them.
    pub(crate) errors: Vec<FileError>,
}

impl MigrationsReport {
    /// Nothing wrong: no error finding and no graph or file error.
    pub(crate) fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.all_findings().all(|f| f.level() != Level::Error)
    }

    /// Every finding: where the database stands, then the pending operations'.
    pub(crate) fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.operations.iter().map(|o| &o.finding))
    }
}

/// The migrations as read from VERSIONS: the graph, each revision's message, the errors.
struct Versions {
    graph: Graph,
    migrations: Vec<Migration>,
    messages: std::collections::BTreeMap<String, String>,
    errors: Vec<FileError>,
}

impl Versions {
    /// The migrations of `revisions`, in that order.
    fn chain<'v>(&'v self, revisions: impl Iterator<Item = &'v str>) -> replay::Chain<'v> {
        let by_revision: std::collections::HashMap<&str, &Migration> = self
            .migrations
            .iter()
            .map(|m| (m.revision.as_str(), m))
            .collect();
        replay::Chain {
            migrations: revisions
                .filter_map(|r| by_revision.get(r).copied())
                .collect(),
        }
    }
}

/// Reads the code first (bad input exits 3 before any connection), then the database.
pub(crate) async fn check(
    config: &CheckMigrationsConfig,
    env: &Environment,
    progress: &Progress,
) -> Result<MigrationsReport> {
    let code = read_versions(&config.versions, progress)?;
    let database = live::read(config, env, progress).await?;
    let standing = standing::stand(&code.graph, &database.current, |revision| {
        code.messages.get(revision).cloned().unwrap_or_default()
    });
    let mut pending_check = replay::PendingCheck::default();
    let several_heads = code.graph.heads.len() > 1;
    if let Some(pending) = &standing.pending
        && !pending.is_empty()
    {
        let started = std::time::Instant::now();
        let history = standing::history(&code.graph, &database.current);
        pending_check = replay::check(
            &code.chain(pending.iter().map(|p| p.revision.as_str())),
            &code.chain(history.iter().map(String::as_str)),
            database.base,
            &NamingConvention::sqlalchemy_builtin(),
        );
        progress.info(&format!(
            "replayed {} pending revision(s) over the live schema in {:.0} ms",
            pending.len(),
            started.elapsed().as_secs_f64() * 1000.0
        ));
    }
    Ok(MigrationsReport {
        version_table: config.version_table.to_string(),
        version_table_found: database.version_table_found,
        current: database.current,
        heads: code.graph.heads.clone(),
        pending: standing.pending,
        findings: [standing.findings, pending_check.drift].concat(),
        operations: pending_check.findings,
        // `alembic upgrade head` stops on several heads before it runs any revision
        fails_in: pending_check.fails_in.filter(|_| !several_heads),
        errors: code.errors,
    })
}

/// Reads the migration files without running them.
fn read_versions(versions: &[PathBuf], progress: &Progress) -> Result<Versions> {
    for path in versions {
        if !path.is_dir() && path.extension().is_none_or(|e| e != "py") {
            return Err(exit::invalid(format!(
                "{}: not a versions directory or a migration (.py) file; pass Alembic's versions/ directory",
                path.display()
            )));
        }
    }
    let files: Vec<SourceFile> = sqlfile::read_inputs(versions)
        .map_err(|e| exit::invalid(format!("{e:#}")))?
        .into_iter()
        .filter(|f| f.name.ends_with(".py"))
        .collect();
    let Revisions {
        migrations,
        graph,
        errors,
        not_migrations,
        ..
    } = alembic::read_revisions(&files);
    for name in &not_migrations {
        progress.info(&format!(
            "{name}: not an Alembic migration (no revision = ...), not read"
        ));
    }
    if migrations.is_empty() && errors.is_empty() {
        return Err(exit::invalid(format!(
            "no Alembic migration in {} (no .py file assigns revision = \"...\"); pass the versions/ directory",
            versions
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let messages = migrations
        .iter()
        .map(|m| (m.revision.clone(), message(&m.text)))
        .collect();
    Ok(Versions {
        graph,
        migrations,
        messages,
        errors,
    })
}

/// Alembic's `Script.doc`: the module docstring, stripped, up to its first blank line.
fn message(source: &str) -> String {
    let Ok(statements) = python::parse(source) else {
        return String::new();
    };
    let doc = match statements.first().map(|s| &s.statement) {
        Some(Statement::Expression(expr)) => expr.text().unwrap_or_default(),
        _ => "",
    };
    let doc = doc.trim();
    doc.split("\n\n").next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn the_message_is_the_docstrings_first_paragraph_as_alembic_shows_it() {
        assert_eq!(
            message("\"\"\"add orders\n\nRevision ID: c3\n\"\"\"\nrevision = 'c3'\n"),
            "add orders"
        );
        assert_eq!(
            message("\"\"\"\n  two lines\nof text  \n\nmore\"\"\"\n"),
            "two lines\nof text  "
        );
        assert_eq!(
            message("revision = 'c3'\n\"\"\"not a docstring\"\"\"\n"),
            ""
        );
        assert_eq!(message("# comment\n'single'\n"), "single");
    }
}
