//! Python's tokenizer, as far as reading literals, assignments and calls needs it: logical lines
//! (brackets and backslashes join physical lines, comments and blank lines vanish) with their
//! indentation, names, operators, and string literals decoded as Python decodes them (prefixes,
//! triple quotes, escapes). Numbers are kept as written.

use super::Position;

/// One token of a logical line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) at: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// An identifier or a keyword.
    Name(String),
    /// One string literal; adjacent ones are concatenated by the parser.
    Str(StrLiteral),
    /// A number literal as written (`5`, `1_000`, `2.5e3`, `0x1F`, `3j`).
    Number(String),
    /// Punctuation or an operator: `(`, `=`, `**`, `|=`, ...
    Op(&'static str),
}

/// A string literal's value, or why it has none that can be known without running Python.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StrLiteral {
    Text(String),
    /// `b"..."`: bytes, not a string.
    Bytes,
    /// An f-string or t-string with replacement fields.
    Formatted,
}

/// A logical line: its tokens and the column its first token starts at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub(crate) indent: usize,
    pub(crate) tokens: Vec<Token>,
}

/// Input Python itself would refuse.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LexError {
    pub(crate) at: Position,
    pub(crate) message: String,
}

const OPERATORS: [&str; 47] = [
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "**", "//", "<<", ">>", "<=", ">=", "==", "!=",
    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "(", ")", "[", "]", "{", "}", ",", ":",
    ";", ".", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">", "@",
];

struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: usize,
    line_start: usize,
}

/// Splits Python source into logical lines.
pub(crate) fn logical_lines(source: &str) -> Result<Vec<Line>, LexError> {
    let mut lexer = Lexer {
        chars: source.chars().collect(),
        i: 0,
        line: 1,
        line_start: 0,
    };
    lexer.run()
}

impl Lexer {
    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.i - self.line_start + 1,
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn newline(&mut self) {
        self.i += 1;
        self.line += 1;
        self.line_start = self.i;
    }

