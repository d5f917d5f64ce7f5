//! Pending references: the pending revisions replayed, as the SQL Alembic renders for them
//! (`lint::alembic::translate`), over the live schema (`sqlfile::replay_over`), which fails where
//! PostgreSQL would: a drop, rename or alter of a name the database does not have (now, or
//! after the revisions before it), a create of a name already taken among the schema's relation
//! names or the table's constraint names. Each failure becomes a finding that names the
//! revision, the file and line, the operation, the object, what the database has instead and
//! the fix.
//!
//! "Instead" is looked up, never guessed: the history replayed up to the current revision says
//! what the missing name was (kind, table, columns), and the live table's object of that kind
//! and columns is the one the database calls otherwise; without history, an object whose name
//! is PostgreSQL's default for that name's stem. What cannot be followed without running Python
//! is a warning naming its line.

use std::collections::HashMap;

use serde::Serialize;

use crate::finding::{Code, Finding, Level};
use crate::lint::alembic::migration::Migration;
use crate::lint::alembic::{self, Translated, translate};
use crate::lint::model::{Object, Schema, Table};
use crate::lint::naming::postgres_names::recognise_postgres_default;
use crate::lint::naming::{Kind, NamingConvention};
use crate::lint::sqlfile::{self, FileError, LiveBase, SourceFile};
use crate::python::Located;

/// A finding about one statement of a pending revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct OperationFinding {
    #[serde(skip)]
    pub(crate) finding: Finding,
    pub(crate) revision: String,
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    /// `op.drop_constraint`, `batch_op.create_index`, ...
    pub(crate) operation: String,
    /// The name the operation refers to.
    pub(crate) object: Option<String>,
    pub(crate) table: Option<String>,
    /// What the database has instead: "foreign key fk_messages_author_id_users on ...".
    pub(crate) database_has: Option<String>,
    /// PostgreSQL's error, as `alembic upgrade` would stop with it.
    pub(crate) postgres_error: Option<String>,
    pub(crate) fix: String,
}

/// What the replay found.
#[derive(Debug, Clone, Default)]
pub(crate) struct PendingCheck {
    pub(crate) findings: Vec<OperationFinding>,
    /// History drift (`drift`): warnings about the database as a whole.
    pub(crate) drift: Vec<Finding>,
    /// The revision `alembic upgrade` stops in: the first with an error.
    pub(crate) fails_in: Option<String>,
}

/// The migrations of one replay, in the order Alembic runs them.
pub(crate) struct Chain<'m> {
    pub(crate) migrations: Vec<&'m Migration>,
}

/// Replays `pending` over `live`; `history` (the revisions up to the current ones) says what
/// the names the pending revisions use were.
pub(crate) fn check(
    pending: &Chain<'_>,
    history: &Chain<'_>,
    live: LiveBase,
    convention: &NamingConvention,
) -> PendingCheck {
    let history_schema = replay_history(history, convention);
    let translated: Vec<Translated> = pending
        .migrations
        .iter()
        .map(|m| translate::translate(m, convention))
        .collect();
    let files: Vec<SourceFile> = translated.iter().map(|t| t.sql.clone()).collect();
    let live_schema = live.schema.clone();
    let other_relations = live.other_relations.clone();
    let mut replay = sqlfile::replay_over(&files, live);
    alembic::relocate(&mut replay.schema, &mut replay.errors, &translated);
    alembic::relocate(&mut Schema::default(), &mut replay.notices, &translated);
    let context = Context {
        live: &live_schema,
        history: &history_schema,
        other_relations: &other_relations,
    };
    let by_file: HashMap<&str, &Migration> = pending
        .migrations
        .iter()
        .map(|m| (m.file.as_str(), *m))
        .collect();
    let mut findings: Vec<(usize, OperationFinding)> = Vec::new();
    let order: HashMap<&str, usize> = pending
        .migrations
        .iter()
        .enumerate()
        .map(|(i, m)| (m.file.as_str(), i))
        .collect();
    for error in &replay.errors {
        if let Some(migration) = by_file.get(error.file.as_str()) {
            findings.push((
                order[error.file.as_str()],
                context.failure(migration, error),
            ));
        }
    }
    for notice in &replay.notices {
        if let Some(migration) = by_file.get(notice.file.as_str()) {
            findings.push((order[notice.file.as_str()], skips(migration, notice)));
        }
    }
    for (i, t) in translated.iter().enumerate() {
        for skipped in &t.skipped {
            findings.push((i, not_followed(pending.migrations[i], skipped)));
        }
    }
    findings.sort_by_key(|(i, f)| (*i, f.line, f.column));
    let findings: Vec<OperationFinding> = findings.into_iter().map(|(_, f)| f).collect();
    let fails_in = findings
        .iter()
        .find(|f| f.finding.level() == Level::Error)
        .map(|f| f.revision.clone());
    let reported: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter_map(|f| f.object.as_deref())
        .collect();
    let drift = super::drift::drift(&live_schema, &history_schema, &reported);
    PendingCheck {
        findings,
        drift,
        fails_in,
    }
}

