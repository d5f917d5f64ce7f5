//! The Python a migration file is written in, as far as replaying it statically needs: the
//! logical lines of [`crate::lint::convention_source::lexer`] read as statements (assignments,
//! `def` and `with` headers, expression statements) whose expressions are names, string
//! literals, lists and tuples, and calls. Everything else is an [`ExprKind::Other`] saying what
//! it was, so that the replay can warn about it instead of guessing.

use crate::lint::convention_source::Position;
use crate::lint::convention_source::lexer::{Line, StrLiteral, Token, TokenKind};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub at: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    /// `name` or `a.b.c`.
    Name(Vec<String>),
    /// One or more adjacent string literals with a value.
    Str(String),
    /// A list or a tuple display.
    List(Vec<Expr>),
    Call(Call),
    /// Anything else ("a number", "an f-string", "an expression").
    Other(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// The dotted name called; empty when the callee is not one.
    pub function: Vec<String>,
    pub positional: Vec<Expr>,
    pub keywords: Vec<(String, Expr)>,
    /// `*args` or `**kwargs` was passed: the arguments are not all known.
    pub unpacked: bool,
}

impl Expr {
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn call(&self) -> Option<&Call> {
        match &self.kind {
            ExprKind::Call(call) => Some(call),
            _ => None,
        }
    }

    /// `None`, `True`, `False`.
    pub fn is_name(&self, name: &str) -> bool {
        matches!(&self.kind, ExprKind::Name(parts) if parts.len() == 1 && parts[0] == name)
    }

    /// What this is, for a warning.
    pub fn describe(&self) -> String {
        match &self.kind {
            ExprKind::Name(parts) => format!("the name {}", parts.join(".")),
            ExprKind::Str(_) => "a string".to_string(),
            ExprKind::List(_) => "a list".to_string(),
            ExprKind::Call(call) if call.function.is_empty() => "a call".to_string(),
            ExprKind::Call(call) => format!("a call of {}()", call.function.join(".")),
            ExprKind::Other(what) => (*what).to_string(),
        }
    }
}

impl Call {
    /// The last part of the called name: `Column` for `sa.Column`.
    pub fn name(&self) -> &str {
        self.function.last().map_or("", String::as_str)
    }

    /// The argument bound to `parameter`: the `index`th positional one, or the keyword.
    pub fn argument(&self, index: usize, parameter: &str) -> Option<&Expr> {
        self.positional
            .get(index)
            .or_else(|| self.keyword(parameter))
    }

