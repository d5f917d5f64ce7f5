//! Runs the naming checks over a schema model and turns each miss into a reportable violation
//! with its fix.

use crate::lint::config::{LabelSchema, LintOptions};
use crate::lint::model::{Location, Object, Schema, Table};
use crate::lint::naming::{self, CheckOptions, Column, Kind, ObjectRef, quote_ident};

/// A name that breaks the convention, with the SQL that renames it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub schema: String,
    pub table: String,
    pub kind: Kind,
    pub name: String,
    pub expected: Option<String>,
    /// Stable rule id, e.g. `naming/mismatch`.
    pub rule: String,
    pub message: String,
    /// The rename statement; `None` when no expected name can be derived or it would collide.
    pub fix: Option<String>,
    pub location: Option<Location>,
}

impl Violation {
    /// `schema.table.name`, the key of baselines and ignores.
    pub fn key(&self) -> String {
        format!("{}.{}.{}", self.schema, self.table, self.name)
    }
}

/// What one pass over the model found.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    pub violations: Vec<Violation>,
    pub objects_checked: usize,
    /// Objects inherited by partitions or child tables, not checked.
    pub skipped: usize,
    /// Objects matched by an ignore pattern.
    pub ignored: usize,
}

pub fn check_schema(
    schema: &Schema,
    options: &LintOptions,
    include_partitions: bool,
) -> anyhow::Result<Findings> {
    let mut findings = Findings::default();
    for table in &schema.tables {
        for object in &table.objects {
            if object.inherited && !include_partitions {
                findings.skipped += 1;
                continue;
            }
            let key = format!("{}.{}.{}", table.schema, table.name, object.name);
            if options
                .ignore
                .iter()
                .any(|pattern| crate::lint::glob(pattern, &key))
            {
                findings.ignored += 1;
                continue;
            }
            findings.objects_checked += 1;
            if let Some(violation) = check_object(schema, table, object, options)? {
                findings.violations.push(violation);
            }
        }
    }
    Ok(findings)
}

fn check_object(
    schema: &Schema,
    table: &Table,
    object: &Object,
    options: &LintOptions,
) -> anyhow::Result<Option<Violation>> {
    let declared_schema = match options.label_schema {
        LabelSchema::Always => true,
        LabelSchema::Never => false,
        LabelSchema::OutsideSearchPath => table.schema != schema.default_schema,
    };
    let naming_table = if declared_schema {
        naming::Table::in_schema(&table.schema, &table.name)
    } else {
        naming::Table::new(&table.name)
    };
    let column_names = object.sqlalchemy_columns();
    let columns: Vec<Column<'_>> = column_names.iter().map(|c| Column::new(c)).collect();
    let referred_columns: Vec<&str> = object
        .referred
        .as_ref()
        .map(|r| r.columns.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut reference = ObjectRef::new(object.kind, naming_table)
        .with_columns(&columns)
        .unique(object.unique);
    if let Some(referred) = &object.referred {
        reference = reference.referring_to(&referred.table, &referred_columns);
    }
    let violation = naming::check_with(
        &options.convention,
        &reference,
        &object.name,
        &CheckOptions::default(),
    )
    .map_err(|e| {
        crate::exit::invalid(format!(
            "naming convention for {}: {e}",
            object.kind.abbreviation()
        ))
    })?;
    Ok(violation.map(|v| {
        let default_note = if v.postgres_default {
            " (PostgreSQL default name)"
        } else {
            ""
        };
        let fix = v.expected.as_ref().map(|expected| rename_sql(&table.schema, &table.name, object.kind, &object.name, expected));
        let message = match (&v.expected, object.unnamed) {
            (Some(expected), true) => format!(
                "unnamed {} on {}.{} — PostgreSQL will name it {:?}; the convention expects {:?}: {} (where the migration already ran: {})",
                object.kind.abbreviation(),
                table.schema,
                table.name,
                object.name,
                expected,
                if object.kind == Kind::Ix {
                    format!("write CREATE INDEX {} ON ...", quote_ident(expected))
                } else {
                    format!("write CONSTRAINT {} before the definition", quote_ident(expected))
                },
                fix.clone().unwrap_or_default()
            ),
            (Some(expected), false) => format!(
                "{} {:?} on {}.{} should be named {:?}{default_note}",
                object.kind.abbreviation(),
                object.name,
                table.schema,
                table.name,
                expected
            ),
            (None, _) => format!("{}{default_note}", v.message),
        };
        Violation {
            schema: table.schema.clone(),
            table: table.name.clone(),
            kind: object.kind,
            name: object.name.clone(),
            fix: v.expected.as_ref().map(|expected| {
                rename_sql(
                    &table.schema,
                    &table.name,
                    object.kind,
                    &object.name,
                    expected,
                )
            }),
            expected: v.expected,
            rule: v.rule.id().to_string(),
            message,
            location: object.location.clone(),
        }
    }))
}

/// `ALTER TABLE ... RENAME CONSTRAINT` or `ALTER INDEX ... RENAME TO`, quoted and schema-qualified.
pub fn rename_sql(schema: &str, table: &str, kind: Kind, from: &str, to: &str) -> String {
    let (schema_q, from_q, to_q) = (quote_ident(schema), quote_ident(from), quote_ident(to));
    if kind == Kind::Ix {
        format!("ALTER INDEX {schema_q}.{from_q} RENAME TO {to_q};")
    } else {
        format!(
            "ALTER TABLE {schema_q}.{} RENAME CONSTRAINT {from_q} TO {to_q};",
            quote_ident(table)
        )
    }
}
