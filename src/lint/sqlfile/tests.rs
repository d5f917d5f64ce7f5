//! Replays of small migration sets: the names PostgreSQL will choose, locations, errors, and
//! the statements that move names around. Against a real PostgreSQL: the naming rule in
//! `tests/it/naming_postgres_fixture.rs`, a replayed `pg_dump` in `tests/it/lint_files.rs`.
//! Random fragments and statement sequences (proptest) must replay without a panic.

use std::fs;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::*;
use crate::lint::model::{Location, Object, Table};
use crate::lint::naming::Kind;

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile {
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

fn run(text: &str) -> Replay {
    replay(&[file("m.sql", text)], None)
}

/// Replays and insists on no errors.
fn clean(text: &str) -> Schema {
    let replay = run(text);
    assert_eq!(replay.errors, [], "unexpected errors");
    replay.schema
}

fn table<'a>(schema: &'a Schema, qualified: &str) -> &'a Table {
    let (s, t) = qualified.split_once('.').unwrap_or(("public", qualified));
    schema
        .tables
        .iter()
        .find(|x| x.schema == s && x.name == t)
        .unwrap_or_else(|| panic!("no table {qualified} in {:#?}", schema.tables))
}

/// (kind, name, columns, unnamed, inherited) of a table's objects, in order.
fn objects(schema: &Schema, qualified: &str) -> Vec<(Kind, String, Vec<String>, bool, bool)> {
    table(schema, qualified)
        .objects
        .iter()
        .map(|o| {
            (
                o.kind,
                o.name.clone(),
                o.sqlalchemy_columns()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                o.unnamed,
                o.inherited,
            )
        })
        .collect()
}

fn names(schema: &Schema, qualified: &str) -> Vec<String> {
    table(schema, qualified)
        .objects
        .iter()
        .map(|o| o.name.clone())
        .collect()
}

fn object<'a>(schema: &'a Schema, qualified: &str, name: &str) -> &'a Object {
    table(schema, qualified)
        .objects
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no {name} on {qualified}: {:?}", names(schema, qualified)))
}

fn at(file: &str, line: usize, column: usize) -> Option<Box<Location>> {
    Some(Box::new(Location {
        file: file.to_owned(),
        line,
        column,
        alembic_operation: false,
    }))
}

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|i| (*i).to_owned()).collect()
}

#[test]
fn migration_directory_gets_postgres_future_names_and_locations() {
    let dir = tempfile::tempdir().unwrap();
    let versions = dir.path().join("versions");
    fs::create_dir(&versions).unwrap();
    fs::write(
        versions.join("001_users.sql"),
        "-- users\nCREATE TABLE users (\n    id serial PRIMARY KEY,\n    email text UNIQUE,\n    age int CHECK (age > 0)\n);\n",
    )
    .unwrap();
    fs::write(
        versions.join("002_orders.sql"),
        "CREATE TABLE orders (\n  id bigserial,\n  user_id int REFERENCES users,\n  note text,\n  CONSTRAINT orders_pk PRIMARY KEY (id),\n  UNIQUE (user_id, id)\n);\nCREATE INDEX ON orders (lower(note));\n  CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_uid ON orders (user_id) INCLUDE (note) WHERE id > 0;\n",
    )
    .unwrap();
    let files = read_inputs(&[&versions]).unwrap();
    let one = files[0].name.clone();
    let two = files[1].name.clone();
    let replay = replay(&files, None);
    assert_eq!(replay.errors, []);
    let schema = &replay.schema;
    assert_eq!(schema.default_schema, "public");
    assert_eq!(
        objects(schema, "users"),
        [
            (Kind::Ck, "users_age_check".into(), s(&["age"]), true, false),
            (Kind::Pk, "users_pkey".into(), s(&["id"]), true, false),
            (
                Kind::Uq,
                "users_email_key".into(),
                s(&["email"]),
                true,
                false
            ),
        ]
    );
    assert_eq!(
        object(schema, "users", "users_pkey").location,
        at(&one, 3, 15)
    );
    assert_eq!(
        object(schema, "users", "users_email_key").location,
        at(&one, 4, 16)
    );
    assert_eq!(
        object(schema, "users", "users_age_check").location,
        at(&one, 5, 13)
    );
    assert_eq!(table(schema, "users").columns, s(&["id", "email", "age"]));

    let fk = object(schema, "orders", "orders_user_id_fkey");
    assert!(fk.unnamed);
    assert_eq!(fk.location, at(&two, 3, 15));
    let referred = fk.referred.as_ref().unwrap();
    assert_eq!(
        (
            referred.schema.as_str(),
            referred.table.as_str(),
            referred.columns.clone()
        ),
        ("public", "users", s(&["id"]))
    );
    let pk = object(schema, "orders", "orders_pk");
    assert!(!pk.unnamed);
    assert_eq!(pk.location, at(&two, 5, 3));
    assert_eq!(
        object(schema, "orders", "orders_user_id_id_key").location,
        at(&two, 6, 3)
    );
    let lower = object(schema, "orders", "orders_lower_idx");
    assert_eq!(
        (lower.kind, lower.unique, lower.unnamed),
        (Kind::Ix, false, true)
    );
    assert_eq!(lower.columns, [None]);
    assert_eq!(lower.expression_columns, [Some("note".to_owned())]);
    assert_eq!(lower.location, at(&two, 8, 1));
    let uid = object(schema, "orders", "orders_uid");
    assert_eq!((uid.unique, uid.unnamed), (true, false));
    assert_eq!(uid.columns, [Some("user_id".to_owned())]);
    assert_eq!(uid.location, at(&two, 9, 3));
}

