//! Splits a SQL file into statements the way psql reads it, so that each statement can be
//! parsed on its own (one broken statement must not hide the rest of the file).
//!
//! The scanner follows psql's lexer (`psqlscan.l`) closely enough for migrations, Alembic's
//! offline output and `pg_dump --schema-only`:
//!
//! * `;` ends a statement outside quotes, comments, parentheses and `BEGIN ... END` bodies of
//!   `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (psql's `begin_depth` heuristic, for
//!   `BEGIN ATOMIC` bodies);
//! * quoted strings (`'...'`, `E'...'` with backslash escapes), quoted identifiers, dollar
//!   quotes (`$tag$ ... $tag$`), `--` and nested `/* */` comments are skipped whole;
//! * a line whose first non-blank character is a backslash is a psql meta-command (`\connect`,
//!   `\restrict` in recent `pg_dump` output, ...) and is dropped; `\g...` also sends the
//!   statement typed so far, as psql does;
//! * the data of `COPY ... FROM stdin;` (and `\copy ... from stdin`) is skipped up to its `\.`
//!   line.
//!
//! Every statement is reported as a byte range starting at its first token (leading blanks and
//! comments excluded) and ending after its `;`.

/// One statement: `text[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The statements of `text`, in order.
pub(crate) fn split(text: &str) -> Vec<Chunk> {
    let mut scanner = Scanner::new(text);
    scanner.run();
    scanner.chunks
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    chunks: Vec<Chunk>,
    /// Only blanks since the last newline.
    at_line_start: bool,
    statement: PsqlStatement,
}

/// What psql tracks about the statement being read.
#[derive(Default)]
struct PsqlStatement {
    start: Option<usize>,
    paren_depth: usize,
    begin_depth: usize,
    /// psql's `identifiers`: first letters of `create`, `or`, `replace`, `function`,
    /// `procedure` at the first four identifier positions (0 elsewhere).
    identifiers: [u8; 4],
    identifier_count: usize,
    /// Lower-cased words at parenthesis depth 0 (for `COPY ... FROM stdin`), first few only.
    words: Vec<String>,
}

const MAX_WORDS: usize = 64;

impl PsqlStatement {
    fn is_routine(&self) -> bool {
        let ids = &self.identifiers;
        ids[0] == b'c'
            && (ids[1] == b'f'
                || ids[1] == b'p'
                || (ids[1] == b'o' && ids[2] == b'r' && (ids[3] == b'f' || ids[3] == b'p')))
    }

    fn is_copy_from_stdin(&self) -> bool {
        self.words.first().is_some_and(|w| w == "copy")
            && self
                .words
                .windows(2)
                .any(|pair| pair[0] == "from" && pair[1] == "stdin")
    }

