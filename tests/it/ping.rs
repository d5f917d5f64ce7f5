//! `dbtool ping` against real clusters: ready, refused, unresolvable, missing database, passwords,
//! waiting, too many connections, TLS modes, several hosts, a bad URL.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::cli::{dbtool, dbtool_process, run, run_json};
use crate::pg::{Cluster, ClusterOptions, TestDb, TlsFiles};
use crate::require::{Requirement, require};

fn ping_json(dir: &std::path::Path, url: &str, extra: &[&str]) -> (crate::cli::Run, Value) {
    let mut command = dbtool(dir);
    command
        .args(["ping", "--format", "json", "--connect-timeout", "5", url])
        .args(extra);
    run_json(&mut command)
}

fn stage_names(json: &Value) -> Vec<String> {
    json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_ready_server_accepts_with_every_stage_and_facts() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = ping_json(dir.path(), &db.url, &[]);
    assert_eq!(result.code, 0, "{json}");
    assert_eq!(json["status"], "accepting");
    assert_eq!(json["ready"], true);
    assert_eq!(
        stage_names(&json),
        [
            "resolve", "connect", "tls", "auth", "pre-ping", "server", "pooler"
        ]
    );
    // PostgreSQL itself: no pooler, and no false alarm about one.
    assert_eq!(json["pooler"], serde_json::Value::Null, "{json}");
    assert!(json["server"]["max_connections"].as_i64().unwrap() > 0);
    assert_eq!(json["server"]["in_recovery"], false);
    let table = run(dbtool(dir.path()).args(["ping", &db.url]));
    assert!(
        table
            .stdout
            .lines()
            .next()
            .unwrap()
            .ends_with(" - accepting connections"),
        "{}",
        table.stdout
    );
    let (_, json) = ping_json(dir.path(), &db.url, &["--count", "3", "--interval", "0"]);
    assert_eq!(json["round_trips"]["count"], 3);
}

#[test]
fn refused_unresolvable_and_bad_urls_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = ping_json(
        dir.path(),
        &format!("postgresql://u@127.0.0.1:{}/d", free_port()),
        &[],
    );
    assert_eq!(
        (result.code, json["status"].as_str()),
        (2, Some("no_response")),
        "{json}"
    );
    assert_eq!(stage_names(&json), ["resolve", "connect"]);
    assert!(
        json["hint"]
            .as_str()
            .unwrap()
            .contains("is the server running"),
        "{json}"
    );
    let (result, json) = ping_json(dir.path(), "postgresql://u@no-such-host.invalid/d", &[]);
    assert_eq!(
        (result.code, json["status"].as_str()),
        (2, Some("no_response")),
        "{json}"
    );
    assert_eq!(stage_names(&json), ["resolve"]);
    let (result, json) = ping_json(
        dir.path(),
        "postgresql://u:pw-in-bad-url@h:99999999/d?bogus=1",
        &[],
    );
    assert_eq!(
        (result.code, json["status"].as_str()),
        (3, Some("no_attempt")),
        "{json}"
    );
    assert!(!result.stdout.contains("pw-in-bad-url") && !result.stderr.contains("pw-in-bad-url"));
}

#[test]
fn a_missing_database_is_rejecting_with_the_createdb_command() {
    let db = TestDb::new();
    let url = db.url.replace(&db.name, "no_such_db");
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = ping_json(dir.path(), &url, &[]);
    assert_eq!(
        (result.code, json["status"].as_str()),
        (1, Some("rejecting")),
        "{json}"
    );
    let hint = json["hint"].as_str().unwrap();
    assert!(
        hint.contains("createdb -h 127.0.0.1") && hint.contains("no_such_db"),
        "{hint}"
    );
}

