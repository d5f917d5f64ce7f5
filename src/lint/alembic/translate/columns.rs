//! The columns a migration writes (`sa.Column(...)`) and the foreign keys they and
//! `sa.ForeignKeyConstraint` make, read into what the SQL needs.

use super::arguments::{Given, Refusal, Step, flag, missing, name_arg, text};
use super::names::{ConventionObject, name_for};
use super::sql::{column_list, constraint_prefix, qualified};
use crate::lint::naming::{Kind, NamingConvention, quote_ident};
use crate::python::{Call, ExprKind, Position};

/// `sa.ForeignKey("table.column")` on a column, or the columns of `sa.ForeignKeyConstraint`.
pub(super) struct ForeignKey {
    pub(crate) name: Given,
    /// `[schema.]table`, as written.
    pub(crate) referred_table: Vec<String>,
    pub(crate) referred_columns: Vec<String>,
    pub(crate) at: Position,
}

impl ForeignKey {
    pub(super) fn from_targets(targets: &[String], name: Given, at: Position) -> Step<ForeignKey> {
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
    pub(super) fn referred(&self) -> String {
        self.referred_table
            .iter()
            .map(|p| quote_ident(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// What the convention reads: `referred_table_name` is the table's name without its schema.
    pub(super) fn object<'a>(
        &'a self,
        schema: Option<&'a str>,
        table: &'a str,
        local: &'a [String],
    ) -> ConventionObject<'a> {
        let referred = self.referred_table.last().map_or("", String::as_str);
        ConventionObject::new(Kind::Fk, schema, table, local)
            .referring_to(referred, &self.referred_columns)
    }

    pub(super) fn sql(&self, local: &[String], name: Option<String>) -> String {
        format!(
            "{}FOREIGN KEY({}) REFERENCES {} ({})",
            constraint_prefix(name.as_deref()),
            column_list(local),
            self.referred(),
            column_list(&self.referred_columns)
        )
    }
}

/// An `sa.Column(...)`: its name, what of its type matters for names, and its flags.
pub(super) struct ColumnDef {
    pub(crate) name: String,
    pub(crate) at: Position,
    pub(crate) type_name: String,
    pub(crate) primary_key: bool,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) identity: bool,
    pub(crate) autoincrement_off: bool,
    pub(crate) server_default: bool,
    pub(crate) foreign_keys: Vec<ForeignKey>,
}

impl ColumnDef {
    pub(super) fn read(call: &Call, at: Position) -> Step<ColumnDef> {
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

    pub(super) fn integer(&self) -> Option<&'static str> {
        match self.type_name.as_str() {
            "Integer" | "INTEGER" | "INT" => Some("serial"),
            "BigInteger" | "BIGINT" => Some("bigserial"),
            "SmallInteger" | "SMALLINT" => Some("smallserial"),
            _ => None,
        }
    }

    /// The type written: what matters for names is whether PostgreSQL creates a sequence.
    pub(super) fn sql_type(&self, serial: bool) -> String {
        if self.identity {
            return "integer GENERATED BY DEFAULT AS IDENTITY".to_string();
        }
        match (serial, self.integer()) {
            (true, Some(serial)) => serial.to_string(),
            _ => "integer".to_string(),
        }
    }

    /// The index `Column(index=True)` makes.
    pub(super) fn index_sql(
        &self,
        convention: &NamingConvention,
        schema: Option<&str>,
        table: &str,
    ) -> Step<String> {
        let this = [self.name.clone()];
        let name = name_for(
            convention,
            &Given::Unnamed,
            ConventionObject::new(Kind::Ix, schema, table, &this).unique(self.unique),
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
