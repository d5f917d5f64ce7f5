//! One statement through PostgreSQL's own grammar (`pg_query`, libpg_query), with the place of
//! a syntax error found by re-parsing token prefixes: libpg_query knows the cursor position
//! but the `pg_query` crate only passes the message on.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pg_query::protobuf::RawStmt;

/// Why a statement did not parse, and where (a byte offset into it), when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlParseFailure {
    pub(crate) message: String,
    pub(crate) offset: Option<usize>,
}

/// The raw statements of `sql` (normally one).
pub(crate) fn parse(sql: &str) -> Result<Vec<RawStmt>, SqlParseFailure> {
    match try_parse(sql) {
        Ok(stmts) => Ok(stmts),
        Err(message) => Err(SqlParseFailure {
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

/// What went wrong, in words for the author of the SQL file. Nesting limits are hit in three
/// places, each an error rather than a crash: PostgreSQL's grammar (bison's stack: "memory
/// exhausted"), PostgreSQL's stack depth check in libpg_query's recursive tree output ("stack
/// depth limit exceeded"), and the decoding of the tree into Rust (prost's limit of 100 nested
/// messages, whose error spells out the whole path: well over 1000 characters).
fn message(error: &pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(message) => {
            let message = message.trim();
            if message.starts_with("memory exhausted") || message == "stack depth limit exceeded" {
                format!("the statement is nested too deeply for PostgreSQL's parser ({message})")
            } else {
                message.to_owned()
            }
        }
        pg_query::Error::Conversion(_) => "the statement contains a NUL byte".to_owned(),
        pg_query::Error::Decode(e) if e.to_string().contains("recursion limit reached") => {
            "the statement is nested too deeply to read (its parse tree is more than 100 levels \
             deep); split the expression"
                .to_owned()
        }
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

    /// Nesting limits end in short errors, never in a crash, even on a test thread's 2 MiB stack
    /// in a debug build: bison's stack, PostgreSQL's stack depth check, the parse tree decoder.
    #[test]
    fn deeply_nested_statements_are_short_errors() {
        let n = 100_000;
        let parens = format!("SELECT {}1{};", "(".repeat(n), ")".repeat(n));
        let sums = format!("SELECT {}1;", "1+".repeat(n));
        let tree = format!("SELECT {}a{};", "a + (".repeat(200), ")".repeat(200));
        for (sql, expected) in [
            (
                &parens,
                "nested too deeply for PostgreSQL's parser (memory exhausted",
            ),
            (
                &sums,
                "nested too deeply for PostgreSQL's parser (stack depth limit exceeded)",
            ),
            (
                &tree,
                "nested too deeply to read (its parse tree is more than 100 levels deep)",
            ),
        ] {
            let err = parse(sql).unwrap_err();
            assert!(err.message.contains(expected), "{}", err.message);
            assert!(err.message.len() < 200, "{}", err.message);
        }
        // just under the decoder's limit still parses
        let shallow = format!("SELECT {}a{};", "a + (".repeat(20), ")".repeat(20));
        assert_eq!(parse(&shallow).map(|s| s.len()), Ok(1));
    }
}
