//! A Python module as its statements, each with the scope it runs in, and the names they bind:
//! what name resolution needs, in Python's terms (only `class` and `def` open a scope; `if`,
//! `try`, `for` and `while` bodies may not run).

use crate::python::{Call, Expr, ExprKind, Located, Position, Statement};

/// A statement with where it runs.
#[derive(Debug)]
pub(super) struct InScope<'m> {
    pub(crate) statement: &'m Statement,
    pub(crate) calls: &'m [Call],
    pub(crate) at: Position,
    /// The `class`/`def` header line whose body holds it; 0 for the module.
    pub(crate) scope: usize,
    /// Whether the scope is a function body (which runs after the module, when called).
    pub(crate) in_function: bool,
    /// Whether it sits in an `if`/`try`/`for`/`while`/`match` body of its scope.
    pub(crate) conditional: bool,
}

/// What a name is bound to by one statement.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bound<'m> {
    Value(&'m Expr),
    /// Imported from this module.
    Import(&'m str),
    /// A `def` or `class`.
    Definition,
    /// `del name`.
    Deleted,
}

#[derive(Debug)]
pub(super) struct Binding<'m> {
    pub(crate) bound: Bound<'m>,
    pub(crate) at: Position,
    pub(crate) scope: usize,
    pub(crate) in_function: bool,
    pub(crate) conditional: bool,
}

/// Where the statements of a block run.
#[derive(Debug, Clone, Copy)]
struct Scope {
    line: usize,
    in_function: bool,
    conditional: bool,
}

pub(super) struct Module<'m> {
    /// In source order.
    pub(crate) statements: Vec<InScope<'m>>,
}

impl<'m> Module<'m> {
    pub(super) fn new(statements: &'m [Located]) -> Module<'m> {
        let mut module = Module {
            statements: Vec::new(),
        };
        let top = Scope {
            line: 0,
            in_function: false,
            conditional: false,
        };
        module.add(statements, top);
        module
    }

    fn add(&mut self, statements: &'m [Located], scope: Scope) {
        for located in statements {
            self.statements.push(InScope {
                statement: &located.statement,
                calls: &located.calls,
                at: located.at,
                scope: scope.line,
                in_function: scope.in_function,
                conditional: scope.conditional,
            });
            let inner = match &located.statement {
                Statement::Class { .. } | Statement::Function { .. } => Scope {
                    line: located.at.line,
                    in_function: matches!(located.statement, Statement::Function { .. }),
                    conditional: false,
                },
                Statement::Conditional(_) => Scope {
                    conditional: true,
                    ..scope
                },
                // a `with` body runs; any other statement has a body only where Python would
                // refuse the indentation
                _ => scope,
            };
            self.add(&located.body, inner);
        }
    }

    /// Every binding of `name` in `scope`, in source order.
    pub(super) fn bindings(&self, name: &str, scope: usize) -> Vec<Binding<'m>> {
        let mut found = Vec::new();
        for in_scope in self.statements.iter().filter(|s| s.scope == scope) {
            let binding = |bound| Binding {
                bound,
                at: in_scope.at,
                scope,
                in_function: in_scope.in_function,
                conditional: in_scope.conditional,
            };
            match in_scope.statement {
                Statement::Import(names) => {
                    for (bound, module, _) in names {
                        if bound == name {
                            found.push(binding(Bound::Import(module)));
                        }
                    }
                }
                Statement::Class { name: defined, .. }
                | Statement::Function { name: defined, .. }
                    if defined == name =>
                {
                    found.push(binding(Bound::Definition));
                }
                Statement::Delete(targets) if targets.iter().any(|t| t.is_name(name)) => {
                    found.push(binding(Bound::Deleted));
                }
                statement => {
                    if let Some(value) = statement.assignment().and_then(|(targets, value)| {
                        targets.iter().find_map(|t| assigned(t, value, name))
                    }) {
                        found.push(binding(Bound::Value(value)));
                    }
                }
            }
        }
        found
    }

    /// The first statement after `after` (and before `before`, if given) that changes the dict
    /// bound to `name` in place: `name[k] = v`, `name |= ...`, `name.update(...)`, `del name[k]`.
    pub(super) fn first_change(
        &self,
        name: &str,
        after: Position,
        before: Option<Position>,
    ) -> Option<Position> {
        const CHANGING: [&str; 5] = ["update", "setdefault", "pop", "popitem", "clear"];
        let item_of_name = |t: &Expr| {
            single_targets(t)
                .iter()
                .any(|t| matches!(&t.kind, ExprKind::Subscript(base, _) if base.is_name(name)))
        };
        self.statements
            .iter()
            .filter(|s| s.at > after && before.is_none_or(|b| s.at < b))
            .find(|s| {
                let assigns = match s.statement {
                    Statement::AugmentedAssign { target, .. } => {
                        target.is_name(name) || item_of_name(target)
                    }
                    Statement::Delete(targets) => targets.iter().any(item_of_name),
                    statement => statement
                        .assignment()
                        .is_some_and(|(targets, _)| targets.iter().any(item_of_name)),
                };
                let calls = s.calls.iter().any(|call| {
                    matches!(call.dotted(), [object, method] if object == name && CHANGING.contains(&method.as_str()))
                });
                assigns || calls
            })
            .map(|s| s.at)
    }

    /// Whether the module has `from ... import *`, and the first such module.
    pub(super) fn star_import(&self) -> Option<&'m str> {
        self.statements.iter().find_map(|s| match s.statement {
            Statement::StarImport(module) => Some(module.as_str()),
            _ => None,
        })
    }
}

/// The value `target = value` gives `name`: the value itself, or, where the target unpacks a
/// display of as many elements (`a, b = x, y`), the element in its place.
fn assigned<'v>(target: &Expr, value: &'v Expr, name: &str) -> Option<&'v Expr> {
    if target.is_name(name) {
        return Some(value);
    }
    let targets = target.elements()?;
    match value.elements() {
        Some(values) if values.len() == targets.len() => targets
            .iter()
            .zip(values)
            .find_map(|(target, value)| assigned(target, value, name)),
        _ => single_targets(target)
            .iter()
            .any(|t| t.is_name(name))
            .then_some(value),
    }
}

/// The single targets an assignment target holds: itself, or what a tuple or list target
/// unpacks into, at any depth.
pub(super) fn single_targets(target: &Expr) -> Vec<&Expr> {
    match target.elements() {
        Some(items) => items.iter().flat_map(single_targets).collect(),
        None => vec![target],
    }
}
