//! `dbtool lint-constraints` on Alembic migration files: the revision graph, and the lint of the
//! `.py` files against the lint of the SQL the real Alembic renders for them
//! (`tests/fixtures/alembic/`, written by `scripts/gen_alembic_fixture.py`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::cli::{dbtool, run_json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/alembic");

/// The convention `scripts/gen_alembic_fixture.py` gives the "convention" project's MetaData.
const CONVENTION: [&str; 5] = [
    "ix=ix_%(column_0_label)s",
    "uq=uq_%(table_name)s_%(column_0_name)s",
    "ck=ck_%(table_name)s_%(constraint_name)s",
    "fk=fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk=pk_%(table_name)s",
];

type Key = (String, String, String, String, String, String);

fn lint(dir: &Path, paths: &[&str]) -> (crate::cli::Run, Value) {
    let mut command = dbtool(dir);
    command.args(["lint-constraints", "--format", "json"]);
    for convention in CONVENTION {
        command.args(["--convention", convention]);
    }
    command.args(paths);
    run_json(&mut command)
}

/// Violations without Alembic's own `alembic_version` table, which only the SQL creates.
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
                text("rule"),
            )
        })
        .filter(|key| key.1 != "alembic_version")
        .collect()
}

#[test]
fn migration_files_lint_like_the_sql_alembic_renders_for_them() {
    let dir = tempfile::tempdir().unwrap();
    // the flag says env.py's target_metadata has the convention, as in the projects that have one
    let with_metadata_convention = "--alembic-metadata-convention";
    for (project, at_least, flags) in [
        ("plain", 10, &[][..]),
        ("convention", 5, &[][..]),
        ("convention", 5, &[with_metadata_convention][..]),
        ("handwritten", 2, &[with_metadata_convention][..]),
    ] {
        let versions = format!("{FIXTURES}/{project}/versions");
        let sql = format!("{FIXTURES}/{project}/upgrade.sql");
        let (from_python, python) = lint(dir.path(), &[flags, &[versions.as_str()]].concat());
        let (_, rendered) = lint(dir.path(), &[&sql]);
        assert_eq!(rendered["errors"], serde_json::json!([]), "{project}");
        assert_eq!(python["errors"], serde_json::json!([]), "{project}");
        let expected = violations(&rendered);
        assert!(expected.len() >= at_least, "{project}: {expected:?}");
        assert_eq!(
            violations(&python),
            expected,
            "{project}: {}",
            from_python.stderr
        );
        assert_eq!(
            python["summary"]["objects_checked"].as_u64().unwrap() + 1,
            rendered["summary"]["objects_checked"].as_u64().unwrap(),
            "{project}: every object but alembic_version's primary key"
        );
        // every violation points at a line of a .py file that names its object's table
        for v in python["violations"].as_array().unwrap() {
            let file = v["file"].as_str().unwrap();
            assert!(file.ends_with(".py"), "{v}");
            let text = fs::read_to_string(file).unwrap();
            let line = text
                .lines()
                .nth(v["line"].as_u64().unwrap() as usize - 1)
                .unwrap();
            let column = v["column"].as_u64().unwrap() as usize;
            assert!(column >= 1 && column <= line.len(), "{v}: {line}");
        }
    }
}

#[test]
fn without_the_flag_a_metadata_convention_is_not_assumed() {
    // Alembic named the handwritten project's unnamed constraints by env.py's convention and
    // converted its plain check names; read without --alembic-metadata-convention, unnamed
    // objects get PostgreSQL's names and plain names stay as written
    let dir = tempfile::tempdir().unwrap();
    let versions = format!("{FIXTURES}/handwritten/versions");
    let (result, json) = lint(dir.path(), &[&versions]);
    assert_eq!(result.code, 1);
    assert_eq!(json["errors"], serde_json::json!([]));
    let names: BTreeSet<&str> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for name in ["items_sku_key", "items_pkey", "positive"] {
        assert!(names.contains(name), "{name}: {names:?}");
    }
    let (_, rendered) = lint(
        dir.path(),
        &[&format!("{FIXTURES}/handwritten/upgrade.sql")],
    );
    assert_ne!(violations(&json), violations(&rendered));
}

