//! One `op.*()` or `batch_op.*()` call rendered as SQL: one function per operation, each
//! reading its arguments as Alembic's signature binds them.

use super::arguments::{
    Given, Refusal, Step, flag, missing, name_arg, names, optional_text, plain_columns, sql_text,
    text, text_name,
};
use super::columns::ColumnDef;
use super::create_table::create_table;
use super::names::{ConventionObject, name_for};
use super::sql::{
    Rendered, column_list, constraint_prefix, if_exists, index_elements, one_line, qualified,
};
use crate::lint::naming::{Kind, NamingConvention, quote_ident};
use crate::python::{Call, Expr, ExprKind, Position};

/// The table a `with op.batch_alter_table(...) as alias:` block alters.
pub(super) struct Batch<'a> {
    pub(crate) alias: &'a str,
    pub(crate) table: String,
    pub(crate) schema: Option<String>,
}

/// One call being rendered, with what its arguments are read against.
pub(super) struct Operation<'a> {
    /// The naming convention of the migration context's MetaData.
    pub(crate) convention: &'a NamingConvention,
    pub(crate) call: &'a Call,
    pub(crate) at: Position,
    /// The block it is written in, for `batch_op.*()`.
    pub(crate) batch: Option<&'a Batch<'a>>,
}

/// The SQL of one operation; operations that name nothing render nothing.
pub(super) fn render(op: &Operation) -> Step<Vec<Rendered>> {
    let in_batch = op.batch.is_some();
    match op.call.name() {
        "create_table" if !in_batch => create_table(op.convention, op.call, op.at),
        "create_index" => create_index(op),
        "create_unique_constraint" => add_key(op, Kind::Uq),
        "create_primary_key" => add_key(op, Kind::Pk),
        "create_check_constraint" => create_check_constraint(op),
        "create_foreign_key" => create_foreign_key(op),
        "add_column" => add_column(op),
        "drop_constraint" => drop_constraint(op),
        "drop_index" => drop_index(op),
        "drop_table" if !in_batch => drop_table(op),
        "drop_column" => drop_column(op),
        "rename_table" if !in_batch => rename_table(op),
        "alter_column" => alter_column(op),
        "execute" if !in_batch => execute(op),
        // data, comments and grants name no constraint or index
        "bulk_insert"
        | "inline_literal"
        | "create_table_comment"
        | "drop_table_comment"
        | "get_bind"
        | "get_context" => Ok(Vec::new()),
        other => Err(Refusal(
            op.at,
            format!("the operation {other} is not replayed"),
        )),
    }
}

impl Operation<'_> {
    /// In a batch block the table parameter is not written: the parameters after it move one
    /// place to the left.
    fn shift(&self) -> usize {
        usize::from(self.batch.is_some())
    }

    /// The argument bound to the `op.*` form's parameter `index` (or `name`), in either form.
    fn arg(&self, index: usize, name: &str) -> Option<&Expr> {
        match self.batch {
            Some(_) if index == 0 => None,
            _ => self.call.argument(index - self.shift(), name),
        }
    }

    /// The table: the block's in a batch block, else the argument.
    fn table(&self, index: usize, name: &str) -> Step<String> {
        match self.batch {
            Some(batch) => Ok(batch.table.clone()),
            None => text(self.call.argument(index, name), self.at, name),
        }
    }

    /// The schema keyword, defaulting to the block's in a batch block.
    fn schema(&self, keyword: &str) -> Step<Option<String>> {
        match (
            self.batch.and_then(|b| b.schema.as_ref()),
            self.call.keyword(keyword),
        ) {
            (Some(schema), None) => Ok(Some(schema.clone())),
            (_, value) => optional_text(value),
        }
    }

    /// The name SQLAlchemy renders for a new object.
    fn name(&self, given: &Given, object: ConventionObject<'_>) -> Step<Option<String>> {
        name_for(self.convention, given, object, self.at)
    }

    /// One line of SQL from this call.
    fn line(&self, sql: String) -> Step<Vec<Rendered>> {
        Ok(vec![Rendered::Line(sql, self.at)])
    }
}

fn create_index(op: &Operation) -> Step<Vec<Rendered>> {
    let given = name_arg(op.call.argument(0, "index_name"))?;
    let table = op.table(1, "table_name")?;
    let columns = op
        .arg(2, "columns")
        .ok_or_else(|| missing(op.at, "columns"))?;
    let schema = op.schema("schema")?;
    let unique = flag(op.call.keyword("unique"))?;
    let named_columns = plain_columns(columns);
    let name = op
        .name(
            &given,
            ConventionObject::new(Kind::Ix, schema.as_deref(), &table, &named_columns)
                .unique(unique),
        )?
        .ok_or_else(|| missing(op.at, "index name"))?;
    let elements = index_elements(columns)?;
    op.line(format!(
        "CREATE {}INDEX {}{} ON {} ({});",
        if unique { "UNIQUE " } else { "" },
        if flag(op.call.keyword("if_not_exists"))? {
            "IF NOT EXISTS "
        } else {
            ""
        },
        quote_ident(&name),
        qualified(schema.as_deref(), &table),
        elements
    ))
}