    pub fn keyword(&self, name: &str) -> Option<&Expr> {
        self.keywords
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

/// A logical line read as a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Statement {
    /// `target = value` or `target: T = value` with one plain name as the target.
    Assign {
        target: String,
        value: Expr,
    },
    /// `def name(...):`.
    Def(String),
    /// `with context as alias:`, with nothing after the colon.
    With {
        context: Expr,
        alias: Option<String>,
    },
    /// Any other line ending a block header (`if`, `for`, `try`, `class`, ...).
    OtherBlock(String),
    /// `pass`, `...`, a docstring.
    Nothing,
    Expression(Expr),
    /// Anything else, with its first word.
    Other(String),
}

pub(crate) fn statement(line: &Line) -> Statement {
    let tokens = &line.tokens;
    let first = match &tokens[0].kind {
        TokenKind::Name(word) => word.as_str(),
        TokenKind::Str(_) if tokens.len() == 1 => return Statement::Nothing,
        TokenKind::Op("...") if tokens.len() == 1 => return Statement::Nothing,
        _ => "",
    };
    let header = ends_with_colon(tokens);
    match first {
        "pass" if tokens.len() == 1 => return Statement::Nothing,
        "def" => {
            if let Some(TokenKind::Name(name)) = tokens.get(1).map(|t| &t.kind) {
                return Statement::Def(name.clone());
            }
        }
        "with" if header => {
            let mut cursor = Cursor { tokens, i: 1 };
            let context = cursor.expression();
            let alias = if cursor.eat_name("as") {
                cursor.name()
            } else {
                None
            };
            if cursor.eat(":") && cursor.peek().is_none() {
                return Statement::With { context, alias };
            }
            return Statement::OtherBlock("with".to_string());
        }
        "if" | "elif" | "else" | "for" | "while" | "try" | "except" | "finally" | "class"
        | "async" | "match" | "case" | "with"
            if header =>
        {
            return Statement::OtherBlock(first.to_string());
        }
        _ => {}
    }
    if header {
        return Statement::OtherBlock(first.to_string());
    }
    if let Some(assign) = assignment(tokens) {
        return assign;
    }
    let mut cursor = Cursor { tokens, i: 0 };
    let expr = cursor.expression();
    if cursor.peek().is_none() {
        Statement::Expression(expr)
    } else {
        Statement::Other(first.to_string())
    }
}

/// `name = value` or `name: annotation = value`.
fn assignment(tokens: &[Token]) -> Option<Statement> {
    let TokenKind::Name(target) = &tokens.first()?.kind else {
        return None;
    };
    let mut depth = 0i32;
    let mut equals = None;
    for (i, token) in tokens.iter().enumerate().skip(1) {
        match token.kind {
            TokenKind::Op("(" | "[" | "{") => depth += 1,
            TokenKind::Op(")" | "]" | "}") => depth -= 1,
            TokenKind::Op("=") if depth == 0 => {
                equals = Some(i);
                break;
            }
            _ => {}
        }
    }
    let equals = equals?;
    if equals != 1 && tokens[1].kind != TokenKind::Op(":") {
        return None;
    }
    let mut cursor = Cursor {
        tokens,
        i: equals + 1,
    };
    let value = cursor.expression();
    if cursor.peek().is_some() {
        return None;
    }
    Some(Statement::Assign {
        target: target.clone(),
        value,
    })
}

fn ends_with_colon(tokens: &[Token]) -> bool {
    // a header's colon is at depth 0; a dict or a slice has its colons inside brackets, and a
    // lambda or an annotation is not at the end of the line
    let mut depth = 0i32;
    let mut last_colon = false;
    for token in tokens {
        last_colon = false;
        match token.kind {
            TokenKind::Op("(" | "[" | "{") => depth += 1,
            TokenKind::Op(")" | "]" | "}") => depth -= 1,
            TokenKind::Op(":") if depth == 0 => last_colon = true,
            _ => {}
        }
    }
    last_colon
        || matches!(&tokens[0].kind, TokenKind::Name(w) if matches!(w.as_str(), "if" | "for" | "while" | "with" | "try" | "else" | "elif" | "except" | "finally" | "class" | "def"))
            && tokens.iter().any(|t| matches!(t.kind, TokenKind::Op(":")))
}

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

    fn eat_name(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(TokenKind::Name(n)) if n == word) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Option<String> {
        if let Some(TokenKind::Name(n)) = self.peek().cloned() {
            self.i += 1;
            Some(n)
        } else {
            None
        }
    }

    fn at_delimiter(&self) -> bool {
        match self.peek() {
            None => true,
            Some(TokenKind::Op(op)) => matches!(*op, "," | ")" | "]" | "}" | ":" | "=" | ";"),
            Some(TokenKind::Name(n)) => n == "as",
            Some(_) => false,
        }
    }

    /// One expression up to a delimiter at depth 0; more than one primary is
    /// [`ExprKind::Other`].
    fn expression(&mut self) -> Expr {
        let at = self.at();
        let primary = self.primary();
        if self.at_delimiter() {
            return primary;
        }
        self.skip_to_delimiter();
        Expr {
            kind: ExprKind::Other("an expression"),
            at,
        }
    }

    fn skip_to_delimiter(&mut self) {
        let mut depth = 0usize;
        while let Some(kind) = self.peek() {
            match kind {
                TokenKind::Op("(" | "[" | "{") => depth += 1,
                TokenKind::Op(")" | "]" | "}") if depth == 0 => return,
                TokenKind::Op(")" | "]" | "}") => depth -= 1,
                _ if depth == 0 && self.at_delimiter() => return,
                _ => {}
            }
            self.i += 1;
        }
    }

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

    fn primary(&mut self) -> Expr {
        let mut expr = self.atom();
        loop {
            if self.eat(".") {
                match (self.name(), &mut expr.kind) {
                    (Some(name), ExprKind::Name(parts)) => parts.push(name),
                    (Some(_), _) => expr.kind = ExprKind::Other("an attribute"),
                    (None, _) => {
                        expr.kind = ExprKind::Other("an expression");
                        return expr;
                    }
                }
            } else if self.eat("(") {
                let function = match &expr.kind {
                    ExprKind::Name(parts) => parts.clone(),
                    _ => Vec::new(),
                };
                expr.kind = ExprKind::Call(self.arguments(function));
            } else if self.eat("[") {
                self.skip_past_close();
                expr.kind = ExprKind::Other("a subscript");
            } else {
                return expr;
            }
        }
    }

