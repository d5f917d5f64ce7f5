//! `dbtool lint-constraints` against a real PostgreSQL.

use serde_json::Value;

use crate::cli::{dbtool, run, run_json};
use crate::pg::TestDb;

const DEFAULT_NAMES: &str = "
    CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, age int CHECK (age > 0));
    CREATE TABLE orders (
        id serial PRIMARY KEY,
        user_id int REFERENCES users (id),
        status text,
        amount numeric CONSTRAINT amount_positive CHECK (amount > 0)
    );
    CREATE INDEX ON orders (status);
    CREATE UNIQUE INDEX ON orders (lower(status), user_id);
    CREATE SCHEMA billing;
    CREATE TABLE billing.invoices (id int PRIMARY KEY, number text);
    CREATE INDEX ON billing.invoices (number);
";

fn lint(db: &TestDb, args: &[&str]) -> (crate::cli::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = dbtool(dir.path());
    command
        .args(["lint-constraints", "--format", "json", "--url", &db.url])
        .args(args);
    run_json(&mut command)
}

fn expected_by_name(json: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["expected"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn postgres_default_names_get_one_violation_each_and_fix_sql_makes_it_clean() {
    let db = TestDb::new();
    db.execute(DEFAULT_NAMES);
    let (result, json) = lint(&db, &[]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let expected: Vec<(String, String)> = [
        ("amount_positive", "ck_orders_amount_positive"),
        ("invoices_number_idx", "ix_billing_invoices_number"),
        ("invoices_pkey", "pk_invoices"),
        ("orders_lower_user_id_idx", "ix_orders_status"),
        ("orders_pkey", "pk_orders"),
        ("orders_status_idx", "ix_orders_status"),
        ("orders_user_id_fkey", "fk_orders_user_id_users"),
        ("users_age_check", "ck_users_users_age_check"),
        ("users_email_key", "uq_users_email"),
        ("users_pkey", "pk_users"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(expected_by_name(&json), expected);
    let violation = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "users_email_key")
        .unwrap();
    assert_eq!(violation["kind"], "uq");
    assert_eq!(violation["schema"], "public");
    assert!(
        violation["message"]
            .as_str()
            .unwrap()
            .contains("PostgreSQL default name"),
        "{violation}"
    );
    assert_eq!(
        violation["fix"],
        "ALTER INDEX public.users_email_key RENAME TO uq_users_email;"
    );
    assert_eq!(json["summary"]["violations"], 10);
    // Two indexes want ix_orders_status: a collision, reported instead of SQL that fails.
    assert_eq!(
        json["collisions"].as_array().unwrap().len(),
        1,
        "{}",
        json["collisions"]
    );

    let dir = tempfile::tempdir().unwrap();
    let fix = run(dbtool(dir.path()).args(["lint-constraints", "--fix-sql", "--url", &db.url]));
    assert_eq!(fix.code, 1);
    assert!(
        fix.stdout.starts_with("-- dbtool")
            && fix.stdout.contains("BEGIN;")
            && fix.stdout.contains("COMMIT;")
    );
    db.execute(&fix.stdout);
    let (result, json) = lint(&db, &[]);
    assert_eq!(
        expected_by_name(&json).len(),
        2,
        "only the colliding pair is left: {json}"
    );
    assert_eq!(result.code, 1);
    db.execute("DROP INDEX orders_lower_user_id_idx");
    let fix = run(dbtool(dir.path()).args(["lint-constraints", "--fix-sql", "--url", &db.url]));
    db.execute(&fix.stdout);
    let (result, json) = lint(&db, &[]);
    assert_eq!(result.code, 0, "{json}");
}

#[test]
fn a_schema_that_follows_the_convention_lints_clean() {
    let db = TestDb::new();
    db.execute(
        "CREATE TABLE users (id int CONSTRAINT pk_users PRIMARY KEY, email text CONSTRAINT uq_users_email UNIQUE,
                             age int CONSTRAINT ck_users_age_positive CHECK (age > 0));
         CREATE TABLE orders (id int CONSTRAINT pk_orders PRIMARY KEY,
                              user_id int CONSTRAINT fk_orders_user_id_users REFERENCES users (id));
         CREATE INDEX ix_orders_user_id ON orders (user_id);
         CREATE UNIQUE INDEX ix_users_age ON users (age);
         CREATE TABLE \"Mixed Case\" (\"Id\" int CONSTRAINT \"pk_Mixed Case\" PRIMARY KEY);
         CREATE TABLE très_long_nom_de_table_pour_tester_la_troncature_des_noms_sqlalchemy (
            id int, identifiant_de_colonne_vraiment_tres_long int);
         CREATE TABLE a_table_whose_name_is_long_enough_to_need_truncation_by_sqlalchemy (
            id int, column_with_a_long_name_as_well int);
         CREATE TABLE measurements (id int, at date, CONSTRAINT pk_measurements PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    );
    // The long name as SQLAlchemy truncates it (first 55 characters, _, 4 hex digits of md5).
    let (_, json) = lint(&db, &["--table", "a_table_whose*"]);
    assert_eq!(json["summary"]["violations"], 0);
    let (result, json) = lint(&db, &["--exclude-schema", "nothing"]);
    assert_eq!(result.code, 0, "{json}");
    assert_eq!(
        json["summary"]["skipped"], 1,
        "the partition's inherited primary key: {json}"
    );
    let (result, json) = lint(&db, &["--include-partitions"]);
    assert_eq!(result.code, 1, "{json}");
    assert_eq!(json["violations"][0]["name"], "measurements_2024_pkey");
}

#[test]
fn sarif_and_github_outputs_carry_every_violation() {
    let db = TestDb::new();
    db.execute("CREATE TABLE t (id int PRIMARY KEY, c int UNIQUE)");
    let dir = tempfile::tempdir().unwrap();
    let (result, sarif) = run_json(dbtool(dir.path()).args([
        "lint-constraints",
        "--format",
        "sarif",
        "--url",
        &db.url,
    ]));
    assert_eq!(result.code, 1);
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["properties"]["kind"] == "uq")
        .unwrap();
    assert_eq!(result["ruleId"], "naming/mismatch");
    assert_eq!(result["level"], "error");
    assert_eq!(result["properties"]["expected"], "uq_t_c");
    assert_eq!(
        result["properties"]["fix"],
        "ALTER INDEX public.t_c_key RENAME TO uq_t_c;"
    );
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "public.t.t_c_key"
    );
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .contains("should be named \"uq_t_c\""),
        "{result}"
    );
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"][0]["id"],
        "naming/mismatch"
    );
    let github =
        run(dbtool(dir.path()).args(["lint-constraints", "--format", "github", "--url", &db.url]));
    assert_eq!(github.code, 1);
    assert_eq!(
        github
            .stdout
            .lines()
            .filter(|l| l.starts_with("::error "))
            .count(),
        2,
        "{}",
        github.stdout
    );
}

