//! `op.create_table(...)` rendered as SQLAlchemy's `CreateTable` renders it: the columns, the
//! primary key, the constraints written as arguments, then those the columns make themselves,
//! and after the statement the indexes.

use super::arguments::{
    Given, Refusal, Step, flag, missing, name_arg, names, optional_text, sql_text, text,
};
use super::columns::{ColumnDef, ForeignKey};
use super::names::{ConventionObject, name_for};
use super::sql::{Rendered, column_list, constraint_prefix, one_line, qualified};
use crate::lint::naming::{Kind, NamingConvention, quote_ident};
use crate::python::{Call, Position};

/// `op.create_table(name, *columns_and_constraints, schema=..., if_not_exists=...)`.
pub(super) fn create_table(
    convention: &NamingConvention,
    call: &Call,
    at: Position,
) -> Step<Vec<Rendered>> {
    let name = text(call.positional().first().copied(), at, "table_name")?;
    let schema = optional_text(call.keyword("schema"))?;
    let table = NewTable {
        convention,
        schema: schema.as_deref(),
        name: &name,
    };
    let arguments = table.arguments(call)?;
    let primary_key = arguments
        .primary_key
        .or_else(|| PrimaryKey::of_columns(&arguments.columns));
    let serial = serial_column(&arguments.columns, primary_key.as_ref());
    let mut items = column_items(&arguments.columns, serial);
    if let Some(key) = &primary_key {
        items.push(table.primary_key(key)?);
    }
    items.extend(arguments.constraints);
    items.extend(table.column_constraints(&arguments.columns)?);
    let mut out = table.create_statement(call, items, at)?;
    for column in arguments.columns.iter().filter(|c| c.index) {
        out.push(Rendered::Line(
            column.index_sql(convention, table.schema, table.name)?,
            column.at,
        ));
    }
    out.extend(arguments.indexes);
    Ok(out)
}

/// The table being created, for naming what it holds.
struct NewTable<'a> {
    convention: &'a NamingConvention,
    schema: Option<&'a str>,
    name: &'a str,
}

/// What the arguments after the table's name declare, in the order written.
struct TableArguments {
    columns: Vec<ColumnDef>,
    /// The SQL and origin of each explicit constraint but the primary key.
    constraints: Vec<(String, Position)>,
    /// `sa.PrimaryKeyConstraint(...)`.
    primary_key: Option<PrimaryKey>,
    /// `sa.Index(...)`: statements of their own after the table's.
    indexes: Vec<Rendered>,
}

struct PrimaryKey {
    given: Given,
    columns: Vec<String>,
    at: Position,
}

impl PrimaryKey {
    /// The key of the columns written with `primary_key=True`.
    fn of_columns(columns: &[ColumnDef]) -> Option<PrimaryKey> {
        let at = columns.iter().find(|c| c.primary_key).map(|c| c.at)?;
        Some(PrimaryKey {
            given: Given::Unnamed,
            columns: columns
                .iter()
                .filter(|c| c.primary_key)
                .map(|c| c.name.clone())
                .collect(),
            at,
        })
    }
}

/// The column SQLAlchemy's `autoincrement="auto"` makes a serial: the only primary key column,
/// an integer, no foreign key, no server default, not switched off.
fn serial_column(columns: &[ColumnDef], primary_key: Option<&PrimaryKey>) -> Option<usize> {
    match primary_key {
        Some(key) if key.columns.len() == 1 => columns.iter().position(|c| {
            c.name == key.columns[0]
                && c.integer().is_some()
                && c.foreign_keys.is_empty()
                && !c.server_default
                && !c.autoincrement_off
        }),
        _ => None,
    }
}

/// Each column's line: its name and the type that decides its sequence.
fn column_items(columns: &[ColumnDef], serial: Option<usize>) -> Vec<(String, Position)> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                format!("{} {}", quote_ident(&c.name), c.sql_type(serial == Some(i))),
                c.at,
            )
        })
        .collect()
}

