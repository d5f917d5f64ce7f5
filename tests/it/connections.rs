//! `dbtool connections` against real servers: the plan against a small `max_connections` as an
//! ordinary role, the role's and database's CONNECTION LIMIT, the sessions open now, what a role
//! without pg_read_all_stats cannot see, and bad flags. The oracles: real SQLAlchemy worker
//! processes (`scripts/reference_app.py`) meet SQLSTATE 53300 exactly when the verdict says the
//! plan is over; `--watch`'s peaks match the harness's own sampling; behind a real PgBouncer, the
//! plan against its limits as `SHOW CONFIG`, `SHOW DATABASES` and `SHOW POOLS` give them.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{Run, dbtool, run, run_json};
use crate::pg::{Cluster, ClusterOptions, Pgbouncer, execute, program, query_column};
use crate::pool_bench_app::app_python;
use crate::require::{Requirement, require};

/// A cluster with `max_connections = 30` (the harness keeps 3 for superusers) and `app`, an
/// ordinary role.
fn small_cluster() -> Cluster {
    let cluster = Cluster::start(ClusterOptions {
        max_connections: Some(30),
        ..ClusterOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    execute(&cluster.socket_url("postgres"), "CREATE ROLE app LOGIN")
        .unwrap_or_else(|e| panic!("{e}"));
    cluster
}

fn app_url(cluster: &Cluster) -> String {
    cluster.url("postgres").replacen("postgres@", "app@", 1)
}

fn connections(url: &str, args: &[&str]) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    run_json(
        dbtool(dir.path())
            .args(["connections", "--no-dotenv", "--format", "json", url])
            .args(args),
    )
}

/// The live view's entry for one application_name.
fn application<'a>(live: &'a Value, name: &str) -> &'a Value {
    live["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["application_name"] == name)
        .unwrap_or_else(|| panic!("no {name:?} in {live}"))
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// psql sessions held open with `sql` run first (stdin stays open until dropped).
struct Held(Vec<Child>);

impl Held {
    fn open(url: &str, sessions: &[(&str, &str)], watch: &str) -> Held {
        let children = sessions
            .iter()
            .map(|(name, sql)| {
                let mut child = Command::new(program("psql"))
                    .args(["-X", "-q", url])
                    .env("PGAPPNAME", name)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("psql runs");
                let stdin = child.stdin.as_mut().unwrap();
                writeln!(stdin, "{sql}").unwrap();
                stdin.flush().unwrap();
                child
            })
            .collect();
        let held = Held(children);
        // Until every session is there and has run its statement; the polling sessions carry
        // application_name harness (their backends may outlive them for a moment).
        let poll = format!("{url}?application_name=harness");
        let deadline = Instant::now() + Duration::from_secs(20);
        let count = format!(
            "SELECT count(*)::text FROM pg_stat_activity WHERE backend_type = 'client backend' \
             AND query <> '' AND pid <> pg_backend_pid() AND {watch}"
        );
        while Instant::now() < deadline {
            let found = query_column(&poll, &count).unwrap_or_default();
            if found.first().and_then(|n| n.parse::<usize>().ok()) == Some(sessions.len()) {
                return held;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the held sessions did not all open");
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn the_plan_against_the_limit_of_an_ordinary_role() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = small_cluster();
    let url = app_url(&cluster);

    // The reference document's defaults, 5 + 10 per worker: three workers do not fit in 27.
    let (result, report) = connections(&url, &["--service", "web=1x3:5+10"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let plan = &report["plan"];
    assert_eq!(plan["verdict"], "over", "{plan}");
    assert_eq!(plan["worst_case"], 45, "{plan}");
    assert_eq!(plan["limit"]["value"], 27, "{plan}");
    assert_eq!(plan["limit"]["binding"], "server", "{plan}");
    assert_eq!(plan["largest_per_worker"], 9, "{plan}");
    assert_eq!(plan["services"][0]["pool_from"], "flag");
    assert!(codes(&report).contains(&"connection-budget-exceeded".to_string()));
    assert_eq!(report["server"]["superuser"], false);
    // PostgreSQL 15 and older have no reserved_connections.
    let major = report["server"]["major"].as_u64().unwrap();
    assert_eq!(
        report["server"]["reserved_connections"].is_null(),
        major < 16
    );

    // One worker and a migration job fit; the pool comes from the settings when omitted.
    let dir = tempfile::tempdir().unwrap();
    let (result, report) = run_json(
        dbtool(dir.path())
            .env("DB_POOL_SIZE", "4")
            .env("DB_MAX_OVERFLOW", "6")
            .args(["connections", "--no-dotenv", "--format", "json", &url])
            .args(["--service", "web=2x1", "--extra", "migrations=2"]),
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(report["plan"]["verdict"], "fits", "{}", report["plan"]);
    assert_eq!(report["plan"]["worst_case"], 22);
    assert_eq!(report["plan"]["services"][0]["pool_from"], "settings");
    // A rolling deploy's extra replica does not.
    let (result, report) = connections(&url, &["--service", "web=2x1:4+6", "--surge", "1"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert_eq!(report["plan"]["worst_case"], 30);

    // Sessions of nobody in the plan take slots; the plan's own do not.
    let _held = Held::open(
        &cluster.url("postgres"),
        &[("stray", "SELECT 1;"), ("web", "SELECT 1;")],
        "application_name IN ('stray', 'web')",
    );
    // The harness's polling sessions are an extra of the plan.
    let plan = ["--service", "web=1x1:5+10", "--extra", "harness=1"];
    let (_, report) = connections(&url, &plan);
    assert_eq!(report["plan"]["limit"]["value"], 26, "{}", report["plan"]);

    // The role's CONNECTION LIMIT binds when lower, then the database's.
    execute(
        &cluster.socket_url("postgres"),
        "ALTER ROLE app CONNECTION LIMIT 12",
    )
    .unwrap();
    let (result, report) = connections(&url, &plan);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert_eq!(report["plan"]["limit"]["value"], 12, "{}", report["plan"]);
    assert_eq!(report["plan"]["limit"]["binding"], "role");
    execute(
        &cluster.socket_url("postgres"),
        "ALTER ROLE app CONNECTION LIMIT -1; ALTER DATABASE postgres CONNECTION LIMIT 10",
    )
    .unwrap();
    let (_, report) = connections(&url, &plan);
    // The database's 10, less the stray session in it.
    assert_eq!(report["plan"]["limit"]["value"], 9, "{}", report["plan"]);
    assert_eq!(report["plan"]["limit"]["binding"], "database");
    // A superuser is held to none of these.
    let (result, report) = connections(&cluster.url("postgres"), &plan);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(report["plan"]["limit"]["value"], 29, "{}", report["plan"]);
}

#[test]
fn the_sessions_open_now_by_application_and_what_an_ordinary_role_cannot_see() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = small_cluster();
    let admin = cluster.url("postgres");
    let _held = Held::open(
        &admin,
        &[
            ("web", "BEGIN; SELECT 1;"),
            ("web", "SELECT 1;"),
            ("worker", "SELECT 1;"),
            ("nameless", "SET application_name = ''; SELECT 1;"),
        ],
        "(application_name IN ('web', 'worker') OR (application_name = '' AND usename = 'postgres'))",
    );
    let (result, report) = connections(&admin, &["--service", "web=1x1"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let live = &report["live"];
    assert_eq!(live["unattributed"], 1, "{live}");
    let web = application(live, "web");
    assert_eq!(web["open"], 2, "{live}");
    assert_eq!(web["idle_in_transaction"], 1, "{live}");
    assert_eq!(web["in_use"], 1, "{live}");
    assert_eq!(web["planned"], true);
    assert_eq!(web["users"][0], "postgres");
    assert_eq!(web["client_addrs"][0], "127.0.0.1", "{live}");
    assert!(web["oldest_idle_in_transaction_s"].as_f64().is_some());
    assert_eq!(application(live, "worker")["open"], 1, "{live}");
    assert_eq!(application(live, "")["open"], 1, "{live}");
    assert_eq!(
        live["longest_transaction"]["application_name"], "web",
        "{live}"
    );
    assert_eq!(live["longest_transaction"]["state"], "idle in transaction");
    // --watch sees the same sessions, the one idle in its transaction too.
    let (_, report) = connections(&admin, &["--watch", "0.3"]);
    let watched = report["watch"]["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["application_name"] == "web")
        .unwrap_or_else(|| panic!("{}", report["watch"]));
    assert_eq!(watched["peak_open"], 2, "{watched}");
    assert_eq!(watched["peak_idle_in_transaction"], 1, "{watched}");
    assert_eq!(watched["peak_in_use"], 1, "{watched}");
    // The URL's driver says how to set application_name.
    let codes_now = codes(&report);
    assert!(
        codes_now.contains(&"unattributed-connections".to_string()),
        "{codes_now:?}"
    );
    assert!(
        live["application_name_hint"]
            .as_str()
            .unwrap()
            .contains("?application_name=")
    );
    let asyncpg = admin.replacen("postgresql://", "postgresql+asyncpg://", 1);
    let (_, report) = connections(&asyncpg, &[]);
    assert!(
        report["live"]["application_name_hint"]
            .as_str()
            .unwrap()
            .contains("server_settings"),
        "{}",
        report["live"]
    );
    assert!(!codes(&report).contains(&"activity-hidden".to_string()));
    assert_eq!(report["plan"]["verdict"], "no_plan");

    // An ordinary role sees the others' sessions by name, not their state: said, not guessed.
    let (result, report) = connections(&app_url(&cluster), &[]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let live = &report["live"];
    let web = application(live, "web");
    assert_eq!(
        (web["open"].as_u64(), web["hidden"].as_u64()),
        (Some(2), Some(2)),
        "{live}"
    );
    assert_eq!(web["in_use"], 0, "{live}");
    assert_eq!(application(live, "")["hidden"], 1, "{live}");
    assert_eq!(live["longest_transaction"], Value::Null, "{live}");
    assert!(codes(&report).contains(&"activity-hidden".to_string()));
    let (_, text) = {
        let dir = tempfile::tempdir().unwrap();
        let result =
            run(dbtool(dir.path()).args(["connections", "--no-dotenv", &app_url(&cluster)]));
        (result.code, result.stdout)
    };
    assert!(text.contains("pg_read_all_stats"), "{text}");
    assert!(text.contains("web"), "{text}");
    execute(
        &cluster.socket_url("postgres"),
        "GRANT pg_read_all_stats TO app",
    )
    .unwrap();
    let (_, report) = connections(&app_url(&cluster), &[]);
    assert_eq!(
        application(&report["live"], "web")["hidden"],
        0,
        "{}",
        report["live"]
    );
    assert!(!codes(&report).contains(&"activity-hidden".to_string()));
}

#[test]
fn bad_flags_get_one_line_with_the_expected_form_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    for flags in [
        &["--service", "web=3"][..],
        &["--service", "web=1x0"],
        &["--service", "web=1x2:5"],
        &["--service", "web"],
        &["--extra", "cron"],
        &["--service", "web=1x1", "--extra", "web=1"],
    ] {
        let result = run(dbtool(dir.path())
            .args([
                "connections",
                "--no-dotenv",
                "postgresql://u@127.0.0.1:1/db",
            ])
            .args(flags));
        assert_eq!(result.code, 3, "{flags:?}: {}", result.stderr);
        assert_eq!(result.stderr.trim().lines().count(), 1, "{}", result.stderr);
        assert!(
            result.stderr.contains("expected") || result.stderr.contains("named twice"),
            "{}",
            result.stderr
        );
    }
}

/// Runs the reference application: `workers` processes, each with a pool of `pool` + `overflow`
/// and as many clients, each request holding its connection 200 ms.
fn reference_app(url: &str, workers: u32, pool: u32, overflow: u32, extra: &[&str]) -> Command {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/reference_app.py");
    let mut command = Command::new(app_python());
    command.arg(script).args([
        "--url",
        url,
        "--workers",
        &workers.to_string(),
        "--clients",
        &(workers * (pool + overflow)).to_string(),
        "--pool-size",
        &pool.to_string(),
        "--max-overflow",
        &overflow.to_string(),
        "--sleep-ms",
        "200",
        "--warmup",
        "0",
    ]);
    command.args(extra);
    command
}

/// The oracle of the verdict: real SQLAlchemy + asyncpg worker processes as the ordinary role
/// meet SQLSTATE 53300 exactly when the plan is over. 2 × 15 = 30 is the case that needs the
/// superuser-reserved slots taken off: max_connections alone would say it fits.
#[test]
fn the_verdict_matches_whether_real_workers_meet_53300() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = small_cluster();
    let url = app_url(&cluster);
    let asyncpg = url.replacen("postgresql://", "postgresql+asyncpg://", 1);
    // Polled as application_name web, which the plan owns: a polling session's backend that
    // outlives it for a moment takes no slot from the plan.
    let poll = format!("{}&application_name=web", cluster.socket_url("postgres"));
    let mut verdicts = Vec::new();
    for (workers, pool, overflow) in [(1, 5, 10), (2, 5, 10), (3, 5, 10), (1, 12, 15)] {
        // The last run's sessions are gone.
        let deadline = Instant::now() + Duration::from_secs(20);
        let left = "SELECT count(*)::text FROM pg_stat_activity WHERE usename = 'app'";
        while query_column(&poll, left).unwrap()[0] != "0" {
            assert!(
                Instant::now() < deadline,
                "the workers' sessions did not end"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let service = format!("web=1x{workers}:{pool}+{overflow}");
        let (result, report) = connections(&url, &["--service", &service]);
        let over = report["plan"]["verdict"] == "over";
        assert_eq!(result.code, if over { 1 } else { 0 }, "{}", result.stderr);
        let output = reference_app(&asyncpg, workers, pool, overflow, &["--duration", "1.5"])
            .output()
            .expect("the reference application runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let app: Value = serde_json::from_slice(&output.stdout).unwrap();
        let refused = app["sqlstates"]["53300"].as_u64().unwrap_or(0);
        assert!(app["requests"].as_u64().unwrap() > 0, "{app}");
        assert_eq!(
            over,
            refused > 0,
            "{service}: verdict {} but the workers met 53300 {refused} times: {app}",
            report["plan"]["verdict"]
        );
        eprintln!(
            "{service}: worst case {}, limit {}, verdict {}; the workers made {} requests, 53300 {refused} times",
            report["plan"]["worst_case"],
            report["plan"]["limit"]["value"],
            report["plan"]["verdict"],
            app["requests"]
        );
        verdicts.push((service, over));
    }
    // Not vacuous: both verdicts were met.
    assert!(verdicts.iter().any(|(_, over)| *over) && verdicts.iter().any(|(_, over)| !*over));
}

/// The oracle of `--watch`: while real workers (SQLAlchemy + psycopg, application_name web) run,
/// the harness samples pg_stat_activity on its own; the peaks agree, and match the plan's
/// capacity the pools fill.
#[test]
fn watch_peaks_match_the_harness_sampling_of_real_workers() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = small_cluster();
    let url = app_url(&cluster);
    let psycopg = format!(
        "{}?application_name=web",
        url.replacen("postgresql://", "postgresql+psycopg://", 1)
    );
    let mut app = reference_app(&psycopg, 2, 2, 0, &["--duration", "6"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the reference application runs");
    // Until the pools are full.
    let admin = cluster.url("postgres");
    let open = "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = 'web'";
    let deadline = Instant::now() + Duration::from_secs(30);
    while query_column(&admin, open).unwrap()[0] != "4" {
        assert!(
            Instant::now() < deadline,
            "the workers did not open their pools"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let harness = std::thread::spawn(move || {
        let sample = "SELECT count(*)::text || ' ' || count(*) FILTER (WHERE state <> 'idle')::text \
                      FROM pg_stat_activity WHERE application_name = 'web'";
        let (mut peak_open, mut peak_in_use) = (0, 0);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            let row = query_column(&admin, sample).unwrap().remove(0);
            let (open, in_use) = row.split_once(' ').unwrap();
            peak_open = peak_open.max(open.parse::<u64>().unwrap());
            peak_in_use = peak_in_use.max(in_use.parse::<u64>().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
        (peak_open, peak_in_use)
    });
    let (result, report) = connections(&url, &["--service", "web=1x2:2+0", "--watch", "2"]);
    let (harness_open, harness_in_use) = harness.join().unwrap();
    let _ = app.kill();
    let _ = app.wait();
    assert_eq!(result.code, 0, "{}", result.stderr);
    let watch = &report["watch"];
    assert!(watch["samples"].as_u64().unwrap() >= 10, "{watch}");
    let web = watch["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["application_name"] == "web")
        .unwrap_or_else(|| panic!("no web in {watch}"));
    assert_eq!(web["peak_open"], harness_open, "{web}");
    assert_eq!(web["peak_in_use"], harness_in_use, "{web}");
    assert_eq!(harness_open, 4);
    assert_eq!(web["planned_capacity"], 4, "{web}");
    assert!(web["p50_in_use"].as_u64().unwrap() <= web["p99_in_use"].as_u64().unwrap());
    assert!(web["p99_in_use"].as_u64().unwrap() <= harness_in_use);
}

/// Behind PgBouncer: in session pooling a plan with more clients than the pool's server
/// connections waits (the 8 sessions over default_pool_size 4); in transaction pooling
/// it fits; without the admin console the limits are said to be unknown.
#[test]
fn behind_pgbouncer_the_plan_meets_the_poolers_limits() {
    if !require(&[Requirement::LocalCluster, Requirement::Pgbouncer]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let session = Pgbouncer::start(&cluster, "session", 4).unwrap_or_else(|e| panic!("{e}"));
    let (result, report) = connections(&session.url("postgres"), &["--service", "web=1x2:4+0"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    let pooler = &report["pooler"];
    assert_eq!(pooler["pooler"]["kind"], "pgbouncer", "{pooler}");
    assert_eq!(pooler["limits"]["pool_size"], 4, "{pooler}");
    assert_eq!(pooler["limits"]["max_client_conn"], 200, "{pooler}");
    assert_eq!(pooler["server_connections"], 4, "{pooler}");
    assert_eq!(report["plan"]["verdict"], "over");
    assert!(
        codes(&report).contains(&"pooler-session-wait".to_string()),
        "{report}"
    );
    // SHOW POOLS: the pool dbtool's own session went through.
    assert!(
        pooler["pools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["database"] == "postgres" && p["user"] == "postgres"),
        "{pooler}"
    );

    let transaction =
        Pgbouncer::start(&cluster, "transaction", 4).unwrap_or_else(|e| panic!("{e}"));
    let (result, report) = connections(&transaction.url("postgres"), &["--service", "web=1x2:4+0"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(report["plan"]["verdict"], "fits", "{report}");
    let (result, report) = connections(
        &transaction.url("postgres"),
        &["--service", "web=30x10:5+10"],
    );
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("max_client_conn"),
        "{report}"
    );

    // A pool larger than the server allows: the pooler itself meets 53300.
    let large = Pgbouncer::start(&cluster, "transaction", 120).unwrap_or_else(|e| panic!("{e}"));
    let (result, report) = connections(&large.url("postgres"), &["--service", "web=1x2:4+0"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("PgBouncer may open 120 server connections"),
        "{report}"
    );

    let closed =
        Pgbouncer::start_with(&cluster, "session", 4, false).unwrap_or_else(|e| panic!("{e}"));
    let (result, report) = connections(&closed.url("postgres"), &["--service", "web=1x2:4+0"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(report["plan"]["verdict"], "unknown", "{report}");
    assert!(codes(&report).contains(&"pooler-limits-unknown".to_string()));
    assert!(
        report["pooler"]["unreadable"]
            .as_str()
            .unwrap()
            .contains("stats_users"),
        "{report}"
    );
}

/// The clients waiting for a server connection in PgBouncer's `SHOW POOLS` for database
/// postgres, read by the harness on its own console session every 20 ms while `busy` runs: the
/// median over the samples, so that a client waiting a moment while PgBouncer resets or hands
/// over a server connection (seen under load) does not count, and clients that wait for a
/// session to end do.
fn waiting_median(bouncer: &Pgbouncer, busy: impl FnOnce() -> Value) -> (u64, Value) {
    let url = format!("postgresql://postgres@127.0.0.1:{}/pgbouncer", bouncer.port);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let sampler = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("the admin console answers");
            tokio::spawn(connection);
            let mut samples = Vec::new();
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                for message in client.simple_query("SHOW POOLS").await.unwrap() {
                    if let tokio_postgres::SimpleQueryMessage::Row(row) = message
                        && row.get("database") == Some("postgres")
                    {
                        let waiting: u64 = row.get("cl_waiting").unwrap().parse().unwrap();
                        samples.push(waiting);
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            samples.sort_unstable();
            samples.get(samples.len() / 2).copied().unwrap_or(0)
        })
    });
    let result = busy();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    (sampler.join().unwrap(), result)
}

/// The oracle behind PgBouncer in session pooling (default_pool_size 4): real SQLAlchemy +
/// asyncpg workers wait for server connections, as `SHOW POOLS` counts them, exactly when the
/// plan says they will. In transaction pooling the same plan fits (clients wait only while
/// every server connection runs a transaction, which is load, not the plan) and real psycopg2
/// workers (no prepared statements, which transaction pooling loses) run without an error.
#[test]
fn behind_pgbouncer_the_verdict_matches_show_pools() {
    if !require(&[Requirement::LocalCluster, Requirement::Pgbouncer]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut seen = Vec::new();
    for (mode, pool, overflow) in [("session", 2, 2), ("session", 4, 4), ("transaction", 4, 4)] {
        let bouncer = Pgbouncer::start(&cluster, mode, 4).unwrap_or_else(|e| panic!("{e}"));
        let url = bouncer.url("postgres");
        let service = format!("web=1x1:{pool}+{overflow}");
        let (result, report) = connections(&url, &["--service", &service]);
        let over = report["plan"]["verdict"] == "over";
        assert_eq!(result.code, i32::from(over), "{}", result.stderr);
        let driver = if mode == "session" {
            "asyncpg"
        } else {
            "psycopg2"
        };
        let app_url = url.replacen("postgresql://", &format!("postgresql+{driver}://"), 1);
        // PgBouncer 1.18 refuses statement_timeout as a startup parameter: none is sent.
        let run_app = |duration: &str| {
            let output = reference_app(
                &app_url,
                1,
                pool,
                overflow,
                &["--duration", duration, "--statement-timeout", "0"],
            )
            .output()
            .expect("the reference application runs");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        };
        // A first run opens the pool's server connections, so that clients of the measured run
        // wait only for a server connection in use, not for one being opened (which SHOW POOLS
        // counts as waiting too).
        run_app("0.5");
        let (waiting, app) = waiting_median(&bouncer, || {
            serde_json::from_slice::<serde_json::Value>(&run_app("1.5")).unwrap()
        });
        assert_eq!(app["errors"], serde_json::json!({}), "{app}");
        eprintln!(
            "{mode} pooling, {service}: verdict {}; SHOW POOLS: {waiting} client(s) waiting (median)",
            report["plan"]["verdict"]
        );
        if mode == "session" {
            assert_eq!(
                over,
                waiting > 0,
                "{mode} {service}: verdict {} but {waiting} clients waited (median): {report}",
                report["plan"]["verdict"]
            );
            seen.push(over);
        } else {
            assert_eq!(report["plan"]["verdict"], "fits", "{report}");
        }
    }
    assert!(seen.contains(&true) && seen.contains(&false));
}

/// The table an on-call engineer reads, whole: the plan, the limit with its terms, the verdict
/// and the largest pool that fits (the port and the server version replaced).
#[test]
fn the_plan_as_a_table_whole() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = small_cluster();
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args([
        "connections",
        "--no-dotenv",
        "--color",
        "never",
        &app_url(&cluster),
        "--service",
        "web=2x4",
        "--service",
        "worker=1x2:2+3",
        "--extra",
        "migrations=1",
        "--surge",
        "1",
    ]));
    assert_eq!(result.code, 1, "{}", result.stderr);
    let version = query_column(&cluster.url("postgres"), "SHOW server_version").unwrap();
    let text = result
        .stdout
        .replace(&format!("127.0.0.1:{}", cluster.port), "127.0.0.1:[PORT]")
        .replace(&version[0], "[VERSION]");
    insta::assert_snapshot!("connections_plan_table", text);
}