#[test]
fn conventions_baselines_and_ignores() {
    let db = TestDb::new();
    db.execute("CREATE TABLE t (id int PRIMARY KEY, c int UNIQUE)");
    let (_, json) = lint(
        &db,
        &[
            "--convention",
            "pk=%(table_name)s_pkey",
            "--convention",
            "uq=%(table_name)s_%(column_0_name)s_key",
        ],
    );
    assert_eq!(json["summary"]["violations"], 0, "{json}");
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let (result, _) = lint(&db, &["--write-baseline", baseline]);
    assert_eq!(result.code, 1);
    let (result, json) = lint(&db, &["--baseline", baseline]);
    assert_eq!(
        (result.code, json["summary"]["baselined"].as_u64()),
        (0, Some(2)),
        "{json}"
    );
    db.execute("ALTER TABLE t RENAME CONSTRAINT t_pkey TO pk_t; CREATE INDEX ON t (c)");
    let (result, json) = lint(&db, &["--baseline", baseline]);
    assert_eq!(result.code, 1, "the new index is reported: {json}");
    assert_eq!(json["stale_baseline"][0]["name"], "t_pkey");
    std::fs::write(
        dir.path().join("dbtool.toml"),
        "[lint]\nignore = [\"public.t.*\"]\n",
    )
    .unwrap();
    let (result, json) = run_json(dbtool(dir.path()).args([
        "lint-constraints",
        "--format",
        "json",
        "--url",
        &db.url,
    ]));
    assert_eq!(
        (result.code, json["summary"]["ignored"].as_u64()),
        (0, Some(3)),
        "{json}"
    );
    std::fs::write(
        dir.path().join("dbtool.toml"),
        "[naming_convention]\npk = 5\n",
    )
    .unwrap();
    let result = run(dbtool(dir.path()).args(["lint-constraints", "--url", &db.url]));
    assert_eq!(result.code, 3, "{}", result.stderr);
}

