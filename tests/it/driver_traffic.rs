//! pool-bench sends what SQLAlchemy with each driver sends: the server's own statement log
//! (`log_statement = all`, and `log_min_messages = debug2` for the parse and bind lines) for a
//! pool-bench run is compared, request by request, with the log recorded from the real libraries
//! by `scripts/gen_driver_fixture.py` (`tests/fixtures/driver_requests.json`).
//!
//! Statement names are compared by shape (each name mapped to the order it first appears in),
//! since asyncpg's come from a process-wide counter; texts, kinds (simple query, parse, bind,
//! execute), unnamed-versus-named and order are compared exactly. Requests are told apart by a
//! pause between them (`--think-ms`), which costs the test time but asserts nothing about it.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::cli::{dbtool, run_json};
use crate::pg::{Cluster, ClusterOptions};
use crate::require::{Requirement, require};

/// One line of the server log that the fixture records too.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: String,
    /// `None` for simple queries, `""` for the unnamed statement.
    name: Option<String>,
    text: Option<String>,
}

fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/driver_requests.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn entries(log: &Value) -> Vec<Entry> {
    log.as_array()
        .unwrap()
        .iter()
        .map(|entry| Entry {
            kind: entry["kind"].as_str().unwrap().to_string(),
            name: entry["name"].as_str().map(str::to_string),
            text: entry["text"].as_str().map(str::to_string),
        })
        .collect()
}

/// The server log of one application_name, as entries with their time in milliseconds.
fn server_log(log: &str, application: &str) -> Vec<(f64, Entry)> {
    let prefix = regex::Regex::new(
        r"^\d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d\.\d+) \S+ \[\d+\] (.*?): ([A-Z0-9]+):  (.*)$",
    )
    .unwrap();
    let mut records: Vec<(f64, String, String)> = Vec::new();
    for line in log.lines() {
        if let Some(c) = prefix.captures(line) {
            let ms = (c[1].parse::<f64>().unwrap() * 3600.0
                + c[2].parse::<f64>().unwrap() * 60.0
                + c[3].parse::<f64>().unwrap())
                * 1000.0;
            records.push((ms, c[4].to_string(), c[6].to_string()));
        } else if let (Some(rest), Some(last)) = (line.strip_prefix('\t'), records.last_mut()) {
            last.2.push('\n');
            last.2.push_str(rest);
        }
    }
    let unnamed = |name: &str| {
        if name == "<unnamed>" {
            String::new()
        } else {
            name.to_string()
        }
    };
    let kinds = [
        (
            "statement",
            regex::Regex::new(r"(?s)^statement: (.*)$").unwrap(),
        ),
        (
            "parse",
            regex::Regex::new(r"(?s)^parse (\S+): (.*)$").unwrap(),
        ),
        (
            "bind",
            regex::Regex::new(r"(?s)^bind \S+ to (\S+)$").unwrap(),
        ),
        (
            "execute",
            regex::Regex::new(r"(?s)^execute ([^\s/:]+)(?:/[^\s:]+)?: (.*)$").unwrap(),
        ),
    ];
    records
        .into_iter()
        .filter(|(_, app, _)| app == application)
        .filter_map(|(ms, _, message)| {
            kinds.iter().find_map(|(kind, pattern)| {
                let c = pattern.captures(&message)?;
                let entry = match *kind {
                    "statement" => Entry {
                        kind: "statement".into(),
                        name: None,
                        text: Some(c[1].to_string()),
                    },
                    "bind" => Entry {
                        kind: "bind".into(),
                        name: Some(unnamed(&c[1])),
                        text: None,
                    },
                    other => Entry {
                        kind: other.into(),
                        name: Some(unnamed(&c[1])),
                        text: Some(c[2].to_string()),
                    },
                };
                Some((ms, entry))
            })
        })
        .collect()
}

/// Requests told apart by the pauses between them (over 100 ms; a request takes a few).
fn requests(log: Vec<(f64, Entry)>) -> Vec<Vec<Entry>> {
    let mut requests: Vec<Vec<Entry>> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for (ms, entry) in log {
        if ms - last > 100.0 || requests.is_empty() {
            requests.push(Vec::new());
        }
        last = ms;
        requests.last_mut().unwrap().push(entry);
    }
    requests
}

/// Names replaced by the order they first appear in, across the given requests.
fn by_shape(requests: &[Vec<Entry>]) -> Vec<Vec<Entry>> {
    let mut names: HashMap<String, String> = HashMap::new();
    requests
        .iter()
        .map(|request| {
            request
                .iter()
                .map(|entry| {
                    let mut entry = entry.clone();
                    if let Some(name) = entry.name.as_mut().filter(|n| !n.is_empty()) {
                        let next = format!("#{}", names.len() + 1);
                        *name = names.entry(name.clone()).or_insert(next).clone();
                    }
                    entry
                })
                .collect()
        })
        .collect()
}

/// One pool-bench run with the scenario's settings, on one connection.
struct Run {
    driver: &'static str,
    scenario: &'static str,
    commit: bool,
}

impl Run {
    /// A short application_name (the server keeps 63 bytes) that tells the runs apart.
    fn application(&self) -> String {
        let scenario = self
            .scenario
            .replace("no_pre_ping", "n")
            .replace("pre_ping", "p");
        let scenario = scenario
            .replace("_prepared_statement_cache_size_0", "-cache0")
            .replace("_prepare_threshold_none", "-never");
        format!(
            "{}-{scenario}-{}",
            self.driver,
            if self.commit { "commit" } else { "read" }
        )
    }

