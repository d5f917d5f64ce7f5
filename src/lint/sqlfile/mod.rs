//! SQL files as input for `lint-constraints`: migrations, `alembic upgrade head --sql` output
//! or `pg_dump --schema-only`, parsed with PostgreSQL's own grammar (libpg_query through the
//! `pg_query` crate) and replayed in order into the same [`Schema`] the catalog reader fills.
//!
//! * [`read_inputs`] reads files, directories (`*.sql` and `*.py`, recursively, in path order)
//!   and `-`; `*.py` files are Alembic migrations, which `lint::alembic` turns into SQL first.
//! * [`replay`] splits each file into statements the way psql does (skipping meta-commands
//!   such as `\restrict` and `COPY ... FROM stdin` data), parses each on its own, and replays
//!   the DDL: tables (with `PARTITION OF`, `INHERITS`, `LIKE ... INCLUDING`), constraints,
//!   indexes, renames, drops, schemas and the search path. A statement that does not parse,
//!   or that PostgreSQL would reject (an unknown table, a name already taken), is reported as
//!   a [`FileError`] and the rest is still replayed.
//!
//! The layers, each module importing only ones below it: [`replay`] (here) keeps the savepoint
//! stack (`transaction`) beside the database and hands every other statement to the one
//! dispatcher (`exec`), the only module that imports the statement handlers (`create`,
//! `alter`, `index`, `rename`, `drop`). Among them, `alter` builds on `create`, both on
//! `partition`, and all three on `index` and `constraints`; none imports `exec`. Under all of them lie the
//! vocabulary of a step (`session`: the session, a problem, an outcome), the replayed database
//! (`state`), the parse-tree readers (`defs`, `expr`) and the conversion to the model
//! (`convert`).
//!
//! Objects created without a name get the name PostgreSQL *will* give them
//! ([`crate::lint::naming::choose_postgres_name`]), computed against every relation and
//! constraint name taken in the schema at that point and in PostgreSQL's order, and are marked
//! `unnamed`. Every object records where it was defined: the `CONSTRAINT` keyword (or the
//! inline `UNIQUE`, `PRIMARY KEY`, `REFERENCES`, `CHECK` keyword), or the `CREATE INDEX`
//! statement; objects PostgreSQL derives itself (partition clones, `LIKE` copies) point at the
//! statement that made them.
//!
//! What is modelled, beyond the statements themselves: names PostgreSQL takes that the model
//! does not show (sequences of `serial` and identity columns, views, composite types, indexes
//! of materialized views, domain constraints, the hidden foreign keys for the partitions of a
//! referenced partitioned table); the passes of `ALTER TABLE`; `ROLLBACK [TO SAVEPOINT]`; the
//! guarded renames of `--fix-sql`'s script, the only `DO` blocks replayed.
//!
//! Checked against a real PostgreSQL: the naming rule is replayed on the names a server chose,
//! statement by statement (`tests/it/naming_postgres_fixture.rs`), and the `pg_dump
//! --schema-only` of a live database, linted offline, must give the violations the live lint
//! finds (`tests/it/lint_files.rs`).
//!
//! Not modelled: an error does not abort the rest of its transaction (everything after it is
//! still replayed); a foreign key to a table the files never create is kept, pointing at that
//! name; NOT NULL constraints (named since PostgreSQL 18) are not objects of the model and take
//! no names here, which cannot change a name PostgreSQL chooses for the other kinds.

mod alter;
mod constraints;
mod convert;
mod create;
mod defs;
mod drop;
mod exec;
mod expr;
mod index;
mod input;
mod parse;
mod partition;
mod position;
mod rename;
mod session;
mod split;
mod state;
#[cfg(test)]
mod tests;
mod transaction;

use std::fmt;
use std::ops::Range;

use pg_query::NodeEnum;

use crate::lint::model::Schema;

pub(crate) use input::read_inputs;
pub(crate) use parse::parse as parse_statements;

/// One SQL input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as given (or [`STDIN_NAME`]), used in locations and errors.
    pub name: String,
    pub text: String,
}

/// A statement that could not be parsed or replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub(crate) file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// The schema the files leave behind, and what could not be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub schema: Schema,
    pub errors: Vec<FileError>,
    /// Statements PostgreSQL would skip with only a NOTICE where that hides something: an
    /// `IF NOT EXISTS` whose name belongs to another object.
    pub notices: Vec<FileError>,
}

