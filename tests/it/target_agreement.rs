//! One resolved target: what check-url says libpq will try (its `hosts` and explanation) is what
//! ping actually tries, host by host — sockets, `@` abstract sockets, several hosts, hostaddr and
//! the PG* environment — and lint-constraints and pool-bench reach the same endpoints.

use serde_json::Value;

use crate::cli::{dbtool, run, run_json};
use crate::pg::{Cluster, ClusterOptions, Server, shared};

/// (URL, environment): endpoints where nothing listens, so ping goes through every one.
const CASES: &[(&str, &[(&str, &str)])] = &[
    ("postgresql://u@127.0.0.1:1/db", &[]),
    ("postgresql://u@/db?host=/nonexistent-dbtool-dir", &[]),
    ("postgresql://u@/db?host=@dbtool-nobody-listens", &[]),
    (
        "postgresql://u@/db?host=127.0.0.1,@dbtool-nobody-2,/nonexistent-dbtool&port=1,2,3",
        &[],
    ),
    (
        "postgresql:///db",
        &[
            ("PGHOST", "/nonexistent-dbtool,@dbtool-nobody-3"),
            ("PGPORT", "7"),
        ],
    ),
    (
        "postgresql://u@127.0.0.1/db",
        &[
            ("PGHOST", "@ignored-because-the-url-names-a-host"),
            ("PGPORT", "1"),
        ],
    ),
    ("postgresql:///db?hostaddr=127.0.0.1&port=1", &[]),
    (
        "postgresql://u@name-a,name-b/db?hostaddr=127.0.0.1,127.0.0.1&port=1,2",
        &[],
    ),
    (
        "postgresql://u@/db",
        &[("PGHOSTADDR", "127.0.0.1"), ("PGPORT", "1")],
    ),
];

fn with_env(command: &mut assert_cmd::Command, env: &[(&str, &str)]) {
    for (name, value) in env {
        command.env(name, value);
    }
}

#[test]
fn check_url_explains_the_endpoints_ping_tries() {
    let dir = tempfile::tempdir().unwrap();
    for (url, env) in CASES {
        let mut check = dbtool(dir.path());
        check.args(["check-url", "--format", "json", url]);
        with_env(&mut check, env);
        let (_, explained) = run_json(&mut check);
        let hosts = explained["hosts"].as_array().unwrap().clone();
        assert!(!hosts.is_empty(), "{url} {env:?}: {explained}");

        let mut ping = dbtool(dir.path());
        ping.args(["ping", "--format", "json", "--connect-timeout", "2", url]);
        with_env(&mut ping, env);
        let (result, pinged) = run_json(&mut ping);
        assert_eq!(result.code, 2, "{url} {env:?}: {}", result.stderr);
        let attempts = pinged["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), hosts.len(), "{url} {env:?}: {pinged}");

        let rows: Vec<&Value> = explained["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["part"].as_str().unwrap().starts_with("host"))
            .collect();
        assert_eq!(rows.len(), hosts.len(), "{url} {env:?}: {explained}");

        for ((host, attempt), row) in hosts.iter().zip(attempts).zip(rows) {
            let (name, port, kind) = (
                host["host"].as_str().unwrap(),
                host["port"].as_str().unwrap(),
                host["kind"].as_str().unwrap(),
            );
            let context = format!("{url} {env:?}: {host} vs {attempt}");
            let target = attempt["target"].as_str().unwrap();
            assert!(target.ends_with(&format!(":{port}")), "{context}");
            let resolve = &attempt["stages"][0];
            assert_eq!(resolve["name"], "resolve", "{context}");
            let detail = resolve["detail"].as_str().unwrap();
            match kind {
                "unix" => assert_eq!(
                    detail,
                    format!("Unix socket {name}/.s.PGSQL.{port}"),
                    "{context}"
                ),
                "abstract" => {
                    assert!(name.starts_with('@'), "{context}");
                    assert_eq!(
                        detail,
                        format!("abstract Unix socket {name}/.s.PGSQL.{port}"),
                        "{context}"
                    );
                }
                "tcp" if detail.starts_with("hostaddr") => {
                    assert_eq!(
                        detail,
                        format!("hostaddr {name}, no DNS lookup"),
                        "{context}"
                    )
                }
                "tcp" => assert!(target.starts_with(name), "{context}"),
                other => panic!("{context}: kind {other}"),
            }
            let shown = row["value"].as_str().unwrap();
            assert!(
                shown.contains(name) || target.starts_with(shown.split(' ').next().unwrap()),
                "{context}: explanation row {row}"
            );
        }
    }
}

#[test]
fn an_abstract_socket_is_reached_by_ping_lint_and_pool_bench() {
    if !matches!(shared(), Server::Local(_)) {
        return;
    }
    let name = format!("dbtool-test-{}", std::process::id());
    let cluster = Cluster::start(ClusterOptions {
        abstract_socket: Some(name.clone()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "postgresql+asyncpg://postgres@/postgres?host=@{name}&port={}",
        cluster.port
    );
    let dir = tempfile::tempdir().unwrap();

    let (_, explained) = run_json(dbtool(dir.path()).args(["check-url", "--format", "json", &url]));
    assert_eq!(explained["hosts"][0]["kind"], "abstract", "{explained}");

    let (result, pinged) = run_json(dbtool(dir.path()).args(["ping", "--format", "json", &url]));
    assert_eq!(result.code, 0, "{}\n{pinged}", result.stderr);
    assert_eq!(pinged["status"], "accepting");
    let connect = &pinged["stages"][1];
    assert_eq!(connect["name"], "connect");
    assert!(
        connect["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("@{name}/")),
        "{connect}"
    );

    let lint = run(dbtool(dir.path()).args(["lint-constraints", "--url", &url]));
    assert_eq!(lint.code, 0, "{}", lint.stderr);

    let (bench, report) = run_json(dbtool(dir.path()).args([
        "pool-bench",
        "--format",
        "json",
        "--transactions",
        "20",
        "--pool-size",
        "2",
        "--max-overflow",
        "0",
        &url,
    ]));
    assert_eq!(bench.code, 0, "{}", bench.stderr);
    assert_eq!(report["transactions"], 20, "{report}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
}