/// The schema the history leaves, from an empty database.
fn replay_history(history: &Chain<'_>, convention: &NamingConvention) -> Schema {
    let files: Vec<SourceFile> = history
        .migrations
        .iter()
        .map(|m| translate::translate(m, convention).sql)
        .collect();
    sqlfile::replay(&files, None).schema
}

/// The operation written at `line`: the call the innermost statement there starts with.
fn operation_at(statements: &[Located], line: usize) -> Option<String> {
    let statement = statements.iter().rev().find(|s| s.at.line <= line)?;
    if let Some(inner) = operation_at(&statement.body, line) {
        return Some(inner);
    }
    statement
        .calls
        .first()
        .map(|call| call.dotted().join("."))
        .filter(|name| !name.is_empty())
}

/// The names in double quotes in a PostgreSQL-style message, in order.
fn quoted(message: &str) -> Vec<&str> {
    message.split('"').skip(1).step_by(2).collect()
}

/// What is looked at when a statement fails.
struct Context<'a> {
    live: &'a Schema,
    history: &'a Schema,
    other_relations: &'a [(String, String)],
}

impl Context<'_> {
    fn failure(&self, migration: &Migration, error: &FileError) -> OperationFinding {
        let operation = operation_at(&migration.upgrade, error.line)
            .unwrap_or_else(|| "a statement".to_string());
        let names = quoted(&error.message);
        let word = error.message.split_whitespace().next().unwrap_or("");
        let object = names.first().map(|n| n.to_string());
        let mut table = names.get(1).map(|n| n.to_string());
        let (code, database_has, fix) = if error.message.ends_with("does not exist") {
            let name = object.clone().unwrap_or_default();
            if word == "index" && table.is_none() {
                table = self.history_table_of_index(&name).map(|t| t.name.clone());
            }
            let (has, fix) = self.instead_of_missing(word, &name, table.as_deref(), &operation);
            (Code::PendingMissingObject, Some(has), fix)
        } else if error.message.ends_with("already exists") {
            let name = object.clone().unwrap_or_default();
            let has = self.holder_of(word, &name, table.as_deref());
            let fix = format!(
                "give the new object another name in {}, or drop or rename the database's {name:?} in a revision before it (if it is the same object, made by hand, stamp or skip this step instead)",
                migration.file
            );
            (Code::PendingNameTaken, has, fix)
        } else {
            (
                Code::PendingStatementFails,
                None,
                "change the statement so that PostgreSQL accepts it on this database".to_string(),
            )
        };
        let where_ = format!(
            "{}:{}: revision {}: {operation}",
            migration.file, error.line, migration.revision
        );
        let mut message = format!("{where_} fails on this database with \"{}\"", error.message);
        if let Some(has) = &database_has {
            message.push_str(&format!("; {has}"));
        }
        message.push_str(&format!("; fix: {fix}"));
        OperationFinding {
            finding: Finding::new(code, message),
            revision: migration.revision.clone(),
            file: migration.file.clone(),
            line: error.line,
            column: error.column,
            operation,
            object,
            table,
            database_has,
            postgres_error: Some(error.message.clone()),
            fix,
        }
    }

    /// The history's table with the index (or index-backed constraint) `name`.
    fn history_table_of_index(&self, name: &str) -> Option<&Table> {
        self.history.tables.iter().find(|t| {
            t.objects
                .iter()
                .any(|o| o.name == name && relation_kind(o.kind))
        })
    }

    /// What the database has where a statement names `name` (a constraint, index, relation,
    /// table or column, as the message's first word says), and the fix.
    fn instead_of_missing(
        &self,
        word: &str,
        name: &str,
        table: Option<&str>,
        operation: &str,
    ) -> (String, String) {
        let live_table = table.and_then(|t| find_table(self.live, t));
        match word {
            "constraint" | "index" => {
                let Some(live_table) = live_table else {
                    return match table {
                        Some(table) => (
                            format!("the database has no table {table}"),
                            format!(
                                "create {table} in an earlier revision, or remove the {operation} step"
                            ),
                        ),
                        None => (
                            format!("the database has no index named {name}"),
                            "remove the step, or pass if_exists=True if the index may be absent"
                                .to_string(),
                        ),
                    };
                };
                let history = table
                    .and_then(|t| find_table(self.history, t))
                    .and_then(|t| t.objects.iter().find(|o| o.name == name));
                let same = |o: &&Object| match history {
                    Some(h) => {
                        o.kind == h.kind
                            && o.columns == h.columns
                            && o.referred.as_ref().map(|r| &r.table)
                                == h.referred.as_ref().map(|r| &r.table)
                    }
                    None => {
                        let columns = o.sqlalchemy_columns();
                        recognise_postgres_default(o.kind, &live_table.name, &columns, name)
                            .is_some()
                    }
                };
                let wanted_kind = |o: &&Object| word == "constraint" || relation_kind(o.kind);
                let candidates: Vec<&Object> = live_table
                    .objects
                    .iter()
                    .filter(wanted_kind)
                    .filter(same)
                    .collect();
                if let [found] = candidates.as_slice() {
                    let how = if history.is_some() {
                        "the migrations' history created"
                    } else {
                        "PostgreSQL would have named"
                    };
                    return (
                        format!(
                            "the database calls it {} ({}, the object {how} as {name})",
                            found.name,
                            describe(live_table, found)
                        ),
                        format!(
                            "refer to it as {:?} in the revision, or rename it back to {name:?} before deploying (a rename by lint-constraints --fix-sql is the usual cause)",
                            found.name
                        ),
                    );
                }
                let listed: Vec<String> = live_table
                    .objects
                    .iter()
                    .filter(wanted_kind)
                    .filter(|o| history.is_none_or(|h| o.kind == h.kind))
                    .map(|o| describe(live_table, o))
                    .collect();
                let what = history.map_or_else(
                    || format!("no {word} named {name}"),
                    |h| format!("no {name} ({})", describe_kind(h)),
                );
                let has = if listed.is_empty() {
                    format!("the database has {what} on {}", live_table.name)
                } else {
                    format!(
                        "the database has {what} on {}; it has {}",
                        live_table.name,
                        listed.join("; ")
                    )
                };
                (
                    has,
                    "refer to the object by the name the database has, or pass if_exists=True where it may be absent"
                        .to_string(),
                )
            }
            "column" => match live_table {
                Some(live_table) => (
                    format!(
                        "{} has the columns {}",
                        live_table.name,
                        live_table.columns.join(", ")
                    ),
                    "refer to a column the table has, or add it in an earlier revision".to_string(),
                ),
                None => (
                    format!("the database has no table {}", table.unwrap_or("")),
                    "create the table in an earlier revision".to_string(),
                ),
            },
            _ => {
                let elsewhere: Vec<String> = self
                    .live
                    .tables
                    .iter()
                    .filter(|t| t.name == name)
                    .map(|t| format!("{}.{}", t.schema, t.name))
                    .collect();
                let has = if elsewhere.is_empty() {
                    format!("the database has no relation named {name}")
                } else {
                    format!(
                        "the database has {name} only as {} (not on the search path)",
                        elsewhere.join(", ")
                    )
                };
                (
                    has,
                    "create it in an earlier revision, qualify it with schema=..., or pass if_exists=True where it may be absent".to_string(),
                )
            }
        }
    }

    /// What holds `name` in the database: an object of the table (constraint names are per
    /// table), a relation of the schema, or none the live database shows (made by an earlier
    /// pending revision).
    fn holder_of(&self, word: &str, name: &str, table: Option<&str>) -> Option<String> {
        if word == "constraint"
            && let Some(t) = table.and_then(|t| find_table(self.live, t))
            && let Some(o) = t.objects.iter().find(|o| o.name == name)
        {
            return Some(format!("the database has {}", describe(t, o)));
        }
        for t in &self.live.tables {
            if t.name == name {
                return Some(format!("the database has table {}.{}", t.schema, t.name));
            }
            if let Some(o) = t
                .objects
                .iter()
                .find(|o| o.name == name && relation_kind(o.kind))
            {
                return Some(format!("the database has {}", describe(t, o)));
            }
        }
        if let Some((schema, _)) = self.other_relations.iter().find(|(_, n)| n == name) {
            return Some(format!(
                "the database has a sequence, view or other relation {schema}.{name}"
            ));
        }
        Some(format!(
            "{name:?} is not in the database now: an earlier pending revision creates it"
        ))
    }
}

