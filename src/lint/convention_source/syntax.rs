//! The Python that can hold a naming convention, as a tree; everything else is kept only as
//! "something else, here" ([`Expr::Other`]), so that the evaluator can say what it found.
//!
//! Expressions: names and dotted names, string literals (adjacent ones concatenated), dict
//! displays (with `**` unpacking), calls with their arguments, subscripts. Statements: imports,
//! assignments (chained, annotated, augmented), block headers and expression statements.

use super::found::Position;
use super::lexer::{Line, StrLiteral, Token, TokenKind};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    /// `name` or `a.b.c`.
    Name(Vec<String>, Position),
    /// One or more adjacent string literals.
    Str(StrLiteral, Position),
    Dict(Vec<DictEntry>, Position),
    Call(Call),
    /// `base[...]`.
    Subscript(Box<Expr>, Position),
    /// Anything else, described for messages ("a lambda", "an expression").
    Other(&'static str, Position),
}

impl Expr {
    pub fn at(&self) -> Position {
        match self {
            Expr::Name(_, at)
            | Expr::Str(_, at)
            | Expr::Dict(_, at)
            | Expr::Subscript(_, at)
            | Expr::Other(_, at) => *at,
            Expr::Call(call) => call.at,
        }
    }

    /// The dotted name, when this is one.
    pub fn dotted(&self) -> Option<&[String]> {
        match self {
            Expr::Name(parts, _) => Some(parts),
            _ => None,
        }
    }