#[test]
fn a_broken_statement_is_reported_and_the_rest_replayed() {
    let sql = "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (\n  id int PRIMARY KEYY\n);\nCREATE TABLE c (id int UNIQUE);\nALTER TABLE missing ADD UNIQUE (x);\n";
    let replay = replay(
        &[
            file("broken.sql", sql),
            file("next.sql", "CREATE TABLE d (id int UNIQUE);"),
        ],
        None,
    );
    assert_eq!(
        replay.errors,
        [
            FileError {
                file: "broken.sql".into(),
                line: 3,
                column: 18,
                message: "syntax error at or near \"KEYY\"".into(),
            },
            FileError {
                file: "broken.sql".into(),
                line: 6,
                column: 13,
                message: "relation \"missing\" does not exist".into(),
            },
        ]
    );
    let tables: Vec<_> = replay
        .schema
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(tables, ["a", "c", "d"]);
    assert_eq!(
        replay.errors[0].to_string(),
        "broken.sql:3:18: syntax error at or near \"KEYY\""
    );
}

#[test]
fn pg_dump_meta_commands_and_copy_data_are_skipped() {
    let sql = "\\restrict Zx9\n--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.t (\n    id integer NOT NULL,\n    body text\n);\nCOPY public.t (id, body) FROM stdin;\n1\tit's; not SQL\n2\t\\N\n\\.\nALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\\unrestrict Zx9\n";
    let schema = clean(sql);
    assert_eq!(names(&schema, "t"), ["t_pkey"]);
    assert_eq!(object(&schema, "t", "t_pkey").location, at("m.sql", 16, 9));
}

#[test]
fn add_constraint_using_index_renames_the_index() {
    let schema = clean(
        "CREATE TABLE t (a int, b int);\nCREATE UNIQUE INDEX t_a_tmp ON t (a);\nALTER TABLE t ADD CONSTRAINT t_a_uq UNIQUE USING INDEX t_a_tmp;\nCREATE UNIQUE INDEX ON t (b);\nALTER TABLE t ADD PRIMARY KEY USING INDEX t_b_idx;\n-- the old index name is free again\nCREATE INDEX t_a_tmp ON t (b);",
    );
    assert_eq!(
        objects(&schema, "t"),
        [
            (Kind::Uq, "t_a_uq".into(), s(&["a"]), false, false),
            (Kind::Pk, "t_b_idx".into(), s(&["b"]), true, false),
            (Kind::Ix, "t_a_tmp".into(), s(&["b"]), false, false),
        ]
    );
    assert_eq!(object(&schema, "t", "t_a_uq").location, at("m.sql", 3, 19));
}

