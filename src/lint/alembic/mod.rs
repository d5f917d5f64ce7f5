//! Alembic migration files (`versions/*.py`) as input for `lint-constraints`, read as Python
//! source and never executed.
//!
//! * [`migration`] reads a file's `revision`, `down_revision` and the statements of its
//!   `upgrade()`, with the lexer of [`crate::lint::convention_source`] and a small expression
//!   reader ([`python`]: names, strings, lists, tuples, calls).
//! * [`graph`] orders the revisions by `down_revision` (merges included) and reports several
//!   heads, unknown down revisions, duplicate ids and cycles.
//! * [`translate`] turns each `upgrade()` into the SQL Alembic renders for PostgreSQL, which
//!   [`crate::lint::sqlfile`] then replays like any SQL file; [`relocate`] points what the
//!   replay found back at the Python (file, line, column).
//!
//! Not modelled: `downgrade()`, `depends_on`, branch labels, which convention `env.py`'s
//! `target_metadata` has (the caller says: none, or the one being checked), Alembic's order
//! between parallel branches (see [`graph`]), and anything only running Python could tell
//! (skipped with a warning).

pub(crate) mod graph;
pub(crate) mod migration;
mod python;
pub(crate) mod translate;

use std::collections::HashMap;

use crate::lint::model::Schema;
use crate::lint::naming::NamingConvention;
use crate::lint::sqlfile::{FileError, SourceFile};

pub use graph::Graph;
pub use translate::{Skipped, Translated};

/// The migrations among the `.py` inputs, ready to replay.
#[derive(Debug, Clone)]
pub struct Migrations {
    pub graph: Graph,
    /// In replay order.
    pub translated: Vec<Translated>,
    /// Graph errors and files that could not be read.
    pub errors: Vec<FileError>,
    pub skipped: Vec<Skipped>,
    /// `.py` files with no `revision = ...` (`env.py`, `__init__.py`), not read further.
    pub not_migrations: Vec<String>,
}

/// Reads `.py` inputs as Alembic migrations; `convention` is the naming convention of the
/// migration context's MetaData (`env.py`'s `target_metadata`), which names what the
/// migrations leave unnamed.
pub fn read(files: &[SourceFile], convention: &NamingConvention) -> Migrations {
    let mut migrations = Vec::new();
    let mut errors = Vec::new();
    let mut not_migrations = Vec::new();
    for file in files {
        match migration::read(file) {
            migration::Read::Migration(m) => migrations.push(m),
            migration::Read::NotAMigration => not_migrations.push(file.name.clone()),
            migration::Read::Error(e) => errors.push(e),
        }
    }
    let (graph, order, graph_errors) = graph::build(&migrations);
    errors.extend(graph_errors);
    let translated: Vec<Translated> = order
        .iter()
        .map(|&i| translate::translate(&migrations[i], convention))
        .collect();
    let skipped = translated
        .iter()
        .flat_map(|t| t.skipped.iter().cloned())
        .collect();
    Migrations {
        graph,
        translated,
        errors,
        skipped,
        not_migrations,
    }
}

/// Points locations in the generated SQL back at the Python it was generated from.
pub fn relocate(schema: &mut Schema, errors: &mut [FileError], translated: &[Translated]) {
    let origins: HashMap<&str, &[translate::Origin]> = translated
        .iter()
        .map(|t| (t.sql.name.as_str(), t.origins.as_slice()))
        .collect();
    let map = |file: &str, line: usize, column: usize| -> Option<(usize, usize, bool)> {
        let origin = origins.get(file)?.get(line.checked_sub(1)?)?;
        Some(if origin.verbatim {
            (
                origin.at.line,
                origin.at.column + column.saturating_sub(1),
                false,
            )
        } else {
            (origin.at.line, origin.at.column, true)
        })
    };
    for table in &mut schema.tables {
        for object in &mut table.objects {
            if let Some(location) = object.location.as_mut()
                && let Some((line, column, operation)) =
                    map(&location.file, location.line, location.column)
            {
                location.line = line;
                location.column = column;
                location.alembic_operation = operation;
            }
        }
    }
    for error in errors {
        if let Some((line, column, _)) = map(&error.file, error.line, error.column) {
            error.line = line;
            error.column = column;
        }
    }
}