    fn arguments(&mut self, function: Vec<String>) -> Call {
        let mut call = Call {
            function,
            positional: Vec::new(),
            keywords: Vec::new(),
            unpacked: false,
        };
        loop {
            if self.eat(")") || self.peek().is_none() {
                return call;
            }
            if self.eat("**") || self.eat("*") {
                call.unpacked = true;
                self.expression();
            } else if let (Some(TokenKind::Name(name)), Some(TokenKind::Op("="))) = (
                self.peek().cloned(),
                self.tokens.get(self.i + 1).map(|t| &t.kind),
            ) {
                self.i += 2;
                let value = self.expression();
                call.keywords.push((name, value));
            } else {
                let value = self.expression();
                call.positional.push(value);
            }
            if !self.eat(",") && !matches!(self.peek(), Some(TokenKind::Op(")"))) {
                call.unpacked = true;
                self.skip_past_close();
                return call;
            }
        }
    }

    /// The elements of a list or tuple display after its opening bracket.
    fn elements(&mut self, close: &str, at: Position) -> Expr {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Expr {
                    kind: ExprKind::List(items),
                    at,
                };
            }
            if self.peek().is_none() {
                return Expr {
                    kind: ExprKind::Other("an expression"),
                    at,
                };
            }
            items.push(self.expression());
            if !self.eat(",") && !matches!(self.peek(), Some(TokenKind::Op(o)) if *o == close) {
                self.skip_past_close();
                return Expr {
                    kind: ExprKind::Other("a comprehension"),
                    at,
                };
            }
        }
    }

    fn atom(&mut self) -> Expr {
        let at = self.at();
        let Some(kind) = self.peek().cloned() else {
            return Expr {
                kind: ExprKind::Other("nothing"),
                at,
            };
        };
        self.i += 1;
        let kind = match kind {
            TokenKind::Name(name) => ExprKind::Name(vec![name]),
            TokenKind::Number => ExprKind::Other("a number"),
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
                match value {
                    StrLiteral::Text(text) => ExprKind::Str(text),
                    StrLiteral::Bytes => ExprKind::Other("a bytes literal"),
                    StrLiteral::Formatted => ExprKind::Other("an f-string"),
                }
            }
            TokenKind::Op("(") => {
                let start = self.i;
                let inner = self.expression();
                if self.eat(")") {
                    return inner;
                }
                self.i = start;
                return self.elements(")", at);
            }
            TokenKind::Op("[") => return self.elements("]", at),
            TokenKind::Op("-") if matches!(self.peek(), Some(TokenKind::Number)) => {
                self.i += 1;
                ExprKind::Other("a number")
            }
            TokenKind::Op(_) => {
                self.skip_to_delimiter();
                ExprKind::Other("an expression")
            }
        };
        Expr { kind, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::convention_source::lexer::logical_lines;

    fn statements(source: &str) -> Vec<Statement> {
        logical_lines(source)
            .unwrap()
            .iter()
            .map(statement)
            .collect()
    }

    #[test]
    fn reads_assignments_headers_and_calls() {
        let read = statements(
            "revision: str = 'abc'\ndown_revision = ('a', 'b')\ndef upgrade() -> None:\n    \
             op.create_index(op.f('ix_t_a'), 't', ['a'], unique=False)\n    \
             with op.batch_alter_table('t', schema=None) as batch_op:\n        pass\n    \
             for x in y:\n        pass\n    x = 1 + 2\n",
        );
        assert!(
            matches!(&read[0], Statement::Assign { target, value } if target == "revision" && value.text() == Some("abc"))
        );
        let Statement::Assign { value, .. } = &read[1] else {
            panic!("{read:?}")
        };
        assert!(matches!(&value.kind, ExprKind::List(items) if items.len() == 2));
        assert_eq!(read[2], Statement::Def("upgrade".to_string()));
        let Statement::Expression(expr) = &read[3] else {
            panic!("{read:?}")
        };
        let call = expr.call().unwrap();
        assert_eq!(call.function, ["op", "create_index"]);
        assert_eq!(
            call.positional[0].call().unwrap().positional[0].text(),
            Some("ix_t_a")
        );
        assert!(
            matches!(&call.positional[2].kind, ExprKind::List(items) if items[0].text() == Some("a"))
        );
        assert!(call.keyword("unique").unwrap().is_name("False"));
        assert_eq!((expr.at.line, expr.at.column), (4, 5));
        assert!(matches!(&read[4], Statement::With { alias: Some(a), .. } if a == "batch_op"));
        assert_eq!(read[5], Statement::Nothing);
        assert_eq!(read[6], Statement::OtherBlock("for".to_string()));
        assert!(
            matches!(&read[8], Statement::Assign { value, .. } if matches!(value.kind, ExprKind::Other(_)))
        );
    }
}
