//! Behind a real PgBouncer (Debian's `pgbouncer`, started by the harness in front of a throwaway
//! cluster, in transaction, session and statement modes): ping finds the pooler, its mode and
//! whether named prepared statements survive, and says what the URL's driver will meet there;
//! pool-bench reproduces it. In transaction mode asyncpg's named statements, prepared in one
//! transaction, are looked up in the next on whichever server connection PgBouncer hands out, and
//! fail as the application does (SQLSTATE 26000); psycopg2, which sends simple queries only, runs
//! clean.

use serde_json::Value;

use crate::cli::{Run, dbtool, run_json};
use crate::pg::{Cluster, ClusterOptions, Pgbouncer};
use crate::require::{Requirement, require};

/// What every test here needs: a PgBouncer of the harness's (`.ci/run` installs it) in front of
/// a cluster of its own.
const POOLER: &[Requirement] = &[Requirement::LocalCluster, Requirement::Pgbouncer];

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
        // The default DB_STATEMENT_TIMEOUT (30 s) is sent as the driver sends it, which
        // PgBouncer 1.18 refuses: the run leaves it out and says so instead of failing.
        &url,
    ]));
    assert_eq!(result.code, 0, "{driver}: {}", result.stderr);
    report
}

#[test]
fn behind_transaction_pooling_asyncpg_fails_as_the_application_does_and_psycopg2_runs_clean() {
    if !require(POOLER) {
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
    // Counted with the server's message, as the application would log it.
    let message = asyncpg["error_messages"]["26000"].as_str().unwrap();
    assert!(
        message.starts_with("prepared statement \"__asyncpg_stmt_")
            && message.ends_with("\" does not exist"),
        "{message}"
    );
    assert_eq!(asyncpg["pooler"]["kind"], "pgbouncer", "{asyncpg}");
    assert_eq!(asyncpg["pooler"]["mode"], "transaction", "{asyncpg}");
    assert_eq!(
        asyncpg["pooler"]["refused_startup_parameters"][0]["name"], "statement_timeout",
        "{asyncpg}"
    );
    // The advice starts with the pooler and names the fix.
    let advice: Vec<&str> = asyncpg["advice"]["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect();
    assert!(
        advice[0].starts_with("a pooler is in front of the server: PgBouncer"),
        "{advice:?}"
    );
    assert!(
        advice
            .iter()
            .any(|line| line.contains("prepared_statement_name_func")),
        "{advice:?}"
    );
    assert!(
        advice
            .iter()
            .any(|line| line.contains("ALTER ROLE postgres SET statement_timeout")),
        "{advice:?}"
    );

    let psycopg2 = bench(&url, "psycopg2");
    assert_eq!(psycopg2["errors"], serde_json::json!({}), "{psycopg2}");
    assert_eq!(psycopg2["transactions"], 300, "{psycopg2}");
    assert_eq!(psycopg2["pooler"]["mode"], "transaction", "{psycopg2}");
}

#[test]
fn behind_session_pooling_asyncpg_runs_clean() {
    if !require(POOLER) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    // Session pooling gives each client connection a server connection of its own: the pool's
    // four and pool-bench's monitor.
    let bouncer = Pgbouncer::start(&cluster, "session", 6).unwrap_or_else(|e| panic!("{e}"));
    let report = bench(&bouncer.url("postgres"), "asyncpg");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert_eq!(report["transactions"], 300, "{report}");
    assert_eq!(report["pooler"]["mode"], "session", "{report}");
}

/// `dbtool ping --format json` with the URL's driver and DB_STATEMENT_TIMEOUT.
fn ping(url: &str, driver: &str, statement_timeout: &str) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let url = url.replacen("postgresql://", &format!("postgresql+{driver}://"), 1);
    run_json(
        dbtool(dir.path())
            .env("DB_STATEMENT_TIMEOUT", statement_timeout)
            .args(["ping", "--no-dotenv", "--format", "json", &url]),
    )
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Repeated runs in each mode, with pools of two and more server connections: never a false
/// negative, never a false positive.
#[test]
fn ping_finds_pgbouncer_and_its_mode_in_repeated_runs() {
    if !require(POOLER) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let direct = format!("postgresql://postgres@127.0.0.1:{}/postgres", cluster.port);
    for _ in 0..5 {
        let (run, report) = ping(&direct, "asyncpg", "30");
        assert_eq!(run.code, 0, "{report}");
        assert_eq!(report["pooler"], Value::Null, "{report}");
    }
    for (mode, pool_size, survive) in [
        ("transaction", 2, false),
        ("transaction", 5, false),
        ("session", 2, true),
        ("statement", 3, false),
    ] {
        let bouncer = Pgbouncer::start(&cluster, mode, pool_size).unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..5 {
            let (_, report) = ping(&bouncer.url("postgres"), "psycopg2", "0");
            let pooler = &report["pooler"];
            assert_eq!(report["status"], "accepting", "{report}");
            assert_eq!(pooler["detected"], true, "{mode}: {report}");
            assert_eq!(pooler["kind"], "pgbouncer", "{report}");
            assert!(
                pooler["version"]
                    .as_str()
                    .unwrap()
                    .starts_with("PgBouncer 1."),
                "the admin console is readable here: {report}"
            );
            assert_eq!(pooler["configured_mode"], mode, "{report}");
            assert_eq!(pooler["mode"], mode, "pool_size {pool_size}: {report}");
            assert_eq!(
                pooler["prepared_statements_survive"], survive,
                "{mode}: {report}"
            );
        }
    }
}

/// Without the admin console the answer comes from behaviour alone; PgBouncer still names itself
/// when it refuses a startup parameter.
#[test]
fn ping_without_the_admin_console_and_the_findings_per_driver() {
    if !require(POOLER) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let bouncer =
        Pgbouncer::start_with(&cluster, "transaction", 2, false).unwrap_or_else(|e| panic!("{e}"));
    let url = bouncer.url("postgres");

    // asyncpg: its statement_timeout startup parameter is refused, and its named statements are
    // lost between transactions. Both are errors: exit 1, while the server stays "accepting".
    let (run, report) = ping(&url, "asyncpg", "30");
    assert_eq!(run.code, 1, "{report}");
    assert_eq!(report["status"], "accepting", "{report}");
    assert_eq!(report["pooler"]["kind"], "pgbouncer", "{report}");
    assert_eq!(report["pooler"]["version"], Value::Null, "{report}");
    assert_eq!(report["pooler"]["mode"], "transaction", "{report}");
    assert_eq!(
        report["pooler"]["refused_startup_parameters"][0]["name"], "statement_timeout",
        "{report}"
    );
    assert_eq!(
        codes(&report),
        [
            "pooler-refuses-startup-parameter",
            "pooler-prepared-statements"
        ]
    );
    let advice = report["findings"][1]["message"].as_str().unwrap();
    assert!(
        advice.contains("prepared_statement_name_func") && advice.contains("statement_cache_size"),
        "{advice}"
    );
    assert!(advice.contains("max_prepared_statements"), "{advice}");
    let timeout = report["findings"][0]["message"].as_str().unwrap();
    assert!(
        timeout.contains("ALTER ROLE postgres SET statement_timeout"),
        "{timeout}"
    );

    // Without a statement timeout there is only the prepared-statement finding.
    let (run, report) = ping(&url, "asyncpg", "0");
    assert_eq!(
        (run.code, codes(&report)),
        (1, vec!["pooler-prepared-statements".to_string()])
    );

    // psycopg: prepare_threshold=None.
    let (run, report) = ping(&url, "psycopg", "0");
    assert_eq!(run.code, 1, "{report}");
    assert_eq!(codes(&report), ["pooler-prepared-statements"]);
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"prepare_threshold\": None")
    );

    // psycopg2 sends simple queries only: fine, unless its options are refused.
    let (run, report) = ping(&url, "psycopg2", "0");
    assert_eq!(
        (run.code, codes(&report)),
        (0, Vec::<String>::new()),
        "{report}"
    );
    let (run, report) = ping(&url, "psycopg2", "30");
    assert_eq!(run.code, 1, "{report}");
    assert_eq!(codes(&report), ["pooler-refuses-startup-parameter"]);
    assert_eq!(
        report["pooler"]["refused_startup_parameters"][0]["name"],
        "options"
    );

    // The table says it in one line.
    let dir = tempfile::tempdir().unwrap();
    let table = crate::cli::run(dbtool(dir.path()).env("DB_STATEMENT_TIMEOUT", "0").args([
        "ping",
        "--no-dotenv",
        &url.replacen("postgresql://", "postgresql+psycopg2://", 1),
    ]));
    assert!(
        table.stdout.lines().any(|line| line
            == "pooler: PgBouncer, transaction pooling; named prepared statements do NOT survive between transactions"),
        "{}",
        table.stdout
    );
}

/// Session pooling is no problem for asyncpg.
#[test]
fn ping_behind_session_pooling_has_no_finding_for_asyncpg() {
    if !require(POOLER) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let bouncer = Pgbouncer::start(&cluster, "session", 3).unwrap_or_else(|e| panic!("{e}"));
    let (run, report) = ping(&bouncer.url("postgres"), "asyncpg", "0");
    assert_eq!(
        (run.code, codes(&report)),
        (0, Vec::<String>::new()),
        "{report}"
    );
    assert_eq!(report["pooler"]["mode"], "session", "{report}");
}
