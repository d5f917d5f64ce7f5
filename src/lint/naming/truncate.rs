//! The two truncations a convention name goes through on its way to
//! PostgreSQL.
//!
//! 1. SQLAlchemy, when it renders a convention-generated (or `conv()`) name
//!    in DDL (`IdentifierPreparer._truncate_and_render_maxlen_name` in
//!    `sqlalchemy/sql/compiler.py`):
//!    `if len(name) > max_: name = name[0:max_ - 8] + "_" + md5_hex(name)[-4:]`.
//!    Lengths and slicing count *characters* (Python `str`); `md5_hex`
//!    (`sqlalchemy/util/langhelpers.py`) hashes the UTF-8 encoding. `max_` is
//!    the dialect's `max_index_name_length` or `max_constraint_name_length`,
//!    both unset for PostgreSQL, so `max_identifier_length` (63 unless the
//!    server says otherwise). A truncated name is therefore `max_ - 3`
//!    characters long. Explicit names are never truncated: SQLAlchemy raises
//!    `IdentifierError` instead (`DefaultDialect.validate_identifier`).
//! 2. PostgreSQL, when it reads any identifier, quoted or not
//!    (`truncate_identifier` in `src/backend/parser/scansup.c`): an
//!    identifier of `NAMEDATALEN` (64) bytes or more is cut to the longest
//!    prefix of at most 63 *bytes* that does not split a character
//!    (`pg_mbcliplen`). This assumes a UTF-8 server encoding.
//!
//! The two differ for non-ASCII names: a 40-character Cyrillic name passes
//! SQLAlchemy untouched and is then cut by PostgreSQL.

use std::borrow::Cow;

use md5::{Digest, Md5};

/// PostgreSQL's default `max_identifier_length` (`NAMEDATALEN - 1`).
pub(crate) const POSTGRES_MAX_IDENTIFIER_LENGTH: usize = 63;

/// The last four hex digits of the MD5 of `name`'s UTF-8 bytes.
pub(crate) fn md5_suffix(name: &str) -> String {
    let digest = Md5::digest(name.as_bytes());
    let n = digest.len();
    format!("{:02x}{:02x}", digest[n - 2], digest[n - 1])
}

/// SQLAlchemy's truncation of a convention-generated name to `max_chars`
/// characters (see the module docs). Names that fit are returned as is.
pub(crate) fn sqlalchemy_truncate(name: &str, max_chars: usize) -> Cow<'_, str> {
    let len = name.chars().count();
    if len <= max_chars {
        return Cow::Borrowed(name);
    }
    // Python's name[0:max_ - 8]; a negative end counts from the end.
    let keep = if max_chars >= 8 {
        max_chars - 8
    } else {
        len.saturating_sub(8 - max_chars)
    };
    let head: String = name.chars().take(keep).collect();
    Cow::Owned(format!("{head}_{}", md5_suffix(name)))
}

/// The longest prefix of `s` of at most `limit` bytes that ends on a
/// character boundary (`pg_mbcliplen` for UTF-8).
pub(crate) fn clip_bytes(s: &str, limit: usize) -> &str {
    if s.len() <= limit {
        return s;
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// PostgreSQL's truncation of an identifier to `max_bytes` bytes
/// (`truncate_identifier`; `max_bytes` is `NAMEDATALEN - 1`, normally 63).
pub fn postgres_truncate(name: &str, max_bytes: usize) -> &str {
    clip_bytes(name, max_bytes)
}

/// Whether `name` has the shape of a SQLAlchemy-truncated name for
/// `max_chars`: exactly `max_chars - 3` characters, `_` at position
/// `max_chars - 8`, and four lowercase hex digits at the end. Returns the
/// kept head (the first `max_chars - 8` characters) when it does.
pub(crate) fn sqlalchemy_truncated_head(name: &str, max_chars: usize) -> Option<&str> {
    let keep = max_chars.checked_sub(8)?;
    if name.chars().count() != keep + 5 {
        return None;
    }
    let (head_end, underscore) = name.char_indices().nth(keep)?;
    let tail = &name[head_end + underscore.len_utf8()..];
    let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    (underscore == '_' && tail.chars().all(hex)).then_some(&name[..head_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_utf8() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(md5_suffix(""), "427e");
        // md5 of the UTF-8 bytes c3 a9 = 66ddcd97cfdeabb2f6fb8a999b4bc76f
        assert_eq!(md5_suffix("é"), "c76f");
    }

    #[test]
    fn sqlalchemy_rule() {
        let name = format!("pk_{}", "u".repeat(61)); // 64 characters
        let truncated = sqlalchemy_truncate(&name, 63);
        assert_eq!(truncated.chars().count(), 60);
        assert!(truncated.starts_with(&name[..55]));
        assert_eq!(&truncated[55..56], "_");
        // the fixture value from SQLAlchemy 2.1.9
        assert_eq!(truncated, format!("pk_{}_7ca2", "u".repeat(52)));
        let fits = format!("pk_{}", "t".repeat(60));
        assert!(matches!(sqlalchemy_truncate(&fits, 63), Cow::Borrowed(_)));
    }

    #[test]
    fn sqlalchemy_counts_characters() {
        let name = "ユ".repeat(63);
        assert!(matches!(sqlalchemy_truncate(&name, 63), Cow::Borrowed(_)));
        let longer = "ユ".repeat(64);
        let t = sqlalchemy_truncate(&longer, 63);
        assert_eq!(t.chars().count(), 60);
        assert_eq!(
            sqlalchemy_truncated_head(&t, 63),
            Some("ユ".repeat(55).as_str())
        );
    }

    #[test]
    fn tiny_limits_do_not_panic() {
        for max in 0..10 {
            let _ = sqlalchemy_truncate("abcdefghijklmnop", max);
            let _ = sqlalchemy_truncated_head("abcdefghijklmnop", max);
        }
        // Python: "abcdefghijklmnop"[0:5-8] == "abcdefghijklm"
        assert!(sqlalchemy_truncate("abcdefghijklmnop", 5).starts_with("abcdefghijklm_"));
    }

    #[test]
    fn postgres_rule() {
        assert_eq!(postgres_truncate("abc", 63), "abc");
        let ascii = "a".repeat(70);
        assert_eq!(postgres_truncate(&ascii, 63).len(), 63);
        // 3-byte characters: 21 fit in 63 bytes
        let ja = "ユ".repeat(30);
        assert_eq!(postgres_truncate(&ja, 63), "ユ".repeat(21));
        // 2-byte characters: 31 fit in 63 bytes (62 bytes)
        let ru = "я".repeat(40);
        assert_eq!(postgres_truncate(&ru, 63).len(), 62);
        assert_eq!(clip_bytes("aé", 2), "a");
    }

    #[test]
    fn truncated_shape() {
        assert_eq!(
            sqlalchemy_truncated_head(&format!("{}_0a9f", "x".repeat(55)), 63),
            Some("x".repeat(55).as_str())
        );
        assert_eq!(
            sqlalchemy_truncated_head(&format!("{}_0A9F", "x".repeat(55)), 63),
            None
        );
        assert_eq!(
            sqlalchemy_truncated_head(&format!("{}x0a9f", "x".repeat(55)), 63),
            None
        );
        assert_eq!(sqlalchemy_truncated_head("short_0a9f", 63), None);
    }
}