    /// Calls in this expression, outermost first.
    pub fn calls(&self, found: &mut Vec<Call>) {
        match self {
            Expr::Call(call) => {
                found.push(call.clone());
                for argument in &call.arguments {
                    argument.value().calls(found);
                }
            }
            Expr::Dict(entries, _) => {
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
            Expr::Subscript(base, _) => base.calls(found),
            Expr::Name(..) | Expr::Str(..) | Expr::Other(..) => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum DictEntry {
    Pair(Expr, Expr),
    /// `**other`.
    Unpack(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Call {
    /// The called expression's dotted name (`MetaData`, `sa.MetaData`), empty when it is not one.
    pub function: Vec<String>,
    pub arguments: Vec<Argument>,
    pub at: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Argument {
    Positional(Expr),
    Keyword(String, Expr),
    /// `*args`.
    Star(Expr),
    /// `**kwargs`.
    DoubleStar(Expr),
}

impl Argument {
    pub fn value(&self) -> &Expr {
        match self {
            Argument::Positional(e)
            | Argument::Keyword(_, e)
            | Argument::Star(e)
            | Argument::DoubleStar(e) => e,
        }
    }
}

/// What a block header opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    Class,
    Function,
    /// `if`, `try`, `for`, `while`, `match`, ... : its body may or may not run.
    Conditional,
    /// `with`: its body runs.
    With,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Statement {
    /// `import a.b as c`, `from m import x as y`: each bound name with the module it comes from
    /// (`a.b`, `m`).
    Import(Vec<(String, String)>),
    /// `from m import *`.
    StarImport(String),
    /// `a = b = value`, `a: T = value`, `a |= value` (`augmented`).
    Assign {
        targets: Vec<Expr>,
        value: Expr,
        augmented: bool,
    },
    /// `class Name(...):`, `def name(...):`, `if ...:`: the name it binds, if any.
    Header(Block, Option<String>),
    Expression(Expr),
}

/// A logical line read as a statement, and every call written anywhere in it.
pub(super) fn statement(line: &Line) -> (Statement, Vec<Call>) {
    let tokens = &line.tokens;
    let mut calls = Vec::new();
    scan_calls(tokens, &mut calls);
    let keyword = match &tokens[0].kind {
        TokenKind::Name(word) => word.as_str(),
        TokenKind::Op("@") => {
            return (
                Statement::Expression(Expr::Other("a decorator", tokens[0].at)),
                calls,
            );
        }
        _ => "",
    };
    let second = match tokens.get(1).map(|t| &t.kind) {
        Some(TokenKind::Name(name)) => Some(name.as_str()),
        _ => None,
    };
    let statement = match keyword {
        "import" | "from" => import(tokens),
        "del" => Statement::Assign {
            targets: vec![
                Cursor {
                    tokens: &tokens[1..],
                    i: 0,
                }
                .expression(),
            ],
            value: Expr::Other("deleted", tokens[0].at),
            augmented: false,
        },
        "class" => Statement::Header(Block::Class, second.map(str::to_string)),
        "def" => Statement::Header(Block::Function, second.map(str::to_string)),
        "async" | "if" | "elif" | "else" | "try" | "except" | "finally" | "for" | "while"
        | "with" | "match" | "case"
            if ends_block_header(tokens) =>
        {
            match (keyword, second) {
                ("with", _) | ("async", Some("with")) => Statement::Header(Block::With, None),
                ("async", Some("def")) => Statement::Header(
                    Block::Function,
                    match tokens.get(2).map(|t| &t.kind) {
                        Some(TokenKind::Name(name)) => Some(name.clone()),
                        _ => None,
                    },
                ),
                _ => Statement::Header(Block::Conditional, None),
            }
        }
        _ => simple(tokens),
    };
    (statement, calls)
}

/// Whether a compound statement's header ends in `:` at depth 0 (with the body on later lines,
/// or on the same line after it).
fn ends_block_header(tokens: &[Token]) -> bool {
    depth_zero(tokens).any(|(_, t)| t.kind == TokenKind::Op(":"))
}

/// Calls in a token run that is not one expression (a header, a decorator).
fn scan_calls(tokens: &[Token], calls: &mut Vec<Call>) {
    let mut i = 0;
    while i < tokens.len() {
        if matches!(tokens[i].kind, TokenKind::Name(_))
            && (i == 0 || tokens[i - 1].kind != TokenKind::Op("."))
        {
            let mut cursor = Cursor { tokens, i };
            let expr = cursor.primary();
            expr.calls(calls);
            i = cursor.i.max(i + 1);
        } else {
            i += 1;
        }
    }
}

/// Indices and tokens at bracket depth 0.
fn depth_zero(tokens: &[Token]) -> impl Iterator<Item = (usize, &Token)> {
    let mut depth = 0i32;
    tokens.iter().enumerate().filter(move |(_, t)| {
        let here = depth;
        match t.kind {
            TokenKind::Op("(" | "[" | "{") => depth += 1,
            TokenKind::Op(")" | "]" | "}") => depth -= 1,
            _ => {}
        }
        here == 0 && depth == 0
    })
}

fn import(tokens: &[Token]) -> Statement {
    let names: Vec<&str> = tokens
        .iter()
        .map(|t| match &t.kind {
            TokenKind::Name(name) => name.as_str(),
            TokenKind::Op(op) => op,
            _ => "",
        })
        .collect();
    let (module, rest) = if names[0] == "from" {
        let import_at = names
            .iter()
            .position(|n| *n == "import")
            .unwrap_or(names.len());
        (
            names[1..import_at].concat(),
            &names[(import_at + 1).min(names.len())..],
        )
    } else {
        (String::new(), &names[1..])
    };
    if rest.contains(&"*") {
        return Statement::StarImport(module);
    }
    let mut bindings = Vec::new();
    for item in rest
        .split(|n| *n == ",")
        .map(|item| {
            item.iter()
                .filter(|n| !matches!(**n, "(" | ")"))
                .copied()
                .collect::<Vec<_>>()
        })
        .filter(|item| !item.is_empty())
    {
        let (path, alias) = match item.iter().position(|n| *n == "as") {
            Some(at) => (&item[..at], item.get(at + 1).copied()),
            None => (&item[..], None),
        };
        let path = path.concat();
        let bound = alias
            .map(str::to_string)
            .unwrap_or_else(|| path.split('.').next().unwrap_or("").to_string());
        let from = if module.is_empty() {
            path
        } else {
            module.clone()
        };
        bindings.push((bound, from));
    }
    Statement::Import(bindings)
}

/// An assignment or an expression statement.
fn simple(tokens: &[Token]) -> Statement {
    const AUGMENTED: [&str; 13] = [
        "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "^=", "|=", "@=",
    ];
    let parse = |part: &[Token]| Cursor { tokens: part, i: 0 }.expression();
    let splits: Vec<usize> = depth_zero(tokens)
        .filter(|(_, t)| t.kind == TokenKind::Op("="))
        .map(|(i, _)| i)
        .collect();
    if let Some((i, _)) = depth_zero(tokens)
        .find(|(_, t)| matches!(t.kind, TokenKind::Op(op) if AUGMENTED.contains(&op)))
    {
        return Statement::Assign {
            targets: vec![parse(&tokens[..i])],
            value: parse(&tokens[i + 1..]),
            augmented: true,
        };
    }
    let Some(&last) = splits.last() else {
        return Statement::Expression(parse(tokens));
    };
    let mut targets = Vec::new();
    let mut start = 0;
    for &end in &splits {
        let part = &tokens[start..end];
        // `name: annotation = value`
        let part = match depth_zero(part).find(|(_, t)| t.kind == TokenKind::Op(":")) {
            Some((colon, _)) => &part[..colon],
            None => part,
        };
        targets.push(parse(part));
        start = end + 1;
    }
    Statement::Assign {
        targets,
        value: parse(&tokens[last + 1..]),
        augmented: false,
    }
}

/// A position in a token run, parsing expressions from it.
struct Cursor<'a> {
    tokens: &'a [Token],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.i).map(|t| &t.kind)
    }

    fn at(&self) -> Position {
        self.tokens
            .get(self.i)
            .or(self.tokens.last())
            .map_or(Position { line: 0, column: 0 }, |t| t.at)
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(TokenKind::Op(o)) if *o == op) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn at_delimiter(&self) -> bool {
        match self.peek() {
            None => true,
            Some(TokenKind::Op(op)) => matches!(*op, "," | ")" | "]" | "}" | ":" | "=" | ";"),
            Some(_) => false,
        }
    }

    /// One expression, up to a delimiter at depth 0. Anything beyond a single primary (an
    /// operator, a conditional, a comprehension) makes it [`Expr::Other`].
    fn expression(&mut self) -> Expr {
        let at = self.at();
        if matches!(self.peek(), Some(TokenKind::Name(n)) if n == "lambda") {
            while !self.at_delimiter() || matches!(self.peek(), Some(TokenKind::Op(","))) {
                self.i += 1;
            }
            self.eat(":");
            self.expression();
            return Expr::Other("a lambda", at);
        }
        let primary = self.primary();
        if self.at_delimiter() {
            return primary;
        }
        let what = if self.skip_to_delimiter() {
            "a comprehension"
        } else {
            "an expression"
        };
        Expr::Other(what, at)
    }

    /// Skips to the next delimiter at depth 0; after a `for`, to the enclosing bracket. Says
    /// whether it skipped a comprehension's `for`.
    fn skip_to_delimiter(&mut self) -> bool {
        let mut depth = 0usize;
        let mut comprehension = false;
        while let Some(kind) = self.peek() {
            match kind {
                TokenKind::Op("(" | "[" | "{") => depth += 1,
                TokenKind::Op(")" | "]" | "}") if depth == 0 => return comprehension,
                TokenKind::Op(")" | "]" | "}") => depth -= 1,
                TokenKind::Name(n) if n == "for" && depth == 0 => comprehension = true,
                _ if depth == 0 && !comprehension && self.at_delimiter() => return false,
                _ => {}
            }
            self.i += 1;
        }
        comprehension
    }

    /// Skips past the bracket that closes the one just consumed.
    fn skip_past_close(&mut self) {
        let mut depth = 0usize;
        while let Some(kind) = self.peek().cloned() {
            self.i += 1;
            match kind {
                TokenKind::Op("(" | "[" | "{") => depth += 1,
                TokenKind::Op(")" | "]" | "}") if depth == 0 => return,
                TokenKind::Op(")" | "]" | "}") => depth -= 1,
                _ => {}
            }
        }
    }

    /// An atom and its trailers (`.name`, `(...)`, `[...]`).
    fn primary(&mut self) -> Expr {
        let mut expr = self.atom();
        loop {
            let at = self.at();
            if self.eat(".") {
                match (self.peek().cloned(), &mut expr) {
                    (Some(TokenKind::Name(name)), Expr::Name(parts, _)) => {
                        parts.push(name);
                        self.i += 1;
                    }
                    (Some(TokenKind::Name(_)), _) => {
                        self.i += 1;
                        expr = Expr::Other("an attribute", expr.at());
                    }
                    _ => return Expr::Other("an expression", expr.at()),
                }
            } else if self.eat("(") {
                let function = expr.dotted().map(<[String]>::to_vec).unwrap_or_default();
                let arguments = self.arguments();
                expr = Expr::Call(Call {
                    function,
                    arguments,
                    at: expr.at(),
                });
            } else if self.eat("[") {
                self.skip_past_close();
                expr = Expr::Subscript(Box::new(expr), at);
            } else {
                return expr;
            }
        }
    }

    fn arguments(&mut self) -> Vec<Argument> {
        let mut arguments = Vec::new();
        loop {
            if self.eat(")") || self.peek().is_none() {
                return arguments;
            }
            let argument = if self.eat("**") {
                Argument::DoubleStar(self.expression())
            } else if self.eat("*") {
                Argument::Star(self.expression())
            } else if let (Some(TokenKind::Name(name)), Some(TokenKind::Op("="))) = (
                self.peek().cloned(),
                self.tokens.get(self.i + 1).map(|t| &t.kind),
            ) {
                self.i += 2;
                Argument::Keyword(name, self.expression())
            } else {
                Argument::Positional(self.expression())
            };
            arguments.push(argument);
            if !self.eat(",") && !matches!(self.peek(), Some(TokenKind::Op(")"))) {
                // something this reader does not model (a walrus, a stray token): skip it
                self.skip_past_close();
                return arguments;
            }
        }
    }

    fn atom(&mut self) -> Expr {
        let at = self.at();
        let Some(kind) = self.peek().cloned() else {
            return Expr::Other("nothing", at);
        };
        self.i += 1;
        match kind {
            TokenKind::Name(name) => Expr::Name(vec![name], at),
            TokenKind::Number => Expr::Other("a number", at),
            TokenKind::Str(first) => {
                let mut value = first;
                while let Some(TokenKind::Str(next)) = self.peek().cloned() {
                    self.i += 1;
                    value = match (value, next) {
                        (StrLiteral::Text(a), StrLiteral::Text(b)) => StrLiteral::Text(a + &b),
                        (StrLiteral::Bytes, _) | (_, StrLiteral::Bytes) => StrLiteral::Bytes,
                        _ => StrLiteral::Formatted,
                    };
                }
                Expr::Str(value, at)
            }
            TokenKind::Op("(") => {
                if self.eat(")") {
                    return Expr::Other("a tuple", at);
                }
                let inner = self.expression();
                if self.eat(")") {
                    return inner;
                }
                self.skip_past_close();
                Expr::Other("a tuple", at)
            }
            TokenKind::Op("[") => {
                self.skip_past_close();
                Expr::Other("a list", at)
            }
            TokenKind::Op("{") => self.dict(at),
            TokenKind::Op(_) => {
                let _ = self.skip_to_delimiter();
                Expr::Other("an expression", at)
            }
        }
    }

    /// A dict display after its `{`; a set or a comprehension becomes [`Expr::Other`].
    fn dict(&mut self, at: Position) -> Expr {
        let mut entries = Vec::new();
        loop {
            if self.eat("}") {
                return Expr::Dict(entries, at);
            }
            if self.eat("**") {
                entries.push(DictEntry::Unpack(self.expression()));
            } else {
                let key = self.expression();
                if !self.eat(":") {
                    self.skip_past_close();
                    return Expr::Other("a set", at);
                }
                let value = self.expression();
                if matches!(value, Expr::Other("a comprehension", _)) {
                    self.skip_past_close();
                    return Expr::Other("a dict comprehension", at);
                }
                entries.push(DictEntry::Pair(key, value));
            }
            if matches!(self.peek(), Some(TokenKind::Name(n)) if n == "for") {
                self.skip_past_close();
                return Expr::Other("a dict comprehension", at);
            }
            if !self.eat(",") && !matches!(self.peek(), Some(TokenKind::Op("}"))) {
                self.skip_past_close();
                return Expr::Other("an expression", at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::convention_source::lexer::logical_lines;

    fn statements(source: &str) -> Vec<(Statement, Vec<Call>)> {
        logical_lines(source)
            .unwrap()
            .iter()
            .map(statement)
            .collect()
    }

    fn text(expr: &Expr) -> &str {
        match expr {
            Expr::Str(StrLiteral::Text(text), _) => text,
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn dict_displays_keep_their_entries_in_order() {
        let parsed = statements(
            "C: dict[str, str] = {'ix': 'ix_' \"%(column_0_label)s\", **B, Index: 'i',}\n",
        );
        let (Statement::Assign { targets, value, .. }, _) = &parsed[0] else {
            panic!("{parsed:?}")
        };
        assert_eq!(targets[0].dotted().unwrap(), ["C"]);
        let Expr::Dict(entries, _) = value else {
            panic!("{value:?}")
        };
        assert_eq!(entries.len(), 3);
        let DictEntry::Pair(key, value) = &entries[0] else {
            panic!()
        };
        assert_eq!((text(key), text(value)), ("ix", "ix_%(column_0_label)s"));
        assert!(matches!(&entries[1], DictEntry::Unpack(Expr::Name(n, _)) if n == &["B"]));
        assert!(matches!(&entries[2], DictEntry::Pair(Expr::Name(n, _), _) if n == &["Index"]));
    }

    #[test]
    fn calls_are_found_anywhere_with_their_arguments() {
        let parsed = statements(
            "@as_declarative(metadata=sa.MetaData(naming_convention=NC))\nclass Base:\n    pass\nx = f(a, *b, k=lambda c, t: c.name, **d)[0]\n",
        );
        let calls = &parsed[0].1;
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].function, ["sa", "MetaData"]);
        assert!(matches!(
            &calls[1].arguments[0],
            Argument::Keyword(name, Expr::Name(value, _)) if name == "naming_convention" && value == &["NC"]
        ));
        assert_eq!(
            parsed[1].0,
            Statement::Header(Block::Class, Some("Base".into()))
        );
        let (Statement::Assign { value, .. }, calls) = &parsed[3] else {
            panic!()
        };
        assert!(matches!(value, Expr::Subscript(..)));
        let arguments = &calls[0].arguments;
        assert_eq!(arguments.len(), 4);
        assert!(matches!(
            &arguments[2],
            Argument::Keyword(_, Expr::Other("a lambda", _))
        ));
        assert!(matches!(&arguments[3], Argument::DoubleStar(_)));
    }

    #[test]
    fn what_is_not_a_literal_says_what_it_is() {
        let parsed = statements(
            "a = {k: v for k, v in x}\nb = 'a' + 'b'\nc = {'a', 'b'}\nd = (1, 2)\ne = ('x')\nf = {k: k + v for k, v in x}\n",
        );
        let values: Vec<Expr> = parsed
            .into_iter()
            .map(|(s, _)| match s {
                Statement::Assign { value, .. } => value,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(matches!(values[0], Expr::Other("a dict comprehension", _)));
        assert!(matches!(values[1], Expr::Other("an expression", _)));
        assert!(matches!(values[2], Expr::Other("a set", _)));
        assert!(matches!(values[3], Expr::Other("a tuple", _)));
        assert_eq!(text(&values[4]), "x");
        assert!(matches!(values[5], Expr::Other("a dict comprehension", _)));
    }

    #[test]
    fn imports_bind_names_to_modules() {
        let parsed = statements(
            "from app.core import (conventions as c, X)\nimport a.b\nimport a.b as d\nfrom m import *\nNC |= {}\n",
        );
        assert_eq!(
            parsed[0].0,
            Statement::Import(vec![
                ("c".into(), "app.core".into()),
                ("X".into(), "app.core".into())
            ])
        );
        assert_eq!(
            parsed[1].0,
            Statement::Import(vec![("a".into(), "a.b".into())])
        );
        assert_eq!(
            parsed[2].0,
            Statement::Import(vec![("d".into(), "a.b".into())])
        );
        assert_eq!(parsed[3].0, Statement::StarImport("m".into()));
        assert!(matches!(
            parsed[4].0,
            Statement::Assign {
                augmented: true,
                ..
            }
        ));
    }
}
