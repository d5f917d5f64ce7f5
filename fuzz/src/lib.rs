//! What each fuzz target does with one input. The targets in `fuzz/fuzz_targets/` call these, and
//! `tests/it/fuzz_corpus.rs` includes this file to replay the committed corpora
//! (`fuzz/corpus/<target>/`) through the same functions in a plain `cargo test`.
//!
//! Besides "never panics", each function asserts what the code promises for every input:
//! rendered URLs parse back to the same options, redacted URLs hide the password, a check-url
//! report is valid exactly when it has no error, statements are byte ranges of the text in order.

use dbtool::check_url::conversions;
use dbtool::check_url::{CheckUrlConfig, check_url};
use dbtool::cli::TableOrJson;
use dbtool::environment::Environment;
use dbtool::lint::config::{LabelSchema, LintOptions};
use dbtool::lint::naming::NamingConvention;
use dbtool::lint::sqlfile::{self, SourceFile};
use dbtool::lint::{fix, rules};
use dbtool::url::libpq::{self, ConnInfo, ParseOptions};
use dbtool::url::{parse_database_url, redact_text, redact_url, sqlalchemy};

/// A fuzz target: its name (the directory of its corpus) and what it does with one input.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target.
pub const TARGETS: &[Target] = &[
    ("libpq_parse", libpq_parse),
    ("url_check", url_check),
    ("sqlfile_split", sqlfile_split),
    ("sqlfile_replay", sqlfile_replay),
];

/// The libpq versions whose readings differ: 18 trims and rejects raw spaces, 15 keeps them.
const VERSIONS: [ParseOptions; 2] = [ParseOptions::libpq(18), ParseOptions::libpq(15)];

/// Arbitrary bytes as a libpq connection string: URI and keyword/value parsing, host lists, and
/// the forms dbtool renders (libpq URI, keyword/value) parsed back.
pub fn libpq_parse(data: &[u8]) {
    for options in VERSIONS {
        let uri = libpq::parse_uri_bytes(data, options);
        let any = libpq::parse_conninfo_bytes(data, options);
        for result in [uri, any] {
            match result {
                Ok(info) => check_rendered_forms(&info, options),
                Err(error) => {
                    assert!(!error.message.is_empty());
                    for ambiguity in &error.ambiguities {
                        if let Some(suggestion) = &ambiguity.suggestion {
                            let _ = libpq::parse_uri_with(suggestion, options);
                        }
                    }
                }
            }
        }
    }
}

/// What dbtool renders from parsed options reads back as the same options.
fn check_rendered_forms(info: &ConnInfo, options: ParseOptions) {
    let _ = dbtool::conn::target::endpoints(info, &Environment::empty());
    let _ = info.regress_string();
    let _ = format!("{info:?}");
    for ambiguity in info.ambiguities() {
        if let Some(suggestion) = &ambiguity.suggestion {
            let _ = libpq::parse_uri_with(suggestion, options);
        }
    }
    let uri = libpq::render_uri(info);
    match libpq::parse_uri_with(&uri, options) {
        Ok(back) => assert_eq!(&back, info, "render_uri gave {uri:?}"),
        Err(error) => panic!("render_uri gave {uri:?}, which does not parse: {error}"),
    }
    // The keyword/value form is text: only values that are UTF-8 can survive it.
    if info
        .iter()
        .all(|(_, value)| std::str::from_utf8(value).is_ok())
    {
        let text = conversions::keyword_value(info);
        match libpq::parse_conninfo_with(&text, options) {
            Ok(back) => assert_eq!(&back, info, "keyword_value gave {text:?}"),
            Err(error) => panic!("keyword_value gave {text:?}, which does not parse: {error}"),
        }
    }
}

/// Arbitrary text as a SQLAlchemy URL (as given to `--url` or `DATABASE_URL`): `check-url` with
/// its output in every format, SQLAlchemy's reading, the redaction of URLs and messages, and
/// the URL parsing of the connecting commands.
pub fn url_check(data: &[u8]) {
    let url = String::from_utf8_lossy(data);
    let redacted = redact_url(&url);
    // The password SQLAlchemy hands to the driver never survives redaction. Only checkable where
    // it is written as is (no escapes), occurs once in the URL, and cannot be part of the mask.
    if let Ok(reading) = sqlalchemy::read_as_sqlalchemy(&url)
        && let Some(password) = reading.password
        && let password = password.expose()
        && !password.is_empty()
        && !password.contains(['%', '*'])
        && url.matches(password).count() == 1
    {
        assert!(
            !redacted.contains(password),
            "{redacted:?} shows {password:?}"
        );
    }
    let _ = redact_text(&url);
    let environment = Environment::process();
    let _ = parse_database_url(&url, &environment);
    let configs = [(false, false, 18), (true, true, 15), (false, false, 9)];
    for (strict, show_password, libpq_major) in configs {
        let config = CheckUrlConfig {
            url: url.to_string(),
            strict,
            show_password,
            libpq_major,
        };
        let report = check_url(&config, &environment);
        assert_eq!(report.valid, report.error.is_none(), "{:?}", report.error);
        for (format, color) in [
            (TableOrJson::Table, false),
            (TableOrJson::Table, true),
            (TableOrJson::Json, false),
        ] {
            let mut out = Vec::new();
            dbtool::output::write_check_url(&mut out, &report, format, color)
                .unwrap_or_else(|e| panic!("writing the report to memory failed: {e}"));
        }
    }
}

/// Arbitrary text through the statement splitter: ordered, non-overlapping ranges on character
/// boundaries, each starting at a token.
pub fn sqlfile_split(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut previous_end = 0;
    for range in sqlfile::split_statements(text) {
        assert!(
            previous_end <= range.start && range.start < range.end && range.end <= text.len(),
            "{range:?} after {previous_end} in {} bytes",
            text.len()
        );
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        // PostgreSQL's blanks are ASCII only: U+0085 or U+00A0 start an identifier.
        let first = text.as_bytes()[range.start];
        assert!(!matches!(
            first,
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'
        ));
        previous_end = range.end;
    }
}

/// Arbitrary text as a SQL file for `lint-constraints PATH`: replayed into the schema model,
/// then checked and fixed as the command does.
pub fn sqlfile_replay(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile {
        name: "fuzz.sql".to_owned(),
        text: text.to_owned(),
    };
    let replay = sqlfile::replay(&[file], None);
    for error in &replay.errors {
        assert!(error.line >= 1 && error.column >= 1, "{error}");
        assert!(!error.message.is_empty(), "{error}");
    }
    let options = LintOptions {
        convention: NamingConvention::app_default(),
        label_schema: LabelSchema::OutsideSearchPath,
        ignore: Vec::new(),
        config_file: None,
    };
    let findings = rules::check_schema(&replay.schema, &options, true)
        .unwrap_or_else(|e| panic!("checking the replayed schema failed: {e:#}"));
    let mut violations = findings.violations;
    let _ = fix::find_collisions(&replay.schema, &mut violations);
    let _ = fix::script(&violations, std::time::Duration::from_secs(2));
}
