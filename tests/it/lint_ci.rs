//! lint-constraints in CI pipelines: GitLab Code Quality and JUnit reports, `[tool.dbtool]` in
//! pyproject.toml, and inline `-- dbtool: ignore` comments in SQL files.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::cli::{Run, dbtool, run, run_json};
use crate::pg::TestDb;

const MIGRATION: &str = "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    email text UNIQUE\n);\nCREATE INDEX users_email_lower ON users (lower(email));\n";

fn lint(dir: &Path, args: &[&str]) -> Run {
    run(dbtool(dir).arg("lint-constraints").args(args))
}

#[test]
fn gitlab_code_quality_fingerprints_are_stable_and_unique() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("0001.sql"), MIGRATION).unwrap();
    let report = |dir: &Path| -> (Run, Value) {
        run_json(dbtool(dir).args(["lint-constraints", "--format", "gitlab", "0001.sql"]))
    };
    let (result, issues) = report(dir.path());
    assert_eq!(
        result.code, 1,
        "violations exit 1 as in every format: {}",
        result.stderr
    );
    let issues = issues.as_array().unwrap().clone();
    assert_eq!(issues.len(), 3, "{issues:#?}");
    for issue in &issues {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(
                issue[key].as_str().is_some_and(|v| !v.is_empty()),
                "{key}: {issue}"
            );
        }
        assert_eq!(issue["location"]["path"], "0001.sql");
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    }
    let fingerprints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    let mut unique = fingerprints.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), fingerprints.len(), "{fingerprints:?}");
    // Stable across runs, and when lines move because the file was edited above them.
    let (_, again) = report(dir.path());
    fs::write(
        dir.path().join("0001.sql"),
        format!("-- users\n\n{MIGRATION}"),
    )
    .unwrap();
    let (_, moved) = report(dir.path());
    for later in [again, moved.clone()] {
        let later: Vec<String> = later
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(later, fingerprints, "fingerprints changed");
    }
    assert_eq!(
        moved[0]["location"]["lines"]["begin"],
        issues[0]["location"]["lines"]["begin"].as_u64().unwrap() + 2
    );
}

#[test]
fn gitlab_paths_name_the_database_object_for_a_live_database() {
    let db = TestDb::new();
    db.execute("CREATE TABLE accounts (id int PRIMARY KEY)");
    let dir = tempfile::tempdir().unwrap();
    let (result, issues) = run_json(dbtool(dir.path()).args([
        "lint-constraints",
        "--format",
        "gitlab",
        "--url",
        &db.url,
    ]));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert_eq!(
        issues[0]["location"]["path"], "database:public.accounts.accounts_pkey",
        "{issues}"
    );
    assert_eq!(issues[0]["location"]["lines"]["begin"], 1);
}

#[test]
fn junit_has_one_failure_per_violation_and_a_passing_case_when_clean() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("0001.sql"), MIGRATION).unwrap();
    let result = lint(dir.path(), &["--format", "junit", "0001.sql"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let document = roxmltree::Document::parse(&result.stdout)
        .unwrap_or_else(|e| panic!("{e}:\n{}", result.stdout));
    let suites = document.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    assert_eq!(suites.attribute("failures"), Some("3"));
    let failures: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 3);
    for failure in &failures {
        let case = failure.parent().unwrap();
        assert_eq!(case.attribute("file"), Some("0001.sql"));
        assert!(
            case.attribute("name").unwrap().contains(" pk ")
                || case.attribute("name").unwrap().contains(" uq ")
                || case.attribute("name").unwrap().contains(" ix "),
            "{:?}",
            case.attribute("name")
        );
        assert!(
            failure.text().unwrap().contains("fix: "),
            "{:?}",
            failure.text()
        );
    }

    fs::write(
        dir.path().join("0001.sql"),
        "CREATE TABLE users (id bigint CONSTRAINT pk_users PRIMARY KEY);\n",
    )
    .unwrap();
    let clean = lint(dir.path(), &["--format", "junit", "0001.sql"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    let document = roxmltree::Document::parse(&clean.stdout).unwrap();
    assert_eq!(document.root_element().attribute("failures"), Some("0"));
    assert_eq!(
        document
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        1
    );
}

#[test]
fn pyproject_tool_dbtool_is_read_and_said_with_verbose() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"app\"\n\n[tool.dbtool.naming_convention]\npk = \"pkey_%(table_name)s\"\n",
    )
    .unwrap();
    let migrations = dir.path().join("migrations");
    fs::create_dir(&migrations).unwrap();
    fs::write(
        migrations.join("0001.sql"),
        "CREATE TABLE users (id bigint CONSTRAINT pkey_users PRIMARY KEY);\n",
    )
    .unwrap();
    let result = lint(&migrations, &["-v", "0001.sql"]);
    assert_eq!(result.code, 0, "{}{}", result.stdout, result.stderr);
    assert!(
        result.stderr.contains("pyproject.toml"),
        "{}",
        result.stderr
    );
    // dbtool.toml wins when both exist.
    fs::write(dir.path().join("dbtool.toml"), "[lint]\n").unwrap();
    let result = lint(&migrations, &["-v", "0001.sql"]);
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(result.stderr.contains("dbtool.toml"), "{}", result.stderr);
}

#[test]
fn inline_ignores_suppress_what_they_name_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("0001.sql"),
        "CREATE TABLE users (\n    id bigint PRIMARY KEY, -- dbtool: ignore\n    -- dbtool: ignore[ix]\n    email text UNIQUE\n);\n-- dbtool: ignore[uq, ix]\nCREATE INDEX users_email_lower ON users (lower(email));\n",
    )
    .unwrap();
    let (result, json) =
        run_json(dbtool(dir.path()).args(["lint-constraints", "--format", "json", "0001.sql"]));
    // The pk and the index are ignored; the unique constraint was ignored only for ix.
    assert_eq!(result.code, 1, "{}", result.stderr);
    let names: Vec<&str> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["uq"], "{json}");
    assert_eq!(json["summary"]["ignored"], 2, "{json}");
    let table = lint(dir.path(), &["0001.sql"]);
    assert!(table.stdout.contains("; 2 ignored"), "{}", table.stdout);

    // An unknown kind is a warning, and ignores nothing.
    fs::write(
        dir.path().join("0001.sql"),
        "CREATE TABLE users (id bigint PRIMARY KEY); -- dbtool: ignore[pkey]\n",
    )
    .unwrap();
    let result = lint(dir.path(), &["0001.sql"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("unknown kind \"pkey\""),
        "{}",
        result.stderr
    );
}
