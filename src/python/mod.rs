//! Python source read without running it: the one front end under every reader of the
//! application's Python (the naming convention, `lint::convention_source`; Alembic migrations,
//! `lint::alembic`).
//!
//! * [`lexer`] splits the source into logical lines of tokens, with string literals decoded.
//! * `tree` is the syntax tree: statements ([`Statement`]: imports, assignments, `class`, `def`,
//!   `with` and the other blocks, expression statements) nested into blocks, and expressions
//!   ([`Expr`]: names, literals, displays, calls with their arguments, subscripts). What it does
//!   not model is kept as "something else, here" ([`ExprKind::Other`]), so that a reader can say
//!   what it found instead of guessing.
//! * `cursor` reads expressions from a run of tokens; `statement` reads a logical line as
//!   statements and nests the lines into blocks by their indentation.
//!
//! The reading is lenient: what the lexer accepts but Python's grammar would refuse is read as
//! far as it goes (and described as [`ExprKind::Other`]), never a panic. What each construct
//! means is the readers' business.

mod cursor;
pub(crate) mod lexer;
mod statement;
mod tree;

use std::fmt;

pub(crate) use lexer::{LexError, StrLiteral};
pub(crate) use tree::{Argument, Call, DictEntry, Expr, ExprKind, Located, Statement};

/// A place in the source, both 1-based; the column counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A module's statements, each with the block it opens; an error where the lexer stops (an
/// unclosed bracket or string, a character Python refuses).
pub(crate) fn parse(source: &str) -> Result<Vec<Located>, LexError> {
    let lines = lexer::logical_lines(source)?;
    statement::nest(&lines)
}
