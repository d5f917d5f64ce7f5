//! Finding the convention in a module and evaluating it, literals only (see the module docs of
//! `convention_source` for what is accepted).

use super::found::{ConventionEntry, Found, SourceConvention, SourceError};
use super::module::{Bound, InScope, Module, single_targets};
use crate::lint::naming::{Kind, NamingConvention};
use crate::python::{Argument, DictEntry, Expr, ExprKind, Position, StrLiteral};

/// What to do when the value is not a literal.
const WRITE_A_LITERAL: &str = "dbtool reads it without running Python: write the dict literal there, or pass each template with --convention KEY=TEMPLATE";

/// How deep names may refer to names (`A = B`, `B = {...}`) before it is called a cycle.
const MAX_DEPTH: usize = 32;

/// The string keys `MetaData` reads (`sqlalchemy/sql/naming.py`, `_prefix_dict`).
const ABBREVIATIONS: [&str; 5] = ["pk", "fk", "uq", "ck", "ix"];

fn error<T>(at: Position, message: impl Into<String>) -> Result<T, SourceError> {
    Err(SourceError {
        at,
        message: message.into(),
    })
}

/// Where an expression is evaluated: its scope and the statement it belongs to.
#[derive(Debug, Clone, Copy)]
struct Place {
    scope: usize,
    in_function: bool,
    at: Position,
}

impl Place {
    fn of(statement: &InScope) -> Place {
        Place {
            scope: statement.scope,
            in_function: statement.in_function,
            at: statement.at,
        }
    }
}

/// A convention found: how, where, and its entries.
type Candidate = (Found, Position, Vec<ConventionEntry>);

/// Finds the convention the module gives SQLAlchemy (the module docs give the order).
pub(super) fn find(module: &Module) -> Result<SourceConvention, SourceError> {
    let evaluator = Evaluator { module };
    let mut found = evaluator.assignments()?;
    if found.is_empty() {
        found = evaluator.metadata_calls()?;
    }
    if found.is_empty() {
        found = evaluator.module_constants()?;
    }
    let (how, at, entries) = the_one(found)?;
    let convention = to_convention(&entries)?;
    Ok(SourceConvention {
        entries,
        convention,
        found: how,
        at,
    })
}

/// The candidate, when there is one or all agree.
fn the_one(found: Vec<Candidate>) -> Result<Candidate, SourceError> {
    let content = |entries: &[ConventionEntry]| -> Vec<(String, String)> {
        entries
            .iter()
            .map(|e| (e.key.clone(), e.template.clone()))
            .collect()
    };
    let mut found = found.into_iter();
    let Some(first) = found.next() else {
        return error(
            Position { line: 1, column: 1 },
            "no MetaData(...), .naming_convention = ... or top-level *_CONVENTION dict here; pass the file that creates the application's MetaData",
        );
    };
    if let Some((_, other, _)) = found.find(|(_, _, e)| content(e) != content(&first.2)) {
        return error(
            other,
            format!(
                "a second, different naming convention (the first is at line {}); pass --convention-from a file with one",
                first.1.line
            ),
        );
    }
    Ok(first)
}

/// `MetaData.__init__`: `naming_convention if naming_convention else DEFAULT_NAMING_CONVENTION`.
fn metadata_result(at: Position, entries: Vec<ConventionEntry>) -> Candidate {
    if entries.is_empty() {
        let default = ConventionEntry {
            key: "ix".to_string(),
            template: "ix_%(column_0_label)s".to_string(),
            at,
        };
        (Found::SqlalchemyDefault, at, vec![default])
    } else {
        (Found::MetaData, at, entries)
    }
}

/// Validates each entry where it is written, then builds the convention.
fn to_convention(entries: &[ConventionEntry]) -> Result<NamingConvention, SourceError> {
    for entry in entries {
        NamingConvention::parse(&entry.key, &entry.template).map_err(|e| SourceError {
            at: entry.at,
            message: format!("{e}; fix the template in the application"),
        })?;
    }
    NamingConvention::from_pairs(entries.iter().map(|e| (&e.key, &e.template))).map_err(|e| {
        SourceError {
            at: entries[0].at,
            message: e.to_string(),
        }
    })
}

struct Evaluator<'m> {
    module: &'m Module<'m>,
}