    fn word(&mut self, word: &str) {
        let lower = word.to_ascii_lowercase();
        if let Some(slot) = self.identifiers.get_mut(self.identifier_count)
            && matches!(
                lower.as_str(),
                "create" | "function" | "procedure" | "or" | "replace"
            )
        {
            *slot = lower.as_bytes()[0];
        }
        self.identifier_count += 1;
        if self.is_routine() && self.paren_depth == 0 {
            match lower.as_str() {
                "begin" => self.begin_depth += 1,
                "case" if self.begin_depth >= 1 => self.begin_depth += 1,
                "end" => self.begin_depth = self.begin_depth.saturating_sub(1),
                _ => {}
            }
        }
        if self.paren_depth == 0 && self.words.len() < MAX_WORDS {
            self.words.push(lower);
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos,
            chunks: Vec::new(),
            at_line_start: true,
            statement: PsqlStatement::default(),
        }
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn line_end(&self, from: usize) -> usize {
        self.bytes[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.bytes.len(), |i| from + i)
    }

    fn run(&mut self) {
        while let Some(b) = self.peek(0) {
            match b {
                b'\n' => {
                    self.at_line_start = true;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => self.pos += 1,
                b'\\' if self.at_line_start => self.meta_command(),
                b'-' if self.peek(1) == Some(b'-') => self.pos = self.line_end(self.pos),
                b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
                // an empty statement
                b';' if self.statement.start.is_none() => self.pos += 1,
                _ => {
                    self.at_line_start = false;
                    if self.statement.start.is_none() {
                        self.statement.start = Some(self.pos);
                    }
                    self.token(b);
                }
            }
        }
        self.finish(self.bytes.len());
    }

    fn token(&mut self, b: u8) {
        match b {
            b'\'' => self.quoted(b'\'', self.is_escape_string()),
            b'"' => self.quoted(b'"', false),
            b'$' => self.dollar(),
            b'(' => {
                self.statement.paren_depth += 1;
                self.pos += 1;
            }
            b')' => {
                self.statement.paren_depth = self.statement.paren_depth.saturating_sub(1);
                self.pos += 1;
            }
            b';' => {
                self.pos += 1;
                let st = &self.statement;
                if st.paren_depth == 0 && st.begin_depth == 0 {
                    let copy = st.is_copy_from_stdin();
                    self.finish(self.pos);
                    if copy {
                        let next_line = self.line_end(self.pos);
                        self.skip_copy_data((next_line + 1).min(self.bytes.len()));
                    }
                }
            }
            b if b.is_ascii_digit() => {
                while self.peek(0).is_some_and(|b| is_ident_cont(b) || b == b'.') {
                    self.pos += 1;
                }
            }
            b if is_ident_start(b) => {
                let start = self.pos;
                while self.peek(0).is_some_and(is_ident_cont) {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                self.statement.word(word);
            }
            _ => self.pos += 1,
        }
    }

    /// `E'...'`: the quote follows a lone `E` or `e`.
    fn is_escape_string(&self) -> bool {
        let p = self.pos;
        p >= 1
            && matches!(self.bytes[p - 1], b'E' | b'e')
            && (p < 2 || !is_ident_cont(self.bytes[p - 2]))
    }

    fn quoted(&mut self, quote: u8, backslash_escapes: bool) {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if backslash_escapes && b == b'\\' {
                self.pos = (self.pos + 1).min(self.bytes.len());
            } else if b == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
    }

    fn dollar(&mut self) {
        let start = self.pos;
        let after_ident = start > 0 && is_ident_cont(self.bytes[start - 1]);
        let mut end = start + 1;
        if !after_ident {
            if self.bytes.get(end).is_some_and(|&b| is_ident_start(b)) {
                while self
                    .bytes
                    .get(end)
                    .is_some_and(|&b| is_ident_cont(b) && b != b'$')
                {
                    end += 1;
                }
            }
            if self.bytes.get(end) == Some(&b'$') {
                let tag = &self.bytes[start..=end];
                let body = end + 1;
                self.pos = find(&self.bytes[body..], tag)
                    .map_or(self.bytes.len(), |i| body + i + tag.len());
                return;
            }
        }
        self.pos += 1;
    }

    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            match (self.peek(0), self.peek(1)) {
                (Some(b'/'), Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    fn meta_command(&mut self) {
        let end = self.line_end(self.pos);
        let command = &self.text[self.pos..end];
        let lower = command.to_ascii_lowercase();
        if lower.starts_with("\\g") {
            self.finish(self.pos);
        }
        let copy_in = lower.starts_with("\\copy")
            && lower
                .split_ascii_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[0] == "from" && w[1] == "stdin");
        self.pos = end;
        if copy_in {
            self.skip_copy_data((end + 1).min(self.bytes.len()));
        }
    }

    /// Skips `COPY` data lines from `from` through the `\.` line (or to the end).
    fn skip_copy_data(&mut self, from: usize) {
        let mut line = from;
        while line < self.bytes.len() {
            let end = self.line_end(line);
            let content = self.text[line..end].trim_end_matches('\r');
            line = (end + 1).min(self.bytes.len());
            if content == "\\." {
                break;
            }
        }
        self.pos = line.max(self.pos);
        self.at_line_start = true;
    }

    fn finish(&mut self, end: usize) {
        if let Some(start) = self.statement.start {
            self.chunks.push(Chunk { start, end });
        }
        self.statement = PsqlStatement::default();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        split(text)
            .into_iter()
            .map(|c| &text[c.start..c.end])
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "-- lead\nCREATE TABLE a (x text DEFAULT ';');\n/* ; /* nested ; */ */ SELECT \"a;b\", $$;$$, $f$ ; $f$ ;\nSELECT E'\\';' ;;";
        assert_eq!(
            pieces(sql),
            [
                "CREATE TABLE a (x text DEFAULT ';');",
                "SELECT \"a;b\", $$;$$, $f$ ; $f$ ;",
                "SELECT E'\\';' ;",
            ]
        );
    }

    #[test]
    fn keeps_begin_atomic_bodies_whole() {
        let sql = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; CREATE TABLE t (a int);";
        let got = pieces(sql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("END; END;"));
        // a table named "begin" does not start a body
        assert_eq!(pieces("CREATE TABLE begin (a int); SELECT 1;").len(), 2);
    }

    #[test]
    fn skips_meta_commands_and_copy_data() {
        let sql = "\\restrict abc123\nSET x = 1;\n  \\connect db\nCOPY public.t (a, b) FROM stdin;\n1\t'unbalanced\n\\.\nCREATE TABLE t2 (a int);\n\\unrestrict abc123\n";
        assert_eq!(
            pieces(sql),
            [
                "SET x = 1;",
                "COPY public.t (a, b) FROM stdin;",
                "CREATE TABLE t2 (a int);"
            ]
        );
        let sql = "\\copy t from stdin\nx;y\n\\.\nSELECT 1";
        assert_eq!(pieces(sql), ["SELECT 1"]);
        // \g sends what was typed so far
        assert_eq!(
            pieces("SELECT 1\n\\g\nSELECT 2;"),
            ["SELECT 1\n", "SELECT 2;"]
        );
    }

    #[test]
    fn unterminated_input_ends_the_statement() {
        assert_eq!(pieces("SELECT 'abc"), ["SELECT 'abc"]);
        assert_eq!(pieces("SELECT $x$ abc"), ["SELECT $x$ abc"]);
        assert_eq!(pieces("/* open"), Vec::<&str>::new());
        assert_eq!(pieces("\u{feff}SELECT 1;"), ["SELECT 1;"]);
        assert_eq!(
            pieces("SELECT a$b$ FROM t; SELECT $1;"),
            ["SELECT a$b$ FROM t;", "SELECT $1;"]
        );
    }
}
