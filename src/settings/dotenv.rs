//! `.env` files read exactly as python-dotenv 1.x reads them for pydantic-settings
//! (`dotenv_values(path, encoding="utf-8")`): a port of `dotenv/parser.py`, of
//! `resolve_variables` in `dotenv/main.py` and of `dotenv/variables.py`.
//!
//! Owns: the bytes of the file → its assignments, in python-dotenv's order and with its values.
//! Not modelled: python-dotenv's writing functions (`set_key`), `find_dotenv`'s walk up the
//! directories (pydantic-settings reads `.env` from the working directory only), and encodings
//! other than UTF-8 (pydantic-settings passes `utf-8` unless the application sets
//! `env_file_encoding`).
//!
//! Why our own code and not a crate: dotenvy (and dotenv-parser, envy and the other Rust readers)
//! follow the shell or the Ruby gem, and differ from python-dotenv exactly where the issue
//! measured it — `${VAR:-default}`, single quotes (python-dotenv interpolates inside them too),
//! the escapes it decodes, `#` after a value, statements it cannot parse (python-dotenv skips
//! them with a warning and goes on), and which of two assignments wins. Fidelity is only
//! reachable by porting the reference, rule by rule; `tests/fixtures/settings_oracle.json`
//! checks the port against the real python-dotenv.

use std::fmt;

/// One statement python-dotenv parsed: `KEY=value`, or `KEY` alone (`value` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub(crate) key: String,
    pub(crate) value: Option<String>,
}

/// What python-dotenv makes of a file: its assignments, and the statements it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub assignments: Vec<Assignment>,
    /// The line (1-based) where each statement python-dotenv could not parse starts; it logs
    /// "could not parse statement" and goes on with the next line.
    pub skipped_lines: Vec<usize>,
}

/// The file is not UTF-8; python's `open(path, encoding="utf-8")` raises and the application
/// does not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    /// 1-based line of the first invalid byte.
    pub(crate) line: usize,
}

impl fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} is not UTF-8 (python's open(..., encoding=\"utf-8\") refuses the file)",
            self.line
        )
    }
}

