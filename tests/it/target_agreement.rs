//! One connection plan (`conn::plan`): what check-url explains of it (its `hosts`, explanation
//! and driver connection) is what ping, which connects with the plan, actually tries, host by
//! host — sockets, `@` abstract sockets, several hosts, hostaddr and the PG* environment — and
//! lint-constraints and pool-bench, which connect with the same plan, reach the same endpoints.

use serde_json::{Value, json};

use crate::cli::{dbtool, run, run_json};
use crate::pg::{Cluster, ClusterOptions, shared};
use crate::require::{Requirement, require};

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
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let name = format!("dbtool-test-{}", std::process::id());
    let cluster = Cluster::start(ClusterOptions {
        abstract_socket: Some(name.clone()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "postgresql+psycopg://postgres@/postgres?host=@{name}&port={}",
        cluster.port
    );
    let dir = tempfile::tempdir().unwrap();

    let (_, explained) = run_json(dbtool(dir.path()).args(["check-url", "--format", "json", &url]));
    assert_eq!(explained["hosts"][0]["kind"], "abstract", "{explained}");
    // asyncpg has no abstract sockets: `@name` is a TCP host name to it, as to ping for asyncpg.
    let asyncpg = url.replacen("+psycopg", "+asyncpg", 1);
    let (_, explained) =
        run_json(dbtool(dir.path()).args(["check-url", "--format", "json", &asyncpg]));
    assert_eq!(explained["hosts"][0]["kind"], "tcp", "{explained}");
    let codes: Vec<&str> = explained["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"asyncpg-abstract-socket"), "{explained}");
    let (result, pinged) = run_json(dbtool(dir.path()).args([
        "ping",
        "--format",
        "json",
        "--connect-timeout",
        "2",
        &asyncpg,
    ]));
    assert_eq!(result.code, 2, "{}\n{pinged}", result.stderr);
    assert_eq!(
        (&pinged["stages"][0]["name"], &pinged["stages"][0]["ok"]),
        (&json!("resolve"), &json!(false)),
        "{pinged}"
    );

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

/// The environment of a run, as (name, value) pairs.
fn envs(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect()
}

#[test]
fn asyncpg_urls_reach_what_asyncpg_resolves_not_what_libpq_would() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = shared().cluster();
    let dir = tempfile::tempdir().unwrap();
    let port = cluster.port.to_string();
    // asyncpg reads a port inside PGHOST and takes the login name (LOGNAME) for the user; libpq
    // takes `127.0.0.1:PORT` for a host name and the operating-system user.
    let env = envs(&[
        ("PGHOST", format!("127.0.0.1:{port}")),
        ("LOGNAME", "postgres".into()),
        ("USER", "postgres".into()),
    ]);
    let asyncpg = "postgresql+asyncpg:///postgres";
    let (result, explained) = run_json(
        dbtool(dir.path())
            .args(["check-url", "--format", "json", asyncpg])
            .envs(env.clone()),
    );
    assert_eq!(result.code, 0, "{explained}");
    assert_eq!(
        explained["hosts"],
        json!([{"host": "127.0.0.1", "port": port, "kind": "tcp"}]),
        "{explained}"
    );
    assert_eq!(explained["driver_connection"]["user"], "postgres");
    let (result, pinged) = run_json(
        dbtool(dir.path())
            .args(["ping", "--format", "json", asyncpg])
            .envs(env.clone()),
    );
    assert_eq!(result.code, 0, "{}\n{pinged}", result.stderr);
    assert_eq!(pinged["target"], format!("127.0.0.1:{port}"), "{pinged}");
    let (result, report) = run_json(
        dbtool(dir.path())
            .args([
                "pool-bench",
                "--format",
                "json",
                "--transactions",
                "10",
                "--pool-size",
                "1",
                "--max-overflow",
                "0",
                asyncpg,
            ])
            .envs(env.clone()),
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(report["transactions"], 10, "{report}");
    let psycopg = "postgresql+psycopg:///postgres";
    let (result, pinged) = run_json(
        dbtool(dir.path())
            .args([
                "ping",
                "--format",
                "json",
                "--connect-timeout",
                "2",
                psycopg,
            ])
            .envs(env.clone()),
    );
    assert_eq!(
        result.code, 2,
        "libpq looks the host 127.0.0.1:{port} up in DNS: {pinged}"
    );

    // No host anywhere: asyncpg tries its socket directories, then localhost.
    let env = envs(&[("PGPORT", port.clone()), ("LOGNAME", "postgres".into())]);
    let (result, explained) = run_json(
        dbtool(dir.path())
            .args(["check-url", "--format", "json", asyncpg])
            .envs(env.clone()),
    );
    assert_eq!(result.code, 0, "{explained}");
    let hosts: Vec<&str> = explained["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "/run/postgresql",
            "/var/run/postgresql",
            "/tmp",
            "/private/tmp",
            "localhost"
        ],
        "{explained}"
    );
    let (result, pinged) = run_json(
        dbtool(dir.path())
            .args(["ping", "--format", "json", asyncpg])
            .envs(env),
    );
    assert_eq!(result.code, 0, "{}\n{pinged}", result.stderr);
    assert_eq!(pinged["target"], format!("localhost:{port}"), "{pinged}");
}

#[test]
fn asyncpg_reads_the_password_file_its_own_way() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    // libpq unescapes `\:` in a password file line; asyncpg keeps the backslash.
    let password = "pw:colon";
    let cluster = Cluster::start(ClusterOptions {
        password: Some(password.into()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:*:postgres:pw\\:colon\n", cluster.port),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let url = |driver: &str| {
        format!(
            "postgresql+{driver}://postgres@127.0.0.1:{}/postgres",
            cluster.port
        )
    };
    let (result, pinged) =
        run_json(dbtool(dir.path()).args(["ping", "--format", "json", &url("psycopg")]));
    assert_eq!(result.code, 0, "{}\n{pinged}", result.stderr);
    let (result, pinged) =
        run_json(dbtool(dir.path()).args(["ping", "--format", "json", &url("asyncpg")]));
    assert_eq!(
        (result.code, pinged["status"].as_str()),
        (1, Some("rejecting")),
        "asyncpg sends pw\\:colon: {pinged}"
    );
    let (_, explained) =
        run_json(dbtool(dir.path()).args(["check-url", "--format", "json", &url("asyncpg")]));
    assert_eq!(
        explained["driver_connection"]["password_source"]["passfile"],
        pgpass.display().to_string(),
        "{explained}"
    );
    assert!(
        explained
            .to_string()
            .contains("supplies it, as asyncpg reads it"),
        "{explained}"
    );
    for output in [&result.stdout, &result.stderr] {
        assert!(!output.contains("colon"), "{output}");
    }
}