/// Index-backed: their names are relation names of the schema.
fn relation_kind(kind: Kind) -> bool {
    kind.is_relation()
}

fn find_table<'s>(schema: &'s Schema, name: &str) -> Option<&'s Table> {
    let (schema_name, table) = match name.split_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, name),
    };
    schema
        .tables
        .iter()
        .filter(|t| t.name == table && schema_name.is_none_or(|s| s == t.schema))
        .min_by_key(|t| t.schema != schema.default_schema)
}

fn describe_kind(o: &Object) -> &'static str {
    match o.kind {
        Kind::Pk => "primary key",
        Kind::Uq => "unique constraint",
        Kind::Fk => "foreign key",
        Kind::Ck => "check constraint",
        Kind::Ix if o.unique => "unique index",
        Kind::Ix => "index",
        _ => "exclusion constraint",
    }
}

/// "foreign key fk_a_b_users on a (b) referencing users (id)".
fn describe(table: &Table, o: &Object) -> String {
    let columns: Vec<&str> = o.sqlalchemy_columns();
    let mut text = format!(
        "{} {} on {} ({})",
        describe_kind(o),
        o.name,
        table.name,
        columns.join(", ")
    );
    if let Some(referred) = &o.referred {
        text.push_str(&format!(
            " referencing {} ({})",
            referred.table,
            referred.columns.join(", ")
        ));
    }
    text
}

