//! A migration's `upgrade()` turned into the SQL Alembic renders for it on PostgreSQL, one
//! line per column, constraint or statement, each line remembering the Python it came from.
//! The SQL is then replayed by [`crate::lint::sqlfile`] like any other file, so unnamed
//! constraints get the names PostgreSQL will give them there, and violations point back at
//! the Python through [`PythonOrigin`].
//!
//! Names follow SQLAlchemy's rules for the migration context's `MetaData` (the convention
//! passed in, [`NamingConvention::name_for`]): `op.f("...")` is used as is (after SQLAlchemy's
//! truncation of a converted name), a string as is unless the kind's template uses
//! `%(constraint_name)s`, an unnamed object gets the convention's name, or PostgreSQL's when the
//! kind has no template. A MetaData without a convention has SQLAlchemy's built-in
//! `ix_%(column_0_label)s` only. `op.drop_constraint(name, type_=...)` converts its name like a
//! new constraint of that type, as Alembic does. Checked against Alembic's offline SQL by
//! `scripts/gen_alembic_fixture.py`.
//!
//! Anything whose effect cannot be known without running Python — a computed name, a loop, a
//! condition, a helper function, `*args` — is skipped with a [`Skipped`] warning.
//!
//! `operation` renders one call (one function per operation, `create_table` with its own
//! steps), reading its arguments with `arguments` and `columns`, naming what it creates with
//! `names`, writing SQL with `sql`; this file walks `upgrade()` and writes the lines.

use std::fmt;

use super::migration::{Migration, assigned_name};
use crate::lint::naming::NamingConvention;
use crate::lint::sqlfile::SourceFile;
use crate::python::{Expr, ExprKind, Located, Position, Statement};

mod arguments;
mod columns;
mod create_table;
mod names;
mod operation;
mod sql;

use arguments::{Refusal, optional_text};
use operation::{Batch, Operation};
use sql::Rendered;

/// The Python a line of the generated SQL comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PythonOrigin {
    pub(crate) at: Position,
    /// The line is `op.execute`'s own SQL: its columns count from `at`.
    pub(crate) verbatim: bool,
}

/// A statement of `upgrade()` that was not replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) file: String,
    pub(crate) at: Position,
    pub(crate) message: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: skipped, {}",
            self.file, self.at.line, self.message
        )
    }
}

/// The generated SQL (named after the `.py` file), where each of its lines comes from, and
/// what was skipped.
#[derive(Debug, Clone)]
pub(crate) struct Translated {
    pub(crate) sql: SourceFile,
    /// `origins[n]` is the origin of line `n + 1`.
    pub(crate) origins: Vec<PythonOrigin>,
    pub(crate) skipped: Vec<Skipped>,
}

pub(crate) fn translate(migration: &Migration, convention: &NamingConvention) -> Translated {
    let mut writer = Writer {
        convention,
        source: &migration.text,
        file: &migration.file,
        sql: String::new(),
        origins: Vec::new(),
        skipped: Vec::new(),
    };
    writer.block(&migration.upgrade, None);
    Translated {
        sql: SourceFile {
            name: migration.file.clone(),
            text: writer.sql,
        },
        origins: writer.origins,
        skipped: writer.skipped,
    }
}

/// `pass`, a docstring, `...`.
fn does_nothing(statement: &Statement) -> bool {
    match statement {
        Statement::Pass => true,
        Statement::Expression(expr) => matches!(expr.kind, ExprKind::Str(_) | ExprKind::Ellipsis),
        _ => false,
    }
}

/// `with op.batch_alter_table(...) as alias:`: the call and the alias.
fn batch_block(statement: &Statement) -> Option<(&Expr, &str)> {
    let Statement::With(items) = statement else {
        return None;
    };
    let [item] = items.as_slice() else {
        return None;
    };
    let [alias] = item.alias.as_ref()?.dotted()? else {
        return None;
    };
    let call = item.context.call()?;
    (call.dotted() == ["op", "batch_alter_table"]).then_some((&item.context, alias.as_str()))
}

/// Why a statement is not followed.
fn describe(statement: &Statement) -> String {
    let followed = "cannot be followed statically";
    let block = "block (its body is not followed: only running Python could tell what it does)";
    match statement {
        Statement::Assign { targets, .. } => {
            format!("an assignment to {} {followed}", target(&targets[0]))
        }
        Statement::AnnotatedAssign { target: assigned, .. }
        | Statement::AugmentedAssign { target: assigned, .. } => {
            format!("an assignment to {} {followed}", target(assigned))
        }
        Statement::Function { name, .. } => format!("a nested function {name}() is not followed"),
        Statement::With(_) => {
            "a `with` block other than `with op.batch_alter_table(...) as batch_op:` is not followed".to_string()
        }
        Statement::Class { .. } => format!("a `class` {block}"),
        Statement::Conditional(word) => format!("a `{word}` {block}"),
        Statement::Import(_) | Statement::StarImport(_) => format!("an import {followed}"),
        Statement::Delete(_) => format!("a `del` statement {followed}"),
        Statement::Decorator(_) => format!("a decorator {followed}"),
        Statement::Other(word) => format!("a `{word}` statement {followed}"),
        Statement::Return(_) => format!("a `return` statement {followed}"),
        Statement::Pass | Statement::Expression(_) => String::new(),
    }
}

