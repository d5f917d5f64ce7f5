//! Quoting identifiers the way PostgreSQL does.
//!
//! `quote_identifier` (`src/backend/utils/adt/ruleutils.c`, behind the SQL
//! function `quote_ident`): an identifier is left bare only if it starts
//! with `a`-`z` or `_`, continues with `a`-`z`, `0`-`9` or `_`, and is not a
//! keyword other than an unreserved one; otherwise it is wrapped in double
//! quotes with embedded quotes doubled. Non-ASCII letters and upper case
//! always need quotes.

use crate::lint::naming::keywords::keyword_category;

/// Whether `name` can be written without quotes.
pub(crate) fn is_bare_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = matches!(bytes.next(), Some(b'a'..=b'z' | b'_'));
    first_ok
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        && keyword_category(name).is_none()
}

/// `name` as PostgreSQL's `quote_ident` would write it.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name);
    out
}

/// Appends `name` as PostgreSQL's `quote_ident` would write it.
pub(crate) fn push_ident(out: &mut String, name: &str) {
    if is_bare_identifier(name) {
        out.push_str(name);
    } else {
        out.push('"');
        for c in name.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare() {
        for name in ["users", "_x", "ix_users_email", "a1", "name", "key", "text"] {
            assert_eq!(quote_ident(name), name);
        }
    }

    #[test]
    fn quoted() {
        assert_eq!(quote_ident("UserAccount"), "\"UserAccount\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("left"), "\"left\"");
        assert_eq!(quote_ident("integer"), "\"integer\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(quote_ident("a-b"), "\"a-b\"");
        assert_eq!(quote_ident(""), "\"\"");
        assert_eq!(quote_ident("пользователи"), "\"пользователи\"");
        assert_eq!(quote_ident("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote_ident("uq_a_100%"), "\"uq_a_100%\"");
    }
}