#[test]
fn the_fix_script_pasted_into_a_migration_renames_and_a_second_copy_changes_nothing() {
    use crate::lint::config::{LabelSchema, LintOptions};
    use crate::lint::naming::NamingConvention;
    let migration = "CREATE TABLE t (id int PRIMARY KEY, n int CHECK (n > 0), u int UNIQUE);\n\
                     CREATE INDEX ON t (n);";
    let options = LintOptions {
        convention: NamingConvention::app_default(),
        label_schema: LabelSchema::OutsideSearchPath,
        ignore: Vec::new(),
        config_file: None,
    };
    let violations = |schema: &Schema| {
        crate::lint::rules::check_schema(schema, &options, false)
            .unwrap()
            .violations
    };
    let before = violations(&clean(migration));
    assert_eq!(before.len(), 4);
    let script = crate::lint::fix::script(&before, std::time::Duration::from_secs(2));
    for copies in [1, 2] {
        let text = format!("{migration}\n{}", script.repeat(copies));
        let schema = clean(&text);
        assert_eq!(violations(&schema), [], "{copies} copies:\n{text}");
        assert_eq!(
            objects(&schema, "t")
                .into_iter()
                .map(|o| o.1)
                .collect::<Vec<_>>(),
            ["ck_t_t_n_check", "pk_t", "uq_t_u", "ix_t_n"]
        );
    }
    // Other DO blocks are still not replayed.
    clean("DO $$ BEGIN ALTER TABLE nope RENAME TO nope2; END $$;");
}

#[test]
fn renames_follow_postgres() {
    let schema = clean(
        "CREATE TABLE t (a int UNIQUE, b int CHECK (b > 0));\n\
         ALTER TABLE t RENAME COLUMN a TO aa;\n\
         ALTER TABLE t RENAME TO t2;\n\
         ALTER TABLE t2 RENAME CONSTRAINT t_a_key TO t2_aa_key;\n\
         ALTER INDEX t2_aa_key RENAME TO t2_aa_uq;\n\
         ALTER TABLE t2 ADD UNIQUE (aa);\n\
         ALTER TABLE IF EXISTS nope RENAME TO nope2;\n\
         CREATE INDEX ON t2 (b);\n\
         ALTER TABLE t2 RENAME b TO bb;",
    );
    assert_eq!(
        objects(&schema, "t2"),
        [
            (Kind::Ck, "t_b_check".into(), s(&["bb"]), true, false),
            (Kind::Uq, "t2_aa_uq".into(), s(&["aa"]), false, false),
            (Kind::Uq, "t2_aa_key".into(), s(&["aa"]), true, false),
            (Kind::Ix, "t2_b_idx".into(), s(&["bb"]), true, false),
        ]
    );
    assert_eq!(table(&schema, "t2").columns, s(&["aa", "bb"]));
}

#[test]
fn foreign_keys_follow_renamed_tables_and_columns() {
    let schema = clean(
        "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (p_id int REFERENCES p);\nALTER TABLE p RENAME COLUMN id TO pid;\nALTER TABLE p RENAME TO parent;\nCREATE SCHEMA other;\nALTER TABLE parent SET SCHEMA other;",
    );
    let fk = object(&schema, "c", "c_p_id_fkey");
    let referred = fk.referred.as_ref().unwrap();
    assert_eq!(
        (
            referred.schema.as_str(),
            referred.table.as_str(),
            referred.columns.clone()
        ),
        ("other", "parent", s(&["pid"]))
    );
    assert_eq!(names(&schema, "other.parent"), ["p_pkey"]);
}