/// `create_unique_constraint` (`Kind::Uq`) or `create_primary_key` (`Kind::Pk`).
fn add_key(op: &Operation, kind: Kind) -> Step<Vec<Rendered>> {
    let given = name_arg(op.call.argument(0, "constraint_name"))?;
    let table = op.table(1, "table_name")?;
    let columns = names(op.arg(2, "columns"), op.at, "columns")?;
    let schema = op.schema("schema")?;
    let what = if kind == Kind::Pk {
        "PRIMARY KEY"
    } else {
        "UNIQUE"
    };
    let name = op.name(
        &given,
        ConventionObject::new(kind, schema.as_deref(), &table, &columns),
    )?;
    op.line(format!(
        "ALTER TABLE {} ADD {}{what} ({});",
        qualified(schema.as_deref(), &table),
        constraint_prefix(name.as_deref()),
        column_list(&columns)
    ))
}

fn create_check_constraint(op: &Operation) -> Step<Vec<Rendered>> {
    let given = name_arg(op.call.argument(0, "constraint_name"))?;
    let table = op.table(1, "table_name")?;
    let condition = sql_text(op.arg(2, "condition"), op.at, "condition")?;
    let schema = op.schema("schema")?;
    let name = op.name(
        &given,
        ConventionObject::new(Kind::Ck, schema.as_deref(), &table, &[]),
    )?;
    op.line(format!(
        "ALTER TABLE {} ADD {}CHECK ({});",
        qualified(schema.as_deref(), &table),
        constraint_prefix(name.as_deref()),
        one_line(&condition)
    ))
}

fn create_foreign_key(op: &Operation) -> Step<Vec<Rendered>> {
    let given = name_arg(op.call.argument(0, "constraint_name"))?;
    let source = op.table(1, "source_table")?;
    let referent = text(op.arg(2, "referent_table"), op.at, "referent_table")?;
    let local = names(op.arg(3, "local_cols"), op.at, "local_cols")?;
    let remote = names(op.arg(4, "remote_cols"), op.at, "remote_cols")?;
    let source_schema = op.schema("source_schema")?;
    let referent_schema = optional_text(op.call.keyword("referent_schema"))?;
    let name = op.name(
        &given,
        ConventionObject::new(Kind::Fk, source_schema.as_deref(), &source, &local)
            .referring_to(&referent, &remote),
    )?;
    op.line(format!(
        "ALTER TABLE {} ADD {}FOREIGN KEY({}) REFERENCES {} ({});",
        qualified(source_schema.as_deref(), &source),
        constraint_prefix(name.as_deref()),
        column_list(&local),
        qualified(referent_schema.as_deref(), &referent),
        column_list(&remote)
    ))
}

/// The column, then (as Alembic adds them) its constraints but the primary key, then its index.
fn add_column(op: &Operation) -> Step<Vec<Rendered>> {
    let table = op.table(0, "table_name")?;
    let written = op.arg(1, "column");
    let column = written
        .and_then(Expr::call)
        .filter(|c| c.name() == "Column")
        .ok_or_else(|| {
            Refusal(
                op.at,
                "the column is not an sa.Column(...) call".to_string(),
            )
        })?;
    let schema = op.schema("schema")?;
    let column = ColumnDef::read(column, written.map_or(op.at, |e| e.at))?;
    let target = qualified(schema.as_deref(), &table);
    let mut out = vec![Rendered::Line(
        format!(
            "ALTER TABLE {target} ADD COLUMN {} {};",
            quote_ident(&column.name),
            column.sql_type(false)
        ),
        column.at,
    )];
    let this = [column.name.clone()];
    if column.unique && !column.index {
        let name = op.name(
            &Given::Unnamed,
            ConventionObject::new(Kind::Uq, schema.as_deref(), &table, &this),
        )?;
        out.push(Rendered::Line(
            format!(
                "ALTER TABLE {target} ADD {}UNIQUE ({});",
                constraint_prefix(name.as_deref()),
                quote_ident(&column.name)
            ),
            column.at,
        ));
    }
    for fk in &column.foreign_keys {
        let name = op.name(&fk.name, fk.object(schema.as_deref(), &table, &this))?;
        out.push(Rendered::Line(
            format!("ALTER TABLE {target} ADD {};", fk.sql(&this, name)),
            fk.at,
        ));
    }
    if column.index {
        out.push(Rendered::Line(
            column.index_sql(op.convention, schema.as_deref(), &table)?,
            column.at,
        ));
    }
    Ok(out)
}

