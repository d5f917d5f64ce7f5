//! One statement through PostgreSQL's own grammar (`pg_query`, libpg_query), with the place of
//! a syntax error found by re-parsing token prefixes: libpg_query knows the cursor position
//! but the `pg_query` crate only passes the message on.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pg_query::protobuf::RawStmt;

/// Why a statement did not parse, and where (a byte offset into it), when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseFailure {
    pub message: String,
    pub offset: Option<usize>,
}

/// The raw statements of `sql` (normally one).
pub(crate) fn parse(sql: &str) -> Result<Vec<RawStmt>, ParseFailure> {
    match try_parse(sql) {
        Ok(stmts) => Ok(stmts),
        Err(message) => Err(ParseFailure {
            offset: error_offset(sql),
            message,
        }),
    }
}

fn try_parse(sql: &str) -> Result<Vec<RawStmt>, String> {
    // pg_query's tree summary indexes into lists; keep any surprise there an error.
    match catch_unwind(AssertUnwindSafe(|| {
        pg_query::parse(sql, pg_query::ParserOptions::DEFAULT)
    })) {
        Ok(Ok(result)) => Ok(result.protobuf.stmts),
        Ok(Err(e)) => Err(message(&e)),
        Err(_) => Err("the SQL parser failed on this statement".to_owned()),
    }
}

fn message(error: &pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(message) => message.trim().to_owned(),
        pg_query::Error::Conversion(_) => "the statement contains a NUL byte".to_owned(),
        pg_query::Error::Decode(e) => format!("the statement is nested too deeply to read ({e})"),
        other => other.to_string(),
    }
}

fn fails_before_end(sql: &str) -> bool {
    matches!(try_parse(sql), Err(m) if !m.contains("at end of input"))
}

/// The start of the first token at which the grammar fails: the shortest failing token prefix
/// (binary search; a prefix that stops before the bad token fails only "at end of input").
fn error_offset(sql: &str) -> Option<usize> {
    let tokens = catch_unwind(|| pg_query::scan(sql)).ok()?.ok()?.tokens;
    let ends: Vec<usize> = tokens
        .iter()
        .filter_map(|t| usize::try_from(t.end).ok())
        .collect();
    let prefix = |i: usize| sql.get(..ends[i]);
    let last = ends.len().checked_sub(1)?;
    if !prefix(last).is_some_and(fails_before_end) {
        return None;
    }
    let (mut lo, mut hi) = (0, last);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if prefix(mid).is_some_and(fails_before_end) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    usize::try_from(tokens[lo].start).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_locates_errors() {
        let stmts = parse("CREATE TABLE t (a int)").unwrap();
        assert_eq!(stmts.len(), 1);
        let err = parse("CREATE TABLE t (a int,\n  b intt PRIMARY KEYY)").unwrap_err();
        assert!(err.message.contains("syntax error"), "{err:?}");
        let sql = "CREATE TABLE t (a int,\n  b intt PRIMARY KEYY)";
        assert_eq!(&sql[err.offset.unwrap()..], "KEYY)");
        let err = parse("CREATE TABLE t (a int").unwrap_err();
        assert!(err.message.contains("end of input"));
        assert_eq!(err.offset, None);
        let err = parse("SELECT 'open").unwrap_err();
        assert!(err.message.contains("unterminated"), "{err:?}");
        assert!(parse("SELECT 1\0").is_err());
    }
}
