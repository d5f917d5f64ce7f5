//! `dbtool settings`: defaults, precedence, .env handling, bad values, secrets.

use std::fs;

use crate::cli::{dbtool, run, run_json};

#[test]
fn defaults_come_from_the_reference_document() {
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = run_json(dbtool(dir.path()).args(["settings", "--format", "json"]));
    assert_eq!(result.code, 0);
    let expected = serde_json::json!({
        "database_url": {"value": "postgresql+asyncpg://super@localhost:5432/super", "source": "default"},
        "db_pool_size": {"value": 5, "source": "default"},
        "db_max_overflow": {"value": 10, "source": "default"},
        "db_pool_timeout": {"value": 30, "source": "default"},
        "db_pool_recycle": {"value": 3600, "source": "default"},
        "db_pool_pre_ping": {"value": true, "source": "default"},
        "db_echo": {"value": false, "source": "default"},
        "db_statement_timeout": {"value": 30, "source": "default"},
    });
    assert_eq!(json, expected);
}

#[test]
fn dotenv_applies_and_the_environment_beats_it_and_flags_beat_both() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".env"),
        "# app settings\nDB_POOL_SIZE=12\ndb_max_overflow=-1\nDB_POOL_TIMEOUT=2.5\nexport DB_ECHO=yes\nDB_POOL_RECYCLE=300\n",
    )
    .unwrap();
    let (result, json) = run_json(
        dbtool(dir.path())
            .args(["settings", "--format", "json", "--pool-recycle", "60"])
            .env("db_pool_size", "20"),
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(
        json["db_pool_size"],
        serde_json::json!({"value": 20, "source": "env"})
    );
    assert_eq!(
        json["db_max_overflow"],
        serde_json::json!({"value": -1, "source": "dotenv"})
    );
    assert_eq!(
        json["db_pool_timeout"],
        serde_json::json!({"value": 2.5, "source": "dotenv"})
    );
    assert_eq!(
        json["db_echo"],
        serde_json::json!({"value": true, "source": "dotenv"})
    );
    assert_eq!(
        json["db_pool_recycle"],
        serde_json::json!({"value": 60, "source": "flag"})
    );
    assert_eq!(json["db_pool_pre_ping"]["source"], "default");
}

#[test]
fn env_file_and_no_dotenv_choose_the_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(".env"), "DB_POOL_SIZE=12\n").unwrap();
    fs::write(dir.path().join("prod.env"), "DB_POOL_SIZE=40\n").unwrap();
    let (_, json) = run_json(dbtool(dir.path()).args([
        "settings",
        "--format",
        "json",
        "--env-file",
        "prod.env",
    ]));
    assert_eq!(json["db_pool_size"]["value"], 40);
    let (_, json) =
        run_json(dbtool(dir.path()).args(["--no-dotenv", "settings", "--format", "json"]));
    assert_eq!(
        json["db_pool_size"],
        serde_json::json!({"value": 5, "source": "default"})
    );
}

#[test]
fn bad_values_exit_3_naming_variable_value_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("DB_POOL_SIZE", "abc"),
        ("DB_POOL_TIMEOUT", "-3"),
        ("DB_POOL_PRE_PING", "maybe"),
        ("DB_MAX_OVERFLOW", "-2"),
    ];
    for (name, value) in cases {
        let result = run(dbtool(dir.path()).arg("settings").env(name, value));
        assert_eq!(result.code, 3, "{name}={value}: {}", result.stderr);
        assert!(
            result.stderr.starts_with("dbtool: error: "),
            "{}",
            result.stderr
        );
        assert!(
            result.stderr.contains(name) && result.stderr.contains(value),
            "{}",
            result.stderr
        );
        assert!(result.stderr.contains("from env"), "{}", result.stderr);
        assert!(result.stdout.is_empty());
    }
    fs::write(dir.path().join(".env"), "DB_POOL_TIMEOUT=soon\n").unwrap();
    let result = run(dbtool(dir.path()).arg("settings"));
    assert_eq!(result.code, 3);
    let env_path = dir.path().canonicalize().unwrap().join(".env");
    assert!(
        result.stderr.contains("DB_POOL_TIMEOUT")
            && result.stderr.contains(&env_path.display().to_string()),
        "{}",
        result.stderr
    );
    let result = run(dbtool(dir.path()).args(["settings", "--pool-size", "x"]));
    assert_eq!(result.code, 3);
    assert!(
        result.stderr.contains("--pool-size") && result.stderr.contains("from command line"),
        "{}",
        result.stderr
    );
}

