//! One migration file read without running it: its `revision`, its `down_revision` (none, one,
//! or a tuple for a merge) and the statements of its `upgrade()` with their indentation.

use super::python::{self, ExprKind, Statement};
use crate::lint::convention_source::Position;
use crate::lint::convention_source::lexer::logical_lines;
use crate::lint::sqlfile::{FileError, SourceFile};

#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub file: String,
    pub revision: String,
    /// Where `revision = ...` is written.
    pub at: Position,
    /// Empty for a base revision; two or more for a merge.
    pub down_revisions: Vec<String>,
    /// The body of `upgrade()`, one logical line each: indentation, statement, position.
    pub upgrade: Vec<BodyLine>,
    /// The source, for positions inside string literals.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BodyLine {
    pub indent: usize,
    pub statement: Statement,
    pub at: Position,
}

/// What a `.py` input turned out to be.
#[derive(Debug)]
pub enum Read {
    Migration(Migration),
    /// No top-level `revision = ...`: `env.py`, `__init__.py`, a helper module.
    NotAMigration,
    Error(FileError),
}

pub fn read(file: &SourceFile) -> Read {
    let error = |at: Position, message: String| {
        Read::Error(FileError {
            file: file.name.clone(),
            line: at.line,
            column: at.column,
            message,
        })
    };
    let lines = match logical_lines(&file.text) {
        Ok(lines) => lines,
        Err(e) => return error(e.at, format!("not valid Python: {}", e.message)),
    };
    let mut revision = None;
    let mut down = None;
    let mut upgrade = Vec::new();
    let mut in_upgrade = false;
    for line in &lines {
        let at = line.tokens[0].at;
        if line.indent > 0 {
            if in_upgrade {
                upgrade.push(BodyLine {
                    indent: line.indent,
                    statement: python::statement(line),
                    at,
                });
            }
            continue;
        }
        let statement = python::statement(line);
        in_upgrade = statement == Statement::Def("upgrade".to_string());
        if let Statement::Assign { target, value } = statement {
            match target.as_str() {
                "revision" => match value.text() {
                    Some(text) => revision = Some((text.to_string(), at)),
                    None => {
                        return error(
                            value.at,
                            format!(
                                "revision is {}, not a string literal; write the revision id as a string",
                                value.describe()
                            ),
                        );
                    }
                },
                "down_revision" => match down_revisions(&value) {
                    Some(list) => down = Some(list),
                    None => {
                        return error(
                            value.at,
                            format!(
                                "down_revision is {}; write None, a string, or a tuple of strings",
                                value.describe()
                            ),
                        );
                    }
                },
                _ => {}
            }
        }
    }
    let Some((revision, at)) = revision else {
        return Read::NotAMigration;
    };
    let Some(down_revisions) = down else {
        return error(
            at,
            "a revision without down_revision; write down_revision = None for a base revision"
                .to_string(),
        );
    };
    Read::Migration(Migration {
        file: file.name.clone(),
        revision,
        at,
        down_revisions,
        upgrade,
        text: file.text.clone(),
    })
}

fn down_revisions(value: &python::Expr) -> Option<Vec<String>> {
    match &value.kind {
        _ if value.is_name("None") => Some(Vec::new()),
        ExprKind::Str(text) => Some(vec![text.clone()]),
        ExprKind::List(items) => items
            .iter()
            .map(|item| item.text().map(str::to_string))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> SourceFile {
        SourceFile {
            name: "v/1.py".to_string(),
            text: text.to_string(),
        }
    }

    #[test]
    fn reads_revisions_and_the_upgrade_body() {
        let Read::Migration(m) = read(&source(
            "\"\"\"doc\"\"\"\nfrom alembic import op\nrevision: str = \"b2\"\ndown_revision: Union[str, None] = ('a1', 'a2')\n\ndef upgrade() -> None:\n    op.drop_table('t')\n\n\ndef downgrade():\n    op.create_table('t')\n",
        )) else {
            panic!()
        };
        assert_eq!(m.revision, "b2");
        assert_eq!(m.down_revisions, ["a1", "a2"]);
        assert_eq!(m.upgrade.len(), 1);
        assert_eq!(m.upgrade[0].at.line, 7);
        assert!(matches!(read(&source("x = 1\n")), Read::NotAMigration));
        let Read::Error(e) = read(&source("revision = make_id()\ndown_revision = None\n")) else {
            panic!()
        };
        assert!(e.message.contains("not a string literal"), "{e}");
        assert!(matches!(
            read(&source("revision = 'a'\ndown_revision = None\n")),
            Read::Migration(m) if m.down_revisions.is_empty()
        ));
    }
}
