//! The syntax tree: statements nested into the blocks they open, and expressions, shaped after
//! Python's own `ast` module where that costs nothing (a call keeps its arguments in the order
//! written; a dotted name is one node).

use super::Position;
use super::lexer::StrLiteral;

/// A statement, where it starts, the calls written in it and the block it opens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    pub(crate) statement: Statement,
    pub(crate) at: Position,
    /// Every call written in the statement itself (not in its block), outermost first: in a
    /// `class` header, a decorator, a lambda or an expression this tree does not model too.
    pub(crate) calls: Vec<Call>,
    /// The block it opens: what follows its colon on the same line, then the more indented lines
    /// after it. Empty for a simple statement, unless Python would refuse the indentation.
    pub(crate) body: Vec<Located>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Statement {
    /// `import a.b as c`, `from m import x as y`: each bound name with the module it comes from
    /// (`a.b`, `m`) and, for `from`, the name imported (`x`).
    Import(Vec<(String, String, Option<String>)>),
    /// `from m import *`.
    StarImport(String),
    /// `a = b = value`.
    Assign {
        targets: Vec<Expr>,
        value: Expr,
    },
    /// `a: T = value`, or `a: T` without a value.
    AnnotatedAssign {
        target: Expr,
        annotation: Expr,
        value: Option<Expr>,
    },
    /// `a += value`, `a |= value`, ...
    AugmentedAssign {
        target: Expr,
        value: Expr,
    },
    /// `del a, b[k]`.
    Delete(Vec<Expr>),
    /// `class Name(bases):`.
    Class {
        name: String,
        bases: Vec<Argument>,
    },
    /// `def name(...):`, `async def name(...):`.
    Function {
        name: String,
        asynchronous: bool,
    },
    /// `with context as alias, ...:`: its block runs.
    With(Vec<WithItem>),
    /// `if`, `elif`, `else`, `for`, `while`, `try`, `except`, `finally`, `match`, `case` (and
    /// `async for`), by its first word: its block may or may not run.
    Conditional(String),
    /// `@decorator`, before a `class` or `def`.
    Decorator(Expr),
    Pass,
    /// An expression on its own: a call, a docstring, `...`.
    Expression(Expr),
    /// `return value`, `return`.
    Return(Option<Expr>),
    /// Another simple statement (`raise`, `assert`, `global`, `nonlocal`, `break`,
    /// `continue`), by its keyword.
    Other(String),
}

impl Statement {
    /// What a plain or annotated assignment binds: its targets and the value (none for an
    /// annotation without a value, an augmented assignment or any other statement).
    pub(crate) fn assignment(&self) -> Option<(&[Expr], &Expr)> {
        match self {
            Statement::Assign { targets, value } => Some((targets, value)),
            Statement::AnnotatedAssign {
                target,
                value: Some(value),
                ..
            } => Some((std::slice::from_ref(target), value)),
            _ => None,
        }
    }
}

/// One `context as alias` of a `with` statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WithItem {
    pub(crate) context: Expr,
    pub(crate) alias: Option<Expr>,
}

