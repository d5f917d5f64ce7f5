//! Inline ignore comments in SQL files, as squawk, sqlfluff and Atlas have them:
//! `-- dbtool: ignore` at the end of the line a constraint or index is defined on, or alone on the
//! line before it, suppresses its violations; `-- dbtool: ignore[ix,uq]` only those kinds.
//! Suppressed violations are counted as ignored in the summary.

use std::collections::HashMap;

use crate::lint::naming::Kind;
use crate::lint::rules::Violation;
use crate::lint::sqlfile::SourceFile;

/// The ignore comments of a set of SQL files, by file and the line they apply to.
#[derive(Debug, Default)]
pub(crate) struct InlineIgnores {
    /// file → line (1-based) → the kinds ignored there (`None`: every kind).
    lines: HashMap<String, HashMap<usize, Option<Vec<Kind>>>>,
}

/// A comment that could not be read: unknown kinds are never silently taken as "all".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IgnoreProblem {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) message: String,
}

const MARKER: &str = "dbtool:";

impl InlineIgnores {
    /// Reads the comments of every file, and the problems with them.
    pub(crate) fn scan(files: &[SourceFile]) -> (InlineIgnores, Vec<IgnoreProblem>) {
        let mut ignores = InlineIgnores::default();
        let mut problems = Vec::new();
        for file in files {
            let lines: Vec<&str> = file.text.lines().collect();
            for (index, line) in lines.iter().enumerate() {
                let Some((code, comment)) = line.split_once("--") else {
                    continue;
                };
                let Some(directive) = directive(comment) else {
                    continue;
                };
                let number = index + 1;
                let kinds = match directive {
                    Directive::All => None,
                    Directive::Kinds(list) => match parse_kinds(list) {
                        Ok(kinds) => Some(kinds),
                        Err(message) => {
                            problems.push(IgnoreProblem {
                                file: file.name.clone(),
                                line: number,
                                message,
                            });
                            continue;
                        }
                    },
                };
                // Alone on its line: it applies to the next line that has SQL on it.
                let applies_to = if code.trim().is_empty() {
                    lines[index + 1..]
                        .iter()
                        .position(|next| !next.trim().is_empty())
                        .map(|offset| number + 1 + offset)
                } else {
                    Some(number)
                };
                if let Some(target) = applies_to {
                    let entry = ignores
                        .lines
                        .entry(file.name.clone())
                        .or_default()
                        .entry(target)
                        .or_insert(Some(Vec::new()));
                    match (entry.as_mut(), kinds) {
                        (Some(existing), Some(kinds)) => existing.extend(kinds),
                        (_, None) => *entry = None,
                        (None, Some(_)) => {}
                    }
                }
            }
        }
        (ignores, problems)
    }

    /// Whether a comment suppresses this violation.
    pub(crate) fn covers(&self, violation: &Violation) -> bool {
        let Some(location) = &violation.location else {
            return false;
        };
        match self
            .lines
            .get(&location.file)
            .and_then(|lines| lines.get(&location.line))
        {
            Some(None) => true,
            Some(Some(kinds)) => kinds.contains(&violation.kind),
            None => false,
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

enum Directive<'a> {
    All,
    Kinds(&'a str),
}

/// `dbtool: ignore` or `dbtool: ignore[ix, uq]` at the start of a comment's text.
fn directive(comment: &str) -> Option<Directive<'_>> {
    let rest = comment.trim_start().strip_prefix(MARKER)?.trim_start();
    let rest = rest.strip_prefix("ignore")?;
    if let Some(list) = rest.trim_start().strip_prefix('[') {
        let (list, _) = list.split_once(']')?;
        return Some(Directive::Kinds(list));
    }
    // `ignore` must end there (a word boundary), so `ignored` or `ignore-me` are not directives.
    match rest.chars().next() {
        None => Some(Directive::All),
        Some(c) if c.is_whitespace() || c == ':' || c == '-' && rest.starts_with("--") => {
            Some(Directive::All)
        }
        _ => None,
    }
}

fn parse_kinds(list: &str) -> Result<Vec<Kind>, String> {
    let mut kinds = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let kind = Kind::ALL
            .into_iter()
            .find(|kind| kind.abbreviation().eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                format!(
                    "dbtool: ignore[{list}]: unknown kind {word:?}; use pk, fk, uq, ck, ix or ex"
                )
            })?;
        kinds.push(kind);
    }
    if kinds.is_empty() {
        return Err(format!(
            "dbtool: ignore[{list}] names no kind; write dbtool: ignore for every kind"
        ));
    }
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> (InlineIgnores, Vec<IgnoreProblem>) {
        InlineIgnores::scan(&[SourceFile {
            name: "m.sql".into(),
            text: text.into(),
        }])
    }

    fn ignored(ignores: &InlineIgnores, line: usize) -> Option<&Option<Vec<Kind>>> {
        ignores
            .lines
            .get("m.sql")
            .and_then(|lines| lines.get(&line))
    }

    #[test]
    fn a_comment_on_the_line_or_alone_on_the_line_before() {
        let (ignores, problems) = scan(
            "CREATE TABLE a (\n  id int PRIMARY KEY, -- dbtool: ignore\n  -- dbtool: ignore[uq, IX]\n\n  email text UNIQUE\n);\n-- dbtool: ignored is not a directive\nCREATE INDEX ON a (id); -- just a comment\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(ignored(&ignores, 2), Some(&None));
        assert_eq!(ignored(&ignores, 5), Some(&Some(vec![Kind::Uq, Kind::Ix])));
        assert_eq!(ignored(&ignores, 3), None);
        assert_eq!(ignored(&ignores, 8), None);
    }

    #[test]
    fn unknown_kinds_are_problems_not_ignores() {
        let (ignores, problems) = scan("ALTER TABLE a ADD UNIQUE (b); -- dbtool: ignore[uk]\n");
        assert!(ignores.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("unknown kind \"uk\""),
            "{problems:?}"
        );
    }
}