impl NewTable<'_> {
    fn object<'a>(&'a self, kind: Kind, columns: &'a [String]) -> ConventionObject<'a> {
        ConventionObject::new(kind, self.schema, self.name, columns)
    }

    /// `CONSTRAINT name ` for a constraint of this table, or nothing when PostgreSQL names it.
    fn prefix(&self, given: &Given, object: ConventionObject<'_>, at: Position) -> Step<String> {
        Ok(constraint_prefix(
            name_for(self.convention, given, object, at)?.as_deref(),
        ))
    }

    /// Reads the columns, constraints and indexes passed after the table's name.
    fn arguments(&self, call: &Call) -> Step<TableArguments> {
        let mut read = TableArguments {
            columns: Vec::new(),
            constraints: Vec::new(),
            primary_key: None,
            indexes: Vec::new(),
        };
        for argument in call.positional().into_iter().skip(1) {
            let at = argument.at;
            let inner = argument.call().ok_or_else(|| {
                Refusal(
                    at,
                    format!("{} in create_table cannot be followed", argument.describe()),
                )
            })?;
            match inner.name() {
                "Column" => read.columns.push(ColumnDef::read(inner, at)?),
                "PrimaryKeyConstraint" => {
                    read.primary_key = Some(PrimaryKey {
                        given: name_arg(inner.keyword("name"))?,
                        columns: strings(inner, at, "a primary key column")?,
                        at,
                    });
                }
                "UniqueConstraint" => read.constraints.push(self.unique(inner, at)?),
                "CheckConstraint" => read.constraints.push(self.check(inner, at)?),
                "ForeignKeyConstraint" => read.constraints.push(self.foreign_key(inner, at)?),
                "Index" => read.indexes.push(self.index(inner, at)?),
                other => {
                    return Err(Refusal(
                        at,
                        format!("sa.{other}() in create_table is not replayed"),
                    ));
                }
            }
        }
        Ok(read)
    }

    /// `sa.UniqueConstraint("a", "b", name=...)`.
    fn unique(&self, call: &Call, at: Position) -> Step<(String, Position)> {
        let columns = strings(call, at, "a unique column")?;
        let given = name_arg(call.keyword("name"))?;
        let prefix = self.prefix(&given, self.object(Kind::Uq, &columns), at)?;
        Ok((format!("{prefix}UNIQUE ({})", column_list(&columns)), at))
    }

    /// `sa.CheckConstraint("sql", name=...)`.
    fn check(&self, call: &Call, at: Position) -> Step<(String, Position)> {
        let sql = sql_text(call.argument(0, "sqltext"), at, "sqltext")?;
        let given = name_arg(call.keyword("name"))?;
        let prefix = self.prefix(&given, self.object(Kind::Ck, &[]), at)?;
        Ok((format!("{prefix}CHECK ({})", one_line(&sql)), at))
    }

    /// `sa.ForeignKeyConstraint(["a"], ["other.id"], name=...)`.
    fn foreign_key(&self, call: &Call, at: Position) -> Step<(String, Position)> {
        let local = names(call.argument(0, "columns"), at, "columns")?;
        let targets = names(call.argument(1, "refcolumns"), at, "refcolumns")?;
        let fk = ForeignKey::from_targets(&targets, name_arg(call.keyword("name"))?, at)?;
        let name = name_for(
            self.convention,
            &fk.name,
            fk.object(self.schema, self.name, &local),
            at,
        )?;
        Ok((fk.sql(&local, name), at))
    }

    /// `sa.Index("name", "a", "b", unique=...)`: a statement after the table's.
    fn index(&self, call: &Call, at: Position) -> Step<Rendered> {
        let columns = call
            .positional()
            .into_iter()
            .skip(1)
            .map(|c| text(Some(c), at, "an index column"))
            .collect::<Step<Vec<_>>>()?;
        let unique = flag(call.keyword("unique"))?;
        let name = name_for(
            self.convention,
            &name_arg(call.positional().first().copied())?,
            self.object(Kind::Ix, &columns).unique(unique),
            at,
        )?
        .ok_or_else(|| missing(at, "index name"))?;
        Ok(Rendered::Line(
            format!(
                "CREATE {}INDEX {} ON {} ({});",
                if unique { "UNIQUE " } else { "" },
                quote_ident(&name),
                qualified(self.schema, self.name),
                column_list(&columns)
            ),
            at,
        ))
    }

    /// The primary key's line.
    fn primary_key(&self, key: &PrimaryKey) -> Step<(String, Position)> {
        let prefix = self.prefix(&key.given, self.object(Kind::Pk, &key.columns), key.at)?;
        Ok((
            format!("{prefix}PRIMARY KEY ({})", column_list(&key.columns)),
            key.at,
        ))
    }

    /// The constraints a column makes itself, after the explicit ones (they are created when the
    /// Table is, after its arguments): UNIQUE, then the foreign keys, column by column.
    fn column_constraints(&self, columns: &[ColumnDef]) -> Step<Vec<(String, Position)>> {
        let mut items = Vec::new();
        for column in columns {
            let this = [column.name.clone()];
            if column.unique && !column.index {
                let prefix =
                    self.prefix(&Given::Unnamed, self.object(Kind::Uq, &this), column.at)?;
                items.push((
                    format!("{prefix}UNIQUE ({})", quote_ident(&column.name)),
                    column.at,
                ));
            }
            for fk in &column.foreign_keys {
                let name = name_for(
                    self.convention,
                    &fk.name,
                    fk.object(self.schema, self.name, &this),
                    fk.at,
                )?;
                items.push((fk.sql(&this, name), fk.at));
            }
        }
        Ok(items)
    }

    /// `CREATE TABLE ... (`, one line per item, `);`.
    fn create_statement(
        &self,
        call: &Call,
        items: Vec<(String, Position)>,
        at: Position,
    ) -> Step<Vec<Rendered>> {
        let if_not_exists = if flag(call.keyword("if_not_exists"))? {
            "IF NOT EXISTS "
        } else {
            ""
        };
        let mut out = vec![Rendered::Line(
            format!(
                "CREATE TABLE {if_not_exists}{} (",
                qualified(self.schema, self.name)
            ),
            at,
        )];
        let count = items.len();
        for (n, (text, origin)) in items.into_iter().enumerate() {
            let comma = if n + 1 < count { "," } else { "" };
            out.push(Rendered::Line(format!("    {text}{comma}"), origin));
        }
        out.push(Rendered::Line(");".to_string(), at));
        Ok(out)
    }
}

/// A constraint's positional arguments, each a column name.
fn strings(call: &Call, at: Position, what: &str) -> Step<Vec<String>> {
    call.positional()
        .into_iter()
        .map(|c| text(Some(c), at, what))
        .collect()
}
