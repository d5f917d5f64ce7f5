//! The SQL an operation renders, as Alembic renders it for PostgreSQL.

use super::arguments::{Refusal, Step, flag, sql_text};
use crate::lint::naming::quote_ident;
use crate::python::{Call, Expr, Position};

/// One piece of the SQL an operation renders.
pub(super) enum Rendered {
    /// A line dbtool writes, from the Python at this position.
    Line(String, Position),
    /// `op.execute`'s own SQL, written as is; the position is the string literal's.
    Verbatim(String, Position),
}

/// `if_exists=True` of the drop operations.
pub(super) fn if_exists(call: &Call) -> Step<&'static str> {
    Ok(if flag(call.keyword("if_exists"))? {
        "IF EXISTS "
    } else {
        ""
    })
}

/// SQL text on one line, its whitespace runs made single spaces.
pub(super) fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `schema.name` or `name`, quoted where PostgreSQL needs it.
pub(super) fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(name),
    }
}

/// `a, b`, quoted where PostgreSQL needs it.
pub(super) fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CONSTRAINT name ` for a named constraint, nothing for an unnamed one.
pub(super) fn constraint_prefix(name: Option<&str>) -> String {
    name.map(|n| format!("CONSTRAINT {} ", quote_ident(n)))
        .unwrap_or_default()
}

/// The elements of `op.create_index`'s column list: names, or expressions as `sa.text(...)`.
pub(super) fn index_elements(columns: &Expr) -> Step<String> {
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
