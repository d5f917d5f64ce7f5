//! Runs the naming checks over a schema model and turns each miss into a reportable violation
//! with its fix.

use crate::finding::Code;
use crate::lint::config::{LabelSchema, LintOptions};
use crate::lint::model::{Location, Object, Schema, Table};
use crate::lint::naming::{self, CheckOptions, Column, Kind, ObjectRef, push_ident, quote_ident};

/// A name that breaks the convention. Its message and rename statement are rendered on demand
/// ([`Violation::message`], [`Violation::fix`]): a large schema has tens of thousands of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub expected: Option<String>,
    /// The rule broken, a registered code: `naming/mismatch`.
    pub rule: Code,
    pub(crate) location: Option<Box<Location>>,
    /// The name is (or looks like) one PostgreSQL chose itself.
    pub(crate) postgres_default: bool,
    /// Defined without a name in a SQL file: the name is PostgreSQL's future choice.
    pub(crate) unnamed: bool,
    /// Renaming to the expected name would collide with another object's name.
    pub(crate) collides: bool,
    /// The naming check's own explanation, kept when no expected name can be derived.
    pub(crate) explanation: Option<String>,
    /// The object's (table, object) index in the schema model it was checked in.
    pub(crate) position: (u32, u32),
}

impl Violation {
    /// `schema.table.name`, the key of baselines and ignores.
    pub(crate) fn key(&self) -> String {
        format!("{}.{}.{}", self.schema, self.table, self.name)
    }

    /// Whether there is a rename statement: an expected name that collides with nothing.
    pub(crate) fn has_fix(&self) -> bool {
        self.expected.is_some() && !self.collides
    }

    /// The rename statement; `None` when no expected name can be derived or it would collide.
    pub(crate) fn fix(&self) -> Option<String> {
        if self.collides {
            return None;
        }
        self.rename()
    }

    fn rename(&self) -> Option<String> {
        let expected = self.expected.as_deref()?;
        Some(rename_sql(
            &self.schema,
            &self.table,
            self.kind,
            &self.name,
            expected,
        ))
    }

    /// One line saying what is wrong and what the name should be.
    pub(crate) fn message(&self) -> String {
        let kind = self.kind.abbreviation();
        let mut message = match (&self.expected, self.unnamed) {
            (Some(expected), true) => format!(
                "unnamed {kind} on {}.{} — PostgreSQL will name it {:?}; the convention expects {:?}: {} (where the migration already ran: {})",
                self.schema,
                self.table,
                self.name,
                expected,
                if self.location.as_ref().is_some_and(|l| l.alembic_operation) {
                    format!("write name=op.f({expected:?})")
                } else if self.kind == Kind::Ix {
                    format!("write CREATE INDEX {} ON ...", quote_ident(expected))
                } else {
                    format!(
                        "write CONSTRAINT {} before the definition",
                        quote_ident(expected)
                    )
                },
                self.rename().unwrap_or_default()
            ),
            (Some(expected), false) => {
                let mut line = String::with_capacity(
                    48 + self.name.len() + self.schema.len() + self.table.len() + expected.len(),
                );
                line.push_str(kind);
                line.push(' ');
                push_debug(&mut line, &self.name);
                line.push_str(" on ");
                line.push_str(&self.schema);
                line.push('.');
                line.push_str(&self.table);
                line.push_str(" should be named ");
                push_debug(&mut line, expected);
                line
            }
            (None, _) => self.explanation.clone().unwrap_or_default(),
        };
        if self.postgres_default && !(self.unnamed && self.expected.is_some()) {
            message.push_str(" (PostgreSQL default name)");
        }
        if self.collides {
            message.push_str("; not renamed: the expected name collides with another object");
        }
        message
    }
}

#[cfg(test)]
impl Violation {
    /// A naming mismatch of `kind` object `name` on `public.<table>`, PostgreSQL's default name,
    /// that should be `expected`: the tests' starting point.
    pub(crate) fn example(table: &str, kind: Kind, name: &str, expected: &str) -> Violation {
        Violation {
            schema: "public".to_string(),
            table: table.to_string(),
            kind,
            name: name.to_string(),
            expected: Some(expected.to_string()),
            rule: Code::NamingMismatch,
            location: None,
            postgres_default: true,
            unnamed: false,
            collides: false,
            explanation: None,
            position: (0, 0),
        }
    }
}