#[test]
fn a_server_that_does_not_answer_exits_2() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgresql://u:hidden-pw@127.0.0.1:{port}/db");
    let result = run(dbtool(dir.path()).args(["lint-constraints", "--url", &url]));
    assert_eq!(result.code, 2, "{}", result.stderr);
    assert!(
        result.stderr.starts_with("dbtool: error: ") && !result.stderr.contains("hidden-pw"),
        "{}",
        result.stderr
    );
    assert!(result.stdout.is_empty());
}

#[test]
fn long_names_composite_keys_schemas_and_quoting_follow_sqlalchemy() {
    use dbtool::lint::naming::{Column, Declared, Kind, NamingConvention, ObjectRef, TableRef};
    let convention = NamingConvention::app_default();
    let long_table = "a_table_whose_name_is_long_enough_to_matter_here";
    let name = |kind: Kind,
                table: TableRef<'_>,
                columns: &[Column<'_>],
                referred: Option<(&str, &[&str])>| {
        let mut object = ObjectRef::new(kind, table).with_columns(columns);
        if let Some((t, c)) = referred {
            object = object.referring_to(t, c);
        }
        convention
            .name_for(&object, Declared::Unnamed)
            .unwrap()
            .unwrap()
            .database
    };
    let long_pk = name(Kind::Pk, TableRef::new(long_table), &[], None);
    let long_ix = name(
        Kind::Ix,
        TableRef::new(long_table),
        &[Column::new("column_with_a_long_name_as_well")],
        None,
    );
    assert!(
        long_ix.len() == 60 && long_ix.starts_with("ix_a_table_whose"),
        "truncated the SQLAlchemy way: {long_ix}"
    );
    let composite_fk = name(
        Kind::Fk,
        TableRef::new("lines"),
        &[Column::new("order_id"), Column::new("order_no")],
        Some(("orders2", &["id", "no"])),
    );
    let billing_ix = name(
        Kind::Ix,
        TableRef::in_schema("billing", "lines"),
        &[Column::new("note")],
        None,
    );
    let db = TestDb::new();
    db.execute(&format!(
        "CREATE TABLE {long_table} (id int CONSTRAINT {long_pk} PRIMARY KEY, column_with_a_long_name_as_well int);
         CREATE INDEX {long_ix} ON {long_table} (column_with_a_long_name_as_well);
         CREATE TABLE orders2 (id int, no int, CONSTRAINT pk_orders2 PRIMARY KEY (id, no));
         CREATE TABLE lines (order_id int, order_no int, note text,
             CONSTRAINT {composite_fk} FOREIGN KEY (order_id, order_no) REFERENCES orders2 (id, no));
         CREATE INDEX ix_lines_note ON lines (note);
         CREATE SCHEMA billing;
         CREATE TABLE billing.lines (id int CONSTRAINT pk_lines PRIMARY KEY, note text);
         CREATE INDEX {billing_ix} ON billing.lines (note);
         CREATE TABLE \"Mixed Case\" (\"Id\" int CONSTRAINT \"pk_Mixed Case\" PRIMARY KEY);
         CREATE TABLE ranges (r int4range, CONSTRAINT no_overlap EXCLUDE USING gist (r WITH &&));
         CREATE INDEX ix_lines_lower ON lines (lower(note)) WHERE note IS NOT NULL;"
    ));
    let (result, json) = lint(&db, &[]);
    assert_eq!(result.code, 1, "{json}");
    let names: Vec<&str> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["ix_lines_lower"],
        "only the expression index breaks ix_%(column_0_label)s: {json}"
    );
    assert_eq!(json["violations"][0]["expected"], "ix_lines_note");
    let (result, _) = lint(&db, &["--label-schema", "never", "--table", "billing.*"]);
    assert_eq!(
        result.code, 1,
        "without the schema in the label, billing's index name is wrong"
    );
    let (result, json) = lint(
        &db,
        &[
            "--convention",
            "ex=ex_%(table_name)s_%(column_0_name)s",
            "--table",
            "ranges",
        ],
    );
    assert_eq!(result.code, 1, "{json}");
    assert_eq!(json["violations"][0]["expected"], "ex_ranges_r");
}