/// The text python reads from the file's bytes: UTF-8, with universal newlines (`\r\n` and `\r`
/// become `\n`, as `open()` in text mode does) and without a leading byte order mark (which
/// python-dotenv's `Reader` removes).
pub fn decode(bytes: &[u8]) -> Result<String, NotUtf8> {
    let text = std::str::from_utf8(bytes).map_err(|error| NotUtf8 {
        line: 1 + bytes[..error.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Python's `str.isspace()` and `\s` in a `re.UNICODE` pattern: Rust's whitespace plus the
/// four information separators U+001C..U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// `[^\S\r\n]`: whitespace that does not end a line.
fn is_blank(c: char) -> bool {
    is_space(c) && !is_newline(c)
}

/// A failed `read_regex`: the statement is skipped from where the reader stands.
struct NoMatch;

/// python-dotenv's `Reader`: the text and a position that only successful reads move.
struct Reader {
    chars: Vec<char>,
    position: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    fn has_next(&self) -> bool {
        self.position < self.chars.len()
    }

    fn at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.position + offset).copied()
    }

    /// Advances over the longest run of characters that satisfy `accept`; returns it.
    fn take_while(&mut self, accept: impl Fn(char) -> bool) -> String {
        let start = self.position;
        while self.peek().is_some_and(&accept) {
            self.position += 1;
        }
        self.chars[start..self.position].iter().collect()
    }

    fn line_of(&self, position: usize) -> usize {
        1 + self.chars[..position]
            .iter()
            .filter(|&&c| c == '\n')
            .count()
    }

    /// `_export`: `(?:export[^\S\r\n]+)?`.
    fn skip_export(&mut self) {
        let word: Vec<char> = "export".chars().collect();
        let matches_word = self
            .chars
            .get(self.position..self.position + word.len())
            .is_some_and(|s| s == word.as_slice());
        if matches_word && self.at(word.len()).is_some_and(is_blank) {
            self.position += word.len();
            self.take_while(is_blank);
        }
    }

    /// `parse_key`: `None` for a comment, `'([^']+)'` or `([^=\#\s]+)`.
    fn key(&mut self) -> Result<Option<String>, NoMatch> {
        match self.peek() {
            Some('#') => Ok(None),
            Some('\'') => {
                let end = self.chars[self.position + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or(NoMatch)?;
                if end == 0 {
                    return Err(NoMatch);
                }
                let key = self.chars[self.position + 1..self.position + 1 + end]
                    .iter()
                    .collect();
                self.position += end + 2;
                Ok(Some(key))
            }
            _ => {
                let key = self.take_while(|c| c != '=' && c != '#' && !is_space(c));
                if key.is_empty() {
                    return Err(NoMatch);
                }
                Ok(Some(key))
            }
        }
    }

    /// `_single_quoted_value` / `_double_quoted_value`: `Q((?:\\.|[^Q\\])*)Q` with DOTALL.
    fn quoted(&mut self, quote: char) -> Result<String, NoMatch> {
        let mut end = self.position + 1;
        loop {
            match self.chars.get(end) {
                Some('\\') if end + 1 < self.chars.len() => end += 2,
                Some(&c) if c == quote => break,
                Some('\\') | None => return Err(NoMatch),
                Some(_) => end += 1,
            }
        }
        let inner = self.chars[self.position + 1..end].iter().collect();
        self.position = end + 1;
        Ok(inner)
    }

    /// `parse_value`.
    fn value(&mut self) -> Result<String, NoMatch> {
        match self.peek() {
            Some('\'') => Ok(decode_escapes(&self.quoted('\'')?, &['\\', '\''])),
            Some('"') => Ok(decode_escapes(
                &self.quoted('"')?,
                &['\\', '\'', '"', 'a', 'b', 'f', 'n', 'r', 't', 'v'],
            )),
            None | Some('\n' | '\r') => Ok(String::new()),
            Some(_) => {
                let part: Vec<char> = self.take_while(|c| !is_newline(c)).chars().collect();
                Ok(strip_inline_comment(&part))
            }
        }
    }

    /// `_comment` then `_end_of_line`.
    fn end_of_statement(&mut self) -> Result<(), NoMatch> {
        let blanks = self.chars[self.position..]
            .iter()
            .take_while(|&&c| is_blank(c))
            .count();
        if self.at(blanks) == Some('#') {
            self.position += blanks;
            self.take_while(|c| !is_newline(c));
        }
        self.take_while(is_blank);
        match (self.peek(), self.at(1)) {
            (None, _) => Ok(()),
            (Some('\r'), Some('\n')) => {
                self.position += 2;
                Ok(())
            }
            (Some('\n' | '\r'), _) => {
                self.position += 1;
                Ok(())
            }
            _ => Err(NoMatch),
        }
    }

    /// `_rest_of_line`: `[^\r\n]*(?:\r|\n|\r\n)?`.
    fn skip_rest_of_line(&mut self) {
        self.take_while(|c| !is_newline(c));
        if self.peek().is_some_and(is_newline) {
            self.position += 1;
        }
    }

    /// `parse_binding` after the leading whitespace: `Ok(None)` for a comment.
    fn statement(&mut self) -> Result<Option<Assignment>, NoMatch> {
        self.skip_export();
        let key = self.key()?;
        self.take_while(is_blank);
        let value = if self.peek() == Some('=') {
            self.position += 1;
            let blanks = self.take_while(is_blank);
            if !blanks.is_empty() && self.peek() == Some('#') {
                Some(String::new())
            } else {
                Some(self.value()?)
            }
        } else {
            None
        };
        self.end_of_statement()?;
        Ok(key.map(|key| Assignment { key, value }))
    }
}

/// `decode_escapes`: each backslash followed by one of `escapes` becomes what Python's
/// `unicode-escape` codec makes of the pair; other backslashes stay.
fn decode_escapes(text: &str, escapes: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && escapes.contains(&next) => {
                chars.next();
                out.push(match next {
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{b}',
                    other => other,
                });
            }
            _ => out.push(c),
        }
    }
    out
}

/// `re.sub(r"\s+#.*", "", part).rstrip()`: the value ends before the first run of whitespace
/// that is followed by `#`.
fn strip_inline_comment(part: &[char]) -> String {
    let mut end = part.len();
    let mut i = 0;
    while i < part.len() {
        if is_space(part[i]) {
            let run_end = i + part[i..].iter().take_while(|&&c| is_space(c)).count();
            if part.get(run_end) == Some(&'#') {
                end = i;
                break;
            }
            i = run_end;
        } else {
            i += 1;
        }
    }
    let kept: String = part[..end].iter().collect();
    kept.trim_end_matches(is_space).to_string()
}

/// `parse_stream`: every statement of the text, as python-dotenv reads it.
pub fn parse(text: &str) -> Parsed {
    let mut reader = Reader {
        chars: text.chars().collect(),
        position: 0,
    };
    let mut parsed = Parsed::default();
    while reader.has_next() {
        reader.take_while(is_space);
        if !reader.has_next() {
            break;
        }
        let start = reader.position;
        match reader.statement() {
            Ok(Some(assignment)) => parsed.assignments.push(assignment),
            Ok(None) => {}
            Err(NoMatch) => {
                parsed.skipped_lines.push(reader.line_of(start));
                reader.skip_rest_of_line();
            }
        }
    }
    parsed
}

/// One `${NAME}` or `${NAME:-default}` found by python-dotenv's `_posix_variable` pattern,
/// `\$\{([^}:]*)(?::-([^}]*))?\}`, as a range of `chars` and its parts.
struct Variable {
    start: usize,
    end: usize,
    name: String,
    default: Option<String>,
}

/// The match of `_posix_variable` starting at `start`, if there is one.
fn variable_at(chars: &[char], start: usize) -> Option<Variable> {
    if chars.get(start..start + 2)? != ['$', '{'] {
        return None;
    }
    let name_start = start + 2;
    let name_len = chars[name_start..]
        .iter()
        .take_while(|&&c| c != '}' && c != ':')
        .count();
    let after_name = name_start + name_len;
    let name = chars[name_start..after_name].iter().collect();
    match chars.get(after_name)? {
        '}' => Some(Variable {
            start,
            end: after_name + 1,
            name,
            default: None,
        }),
        _ if chars.get(after_name + 1) == Some(&'-') => {
            let default_start = after_name + 2;
            let default_len = chars[default_start..]
                .iter()
                .take_while(|&&c| c != '}')
                .count();
            let close = default_start + default_len;
            (chars.get(close) == Some(&'}')).then(|| Variable {
                start,
                end: close + 1,
                name,
                default: Some(chars[default_start..close].iter().collect()),
            })
        }
        _ => None,
    }
}

/// The ordered mapping python-dotenv's `dict()` returns: a Python dict, so a key assigned twice
/// keeps its first place and takes its last value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values(Vec<(String, Option<String>)>);

impl Values {
    fn insert(&mut self, key: String, value: Option<String>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    fn get(&self, key: &str) -> Option<&Option<String>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The entries in dict order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }
}

/// `resolve_variables(values, override=True)`: each value with `${NAME}` and `${NAME:-default}`
/// replaced — in single quotes too — by the file's earlier values, else the process environment
/// (names case-sensitive), else the default, else nothing. A name that is set but empty, or
/// written without `=` in the file, gives the empty text, not the default.
pub fn resolve_variables(assignments: &[Assignment], environment: &[(String, String)]) -> Values {
    let mut resolved = Values::default();
    for Assignment { key, value } in assignments {
        let value = value.as_ref().map(|value| {
            let chars: Vec<char> = value.chars().collect();
            let mut out = String::new();
            let (mut cursor, mut i) = (0, 0);
            while i < chars.len() {
                let Some(variable) = variable_at(&chars, i) else {
                    i += 1;
                    continue;
                };
                out.extend(&chars[cursor..variable.start]);
                let found = match resolved.get(&variable.name) {
                    Some(from_file) => Some(from_file.clone().unwrap_or_default()),
                    None => environment
                        .iter()
                        .find(|(name, _)| *name == variable.name)
                        .map(|(_, value)| value.clone()),
                };
                out.push_str(&found.or(variable.default).unwrap_or_default());
                cursor = variable.end;
                i = variable.end;
            }
            out.extend(&chars[cursor..]);
            out
        });
        resolved.insert(key.clone(), value);
    }
    resolved
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn values(text: &str, environment: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
        let environment: Vec<(String, String)> = environment
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let parsed = parse(&decode(text.as_bytes()).unwrap());
        resolve_variables(&parsed.assignments, &environment).0
    }

    fn one(text: &str) -> Option<String> {
        values(text, &[]).pop().and_then(|(_, v)| v)
    }

    #[test]
    fn quoting_follows_python_dotenv() {
        assert_eq!(one("A=1 # c").as_deref(), Some("1"));
        assert_eq!(one("A=1#c").as_deref(), Some("1#c"));
        assert_eq!(one("A= #c").as_deref(), Some(""));
        assert_eq!(one("A='q' # c").as_deref(), Some("q"));
        assert_eq!(
            one(r#"A="a\'b\"c\\d\$e\n""#).as_deref(),
            Some("a'b\"c\\d\\$e\n")
        );
        assert_eq!(one(r"A='a\'b\\c\n'").as_deref(), Some("a'b\\c\\n"));
        assert_eq!(one("A=\"two\nlines\"").as_deref(), Some("two\nlines"));
        assert_eq!(one("export  A = 4 ").as_deref(), Some("4"));
        assert_eq!(one("A"), None);
    }

    #[test]
    fn unparsable_statements_are_skipped_and_counted() {
        let parsed = parse("A=1\nE='q' x\nB=\"open\nC=3\n");
        assert_eq!(
            parsed.assignments,
            [
                Assignment {
                    key: "A".into(),
                    value: Some("1".into())
                },
                Assignment {
                    key: "C".into(),
                    value: Some("3".into())
                }
            ]
        );
        assert_eq!(parsed.skipped_lines, [2, 3]);
    }

    #[test]
    fn interpolation_uses_earlier_file_values_then_the_environment() {
        let got = values(
            "A='x${B}y'\nB=1\nC=${B}\nD=${E:-d}\nE=\nF=${E:-d}\nG\nH=${G:-z}\nI=${B:x}",
            &[("B", "env"), ("b", "lower")],
        );
        let got: Vec<(&str, Option<&str>)> = got
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("A", Some("xenvy")),
                ("B", Some("1")),
                ("C", Some("1")),
                ("D", Some("d")),
                ("E", Some("")),
                ("F", Some("")),
                ("G", None),
                ("H", Some("")),
                ("I", Some("${B:x}")),
            ]
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_takes_the_last_value() {
        let got = values("A=1\nB=2\nA=3\n", &[]);
        assert_eq!(
            got,
            [
                ("A".to_string(), Some("3".to_string())),
                ("B".to_string(), Some("2".to_string()))
            ]
        );
    }

    #[test]
    fn newlines_and_byte_order_mark_are_python_text_mode() {
        assert_eq!(
            decode(b"\xef\xbb\xbfA=1\r\nB=2\rC=3").unwrap(),
            "A=1\nB=2\nC=3"
        );
        assert_eq!(decode(b"A=1\nB=\xff\n"), Err(NotUtf8 { line: 2 }));
    }

    proptest! {
        /// Any text parses and resolves without a panic.
        #[test]
        fn any_text_parses(text in "(?s).{0,80}") {
            let parsed = parse(&text);
            let _ = resolve_variables(&parsed.assignments, &[]);
        }

        /// What python-dotenv's `set_key` writes (single quotes, `\\` and `\'` escaped) reads
        /// back as the same value, lines and all, when it holds no `${`.
        #[test]
        fn a_value_written_as_set_key_writes_it_reads_back(value in "(?s)[^$]{0,40}") {
            let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
            let text = format!("KEY='{escaped}'\n");
            let got = values(&text, &[]);
            prop_assert_eq!(got, vec![("KEY".to_string(), Some(value.replace("\r\n", "\n").replace('\r', "\n")))]);
        }
    }
}
