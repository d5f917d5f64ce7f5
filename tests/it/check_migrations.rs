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

const PENDING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/alembic_pending"
);

/// The pending-references fixture: databases the real Alembic built and that then drifted, and
/// what the real `alembic upgrade head` did on a copy of each
/// (`scripts/gen_alembic_pending_fixture.py`).
fn pending_cases() -> Value {
    let text = std::fs::read_to_string(format!("{PENDING}/cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs check-migrations on a fresh database rebuilt from a pending-references case.
fn check_pending(case: &Value, dir: &Path) -> (crate::cli::Run, Value) {
    let db = TestDb::new();
    db.execute(&strings(&case["setup"]).join(";\n"));
    let versions = format!("{PENDING}/{}/versions", case["project"].as_str().unwrap());
    run_json(dbtool(dir).args([
        "check-migrations",
        "--format",
        "json",
        "--url",
        &db.url,
        &versions,
    ]))
}

fn pending_case(name: &str) -> Value {
    let fixture = pending_cases();
    let found = fixture["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned();
    found.unwrap_or_else(|| panic!("no case {name}"))
}

/// The operation findings of a report with this code.
fn operations<'j>(json: &'j Value, code: &str) -> Vec<&'j Value> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

#[test]
fn pending_references_agree_with_the_real_alembic_upgrade() {
    let fixture = pending_cases();
    let cases = fixture["cases"].as_array().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut disagreements = Vec::new();
    for case in cases {
        let (run, json) = check_pending(case, dir.path());
        let alembic = &case["alembic"];
        let expected = if alembic["upgrade_head_ok"].as_bool().unwrap() {
            (0, Value::Null)
        } else {
            (1, alembic["fails_in"].clone())
        };
        let ours = (run.code, json["fails_in"].clone());
        if ours != expected {
            disagreements.push(format!(
                "{}: drift {}: dbtool {ours:?}, Alembic {expected:?} ({})\n{}",
                case["name"], case["divergence"], alembic["error"], run.stdout
            ));
        }
    }
    eprintln!(
        "check-migrations agrees with the real alembic upgrade head ({}) on {}/{} cases",
        fixture["versions"]["alembic"].as_str().unwrap(),
        cases.len() - disagreements.len(),
        cases.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // Not vacuous: upgrades that fail in several revisions, and drifted ones that succeed.
    let failing_in: std::collections::BTreeSet<&str> = cases
        .iter()
        .filter_map(|c| c["alembic"]["fails_in"].as_str())
        .collect();
    assert!(failing_in.len() >= 4, "{failing_in:?}");
    assert!(cases.iter().any(|c| {
        c["alembic"]["upgrade_head_ok"].as_bool().unwrap()
            && !c["divergence"].as_array().unwrap().is_empty()
    }));
    assert!(cases.len() >= 40, "{}", cases.len());
}

#[test]
fn a_constraint_renamed_by_fix_sql_is_named_as_the_database_calls_it() {
    let dir = tempfile::tempdir().unwrap();
    let case = pending_case("fix_sql_renamed_fk_then_dropped_by_old_name");
    let (result, json) = check_pending(&case, dir.path());
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert_eq!(json["fails_in"], "c3");
    let missing = operations(&json, "pending-missing-object");
    let finding = missing[0];
    assert_eq!(finding["revision"], "c3");
    assert!(finding["file"].as_str().unwrap().ends_with("3_c3.py"));
    assert_eq!(finding["line"], 12);
    assert_eq!(finding["operation"], "op.drop_constraint");
    assert_eq!(finding["object"], "messages_author_id_fkey");
    assert_eq!(finding["table"], "messages");
    let has = finding["database_has"].as_str().unwrap();
    assert!(
        has.starts_with("the database calls it fk_messages_author_id_users (foreign key")
            && has.contains("(author_id) referencing users (id)"),
        "{has}"
    );
    assert!(
        finding["fix"]
            .as_str()
            .unwrap()
            .contains("refer to it as \"fk_messages_author_id_users\""),
        "{finding}"
    );
    // the create that follows collides with the renamed constraint
    let taken = operations(&json, "pending-name-taken");
    assert_eq!(taken[0]["operation"], "op.create_foreign_key");
    // and the table says where the upgrade stops
    let db = TestDb::new();
    db.execute(&strings(&case["setup"]).join(";\n"));
    let versions = format!("{PENDING}/shop/versions");
    let text = run(dbtool(dir.path()).args(["check-migrations", "--url", &db.url, &versions]));
    assert_eq!(text.code, 1);
    for expected in [
        "Upgrade:       fails in revision c3",
        "error [pending-missing-object] ",
        "3_c3.py:12: revision c3: op.drop_constraint fails on this database",
        "the database calls it fk_messages_author_id_users",
    ] {
        assert!(
            text.stdout.contains(expected),
            "{expected}\n{}",
            text.stdout
        );
    }
}

#[test]
fn what_postgresql_skips_or_rejects_and_what_cannot_be_followed_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // IF NOT EXISTS on a name another object holds: a warning, the upgrade succeeds
    let (run, json) = check_pending(&pending_case("if_not_exists_index_name_taken"), dir.path());
    assert_eq!(run.code, 0, "{}", run.stdout);
    let skips = operations(&json, "if-not-exists-skips");
    assert_eq!(skips.len(), 1, "{json}");
    assert_eq!(skips[0]["object"], "ix_users_name");
    assert!(
        skips[0]["database_has"]
            .as_str()
            .unwrap()
            .ends_with("has index ix_users_name on public.messages (body)"),
        "{}",
        skips[0]
    );
    // a computed op.execute: a warning naming its line, never a guess
    let unfollowed = operations(&json, "pending-code-not-followed");
    assert!(
        unfollowed
            .iter()
            .any(|f| f["revision"] == "h8" && f["line"] == 13),
        "{json}"
    );
    // a foreign key to a table whose primary key was dropped by hand
    let (run, json) = check_pending(
        &pending_case("primary_key_dropped_then_referenced"),
        dir.path(),
    );
    assert_eq!((run.code, json["fails_in"].as_str()), (1, Some("b2")));
    let fails = operations(&json, "pending-statement-fails");
    assert!(
        fails[0]["postgres_error"]
            .as_str()
            .unwrap()
            .contains("no unique constraint matching given keys"),
        "{json}"
    );
}

#[test]
fn fix_sql_keeps_the_names_pending_revisions_drop_and_the_upgrade_then_applies() {
    let dir = tempfile::tempdir().unwrap();
    let case = pending_case("clean_middle");
    let versions = format!("{PENDING}/shop/versions");
    let db = TestDb::new();
    db.execute(&strings(&case["setup"]).join(";\n"));
    let lint = |keep: bool| {
        let mut command = dbtool(dir.path());
        command.args(["lint-constraints", "--url", &db.url, "--fix-sql"]);
        if keep {
            command.args(["--keep-names-for", &versions]);
        }
        run(&mut command)
    };
    // without VERSIONS, --fix-sql renames the foreign key revision c3 drops by its old name
    let unaware = lint(false);
    assert!(
        unaware
            .stdout
            .contains("RENAME CONSTRAINT messages_author_id_fkey TO fk_messages_author_id_users"),
        "{}",
        unaware.stdout
    );
    let script = lint(true);
    assert!(
        !script
            .stdout
            .contains("RENAME CONSTRAINT messages_author_id_fkey"),
        "{}",
        script.stdout
    );
    assert!(
        script.stdout.contains("-- not renamed: messages_author_id_fkey on public.messages (to fk_messages_author_id_users): ")
            && script.stdout.contains("3_c3.py:12 drops it by this name"),
        "{}",
        script.stdout
    );
    // other renames stay in the script; run it, and the pending revisions still apply
    assert!(
        script.stdout.contains("RENAME TO pk_messages"),
        "{}",
        script.stdout
    );
    db.execute(&script.stdout);
    let (checked, json) = run_json(dbtool(dir.path()).args([
        "check-migrations",
        "--format",
        "json",
        "--url",
        &db.url,
        &versions,
    ]));
    assert_eq!(checked.code, 0, "{json}");
    // while the unaware script would have broken revision c3
    db.execute(&unaware.stdout);
    let (checked, json) = run_json(dbtool(dir.path()).args([
        "check-migrations",
        "--format",
        "json",
        "--url",
        &db.url,
        &versions,
    ]));
    assert_eq!((checked.code, json["fails_in"].as_str()), (1, Some("c3")));
}

#[test]
fn ci_formats_point_at_the_revision_line_and_exit_codes_hold() {
    let dir = tempfile::tempdir().unwrap();
    let case = pending_case("fix_sql_renamed_fk_then_dropped_by_old_name");
    let db = TestDb::new();
    db.execute(&strings(&case["setup"]).join(";\n"));
    let versions = format!("{PENDING}/shop/versions");
    let report = |format: &str| {
        run(dbtool(dir.path()).args([
            "check-migrations",
            "--format",
            format,
            "--url",
            &db.url,
            &versions,
        ]))
    };
    let sarif = report("sarif");
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let sarif: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let first = &results[0];
    assert_eq!(first["ruleId"], "pending-missing-object");
    assert_eq!(first["level"], "error");
    let physical = &first["locations"][0]["physicalLocation"];
    assert!(
        physical["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("3_c3.py")
    );
    assert_eq!(physical["region"]["startLine"], 12);
    assert!(results.iter().any(|r| r["level"] == "warning"));
    let github = report("github");
    assert!(
        github
            .stdout
            .lines()
            .next()
            .unwrap()
            .starts_with("::error file=")
            && github.stdout.contains("3_c3.py,line=12,col=")
            && github.stdout.contains("::warning file=")
            && github
                .stdout
                .trim_end()
                .ends_with("alembic upgrade fails in revision c3"),
        "{}",
        github.stdout
    );
    let gitlab: Value = serde_json::from_str(&report("gitlab").stdout).unwrap();
    let issues = gitlab.as_array().unwrap();
    assert_eq!(issues[0]["check_name"], "pending-missing-object");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 12);
    let fingerprints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints.len(), issues.len());
    let junit = report("junit");
    assert!(
        junit
            .stdout
            .contains(r#"<testsuite name="dbtool check-migrations""#)
            && junit
                .stdout
                .contains(r#"<failure type="pending-missing-object""#)
            && junit.stdout.contains(r#"name="pending migrations""#),
        "{}",
        junit.stdout
    );
    // a clean deploy: exit 0 in every format
    let clean = TestDb::new();
    clean.execute(&strings(&pending_case("clean_middle")["setup"]).join(";\n"));
    for format in ["table", "json", "sarif", "github", "gitlab", "junit"] {
        let result = run(dbtool(dir.path()).args([
            "check-migrations",
            "--format",
            format,
            "--url",
            &clean.url,
            &versions,
        ]));
        assert_eq!(result.code, 0, "{format}: {}", result.stdout);
    }
}

#[test]
fn history_drift_names_what_the_database_calls_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    // uq_tags_post_id_label renamed by hand; no pending revision refers to it: a warning
    let (result, json) = check_pending(&pending_case("renamed_but_never_referenced"), dir.path());
    assert_eq!(result.code, 0, "{json}");
    let drift = operations(&json, "history-drift");
    assert!(
        drift.iter().any(|f| {
            let message = f["message"].as_str().unwrap();
            message.contains(
                "names uq \"uq_tags_post_id_label\", the database calls it \"uq_tags_label\"",
            )
        }),
        "{json}"
    );
    // a clean database has no drift
    let (_, json) = check_pending(&pending_case("clean_middle"), dir.path());
    assert!(operations(&json, "history-drift").is_empty(), "{json}");
    // and what a pending revision refers to is its error, not also drift
    let (_, json) = check_pending(
        &pending_case("fix_sql_renamed_fk_then_dropped_by_old_name"),
        dir.path(),
    );
    assert!(operations(&json, "history-drift").is_empty(), "{json}");
}