    fn error<T>(&self, at: Position, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            at,
            message: message.into(),
        })
    }

    fn run(&mut self) -> Result<Vec<Line>, LexError> {
        let mut lines = Vec::new();
        let mut current: Vec<Token> = Vec::new();
        let mut indent = 0;
        let mut brackets: Vec<(char, Position)> = Vec::new();
        while let Some(c) = self.peek(0) {
            match c {
                '\n' => {
                    self.newline();
                    if brackets.is_empty() && !current.is_empty() {
                        lines.push(Line {
                            indent,
                            tokens: std::mem::take(&mut current),
                        });
                    }
                }
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                '\\' if self.peek(1) == Some('\n') => {
                    self.i += 1;
                    self.newline();
                }
                '\\' if self.peek(1) == Some('\r') && self.peek(2) == Some('\n') => {
                    self.i += 2;
                    self.newline();
                }
                c if c.is_whitespace() => self.i += 1,
                _ => {
                    let at = self.here();
                    if current.is_empty() {
                        indent = self.indent_of_line();
                    }
                    let kind = self.token(&mut brackets)?;
                    current.push(Token { kind, at });
                }
            }
        }
        if let Some((open, at)) = brackets.pop() {
            return self.error(at, format!("'{open}' is never closed"));
        }
        if !current.is_empty() {
            lines.push(Line {
                indent,
                tokens: current,
            });
        }
        Ok(lines)
    }

    /// The indentation of the physical line being read, tabs to the next multiple of 8.
    fn indent_of_line(&self) -> usize {
        self.chars[self.line_start..self.i]
            .iter()
            .fold(0, |width, c| match c {
                '\t' => (width / 8 + 1) * 8,
                _ => width + 1,
            })
    }

    fn token(&mut self, brackets: &mut Vec<(char, Position)>) -> Result<TokenKind, LexError> {
        let at = self.here();
        let c = self.chars[self.i];
        if c.is_alphabetic() || c == '_' {
            let start = self.i;
            while self
                .peek(0)
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                self.i += 1;
            }
            let word: String = self.chars[start..self.i].iter().collect();
            if matches!(self.peek(0), Some('"' | '\''))
                && word.len() <= 2
                && word.chars().all(|c| "rRbBuUfFtT".contains(c))
            {
                return self
                    .string(&word.to_ascii_lowercase(), at)
                    .map(TokenKind::Str);
            }
            return Ok(TokenKind::Name(word));
        }
        if c == '"' || c == '\'' {
            return self.string("", at).map(TokenKind::Str);
        }
        if c.is_ascii_digit() || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) {
            let hex = c == '0' && matches!(self.peek(1), Some('x' | 'X'));
            let start = self.i;
            while let Some(d) = self.peek(0) {
                let exponent_sign = (d == '+' || d == '-')
                    && self.i > start
                    && matches!(self.chars[self.i - 1], 'e' | 'E')
                    && !hex;
                if !(d.is_alphanumeric() || d == '_' || d == '.' || exponent_sign) {
                    break;
                }
                self.i += 1;
            }
            return Ok(TokenKind::Number(
                self.chars[start..self.i].iter().collect(),
            ));
        }
        let rest = &self.chars[self.i..];
        let Some(op) = OPERATORS
            .iter()
            .find(|op| op.chars().zip(rest).filter(|(a, b)| a == *b).count() == op.len())
        else {
            return self.error(at, format!("unexpected character {c:?}"));
        };
        self.i += op.len();
        match *op {
            "(" | "[" | "{" => brackets.push((c, at)),
            ")" | "]" | "}" => {
                let expected = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match brackets.pop() {
                    Some((open, _)) if open == expected => {}
                    _ => return self.error(at, format!("'{c}' does not match an open bracket")),
                }
            }
            _ => {}
        }
        Ok(TokenKind::Op(op))
    }

    /// A string literal starting at the quote under the cursor; `prefix` is lowercase.
    fn string(&mut self, prefix: &str, at: Position) -> Result<StrLiteral, LexError> {
        let quote = self.chars[self.i];
        let triple = self.peek(1) == Some(quote) && self.peek(2) == Some(quote);
        self.i += if triple { 3 } else { 1 };
        let raw = prefix.contains('r');
        let formatted = prefix.contains('f') || prefix.contains('t');
        let mut value = String::new();
        let mut fields = false;
        let mut depth = 0usize;
        loop {
            let Some(c) = self.peek(0) else {
                return self.error(at, "this string is never closed");
            };
            if c == quote && depth == 0 {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.peek(1) == Some(quote) && self.peek(2) == Some(quote) {
                    self.i += 3;
                    break;
                }
            }
            if c == '\n' {
                if !triple && depth == 0 {
                    return self.error(at, "this string is never closed on its line");
                }
                value.push('\n');
                self.newline();
                continue;
            }
            if formatted && (c == '{' || c == '}') {
                if depth == 0 && self.peek(1) == Some(c) {
                    value.push(c);
                    self.i += 2;
                    continue;
                }
                fields = true;
                depth = if c == '{' {
                    depth + 1
                } else {
                    depth.saturating_sub(1)
                };
                self.i += 1;
                continue;
            }
            if c == '\\' {
                self.escape(raw, &mut value, at)?;
                continue;
            }
            value.push(c);
            self.i += 1;
        }
        Ok(if prefix.contains('b') {
            StrLiteral::Bytes
        } else if fields {
            StrLiteral::Formatted
        } else {
            StrLiteral::Text(value)
        })
    }

    /// A backslash in a string: Python's escape sequences (`\N{...}` is refused: its value
    /// needs Unicode's name table). In raw strings the backslash stays.
    fn escape(&mut self, raw: bool, value: &mut String, at: Position) -> Result<(), LexError> {
        let Some(next) = self.peek(1) else {
            return self.error(at, "this string is never closed");
        };
        if raw {
            value.push('\\');
            self.i += 1;
            if next == '\n' {
                value.push('\n');
                self.newline();
            } else {
                value.push(next);
                self.i += 1;
            }
            return Ok(());
        }
        self.i += 2;
        let simple = match next {
            '\n' => {
                self.i -= 1;
                self.newline();
                return Ok(());
            }
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(c) = simple {
            value.push(c);
            return Ok(());
        }
        let (digits, radix) = match next {
            '0'..='7' => {
                self.i -= 1;
                (3, 8)
            }
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            'N' => {
                return self.error(
                    at,
                    "\\N{...} escapes are not supported; write the character itself",
                );
            }
            other => {
                value.push('\\');
                value.push(other);
                return Ok(());
            }
        };
        let start = self.i;
        while self.i - start < digits && self.peek(0).is_some_and(|d| d.is_digit(radix)) {
            self.i += 1;
        }
        let text: String = self.chars[start..self.i].iter().collect();
        let code = u32::from_str_radix(&text, radix).ok();
        match code.and_then(char::from_u32) {
            Some(c) if radix == 8 || self.i - start == digits => value.push(c),
            _ => return self.error(at, format!("invalid escape \\{next}{text} in this string")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(source: &str) -> Vec<StrLiteral> {
        logical_lines(source)
            .unwrap()
            .into_iter()
            .flat_map(|line| line.tokens)
            .filter_map(|t| match t.kind {
                TokenKind::Str(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    fn text(s: &str) -> StrLiteral {
        StrLiteral::Text(s.to_string())
    }

    #[test]
    fn brackets_and_backslashes_join_lines_and_comments_vanish() {
        let lines = logical_lines(
            "A = {  # the convention\n    'ix': 'x',\n}\n\nif x:\n    B = 1 + \\\n  2\n",
        )
        .unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].tokens.len(), 8);
        assert_eq!((lines[1].indent, lines[2].indent), (0, 4));
        assert_eq!(lines[2].tokens.len(), 5);
        assert_eq!(lines[2].tokens[4].at, Position { line: 7, column: 3 });
    }

    #[test]
    fn string_literals_are_decoded_as_python_does() {
        assert_eq!(
            strings(
                r#"'a\'b' "c\"d" r'\d\'' '\x41\101\u00e9\U0001F600' '\q' b'x' f'{x}' f'{{y}}' Rb"z" '''t'q'''"#
            ),
            [
                text("a'b"),
                text("c\"d"),
                text("\\d\\'"),
                text("AAé😀"),
                text("\\q"),
                StrLiteral::Bytes,
                StrLiteral::Formatted,
                text("{y}"),
                StrLiteral::Bytes,
                text("t'q"),
            ]
        );
        assert_eq!(strings("\"\"\"a\nb\\\nc\"\"\""), [text("a\nbc")]);
        assert_eq!(strings("f'{d[\"k\"]}'"), [StrLiteral::Formatted]);
    }

    #[test]
    fn what_python_refuses_is_an_error_with_its_position() {
        let error = logical_lines("A = {\n  'ix': 'x',\n").unwrap_err();
        assert_eq!((error.at.line, error.at.column), (1, 5));
        assert!(logical_lines("A = 'open\n").is_err());
        assert!(logical_lines("A = (]\n").is_err());
        assert!(logical_lines("A = '\\N{DASH}'\n").is_err());
        assert!(logical_lines("A = '\\x4'\n").is_err());
        // numbers, also at the very start, with exponents
        let numbers = logical_lines("1e-5 + 0x1E-2 + .5").unwrap();
        assert_eq!(numbers[0].tokens.len(), 7);
    }
}