/// An assignment's target for a message: its name, else what it is.
fn target(expr: &Expr) -> String {
    match expr.dotted() {
        Some(parts) => parts.join("."),
        None => expr.describe(),
    }
}

fn is_op_call(expr: &Expr, receiver: &str) -> bool {
    expr.call()
        .is_some_and(|c| matches!(c.dotted(), [object, _] if object == receiver))
}

struct Writer<'a> {
    /// The naming convention of the migration context's MetaData.
    convention: &'a NamingConvention,
    /// The migration's source, for positions inside string literals.
    source: &'a str,
    file: &'a str,
    sql: String,
    origins: Vec<PythonOrigin>,
    skipped: Vec<Skipped>,
}

impl Writer<'_> {
    fn line(&mut self, text: &str, at: Position) {
        self.sql.push_str(text);
        self.sql.push('\n');
        self.origins.push(PythonOrigin {
            at,
            verbatim: false,
        });
    }

    fn skip(&mut self, at: Position, message: String) {
        self.skipped.push(Skipped {
            file: self.file.to_string(),
            at,
            message,
        });
    }

    /// The statements of `upgrade()`, or of a batch block: operation calls are replayed (in
    /// `upgrade()` also `name = op.*(...)` and batch blocks), anything else is skipped.
    fn block(&mut self, statements: &[Located], batch: Option<&Batch>) {
        for located in statements {
            let statement = &located.statement;
            if does_nothing(statement) {
                continue;
            }
            if let Statement::Expression(expr) = statement {
                self.statement(expr, batch);
                continue;
            }
            if batch.is_none() {
                if let Some((_, value)) = assigned_name(statement)
                    && is_op_call(value, "op")
                {
                    self.statement(value, None);
                    continue;
                }
                if let Some((context, alias)) = batch_block(statement) {
                    self.batch(context, alias, &located.body);
                    continue;
                }
            }
            self.skip(located.at, describe(statement));
        }
    }

    fn statement(&mut self, expr: &Expr, batch: Option<&Batch>) {
        let receiver = batch.map_or("op", |b| b.alias);
        let Some(call) = expr.call().filter(|_| is_op_call(expr, receiver)) else {
            let message = match expr.call() {
                Some(call) if !call.dotted().is_empty() => format!(
                    "a call of {}() cannot be followed statically (only {receiver}.* operations are replayed)",
                    call.dotted().join(".")
                ),
                _ => format!("{} cannot be followed statically", expr.describe()),
            };
            self.skip(expr.at, message);
            return;
        };
        let rendered = if call.unpacked() {
            Err(Refusal(
                expr.at,
                "*args or **kwargs: the arguments are not known".to_string(),
            ))
        } else {
            operation::render(&Operation {
                convention: self.convention,
                call,
                at: expr.at,
                batch,
            })
        };
        match rendered {
            Ok(rendered) => {
                for piece in rendered {
                    match piece {
                        Rendered::Line(text, at) => self.line(&text, at),
                        Rendered::Verbatim(sql, literal) => {
                            self.verbatim(&sql, content_start(self.source, literal));
                        }
                    }
                }
            }
            Err(Refusal(at, message)) => {
                let message = format!("{}.{}(): {message}", receiver, call.name());
                self.skip(at, message);
            }
        }
    }

    fn verbatim(&mut self, sql: &str, at: Position) {
        let sql = sql.trim_end();
        for (n, text) in sql.split('\n').enumerate() {
            self.sql.push_str(text);
            self.sql.push('\n');
            self.origins.push(PythonOrigin {
                at: Position {
                    line: at.line + n,
                    column: if n == 0 { at.column } else { 1 },
                },
                verbatim: true,
            });
        }
        if !sql.ends_with(';') {
            self.line(";", at);
        }
    }

    fn batch(&mut self, context: &Expr, alias: &str, body: &[Located]) {
        let call = context.call().expect("checked by the caller");
        let table = match call.argument(0, "table_name").and_then(Expr::text) {
            Some(table) => table.to_string(),
            None => {
                self.skip(
                    context.at,
                    "op.batch_alter_table() with a table name that is not a string literal: its block is not followed".to_string(),
                );
                return;
            }
        };
        let schema = match optional_text(call.keyword("schema")) {
            Ok(schema) => schema,
            Err(Refusal(at, message)) => {
                self.skip(at, format!("op.batch_alter_table(): {message}"));
                return;
            }
        };
        let batch = Batch {
            alias,
            table,
            schema,
        };
        self.block(body, Some(&batch));
    }
}

