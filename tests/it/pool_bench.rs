//! `dbtool pool-bench` against real PostgreSQL, with the pool's behaviour counted server-side.

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::cli::{dbtool, dbtool_process, run, run_json};
use crate::pg::{Cluster, ClusterOptions, TestDb};
use crate::require::{Requirement, require};

fn bench(url: &str, args: &[&str]) -> (crate::cli::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = dbtool(dir.path());
    command
        .args(["pool-bench", "--format", "json", url])
        .args(args);
    run_json(&mut command)
}

/// A pool-bench running in the background, in a directory of its own.
struct Running {
    child: Child,
    _dir: tempfile::TempDir,
}

fn spawn_bench(url: &str, args: &[&str]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let child = dbtool_process(dir.path())
        .args(["pool-bench", "--no-dotenv", "--format", "json", url])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Running { child, _dir: dir }
}

fn finish(running: Running) -> (Option<i32>, Value) {
    let output = running.child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), json)
}

fn backends(db: &TestDb) -> i64 {
    db.query_column(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbtool-pool-bench' AND datname = current_database()",
    )[0]
        .parse()
        .unwrap()
}

#[test]
fn the_pool_never_exceeds_its_capacity_and_closes_overflow_after_a_burst() {
    let db = TestDb::new();
    let (result, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "2",
            "--max-overflow",
            "1",
            "--clients",
            "8",
            "--sleep-ms",
            "30",
            "--duration",
            "2.5",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(json["transactions"].as_u64().unwrap() > 10, "{json}");
    assert!(
        json["server"]["peak_backends"].as_i64().unwrap() <= 3,
        "{json}"
    );
    assert!(
        json["connections"]["peak_open"].as_u64().unwrap() <= 3,
        "{json}"
    );
    assert_eq!(
        json["connections"]["peak_open"], 3,
        "the overflow connection was opened: {json}"
    );
    assert!(
        json["connections"]["closed_overflow"].as_u64().unwrap() >= 1,
        "{json}"
    );
    let status = json["status"].as_str().unwrap();
    assert!(
        status.starts_with("Pool size: 2  Connections in pool: 2 Current Overflow: 0"),
        "{status}"
    );
    assert!(
        json["max_waiting"].as_u64().unwrap() > 0,
        "clients outnumber the pool: {json}"
    );
    for key in ["latency_ms", "wait_ms"] {
        for p in ["mean", "p50", "p90", "p99", "p999", "max"] {
            assert!(json[key][p].is_number(), "{key}.{p}: {json}");
        }
    }
    assert!(!json["timeline"].as_array().unwrap().is_empty());
    assert!(json["advice"]["text"].as_array().unwrap().len() >= 2);
    assert_eq!(backends(&db), 0, "every connection is closed at the end");
}

#[test]
fn pool_timeout_and_statement_timeout_are_counted() {
    let db = TestDb::new();
    let (result, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "1",
            "--max-overflow",
            "0",
            "--clients",
            "6",
            "--sleep-ms",
            "200",
            "--pool-timeout",
            "0.05",
            "--duration",
            "1.5",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(json["timeouts"].as_u64().unwrap() > 0, "{json}");
    assert_eq!(json["errors"]["pool_timeout"], json["timeouts"]);
    let (_, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "2",
            "--statement-timeout",
            "0.05",
            "--sleep-ms",
            "300",
            "--duration",
            "1.5",
            "--clients",
            "2",
        ],
    );
    assert!(
        json["errors"]["57014"].as_u64().unwrap() > 0,
        "statement_timeout cancels: {json}"
    );
    assert_eq!(json["transactions"], 0);
}

#[test]
fn pool_recycle_replaces_old_connections() {
    let db = TestDb::new();
    let (_, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "2",
            "--clients",
            "2",
            "--pool-recycle",
            "0.2",
            "--think-ms",
            "50",
            "--duration",
            "1.5",
        ],
    );
    assert!(
        json["connections"]["closed_recycle"].as_u64().unwrap() > 0,
        "{json}"
    );
    assert!(
        json["connections"]["created"].as_u64().unwrap() > 2,
        "{json}"
    );
}

