//! One migration file read without running it: its `revision`, its `down_revision` (none, one,
//! or a tuple for a merge) and the statements of its `upgrade()`.

use crate::lint::sqlfile::{FileError, SourceFile};
use crate::python::{self, Expr, Located, Position, Statement};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Migration {
    pub(crate) file: String,
    pub(crate) revision: String,
    /// Where `revision = ...` is written.
    pub(crate) at: Position,
    /// Empty for a base revision; two or more for a merge.
    pub(crate) down_revisions: Vec<String>,
    /// The statements of `upgrade()`.
    pub(crate) upgrade: Vec<Located>,
    /// The source, for positions inside string literals.
    pub(crate) text: String,
}

/// What a `.py` input turned out to be.
#[derive(Debug)]
pub(crate) enum Read {
    Migration(Migration),
    /// No top-level `revision = ...`: `env.py`, `__init__.py`, a helper module.
    NotAMigration,
    Error(FileError),
}

pub(crate) fn read(file: &SourceFile) -> Read {
    let error = |at: Position, message: String| {
        Read::Error(FileError {
            file: file.name.clone(),
            line: at.line,
            column: at.column,
            message,
        })
    };
    let statements = match python::parse(&file.text) {
        Ok(statements) => statements,
        Err(e) => return error(e.at, format!("not valid Python: {}", e.message)),
    };
    let mut revision = None;
    let mut down = None;
    let mut upgrade = Vec::new();
    for located in statements {
        let at = located.at;
        match &located.statement {
            // the last definition is the one Alembic calls
            Statement::Function {
                name,
                asynchronous: false,
            } if name == "upgrade" => upgrade = located.body,
            statement => {
                let Some((target, value)) = assigned_name(statement) else {
                    continue;
                };
                match target {
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
                    "down_revision" => match down_revisions(value) {
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

/// `name = value` or `name: annotation = value`, with one plain name as the target.
pub(super) fn assigned_name(statement: &Statement) -> Option<(&str, &Expr)> {
    match statement.assignment()? {
        ([target], value) => match target.dotted()? {
            [name] => Some((name, value)),
            _ => None,
        },
        _ => None,
    }
}

fn down_revisions(value: &Expr) -> Option<Vec<String>> {
    if value.is_name("None") {
        return Some(Vec::new());
    }
    if let Some(text) = value.text() {
        return Some(vec![text.to_string()]);
    }
    value
        .elements()?
        .iter()
        .map(|item| item.text().map(str::to_string))
        .collect()
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
