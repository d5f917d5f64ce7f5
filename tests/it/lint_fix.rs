//! `dbtool lint-constraints --fix-sql` on a real server that is busy: the locks each fix takes,
//! read from `pg_locks`; a script run with psql while a transaction holds a table; and a second
//! run that finishes the job. No durations are measured: the assertions are on outcomes (which
//! renames committed, which error a transaction failed with, that a query finished while the
//! transaction it would otherwise wait for was still open).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::cli::{dbtool, run, run_json};
use crate::pg::{TestDb, program};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e}"));
    tokio::spawn(connection);
    client
}

/// Every row of a query, as text columns.
async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn lint(db: &TestDb, args: &[&str]) -> (crate::cli::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    run_json(
        dbtool(dir.path())
            .args(["lint-constraints", "--format", "json", "--url", &db.url])
            .args(args),
    )
}

/// The `--fix-sql` script, written to `dir/name`.
fn fix_script(
    db: &TestDb,
    dir: &std::path::Path,
    name: &str,
    lock_timeout: &str,
) -> std::path::PathBuf {
    let fix = run(dbtool(dir).args([
        "lint-constraints",
        "--fix-sql",
        "--lock-timeout",
        lock_timeout,
        "--url",
        &db.url,
    ]));
    assert!(
        fix.stdout.contains("BEGIN;"),
        "{}{}",
        fix.stdout,
        fix.stderr
    );
    let path = dir.join(name);
    std::fs::write(&path, &fix.stdout).unwrap();
    path
}

