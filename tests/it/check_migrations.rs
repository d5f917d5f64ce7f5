//! `dbtool check-migrations` against a real PostgreSQL, compared with what the real Alembic said
//! about the same databases (`tests/fixtures/alembic_standing/cases.json`, written by
//! `scripts/gen_alembic_standing_fixture.py`): the current revisions, the heads, the revisions
//! `alembic upgrade heads` ran in the order it ran them, and whether `alembic upgrade head` worked.

use std::path::Path;

use serde_json::Value;

use crate::cli::{dbtool, run, run_json};
use crate::pg::TestDb;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/alembic_standing"
);

fn cases() -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

/// The pending revisions as (revision, file name, message).
fn pending(value: &Value) -> Option<Vec<(String, String, String)>> {
    let list = value.as_array()?;
    Some(
        list.iter()
            .map(|p| {
                let file = Path::new(p["file"].as_str().unwrap());
                (
                    p["revision"].as_str().unwrap().to_string(),
                    file.file_name().unwrap().to_string_lossy().into_owned(),
                    p["message"].as_str().unwrap().to_string(),
                )
            })
            .collect(),
    )
}

/// The case of that name.
fn case(name: &str) -> Value {
    let fixture = cases();
    let found = fixture["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name);
    found.unwrap_or_else(|| panic!("no case {name}")).clone()
}

/// A fresh database in the state the case recorded.
fn database(case: &Value) -> TestDb {
    let db = TestDb::new();
    let setup: Vec<String> = strings(&case["setup"])
        .iter()
        .map(|statement| statement.replace("{db}", &db.name))
        .collect();
    if !setup.is_empty() {
        db.execute(&setup.join(";\n"));
    }
    db
}

/// Runs check-migrations on a fresh database set up as the case says.
fn check(case: &Value, dir: &Path) -> (crate::cli::Run, Value) {
    let db = database(case);
    let versions = format!("{FIXTURES}/{}/versions", case["project"].as_str().unwrap());
    let mut command = dbtool(dir);
    command.args(["check-migrations", "--format", "json", "--url", &db.url]);
    if let Some(table) = case["version_table"].as_str() {
        command.args(["--version-table", table]);
    }
    command.arg(&versions);
    run_json(&mut command)
}

#[test]
fn where_the_database_stands_agrees_with_the_real_alembic() {
    let fixture = cases();
    let dir = tempfile::tempdir().unwrap();
    let (mut agreed, mut compared) = (0, 0);
    let mut disagreements = Vec::new();
    let mut compare = |name: &str, what: &str, ours: String, alembic: String| {
        compared += 1;
        if ours == alembic {
            agreed += 1;
        } else {
            disagreements.push(format!("{name}: {what}: dbtool {ours}, Alembic {alembic}"));
        }
    };
    let cases = fixture["cases"].as_array().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let alembic = &case["alembic"];
        let (run, json) = check(case, dir.path());
        // current: the same revisions, or Alembic's "Can't locate revision" named as unknown
        let ours = match alembic["current_error"].as_str() {
            None => format!("{:?}", sorted(strings(&json["current"]))),
            Some(_) => format!("{:?}", unknown_revisions(&json)),
        };
        let theirs = match alembic["current_error"].as_str() {
            None => format!("{:?}", sorted(strings(&alembic["current"]))),
            Some(error) => format!("{:?}", [located_revision(error)]),
        };
        compare(name, "current", ours, theirs);
        compare(
            name,
            "heads",
            format!("{:?}", sorted(strings(&json["heads"]))),
            format!("{:?}", sorted(strings(&alembic["heads"]))),
        );
        compare(
            name,
            "pending",
            format!("{:?}", pending(&json["pending"])),
            format!("{:?}", pending(&alembic["pending"])),
        );
        let upgrade_head_ok = alembic["upgrade_head_ok"].as_bool().unwrap();
        compare(
            name,
            "exit code",
            run.code.to_string(),
            if upgrade_head_ok { "0" } else { "1" }.to_string(),
        );
    }
    eprintln!(
        "check-migrations agrees with Alembic {} on {agreed}/{compared} comparisons ({} cases)",
        fixture["versions"]["alembic"].as_str().unwrap(),
        cases.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {compared} comparisons disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // Not vacuous: the fixture has branches, a merge, unknown revisions, two heads.
    assert!(cases.len() >= 15 && compared == 4 * cases.len());
    let longest = cases
        .iter()
        .filter_map(|c| c["alembic"]["pending"].as_array().map(Vec::len))
        .max();
    assert!(longest >= Some(5), "{longest:?}");
    assert!(
        cases
            .iter()
            .any(|c| !c["alembic"]["current_error"].is_null())
    );
    assert!(
        cases
            .iter()
            .any(|c| !c["alembic"]["upgrade_head_ok"].as_bool().unwrap())
    );
}

/// The revisions dbtool's unknown-db-revision findings name.
fn unknown_revisions(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unknown-db-revision")
        .map(|f| {
            let message = f["message"].as_str().unwrap();
            message.split('"').nth(1).unwrap().to_string()
        })
        .collect()
}

/// The revision in Alembic's "Can't locate revision identified by 'X'".
fn located_revision(error: &str) -> String {
    let (_, rest) = error
        .split_once("identified by '")
        .unwrap_or_else(|| panic!("{error}"));
    rest.split('\'').next().unwrap().to_string()
}

#[test]
fn two_heads_are_reported_as_lint_constraints_reports_graph_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = check(&case("two_heads_first_branch"), dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("2 Alembic heads: t2b (") && message.contains("alembic merge heads"),
        "{message}"
    );
    assert!(
        run.stderr.contains("4_t3a.py:") && run.stderr.contains("2 Alembic heads"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_table_names_the_database_revision_the_code_lacks() {
    let db = database(&case("unknown_revision"));
    let dir = tempfile::tempdir().unwrap();
    let versions = format!("{FIXTURES}/branches/versions");
    let result = run(dbtool(dir.path()).args(["check-migrations", "--url", &db.url, &versions]));
    assert_eq!(result.code, 1, "{}", result.stderr);
    for expected in [
        "Current:       ff00deadbeef",
        "Heads:         e5",
        "Pending:       unknown",
        "error [unknown-db-revision] the database is at revision \"ff00deadbeef\"",
        "the nearest revision this code knows cannot be told from it",
    ] {
        assert!(
            result.stdout.contains(expected),
            "{expected}\n{}",
            result.stdout
        );
    }
    // and the pending table, in upgrade order, for a database in the middle
    let middle = database(&case("middle"));
    let result =
        run(dbtool(dir.path()).args(["check-migrations", "--url", &middle.url, &versions]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    let rows: Vec<&str> = result
        .stdout
        .lines()
        .filter(|l| l.contains(".py"))
        .collect();
    assert_eq!(rows.len(), 4, "{}", result.stdout);
    assert!(rows[0].contains("x3") && rows[3].contains("e5"), "{rows:?}");
}

#[test]
fn bad_input_exits_3_and_an_unreachable_server_2_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let versions = format!("{FIXTURES}/branches/versions");
    let no_migrations = dir.path().join("project");
    std::fs::create_dir(&no_migrations).unwrap();
    std::fs::write(
        no_migrations.join("env.py"),
        "from alembic import context\n",
    )
    .unwrap();
    let no_migrations = no_migrations.to_str().unwrap();
    let unreachable = "postgresql://deployer:s3cr3t-pw@127.0.0.1:1/app";
    for (args, code, says) in [
        (
            vec!["--version-table", "a.b.c", &versions],
            3,
            "write NAME or SCHEMA.NAME",
        ),
        (
            vec!["Cargo.toml"],
            3,
            "not a versions directory or a migration (.py) file",
        ),
        (vec![no_migrations], 3, "no Alembic migration in"),
        // The place once: "127.0.0.1:1: 127.0.0.1:1: ..." said it twice.
        (vec![&versions], 2, "error: 127.0.0.1:1: Connection refused"),
    ] {
        let result = run(dbtool(dir.path())
            .args(["check-migrations", "--url", unreachable])
            .args(&args));
        assert_eq!(result.code, code, "{args:?}: {}", result.stderr);
        assert!(result.stderr.contains(says), "{args:?}: {}", result.stderr);
        assert_eq!(
            result.stderr.lines().count(),
            1,
            "one line: {}",
            result.stderr
        );
        assert!(
            !result.stderr.contains("s3cr3t-pw") && !result.stdout.contains("s3cr3t-pw"),
            "{}",
            result.stderr
        );
    }
}