#[test]
fn a_password_from_dotenv_never_shows() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Zq9-dotenv-secret";
    fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL=postgresql+asyncpg://app:{secret}@db:5432/app\n"),
    )
    .unwrap();
    for format in ["table", "json"] {
        let result = run(dbtool(dir.path()).args(["settings", "-v", "--echo", "--format", format]));
        assert_eq!(result.code, 0, "{}", result.stderr);
        assert!(
            !result.stdout.contains(secret) && !result.stderr.contains(secret),
            "{}",
            result.stdout
        );
        assert!(result.stdout.contains("app:***@db"), "{}", result.stdout);
    }
    fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL=postgresql://app:{secret}@db/app\nDB_ECHO=sometimes\n"),
    )
    .unwrap();
    let result = run(dbtool(dir.path()).arg("settings"));
    assert_eq!(result.code, 3);
    assert!(!result.stderr.contains(secret), "{}", result.stderr);
}

/// python-dotenv skips a statement it cannot parse (with a warning) and reads the rest; the
/// application starts, so dbtool reads the same values and says which line was skipped.
#[test]
fn a_garbage_dotenv_line_is_skipped_with_a_warning_as_the_application_does() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".env"),
        "DB_POOL_SIZE=6\nthis is not 'an Zq7-garbage-secret\nDB_ECHO=on\n",
    )
    .unwrap();
    let (result, json) = run_json(dbtool(dir.path()).args(["settings", "--format", "json"]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(json["db_pool_size"]["value"], 6);
    assert_eq!(json["db_echo"]["value"], true);
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
    assert!(
        result.stderr.starts_with("dbtool: warning: ")
            && result.stderr.contains(".env")
            && result.stderr.contains("line 2"),
        "{}",
        result.stderr
    );
    assert!(!result.stderr.contains("Zq7-garbage-secret"));
}

/// python-dotenv expands `${VAR:-default}` (in single quotes too) from the file's earlier
/// values and the environment; the last of two assignments wins; `\n` in double quotes is a
/// newline; pydantic reads `7_000` as an int.
#[test]
fn the_issues_measured_differences_now_agree() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgresql+asyncpg://u:Zq7-secret@${DB_HOST:-fallback}/db\n\
         DB_POOL_SIZE=3\nDB_POOL_SIZE=7_000\n\
         DB_MAX_OVERFLOW='${OVERFLOW}'\n",
    )
    .unwrap();
    let (result, json) = run_json(
        dbtool(dir.path())
            .args(["settings", "--format", "json"])
            .env("OVERFLOW", "4"),
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(
        json["database_url"]["value"],
        "postgresql+asyncpg://u:***@fallback/db"
    );
    assert_eq!(json["db_pool_size"]["value"], 7000);
    assert_eq!(json["db_max_overflow"]["value"], 4);
    assert!(!result.stdout.contains("Zq7-secret"));
}

/// A value the application accepts but dbtool cannot use is refused in one line that says so,
/// naming the variable and where it came from; one the application refuses says that instead.
#[test]
fn dbtool_says_where_it_must_differ_from_the_application() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(".env"), "DB_POOL_TIMEOUT=inf\n").unwrap();
    let result = run(dbtool(dir.path()).arg("settings"));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("DB_POOL_TIMEOUT=\"inf\" (from .env (")
            && result
                .stderr
                .contains("accepted by the application, but dbtool cannot use it"),
        "{}",
        result.stderr
    );
    let result = run(dbtool(dir.path()).arg("settings").env("db_pool_size", "-5"));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(
        result.stderr.contains("DB_POOL_SIZE=\"-5\" (from env)")
            && result.stderr.contains("accepted by the application"),
        "{}",
        result.stderr
    );
    // The application refuses DB_ECHO=" true": that comes first, even before DB_POOL_TIMEOUT.
    let result = run(dbtool(dir.path()).arg("settings").env("DB_ECHO", " true"));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(
        result.stderr.contains("DB_ECHO=\" true\" (from env)")
            && result.stderr.contains("the application refuses it too"),
        "{}",
        result.stderr
    );
}

/// python's open(..., encoding="utf-8") refuses the file, and the application does not start.
#[test]
fn a_dotenv_file_that_is_not_utf8_exits_3_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(".env"), b"DB_POOL_SIZE=5\nDB_ECHO=\xff\n").unwrap();
    let result = run(dbtool(dir.path()).arg("settings"));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(
        result.stderr.contains("line 2 is not UTF-8") && result.stderr.contains(".env"),
        "{}",
        result.stderr
    );
}

#[test]
fn the_table_shows_every_setting_with_source_and_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path())
        .args(["settings", "--color", "never"])
        .env("DB_POOL_SIZE", "8"));
    assert_eq!(result.code, 0);
    insta::assert_snapshot!(result.stdout);
}
