//! A Python module as its statements, each with the scope it runs in, and the names they bind:
//! what name resolution needs, in Python's terms (only `class` and `def` open a scope; `if`,
//! `try`, `for` and `while` bodies may not run).

use super::found::Position;
use super::lexer::Line;
use super::syntax::{self, Block, Call, Expr, Statement};

/// A statement with where it runs.
#[derive(Debug)]
pub(super) struct Located {
    pub statement: Statement,
    pub calls: Vec<Call>,
    pub at: Position,
    /// The `class`/`def` header line whose body holds it; 0 for the module.
    pub scope: usize,
    /// Whether the scope is a function body (which runs after the module, when called).
    pub in_function: bool,
    /// Whether it sits in an `if`/`try`/`for`/`while`/`match` body of its scope.
    pub conditional: bool,
}

/// What a name is bound to by one statement.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bound<'a> {
    Value(&'a Expr),
    /// Imported from this module.
    Import(&'a str),
    /// A `def` or `class`.
    Definition,
}

#[derive(Debug)]
pub(super) struct Binding<'a> {
    pub bound: Bound<'a>,
    pub at: Position,
    pub scope: usize,
    pub in_function: bool,
    pub conditional: bool,
}

pub(super) struct Module {
    pub statements: Vec<Located>,
}

impl Module {
    pub fn new(lines: &[Line]) -> Module {
        // (indent, block, header line)
        let mut open: Vec<(usize, Block, usize)> = Vec::new();
        let mut statements = Vec::new();
        for line in lines {
            while open
                .last()
                .is_some_and(|(indent, ..)| *indent >= line.indent)
            {
                open.pop();
            }
            let innermost_scope = open
                .iter()
                .rposition(|(_, block, _)| matches!(block, Block::Class | Block::Function));
            let (scope, in_function) = match innermost_scope {
                Some(i) => (open[i].2, open[i].1 == Block::Function),
                None => (0, false),
            };
            let conditional = open[innermost_scope.map_or(0, |i| i + 1)..]
                .iter()
                .any(|(_, block, _)| *block == Block::Conditional);
            let (statement, calls) = syntax::statement(line);
            let at = line.tokens[0].at;
            if let Statement::Header(block, _) = statement {
                open.push((line.indent, block, at.line));
            }
            statements.push(Located {
                statement,
                calls,
                at,
                scope,
                in_function,
                conditional,
            });
        }
        Module { statements }
    }

    /// Every binding of `name` in `scope`, in source order.
    pub fn bindings(&self, name: &str, scope: usize) -> Vec<Binding<'_>> {
        let mut found = Vec::new();
        for located in self.statements.iter().filter(|s| s.scope == scope) {
            let binding = |bound| Binding {
                bound,
                at: located.at,
                scope,
                in_function: located.in_function,
                conditional: located.conditional,
            };
            match &located.statement {
                Statement::Assign {
                    targets,
                    value,
                    augmented: false,
                } if targets
                    .iter()
                    .any(|t| t.dotted() == Some(&[name.to_string()])) =>
                {
                    found.push(binding(Bound::Value(value)));
                }
                Statement::Import(names) => {
                    for (bound, module) in names {
                        if bound == name {
                            found.push(binding(Bound::Import(module)));
                        }
                    }
                }
                Statement::Header(Block::Class | Block::Function, Some(defined))
                    if defined == name =>
                {
                    found.push(binding(Bound::Definition));
                }
                _ => {}
            }
        }
        found
    }

    /// The first statement after `after` (and before `before`, if given) that changes the dict
    /// bound to `name` in place: `name[k] = v`, `name |= ...`, `name.update(...)`, `del name[k]`.
    pub fn first_change(
        &self,
        name: &str,
        after: Position,
        before: Option<Position>,
    ) -> Option<Position> {
        const CHANGING: [&str; 5] = ["update", "setdefault", "pop", "popitem", "clear"];
        let is_name = |e: &Expr| e.dotted() == Some(&[name.to_string()]);
        self.statements
            .iter()
            .filter(|s| s.at.line > after.line && before.is_none_or(|b| s.at.line < b.line))
            .find(|s| {
                let changes_target = |t: &Expr| match t {
                    Expr::Subscript(base, _) => is_name(base),
                    _ => false,
                };
                let assigns = match &s.statement {
                    Statement::Assign {
                        targets, augmented, ..
                    } => {
                        targets.iter().any(changes_target)
                            || (*augmented && targets.iter().any(is_name))
                    }
                    _ => false,
                };
                let calls = s.calls.iter().any(|call| {
                    call.function.len() == 2
                        && call.function[0] == name
                        && CHANGING.contains(&call.function[1].as_str())
                });
                assigns || calls
            })
            .map(|s| s.at)
    }

    /// Whether the module has `from ... import *`, and the first such module.
    pub fn star_import(&self) -> Option<&str> {
        self.statements.iter().find_map(|s| match &s.statement {
            Statement::StarImport(module) => Some(module.as_str()),
            _ => None,
        })
    }
}
