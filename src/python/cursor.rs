//! Expressions read from a run of tokens: one primary (an atom and its trailers) per
//! expression; anything beyond one primary (an operator, a conditional, a comprehension) makes
//! the expression [`ExprKind::Other`].

use super::Position;
use super::lexer::{StrLiteral, Token, TokenKind};
use super::tree::{Argument, Call, DictEntry, Expr, ExprKind};

/// A position in a token run, reading expressions from it.
pub(super) struct Cursor<'a> {
    tokens: &'a [Token],
    i: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(tokens: &'a [Token], i: usize) -> Self {
        Cursor { tokens, i }
    }

    /// The index of the next token.
    pub(super) fn index(&self) -> usize {
        self.i
    }

    fn peek(&self) -> Option<&'a TokenKind> {
        self.tokens.get(self.i).map(|t| &t.kind)
    }

    pub(super) fn at_end(&self) -> bool {
        self.i >= self.tokens.len()
    }

    fn at(&self) -> Position {
        self.tokens
            .get(self.i)
            .or(self.tokens.last())
            .map_or(Position { line: 0, column: 0 }, |t| t.at)
    }

    pub(super) fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(TokenKind::Op(o)) if *o == op) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn eat_name(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(TokenKind::Name(n)) if n == word) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Option<String> {
        let Some(TokenKind::Name(name)) = self.peek() else {
            return None;
        };
        self.i += 1;
        Some(name.clone())
    }

    fn at_delimiter(&self) -> bool {
        match self.peek() {
            None => true,
            Some(TokenKind::Op(op)) => matches!(*op, "," | ")" | "]" | "}" | ":" | "=" | ";"),
            Some(TokenKind::Name(n)) => n == "as",
            Some(_) => false,
        }
    }

    /// The whole run as one expression list; what is left after it (Python would refuse it)
    /// makes the expression [`ExprKind::Other`].
    pub(super) fn whole(tokens: &[Token]) -> Expr {
        let mut cursor = Cursor::new(tokens, 0);
        let expr = cursor.expression_list();
        if cursor.at_end() {
            expr
        } else {
            other("an expression", expr.at)
        }
    }

    /// `a, b, c`: one expression, or the tuple of several (a trailing comma makes a tuple).
    pub(super) fn expression_list(&mut self) -> Expr {
        let first = self.expression();
        if !matches!(self.peek(), Some(TokenKind::Op(","))) {
            return first;
        }
        let at = first.at;
        let mut items = vec![first];
        while self.eat(",") && !self.at_delimiter() {
            items.push(self.expression());
        }
        Expr {
            kind: ExprKind::Tuple(items),
            at,
        }
    }

    /// One expression, up to a delimiter at depth 0.
    pub(super) fn expression(&mut self) -> Expr {
        let at = self.at();
        if self.eat_name("lambda") {
            self.skip_lambda_parameters();
            self.expression();
            return Expr {
                kind: ExprKind::Lambda,
                at,
            };
        }
        let start = self.i;
        let binary = self.binary(0);
        if self.at_delimiter() {
            return binary;
        }
        self.i = start;
        let primary = self.primary();
        if self.at_delimiter() {
            return primary;
        }
        let what = if self.skip_to_delimiter() {
            "a comprehension"
        } else {
            "an expression"
        };
        other(what, at)
    }

    /// Primaries joined by the operators of [`BINARY`] from precedence `level` up, as Python
    /// nests them (`a + b * c` is `a + (b * c)`; each level is left-associative).
    fn binary(&mut self, level: usize) -> Expr {
        let Some(operators) = BINARY.get(level) else {
            return self.primary();
        };
        let mut left = self.binary(level + 1);
        loop {
            let Some(TokenKind::Op(op)) = self.peek() else {
                return left;
            };
            if !operators.contains(op) {
                return left;
            }
            self.i += 1;
            let right = self.binary(level + 1);
            let at = left.at;
            left = Expr {
                kind: ExprKind::BinOp(Box::new(left), op, Box::new(right)),
                at,
            };
        }
    }

    /// Skips a lambda's parameters and its colon.
    fn skip_lambda_parameters(&mut self) {
        let mut depth = 0usize;
        while let Some(kind) = self.peek() {
            match kind {
                TokenKind::Op("(" | "[" | "{") => depth += 1,
                TokenKind::Op(")" | "]" | "}") if depth == 0 => return,
                TokenKind::Op(")" | "]" | "}") => depth -= 1,
                TokenKind::Op(":") if depth == 0 => {
                    self.i += 1;
                    return;
                }
                _ => {}
            }
            self.i += 1;
        }
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
        while let Some(kind) = self.peek() {
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
    pub(super) fn primary(&mut self) -> Expr {
        let mut expr = self.atom();
        loop {
            let at = expr.at;
            if self.eat(".") {
                let Some(name) = self.name() else {
                    return other("an expression", at);
                };
                let kind = match expr.kind {
                    ExprKind::Name(mut parts) => {
                        parts.push(name);
                        ExprKind::Name(parts)
                    }
                    kind => ExprKind::Attribute(Box::new(Expr { kind, at }), name),
                };
                expr = Expr { kind, at };
            } else if self.eat("(") {
                let (arguments, complete) = self.arguments();
                let call = Call {
                    function: Box::new(expr),
                    arguments,
                    complete,
                };
                expr = Expr {
                    kind: ExprKind::Call(call),
                    at,
                };
            } else if self.eat("[") {
                let start = self.at();
                let mut index = self.expression_list();
                if !self.eat("]") {
                    self.skip_past_close();
                    index = other("an expression", start);
                }
                expr = Expr {
                    kind: ExprKind::Subscript(Box::new(expr), Box::new(index)),
                    at,
                };
            } else {
                return expr;
            }
        }
    }

    /// A call's arguments after its `(`, and whether they could all be read.
    pub(super) fn arguments(&mut self) -> (Vec<Argument>, bool) {
        let mut arguments = Vec::new();
        loop {
            if self.eat(")") || self.at_end() {
                return (arguments, true);
            }
            let argument = if self.eat("**") {
                Argument::DoubleStar(self.expression())
            } else if self.eat("*") {
                Argument::Star(self.expression())
            } else if let (Some(TokenKind::Name(name)), Some(TokenKind::Op("="))) =
                (self.peek(), self.tokens.get(self.i + 1).map(|t| &t.kind))
            {
                self.i += 2;
                Argument::Keyword(name.clone(), self.expression())
            } else {
                Argument::Positional(self.expression())
            };
            arguments.push(argument);
            if !self.eat(",") && !matches!(self.peek(), Some(TokenKind::Op(")"))) {
                self.skip_past_close();
                return (arguments, false);
            }
        }
    }

    fn atom(&mut self) -> Expr {
        let at = self.at();
        let Some(kind) = self.peek() else {
            return other("nothing", at);
        };
        self.i += 1;
        let kind = match kind {
            TokenKind::Name(name) => ExprKind::Name(vec![name.clone()]),
            TokenKind::Number(text) => ExprKind::Number(text.clone()),
            TokenKind::Str(first) => ExprKind::Str(self.adjacent_strings(first.clone())),
            TokenKind::Op("...") => ExprKind::Ellipsis,
            TokenKind::Op("-") if matches!(self.peek(), Some(TokenKind::Number(_))) => {
                let Some(TokenKind::Number(text)) = self.peek() else {
                    unreachable!("just matched")
                };
                self.i += 1;
                ExprKind::Number(format!("-{text}"))
            }
            TokenKind::Op("(") => return self.parenthesized(at),
            TokenKind::Op("[") => return self.elements("]", at),
            TokenKind::Op("{") => return self.dict(at),
            TokenKind::Op(_) => {
                self.skip_to_delimiter();
                ExprKind::Other("an expression")
            }
        };
        Expr { kind, at }
    }

    /// Adjacent string literals, concatenated as Python does.
    fn adjacent_strings(&mut self, first: StrLiteral) -> StrLiteral {
        let mut value = first;
        while let Some(TokenKind::Str(next)) = self.peek() {
            self.i += 1;
            value = match (value, next) {
                (StrLiteral::Text(a), StrLiteral::Text(b)) => StrLiteral::Text(a + b),
                (StrLiteral::Bytes, _) | (_, StrLiteral::Bytes) => StrLiteral::Bytes,
                _ => StrLiteral::Formatted,
            };
        }
        value
    }

    /// After a `(`: `()`, a parenthesized expression, or a tuple.
    fn parenthesized(&mut self, at: Position) -> Expr {
        if self.eat(")") {
            return Expr {
                kind: ExprKind::Tuple(Vec::new()),
                at,
            };
        }
        let start = self.i;
        let inner = self.expression();
        if self.eat(")") {
            return inner;
        }
        self.i = start;
        self.elements(")", at)
    }

    /// The elements of a list or tuple display after its opening bracket.
    fn elements(&mut self, close: &str, at: Position) -> Expr {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                let kind = if close == "]" {
                    ExprKind::List(items)
                } else {
                    ExprKind::Tuple(items)
                };
                return Expr { kind, at };
            }
            if self.at_end() {
                return other("an expression", at);
            }
            items.push(self.expression());
            if !self.eat(",") && !matches!(self.peek(), Some(TokenKind::Op(o)) if *o == close) {
                self.skip_past_close();
                return other("a comprehension", at);
            }
        }
    }

    /// A dict display after its `{`; a set or a comprehension becomes [`ExprKind::Other`].
    fn dict(&mut self, at: Position) -> Expr {
        let mut entries = Vec::new();
        loop {
            if self.eat("}") {
                return Expr {
                    kind: ExprKind::Dict(entries),
                    at,
                };
            }
            if self.eat("**") {
                entries.push(DictEntry::Unpack(self.expression()));
            } else {
                let key = self.expression();
                if !self.eat(":") {
                    self.skip_past_close();
                    return other("a set", at);
                }
                let value = self.expression();
                if value.kind == ExprKind::Other("a comprehension") {
                    self.skip_past_close();
                    return other("a dict comprehension", at);
                }
                entries.push(DictEntry::Pair(key, value));
            }
            if matches!(self.peek(), Some(TokenKind::Name(n)) if n == "for") {
                self.skip_past_close();
                return other("a dict comprehension", at);
            }
            if !self.eat(",") && !matches!(self.peek(), Some(TokenKind::Op("}"))) {
                self.skip_past_close();
                return other("an expression", at);
            }
        }
    }
}

/// The binary operators [`ExprKind::BinOp`] reads, lowest precedence first.
const BINARY: [&[&str]; 3] = [&["|"], &["+", "-"], &["*", "/", "//", "%"]];

fn other(what: &'static str, at: Position) -> Expr {
    Expr {
        kind: ExprKind::Other(what),
        at,
    }
}