/// An `IF NOT EXISTS` that creates nothing because the name belongs to another object.
fn skips(migration: &Migration, notice: &FileError) -> OperationFinding {
    let operation =
        operation_at(&migration.upgrade, notice.line).unwrap_or_else(|| "a statement".to_string());
    let object = quoted_or_word(&notice.message);
    let fix = "give the new object a name of its own, or drop if_not_exists=True so that the clash fails loudly".to_string();
    OperationFinding {
        finding: Finding::new(
            Code::IfNotExistsSkips,
            format!(
                "{}:{}: revision {}: {operation}: {}; fix: {fix}",
                migration.file, notice.line, migration.revision, notice.message
            ),
        ),
        revision: migration.revision.clone(),
        file: migration.file.clone(),
        line: notice.line,
        column: notice.column,
        operation,
        object,
        table: None,
        database_has: notice
            .message
            .split_once("taken by ")
            .map(|(_, by)| format!("the database has {}", by.split(';').next().unwrap_or(by))),
        postgres_error: None,
        fix,
    }
}

/// The object a notice is about: its fifth word (`CREATE INDEX IF NOT EXISTS name ...`).
fn quoted_or_word(message: &str) -> Option<String> {
    let words: Vec<&str> = message.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "EXISTS")?;
    words.get(at + 1).map(|w| w.to_string())
}

/// A statement only running Python could follow.
fn not_followed(migration: &Migration, skipped: &alembic::Skipped) -> OperationFinding {
    let operation = operation_at(&migration.upgrade, skipped.at.line)
        .unwrap_or_else(|| "a statement".to_string());
    let fix =
        "check by hand what it does to this database, or write it as op.* calls with literal names"
            .to_string();
    OperationFinding {
        finding: Finding::new(
            Code::PendingCodeNotFollowed,
            format!(
                "{}:{}: revision {}: not checked: {}; fix: {fix}",
                migration.file, skipped.at.line, migration.revision, skipped.message
            ),
        ),
        revision: migration.revision.clone(),
        file: migration.file.clone(),
        line: skipped.at.line,
        column: skipped.at.column,
        operation,
        object: None,
        table: None,
        database_has: None,
        postgres_error: None,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_come_in_order() {
        assert_eq!(
            quoted("constraint \"a_fkey\" of relation \"messages\" does not exist"),
            ["a_fkey", "messages"]
        );
        assert!(quoted("no names").is_empty());
        assert_eq!(
            quoted_or_word("CREATE INDEX IF NOT EXISTS ix_a creates nothing").as_deref(),
            Some("ix_a")
        );
    }
}