/// `text` as Rust's `{:?}` writes it, without the formatting machinery for the common case.
fn push_debug(out: &mut String, text: &str) {
    if text
        .chars()
        .all(|c| (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ')
    {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{text:?}");
    }
}

/// What one pass over the model found.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    pub violations: Vec<Violation>,
    pub(crate) objects_checked: usize,
    /// Objects inherited by partitions or child tables, not checked.
    pub(crate) skipped: usize,
    /// Objects matched by an ignore pattern.
    pub(crate) ignored: usize,
}

pub fn check_schema(
    schema: &Schema,
    options: &LintOptions,
    include_partitions: bool,
) -> anyhow::Result<Findings> {
    let objects: usize = schema.tables.iter().map(|t| t.objects.len()).sum();
    // Large schemas are checked on every core, in table ranges, and the findings joined in order.
    let threads = if objects < 4096 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    };
    let chunk = schema.tables.len().div_ceil(threads).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..schema.tables.len())
        .step_by(chunk)
        .map(|start| start..(start + chunk).min(schema.tables.len()))
        .collect();
    if ranges.len() <= 1 {
        return check_tables(
            schema,
            0..schema.tables.len(),
            objects,
            options,
            include_partitions,
        );
    }
    let parts: Vec<anyhow::Result<Findings>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .enumerate()
            .map(|(i, range)| {
                let range = range.clone();
                // The first part collects everyone's violations: it reserves room for all.
                let room = if i == 0 {
                    objects
                } else {
                    schema.tables[range.clone()]
                        .iter()
                        .map(|t| t.objects.len())
                        .sum()
                };
                let inline = (range.clone(), room);
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        check_tables(schema, range, room, options, include_partitions)
                    })
                    .map_err(|_| inline)
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a naming check failed unexpectedly"))),
                // No thread to be had: check that range here.
                Err((range, room)) => {
                    check_tables(schema, range, room, options, include_partitions)
                }
            })
            .collect()
    });
    let mut findings = Findings::default();
    for part in parts {
        let part = part?;
        if findings.violations.is_empty() {
            findings.violations = part.violations;
        } else {
            findings.violations.extend(part.violations);
        }
        findings.objects_checked += part.objects_checked;
        findings.skipped += part.skipped;
        findings.ignored += part.ignored;
    }
    Ok(findings)
}