#[test]
fn partitions_inherit_constraints_and_indexes() {
    let schema = clean(
        "CREATE TABLE m (id int, d date, code text, amount int CHECK (amount > 0),\n  PRIMARY KEY (id, d), UNIQUE (code, d)) PARTITION BY RANGE (d);\n\
         CREATE INDEX ON m (code);\n\
         CREATE TABLE m_2024 PARTITION OF m (UNIQUE (code, d)) FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n\
         -- pg_dump style: the partition on its own, then attached\n\
         CREATE TABLE m_2025 (id int NOT NULL, d date NOT NULL, code text, amount int, CONSTRAINT m_amount_check CHECK (amount > 0));\n\
         CREATE INDEX m_2025_code_ix ON m_2025 (code);\n\
         ALTER TABLE ONLY m ATTACH PARTITION m_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    );
    assert_eq!(
        objects(&schema, "m_2024"),
        [
            (
                Kind::Ck,
                "m_amount_check".into(),
                s(&["amount"]),
                true,
                true
            ),
            (Kind::Pk, "m_2024_pkey".into(), s(&["id", "d"]), true, true),
            (
                Kind::Uq,
                "m_2024_code_d_key".into(),
                s(&["code", "d"]),
                true,
                true
            ),
            (Kind::Ix, "m_2024_code_idx".into(), s(&["code"]), true, true),
            (
                Kind::Uq,
                "m_2024_code_d_key1".into(),
                s(&["code", "d"]),
                true,
                false
            ),
        ]
    );
    assert!(table(&schema, "m_2024").is_child);
    assert_eq!(
        table(&schema, "m_2024").columns,
        s(&["id", "d", "code", "amount"])
    );
    assert_eq!(
        objects(&schema, "m_2025"),
        [
            (
                Kind::Ck,
                "m_amount_check".into(),
                s(&["amount"]),
                false,
                true
            ),
            (Kind::Ix, "m_2025_code_ix".into(), s(&["code"]), false, true),
            (Kind::Pk, "m_2025_pkey".into(), s(&["id", "d"]), true, true),
            (
                Kind::Uq,
                "m_2025_code_d_key".into(),
                s(&["code", "d"]),
                true,
                true
            ),
        ]
    );
}

#[test]
fn pg_dump_partitioned_indexes_are_attached() {
    let schema = clean(
        "CREATE TABLE public.m (id integer NOT NULL, d date NOT NULL) PARTITION BY RANGE (d);\n\
         CREATE TABLE public.m_1 (id integer NOT NULL, d date NOT NULL);\n\
         ALTER TABLE ONLY public.m ATTACH PARTITION public.m_1 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n\
         ALTER TABLE ONLY public.m ADD CONSTRAINT m_pkey PRIMARY KEY (id, d);\n\
         ALTER TABLE ONLY public.m_1 ADD CONSTRAINT m_1_pkey PRIMARY KEY (id, d);\n\
         CREATE INDEX m_d_idx ON ONLY public.m USING btree (d);\n\
         CREATE INDEX m_1_d_idx ON public.m_1 USING btree (d);\n\
         ALTER INDEX public.m_pkey ATTACH PARTITION public.m_1_pkey;\n\
         ALTER INDEX public.m_d_idx ATTACH PARTITION public.m_1_d_idx;",
    );
    assert_eq!(
        objects(&schema, "m_1"),
        [
            (Kind::Pk, "m_1_pkey".into(), s(&["id", "d"]), false, true),
            (Kind::Ix, "m_1_d_idx".into(), s(&["d"]), false, true),
        ]
    );
}

#[test]
fn foreign_keys_to_partitioned_tables_take_hidden_names() {
    let schema = clean(
        "CREATE TABLE cust (id int PRIMARY KEY) PARTITION BY LIST (id);\n\
         CREATE TABLE cust1 PARTITION OF cust FOR VALUES IN (1);\n\
         CREATE TABLE cust2 PARTITION OF cust FOR VALUES IN (2);\n\
         CREATE TABLE ord (id int, cust_id int REFERENCES cust);\n\
         ALTER TABLE ord ADD FOREIGN KEY (cust_id) REFERENCES cust;\n\
         CREATE TABLE cust3 PARTITION OF cust FOR VALUES IN (3);\n\
         ALTER TABLE ord ADD FOREIGN KEY (cust_id) REFERENCES cust;",
    );
    // PostgreSQL 15: fkey1, fkey2 (cust1, cust2), fkey3 + 4, 5; cust3: 6, 7; then 8
    assert_eq!(
        names(&schema, "ord"),
        ["ord_cust_id_fkey", "ord_cust_id_fkey3", "ord_cust_id_fkey8"]
    );
}

#[test]
fn alter_table_passes_decide_the_order() {
    let schema = clean(
        "CREATE TABLE t (a int);\n\
         ALTER TABLE t ADD COLUMN c int CHECK (c > 0), ADD CHECK (c < 100), ADD CONSTRAINT t_c_check2 CHECK (c <> 5);\n\
         ALTER TABLE t DROP CONSTRAINT t_c_check1, ADD CHECK (c <> 7);\n\
         CREATE TABLE t3 (id int PRIMARY KEY, UNIQUE (id), CONSTRAINT foo UNIQUE (id));\n\
         CREATE TABLE t4 (id int UNIQUE, CONSTRAINT t4_pk PRIMARY KEY (id));",
    );
    assert_eq!(
        names(&schema, "t"),
        ["t_c_check", "t_c_check2", "t_c_check1"]
    );
    assert_eq!(
        objects(&schema, "t3"),
        [(Kind::Pk, "foo".into(), s(&["id"]), false, false)]
    );
    assert_eq!(
        objects(&schema, "t4"),
        [(Kind::Pk, "t4_pk".into(), s(&["id"]), false, false)]
    );
}

#[test]
fn search_path_decides_the_schema() {
    let schema = clean(
        "CREATE SCHEMA app;\n\
         SET search_path TO app, public;\n\
         CREATE TABLE users (id int PRIMARY KEY);\n\
         CREATE TABLE public.users (id int PRIMARY KEY);\n\
         ALTER TABLE users ADD UNIQUE (id);\n\
         SET search_path = \"$user\", public;\n\
         ALTER TABLE users ADD CHECK (id > 0);\n\
         RESET search_path;\n\
         CREATE SCHEMA billing CREATE TABLE invoices (id int UNIQUE);\n\
         SELECT pg_catalog.set_config('search_path', 'billing', false);\n\
         CREATE INDEX ON invoices (id);",
    );
    assert_eq!(names(&schema, "app.users"), ["users_pkey", "users_id_key"]);
    assert_eq!(
        names(&schema, "public.users"),
        ["users_pkey", "users_id_check"]
    );
    assert_eq!(
        names(&schema, "billing.invoices"),
        ["invoices_id_key", "invoices_id_idx"]
    );
    let replay =
        run("SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE t (a int);");
    assert_eq!(replay.errors.len(), 1);
    assert!(
        replay.errors[0]
            .message
            .contains("no schema has been selected")
    );
}

#[test]
fn quoted_mixed_case_and_non_ascii_names() {
    let long = "д".repeat(40); // 80 bytes: PostgreSQL keeps 31 characters
    let sql = format!(
        "CREATE TABLE \"Users\" (\"Email\" text UNIQUE, \"ID\" int PRIMARY KEY);\nCREATE TABLE Mixed (Id int UNIQUE);\nCREATE TABLE \"{long}\" (\"{long}\" int UNIQUE,\n  ключ int CHECK (ключ > 0));"
    );
    let schema = clean(&sql);
    assert_eq!(names(&schema, "Users"), ["Users_pkey", "Users_Email_key"]);
    assert_eq!(names(&schema, "mixed"), ["mixed_id_key"]);
    let stored = "д".repeat(31);
    let t = table(&schema, &format!("public.{stored}"));
    assert_eq!(t.columns[0], stored);
    let names: Vec<_> = t.objects.iter().map(|o| o.name.clone()).collect();
    // makeObjectName shortens the longer part: 56 bytes left for 62 + 8
    assert_eq!(names[0], format!("{}_ключ_check", "д".repeat(24)));
    assert_eq!(
        names[1],
        format!("{}_{}_key", "д".repeat(14), "д".repeat(14))
    );
    assert!(names.iter().all(|n| n.len() <= 63));
    // columns count characters
    assert_eq!(t.objects[0].location, at("m.sql", 4, 12));
}

#[test]
fn names_already_taken_get_numbers() {
    let schema = clean(
        "CREATE TABLE t (a int, b int);\n\
         CREATE TABLE t_a_key (x int);\n\
         ALTER TABLE t ADD UNIQUE (a);\n\
         ALTER TABLE t ADD UNIQUE (a);\n\
         CREATE INDEX ON t (a, a);\n\
         CREATE INDEX ON t (a, a);\n\
         CREATE TABLE u (a int CONSTRAINT t_a_a1_idx2 CHECK (a > 0));\n\
         CREATE INDEX ON t (a, a);",
    );
    assert_eq!(
        names(&schema, "t"),
        [
            "t_a_key1",
            "t_a_key2",
            "t_a_a1_idx",
            "t_a_a1_idx1",
            "t_a_a1_idx2"
        ]
    );
}

#[test]
fn base_schema_names_are_taken() {
    let base = clean("CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE);");
    let replay = replay(
        &[file(
            "m.sql",
            "ALTER TABLE users ADD UNIQUE (email);\nCREATE TABLE users_pkey1 (a int);\nCREATE TABLE users_pkey (a int);",
        )],
        Some(base),
    );
    assert_eq!(replay.errors.len(), 1);
    assert_eq!(replay.errors[0].line, 3);
    assert_eq!(
        names(&replay.schema, "users"),
        ["users_pkey", "users_email_key", "users_email_key1"]
    );
}

#[test]
fn like_copies_checks_with_names_and_indexes_with_new_ones() {
    let schema = clean(
        "CREATE TABLE s (id int PRIMARY KEY, email text UNIQUE, n int CHECK (n > 0));\n\
         CREATE INDEX ON s (lower(email), n, n) INCLUDE (id);\n\
         ALTER TABLE s RENAME COLUMN n TO m;\n\
         CREATE TABLE s2 (LIKE s INCLUDING ALL, extra int UNIQUE);",
    );
    assert_eq!(
        names(&schema, "s2"),
        [
            "s2_extra_key",
            "s_n_check",
            "s2_pkey",
            "s2_email_key",
            "s2_lower_n_n1_id_idx"
        ]
    );
}

#[test]
fn drops_free_names() {
    let schema = clean(
        "CREATE TABLE a (x int UNIQUE);\nDROP TABLE a;\nCREATE TABLE b (x int UNIQUE, y int);\n\
         ALTER TABLE b DROP COLUMN x;\nCREATE INDEX ON b (y);\nDROP INDEX b_y_idx;\nCREATE INDEX ON b (y);\n\
         CREATE TABLE a (x int UNIQUE);\nDROP INDEX IF EXISTS nope;",
    );
    assert_eq!(names(&schema, "b"), ["b_y_idx"]);
    assert_eq!(names(&schema, "a"), ["a_x_key"]);
    let replay = run("CREATE TABLE a (x int UNIQUE);\nDROP INDEX a_x_key;");
    assert!(replay.errors[0].message.contains("requires it"));
}

#[test]
fn inheritance_copies_checks() {
    let schema = clean(
        "CREATE TABLE p (a int CHECK (a > 0), b int);\nCREATE TABLE c (x int) INHERITS (p);\nALTER TABLE p ADD CHECK (b > 0);\nALTER TABLE p RENAME CONSTRAINT p_a_check TO p_a_positive;",
    );
    assert_eq!(
        objects(&schema, "c"),
        [
            (Kind::Ck, "p_a_positive".into(), s(&["a"]), false, true),
            (Kind::Ck, "p_b_check".into(), s(&["b"]), true, true),
        ]
    );
    assert_eq!(table(&schema, "c").columns, s(&["a", "b", "x"]));
    assert!(table(&schema, "c").is_child);
}

/// The tables the random replays start from.
const PRELUDE: &str = "CREATE TABLE t (a int PRIMARY KEY, b int) PARTITION BY LIST (a);\nCREATE TABLE t1 PARTITION OF t FOR VALUES IN (1);\nCREATE INDEX ON t (b);\n";

/// Tokens and pieces of statements, put together at random.
const FRAGMENTS: &[&str] = &[
    "CREATE",
    "TABLE",
    "INDEX",
    "ON",
    "ONLY",
    "t",
    "\"T\"",
    "(",
    ")",
    ",",
    ";",
    "a",
    "int",
    "PRIMARY KEY",
    "UNIQUE",
    "CHECK",
    "REFERENCES",
    "CONSTRAINT",
    "ALTER",
    "ADD",
    "DROP",
    "RENAME",
    "TO",
    "COLUMN",
    "USING INDEX",
    "PARTITION OF",
    "FOR VALUES IN (1)",
    "PARTITION BY LIST (a)",
    "ATTACH PARTITION",
    "LIKE",
    "INCLUDING ALL",
    "INHERITS",
    "SET",
    "search_path",
    "=",
    "'",
    "$$",
    "\\",
    "\n",
    "--",
    "/*",
    "*/",
    "COPY t FROM stdin;\n",
    "\\.",
    "lower(a)",
    "E'\\'",
    "BEGIN",
    "END",
    "ц",
    "\u{0}",
    "SCHEMA",
    "IF NOT EXISTS",
    "CASCADE",
    "EXCLUDE USING gist (a WITH =)",
    "NULL",
    // 70 bytes: longer than a name
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// Whole statements over a few tables and columns: `{t}`, `{u}` a table, `{c}`, `{d}` a
/// column, `{n}` a small number.
const TEMPLATES: &[&str] = &[
    "CREATE TABLE {t} ({c} int PRIMARY KEY, {d} int UNIQUE CHECK ({d} > 0));",
    "CREATE TABLE {t} ({c} int, {d} int) PARTITION BY LIST ({c});",
    "CREATE TABLE {t} PARTITION OF {u} FOR VALUES IN ({n});",
    "CREATE TABLE {t} (LIKE {u} INCLUDING ALL);",
    "CREATE TABLE {t} ({c} int) INHERITS ({u});",
    "ALTER TABLE {t} ADD UNIQUE ({c});",
    "ALTER TABLE ONLY {t} ADD PRIMARY KEY ({c}, {d});",
    "ALTER TABLE {t} ADD CHECK ({c} > {n});",
    "ALTER TABLE {t} ADD FOREIGN KEY ({c}) REFERENCES {u};",
    "ALTER TABLE {t} ADD COLUMN {c} int UNIQUE REFERENCES {u} ({d});",
    "ALTER TABLE {t} DROP COLUMN {c} CASCADE;",
    "ALTER TABLE {t} DROP CONSTRAINT {t}_{c}_key;",
    "ALTER TABLE {t} RENAME COLUMN {c} TO {d};",
    "ALTER TABLE {t} RENAME TO {u};",
    "ALTER TABLE {t} RENAME CONSTRAINT {t}_pkey TO {u}_pkey;",
    "ALTER TABLE {t} ATTACH PARTITION {u} FOR VALUES IN ({n});",
    "ALTER TABLE {t} DETACH PARTITION {u};",
    "ALTER TABLE {t} INHERIT {u};",
    "ALTER TABLE {t} NO INHERIT {u};",
    "ALTER TABLE {t} ADD CONSTRAINT {t}_uq UNIQUE USING INDEX {t}_{c}_idx;",
    "CREATE INDEX ON {t} ({c}, lower({d}::text));",
    "CREATE INDEX ON ONLY {t} ({c});",
    "ALTER INDEX {t}_{c}_idx ATTACH PARTITION {u}_{c}_idx;",
    "ALTER INDEX {t}_{c}_idx RENAME TO {u}_{c}_idx;",
    "DROP INDEX {t}_{c}_idx;",
    "DROP TABLE {t} CASCADE;",
    "CREATE SCHEMA s{n}; SET search_path = s{n}, public;",
    "ALTER TABLE {t} SET SCHEMA s{n};",
    "BEGIN;",
    "SAVEPOINT p;",
    "ROLLBACK TO p;",
    "ROLLBACK;",
    "COMMIT;",
];

const TABLES: &[&str] = &["t", "t1", "t2", "u"];
const COLUMNS: &[&str] = &["a", "b", "x"];

/// Up to 29 statements from [`TEMPLATES`], one a line.
fn statements() -> impl Strategy<Value = String> {
    let statement = (
        select(TEMPLATES),
        select(TABLES),
        select(TABLES),
        select(COLUMNS),
        select(COLUMNS),
        0..3usize,
    )
        .prop_map(|(template, t, u, c, d, n)| {
            template
                .replace("{t}", t)
                .replace("{u}", u)
                .replace("{c}", c)
                .replace("{d}", d)
                .replace("{n}", &n.to_string())
        });
    vec(statement, 0..30).prop_map(|statements| {
        statements
            .into_iter()
            .map(|statement| statement + "\n")
            .collect()
    })
}

proptest! {
    // A fixed seed: CI replays the same cases every time, and no regression files.
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x9e37_79b9_7f4a_7c15),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_fragments_never_panic(fragments in vec(select(FRAGMENTS), 0..40)) {
        let mut sql = PRELUDE.to_owned();
        for fragment in fragments {
            sql.push_str(fragment);
            sql.push(' ');
        }
        let _ = run(&sql);
    }
}

proptest! {
    // A fixed seed: CI replays the same cases every time, and no regression files.
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x7f4a_7c15_9e37_79b9),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_statements_never_panic(sql in statements()) {
        let _ = run(&sql);
    }
}

