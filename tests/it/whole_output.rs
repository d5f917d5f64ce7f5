//! Whole-output snapshots of what users read and CI pipelines parse, where the output is
//! deterministic (no server, no timing): a substring check lets a changed line, a lost field or
//! a reordered report through; a snapshot does not. Review a changed snapshot as a change to
//! the user interface (`cargo insta review`, or the `.snap.new` file beside the snapshot).

use std::fs;
use std::path::Path;

use crate::cli::{Run, dbtool, run};

/// Two tables with unnamed and misnamed constraints and an index: every kind of violation
/// lint-constraints reports from a migration.
const MIGRATION: &str = "CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text UNIQUE
);
CREATE TABLE posts (
    id bigint PRIMARY KEY,
    author_id bigint REFERENCES users (id),
    CONSTRAINT posts_title_check CHECK (id > 0)
);
CREATE INDEX users_email_lower ON users (lower(email));
";

/// The output with what varies between machines and releases replaced: the temporary
/// directory and dbtool's version.
fn stable(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[DIR]")
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

fn lint(args: &[&str]) -> (Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("0001.sql"), MIGRATION).unwrap();
    let result = run(dbtool(dir.path())
        .args(["lint-constraints", "--color", "never", "0001.sql"])
        .args(args));
    (result, dir)
}

#[test]
fn lint_reports_whole_in_every_format() {
    for (name, args) in [
        ("table", &["--format", "table"][..]),
        ("json", &["--format", "json"]),
        ("sarif", &["--format", "sarif"]),
        ("github", &["--format", "github"]),
        ("gitlab", &["--format", "gitlab"]),
        ("junit", &["--format", "junit"]),
        ("fix_sql", &["--fix-sql"]),
    ] {
        let (result, dir) = lint(args);
        assert_eq!(result.code, 1, "{name}: {}", result.stderr);
        insta::assert_snapshot!(format!("lint_{name}"), stable(&result.stdout, dir.path()));
    }
}

#[test]
fn check_url_json_whole() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args([
        "check-url",
        "--format",
        "json",
        "postgresql+asyncpg://app:s3cr3t-pw@db.example.com:6432/app?sslmode=require&application_name=web",
    ]));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(!result.stdout.contains("s3cr3t-pw"), "{}", result.stdout);
    insta::assert_snapshot!(stable(&result.stdout, dir.path()));
}

#[test]
fn bad_input_gets_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for args in [
        &[
            "check-url",
            "postgresql+asyncpg://app:s3cr3t-pw@db:notaport/app",
        ][..],
        &["check-url", "mysql://app:s3cr3t-pw@db/app"],
        &["lint-constraints", "missing.sql"],
        &["pool-bench", "--pool-size", "-1"],
    ] {
        let result = run(dbtool(dir.path()).args(args));
        assert!(!result.stderr.contains("s3cr3t-pw"), "{}", result.stderr);
        lines.push(format!(
            "$ dbtool {}\nexit {}\n{}",
            args.join(" ").replace("s3cr3t-pw", "***"),
            result.code,
            stable(&result.stderr, dir.path())
        ));
    }
    insta::assert_snapshot!(lines.join("\n"));
}
