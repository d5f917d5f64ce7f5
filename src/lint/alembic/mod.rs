//! Alembic migration files (`versions/*.py`) as input for `lint-constraints`, read as Python
//! source and never executed.
//!
//! * [`migration`] reads a file's `revision`, `down_revision` and the statements of its
//!   `upgrade()`, with the Python front end of [`crate::python`].
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
pub(crate) mod references;
pub(crate) mod translate;

use std::collections::HashMap;

use crate::lint::model::Schema;
use crate::lint::naming::NamingConvention;
use crate::lint::sqlfile::{FileError, SourceFile};

pub(crate) use graph::Graph;
pub(crate) use references::Reference;
pub(crate) use translate::{Skipped, Translated};

/// The migrations among the `.py` inputs, ready to replay.
#[derive(Debug, Clone)]
pub(crate) struct Migrations {
    pub(crate) graph: Graph,
    /// In replay order.
    pub(crate) translated: Vec<Translated>,
    /// Graph errors and files that could not be read.
    pub(crate) errors: Vec<FileError>,
    pub(crate) skipped: Vec<Skipped>,
    /// `.py` files with no `revision = ...` (`env.py`, `__init__.py`), not read further.
    pub(crate) not_migrations: Vec<String>,
}

/// Reads `.py` inputs as Alembic migrations; `convention` is the naming convention of the
/// migration context's MetaData (`env.py`'s `target_metadata`), which names what the
/// migrations leave unnamed.
pub(crate) fn read(files: &[SourceFile], convention: &NamingConvention) -> Migrations {
    let Revisions {
        migrations,
        graph,
        order,
        errors,
        not_migrations,
    } = read_revisions(files);
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

/// The migrations among the `.py` inputs and their revision graph, not yet translated.
pub(crate) struct Revisions {
    pub(crate) migrations: Vec<migration::Migration>,
    pub(crate) graph: Graph,
    /// Indexes into `migrations`, in replay order.
    pub(crate) order: Vec<usize>,
    /// Files that could not be read, and graph errors.
    pub(crate) errors: Vec<FileError>,
    /// `.py` files with no `revision = ...`.
    pub(crate) not_migrations: Vec<String>,
}

/// Reads each file's revision and `upgrade()` and orders the revisions by `down_revision`.
pub(crate) fn read_revisions(files: &[SourceFile]) -> Revisions {
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
    Revisions {
        migrations,
        graph,
        order,
        errors,
        not_migrations,
    }
}

/// Points locations in the generated SQL back at the Python it was generated from.
pub(crate) fn relocate(schema: &mut Schema, errors: &mut [FileError], translated: &[Translated]) {
    let origins: HashMap<&str, &[translate::PythonOrigin]> = translated
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

#[cfg(test)]
mod tests {
    use super::*;

    const PIECES: [&str; 32] = [
        "op.create_table(",
        "op.create_index(",
        "op.add_column(",
        "op.drop_constraint(",
        "op.execute(",
        "op.f(",
        "sa.Column(",
        "sa.ForeignKey(",
        "sa.UniqueConstraint(",
        "sa.text(",
        "'t'",
        "'a.b'",
        "\"x\"",
        "None",
        "True",
        "[",
        "]",
        "(",
        ")",
        ",",
        "=",
        "name",
        "schema",
        "unique",
        "type_",
        "'check'",
        "\n    ",
        "\n        ",
        "with ",
        " as b:",
        "b.create_index(",
        "1 + ",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 500,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x19a1_e3b1_c000_0019),
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Whatever Python-like text an upgrade() holds, reading, translating and replaying it
        /// never panics, and every generated SQL line has an origin inside the file.
        #[test]
        fn any_upgrade_body_is_read_without_panicking(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES.to_vec()), 0..40),
            with_convention in proptest::bool::ANY,
        ) {
            let text = format!(
                "revision = 'a'\ndown_revision = None\n\ndef upgrade():\n    {}\n",
                pieces.concat()
            );
            let lines = text.lines().count();
            let file = SourceFile { name: "v/a.py".to_string(), text };
            let convention = if with_convention {
                NamingConvention::app_default()
            } else {
                NamingConvention::sqlalchemy_builtin()
            };
            let migrations = read(std::slice::from_ref(&file), &convention);
            for translated in &migrations.translated {
                proptest::prop_assert_eq!(
                    translated.origins.len(),
                    translated.sql.text.lines().count()
                );
                for origin in &translated.origins {
                    proptest::prop_assert!(origin.at.line >= 1 && origin.at.line <= lines + 1);
                }
            }
            let sql: Vec<SourceFile> = migrations.translated.iter().map(|t| t.sql.clone()).collect();
            let mut replay = crate::lint::sqlfile::replay(&sql, None);
            relocate(&mut replay.schema, &mut replay.errors, &migrations.translated);
            for error in &replay.errors {
                proptest::prop_assert!(error.line >= 1 && error.line <= lines + 1, "{}", error);
            }
        }
    }
}