/// Checks the tables in `range`; `room` is the violations to reserve space for.
fn check_tables(
    schema: &Schema,
    range: std::ops::Range<usize>,
    room: usize,
    options: &LintOptions,
    include_partitions: bool,
) -> anyhow::Result<Findings> {
    let mut findings = Findings::default();
    // At most one violation per object; pages reserved but never written cost nothing.
    findings.violations.reserve(room);
    for ti in range {
        let table = &schema.tables[ti];
        for (oi, object) in table.objects.iter().enumerate() {
            if object.inherited && !include_partitions {
                findings.skipped += 1;
                continue;
            }
            if !options.ignore.is_empty() && {
                let key = format!("{}.{}.{}", table.schema, table.name, object.name);
                options
                    .ignore
                    .iter()
                    .any(|pattern| crate::lint::glob(pattern, &key))
            } {
                findings.ignored += 1;
                continue;
            }
            findings.objects_checked += 1;
            if let Some(mut violation) = check_object(schema, table, object, options)? {
                violation.position = (ti as u32, oi as u32);
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
        naming::TableRef::in_schema(&table.schema, &table.name)
    } else {
        naming::TableRef::new(&table.name)
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
    let invalid = |e: naming::NamingError| {
        crate::exit::invalid(format!(
            "naming convention for {}: {e}",
            object.kind.abbreviation()
        ))
    };
    let options_ = CheckOptions::default();
    let Some(verdict) = naming::verdict(&options.convention, &reference, &object.name, &options_)
        .map_err(invalid)?
    else {
        return Ok(None);
    };
    let explanation = match verdict.expected {
        Some(_) => None,
        None => naming::check_with(&options.convention, &reference, &object.name, &options_)
            .map_err(invalid)?
            .map(|v| v.message),
    };
    Ok(Some(Violation {
        schema: table.schema.clone(),
        table: table.name.clone(),
        kind: object.kind,
        name: object.name.clone(),
        expected: verdict.expected,
        rule: rule_code(verdict.rule),
        location: object.location.clone(),
        postgres_default: naming::is_postgres_default(&reference, &object.name),
        unnamed: object.unnamed,
        collides: false,
        explanation,
        position: (0, 0),
    }))
}

/// The registered code of a naming rule (`lint::naming` is kept free of the rest of the crate).
fn rule_code(rule: naming::Rule) -> Code {
    match rule {
        naming::Rule::NameMismatch => Code::NamingMismatch,
        naming::Rule::DoubledConvention => Code::NamingDoubledConvention,
    }
}

/// The rename statement, quoted and schema-qualified: `ALTER INDEX ... RENAME TO` for everything
/// stored as an index (ix, and the index behind a pk, uq or ex, whose constraint PostgreSQL renames
/// with it), `ALTER TABLE ... RENAME CONSTRAINT` for fk and ck.
///
/// The difference is the lock ([`crate::lint::fix`]'s module docs): since PostgreSQL 12,
/// `RenameRelation` renames an index under SHARE UPDATE EXCLUSIVE on the index alone, and
/// `RenameRelationInternal` renames the constraint the index backs (`get_index_constraint`);
/// `RENAME CONSTRAINT` takes ACCESS EXCLUSIVE on the table. PostgreSQL keeps an index-backed
/// constraint's name and its index's name equal (each rename renames the other), so the
/// constraint's name is the index's.
pub(crate) fn rename_sql(schema: &str, table: &str, kind: Kind, from: &str, to: &str) -> String {
    let mut sql = String::with_capacity(48 + schema.len() + table.len() + from.len() + to.len());
    if kind.is_relation() {
        sql.push_str("ALTER INDEX ");
        push_ident(&mut sql, schema);
        sql.push('.');
        push_ident(&mut sql, from);
        sql.push_str(" RENAME TO ");
    } else {
        sql.push_str("ALTER TABLE ");
        push_ident(&mut sql, schema);
        sql.push('.');
        push_ident(&mut sql, table);
        sql.push_str(" RENAME CONSTRAINT ");
        push_ident(&mut sql, from);
        sql.push_str(" TO ");
    }
    push_ident(&mut sql, to);
    sql.push(';');
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::naming::NamingConvention;

    #[test]
    fn naming_rules_report_their_registered_codes() {
        for rule in [naming::Rule::NameMismatch, naming::Rule::DoubledConvention] {
            assert_eq!(rule_code(rule).as_str(), rule.id());
        }
    }

    fn options() -> LintOptions {
        LintOptions {
            convention: NamingConvention::app_default(),
            label_schema: LabelSchema::OutsideSearchPath,
            ignore: Vec::new(),
            config_file: None,
        }
    }

    fn object(kind: Kind, name: String, column: &str) -> Object {
        Object {
            kind,
            name,
            columns: vec![Some(column.to_string())],
            expression_columns: Vec::new(),
            referred: None,
            unique: kind == Kind::Pk,
            inherited: false,
            location: None,
            unnamed: false,
        }
    }

    #[test]
    fn a_large_schema_checked_in_parallel_gives_the_sequential_findings_in_order() {
        let tables = (0..3000)
            .map(|i| Table {
                schema: "public".to_string(),
                name: format!("t{i}"),
                columns: vec!["id".to_string(), "status".to_string()],
                is_child: false,
                objects: vec![
                    // Every other table follows the convention for its primary key.
                    object(
                        Kind::Pk,
                        if i % 2 == 0 {
                            format!("pk_t{i}")
                        } else {
                            format!("t{i}_pkey")
                        },
                        "id",
                    ),
                    object(Kind::Ix, format!("t{i}_status_idx"), "status"),
                ],
            })
            .collect();
        let schema = Schema {
            tables,
            default_schema: "public".to_string(),
        };
        let parallel = check_schema(&schema, &options(), false).unwrap();
        let sequential =
            check_tables(&schema, 0..schema.tables.len(), 0, &options(), false).unwrap();
        assert_eq!(parallel.objects_checked, 6000);
        assert_eq!(parallel.violations.len(), 4500);
        assert_eq!(parallel.violations, sequential.violations);
        assert!(
            parallel
                .violations
                .windows(2)
                .all(|w| w[0].position < w[1].position)
        );
        let last = parallel.violations.last().unwrap();
        assert_eq!(
            (last.name.as_str(), last.position),
            ("t2999_status_idx", (2999, 1))
        );
    }

    #[test]
    fn index_backed_kinds_are_renamed_through_the_index_and_the_rest_through_the_table() {
        for kind in Kind::ALL {
            let sql = rename_sql("app", "t", kind, "old", "new");
            let expected = if matches!(kind, Kind::Pk | Kind::Uq | Kind::Ex | Kind::Ix) {
                "ALTER INDEX app.old RENAME TO new;"
            } else {
                "ALTER TABLE app.t RENAME CONSTRAINT old TO new;"
            };
            assert_eq!(sql, expected, "{kind}");
        }
    }

    #[test]
    fn messages_and_fixes_are_rendered_from_the_facts() {
        let violation = Violation::example("Order", Kind::Uq, "Order_code_key", "uq_Order_code");
        assert_eq!(
            violation.message(),
            "uq \"Order_code_key\" on public.Order should be named \"uq_Order_code\" (PostgreSQL default name)"
        );
        assert_eq!(
            violation.fix().as_deref(),
            Some("ALTER INDEX public.\"Order_code_key\" RENAME TO \"uq_Order_code\";")
        );
        let collides = Violation {
            collides: true,
            ..violation.clone()
        };
        assert_eq!(collides.fix(), None);
        assert!(
            collides
                .message()
                .ends_with("; not renamed: the expected name collides with another object")
        );
        let odd = Violation {
            name: "a\"b\\c".to_string(),
            postgres_default: false,
            ..violation
        };
        assert!(
            odd.message().starts_with("uq \"a\\\"b\\\\c\" on"),
            "{}",
            odd.message()
        );
    }
}