/// `psql -f script`, error codes in its messages (VERBOSITY=verbose), `-v ON_ERROR_STOP=1` when
/// `stop_on_error`.
fn psql(db: &TestDb, script: &std::path::Path, stop_on_error: bool) -> Command {
    let mut command = Command::new(program("psql"));
    command
        .args(["-X", "-q", "-v", "VERBOSITY=verbose"])
        .args(if stop_on_error {
            &["-v", "ON_ERROR_STOP=1"][..]
        } else {
            &[][..]
        })
        .arg("-f")
        .arg(script)
        .arg(&db.url)
        .env_remove("PGOPTIONS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn finish(child: Child) -> (i32, String) {
    let output = child.wait_with_output().expect("psql runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// The names of the violations left on `table`.
fn left_on(json: &Value, table: &str) -> Vec<String> {
    let mut names: Vec<String> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["table"] == table)
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn each_fix_takes_the_lock_its_kind_needs_and_no_more() {
    let db = TestDb::new();
    db.execute(
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE a (id int PRIMARY KEY, p_id int REFERENCES p, n int CHECK (n > 0),
                         u int UNIQUE, r int4range, EXCLUDE USING gist (r WITH &&));
         CREATE INDEX ON a (n);",
    );
    let (_, json) = lint(
        &db,
        &[
            "--table",
            "a",
            "--convention",
            "ex=ex_%(table_name)s_%(column_0_name)s",
        ],
    );
    let violations = json["violations"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = violations
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["ck", "ex", "fk", "ix", "pk", "uq"],
        "{json}"
    );
    let rt = runtime();
    rt.block_on(async {
        let client = connect(&db.url).await;
        for violation in violations {
            let (kind, fix) = (
                violation["kind"].as_str().unwrap(),
                violation["fix"].as_str().unwrap(),
            );
            let expected = violation["expected"].as_str().unwrap();
            client.batch_execute("BEGIN").await.unwrap();
            client
                .batch_execute(fix)
                .await
                .unwrap_or_else(|e| panic!("{fix}: {e}"));
            // Every lock this transaction holds on the schema's tables and indexes.
            let locks = rows(
                &client,
                "SELECT l.relation::regclass::text, l.mode FROM pg_locks l
                  JOIN pg_class c ON c.oid = l.relation
                 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
                   AND c.relnamespace = 'public'::regnamespace ORDER BY 1, 2",
            )
            .await;
            client.batch_execute("ROLLBACK").await.unwrap();
            let wanted = match kind {
                "pk" | "uq" | "ex" | "ix" => {
                    vec![expected.to_string(), "ShareUpdateExclusiveLock".to_string()]
                }
                _ => vec!["a".to_string(), "AccessExclusiveLock".to_string()],
            };
            assert_eq!(locks, [wanted], "{kind}: {fix}");
            if kind != "ix" {
                // The constraint was renamed with its index.
                client.batch_execute("BEGIN").await.unwrap();
                client.batch_execute(fix).await.unwrap();
                let names = rows(
                    &client,
                    &format!("SELECT conname FROM pg_constraint WHERE conname = '{expected}'"),
                )
                .await;
                client.batch_execute("ROLLBACK").await.unwrap();
                assert_eq!(names.len(), 1, "{kind}: {fix}");
            }
        }
    });
}

#[test]
fn a_busy_table_gives_up_within_the_lock_timeout_and_a_second_run_finishes() {
    let db = TestDb::new();
    db.execute(
        // held: read by an open transaction, with a check (ACCESS EXCLUSIVE to rename) and an
        //   index holding the name another table's index wants.
        // held_indexes: read by it too, but only index-backed names: renamed all the same.
        // free: nobody reads it.
        // waits_for_held: its index wants the name held's index has until held's renames commit.
        "CREATE TABLE held (id int PRIMARY KEY, n int CHECK (n > 0), w int);
         CREATE INDEX ix_waits_for_held_w ON held (w);
         CREATE TABLE held_indexes (id int PRIMARY KEY, u int UNIQUE);
         CREATE INDEX ON held_indexes (u, id);
         CREATE TABLE free (id int PRIMARY KEY, held_id int REFERENCES held, n int CHECK (n > 0));
         CREATE TABLE waits_for_held (w int);
         CREATE INDEX ON waits_for_held (w);",
    );
    let (_, before) = lint(&db, &[]);
    assert_eq!(left_on(&before, "held").len(), 3, "{before}");
    assert_eq!(left_on(&before, "held_indexes").len(), 3, "{before}");
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let reader = rt.block_on(async {
        let reader = connect(&db.url).await;
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM held; SELECT count(*) FROM held_indexes;")
            .await
            .unwrap();
        reader
    });
    let watcher = rt.block_on(connect(&db.url));

    // Runs the script while the reader holds its tables, until the rename on held has been seen
    // waiting for its lock and a new reader has been sent in behind it (a longer lock timeout if
    // the machine was too slow to see it).
    let mut first_run = None;
    let mut observed = false;
    for lock_timeout in ["1", "4", "16"] {
        let name = if first_run.is_none() {
            "first.sql".to_string()
        } else {
            format!("retry-{lock_timeout}.sql")
        };
        let script = fix_script(&db, dir.path(), &name, lock_timeout);
        let mut child = psql(&db, &script, false).spawn().expect("psql starts");
        let mut waiting: Vec<Vec<String>> = Vec::new();
        while child.try_wait().unwrap().is_none() && waiting.is_empty() {
            waiting = rt.block_on(rows(
                &watcher,
                "SELECT mode FROM pg_locks WHERE relation = 'held'::regclass AND NOT granted",
            ));
            std::thread::sleep(Duration::from_millis(2));
        }
        if waiting.is_empty() {
            first_run.get_or_insert(finish(child));
            continue;
        }
        // Lock modes from pg_locks: the rename waits for ACCESS EXCLUSIVE on held.
        assert_eq!(waiting, [["AccessExclusiveLock"]]);
        // A new reader queues behind the waiting rename, and gets through once the rename gives
        // up, while the first reader is still open: it never waits for the open transaction.
        let new_reader = rt.block_on(async {
            let client = connect(&db.url).await;
            tokio::time::timeout(
                Duration::from_secs(120),
                rows(&client, "SELECT count(*) FROM held"),
            )
            .await
        });
        assert!(
            new_reader.is_ok(),
            "a new reader of held waited for as long as the open transaction"
        );
        let (code, output) = finish(child);
        first_run.get_or_insert((code, output.clone()));
        assert_eq!(
            code, 0,
            "without ON_ERROR_STOP psql runs every transaction: {output}"
        );
        assert!(
            output.contains("ERROR:  55P03: canceling statement due to lock timeout"),
            "held's transaction gave up on its lock: {output}"
        );
        observed = true;
        break;
    }
    assert!(
        observed,
        "the rename on held was never seen waiting for its lock"
    );
    let (_, first_output) = first_run.expect("the script ran");
    assert!(
        rt.block_on(rows(&reader, "SELECT 1")) == [["1"]],
        "the reader's transaction is still open"
    );
    let (_, after) = lint(&db, &[]);
    assert_eq!(left_on(&after, "free"), Vec::<String>::new(), "{after}");
    assert_eq!(
        left_on(&after, "held_indexes"),
        Vec::<String>::new(),
        "index renames do not wait for readers: {after}"
    );
    assert_eq!(
        left_on(&after, "held"),
        left_on(&before, "held"),
        "held's transaction rolled back as a whole: {after}"
    );
    assert_eq!(left_on(&after, "waits_for_held"), ["waits_for_held_w_idx"]);
    assert!(
        first_output.contains("42P07"),
        "waits_for_held's name was still taken by held's index: {first_output}"
    );

    // The reader ends; the same kind of script, run again and stopping at any error, finishes.
    rt.block_on(reader.batch_execute("COMMIT")).unwrap();
    let script = fix_script(&db, dir.path(), "second.sql", "1");
    for run in ["second", "third"] {
        let (code, output) = finish(psql(&db, &script, true).spawn().unwrap());
        assert_eq!(code, 0, "{run} run: {output}");
        assert!(!output.contains("ERROR"), "{run} run: {output}");
        let (result, json) = lint(&db, &[]);
        assert_eq!(result.code, 0, "{run} run leaves a clean lint: {json}");
    }
    // The very first script, run again now, skips what is done and does nothing else.
    let first_script = dir.path().join("first.sql");
    let (code, output) = finish(psql(&db, &first_script, true).spawn().unwrap());
    assert_eq!((code, output.contains("ERROR")), (0, false), "{output}");
}
