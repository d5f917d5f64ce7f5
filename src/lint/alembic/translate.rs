//! A migration's `upgrade()` turned into the SQL Alembic renders for it on PostgreSQL, one
//! line per column, constraint or statement, each line remembering the Python it came from.
//! The SQL is then replayed by [`crate::lint::sqlfile`] like any other file, so unnamed
//! constraints get the names PostgreSQL will give them there, and violations point back at
//! the Python through [`Origin`].
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

use std::fmt;

use super::migration::{Migration, assigned_name};
use crate::lint::naming::{
    Column, Declared, Kind, NamingConvention, ObjectRef, Table, quote_ident,
};
use crate::lint::sqlfile::SourceFile;
use crate::python::{Call, Expr, ExprKind, Located, Position, Statement};

/// The Python a line of the generated SQL comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub at: Position,
    /// The line is `op.execute`'s own SQL: its columns count from `at`.
    pub verbatim: bool,
}

/// A statement of `upgrade()` that was not replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: String,
    pub at: Position,
    pub message: String,
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
pub struct Translated {
    pub sql: SourceFile,
    /// `origins[n]` is the origin of line `n + 1`.
    pub origins: Vec<Origin>,
    pub skipped: Vec<Skipped>,
}

pub fn translate(migration: &Migration, convention: &NamingConvention) -> Translated {
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

/// The table a batch block alters.
struct Batch<'a> {
    alias: &'a str,
    table: String,
    schema: Option<String>,
}

struct Writer<'a> {
    /// The naming convention of the migration context's MetaData.
    convention: &'a NamingConvention,
    /// The migration's source, for positions inside string literals.
    source: &'a str,
    file: &'a str,
    sql: String,
    origins: Vec<Origin>,
    skipped: Vec<Skipped>,
}

/// Why an operation cannot be replayed: where, and what.
struct Refusal(Position, String);

type Step<T> = Result<T, Refusal>;

