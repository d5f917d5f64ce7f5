//! Behind a real PgBouncer (Debian's `pgbouncer`, started by the harness in front of a throwaway
//! cluster): pool-bench reproduces what the application's driver meets there. In transaction mode
//! asyncpg's named statements, prepared in one transaction, are looked up in the next on whichever
//! server connection PgBouncer hands out, and fail as the application does (SQLSTATE 26000);
//! psycopg2, which sends simple queries only, runs clean.

use serde_json::Value;

use crate::cli::{dbtool, run_json};
use crate::pg::{Cluster, ClusterOptions, Pgbouncer, Server, pgbouncer_program, shared};

/// pool-bench through the pooler with the given driver; 8 clients over 4 pooled connections,
/// which PgBouncer serves with 2 server connections.
fn bench(url: &str, driver: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let url = url.replacen("postgresql://", &format!("postgresql+{driver}://"), 1);
    let (result, report) = run_json(dbtool(dir.path()).args([
        "pool-bench",
        "--format",
        "json",
        "--no-pre-ping",
        "--clients",
        "8",
        "--pool-size",
        "4",
        "--max-overflow",
        "0",
        "--transactions",
        "300",
        // PgBouncer 1.18 refuses a statement_timeout or options startup parameter.
        "--statement-timeout",
        "0",
        &url,
    ]));
    assert_eq!(result.code, 0, "{driver}: {}", result.stderr);
    report
}

#[test]
fn behind_transaction_pooling_asyncpg_fails_as_the_application_does_and_psycopg2_runs_clean() {
    if !matches!(shared(), Server::Local(_)) {
        return;
    }
    if pgbouncer_program().is_none() {
        // `.ci/run` installs it; without it there is no pooler to test against.
        eprintln!("skipped: pgbouncer is not installed");
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let bouncer = Pgbouncer::start(&cluster, "transaction", 2).unwrap_or_else(|e| panic!("{e}"));
    let url = bouncer.url("postgres");

    let asyncpg = bench(&url, "asyncpg");
    let missing = asyncpg["errors"]["26000"].as_u64().unwrap_or(0);
    assert!(
        missing > 0,
        "asyncpg's prepared statements should go missing behind transaction pooling: {asyncpg}\n{}",
        bouncer.log()
    );

    let psycopg2 = bench(&url, "psycopg2");
    assert_eq!(psycopg2["errors"], serde_json::json!({}), "{psycopg2}");
    assert_eq!(psycopg2["transactions"], 300, "{psycopg2}");
}

#[test]
fn behind_session_pooling_asyncpg_runs_clean() {
    if !matches!(shared(), Server::Local(_)) || pgbouncer_program().is_none() {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    // Session pooling gives each client connection a server connection of its own: the pool's
    // four and pool-bench's monitor.
    let bouncer = Pgbouncer::start(&cluster, "session", 6).unwrap_or_else(|e| panic!("{e}"));
    let report = bench(&bouncer.url("postgres"), "asyncpg");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert_eq!(report["transactions"], 300, "{report}");
}
