//! pool-bench's application model against real PostgreSQL and the real Python stack: the
//! calibration runs the reference application (`scripts/reference_app.py`) with SQLAlchemy and
//! asyncpg from a virtualenv the harness makes (pinned: scripts/driver-fixture-requirements.txt),
//! and the model's direction is checked, not its timings (scripts/check-prediction.sh measures
//! those against the real application and prints them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::cli::{dbtool, run, run_json};
use crate::pg::TestDb;

/// A Python with the pinned SQLAlchemy and drivers, made once under target/ (PyPI, or the
/// machine's wheel cache). Fails, never skips, when it cannot be made.
pub fn app_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = root.join("target/test-app-venv");
        let python = venv.join("bin/python");
        let requirements = root.join("scripts/driver-fixture-requirements.txt");
        let ready = venv.join("ready");
        let wanted = std::fs::read_to_string(&requirements).unwrap();
        if std::fs::read_to_string(&ready).ok().as_deref() != Some(wanted.as_str()) {
            let _ = std::fs::remove_dir_all(&venv);
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 runs");
            assert!(
                made.success(),
                "python3 -m venv failed: install python3-venv"
            );
            let installed = Command::new(&python)
                .args(["-m", "pip", "install", "-q", "-r"])
                .arg(&requirements)
                .status()
                .unwrap();
            assert!(
                installed.success(),
                "pip could not install scripts/driver-fixture-requirements.txt"
            );
            std::fs::write(&ready, wanted).unwrap();
        }
        python
    })
}

fn bench(url: &str, args: &[&str]) -> (crate::cli::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = dbtool(dir.path());
    command
        .args(["pool-bench", "--format", "json", url])
        .args(args);
    run_json(&mut command)
}

fn asyncpg_url(db: &TestDb) -> String {
    db.url.replacen("postgresql://", "postgresql+asyncpg://", 1)
}