/// A live database to replay over: its tables, and what the table model leaves out.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveBase {
    pub(crate) schema: Schema,
    /// (schema, name) of every other relation: sequences, views, materialized views, foreign
    /// tables, composite types, indexes of those, tables an extension owns. They take names.
    pub(crate) other_relations: Vec<(String, String)>,
    /// The session's `current_schemas(false)`: where unqualified names are created and found.
    pub(crate) search_path: Vec<String>,
    /// Every user schema, those without tables included.
    pub(crate) schemas: Vec<String>,
}

/// Replays `files` over a live database, as `alembic upgrade` would run them on it.
pub(crate) fn replay_over(files: &[SourceFile], base: LiveBase) -> Replay {
    let mut db = state::Db::new();
    db.complete = true;
    db.load(base.schema);
    for schema in &base.schemas {
        db.namespace(schema);
    }
    for (schema, name) in &base.other_relations {
        let namespace = db.namespace(schema);
        if !namespace.relations.contains_key(name) {
            namespace.add_relation(name, state::Rel::Other);
        }
    }
    if !base.search_path.is_empty() {
        db.search_path = base.search_path;
    }
    replay_files(db, files)
}

/// Replays `files` in order on top of `base` (a live schema) or an empty database.
///
/// The search path starts as PostgreSQL's default (`"$user", public`) at the start of the
/// first file and carries over from file to file, as in one psql session. The resulting
/// `default_schema` is the base's, or `public`.
pub fn replay(files: &[SourceFile], base: Option<Schema>) -> Replay {
    let mut db = state::Db::new();
    if let Some(base) = base {
        db.load(base);
    }
    replay_files(db, files)
}

fn replay_files(mut db: state::Db, files: &[SourceFile]) -> Replay {
    let mut errors = Vec::new();
    let mut notices = Vec::new();
    for file in files {
        replay_file(&mut db, file, &mut errors, &mut notices);
    }
    Replay {
        schema: db.to_schema(),
        errors,
        notices,
    }
}

fn replay_file(
    db: &mut state::Db,
    file: &SourceFile,
    errors: &mut Vec<FileError>,
    notices: &mut Vec<FileError>,
) {
    let lines = position::LineIndex::new(&file.text);
    let error = |offset: usize, message: String| {
        let (line, column) = lines.position(offset);
        FileError {
            file: file.name.clone(),
            line,
            column,
            message,
        }
    };
    // the open transaction and its savepoints; the end of a file commits what it left open
    let mut savepoints = transaction::Savepoints::default();
    for chunk in split::split(&file.text) {
        let sql = &file.text[chunk.start..chunk.end];
        let stmts = match parse::parse(sql) {
            Ok(stmts) => stmts,
            Err(failure) => {
                errors.push(error(
                    chunk.start + failure.offset.unwrap_or(0),
                    failure.message,
                ));
                continue;
            }
        };
        for raw in stmts {
            let start = statement_start(sql, raw.stmt_location);
            let Some(node) = raw.stmt.and_then(|n| n.node) else {
                continue;
            };
            if let NodeEnum::TransactionStmt(stmt) = &node {
                savepoints.transaction(db, stmt);
                continue;
            }
            let mut session =
                session::ReplaySession::new(db, &file.name, &lines, chunk.start, start, notices);
            if let Err(problem) = exec::execute(&mut session, &node) {
                let offset = usize::try_from(problem.offset).unwrap_or(start);
                errors.push(error(chunk.start + offset, problem.message));
            }
        }
    }
}

/// The statements of `text` as psql would send them, as byte ranges, each starting at its first
/// token: the pieces [`replay`] parses one by one.
pub fn split_statements(text: &str) -> Vec<Range<usize>> {
    split::split(text)
        .into_iter()
        .map(|chunk| chunk.start..chunk.end)
        .collect()
}

/// The first byte of a statement's text after blanks.
fn statement_start(sql: &str, location: i32) -> usize {
    let start = usize::try_from(location).unwrap_or(0).min(sql.len());
    let rest = sql.get(start..).unwrap_or("");
    start + (rest.len() - rest.trim_start().len())
}