#[test]
fn killed_idle_connections_cause_no_failed_transaction_with_pre_ping() {
    let db = TestDb::new();
    // One client thinking 300 ms between requests: its connection idles most of the time.
    let running = spawn_bench(
        &db.url,
        &[
            "--pool-size",
            "3",
            "--max-overflow",
            "0",
            "--clients",
            "1",
            "--think-ms",
            "300",
            "--duration",
            "3",
            "--pre-ping",
        ],
    );
    std::thread::sleep(Duration::from_millis(800));
    // Kill a backend only well inside an idle spell (50-200 ms since its last request), so the
    // kill lands between requests, where pre-ping must notice it, and never during one (which no
    // pre-ping can save, and a busy machine makes more likely).
    let mut killed = vec!["0".to_string()];
    for _ in 0..100 {
        killed = db.query_column(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = 'dbtool-pool-bench' AND state = 'idle' \
             AND datname = current_database() \
             AND state_change BETWEEN clock_timestamp() - interval '200 ms' \
                                  AND clock_timestamp() - interval '50 ms'",
        );
        if killed[0] != "0" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, json) = finish(running);
    assert_eq!(code, Some(0), "{json}");
    assert!(
        killed[0].parse::<i64>().unwrap() > 0,
        "idle pool backends were terminated"
    );
    assert_eq!(
        json["errors"],
        serde_json::json!({}),
        "pre-ping replaced them transparently: {json}"
    );
    assert!(
        json["connections"]["closed_pre_ping"].as_u64().unwrap() > 0,
        "{json}"
    );
}

#[test]
fn a_server_restart_mid_run_is_survived() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap();
    let running = spawn_bench(
        &cluster.url("postgres"),
        &[
            "--pool-size",
            "2",
            "--clients",
            "2",
            "--think-ms",
            "20",
            "--duration",
            "6",
            "--connect-timeout",
            "2",
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));
    cluster.stop().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    cluster.start_again().unwrap();
    let (code, json) = finish(running);
    assert_eq!(code, Some(0), "{json}");
    let resumed = json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|tick| (4..=6).contains(&tick["t"].as_u64().unwrap()))
        .all(|tick| tick["tps"].as_f64().unwrap() > 0.0);
    assert!(resumed, "work resumed after the restart: {json}");
}

#[test]
fn an_unlimited_pool_is_refused_without_force_and_interrupts_exit_130() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args([
        "pool-bench",
        &db.url,
        "--max-overflow",
        "-1",
        "--duration",
        "1",
    ]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(result.stderr.contains("--force"), "{}", result.stderr);
    let (result, json) = bench(
        &db.url,
        &[
            "--max-overflow",
            "-1",
            "--force",
            "--duration",
            "0.5",
            "--clients",
            "2",
        ],
    );
    assert_eq!(result.code, 0, "{json}");
    let running = spawn_bench(
        &db.url,
        &[
            "--pool-size",
            "2",
            "--clients",
            "2",
            "--sleep-ms",
            "500",
            "--duration",
            "30",
        ],
    );
    std::thread::sleep(Duration::from_millis(1200));
    unsafe {
        libc::kill(running.child.id() as i32, libc::SIGINT);
    }
    // A 30 s run that ends with 130 and `interrupted` stopped on the signal, not on its clock.
    let (code, json) = finish(running);
    assert_eq!(code, Some(130), "{json}");
    assert_eq!(json["interrupted"], true);
    // The server reaps a closed session's backend shortly after; a busy machine takes longer.
    let mut left = backends(&db);
    for _ in 0..50 {
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        left = backends(&db);
    }
    assert_eq!(left, 0, "no backend left after Ctrl-C");
}

#[test]
fn sweep_prints_one_row_per_value_and_plot_writes_svg() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("sweep.svg");
    let (result, json) = run_json(dbtool(dir.path()).args([
        "pool-bench",
        "--format",
        "json",
        &db.url,
        "--sweep",
        "pool_size=1,3",
        "--duration",
        "0.6",
        "--plot",
        svg.to_str().unwrap(),
    ]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    let runs = json.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (
            runs[0]["config"]["pool_size"].as_u64(),
            runs[1]["config"]["pool_size"].as_u64()
        ),
        (Some(1), Some(3))
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let table = run(dbtool(dir.path()).args([
        "pool-bench",
        &db.url,
        "--sweep",
        "clients=1,2",
        "--duration",
        "0.5",
    ]));
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("clients") && table.stdout.contains("tps"),
        "{}",
        table.stdout
    );
    let bad = run(dbtool(dir.path()).args(["pool-bench", &db.url, "--sweep", "nonsense=1"]));
    assert_eq!(bad.code, 3);
}