#[test]
fn the_table_report_reads_well() {
    let db = TestDb::new();
    db.execute("CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE); CREATE INDEX ON users (lower(email));");
    let dir = tempfile::tempdir().unwrap();
    let result =
        run(dbtool(dir.path()).args(["lint-constraints", "--color", "never", "--url", &db.url]));
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn foreign_keys_to_tables_outside_the_filter_name_the_referred_columns() {
    let db = TestDb::new();
    db.execute(
        "CREATE TABLE users (id int PRIMARY KEY, code text UNIQUE);
         CREATE TABLE orders (id int PRIMARY KEY, user_code text REFERENCES users (code));
         CREATE SCHEMA app;
         CREATE TABLE app.payments (id int PRIMARY KEY, user_code text REFERENCES public.users (code));",
    );
    let convention = [
        "--convention",
        "fk=fk_%(table_name)s_%(referred_column_0_name)s",
    ];
    let fk_expectations = |json: &Value| -> Vec<(String, String)> {
        expected_by_name(json)
            .into_iter()
            .filter(|(name, _)| name.ends_with("_fkey"))
            .collect()
    };
    // The referred table is read but not checked (--table), or in a schema not read (--schema).
    let (_, json) = lint(&db, &[&["--table", "orders"][..], &convention].concat());
    assert_eq!(
        fk_expectations(&json),
        [(
            "orders_user_code_fkey".to_string(),
            "fk_orders_code".to_string()
        )],
        "{json}"
    );
    let (_, json) = lint(&db, &[&["--schema", "app"][..], &convention].concat());
    assert_eq!(
        fk_expectations(&json),
        [(
            "payments_user_code_fkey".to_string(),
            "fk_payments_code".to_string()
        )],
        "{json}"
    );
}

#[test]
fn reports_follow_the_servers_name_order_in_every_encoding() {
    // In LATIN9, '€' (0xA4) sorts before 'ä' (0xE4); in UTF-8, 'ä' (U+00E4) before '€' (U+20AC).
    let schema = r#"
        CREATE TABLE "tä" (a int CONSTRAINT "cä" CHECK (a > 0) CONSTRAINT "c€" CHECK (a > 1));
        CREATE TABLE "t€" (a int);
        CREATE INDEX "iä" ON "t€" (a);
        CREATE INDEX "i€" ON "t€" (a);
    "#;
    let order = |db: &TestDb| -> Vec<(String, String)> {
        db.execute(schema);
        let (_, json) = lint(db, &[]);
        json["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["table"].as_str().unwrap().to_string(),
                    v["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(t, n)| (t.to_string(), n.to_string()))
            .collect()
    };
    assert_eq!(
        order(&TestDb::with_encoding("LATIN9")),
        pairs(&[("t€", "i€"), ("t€", "iä"), ("tä", "c€"), ("tä", "cä")])
    );
    assert_eq!(
        order(&TestDb::new()),
        pairs(&[("tä", "cä"), ("tä", "c€"), ("t€", "iä"), ("t€", "i€")])
    );
}

#[test]
fn a_doubled_check_prefix_cut_by_sqlalchemy_is_reported_without_an_invented_name() {
    // The name SQLAlchemy gave CheckConstraint(..., name="ck_subscription_renewal_attempts__positive")
    // under ck = "ck_%(table_name)s__%(constraint_name)s", from the generated fixture.
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/sqlalchemy_names.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let group = fixture["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "doubled_ck_double_underscore")
        .unwrap();
    let case = group["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["table"] == "subscription_renewal_attempts" && c["doubled"] == true)
        .unwrap();
    let name = case["rendered_name"].as_str().unwrap();
    let db = TestDb::new();
    db.execute(&format!(
        "CREATE TABLE subscription_renewal_attempts (n int CONSTRAINT {name} CHECK (n > 0))"
    ));
    let convention = ["--convention", "ck=ck_%(table_name)s__%(constraint_name)s"];
    let (result, json) = lint(&db, &convention);
    assert_eq!(result.code, 1, "{json}");
    let violation = &json["violations"][0];
    assert_eq!(violation["name"], name);
    assert_eq!(violation["rule"], "naming/doubled-convention");
    assert!(
        violation["expected"].is_null() && violation["fix"].is_null(),
        "{violation}"
    );
    let message = violation["message"].as_str().unwrap();
    assert!(
        message.contains("cannot be recovered") && message.contains("conv() or without the prefix"),
        "{message}"
    );
    let dir = tempfile::tempdir().unwrap();
    let fix = run(dbtool(dir.path())
        .args(["lint-constraints", "--fix-sql", "--url", &db.url])
        .args(convention));
    assert!(
        fix.stdout.contains("-- nothing to rename") && !fix.stdout.contains(name),
        "{}",
        fix.stdout
    );
}
