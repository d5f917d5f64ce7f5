//! `dbtool lint-constraints PATH...`: SQL files (migrations, pg_dump output) linted offline.

use std::collections::BTreeSet;
use std::fs;

use serde_json::Value;

use crate::cli::{dbtool, run, run_json};
use crate::pg::{TestDb, program};

type Key = (String, String, String, String, String);

fn violations(json: &Value) -> BTreeSet<Key> {
    json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let text = |k: &str| v[k].as_str().unwrap_or("").to_string();
            (
                text("schema"),
                text("table"),
                text("kind"),
                text("name"),
                text("expected"),
            )
        })
        .collect()
}

fn lint_files(dir: &std::path::Path, args: &[&str]) -> (crate::cli::Run, Value) {
    let mut command = dbtool(dir);
    command
        .args(["lint-constraints", "--format", "json"])
        .args(args);
    run_json(&mut command)
}

#[test]
fn pg_dump_output_lints_to_exactly_the_live_violations() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sqlfile");
    // 03 and 07 are left out: PostgreSQL 15 cannot restore its own dump of them (several foreign
    // keys to a partitioned table), which the replay reports as the error it is.
    let partitioned = "CREATE TABLE events (id int, at date, kind text, PRIMARY KEY (id, at), UNIQUE (kind, at)) \
                       PARTITION BY RANGE (at);
                       CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                       CREATE INDEX ON events (kind);
                       CREATE TABLE \"Mixed\" (\"Id\" int PRIMARY KEY, né text UNIQUE);"
        .to_string();
    for fixture in [
        "01_basics.sql",
        "04_like_inherits_renames.sql",
        "05_names.sql",
        "08_alembic_offline.sql",
        "partitioned",
    ] {
        let db = TestDb::new();
        let sql = if fixture == "partitioned" {
            partitioned.clone()
        } else {
            fs::read_to_string(format!("{fixtures}/{fixture}")).unwrap()
        };
        db.execute(&sql);
        let dir = tempfile::tempdir().unwrap();
        let (_, live) = lint_files(dir.path(), &["--url", &db.url]);
        let dump = dir.path().join("dump.sql");
        let status = std::process::Command::new(program("pg_dump"))
            .args(["--schema-only", "-f", dump.to_str().unwrap(), &db.url])
            .status()
            .unwrap();
        assert!(status.success(), "pg_dump {fixture}");
        let (result, offline) = lint_files(dir.path(), &[dump.to_str().unwrap()]);
        assert_eq!(
            offline["errors"],
            serde_json::json!([]),
            "{fixture}: {}",
            result.stderr
        );
        assert!(!violations(&live).is_empty(), "{fixture}");
        assert_eq!(violations(&offline), violations(&live), "{fixture}");
        assert_eq!(
            offline["summary"]["objects_checked"], live["summary"]["objects_checked"],
            "{fixture}"
        );
        assert_eq!(
            offline["summary"]["skipped"], live["summary"]["skipped"],
            "{fixture}"
        );
    }
}