/// Statements that parse but make little sense.
#[test]
fn odd_statements_never_panic() {
    for sql in [
        "ALTER TABLE t ADD CONSTRAINT x PRIMARY KEY USING INDEX t;",
        "ALTER INDEX t ATTACH PARTITION t1;",
        "ALTER TABLE t1 DETACH PARTITION t;",
        "DROP SCHEMA public CASCADE; CREATE TABLE x (a int);",
        "ALTER TABLE t RENAME COLUMN a TO b;",
        "CREATE TABLE t2 PARTITION OF t1 FOR VALUES IN (2);",
        "ALTER SCHEMA public RENAME TO p2; CREATE INDEX ON p2.t (a);",
        "CREATE TABLE q (LIKE t INCLUDING ALL, LIKE t INCLUDING ALL);",
        "ALTER TABLE t1 INHERIT t1; ALTER TABLE t ATTACH PARTITION t FOR VALUES IN (3);",
        "ALTER TABLE t1 ATTACH PARTITION t FOR VALUES IN (4); ALTER TABLE t INHERIT t1;",
        "CREATE TABLE c (a int) INHERITS (t1); ALTER TABLE t1 INHERIT c; ALTER TABLE t ADD CHECK (a > 0);",
        "ALTER INDEX t_b_idx ATTACH PARTITION t_b_idx; DROP INDEX t_b_idx;",
        "BEGIN; SAVEPOINT a; ROLLBACK TO b; RELEASE a; ROLLBACK; COMMIT; ROLLBACK TO a;",
    ] {
        let _ = run(&format!("{PRELUDE}{sql}"));
    }
}

#[test]
fn rollback_undoes_the_transaction() {
    let schema = clean(
        "CREATE TABLE t (a int);\nBEGIN;\nALTER TABLE t ADD UNIQUE (a);\nSET search_path = nowhere;\nROLLBACK;\n\
         ALTER TABLE t ADD UNIQUE (a);\nBEGIN;\nCREATE INDEX ON t (a);\nSAVEPOINT s1;\nCREATE INDEX ON t (a);\n\
         ROLLBACK TO SAVEPOINT s1;\nCREATE INDEX ON t (a);\nCOMMIT;\nBEGIN;\nCREATE TABLE open_at_end (a int PRIMARY KEY);",
    );
    assert_eq!(names(&schema, "t"), ["t_a_key", "t_a_idx", "t_a_idx1"]);
    assert_eq!(names(&schema, "open_at_end"), ["open_at_end_pkey"]);
}