/// Alembic builds a constraint of `type_` to drop, so the convention applies to its name as to
/// a new one; without `type_` it is a bare `Constraint`, named as written.
fn drop_constraint(op: &Operation) -> Step<Vec<Rendered>> {
    let given = name_arg(op.call.argument(0, "constraint_name"))?;
    let table = op.table(1, "table_name")?;
    let schema = op.schema("schema")?;
    let kind = match op
        .call
        .argument(2 - op.shift(), "type_")
        .and_then(Expr::text)
    {
        Some("check") => Some(Kind::Ck),
        Some("unique") => Some(Kind::Uq),
        Some("foreignkey") => Some(Kind::Fk),
        Some("primary") => Some(Kind::Pk),
        _ => None,
    };
    let name = match (kind, &given) {
        (_, Given::Unnamed) => return Err(missing(op.at, "constraint_name")),
        (None, Given::Named(name) | Given::Converted(name)) => name.clone(),
        (Some(kind), given) => op
            .name(
                given,
                ConventionObject::new(kind, schema.as_deref(), &table, &[]),
            )?
            .ok_or_else(|| missing(op.at, "constraint_name"))?,
    };
    op.line(format!(
        "ALTER TABLE {} DROP CONSTRAINT {}{};",
        qualified(schema.as_deref(), &table),
        if_exists(op.call)?,
        quote_ident(&name)
    ))
}

fn drop_index(op: &Operation) -> Step<Vec<Rendered>> {
    let name = text_name(op.call.argument(0, "index_name"), op.at)?;
    let schema = op.schema("schema")?;
    op.line(format!(
        "DROP INDEX {}{};",
        if_exists(op.call)?,
        qualified(schema.as_deref(), &name)
    ))
}

fn drop_table(op: &Operation) -> Step<Vec<Rendered>> {
    let table = op.table(0, "table_name")?;
    let schema = op.schema("schema")?;
    op.line(format!(
        "DROP TABLE {}{};",
        if_exists(op.call)?,
        qualified(schema.as_deref(), &table)
    ))
}

fn drop_column(op: &Operation) -> Step<Vec<Rendered>> {
    let table = op.table(0, "table_name")?;
    let column = text(op.arg(1, "column_name"), op.at, "column_name")?;
    let schema = op.schema("schema")?;
    op.line(format!(
        "ALTER TABLE {} DROP COLUMN {};",
        qualified(schema.as_deref(), &table),
        quote_ident(&column)
    ))
}

fn rename_table(op: &Operation) -> Step<Vec<Rendered>> {
    let old = text(
        op.call.argument(0, "old_table_name"),
        op.at,
        "old_table_name",
    )?;
    let new = text(
        op.call.argument(1, "new_table_name"),
        op.at,
        "new_table_name",
    )?;
    let schema = op.schema("schema")?;
    op.line(format!(
        "ALTER TABLE {} RENAME TO {};",
        qualified(schema.as_deref(), &old),
        quote_ident(&new)
    ))
}

/// Type, nullability and defaults name nothing; a new name does.
fn alter_column(op: &Operation) -> Step<Vec<Rendered>> {
    let table = op.table(0, "table_name")?;
    let column = text(op.arg(1, "column_name"), op.at, "column_name")?;
    let schema = op.schema("schema")?;
    let Some(new) = op.call.keyword("new_column_name") else {
        return Ok(Vec::new());
    };
    let new = text(Some(new), op.at, "new_column_name")?;
    op.line(format!(
        "ALTER TABLE {} RENAME COLUMN {} TO {};",
        qualified(schema.as_deref(), &table),
        quote_ident(&column),
        quote_ident(&new)
    ))
}

/// `op.execute("...")` or `op.execute(sa.text("..."))`: its SQL as written.
fn execute(op: &Operation) -> Step<Vec<Rendered>> {
    let statement = op
        .call
        .argument(0, "sqltext")
        .ok_or_else(|| missing(op.at, "sqltext"))?;
    let sql = sql_text(Some(statement), op.at, "sqltext")?;
    let literal = match &statement.kind {
        // the literal inside sa.text("...")
        ExprKind::Call(inner) => inner.positional().first().map_or(statement.at, |e| e.at),
        _ => statement.at,
    };
    Ok(vec![Rendered::Verbatim(sql, literal)])
}
