//! The vocabulary of one replayed statement, shared by the dispatcher (`exec`) and
//! the statement handlers: the [`ReplaySession`] (the database and where the statement is), the
//! [`Problem`] a statement can fail with, the [`Handled`] of a step, and the problems and
//! lookups every handler needs (a missing relation, a name already taken, the schema of a new
//! relation). It imports no handler.

use pg_query::protobuf::RangeVar;

use super::FileError;
use super::position::LineIndex;
use super::state::Db;
use crate::lint::model::Location;

/// Why a statement could not be replayed (PostgreSQL would reject it too), and where: a byte
/// offset into the parsed text, or -1 for the statement itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) message: String,
    pub(crate) offset: i32,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>, offset: i32) -> Self {
        Problem {
            message: message.into(),
            offset,
        }
    }
}

pub(crate) type Handled = Result<(), Problem>;

/// The database and where in which file the current statement is.
pub(crate) struct ReplaySession<'a> {
    pub(crate) db: &'a mut Db,
    file: &'a str,
    lines: &'a LineIndex<'a>,
    /// Byte offset of the parsed text in the file.
    base: usize,
    /// Byte offset of the statement in the parsed text.
    stmt: usize,
    /// What PostgreSQL would only say as a NOTICE, of the statements replayed so far.
    notices: &'a mut Vec<FileError>,
}

impl<'a> ReplaySession<'a> {
    pub(crate) fn new(
        db: &'a mut Db,
        file: &'a str,
        lines: &'a LineIndex<'a>,
        base: usize,
        stmt: usize,
        notices: &'a mut Vec<FileError>,
    ) -> Self {
        ReplaySession {
            db,
            file,
            lines,
            base,
            stmt,
            notices,
        }
    }

    /// Records a NOTICE at the statement: something it skips without an error.
    pub(crate) fn notice(&mut self, message: String) {
        let at = self.at(-1);
        self.notices.push(FileError {
            file: at.file,
            line: at.line,
            column: at.column,
            message,
        });
    }

    /// The file position of a node location (relative to the parsed text; -1: the statement).
    pub(crate) fn at(&self, offset: i32) -> Location {
        let offset = usize::try_from(offset).unwrap_or(self.stmt);
        let (line, column) = self.lines.position(self.base + offset);
        Location {
            file: self.file.to_owned(),
            line,
            column,
            alembic_operation: false,
        }
    }
}

/// A relation that does not exist.
pub(crate) fn missing(rv: &RangeVar) -> Problem {
    let name = if rv.schemaname.is_empty() {
        rv.relname.clone()
    } else {
        format!("{}.{}", rv.schemaname, rv.relname)
    };
    Problem::new(format!("relation \"{name}\" does not exist"), rv.location)
}

pub(crate) fn already_exists(name: &str, offset: i32) -> Problem {
    Problem::new(format!("relation \"{name}\" already exists"), offset)
}

/// The schema a new relation goes to (`pg_temp` for temporary ones).
pub(crate) fn relation_schema(db: &Db, rv: &RangeVar) -> Result<String, Problem> {
    if rv.relpersistence == "t" {
        return Ok("pg_temp".to_owned());
    }
    db.creation_schema(&rv.schemaname)
        .map_err(|m| Problem::new(m, rv.location))
}