#[test]
fn calibration_measures_the_real_stack_at_the_runs_load() {
    let db = TestDb::new();
    let python = app_python().to_str().unwrap();
    let (result, json) = bench(
        &asyncpg_url(&db),
        &[
            "--calibrate",
            python,
            "--clients",
            "4",
            "--pool-size",
            "4",
            "--max-overflow",
            "0",
            "--duration",
            "1",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    let app = &json["app_model"];
    assert_eq!(app["source"], "calibrated", "{app}");
    assert_eq!(app["python"], python);
    assert_eq!(app["versions"]["sqlalchemy"], "2.1.9", "{app}");
    assert_eq!(app["versions"]["asyncpg"], "0.32.0", "{app}");
    let calibration = &app["calibration"];
    assert_eq!(calibration["load"], "4 clients, 1 worker(s)");
    assert!(calibration["requests"].as_u64().unwrap() > 10, "{app}");
    // The round trips the calibration divided by are those the driver model sends per request
    // in its steady state (the run's mean also has the first checkouts, without a pre-ping).
    let steady = calibration["round_trips_per_request"].as_f64().unwrap();
    assert_eq!(steady, 6.0, "asyncpg with pre-ping: {app}");
    let measured = json["per_request"]["round_trips"].as_f64().unwrap();
    assert!((steady - measured).abs() < 0.1, "{json}");
    // SQLAlchemy and asyncpg spend tens to hundreds of microseconds of Python per round trip:
    // a figure outside 5 µs..5 ms is a broken measurement, not a slow machine.
    let cost = app["app_cpu_us"].as_f64().unwrap();
    assert!((5.0..5000.0).contains(&cost), "{app}");
    let per_request = calibration["cpu_per_request_ms"].as_f64().unwrap();
    let round_trips = calibration["round_trips_per_request"].as_f64().unwrap();
    assert!(
        (cost - per_request * 1000.0 / round_trips).abs() < 0.01,
        "{app}"
    );
}

#[test]
fn a_python_without_sqlalchemy_is_named_with_the_install_line() {
    let db = TestDb::new();
    // The machine's python3, outside any virtualenv, has no SQLAlchemy.
    let bare = Command::new("python3")
        .args(["-c", "import sqlalchemy"])
        .status()
        .unwrap();
    assert!(!bare.success(), "python3 on PATH has SQLAlchemy installed");
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args([
        "pool-bench",
        &asyncpg_url(&db),
        "--calibrate",
        "python3",
        "--duration",
        "1",
    ]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(
        result.stderr.contains("cannot import sqlalchemy") && result.stderr.contains("pip install"),
        "{}",
        result.stderr
    );
    assert_eq!(result.stderr.trim().lines().count(), 1, "{}", result.stderr);
    let missing = run(dbtool(dir.path()).args([
        "pool-bench",
        &asyncpg_url(&db),
        "--calibrate",
        "/nonexistent/bin/python",
    ]));
    assert_eq!(missing.code, 3, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("cannot run it"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_busy_event_loop_is_named_as_the_limit_and_more_workers_share_the_load() {
    let db = TestDb::new();
    let url = asyncpg_url(&db);
    // 2 ms of the application's time per round trip: one loop is busy all the time.
    let common = [
        "--app-cpu-us",
        "2000",
        "--clients",
        "6",
        "--pool-size",
        "3",
        "--max-overflow",
        "0",
        "--duration",
        "1.5",
    ];
    let (result, one) = bench(&url, &common);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(one["advice"]["limit"], "event_loop", "{}", one["advice"]);
    assert!(
        one["advice"]["text"][0]
            .as_str()
            .unwrap()
            .starts_with("the event loop is the limit"),
        "{}",
        one["advice"]
    );
    let loops = one["app_model"]["loop_utilization"].as_array().unwrap();
    assert_eq!(loops.len(), 1);
    assert!(loops[0].as_f64().unwrap() > 0.8, "{}", one["app_model"]);
    let accuracy = one["app_model"]["emulation_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 1.0, "{}", one["app_model"]);
    // The hold time's application share is its round trips × the time per round trip.
    let round_trips = one["per_request"]["round_trips"].as_f64().unwrap();
    let application = one["app_model"]["hold_ms"]["application"].as_f64().unwrap();
    assert!(
        (application - round_trips * 2.0).abs() < 0.01,
        "{}",
        one["app_model"]
    );

    // Two workers: two loops, two pools of their own (each opens its own connections).
    let mut two_workers = common.to_vec();
    two_workers.extend(["--workers", "2"]);
    let (result, two) = bench(&url, &two_workers);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(
        two["app_model"]["loop_utilization"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(two["connections"]["created"], 6, "{}", two["connections"]);
    assert!(two["server"]["peak_backends"].as_i64().unwrap() <= 6);
}

/// SQLAlchemy's pool queue lets a checkout that runs before the woken waiter take the connection
/// that came back; the waiter queues again (measured in the real application: 0.39 times per
/// wait at this load). In the model's asyncio order it happens too; in tokio's it never did.
#[test]
fn waiters_are_overtaken_as_in_sqlalchemys_queue() {
    let db = TestDb::new();
    let (result, json) = bench(
        &asyncpg_url(&db),
        &[
            "--clients",
            "30",
            "--sleep-ms",
            "5",
            "--pool-size",
            "5",
            "--max-overflow",
            "10",
            "--duration",
            "2",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    let connections = &json["connections"];
    let queued = connections["queued"].as_u64().unwrap();
    let overtaken = connections["overtaken"].as_u64().unwrap();
    assert!(queued > 0, "{connections}");
    assert!(overtaken > 0, "{connections}");
}

#[test]
fn a_load_with_room_to_spare_has_no_limit_and_raw_has_no_application() {
    let db = TestDb::new();
    let (result, json) = bench(
        &asyncpg_url(&db),
        &["--clients", "2", "--think-ms", "50", "--duration", "1"],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(json["advice"]["limit"], "none", "{}", json["advice"]);
    assert_eq!(json["app_model"]["source"], "default");
    let (result, raw) = bench(&db.url, &["--driver", "raw", "--duration", "0.5"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(raw["app_model"], Value::Null);
    let dir = tempfile::tempdir().unwrap();
    for flags in [
        &["--driver", "raw", "--app-cpu-us", "50"][..],
        &["--driver", "raw", "--handler-ms", "1"],
        &["--driver", "asyncpg", "--jobs", "2"],
    ] {
        let refused = run(dbtool(dir.path()).args(["pool-bench", &db.url]).args(flags));
        assert_eq!(refused.code, 3, "{flags:?}: {}", refused.stderr);
    }
}

#[test]
fn the_warm_up_is_left_out_of_the_report() {
    let db = TestDb::new();
    // 100 arrivals a second on a fixed schedule: 1 s of warm-up and 1 s measured report the
    // second's 100, not 200.
    let (result, json) = bench(
        &asyncpg_url(&db),
        &[
            "--rate",
            "100",
            "--sleep-ms",
            "1",
            "--warmup",
            "1",
            "--duration",
            "1",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    let transactions = json["transactions"].as_u64().unwrap();
    assert!((80..=110).contains(&transactions), "{json}");
    // The pool's counters start again too; its peaks from the connections the warm-up opened.
    assert!(json["connections"]["peak_open"].as_u64().unwrap() >= 1);
    let created = json["connections"]["created"].as_u64().unwrap();
    assert!(
        created <= json["connections"]["peak_open"].as_u64().unwrap(),
        "{json}"
    );
    let dir = tempfile::tempdir().unwrap();
    let refused = run(dbtool(dir.path()).args([
        "pool-bench",
        &db.url,
        "--warmup",
        "1",
        "--transactions",
        "10",
    ]));
    assert_eq!(refused.code, 3, "{}", refused.stderr);
}