impl Writer<'_> {
    fn line(&mut self, text: &str, at: Position) {
        self.sql.push_str(text);
        self.sql.push('\n');
        self.origins.push(Origin {
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
        let mut out = Vec::new();
        let result = if call.unpacked() {
            Err(Refusal(
                expr.at,
                "*args or **kwargs: the arguments are not known".to_string(),
            ))
        } else {
            operation(self.convention, call, expr.at, batch, &mut out)
        };
        match result {
            Ok(()) => {
                for (text, at) in out {
                    if let Some(sql) = text.strip_prefix(VERBATIM) {
                        self.verbatim(sql, content_start(self.source, at));
                    } else {
                        self.line(&text, at);
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
            self.origins.push(Origin {
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

/// Marks an output line as `op.execute`'s SQL, written as is.
const VERBATIM: &str = "\u{0}";

type Out = Vec<(String, Position)>;

fn operation(
    convention: &NamingConvention,
    call: &Call,
    at: Position,
    batch: Option<&Batch>,
    out: &mut Out,
) -> Step<()> {
    let naming = |given: &Given, object: Object<'_>| name_for(convention, given, object, at);
    // in a batch block the table (and its schema) is the block's, and the table parameter is
    // not written; `shift` maps a parameter index of the op.* form to the batch form
    let (table, schema, shift) = match batch {
        Some(b) => (Some(b.table.clone()), b.schema.clone(), 1),
        None => (None, None, 0),
    };
    let arg = |index: usize, name: &str| -> Option<&Expr> {
        if index >= shift || batch.is_none() {
            call.argument(index - shift.min(index), name)
        } else {
            None
        }
    };
    let table_arg = |index: usize, name: &str| -> Step<String> {
        match &table {
            Some(t) => Ok(t.clone()),
            None => text(call.argument(index, name), at, name),
        }
    };
    let schema_of = |name: &str| -> Step<Option<String>> {
        match (&schema, call.keyword(name)) {
            (Some(s), None) => Ok(Some(s.clone())),
            (_, value) => optional_text(value),
        }
    };
    match call.name() {
        "create_table" if batch.is_none() => create_table(convention, call, at, out),
        "create_index" => {
            let name = name_arg(call.argument(0, "index_name"))?;
            let table = table_arg(1, "table_name")?;
            let columns = arg(2, "columns").ok_or_else(|| missing(at, "columns"))?;
            let schema = schema_of("schema")?;
            let unique = flag(call.keyword("unique"))?;
            let named_columns = plain_columns(columns);
            let name = naming(
                &name,
                Object::new(Kind::Ix, schema.as_deref(), &table, &named_columns).unique(unique),
            )?
            .ok_or_else(|| missing(at, "index name"))?;
            let elements = index_elements(columns)?;
            out.push((
                format!(
                    "CREATE {}INDEX {}{} ON {} ({});",
                    if unique { "UNIQUE " } else { "" },
                    if flag(call.keyword("if_not_exists"))? {
                        "IF NOT EXISTS "
                    } else {
                        ""
                    },
                    quote_ident(&name),
                    qualified(schema.as_deref(), &table),
                    elements
                ),
                at,
            ));
            Ok(())
        }
        "create_unique_constraint" | "create_primary_key" => {
            let name = name_arg(call.argument(0, "constraint_name"))?;
            let table = table_arg(1, "table_name")?;
            let columns = names(arg(2, "columns"), at, "columns")?;
            let schema = schema_of("schema")?;
            let (what, kind) = if call.name() == "create_primary_key" {
                ("PRIMARY KEY", Kind::Pk)
            } else {
                ("UNIQUE", Kind::Uq)
            };
            let name = naming(
                &name,
                Object::new(kind, schema.as_deref(), &table, &columns),
            )?;
            out.push((
                format!(
                    "ALTER TABLE {} ADD {}{what} ({});",
                    qualified(schema.as_deref(), &table),
                    constraint_prefix(name.as_deref()),
                    column_list(&columns)
                ),
                at,
            ));
            Ok(())
        }
        "create_check_constraint" => {
            let name = name_arg(call.argument(0, "constraint_name"))?;
            let table = table_arg(1, "table_name")?;
            let condition = sql_text(arg(2, "condition"), at, "condition")?;
            let schema = schema_of("schema")?;
            let name = naming(&name, Object::new(Kind::Ck, schema.as_deref(), &table, &[]))?;
            out.push((
                format!(
                    "ALTER TABLE {} ADD {}CHECK ({});",
                    qualified(schema.as_deref(), &table),
                    constraint_prefix(name.as_deref()),
                    one_line(&condition)
                ),
                at,
            ));
            Ok(())
        }
        "create_foreign_key" => {
            let name = name_arg(call.argument(0, "constraint_name"))?;
            let source = table_arg(1, "source_table")?;
            let referent = text(arg(2, "referent_table"), at, "referent_table")?;
            let local = names(arg(3, "local_cols"), at, "local_cols")?;
            let remote = names(arg(4, "remote_cols"), at, "remote_cols")?;
            let source_schema = schema_of("source_schema")?;
            let referent_schema = optional_text(call.keyword("referent_schema"))?;
            let name = naming(
                &name,
                Object::new(Kind::Fk, source_schema.as_deref(), &source, &local)
                    .referring_to(&referent, &remote),
            )?;
            out.push((
                format!(
                    "ALTER TABLE {} ADD {}FOREIGN KEY({}) REFERENCES {} ({});",
                    qualified(source_schema.as_deref(), &source),
                    constraint_prefix(name.as_deref()),
                    column_list(&local),
                    qualified(referent_schema.as_deref(), &referent),
                    column_list(&remote)
                ),
                at,
            ));
            Ok(())
        }
        "add_column" => {
            let table = table_arg(0, "table_name")?;
            let column = arg(1, "column")
                .and_then(Expr::call)
                .filter(|c| c.name() == "Column")
                .ok_or_else(|| {
                    Refusal(at, "the column is not an sa.Column(...) call".to_string())
                })?;
            let schema = schema_of("schema")?;
            let column = ColumnDef::read(column, arg(1, "column").map_or(at, |e| e.at))?;
            let target = qualified(schema.as_deref(), &table);
            out.push((
                format!(
                    "ALTER TABLE {target} ADD COLUMN {} {};",
                    quote_ident(&column.name),
                    column.sql_type(false)
                ),
                column.at,
            ));
            // Alembic adds the column's constraints (not its primary key) and indexes after it
            let this = [column.name.clone()];
            if column.unique && !column.index {
                let name = naming(
                    &Given::Unnamed,
                    Object::new(Kind::Uq, schema.as_deref(), &table, &this),
                )?;
                out.push((
                    format!(
                        "ALTER TABLE {target} ADD {}UNIQUE ({});",
                        constraint_prefix(name.as_deref()),
                        quote_ident(&column.name)
                    ),
                    column.at,
                ));
            }
            for fk in &column.foreign_keys {
                let name = naming(&fk.name, fk.object(schema.as_deref(), &table, &this))?;
                out.push((
                    format!("ALTER TABLE {target} ADD {};", fk.sql(&this, name)),
                    fk.at,
                ));
            }
            if column.index {
                out.push((
                    column.index_sql(convention, schema.as_deref(), &table)?,
                    column.at,
                ));
            }
            Ok(())
        }
        "drop_constraint" => {
            let given = name_arg(call.argument(0, "constraint_name"))?;
            let table = table_arg(1, "table_name")?;
            let schema = schema_of("schema")?;
            // Alembic builds a constraint of type_ to drop, so the convention applies to its
            // name as to a new one; without type_ it is a bare Constraint, named as written
            let kind = match call.argument(2 - shift, "type_").and_then(Expr::text) {
                Some("check") => Some(Kind::Ck),
                Some("unique") => Some(Kind::Uq),
                Some("foreignkey") => Some(Kind::Fk),
                Some("primary") => Some(Kind::Pk),
                _ => None,
            };
            let name = match (kind, &given) {
                (_, Given::Unnamed) => return Err(missing(at, "constraint_name")),
                (None, Given::Named(name) | Given::Converted(name)) => name.clone(),
                (Some(kind), given) => {
                    naming(given, Object::new(kind, schema.as_deref(), &table, &[]))?
                        .ok_or_else(|| missing(at, "constraint_name"))?
                }
            };
            out.push((
                format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}{};",
                    qualified(schema.as_deref(), &table),
                    if_exists(call)?,
                    quote_ident(&name)
                ),
                at,
            ));
            Ok(())
        }
        "drop_index" => {
            let name = text_name(call.argument(0, "index_name"), at)?;
            let schema = schema_of("schema")?;
            out.push((
                format!(
                    "DROP INDEX {}{};",
                    if_exists(call)?,
                    qualified(schema.as_deref(), &name)
                ),
                at,
            ));
            Ok(())
        }
        "drop_table" if batch.is_none() => {
            let table = table_arg(0, "table_name")?;
            let schema = schema_of("schema")?;
            out.push((
                format!(
                    "DROP TABLE {}{};",
                    if_exists(call)?,
                    qualified(schema.as_deref(), &table)
                ),
                at,
            ));
            Ok(())
        }
        "drop_column" => {
            let table = table_arg(0, "table_name")?;
            let column = text(arg(1, "column_name"), at, "column_name")?;
            let schema = schema_of("schema")?;
            out.push((
                format!(
                    "ALTER TABLE {} DROP COLUMN {};",
                    qualified(schema.as_deref(), &table),
                    quote_ident(&column)
                ),
                at,
            ));
            Ok(())
        }
        "rename_table" if batch.is_none() => {
            let old = text(call.argument(0, "old_table_name"), at, "old_table_name")?;
            let new = text(call.argument(1, "new_table_name"), at, "new_table_name")?;
            let schema = schema_of("schema")?;
            out.push((
                format!(
                    "ALTER TABLE {} RENAME TO {};",
                    qualified(schema.as_deref(), &old),
                    quote_ident(&new)
                ),
                at,
            ));
            Ok(())
        }
        "alter_column" => {
            let table = table_arg(0, "table_name")?;
            let column = text(arg(1, "column_name"), at, "column_name")?;
            let schema = schema_of("schema")?;
            // type, nullability and defaults name nothing; a new name does
            if let Some(new) = call.keyword("new_column_name") {
                let new = text(Some(new), at, "new_column_name")?;
                out.push((
                    format!(
                        "ALTER TABLE {} RENAME COLUMN {} TO {};",
                        qualified(schema.as_deref(), &table),
                        quote_ident(&column),
                        quote_ident(&new)
                    ),
                    at,
                ));
            }
            Ok(())
        }
        "execute" if batch.is_none() => {
            let statement = call
                .argument(0, "sqltext")
                .ok_or_else(|| missing(at, "sqltext"))?;
            let sql = sql_text(Some(statement), at, "sqltext")?;
            let start = match &statement.kind {
                // the literal inside sa.text("...")
                ExprKind::Call(inner) => inner.positional().first().map_or(statement.at, |e| e.at),
                _ => statement.at,
            };
            out.push((format!("{VERBATIM}{sql}"), start));
            Ok(())
        }
        // data, comments and grants name no constraint or index
        "bulk_insert"
        | "inline_literal"
        | "create_table_comment"
        | "drop_table_comment"
        | "get_bind"
        | "get_context" => Ok(()),
        other => Err(Refusal(
            at,
            format!("the operation {other} is not replayed"),
        )),
    }
}

/// `if_exists=True` of the drop operations.
fn if_exists(call: &Call) -> Step<&'static str> {
    Ok(if flag(call.keyword("if_exists"))? {
        "IF EXISTS "
    } else {
        ""
    })
}

fn missing(at: Position, parameter: &str) -> Refusal {
    Refusal(at, format!("no {parameter} argument"))
}

fn text(value: Option<&Expr>, at: Position, parameter: &str) -> Step<String> {
    let value = value.ok_or_else(|| missing(at, parameter))?;
    value.text().map(str::to_string).ok_or_else(|| {
        Refusal(
            value.at,
            format!("{parameter} is {}, not a string literal", value.describe()),
        )
    })
}

fn optional_text(value: Option<&Expr>) -> Step<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_name("None") => Ok(None),
        Some(v) => v.text().map(|t| Some(t.to_string())).ok_or_else(|| {
            Refusal(
                v.at,
                format!("schema is {}, not a string literal", v.describe()),
            )
        }),
    }
}

fn flag(value: Option<&Expr>) -> Step<bool> {
    match value {
        None => Ok(false),
        Some(v) if v.is_name("True") => Ok(true),
        Some(v) if v.is_name("False") || v.is_name("None") => Ok(false),
        Some(v) => Err(Refusal(
            v.at,
            format!("a flag is {}, not True or False", v.describe()),
        )),
    }
}

/// A name as the migration writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Given {
    Unnamed,
    /// A plain string: SQLAlchemy applies a `%(constraint_name)s` template to it.
    Named(String),
    /// `op.f("...")`: already converted, used as is.
    Converted(String),
}

/// A name argument: a string, `op.f("...")`, or `None`.
fn name_arg(value: Option<&Expr>) -> Step<Given> {
    let Some(value) = value else {
        return Ok(Given::Unnamed);
    };
    if value.is_name("None") {
        return Ok(Given::Unnamed);
    }
    if let Some(text) = value.text() {
        return Ok(Given::Named(text.to_string()));
    }
    if let Some(call) = value.call()
        && matches!(call.dotted(), [op, f] if (op == "op" || op.ends_with("batch_op")) && f == "f")
        && let Some(text) = call.positional().first().and_then(|e| e.text())
    {
        return Ok(Given::Converted(text.to_string()));
    }
    Err(Refusal(
        value.at,
        format!(
            "the name is {}, computed: only running Python could tell it",
            value.describe()
        ),
    ))
}

/// The name of a dropped object, as written.
fn text_name(value: Option<&Expr>, at: Position) -> Step<String> {
    match name_arg(value)? {
        Given::Named(name) | Given::Converted(name) => Ok(name),
        Given::Unnamed => Err(missing(at, "name")),
    }
}

/// What SQLAlchemy's `ConventionDict` reads from an object.
struct Object<'a> {
    kind: Kind,
    schema: Option<&'a str>,
    table: &'a str,
    columns: &'a [String],
    referred: Option<(&'a str, &'a [String])>,
    unique: bool,
}

impl<'a> Object<'a> {
    fn new(kind: Kind, schema: Option<&'a str>, table: &'a str, columns: &'a [String]) -> Self {
        Object {
            kind,
            schema,
            table,
            columns,
            referred: None,
            unique: false,
        }
    }

    fn referring_to(mut self, table: &'a str, columns: &'a [String]) -> Self {
        self.referred = Some((table, columns));
        self
    }

    fn unique(mut self, unique: bool) -> Self {
        self.unique = unique;
        self
    }
}

/// The name SQLAlchemy renders for an object with the context's convention (`None`:
/// PostgreSQL chooses it); what SQLAlchemy refuses (a `%(constraint_name)s` template for an
/// unnamed object, a name too long) is refused.
fn name_for(
    convention: &NamingConvention,
    given: &Given,
    object: Object<'_>,
    at: Position,
) -> Step<Option<String>> {
    let columns: Vec<Column> = object.columns.iter().map(|c| Column::new(c)).collect();
    let table = match object.schema {
        Some(schema) => Table::in_schema(schema, object.table),
        None => Table::new(object.table),
    };
    let referred_columns: Vec<&str> = object
        .referred
        .map(|(_, columns)| columns.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut reference = ObjectRef::new(object.kind, table)
        .with_columns(&columns)
        .unique(object.unique);
    if let Some((referred, _)) = object.referred {
        reference = reference.referring_to(referred, &referred_columns);
    }
    let declared = match given {
        Given::Unnamed => Declared::Unnamed,
        Given::Named(name) => Declared::Named(name),
        Given::Converted(name) => Declared::Conv(name),
    };
    convention
        .name_for(&reference, declared)
        .map(|name| name.map(|n| n.rendered))
        .map_err(|e| Refusal(at, format!("SQLAlchemy would refuse this name: {e}")))
}

/// The plain column names among an index's elements, in order (expressions left out).
fn plain_columns(columns: &Expr) -> Vec<String> {
    columns
        .elements()
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.text().map(str::to_string))
        .collect()
}

fn names(value: Option<&Expr>, at: Position, parameter: &str) -> Step<Vec<String>> {
    let value = value.ok_or_else(|| missing(at, parameter))?;
    match value.elements() {
        Some(items) => items
            .iter()
            .map(|item| text(Some(item), at, parameter))
            .collect(),
        None => Err(Refusal(
            value.at,
            format!("{parameter} is {}, not a list of strings", value.describe()),
        )),
    }
}

/// SQL given as a string or `sa.text("...")`.
fn sql_text(value: Option<&Expr>, at: Position, parameter: &str) -> Step<String> {
    let value = value.ok_or_else(|| missing(at, parameter))?;
    if let Some(text) = value.text() {
        return Ok(text.to_string());
    }
    if let Some(call) = value.call()
        && call.name() == "text"
        && let Some(text) = call.positional().first().and_then(|e| e.text())
    {
        return Ok(text.to_string());
    }
    Err(Refusal(
        value.at,
        format!("{parameter} is {}, not literal SQL", value.describe()),
    ))
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(name),
    }
}

fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn constraint_prefix(name: Option<&str>) -> String {
    name.map(|n| format!("CONSTRAINT {} ", quote_ident(n)))
        .unwrap_or_default()
}

fn index_elements(columns: &Expr) -> Step<String> {
    let Some(items) = columns.elements() else {
        return Err(Refusal(
            columns.at,
            format!("columns is {}, not a list", columns.describe()),
        ));
    };
    let mut elements = Vec::new();
    for item in items {
        if let Some(name) = item.text() {
            elements.push(quote_ident(name));
        } else {
            let sql = sql_text(Some(item), item.at, "an index element")?;
            elements.push(format!("({})", one_line(&sql)));
        }
    }
    Ok(elements.join(", "))
}

/// `sa.ForeignKey("table.column")` on a column, or the columns of `sa.ForeignKeyConstraint`.
struct ForeignKey {
    name: Given,
    /// `[schema.]table`, as written.
    referred_table: Vec<String>,
    referred_columns: Vec<String>,
    at: Position,
}

impl ForeignKey {
    fn from_targets(targets: &[String], name: Given, at: Position) -> Step<ForeignKey> {
        let mut table: Option<Vec<String>> = None;
        let mut columns = Vec::new();
        for target in targets {
            let mut parts: Vec<String> = target.split('.').map(str::to_string).collect();
            if parts.len() < 2 {
                return Err(Refusal(
                    at,
                    format!("the foreign key target {target:?} is not table.column"),
                ));
            }
            columns.push(parts.pop().expect("two parts"));
            if table.as_ref().is_some_and(|t| *t != parts) {
                return Err(Refusal(at, "foreign key targets in two tables".to_string()));
            }
            table = Some(parts);
        }
        Ok(ForeignKey {
            name,
            referred_table: table.ok_or_else(|| missing(at, "refcolumns"))?,
            referred_columns: columns,
            at,
        })
    }

    /// `[schema.]table` as SQL.
    fn referred(&self) -> String {
        self.referred_table
            .iter()
            .map(|p| quote_ident(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// What the convention reads: `referred_table_name` is the table's name without its schema.
    fn object<'a>(
        &'a self,
        schema: Option<&'a str>,
        table: &'a str,
        local: &'a [String],
    ) -> Object<'a> {
        let referred = self.referred_table.last().map_or("", String::as_str);
        Object::new(Kind::Fk, schema, table, local).referring_to(referred, &self.referred_columns)
    }

    fn sql(&self, local: &[String], name: Option<String>) -> String {
        format!(
            "{}FOREIGN KEY({}) REFERENCES {} ({})",
            constraint_prefix(name.as_deref()),
            column_list(local),
            self.referred(),
            column_list(&self.referred_columns)
        )
    }
}

struct ColumnDef {
    name: String,
    at: Position,
    type_name: String,
    primary_key: bool,
    unique: bool,
    index: bool,
    identity: bool,
    autoincrement_off: bool,
    server_default: bool,
    foreign_keys: Vec<ForeignKey>,
}

impl ColumnDef {
    fn read(call: &Call, at: Position) -> Step<ColumnDef> {
        let name = text(call.positional().first().copied(), at, "the column name")?;
        let mut column = ColumnDef {
            name,
            at,
            type_name: String::new(),
            primary_key: flag(call.keyword("primary_key"))?,
            unique: flag(call.keyword("unique"))?,
            index: flag(call.keyword("index"))?,
            identity: false,
            autoincrement_off: call
                .keyword("autoincrement")
                .is_some_and(|v| v.is_name("False")),
            server_default: call
                .keyword("server_default")
                .is_some_and(|v| !v.is_name("None")),
            foreign_keys: Vec::new(),
        };
        for argument in call.positional().into_iter().skip(1) {
            match &argument.kind {
                ExprKind::Call(inner) if inner.name() == "ForeignKey" => {
                    let target = text(
                        inner.positional().first().copied(),
                        argument.at,
                        "the ForeignKey target",
                    )?;
                    let name = name_arg(inner.keyword("name"))?;
                    column.foreign_keys.push(ForeignKey::from_targets(
                        &[target],
                        name,
                        argument.at,
                    )?);
                }
                ExprKind::Call(inner) if inner.name() == "Identity" => column.identity = true,
                // a generated column's expression names nothing
                ExprKind::Call(inner) if inner.name() == "Computed" => {}
                ExprKind::Call(inner) if matches!(inner.name(), "Sequence" | "CheckConstraint") => {
                    return Err(Refusal(
                        argument.at,
                        format!("sa.{}() in a column is not replayed", inner.name()),
                    ));
                }
                ExprKind::Call(inner) => column.type_name = inner.name().to_string(),
                ExprKind::Name(parts) => {
                    column.type_name = parts.last().cloned().unwrap_or_default()
                }
                _ => {}
            }
        }
        Ok(column)
    }

    fn integer(&self) -> Option<&'static str> {
        match self.type_name.as_str() {
            "Integer" | "INTEGER" | "INT" => Some("serial"),
            "BigInteger" | "BIGINT" => Some("bigserial"),
            "SmallInteger" | "SMALLINT" => Some("smallserial"),
            _ => None,
        }
    }

    /// The type written: what matters for names is whether PostgreSQL creates a sequence.
    fn sql_type(&self, serial: bool) -> String {
        if self.identity {
            return "integer GENERATED BY DEFAULT AS IDENTITY".to_string();
        }
        match (serial, self.integer()) {
            (true, Some(serial)) => serial.to_string(),
            _ => "integer".to_string(),
        }
    }

    /// The index `Column(index=True)` makes.
    fn index_sql(
        &self,
        convention: &NamingConvention,
        schema: Option<&str>,
        table: &str,
    ) -> Step<String> {
        let this = [self.name.clone()];
        let name = name_for(
            convention,
            &Given::Unnamed,
            Object::new(Kind::Ix, schema, table, &this).unique(self.unique),
            self.at,
        )?
        .ok_or_else(|| {
            Refusal(
                self.at,
                "Column(index=True) with a MetaData convention without \"ix\"".to_string(),
            )
        })?;
        Ok(format!(
            "CREATE {}INDEX {} ON {} ({});",
            if self.unique { "UNIQUE " } else { "" },
            quote_ident(&name),
            qualified(schema, table),
            quote_ident(&self.name)
        ))
    }
}

fn create_table(
    convention: &NamingConvention,
    call: &Call,
    at: Position,
    out: &mut Out,
) -> Step<()> {
    let table = text(call.positional().first().copied(), at, "table_name")?;
    let schema = optional_text(call.keyword("schema"))?;
    let schema = schema.as_deref();
    let naming = |given: &Given, object: Object<'_>, at: Position| {
        Ok::<_, Refusal>(constraint_prefix(
            name_for(convention, given, object, at)?.as_deref(),
        ))
    };
    let mut columns = Vec::new();
    // (SQL, origin) of each explicit constraint, in the order written
    let mut constraints: Vec<(String, Position)> = Vec::new();
    let mut primary_key: Option<(Given, Vec<String>, Position)> = None;
    let mut indexes = Vec::new();
    for argument in call.positional().into_iter().skip(1) {
        let inner = argument.call().ok_or_else(|| {
            Refusal(
                argument.at,
                format!("{} in create_table cannot be followed", argument.describe()),
            )
        })?;
        let given = || name_arg(inner.keyword("name"));
        let strings = |what: &str| {
            inner
                .positional()
                .into_iter()
                .map(|c| text(Some(c), argument.at, what))
                .collect::<Step<Vec<_>>>()
        };
        match inner.name() {
            "Column" => columns.push(ColumnDef::read(inner, argument.at)?),
            "PrimaryKeyConstraint" => {
                primary_key = Some((given()?, strings("a primary key column")?, argument.at));
            }
            "UniqueConstraint" => {
                let cols = strings("a unique column")?;
                let prefix = naming(
                    &given()?,
                    Object::new(Kind::Uq, schema, &table, &cols),
                    argument.at,
                )?;
                constraints.push((
                    format!("{prefix}UNIQUE ({})", column_list(&cols)),
                    argument.at,
                ));
            }
            "CheckConstraint" => {
                let sql = sql_text(inner.argument(0, "sqltext"), argument.at, "sqltext")?;
                let prefix = naming(
                    &given()?,
                    Object::new(Kind::Ck, schema, &table, &[]),
                    argument.at,
                )?;
                constraints.push((format!("{prefix}CHECK ({})", one_line(&sql)), argument.at));
            }
            "ForeignKeyConstraint" => {
                let local = names(inner.argument(0, "columns"), argument.at, "columns")?;
                let targets = names(inner.argument(1, "refcolumns"), argument.at, "refcolumns")?;
                let fk = ForeignKey::from_targets(&targets, given()?, argument.at)?;
                let name = name_for(
                    convention,
                    &fk.name,
                    fk.object(schema, &table, &local),
                    argument.at,
                )?;
                constraints.push((fk.sql(&local, name), argument.at));
            }
            "Index" => {
                let cols = inner
                    .positional()
                    .into_iter()
                    .skip(1)
                    .map(|c| text(Some(c), argument.at, "an index column"))
                    .collect::<Step<Vec<_>>>()?;
                let unique = flag(inner.keyword("unique"))?;
                let name = name_for(
                    convention,
                    &name_arg(inner.positional().first().copied())?,
                    Object::new(Kind::Ix, schema, &table, &cols).unique(unique),
                    argument.at,
                )?
                .ok_or_else(|| missing(argument.at, "index name"))?;
                indexes.push((
                    format!(
                        "CREATE {}INDEX {} ON {} ({});",
                        if unique { "UNIQUE " } else { "" },
                        quote_ident(&name),
                        qualified(schema, &table),
                        column_list(&cols)
                    ),
                    argument.at,
                ));
            }
            other => {
                return Err(Refusal(
                    argument.at,
                    format!("sa.{other}() in create_table is not replayed"),
                ));
            }
        }
    }
    let primary_key = primary_key.or_else(|| {
        let cols: Vec<String> = columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect();
        let at = columns.iter().find(|c| c.primary_key).map(|c| c.at)?;
        Some((Given::Unnamed, cols, at))
    });
    // SQLAlchemy's autoincrement="auto": the only primary key column, an integer, no foreign
    // key, no server default, not switched off
    let serial = match &primary_key {
        Some((_, cols, _)) if cols.len() == 1 => columns.iter().position(|c| {
            c.name == cols[0]
                && c.integer().is_some()
                && c.foreign_keys.is_empty()
                && !c.server_default
                && !c.autoincrement_off
        }),
        _ => None,
    };
    let mut items: Vec<(String, Position)> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                format!("{} {}", quote_ident(&c.name), c.sql_type(serial == Some(i))),
                c.at,
            )
        })
        .collect();
    if let Some((given, cols, at)) = &primary_key {
        let prefix = naming(given, Object::new(Kind::Pk, schema, &table, cols), *at)?;
        items.push((format!("{prefix}PRIMARY KEY ({})", column_list(cols)), *at));
    }
    items.extend(constraints);
    // constraints a column makes itself come after the explicit ones (they are created when
    // the Table is, after the arguments): UNIQUE, then the foreign keys, column by column
    for column in &columns {
        let this = [column.name.clone()];
        if column.unique && !column.index {
            let prefix = naming(
                &Given::Unnamed,
                Object::new(Kind::Uq, schema, &table, &this),
                column.at,
            )?;
            items.push((
                format!("{prefix}UNIQUE ({})", quote_ident(&column.name)),
                column.at,
            ));
        }
        for fk in &column.foreign_keys {
            let name = name_for(
                convention,
                &fk.name,
                fk.object(schema, &table, &this),
                fk.at,
            )?;
            items.push((fk.sql(&this, name), fk.at));
        }
    }
    let if_not_exists = if flag(call.keyword("if_not_exists"))? {
        "IF NOT EXISTS "
    } else {
        ""
    };
    out.push((
        format!(
            "CREATE TABLE {if_not_exists}{} (",
            qualified(schema, &table)
        ),
        at,
    ));
    let count = items.len();
    for (n, (text, origin)) in items.into_iter().enumerate() {
        let comma = if n + 1 < count { "," } else { "" };
        out.push((format!("    {text}{comma}"), origin));
    }
    out.push((");".to_string(), at));
    for column in columns.iter().filter(|c| c.index) {
        out.push((column.index_sql(convention, schema, &table)?, column.at));
    }
    out.extend(indexes);
    Ok(())
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
            Origin {
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