#[test]
fn an_open_loop_rate_bounds_the_arrivals() {
    let db = TestDb::new();
    let (result, json) = bench(&db.url, &["--rate", "40", "--duration", "1"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let transactions = json["transactions"].as_u64().unwrap();
    assert!(
        transactions > 0 && transactions <= 80,
        "a closed loop would run thousands: {json}"
    );
    assert_eq!(json["config"]["rate"], 40.0);
    assert_eq!(json["held_back"], 0, "{json}");
}

#[test]
fn the_open_loop_bound_on_requests_in_flight_is_named_when_hit() {
    let db = TestDb::new();
    // Two slots of 50 ms serve at most 40 requests a second; 100 arrive.
    let (result, json) = bench(
        &db.url,
        &[
            "--rate",
            "100",
            "--clients",
            "2",
            "--sleep-ms",
            "50",
            "--duration",
            "1",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(json["held_back"].as_u64().unwrap() > 20, "{json}");
    assert!(
        advice_text(&json)
            .iter()
            .any(|line| line.contains("found all request slots taken")),
        "{json}"
    );
}

/// The advice's lines.
fn advice_text(json: &Value) -> Vec<&str> {
    json["advice"]["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect()
}

fn number(json: &Value, path: &[&str]) -> f64 {
    let value = path.iter().fold(json, |value, key| &value[*key]);
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{}: {json}", path.join(".")))
}

/// The most connections a Poisson demand with this mean wants at its p99.9, with room for
/// rounding and the skew of small means: mean + 4 standard deviations + 2.
fn within_a_poisson_p999(mean: f64) -> f64 {
    (mean + 4.0 * mean.sqrt()).ceil() + 2.0
}

/// The recommended capacity (pool_size + max_overflow) in a report.
fn recommended_capacity(json: &Value) -> u64 {
    let recommended = &json["advice"]["recommended"];
    recommended["pool_size"].as_u64().unwrap() + recommended["max_overflow"].as_u64().unwrap()
}

/// The pool was not the limit, and the advice says it is larger than the load needs.
fn assert_the_pool_was_larger_than_needed(json: &Value) {
    assert_eq!(json["advice"]["pool_was_limit"], false, "{json}");
    assert!(
        advice_text(json)
            .iter()
            .any(|line| line.starts_with("the pool is larger than this load needs")),
        "{json}"
    );
}

/// The `--verify` run used the recommendation and the pool stopped being the limit: no pool
/// timeout, no checkout waiting at the limit beyond a small share of a hold, and a checkout wait
/// (opening the pool's connections included: the tests use `--driver raw`, whose connect is a
/// startup only) below the hold time.
fn assert_the_recommendation_holds(json: &Value) {
    let verify = &json["verify"];
    assert_eq!(
        verify["config"]["pool_size"], json["advice"]["recommended"]["pool_size"],
        "{json}"
    );
    assert_eq!(
        verify["config"]["max_overflow"], json["advice"]["recommended"]["max_overflow"],
        "{json}"
    );
    assert_eq!(verify["timeouts"], 0, "{verify}");
    assert_eq!(verify["errors"], serde_json::json!({}), "{verify}");
    let hold = number(verify, &["hold_ms", "mean"]);
    assert!(
        number(verify, &["queue_wait_ms", "p99"]) < hold / 4.0,
        "waiting at the pool's limit: {verify}"
    );
    assert!(number(verify, &["wait_ms", "p99"]) < hold, "{verify}");
    assert_eq!(verify["advice"]["pool_was_limit"], false, "{verify}");
}

#[test]
fn a_pool_too_small_for_a_closed_loop_is_sized_by_its_clients_and_verified() {
    let db = TestDb::new();
    // 6 clients on one connection held 50 ms: a checkout queues ~250 ms behind the others, far
    // past pool_timeout.
    let (result, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "1",
            "--max-overflow",
            "0",
            "--clients",
            "6",
            "--sleep-ms",
            "50",
            "--pool-timeout",
            "0.1",
            "--duration",
            "1.5",
            "--verify",
            "--driver",
            "raw",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(json["timeouts"].as_u64().unwrap() >= 10, "{json}");
    let advice = &json["advice"];
    assert_eq!(advice["pool_was_limit"], true, "{json}");
    assert!(
        advice_text(&json)[0]
            .starts_with("the pool was the limit: 6 clients wanted 6.0 connections"),
        "said first: {json}"
    );
    // The demand is the clients, not the throughput the pool let through (~20/s × 50 ms = 1).
    assert_eq!(advice["demand"]["loop"], "closed", "{json}");
    assert_eq!(advice["demand"]["clients"], 6, "{json}");
    assert!(
        number(&json, &["tps"]) * number(&json, &["mean_hold_ms"]) / 1000.0 < 1.5,
        "{json}"
    );
    // Six clients without think time want six connections: no fewer, and no more.
    assert_eq!(recommended_capacity(&json), 6, "{json}");
    assert!(
        advice_text(&json)
            .iter()
            .any(|line| line.contains("DB_POOL_SIZE=6 DB_MAX_OVERFLOW=0")),
        "{json}"
    );
    assert_the_recommendation_holds(&json);
}

#[test]
fn thinking_clients_want_fewer_connections_than_there_are_clients() {
    let db = TestDb::new();
    // 12 clients holding ~20 ms of every ~80 ms: 3 busy on average, on a pool of 1.
    let (result, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "1",
            "--max-overflow",
            "0",
            "--clients",
            "12",
            "--sleep-ms",
            "20",
            "--think-ms",
            "60",
            "--pool-timeout",
            "0.5",
            "--duration",
            "1.5",
            "--verify",
            "--driver",
            "raw",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(json["advice"]["pool_was_limit"], true, "{json}");
    let demand = &json["advice"]["demand"];
    assert_eq!(demand["think_ms"], 60.0, "{json}");
    let hold = number(demand, &["hold_ms", "mean"]);
    let needed = number(demand, &["connections_mean"]);
    assert!(
        (needed - 12.0 * hold / (hold + 60.0)).abs() < 1e-6,
        "{json}"
    );
    let capacity = recommended_capacity(&json);
    assert!(
        capacity as f64 >= needed.ceil() && capacity < 12,
        "{capacity} for {needed} busy on average: {json}"
    );
    // Clients whose think times and holds are fixed fall into step after any stall of the
    // machine, so how often a checkout waits at the p99.9 is left to --verify's report; no
    // timeout is robust.
    assert_eq!(json["verify"]["timeouts"], 0, "{json}");
    assert_eq!(json["verify"]["errors"], serde_json::json!({}), "{json}");
}

#[test]
fn a_pool_too_small_for_an_open_loop_is_sized_by_the_rate_and_verified() {
    let db = TestDb::new();
    // 100 arrivals a second holding 50 ms each keep ~5 connections busy; the pool has 1.
    let (result, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "1",
            "--max-overflow",
            "0",
            "--rate",
            "100",
            "--sleep-ms",
            "50",
            "--pool-timeout",
            "0.2",
            "--duration",
            "1.5",
            "--verify",
            "--driver",
            "raw",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    // Every arrival started on time and waited in the pool: far more than the old default of
    // pool + 5 clients waited at once, and every one either ran or timed out there.
    assert!(json["max_waiting"].as_u64().unwrap() > 10, "{json}");
    assert_eq!(json["held_back"], 0, "{json}");
    assert!(json["timeouts"].as_u64().unwrap() >= 30, "{json}");
    let arrivals = json["transactions"].as_u64().unwrap()
        + json["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>();
    assert!((145..=150).contains(&arrivals), "{arrivals}: {json}");
    let advice = &json["advice"];
    assert_eq!(advice["pool_was_limit"], true, "{json}");
    assert!(
        advice_text(&json)[0].starts_with("the pool was the limit: 100/s arrivals"),
        "{json}"
    );
    // The reasoning figures: Little's law on the offered rate.
    let demand = &advice["demand"];
    assert_eq!(demand["loop"], "open", "{json}");
    assert_eq!(demand["offered_rate"], 100.0, "{json}");
    let hold = number(demand, &["hold_ms", "mean"]);
    assert!(number(demand, &["hold_ms", "p99"]) >= hold, "{json}");
    let needed = number(demand, &["connections_mean"]);
    assert!((needed - 100.0 * hold / 1000.0).abs() < 1e-6, "{json}");
    // Enough for the mean, and not more than a Poisson demand's p99.9 needs: within 3.1
    // standard deviations of the mean, plus rounding and the skew of small means.
    let capacity = recommended_capacity(&json) as f64;
    assert!(capacity >= needed.ceil(), "{capacity} < {needed}: {json}");
    assert!(
        capacity <= within_a_poisson_p999(needed),
        "{capacity} is more than {needed} busy on average needs: {json}"
    );
    assert_the_recommendation_holds(&json);
}

#[test]
fn an_oversized_pool_is_told_to_shrink_and_the_smaller_pool_carries_the_load() {
    let db = TestDb::new();
    // Closed loop: 3 clients never need more than 3 connections.
    let (result, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "10",
            "--max-overflow",
            "10",
            "--clients",
            "3",
            "--sleep-ms",
            "50",
            "--duration",
            "1",
            "--verify",
            "--driver",
            "raw",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_the_pool_was_larger_than_needed(&json);
    assert_eq!(recommended_capacity(&json), 3, "{json}");
    assert_the_recommendation_holds(&json);

    // Open loop: 40/s × 50 ms is 2 busy on average.
    let (result, json) = bench(
        &db.url,
        &[
            "--pool-size",
            "20",
            "--max-overflow",
            "10",
            "--rate",
            "40",
            "--sleep-ms",
            "50",
            "--duration",
            "1.5",
            "--verify",
            "--driver",
            "raw",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_the_pool_was_larger_than_needed(&json);
    let needed = number(&json, &["advice", "demand", "connections_mean"]);
    let capacity = recommended_capacity(&json) as f64;
    assert!(
        capacity >= needed.ceil() && capacity <= within_a_poisson_p999(needed),
        "{capacity} for {needed}: {json}"
    );
    assert_the_recommendation_holds(&json);
}

#[test]
fn verify_prints_both_runs_side_by_side() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args([
        "pool-bench",
        &db.url,
        "--pool-size",
        "1",
        "--max-overflow",
        "0",
        "--clients",
        "3",
        "--sleep-ms",
        "20",
        "--duration",
        "0.5",
        "--verify",
    ]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    let out = &result.stdout;
    assert!(
        out.contains("recommended: DB_POOL_SIZE=3 DB_MAX_OVERFLOW=0"),
        "{out}"
    );
    assert!(
        out.contains("measured") && out.contains("1 + 0") && out.contains("3 + 0"),
        "{out}"
    );
    assert!(out.contains("verify: the recommendation holds"), "{out}");
    let refused =
        run(dbtool(dir.path()).args(["pool-bench", &db.url, "--verify", "--sweep", "clients=1,2"]));
    assert_eq!(refused.code, 3, "{}", refused.stderr);
}

#[test]
fn a_script_runs_in_one_transaction_with_every_driver() {
    let db = TestDb::new();
    db.execute("CREATE TABLE hits (n int)");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sql");
    std::fs::write(
        &good,
        "INSERT INTO hits VALUES (1);\nINSERT INTO hits VALUES (2);\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.sql");
    std::fs::write(&bad, "INSERT INTO hits VALUES (3);\nSELECT 1/0;\n").unwrap();
    for driver in ["raw", "asyncpg", "psycopg", "psycopg2"] {
        db.execute("TRUNCATE hits");
        let common = [
            "--driver",
            driver,
            "--commit",
            "--transactions",
            "10",
            "--clients",
            "2",
            "--pool-size",
            "2",
            "--max-overflow",
            "0",
        ];
        let (result, report) = bench(
            &db.url,
            &[&common[..], &["--script", good.to_str().unwrap()]].concat(),
        );
        assert_eq!(result.code, 0, "{driver}: {}", result.stderr);
        assert_eq!(report["transactions"], 10, "{driver}: {report}");
        assert_eq!(
            db.query_column("SELECT count(*) FROM hits"),
            ["20"],
            "{driver}"
        );
        // A failing statement rolls the whole request back, as the session would.
        db.execute("TRUNCATE hits");
        let (result, report) = bench(
            &db.url,
            &[&common[..], &["--script", bad.to_str().unwrap()]].concat(),
        );
        assert_eq!(result.code, 0, "{driver}: {}", result.stderr);
        assert_eq!(report["errors"]["22012"], 10, "{driver}: {report}");
        assert_eq!(
            db.query_column("SELECT count(*) FROM hits"),
            ["0"],
            "{driver}"
        );
    }
}

#[test]
fn copy_from_stdin_is_refused_per_request_instead_of_hanging() {
    let db = TestDb::new();
    db.execute("CREATE TABLE sink (n int)");
    // The extended protocol (raw) and the simple one (psycopg2).
    for driver in ["raw", "psycopg2"] {
        let (result, report) = bench(
            &db.url,
            &[
                "--driver",
                driver,
                "--query",
                "COPY sink FROM STDIN",
                "--transactions",
                "3",
                "--clients",
                "1",
            ],
        );
        assert_eq!(result.code, 0, "{driver}: {}", result.stderr);
        // 57014 is what the server says to a client's CopyFail: query_canceled.
        assert_eq!(report["errors"]["57014"], 3, "{driver}: {report}");
    }
}