impl Evaluator<'_> {
    /// `<something>.naming_convention = value`.
    fn assignments(&self) -> Result<Vec<Candidate>, SourceError> {
        let mut found = Vec::new();
        for statement in &self.module.statements {
            if let Some((targets, value)) = statement.statement.assignment()
                && targets.iter().any(|t| {
                    t.dotted().is_some_and(|d| {
                        d.len() >= 2 && d.last().is_some_and(|l| l == "naming_convention")
                    })
                })
            {
                let entries = self.dict(value, Place::of(statement), 0, "naming_convention")?;
                found.push((Found::Assignment, statement.at, entries));
            }
        }
        Ok(found)
    }

    /// Every `MetaData(...)` call with its `naming_convention` (keyword or third positional).
    fn metadata_calls(&self) -> Result<Vec<Candidate>, SourceError> {
        let mut found = Vec::new();
        for statement in &self.module.statements {
            for call in statement.calls.iter().filter(|c| c.name() == "MetaData") {
                let mut convention = None;
                for (index, argument) in call.arguments.iter().enumerate() {
                    match argument {
                        Argument::Keyword(name, value) if name == "naming_convention" => {
                            convention = Some(value)
                        }
                        Argument::Positional(value) if index == 2 => convention = Some(value),
                        Argument::Star(value) | Argument::DoubleStar(value) => {
                            return error(
                                value.at,
                                format!(
                                    "MetaData() gets its arguments unpacked from a value; {WRITE_A_LITERAL}"
                                ),
                            );
                        }
                        _ => {}
                    }
                }
                let entries = match convention {
                    Some(value) if value.is_name("None") => Vec::new(),
                    Some(value) => {
                        self.dict(value, Place::of(statement), 0, "naming_convention")?
                    }
                    None => Vec::new(),
                };
                found.push(metadata_result(call.at(), entries));
            }
        }
        Ok(found)
    }

    /// A dict literal's entries in Python's order: a repeated key keeps its first place and
    /// takes the last value.
    fn dict(
        &self,
        expr: &Expr,
        place: Place,
        depth: usize,
        what: &str,
    ) -> Result<Vec<ConventionEntry>, SourceError> {
        let mut entries: Vec<ConventionEntry> = Vec::new();
        let mut insert =
            |entry: ConventionEntry| match entries.iter_mut().find(|e| e.key == entry.key) {
                Some(existing) => existing.template = entry.template,
                None => entries.push(entry),
            };
        match &expr.kind {
            ExprKind::Dict(items) => {
                for item in items {
                    match item {
                        DictEntry::Pair(key, value) => {
                            let key = self.key(key, place, depth)?;
                            let template = self.string(value, place, depth, &key)?;
                            insert(ConventionEntry {
                                key,
                                template,
                                at: value.at,
                            });
                        }
                        DictEntry::Unpack(other) => {
                            for entry in self.dict(other, place, depth, what)? {
                                insert(entry);
                            }
                        }
                    }
                }
            }
            ExprKind::Call(call) if call.dotted() == ["dict"] => {
                for (index, argument) in call.arguments.iter().enumerate() {
                    let merged = match argument {
                        Argument::Positional(value) if index == 0 => {
                            self.dict(value, place, depth, what)?
                        }
                        Argument::DoubleStar(value) => self.dict(value, place, depth, what)?,
                        Argument::Keyword(key, value) => {
                            let key = self.checked_key(key.clone(), value.at)?;
                            let template = self.string(value, place, depth, &key)?;
                            vec![ConventionEntry {
                                key,
                                template,
                                at: value.at,
                            }]
                        }
                        other => {
                            return error(
                                other.value().at,
                                format!(
                                    "this dict() argument is not a dict literal; {WRITE_A_LITERAL}"
                                ),
                            );
                        }
                    };
                    merged.into_iter().for_each(&mut insert);
                }
            }
            ExprKind::Name(name) if name.len() == 1 => {
                let (value, place) = self.resolve(&name[0], expr.at, place, depth)?;
                return self.dict(value, place, depth + 1, &name[0]);
            }
            ExprKind::Call(call) => {
                let function = if call.dotted().is_empty() {
                    "a function".to_string()
                } else {
                    format!("{}()", call.dotted().join("."))
                };
                return error(
                    call.at(),
                    format!("{what} is built by calling {function}; {WRITE_A_LITERAL}"),
                );
            }
            ExprKind::Name(name) => {
                return error(
                    expr.at,
                    format!(
                        "{what} is {}, an attribute of another object; {WRITE_A_LITERAL}",
                        name.join(".")
                    ),
                );
            }
            ExprKind::Str(_) => {
                return error(
                    expr.at,
                    format!("{what} is a string, not a dict; {WRITE_A_LITERAL}"),
                );
            }
            ExprKind::Subscript(..) => {
                return error(
                    expr.at,
                    format!("{what} is taken from a subscript; {WRITE_A_LITERAL}"),
                );
            }
            _ => {
                return error(
                    expr.at,
                    format!(
                        "{what} is {}, not a dict literal; {WRITE_A_LITERAL}",
                        expr.describe()
                    ),
                );
            }
        }
        Ok(entries)
    }

    /// A key: a string SQLAlchemy reads, or a constraint class (`Index`, `sa.UniqueConstraint`).
    fn key(&self, expr: &Expr, place: Place, depth: usize) -> Result<String, SourceError> {
        match &expr.kind {
            ExprKind::Name(name) => {
                let last = name.last().map(String::as_str).unwrap_or_default();
                if Kind::ALL.iter().any(|k| k.sqlalchemy_class() == last) {
                    return Ok(last.to_string());
                }
                if name.len() == 1 {
                    let (value, place) = self.resolve(last, expr.at, place, depth)?;
                    return self.key(value, place, depth + 1);
                }
                error(
                    expr.at,
                    format!(
                        "key {} is neither a string nor a constraint class dbtool knows (Index, PrimaryKeyConstraint, ForeignKeyConstraint, UniqueConstraint, CheckConstraint, ExcludeConstraint); key it by pk, fk, uq, ck or ix",
                        name.join(".")
                    ),
                )
            }
            ExprKind::Str(StrLiteral::Text(text)) => self.checked_key(text.clone(), expr.at),
            _ => {
                let text = self.string(expr, place, depth, "a key")?;
                self.checked_key(text, expr.at)
            }
        }
    }

    /// A string key as SQLAlchemy sees it: only the five abbreviations are read.
    fn checked_key(&self, key: String, at: Position) -> Result<String, SourceError> {
        if ABBREVIATIONS.contains(&key.as_str()) {
            return Ok(key);
        }
        let message = match Kind::ALL
            .iter()
            .find(|k| k.sqlalchemy_class() == key || k.abbreviation() == key)
        {
            Some(Kind::Ex) => format!(
                "key {key:?} is a string SQLAlchemy never reads (exclusion constraints have no abbreviation); key the template by the class ExcludeConstraint"
            ),
            Some(kind) => format!(
                "key {key:?} is a string, and SQLAlchemy looks up the class, not its name; write {} unquoted, or {:?}",
                kind.sqlalchemy_class(),
                kind.abbreviation()
            ),
            None => format!(
                "unknown naming convention key {key:?}; use pk, fk, uq, ck, ix or a constraint class (a custom token's value must be a function, which dbtool cannot run)"
            ),
        };
        error(at, message)
    }

    /// A template: a string literal (concatenated pieces included), or a name bound to one.
    fn string(
        &self,
        expr: &Expr,
        place: Place,
        depth: usize,
        key: &str,
    ) -> Result<String, SourceError> {
        let at = expr.at;
        match &expr.kind {
            ExprKind::Str(StrLiteral::Text(text)) => Ok(text.clone()),
            ExprKind::Str(StrLiteral::Bytes) => error(
                at,
                format!("the value for {key:?} is bytes; write it as a plain string"),
            ),
            ExprKind::Str(StrLiteral::Formatted) => error(
                at,
                format!(
                    "the value for {key:?} is an f-string with replacement fields; write the template as a plain string"
                ),
            ),
            ExprKind::Name(name) if name.len() == 1 => {
                let (value, place) = self.resolve(&name[0], at, place, depth)?;
                self.string(value, place, depth + 1, key)
            }
            ExprKind::Lambda => error(
                at,
                format!(
                    "the value for {key:?} is a function, which dbtool cannot run; use the plain tokens (%(column_0_name)s ...) or pass --convention KEY=TEMPLATE"
                ),
            ),
            ExprKind::Name(_) | ExprKind::Dict(_) | ExprKind::Call(_) | ExprKind::Subscript(..) => {
                error(
                    at,
                    format!(
                        "the value for {key:?} is not a string literal; write the template as a plain string"
                    ),
                )
            }
            _ => error(
                at,
                format!(
                    "the value for {key:?} is {}, not a string literal; write the template as a plain string",
                    expr.describe()
                ),
            ),
        }
    }

    /// The value a name has where it is used: the last unconditional binding before the use in
    /// the same scope, else at the top level (function bodies run after the module: there, the
    /// last binding), and never changed in place in between.
    fn resolve(
        &self,
        name: &str,
        at: Position,
        place: Place,
        depth: usize,
    ) -> Result<(&Expr, Place), SourceError> {
        if depth >= MAX_DEPTH {
            return error(
                at,
                format!("{name} refers to itself through other names; {WRITE_A_LITERAL}"),
            );
        }
        let scopes: &[usize] = if place.scope == 0 {
            &[0]
        } else {
            &[place.scope, 0]
        };
        for &scope in scopes {
            let bindings = self.module.bindings(name, scope);
            let late = place.in_function && scope != place.scope;
            let chosen = if late {
                bindings.last()
            } else {
                bindings.iter().rfind(|b| b.at < place.at)
            };
            let Some(binding) = chosen else {
                if let Some(after) = bindings.first().filter(|_| scope == 0) {
                    return error(
                        at,
                        format!(
                            "{name} is used before it is assigned (line {}); assign it first",
                            after.at.line
                        ),
                    );
                }
                continue;
            };
            if binding.conditional {
                return error(
                    binding.at,
                    format!(
                        "{name} is assigned inside an if/try/for/while block, so its value depends on running the code; assign it once at the top level"
                    ),
                );
            }
            let until = (!late).then_some(place.at);
            if let Some(change) = self.module.first_change(name, binding.at, until) {
                return error(
                    change,
                    format!(
                        "{name} is changed here after its assignment at line {}; {WRITE_A_LITERAL}",
                        binding.at.line
                    ),
                );
            }
            return match binding.bound {
                Bound::Value(value) => Ok((
                    value,
                    Place {
                        scope: binding.scope,
                        in_function: binding.in_function,
                        at: binding.at,
                    },
                )),
                Bound::Import(module) => {
                    let file = if module.starts_with('.') {
                        "that module's file".to_string()
                    } else {
                        format!("{}.py", module.replace('.', "/"))
                    };
                    error(
                        at,
                        format!(
                            "{name} is imported from {module} (line {}); pass {file} to --convention-from",
                            binding.at.line
                        ),
                    )
                }
                Bound::Deleted => error(
                    binding.at,
                    format!("{name} is deleted here, before it is used; {WRITE_A_LITERAL}"),
                ),
                Bound::Definition => error(
                    at,
                    format!(
                        "{name} is a function or class defined at line {}; {WRITE_A_LITERAL}",
                        binding.at.line
                    ),
                ),
            };
        }
        let hint = match self.module.star_import() {
            Some(module) => format!(
                " (it may come from `from {module} import *`: pass that module's file to --convention-from)"
            ),
            None => String::new(),
        };
        error(
            at,
            format!("{name} is not defined in this file{hint}; {WRITE_A_LITERAL}"),
        )
    }

    /// Top-level unconditional names containing `convention` bound to a value: the file holds
    /// the dict for a `MetaData` elsewhere.
    fn module_constants(&self) -> Result<Vec<Candidate>, SourceError> {
        let mut names: Vec<&str> = Vec::new();
        for statement in self
            .module
            .statements
            .iter()
            .filter(|s| s.scope == 0 && !s.conditional)
        {
            if let Some((targets, _)) = statement.statement.assignment() {
                for target in targets.iter().flat_map(single_targets) {
                    if let Some([name]) = target.dotted()
                        && name.to_ascii_lowercase().contains("convention")
                        && !names.contains(&name.as_str())
                    {
                        names.push(name);
                    }
                }
            }
        }
        let end = Place {
            scope: 0,
            in_function: true,
            at: Position {
                line: usize::MAX,
                column: 0,
            },
        };
        let mut found = Vec::new();
        for name in names {
            let (value, place) = self.resolve(name, end.at, end, 0)?;
            let entries = self.dict(value, place, 1, name)?;
            let (_, _, entries) = metadata_result(place.at, entries);
            found.push((Found::ModuleConstant, place.at, entries));
        }
        Ok(found)
    }
}
