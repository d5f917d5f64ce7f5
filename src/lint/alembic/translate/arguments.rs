//! The arguments of an `op.*()` call read as the values Alembic would get: strings, flags, names
//! (`op.f("...")` included), lists of column names, SQL text. What is not a literal is refused
//! with where it is written.

use crate::python::{Expr, Position};

/// Why an operation cannot be replayed: where, and what.
pub(super) struct Refusal(pub Position, pub String);

pub(super) type Step<T> = Result<T, Refusal>;

pub(super) fn missing(at: Position, parameter: &str) -> Refusal {
    Refusal(at, format!("no {parameter} argument"))
}

/// A string literal.
pub(super) fn text(value: Option<&Expr>, at: Position, parameter: &str) -> Step<String> {
    let value = value.ok_or_else(|| missing(at, parameter))?;
    value.text().map(str::to_string).ok_or_else(|| {
        Refusal(
            value.at,
            format!("{parameter} is {}, not a string literal", value.describe()),
        )
    })
}

/// A string literal or `None` (the schema).
pub(super) fn optional_text(value: Option<&Expr>) -> Step<Option<String>> {
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

/// `True`, `False` or `None`.
pub(super) fn flag(value: Option<&Expr>) -> Step<bool> {
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
pub(super) enum Given {
    Unnamed,
    /// A plain string: SQLAlchemy applies a `%(constraint_name)s` template to it.
    Named(String),
    /// `op.f("...")`: already converted, used as is.
    Converted(String),
}

/// A name argument: a string, `op.f("...")`, or `None`.
pub(super) fn name_arg(value: Option<&Expr>) -> Step<Given> {
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
pub(super) fn text_name(value: Option<&Expr>, at: Position) -> Step<String> {
    match name_arg(value)? {
        Given::Named(name) | Given::Converted(name) => Ok(name),
        Given::Unnamed => Err(missing(at, "name")),
    }
}

/// The plain column names among an index's elements, in order (expressions left out).
pub(super) fn plain_columns(columns: &Expr) -> Vec<String> {
    columns
        .elements()
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.text().map(str::to_string))
        .collect()
}

/// A list (or tuple) of strings: column names.
pub(super) fn names(value: Option<&Expr>, at: Position, parameter: &str) -> Step<Vec<String>> {
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
pub(super) fn sql_text(value: Option<&Expr>, at: Position, parameter: &str) -> Step<String> {
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
