//! The names SQLAlchemy gives what a migration creates, under the migration context's naming
//! convention.

use super::arguments::{Given, Refusal, Step};
use crate::lint::naming::{Column, Declared, Kind, NamingConvention, ObjectRef, TableRef};
use crate::python::Position;

/// What SQLAlchemy's `ConventionDict` reads from an object.
pub(super) struct ConventionObject<'a> {
    kind: Kind,
    schema: Option<&'a str>,
    table: &'a str,
    columns: &'a [String],
    referred: Option<(&'a str, &'a [String])>,
    unique: bool,
}

impl<'a> ConventionObject<'a> {
    pub(super) fn new(
        kind: Kind,
        schema: Option<&'a str>,
        table: &'a str,
        columns: &'a [String],
    ) -> Self {
        ConventionObject {
            kind,
            schema,
            table,
            columns,
            referred: None,
            unique: false,
        }
    }

    pub(super) fn referring_to(mut self, table: &'a str, columns: &'a [String]) -> Self {
        self.referred = Some((table, columns));
        self
    }

    pub(super) fn unique(mut self, unique: bool) -> Self {
        self.unique = unique;
        self
    }
}

/// The name SQLAlchemy renders for an object with the context's convention (`None`:
/// PostgreSQL chooses it); what SQLAlchemy refuses (a `%(constraint_name)s` template for an
/// unnamed object, a name too long) is refused.
pub(super) fn name_for(
    convention: &NamingConvention,
    given: &Given,
    object: ConventionObject<'_>,
    at: Position,
) -> Step<Option<String>> {
    let columns: Vec<Column> = object.columns.iter().map(|c| Column::new(c)).collect();
    let table = match object.schema {
        Some(schema) => TableRef::in_schema(schema, object.table),
        None => TableRef::new(object.table),
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