#[test]
fn passwords_come_from_the_url_pgpassword_and_pgpass() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let password = "Pw-for-ping-tests";
    let cluster = Cluster::start(ClusterOptions {
        password: Some(password.into()),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bare = format!("postgresql://postgres@127.0.0.1:{}/postgres", cluster.port);
    let wrong = format!(
        "postgresql://postgres:wrong@127.0.0.1:{}/postgres",
        cluster.port
    );
    let (result, json) = ping_json(dir.path(), &wrong, &[]);
    assert_eq!(
        (result.code, json["status"].as_str()),
        (1, Some("rejecting")),
        "{json}"
    );
    assert!(
        json["hint"].as_str().unwrap().contains("PGPASSWORD"),
        "{json}"
    );
    let (result, _) = ping_json(dir.path(), &cluster.url("postgres"), &[]);
    assert_eq!(result.code, 0);
    let mut command = dbtool(dir.path());
    command
        .args(["ping", "--format", "json", &bare])
        .env("PGPASSWORD", password);
    let (result, json) = run_json(&mut command);
    assert_eq!(result.code, 0, "{json}");
    assert!(
        json["stages"][3]["detail"]
            .as_str()
            .unwrap()
            .contains("PGPASSWORD")
    );
    let pgpass = dir.path().join(".pgpass");
    fs::write(
        &pgpass,
        format!("127.0.0.1:{}:*:postgres:{password}\n", cluster.port),
    )
    .unwrap();
    fs::set_permissions(&pgpass, fs::Permissions::from_mode(0o600)).unwrap();
    let (result, json) = ping_json(dir.path(), &bare, &[]);
    assert_eq!(result.code, 0, "{json}");
    assert!(
        json["stages"][3]["detail"]
            .as_str()
            .unwrap()
            .contains(".pgpass"),
        "{json}"
    );
    fs::set_permissions(&pgpass, fs::Permissions::from_mode(0o644)).unwrap();
    let (result, _) = ping_json(dir.path(), &bare, &[]);
    assert_eq!(
        result.code, 1,
        "a group-readable .pgpass is ignored, as libpq does"
    );
    assert!(result.stderr.contains("chmod 600"), "{}", result.stderr);
    for output in [&result.stdout, &result.stderr] {
        assert!(!output.contains(password));
    }
}

#[test]
fn wait_retries_until_the_server_comes_up() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap();
    cluster.stop().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let child = dbtool_process(dir.path())
        .args([
            "ping",
            "--format",
            "json",
            "--wait",
            "--timeout",
            "60",
            "--connect-timeout",
            "2",
            &cluster.url("postgres"),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    cluster.start_again().unwrap();
    let output = child.wait_with_output().unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert!(json["waited"]["attempts"].as_u64().unwrap() > 1, "{json}");
    let (result, json) = ping_json(
        dir.path(),
        &format!("postgresql://u@127.0.0.1:{}/d", free_port()),
        &["--wait", "--timeout", "1"],
    );
    assert_eq!(result.code, 2, "the last attempt's exit code: {json}");
}

#[test]
fn too_many_connections_is_rejecting() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions {
        max_connections: Some(5),
        ..Default::default()
    })
    .unwrap();
    // 5 connections, 3 reserved for superusers: an ordinary role gets 2.
    crate::pg::execute(&cluster.url("postgres"), "CREATE ROLE app LOGIN").unwrap();
    let app = format!("postgresql://app@127.0.0.1:{}/postgres", cluster.port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _held: Vec<_> = (0..2)
        .map(|_| {
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&app, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                client
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = ping_json(dir.path(), &app, &[]);
    assert_eq!(
        (result.code, json["status"].as_str()),
        (1, Some("rejecting")),
        "{json}"
    );
    assert!(
        json["hint"].as_str().unwrap().contains("max_connections"),
        "{json}"
    );
}

#[test]
fn several_hosts_are_tried_in_order() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let db = TestDb::new();
    let port = db
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let url = format!(
        "postgresql://postgres@127.0.0.1:{},127.0.0.1:{port}/{}",
        free_port(),
        db.name
    );
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = ping_json(dir.path(), &url, &[]);
    assert_eq!(result.code, 0, "{json}");
    let attempts = json["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (
            attempts[0]["status"].as_str(),
            attempts[1]["status"].as_str()
        ),
        (Some("no_response"), Some("accepting"))
    );
    let (result, json) = ping_json(
        dir.path(),
        &format!("{url}?target_session_attrs=standby"),
        &[],
    );
    assert_eq!(result.code, 1, "no standby among them: {json}");
    let (result, _) = ping_json(
        dir.path(),
        &format!("{url}?target_session_attrs=prefer-standby"),
        &[],
    );
    assert_eq!(result.code, 0);
}

/// A CA and a server certificate for `localhost`, generated for this test run.
fn certificates() -> (String, String, String) {
    let (ca, cert, key, _, _) = certificates_with_client();
    (ca, cert, key)
}

/// A CA, a server certificate for localhost and a client certificate for the user `postgres`, all
/// signed by that CA: (ca, server cert, server key, client cert, client key).
fn certificates_with_client() -> (String, String, String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "dbtool test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let mut client_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "postgres");
    let client = client_params.signed_by(&client_key, &ca, &ca_key).unwrap();
    (
        ca.pem(),
        server.pem(),
        server_key.serialize_pem(),
        client.pem(),
        client_key.serialize_pem(),
    )
}

#[test]
fn a_server_that_requires_a_client_certificate_accepts_sslcert_and_sslkey() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let (ca, cert_pem, key_pem, client_pem, client_key_pem) = certificates_with_client();
    let cluster = Cluster::start(ClusterOptions {
        tls: Some(TlsFiles {
            cert_pem,
            key_pem,
            client_ca_pem: Some(ca.clone()),
        }),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        path.display().to_string()
    };
    let (ca, cert, key) = (
        write("ca.crt", &ca),
        write("client.crt", &client_pem),
        write("client.key", &client_key_pem),
    );
    let url = |query: &str| {
        format!(
            "postgresql://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={ca}{query}",
            cluster.port
        )
    };
    let (result, json) = ping_json(
        dir.path(),
        &url(&format!("&sslcert={cert}&sslkey={key}")),
        &[],
    );
    assert_eq!(
        (result.code, json["status"].as_str()),
        (0, Some("accepting")),
        "{json}"
    );
    // Without the certificate the server refuses at authentication.
    let (result, json) = ping_json(dir.path(), &url(""), &[]);
    assert_eq!(result.code, 1, "{json}");
    assert!(json.to_string().contains("certificate"), "{json}");
    // A certificate without its key is a usage error, found before connecting.
    let (result, _) = ping_json(dir.path(), &url(&format!("&sslcert={cert}")), &[]);
    assert_eq!(result.code, 3);
}

#[test]
fn every_sslmode_against_a_tls_server_and_require_against_a_plain_one() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let (ca, cert_pem, key_pem) = certificates();
    let cluster = Cluster::start(ClusterOptions {
        tls: Some(TlsFiles {
            cert_pem,
            key_pem,
            client_ca_pem: None,
        }),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.crt");
    fs::write(&ca_path, ca).unwrap();
    let ca = ca_path.display().to_string();
    let url = |host: &str, query: &str| {
        format!(
            "postgresql://postgres@{host}:{}/postgres?{query}",
            cluster.port
        )
    };
    for (host, query, code, tls_word) in [
        (
            "localhost",
            "sslmode=disable".to_string(),
            0,
            "not requested",
        ),
        ("localhost", "sslmode=allow".to_string(), 0, "not requested"),
        ("localhost", "sslmode=prefer".to_string(), 0, "not verified"),
        (
            "localhost",
            "sslmode=require".to_string(),
            0,
            "not verified",
        ),
        (
            "127.0.0.1",
            format!("sslmode=verify-ca&sslrootcert={ca}"),
            0,
            "host name not checked",
        ),
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={ca}"),
            0,
            "host name verified",
        ),
        (
            "127.0.0.1",
            format!("sslmode=verify-full&sslrootcert={ca}"),
            1,
            "TLS handshake failed",
        ),
    ] {
        let (result, json) = ping_json(dir.path(), &url(host, &query), &[]);
        assert_eq!(result.code, code, "{host} {query}: {json}");
        let tls = json["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "tls")
            .unwrap();
        assert!(
            tls["detail"].as_str().unwrap().contains(tls_word),
            "{host} {query}: {tls}"
        );
    }
    let other_ca = certificates().0;
    fs::write(&ca_path, other_ca).unwrap();
    let (result, _) = ping_json(
        dir.path(),
        &url(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
        &[],
    );
    assert_eq!(result.code, 1, "a certificate from another CA is refused");
    let db = TestDb::new();
    let (result, json) = ping_json(dir.path(), &format!("{}?sslmode=require", db.url), &[]);
    assert_eq!(
        (result.code, json["status"].as_str()),
        (1, Some("rejecting")),
        "{json}"
    );
    assert!(json["hint"].as_str().unwrap().contains("ssl"), "{json}");
}

#[test]
fn capacity_warnings_compare_the_pool_with_the_server() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = ping_json(
        dir.path(),
        &db.url,
        &[
            "--workers",
            "50",
            "--pool-size",
            "10",
            "--max-overflow",
            "10",
        ],
    );
    assert_eq!(result.code, 0);
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"pool-exceeds-server"), "{json}");
    let (_, json) = ping_json(dir.path(), &db.url, &["--workers", "1"]);
    assert!(json["findings"].as_array().unwrap().is_empty(), "{json}");
}

/// ping connects as the application does: a `%` escape psql refuses is taken literally by
/// SQLAlchemy (the password `p%zz`), so a psycopg URL with it still reaches the server.
#[test]
fn a_url_the_application_reads_but_libpq_refuses_is_pinged_as_the_application_reads_it() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.replacen(
        "postgresql://postgres@",
        "postgresql+psycopg://postgres:p%zz@",
        1,
    );
    assert_ne!(
        url, db.url,
        "the test URL has the shape postgresql://postgres@..."
    );
    let (result, json) = ping_json(dir.path(), &url, &[]);
    assert_eq!(result.code, 0, "{json}\n{}", result.stderr);
    assert_eq!(json["status"], "accepting");
    // psql's reading of the same string is refused: plain libpq URLs keep libpq's rules.
    let plain = url.replacen("postgresql+psycopg://", "postgresql://", 1);
    let (result, _) = ping_json(dir.path(), &plain, &[]);
    assert_eq!(result.code, 3);
}