#[test]
fn unnamed_objects_say_which_op_f_name_to_write_and_skips_are_warned() {
    let dir = tempfile::tempdir().unwrap();
    let versions = format!("{FIXTURES}/plain/versions");
    let (result, json) = lint(dir.path(), &[&versions]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let unnamed_uq = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "users_org_key")
        .unwrap_or_else(|| panic!("{json}"));
    assert!(
        unnamed_uq["message"]
            .as_str()
            .unwrap()
            .contains(r#"write name=op.f("uq_users_org")"#),
        "{unnamed_uq}"
    );
    assert!(
        unnamed_uq["file"]
            .as_str()
            .unwrap()
            .ends_with("a1_initial.py")
    );
    // sa.Column('org', ..., unique=True) is on line 22 of the file, at column 9
    assert_eq!(
        (unnamed_uq["line"].as_u64(), unnamed_uq["column"].as_u64()),
        (Some(22), Some(9))
    );
    // an index made by op.execute's SQL is fixed in that SQL, at its line and column
    let from_execute = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "users_lower_idx")
        .unwrap_or_else(|| panic!("{json}"));
    assert!(
        from_execute["message"]
            .as_str()
            .unwrap()
            .contains("write CREATE INDEX ix_users_email ON ..."),
        "{from_execute}"
    );
    assert_eq!(
        (
            from_execute["line"].as_u64(),
            from_execute["column"].as_u64()
        ),
        (Some(22), Some(17))
    );
    assert!(
        result.stderr.contains(
            "e5_batch_rename.py:29: skipped, an expression cannot be followed statically"
        ),
        "{}",
        result.stderr
    );
    assert_eq!(json["alembic"]["heads"], serde_json::json!(["f6"]));
    assert_eq!(
        json["alembic"]["order"],
        serde_json::json!(["a1", "b2", "c3", "d4", "e5", "f6"])
    );
}

#[test]
fn revision_graph_errors_fail_even_when_every_name_is_right() {
    let dir = tempfile::tempdir().unwrap();
    let versions = dir.path().join("versions");
    fs::create_dir(&versions).unwrap();
    let write = |file: &str, revision: &str, down: &str| {
        fs::write(
            versions.join(file),
            format!(
                "revision = '{revision}'\ndown_revision = {down}\n\ndef upgrade():\n    pass\n"
            ),
        )
        .unwrap();
    };
    write("1.py", "a", "None");
    write("2.py", "b", "'a'");
    write("3.py", "c", "'a'");
    fs::write(versions.join("env.py"), "from alembic import context\n").unwrap();
    let (result, json) = lint(dir.path(), &["versions"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("2 Alembic heads: b ("),
        "{}",
        result.stderr
    );
    assert_eq!(json["alembic"]["heads"], serde_json::json!(["b", "c"]));
    assert_eq!(json["violations"], serde_json::json!([]));
    write("3.py", "c", "'b'");
    write("4.py", "b", "'c'");
    write("5.py", "d", "'gone'");
    let (result, json) = lint(dir.path(), &["versions"]);
    assert_eq!(result.code, 1);
    for expected in [
        "duplicate Alembic revision id \"b\"",
        "down_revision \"gone\"",
        "2 Alembic heads",
    ] {
        assert!(
            result.stderr.contains(expected),
            "{expected}: {}",
            result.stderr
        );
    }
    assert_eq!(json["errors"].as_array().unwrap().len(), 3, "{json}");
    // a single line of history is fine
    fs::remove_file(versions.join("4.py")).unwrap();
    fs::remove_file(versions.join("5.py")).unwrap();
    let (result, json) = lint(dir.path(), &["versions"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(json["alembic"]["order"], serde_json::json!(["a", "b", "c"]));
    // a cycle
    write("1.py", "a", "'c'");
    let (result, _) = lint(dir.path(), &["versions"]);
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("form a cycle"), "{}", result.stderr);
}

#[test]
fn sql_files_and_migrations_mix_sql_first_where_given() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("base.sql"),
        "CREATE TABLE accounts (id int CONSTRAINT pk_accounts PRIMARY KEY);\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("versions")).unwrap();
    fs::write(
        dir.path().join("versions/x1.py"),
        "revision = 'x1'\ndown_revision = None\n\ndef upgrade():\n    \
         op.add_column('accounts', sa.Column('owner_id', sa.Integer(), sa.ForeignKey('accounts.id')))\n    \
         op.create_index(None, 'accounts', ['owner_id'])\n",
    )
    .unwrap();
    let (result, json) = lint(dir.path(), &["base.sql", "versions"]);
    assert_eq!(json["errors"], serde_json::json!([]), "{}", result.stderr);
    let found: Vec<(String, String, u64)> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["file"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            "accounts_owner_id_fkey".to_string(),
            "versions/x1.py".to_string(),
            5
        )],
        "{json}"
    );
    // the migration alone alters a table it never creates: an error at its line, exit 1
    let (result, json) = lint(dir.path(), &["versions"]);
    assert_eq!(result.code, 1);
    assert_eq!(json["errors"][0]["file"], "versions/x1.py", "{json}");
    assert_eq!(json["errors"][0]["line"], 5, "{json}");
}