/// Where a string literal's text starts: after its prefix (`r`, `u`, ...) and its quotes.
fn content_start(source: &str, literal: Position) -> Position {
    let Some(line) = source.lines().nth(literal.line.saturating_sub(1)) else {
        return literal;
    };
    let rest: String = line
        .chars()
        .skip(literal.column.saturating_sub(1))
        .collect();
    let prefix = rest.chars().take_while(char::is_ascii_alphabetic).count();
    let quotes = &rest[prefix..];
    let skip = if quotes.starts_with("\"\"\"") || quotes.starts_with("'''") {
        3
    } else if quotes.starts_with(['"', '\'']) {
        1
    } else {
        0
    };
    Position {
        line: literal.line,
        column: literal.column + prefix + skip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::alembic::migration::{self, Read};

    fn translated(upgrade: &str) -> Translated {
        let text = format!("revision = 'a'\ndown_revision = None\n\ndef upgrade():\n{upgrade}");
        let Read::Migration(m) = migration::read(&SourceFile {
            name: "v/a.py".to_string(),
            text,
        }) else {
            panic!()
        };
        translate(&m, &NamingConvention::sqlalchemy_builtin())
    }

    #[test]
    fn create_table_renders_like_sqlalchemy() {
        let t = translated(
            "    op.create_table('t',\n        sa.Column('id', sa.BigInteger(), primary_key=True),\n        sa.Column('a', sa.Integer(), sa.ForeignKey('u.id'), unique=True),\n        sa.Column('b', sa.Integer(), unique=True, index=True),\n        sa.CheckConstraint('a > 0', name=op.f('ck_t_a')),\n        schema='s')\n",
        );
        assert!(t.skipped.is_empty(), "{:?}", t.skipped);
        assert_eq!(
            t.sql.text,
            "CREATE TABLE s.t (\n    id bigserial,\n    a integer,\n    b integer,\n    PRIMARY KEY (id),\n    CONSTRAINT ck_t_a CHECK (a > 0),\n    UNIQUE (a),\n    FOREIGN KEY(a) REFERENCES u (id)\n);\nCREATE UNIQUE INDEX ix_s_t_b ON s.t (b);\n"
        );
        // each line points at the Python it came from
        assert_eq!(t.origins[1].at, Position { line: 6, column: 9 });
        assert_eq!(t.origins[5].at, Position { line: 9, column: 9 });
        assert_eq!(t.origins[7].at.line, 7);
    }

    #[test]
    fn what_cannot_be_followed_is_skipped_with_its_line() {
        let t = translated(
            "    for name in NAMES:\n        op.create_index(name, 't', ['a'])\n    op.create_index('ix_' + x, 't', ['a'])\n    helper()\n    op.execute(\"CREATE INDEX ix_x ON t (a)\")\n",
        );
        let messages: Vec<String> = t.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(
            messages[0].starts_with("v/a.py:5: skipped, a `for` block"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains(
                "v/a.py:7: skipped, op.create_index(): the name is an expression, computed"
            ),
            "{messages:?}"
        );
        assert!(messages[2].contains("helper()"), "{messages:?}");
        assert_eq!(t.sql.text, "CREATE INDEX ix_x ON t (a)\n;\n");
        assert_eq!(
            t.origins[0],
            PythonOrigin {
                at: Position {
                    line: 9,
                    column: 17
                },
                verbatim: true
            }
        );
    }

    #[test]
    fn dict_arguments_semicolons_and_inline_blocks_are_read() {
        let t = translated(
            "    op.create_table('j', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('d', sa.JSON(), server_default={}))\n    op.bulk_insert(t, [{'id': 1}]); op.create_index('ix_j_d', 'j', ['d'], postgresql_with={'fastupdate': False})\n    with op.batch_alter_table('j') as batch_op: batch_op.drop_column('d')\n",
        );
        assert!(t.skipped.is_empty(), "{:?}", t.skipped);
        assert_eq!(
            t.sql.text,
            "CREATE TABLE j (\n    id serial,\n    d integer,\n    PRIMARY KEY (id)\n);\nCREATE INDEX ix_j_d ON j (d);\nALTER TABLE j DROP COLUMN d;\n"
        );
        assert_eq!(
            t.origins[5].at,
            Position {
                line: 6,
                column: 37
            }
        );
    }

    #[test]
    fn batch_operations_take_the_block_table() {
        let t = translated(
            "    with op.batch_alter_table('t', schema=None) as batch_op:\n        batch_op.create_index(batch_op.f('ix_t_a'), ['a'], unique=False)\n        batch_op.create_unique_constraint(None, ['b'])\n        batch_op.drop_constraint('t_c_key', type_='unique')\n        batch_op.alter_column('c', new_column_name='d')\n",
        );
        assert!(t.skipped.is_empty(), "{:?}", t.skipped);
        assert_eq!(
            t.sql.text,
            "CREATE INDEX ix_t_a ON t (a);\nALTER TABLE t ADD UNIQUE (b);\nALTER TABLE t DROP CONSTRAINT t_c_key;\nALTER TABLE t RENAME COLUMN c TO d;\n"
        );
    }
}