    /// The fixture's requests for this run: the first 8 are reads on a fresh connection, the
    /// next 8 commits.
    fn expected(&self, fixture: &Value) -> (Vec<Entry>, Vec<Vec<Entry>>) {
        let scenario = &fixture["drivers"][self.driver][self.scenario];
        let first = entries(&scenario["first_connect"]["server_log"]);
        let block = if self.commit { 8..16 } else { 0..8 };
        let requests = scenario["requests"].as_array().unwrap()[block]
            .iter()
            .map(|request| entries(&request["server_log"]))
            .collect();
        (first, requests)
    }

    /// The environment of the run: PGAPPNAME names asyncpg's runs.
    fn env(&self) -> Vec<(&'static str, String)> {
        match self.driver {
            "asyncpg" => vec![("PGAPPNAME", self.application())],
            _ => Vec::new(),
        }
    }

    fn args(&self, url: &str) -> Vec<String> {
        let scenario = self.scenario;
        // The URL names the driver, as the application's does (and SQLAlchemy's reading of it
        // decides which query parameters go to the driver).
        let url = url.replacen(
            "postgresql://",
            &format!("postgresql+{}://", self.driver),
            1,
        );
        // asyncpg refuses `application_name` as a keyword (the application passes it in
        // `server_settings`), so its runs are told apart by PGAPPNAME instead ([`Run::env`]).
        let mut query = Vec::new();
        if self.driver != "asyncpg" {
            query.push(format!("application_name={}", self.application()));
        }
        if scenario.ends_with("prepared_statement_cache_size_0") {
            query.push("prepared_statement_cache_size=0".into());
        }
        let url = match query.is_empty() {
            true => url,
            false => format!("{url}?{}", query.join("&")),
        };
        let mut args: Vec<String> = [
            "pool-bench",
            "--format",
            "json",
            "--driver",
            self.driver,
            "--clients",
            "1",
            "--pool-size",
            "1",
            "--max-overflow",
            "0",
            "--transactions",
            "8",
            "--think-ms",
            "250",
        ]
        .map(String::from)
        .to_vec();
        args.push(if scenario.starts_with("pre_ping") {
            "--pre-ping".into()
        } else {
            "--no-pre-ping".into()
        });
        if self.commit {
            args.push("--commit".into());
        }
        if scenario.ends_with("prepare_threshold_none") {
            args.extend(["--prepare-threshold".into(), "none".into()]);
        }
        args.push(url);
        args
    }
}

#[test]
fn the_server_sees_what_sqlalchemy_with_each_driver_sends() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions {
        settings: vec![
            "log_statement = 'all'".into(),
            "log_min_messages = debug2".into(),
            "lc_messages = 'C'".into(),
            "log_line_prefix = '%m [%p] %a: '".into(),
        ],
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("postgresql://postgres@127.0.0.1:{}/postgres", cluster.port);
    let fixture = fixture();
    let mut runs = Vec::new();
    for (driver, scenarios) in [
        (
            "asyncpg",
            &[
                "pre_ping",
                "no_pre_ping",
                "no_pre_ping_prepared_statement_cache_size_0",
            ][..],
        ),
        (
            "psycopg",
            &[
                "pre_ping",
                "no_pre_ping",
                "no_pre_ping_prepare_threshold_none",
            ][..],
        ),
        ("psycopg2", &["pre_ping", "no_pre_ping"][..]),
    ] {
        for &scenario in scenarios {
            for commit in [false, true] {
                runs.push(Run {
                    driver,
                    scenario,
                    commit,
                });
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let reports: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|run| {
                let args = run.args(&url);
                let dir = dir.path();
                scope.spawn(move || {
                    let (result, report) = run_json(dbtool(dir).args(&args).envs(run.env()));
                    assert_eq!(result.code, 0, "{args:?}: {}", result.stderr);
                    report
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let log = cluster.log();
    for (run, report) in runs.iter().zip(&reports) {
        assert_eq!(report["transactions"], 8, "{}: {report}", run.application());
        let (first, expected) = run.expected(&fixture);
        let seen = requests(server_log(&log, &run.application()));
        assert_eq!(seen.len(), 8, "{}: {seen:#?}", run.application());
        // The first request also carries the engine's first connection's initialisation.
        let mut expected_first = first.clone();
        expected_first.extend(expected[0].iter().cloned());
        // The fixture's commit block follows reads on the same connection: its first commit is
        // pre-pinged (a reused connection), and asyncpg's statements are already prepared; so
        // commits are compared from the second request on (asyncpg's from the third).
        let from = match (run.commit, run.driver) {
            (false, _) => 0,
            (true, "asyncpg") => 2,
            (true, _) => 1,
        };
        let mut want: Vec<Vec<Entry>> = vec![expected_first];
        want.extend(expected[1..].iter().cloned());
        assert_eq!(
            by_shape(&seen[from..]),
            by_shape(&want[from..]),
            "{}: what the server logged differs from what SQLAlchemy with {} sends",
            run.application(),
            run.driver
        );
        // Round trips per request, as the fixture's client saw them (steady state).
        let scenario = &fixture["drivers"][run.driver][run.scenario];
        let last = if run.commit { 15 } else { 7 };
        let want_round_trips = scenario["requests"][last]["round_trips_observed"]
            .as_f64()
            .unwrap();
        let per_request = &report["per_request"];
        let measured = per_request["round_trips"].as_f64().unwrap();
        assert!(
            (measured - want_round_trips).abs() <= 1.0,
            "{}: {measured} round trips per request, SQLAlchemy's steady state {want_round_trips}",
            run.application()
        );
    }
}