/// An expression and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub(crate) kind: ExprKind,
    pub(crate) at: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    /// `name` or `a.b.c`.
    Name(Vec<String>),
    /// `value.name` where the value is not a name (`f().tables`).
    Attribute(Box<Expr>, String),
    /// One or more adjacent string literals.
    Str(StrLiteral),
    /// A number as written, with its sign when negative (`-1`, `2.5`, `1_000`).
    Number(String),
    /// `...`.
    Ellipsis,
    List(Vec<Expr>),
    /// `(a, b)`, `a, b`, `()`; a parenthesized expression alone is that expression.
    Tuple(Vec<Expr>),
    Dict(Vec<DictEntry>),
    Call(Call),
    /// `value[index]`; an index this tree does not read (a slice) is [`ExprKind::Other`].
    Subscript(Box<Expr>, Box<Expr>),
    /// `left op right` for the arithmetic operators and `|` (`a * 1000`, `int | None`), nested
    /// by Python's precedence.
    BinOp(Box<Expr>, &'static str, Box<Expr>),
    /// `lambda ...: ...`, its body not kept.
    Lambda,
    /// Anything else, described for messages: "an expression" (an operator, a conditional),
    /// "a comprehension", "a dict comprehension", "a set", "nothing".
    Other(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DictEntry {
    Pair(Expr, Expr),
    /// `**other`.
    Unpack(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// What is called: a name (`MetaData`, `sa.MetaData`) or any other expression.
    pub(crate) function: Box<Expr>,
    /// In the order written.
    pub(crate) arguments: Vec<Argument>,
    /// False when something after an argument is not Python this tree reads (Python would
    /// refuse it): the arguments before it are listed, the rest are not.
    pub(crate) complete: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Argument {
    Positional(Expr),
    Keyword(String, Expr),
    /// `*args`.
    Star(Expr),
    /// `**kwargs`.
    DoubleStar(Expr),
}

impl Argument {
    pub(crate) fn value(&self) -> &Expr {
        match self {
            Argument::Positional(e)
            | Argument::Keyword(_, e)
            | Argument::Star(e)
            | Argument::DoubleStar(e) => e,
        }
    }
}

impl Expr {
    /// The dotted name, when this is one.
    pub(crate) fn dotted(&self) -> Option<&[String]> {
        match &self.kind {
            ExprKind::Name(parts) => Some(parts),
            _ => None,
        }
    }

    /// Whether this is the plain name `name` (`None`, `True`, `NC`).
    pub(crate) fn is_name(&self, name: &str) -> bool {
        matches!(self.dotted(), Some([only]) if only == name)
    }

    /// The value of a string literal.
    pub(crate) fn text(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Str(StrLiteral::Text(text)) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn call(&self) -> Option<&Call> {
        match &self.kind {
            ExprKind::Call(call) => Some(call),
            _ => None,
        }
    }

    /// The elements of a list or tuple display.
    pub(crate) fn elements(&self) -> Option<&[Expr]> {
        match &self.kind {
            ExprKind::List(items) | ExprKind::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// What this is, for a message: "the name a.b", "a string", "a call of f()", "a lambda".
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            ExprKind::Name(parts) => format!("the name {}", parts.join(".")),
            ExprKind::Attribute(..) => "an attribute".to_string(),
            ExprKind::Str(StrLiteral::Text(_)) => "a string".to_string(),
            ExprKind::Str(StrLiteral::Bytes) => "a bytes literal".to_string(),
            ExprKind::Str(StrLiteral::Formatted) => "an f-string".to_string(),
            ExprKind::Number(_) => "a number".to_string(),
            ExprKind::Ellipsis => "an ellipsis".to_string(),
            ExprKind::List(_) => "a list".to_string(),
            ExprKind::Tuple(_) => "a tuple".to_string(),
            ExprKind::Dict(_) => "a dict".to_string(),
            ExprKind::Call(call) if call.dotted().is_empty() => "a call".to_string(),
            ExprKind::Call(call) => format!("a call of {}()", call.dotted().join(".")),
            ExprKind::Subscript(..) => "a subscript".to_string(),
            ExprKind::Lambda => "a lambda".to_string(),
            ExprKind::BinOp(..) => "an expression".to_string(),
            ExprKind::Other(what) => (*what).to_string(),
        }
    }

    /// Calls in this expression, outermost first.
    pub(crate) fn calls(&self, found: &mut Vec<Call>) {
        match &self.kind {
            ExprKind::Call(call) => {
                found.push(call.clone());
                call.function.calls(found);
                for argument in &call.arguments {
                    argument.value().calls(found);
                }
            }
            ExprKind::Attribute(base, _) => base.calls(found),
            ExprKind::Subscript(base, index) | ExprKind::BinOp(base, _, index) => {
                base.calls(found);
                index.calls(found);
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                for item in items {
                    item.calls(found);
                }
            }
            ExprKind::Dict(entries) => {
                for entry in entries {
                    match entry {
                        DictEntry::Pair(key, value) => {
                            key.calls(found);
                            value.calls(found);
                        }
                        DictEntry::Unpack(value) => value.calls(found),
                    }
                }
            }
            ExprKind::Name(_)
            | ExprKind::Str(_)
            | ExprKind::Number(_)
            | ExprKind::Ellipsis
            | ExprKind::Lambda
            | ExprKind::Other(_) => {}
        }
    }
}

impl Call {
    /// Where the call is written: where its function starts.
    pub(crate) fn at(&self) -> Position {
        self.function.at
    }

    /// The called name's parts (`["sa", "MetaData"]`); empty when the function is not a name.
    pub(crate) fn dotted(&self) -> &[String] {
        self.function.dotted().unwrap_or_default()
    }

    /// The last part of the called name: `Column` for `sa.Column`.
    pub(crate) fn name(&self) -> &str {
        self.dotted().last().map_or("", String::as_str)
    }

    /// The positional arguments, `*args` left out.
    pub(crate) fn positional(&self) -> Vec<&Expr> {
        self.arguments
            .iter()
            .filter_map(|argument| match argument {
                Argument::Positional(value) => Some(value),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn keyword(&self, name: &str) -> Option<&Expr> {
        self.arguments.iter().find_map(|argument| match argument {
            Argument::Keyword(key, value) if key == name => Some(value),
            _ => None,
        })
    }

    /// The argument bound to `parameter`: the `index`th positional one, or the keyword.
    pub(crate) fn argument(&self, index: usize, parameter: &str) -> Option<&Expr> {
        self.positional()
            .get(index)
            .copied()
            .or_else(|| self.keyword(parameter))
    }

    /// Whether some arguments are not known: `*args` or `**kwargs` was passed, or the argument
    /// list could not be read to its end.
    pub(crate) fn unpacked(&self) -> bool {
        !self.complete
            || self
                .arguments
                .iter()
                .any(|a| matches!(a, Argument::Star(_) | Argument::DoubleStar(_)))
    }
}