#[test]
fn a_migration_directory_gets_postgres_future_names_with_files_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    fs::create_dir_all(migrations.join("versions")).unwrap();
    fs::write(
        migrations.join("versions/001_init.sql"),
        "CREATE TABLE users (\n    id serial PRIMARY KEY,\n    email text UNIQUE\n);\n",
    )
    .unwrap();
    fs::write(
        migrations.join("versions/002_orders.sql"),
        "CREATE TABLE orders (id int CONSTRAINT pk_orders PRIMARY KEY, user_id int);\n\
         ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);\n\
         CREATE INDEX ON orders (user_id);\n",
    )
    .unwrap();
    fs::write(migrations.join("notes.txt"), "not SQL").unwrap();
    let (result, json) = lint_files(dir.path(), &["migrations"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let found: Vec<(String, String, u64, u64)> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let file = v["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            (
                v["name"].as_str().unwrap().to_string(),
                file,
                v["line"].as_u64().unwrap(),
                v["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        found.contains(&("users_pkey".into(), "001_init.sql".into(), 2, 15)),
        "{found:?}"
    );
    assert!(
        found.contains(&("users_email_key".into(), "001_init.sql".into(), 3, 16)),
        "{found:?}"
    );
    assert!(
        found.contains(&("orders_user_id_fkey".into(), "002_orders.sql".into(), 2, 24)),
        "{found:?}"
    );
    assert!(
        found.contains(&("orders_user_id_idx".into(), "002_orders.sql".into(), 3, 1)),
        "{found:?}"
    );
    assert_eq!(
        found.len(),
        4,
        "pk_orders follows the convention: {found:?}"
    );
    let message = json["violations"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("unnamed") && message.contains("PostgreSQL will name it"),
        "{message}"
    );
    let table = run(dbtool(dir.path()).args(["lint-constraints", "migrations"]));
    assert!(
        table.stdout.contains("001_init.sql:3:16"),
        "{}",
        table.stdout
    );
    let github =
        run(dbtool(dir.path()).args(["lint-constraints", "--format", "github", "migrations"]));
    assert!(
        github
            .stdout
            .contains("file=migrations/versions/001_init.sql,line=3,col=16"),
        "{}",
        github.stdout
    );
    let (_, sarif) =
        run_json(dbtool(dir.path()).args(["lint-constraints", "--format", "sarif", "migrations"]));
    let located = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"])
        .find(|l| l["region"]["startLine"] == 3 && l["region"]["startColumn"] == 16)
        .unwrap_or_else(|| panic!("no result at 3:16: {sarif}"));
    assert_eq!(
        located["artifactLocation"]["uri"],
        "migrations/versions/001_init.sql"
    );
}

#[test]
fn a_broken_statement_is_reported_with_its_line_and_the_rest_is_linted() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("m.sql"),
        "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLEE b (id int);\n\\restrict abc\nCREATE TABLE c (id int UNIQUE);\n",
    )
    .unwrap();
    let (result, json) = lint_files(dir.path(), &["m.sql"]);
    assert_eq!(result.code, 1);
    assert_eq!(json["errors"][0]["file"], "m.sql");
    assert_eq!(json["errors"][0]["line"], 2);
    assert!(
        result.stderr.lines().any(|l| l.starts_with("m.sql:2:")),
        "{}",
        result.stderr
    );
    let names: BTreeSet<String> = violations(&json).into_iter().map(|v| v.3).collect();
    assert_eq!(
        names,
        BTreeSet::from(["a_pkey".to_string(), "c_id_key".to_string()])
    );
}

#[test]
fn missing_files_exit_3_and_stdin_works() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args(["lint-constraints", "nope.sql"]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(result.stderr.contains("nope.sql"), "{}", result.stderr);
    let (result, json) = run_json(
        dbtool(dir.path())
            .args(["lint-constraints", "--format", "json", "-"])
            .write_stdin("CREATE TABLE t (id int PRIMARY KEY);"),
    );
    assert_eq!(result.code, 1);
    assert_eq!(json["violations"][0]["expected"], "pk_t");
}

#[test]
fn files_replay_over_the_live_schema_with_url() {
    let db = TestDb::new();
    db.execute(
        "CREATE TABLE accounts (id int CONSTRAINT pk_accounts PRIMARY KEY, email text);
         CREATE INDEX accounts_email_key ON accounts (email);",
    );
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("003.sql"),
        "ALTER TABLE accounts ADD UNIQUE (email);\n",
    )
    .unwrap();
    let names = |json: &Value| -> Vec<String> {
        json["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (result, json) = lint_files(dir.path(), &["003.sql"]);
    assert_eq!(result.code, 1);
    assert_eq!(
        json["errors"][0]["message"], "relation \"accounts\" does not exist",
        "offline, as PostgreSQL would: {json}"
    );
    let (result, json) = lint_files(dir.path(), &["--url", &db.url, "003.sql"]);
    assert_eq!(json["errors"], serde_json::json!([]), "{}", result.stderr);
    let mut found = names(&json);
    found.sort();
    assert_eq!(
        found,
        ["accounts_email_key", "accounts_email_key1"],
        "over the live schema the name is taken: {json}"
    );
    assert_eq!(
        db.query_column("SELECT count(*) FROM pg_constraint WHERE conrelid = 'accounts'::regclass"),
        ["1"],
        "nothing was executed on the server"
    );
}
