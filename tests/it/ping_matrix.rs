//! The differential matrix: `dbtool ping` against the system libpq on the same servers and URLs.
//!
//! Five servers (a certificate for localhost and 127.0.0.1 from a test CA, one for another name,
//! an expired one, a self-signed one, and TLS off), each with three databases whose pg_hba.conf
//! lines require TLS (`hostssl`), refuse it (`hostnossl`) or take either (`host`), and five
//! roles authenticated by trust, scram-sha-256, md5, password and client certificate. The URLs
//! vary sslmode, sslrootcert (none, the CA, a foreign CA, a missing file, `system`),
//! sslcert/sslkey, and the host (by name, by address, the Unix socket). Every cell is connected
//! by `scripts/libpq-oracle/connect.c` (PQconnectStart/PQconnectPoll, the class of the failure)
//! and by `dbtool ping --libpq-version MAJOR`; they must agree on success and on the class
//! (rejecting, no_response, no_attempt) in every cell.
//!
//! Runs when `LIBPQ_CONNECT` names the built program (`scripts/test` builds it) and
//! `LIBPQ_ORACLE_MAJOR` its libpq major version; otherwise it says so and passes.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use crate::cli::{dbtool, run_json};
use crate::pg::{Cluster, ClusterOptions, TlsFiles, execute};
use crate::require::{Requirement, require};

const PASSWORD: &str = "matrix-pw";
const THREADS: usize = 4;

/// The roles and how pg_hba.conf authenticates them.
const ROLES: [(&str, &str); 5] = [
    ("trust_user", "trust"),
    ("scram_user", "scram-sha-256"),
    ("md5_user", "md5"),
    ("password_user", "password"),
    ("cert_user", "cert"),
];

/// The databases and the pg_hba.conf connection type that admits them over TCP.
const DATABASES: [(&str, &str); 3] = [
    ("tls_required", "hostssl"),
    ("tls_refused", "hostnossl"),
    ("tls_optional", "host"),
];

const SSLMODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// A test CA's certificate, and a key to sign with.
struct Authority {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        Authority {
            cert: params.self_signed(&key).unwrap(),
            key,
        }
    }

    /// A certificate for these names (DNS names or IP addresses) signed by this CA, or by itself.
    fn issue(&self, names: &[&str], expired: bool, self_signed: bool) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = if self_signed {
            params.self_signed(&key).unwrap()
        } else {
            params.signed_by(&key, &self.cert, &self.key).unwrap()
        };
        (cert.pem(), key.serialize_pem())
    }
}

/// The five server configurations.
const SERVERS: [&str; 5] = ["valid", "other-name", "expired", "self-signed", "no-tls"];

fn hba() -> String {
    let mut lines = vec!["local all all trust".to_string()];
    for (db, kind) in DATABASES {
        for (role, method) in ROLES {
            // Certificate authentication exists only over TLS.
            if method == "cert" && kind != "hostssl" && kind != "host" {
                continue;
            }
            let kind = if method == "cert" { "hostssl" } else { kind };
            lines.push(format!("{kind} {db} {role} 127.0.0.1/32 {method}"));
        }
    }
    lines.join("\n") + "\n"
}

fn start_servers(ca: &Authority) -> Vec<(&'static str, Cluster)> {
    let files: Vec<(&'static str, Option<TlsFiles>)> = SERVERS
        .iter()
        .map(|&server| {
            let issued = match server {
                "valid" => Some(ca.issue(&["localhost", "127.0.0.1"], false, false)),
                "other-name" => Some(ca.issue(&["db.example.com"], false, false)),
                "expired" => Some(ca.issue(&["localhost", "127.0.0.1"], true, false)),
                "self-signed" => Some(ca.issue(&["localhost", "127.0.0.1"], false, true)),
                _ => None,
            };
            let tls = issued.map(|(cert_pem, key_pem)| TlsFiles {
                cert_pem,
                key_pem,
                client_ca_pem: Some(ca.cert.pem()),
            });
            (server, tls)
        })
        .collect();
    let handles: Vec<_> = files
        .into_iter()
        .map(|(server, tls)| {
            std::thread::spawn(move || {
                let cluster = Cluster::start(ClusterOptions {
                    tls,
                    hba: Some(hba()),
                    ..Default::default()
                })
                .unwrap_or_else(|e| panic!("{server}: {e}"));
                let mut sql = String::new();
                for (role, method) in ROLES {
                    let encryption = if method == "md5" {
                        "md5"
                    } else {
                        "scram-sha-256"
                    };
                    sql.push_str(&format!(
                        "SET password_encryption = '{encryption}'; \
                         CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}';"
                    ));
                }
                for (db, _) in DATABASES {
                    sql.push_str(&format!("CREATE DATABASE {db};"));
                }
                if server == "no-tls" {
                    // A read-only server for target_session_attrs.
                    sql.push_str("ALTER SYSTEM SET default_transaction_read_only = on;");
                    sql.push_str("SELECT pg_reload_conf();");
                }
                for statement in sql.split_inclusive(';') {
                    execute(&cluster.socket_url("postgres"), statement)
                        .unwrap_or_else(|e| panic!("{server}: {e}"));
                }
                (server, cluster)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// One cell: where it sits in the matrix and the URL both clients connect with.
struct Cell {
    labels: Vec<String>,
    uri: String,
}

/// The files a URL may name.
struct Files {
    ca: String,
    foreign_ca: String,
    missing: String,
    client_cert: String,
    client_key: String,
}

fn write_files(dir: &Path, ca: &Authority) -> Files {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        path.display().to_string()
    };
    let (client_cert, client_key) = {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "cert_user");
        let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Files {
        ca: write("ca.crt", &ca.cert.pem()),
        foreign_ca: write("foreign.crt", &Authority::new("foreign CA").cert.pem()),
        missing: dir.join("missing.crt").display().to_string(),
        client_cert: write("client.crt", &client_cert),
        client_key: write("client.key", &client_key),
    }
}

/// A URL cell builder: user, database, host, port and query options.
#[allow(clippy::too_many_arguments)]
fn cell(
    server: &str,
    cluster: &Cluster,
    host: &str,
    role: &str,
    password: bool,
    db: &str,
    sslmode: &str,
    root: (&str, Option<&str>),
    client_cert: Option<(&str, &str)>,
) -> Cell {
    let mut query = vec![format!("sslmode={sslmode}")];
    if let Some(path) = root.1 {
        query.push(format!("sslrootcert={path}"));
    }
    if let Some((cert, key)) = client_cert {
        query.push(format!("sslcert={cert}"));
        if !key.is_empty() {
            query.push(format!("sslkey={key}"));
        }
    }
    let auth = if password {
        format!("{role}:{PASSWORD}@")
    } else {
        format!("{role}@")
    };
    let (authority, host_label) = if host == "socket" {
        query.push(format!("host={}", cluster.socket_dir.display()));
        query.push(format!("port={}", cluster.port));
        (auth, "socket".to_string())
    } else {
        (format!("{auth}{host}:{}", cluster.port), host.to_string())
    };
    let client_label = match client_cert {
        None => "no client cert",
        Some((_, "")) => "sslcert without key",
        Some(_) => "client cert",
    };
    Cell {
        labels: vec![
            format!("server={server}"),
            format!("db={db}"),
            format!(
                "user={role}{}",
                if password { "" } else { " (no password)" }
            ),
            format!("sslmode={sslmode}"),
            format!("sslrootcert={}", root.0),
            client_label.to_string(),
            format!("host={host_label}"),
        ],
        uri: format!("postgresql://{authority}/{db}?{}", query.join("&")),
    }
}

fn cells(servers: &[(&'static str, Cluster)], files: &Files) -> Vec<Cell> {
    let roots = [
        ("none", None),
        ("CA", Some(files.ca.as_str())),
        ("foreign CA", Some(files.foreign_ca.as_str())),
    ];
    let mut cells = Vec::new();
    // TLS: every server, database policy, sslmode and root certificate, by name and address.
    for (server, cluster) in servers {
        for (db, _) in DATABASES {
            for sslmode in SSLMODES {
                for root in roots {
                    for host in ["localhost", "127.0.0.1"] {
                        cells.push(cell(
                            server,
                            cluster,
                            host,
                            "trust_user",
                            true,
                            db,
                            sslmode,
                            root,
                            None,
                        ));
                    }
                }
            }
        }
    }
    let (valid, cluster) = (&servers[0].0, &servers[0].1);
    let client = (files.client_cert.as_str(), files.client_key.as_str());
    // Authentication: every role, with and without a client certificate, with and without a
    // password.
    for (role, _) in ROLES {
        for (db, _) in DATABASES {
            for sslmode in SSLMODES {
                for client_cert in [None, Some(client)] {
                    cells.push(cell(
                        valid,
                        cluster,
                        "localhost",
                        role,
                        true,
                        db,
                        sslmode,
                        roots[1],
                        client_cert,
                    ));
                }
                if role != "trust_user" && role != "cert_user" {
                    cells.push(cell(
                        valid,
                        cluster,
                        "localhost",
                        role,
                        false,
                        db,
                        sslmode,
                        roots[0],
                        None,
                    ));
                }
            }
        }
    }
    // Files libpq reads only when TLS starts, and sslrootcert=system.
    let missing = ("missing file", Some(files.missing.as_str()));
    let system = ("system", Some("system"));
    for (server, cluster) in [&servers[0], &servers[4]] {
        for (db, _) in DATABASES {
            for sslmode in SSLMODES {
                for root in [missing, system] {
                    cells.push(cell(
                        server,
                        cluster,
                        "localhost",
                        "trust_user",
                        true,
                        db,
                        sslmode,
                        root,
                        None,
                    ));
                }
                cells.push(cell(
                    server,
                    cluster,
                    "localhost",
                    "trust_user",
                    true,
                    db,
                    sslmode,
                    roots[0],
                    Some((files.client_cert.as_str(), "")),
                ));
            }
        }
    }
    // Several hosts: the next one only after a host that did not answer or is not what
    // target_session_attrs asks for (no-tls is read-only); a TLS or authentication refusal ends
    // the connection.
    let (other, no_tls) = (&servers[1].1, &servers[4].1);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let multi = [
        (
            "closed port, valid",
            vec![closed, cluster.port],
            "sslmode=prefer",
            "trust_user:PW",
        ),
        (
            "other-name, valid",
            vec![other.port, cluster.port],
            "sslmode=verify-full",
            "trust_user:PW",
        ),
        (
            "no-tls, valid",
            vec![no_tls.port, cluster.port],
            "sslmode=require",
            "trust_user:PW",
        ),
        (
            "valid, no-tls",
            vec![cluster.port, no_tls.port],
            "sslmode=prefer",
            "scram_user:wrong",
        ),
        (
            "no-tls, valid",
            vec![no_tls.port, cluster.port],
            "target_session_attrs=read-write",
            "trust_user:PW",
        ),
        (
            "valid, no-tls",
            vec![cluster.port, no_tls.port],
            "target_session_attrs=read-only",
            "trust_user:PW",
        ),
        (
            "valid, no-tls",
            vec![cluster.port, no_tls.port],
            "target_session_attrs=standby",
            "trust_user:PW",
        ),
        (
            "no-tls, valid",
            vec![no_tls.port, cluster.port],
            "target_session_attrs=primary",
            "trust_user:PW",
        ),
        (
            "valid, no-tls",
            vec![cluster.port, no_tls.port],
            "target_session_attrs=prefer-standby",
            "trust_user:PW",
        ),
        (
            "closed port, no-tls",
            vec![closed, no_tls.port],
            "target_session_attrs=read-write",
            "trust_user:PW",
        ),
    ];
    for (servers_label, ports, query, auth) in multi {
        let hosts: Vec<String> = ports.iter().map(|p| format!("localhost:{p}")).collect();
        let auth = auth.replace("PW", PASSWORD);
        cells.push(Cell {
            labels: vec![
                format!("servers={servers_label}"),
                "db=tls_optional".into(),
                format!("auth={}", auth.replace(PASSWORD, "right password")),
                query.to_string(),
            ],
            uri: format!(
                "postgresql://{auth}@{}/tls_optional?{query}&sslrootcert={}",
                hosts.join(","),
                files.ca
            ),
        });
    }
    // The Unix socket: no TLS whatever the options say.
    for sslmode in SSLMODES {
        for root in [roots[0], roots[2], missing] {
            for role in ["trust_user", "scram_user"] {
                cells.push(cell(
                    valid,
                    cluster,
                    "socket",
                    role,
                    true,
                    "tls_required",
                    sslmode,
                    root,
                    None,
                ));
            }
        }
    }
    cells
}

/// libpq's outcome of each cell: `accepting` or the class of its failure, with its message.
fn libpq_outcomes(program: &Path, home: &Path, cells: &[Cell]) -> Vec<(String, String)> {
    let chunks: Vec<Vec<String>> = cells
        .chunks(cells.len().div_ceil(THREADS))
        .map(|chunk| chunk.iter().map(|c| c.uri.clone()).collect())
        .collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|uris| {
            let program = program.to_path_buf();
            let home = home.to_path_buf();
            std::thread::spawn(move || {
                let mut command = Command::new(program);
                for (name, _) in std::env::vars() {
                    if name.starts_with("PG") {
                        command.env_remove(name);
                    }
                }
                let mut child = command
                    .env("HOME", home)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("the libpq connect program runs");
                let mut stdin = child.stdin.take().unwrap();
                stdin
                    .write_all((uris.join("\n") + "\n").as_bytes())
                    .unwrap();
                drop(stdin);
                let output = child.wait_with_output().unwrap();
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(|line| {
                        let mut fields = line.splitn(3, '\t');
                        match (fields.next(), fields.next(), fields.next()) {
                            (Some("OK"), _, _) => ("accepting".to_string(), String::new()),
                            (Some("ERR"), Some(class), message) => {
                                (class.to_string(), message.unwrap_or_default().to_string())
                            }
                            _ => panic!("unexpected line from the connect program: {line}"),
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(outcomes.len(), cells.len(), "one line per cell");
    outcomes
}

/// dbtool ping's outcome of each cell, run with its HOME: its status, with the last stage's
/// detail and its hint.
fn ping_outcomes(homes: &[PathBuf], extra: &[&str], cells: &[Cell]) -> Vec<(String, String)> {
    let runs: Vec<(String, &PathBuf)> = cells.iter().map(|c| c.uri.clone()).zip(homes).collect();
    let chunk = runs.len().div_ceil(THREADS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .chunks(chunk)
            .map(|runs| {
                scope.spawn(move || {
                    runs.iter()
                        .map(|(uri, home)| {
                            let mut command = dbtool(home);
                            command
                                .args(["ping", "--format", "json", "--connect-timeout", "5"])
                                .args(extra)
                                .arg(uri);
                            let (_, json) = run_json(&mut command);
                            let status = json["status"].as_str().unwrap_or("?").to_string();
                            let detail = json["stages"]
                                .as_array()
                                .and_then(|s| s.last())
                                .map(|s| s["detail"].to_string())
                                .or_else(|| json["error"].as_str().map(str::to_string))
                                .unwrap_or_default();
                            (status, format!("{detail} / hint: {}", json["hint"]))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The servers and files both matrices use, started once.
struct Fixture {
    dir: tempfile::TempDir,
    files: Files,
    servers: Vec<(&'static str, Cluster)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::new("dbtool matrix CA");
        let files = write_files(dir.path(), &ca);
        let servers = start_servers(&ca);
        Fixture {
            dir,
            files,
            servers,
        }
    })
}

#[test]
fn ping_agrees_with_libpq_on_every_cell_of_the_tls_and_authentication_matrix() {
    if !require(&[Requirement::LibpqConnect, Requirement::LocalCluster]) {
        return;
    }
    let program = std::env::var("LIBPQ_CONNECT").expect("LIBPQ_CONNECT, as require checked");
    let major: u32 = std::env::var("LIBPQ_ORACLE_MAJOR")
        .expect("LIBPQ_ORACLE_MAJOR, as require checked")
        .parse()
        .expect("LIBPQ_ORACLE_MAJOR is a number");
    let Fixture {
        dir,
        files,
        servers,
    } = fixture();
    let cells = cells(servers, files);
    let libpq = libpq_outcomes(&PathBuf::from(program), dir.path(), &cells);
    let homes = vec![dir.path().to_path_buf(); cells.len()];
    let ping = ping_outcomes(&homes, &["--libpq-version", &major.to_string()], &cells);

    let mut by_outcome: BTreeMap<&str, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for ((cell, (expected, message)), (status, detail)) in cells.iter().zip(&libpq).zip(&ping) {
        *by_outcome.entry(expected.as_str()).or_default() += 1;
        if expected != status {
            disagreements.push(format!(
                "{}\n    libpq: {expected}: {message}\n    ping:  {status}: {detail}",
                cell.labels.join(", ")
            ));
        }
    }
    if let Ok(path) = std::env::var("PING_MATRIX_REPORT") {
        // Every cell's labels and both outcomes, tab-separated, for the README's table.
        let rows: Vec<String> = cells
            .iter()
            .zip(&libpq)
            .zip(&ping)
            .map(|((cell, (expected, message)), (status, _))| {
                format!(
                    "{}\t{expected}\t{status}\t{message}",
                    cell.labels.join("\t")
                )
            })
            .collect();
        fs::write(path, rows.join("\n") + "\n").unwrap();
    }
    eprintln!(
        "ping_matrix: libpq {major}: {} cells, {} agree; libpq outcomes {by_outcome:?}",
        cells.len(),
        cells.len() - disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} cells disagree:\n{}",
        disagreements.len(),
        cells.len(),
        disagreements.join("\n")
    );
}

/// The fixture the asyncpg matrix is compared with, recorded from the real asyncpg.
const ASYNCPG_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/asyncpg_matrix.tsv"
);

/// An asyncpg cell: the SQLAlchemy URL ping reads, the arguments SQLAlchemy's dialect passes to
/// asyncpg.connect(), and the HOME whose ~/.postgresql both read.
struct AsyncpgCell {
    cell: Cell,
    kwargs: serde_json::Value,
    home: PathBuf,
}

/// HOME directories: none, the CA, a foreign CA as ~/.postgresql/root.crt, and the CA with the
/// cert_user client certificate as ~/.postgresql/postgresql.crt/.key.
fn asyncpg_homes(dir: &Path, files: &Files) -> Vec<(&'static str, PathBuf)> {
    let homes = [
        ("none", vec![]),
        ("CA", vec![("root.crt", &files.ca)]),
        ("foreign CA", vec![("root.crt", &files.foreign_ca)]),
        (
            "CA and client cert",
            vec![
                ("root.crt", &files.ca),
                ("postgresql.crt", &files.client_cert),
                ("postgresql.key", &files.client_key),
            ],
        ),
    ];
    homes
        .into_iter()
        .map(|(label, copies)| {
            let home = dir.join(format!("home-{}", label.replace(' ', "-")));
            fs::create_dir_all(home.join(".postgresql")).unwrap();
            for (name, source) in copies {
                let path = home.join(".postgresql").join(name);
                fs::copy(source, &path).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            }
            (label, home)
        })
        .collect()
}

fn asyncpg_cells(
    servers: &[(&'static str, Cluster)],
    homes: &[(&'static str, PathBuf)],
) -> Vec<AsyncpgCell> {
    let mut cells = Vec::new();
    let mut push = |server: &str,
                    cluster: &Cluster,
                    host: &str,
                    role: &str,
                    db: &str,
                    ssl: Option<&str>,
                    home: &(&str, PathBuf)| {
        let mut kwargs = serde_json::json!({
            "user": role,
            "password": PASSWORD,
            "database": db,
            "home": home.1.display().to_string(),
        });
        let (url_host, port) = if host == "socket" {
            (cluster.socket_dir.display().to_string(), cluster.port)
        } else {
            (host.to_string(), cluster.port)
        };
        kwargs["host"] = url_host.clone().into();
        kwargs["port"] = port.into();
        let mut query = Vec::new();
        if let Some(ssl) = ssl {
            kwargs["ssl"] = ssl.into();
            query.push(format!("ssl={ssl}"));
        }
        let uri = if host == "socket" {
            query.push(format!("host={url_host}"));
            query.push(format!("port={port}"));
            format!(
                "postgresql+asyncpg://{role}:{PASSWORD}@/{db}?{}",
                query.join("&")
            )
        } else {
            format!(
                "postgresql+asyncpg://{role}:{PASSWORD}@{host}:{port}/{db}?{}",
                query.join("&")
            )
        };
        cells.push(AsyncpgCell {
            cell: Cell {
                labels: vec![
                    format!("server={server}"),
                    format!("db={db}"),
                    format!("user={role}"),
                    format!("ssl={}", ssl.unwrap_or("(absent)")),
                    format!("home={}", home.0),
                    format!("host={host}"),
                ],
                uri,
            },
            kwargs,
            home: home.1.clone(),
        });
    };
    let modes: Vec<Option<&str>> = std::iter::once(None).chain(SSLMODES.map(Some)).collect();
    for (server, cluster) in servers {
        for (db, _) in DATABASES {
            for &ssl in &modes {
                for home in &homes[..3] {
                    for host in ["localhost", "127.0.0.1"] {
                        push(server, cluster, host, "trust_user", db, ssl, home);
                    }
                }
            }
        }
    }
    let (valid, cluster) = (&servers[0].0, &servers[0].1);
    for (role, _) in ROLES {
        for (db, _) in DATABASES {
            for &ssl in &modes {
                push(valid, cluster, "localhost", role, db, ssl, &homes[3]);
            }
        }
    }
    for &ssl in &modes {
        for home in [&homes[0], &homes[2]] {
            push(
                valid,
                cluster,
                "socket",
                "scram_user",
                "tls_required",
                ssl,
                home,
            );
        }
    }
    cells
}

/// Runs the real asyncpg on every cell (record mode): the versions line, then one outcome each.
fn record_asyncpg(python: &str, cells: &[AsyncpgCell]) -> (String, Vec<(String, String)>) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/asyncpg-matrix/connect.py"
    );
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python with asyncpg runs");
    let mut stdin = child.stdin.take().unwrap();
    let input: Vec<String> = cells.iter().map(|c| c.kwargs.to_string()).collect();
    stdin
        .write_all((input.join("\n") + "\n").as_bytes())
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let versions = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ")
        .to_string();
    let outcomes: Vec<(String, String)> = lines
        .map(|line| {
            let mut fields = line.splitn(3, '\t');
            match (fields.next(), fields.next(), fields.next()) {
                (Some("OK"), _, _) => ("accepting".to_string(), String::new()),
                (Some("ERR"), Some(class), message) => {
                    (class.to_string(), message.unwrap_or_default().to_string())
                }
                _ => panic!("unexpected line from connect.py: {line}"),
            }
        })
        .collect();
    assert_eq!(outcomes.len(), cells.len(), "one line per cell");
    (versions, outcomes)
}

/// The recorded outcomes by cell labels.
fn read_asyncpg_fixture() -> BTreeMap<String, (String, String)> {
    let text = fs::read_to_string(ASYNCPG_FIXTURE).expect("tests/fixtures/asyncpg_matrix.tsv");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.splitn(3, '\t').collect();
            (
                fields[0].to_string(),
                (
                    fields[1].to_string(),
                    fields.get(2).unwrap_or(&"").to_string(),
                ),
            )
        })
        .collect()
}

/// ping on asyncpg URLs follows asyncpg's rules (its ssl modes: allow and prefer never verify,
/// retries only after authentication errors, root files checked before connecting), compared
/// with outcomes recorded from asyncpg itself. `ASYNCPG_MATRIX_RECORD=PYTHON` (a Python with
/// asyncpg: `python3 -m venv /tmp/venv20 && /tmp/venv20/bin/pip install asyncpg==0.32.0`)
/// records the fixture anew.
#[test]
fn ping_agrees_with_asyncpg_on_every_cell_of_its_matrix() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let Fixture {
        dir,
        files,
        servers,
    } = fixture();
    let homes = asyncpg_homes(dir.path(), files);
    let cells = asyncpg_cells(servers, &homes);
    let key = |cell: &AsyncpgCell| cell.cell.labels.join(" | ");
    if let Ok(python) = std::env::var("ASYNCPG_MATRIX_RECORD") {
        let (versions, outcomes) = record_asyncpg(&python, &cells);
        let server =
            crate::pg::query_column(&servers[0].1.socket_url("postgres"), "SHOW server_version")
                .unwrap()
                .join("");
        let mut text = format!(
            "# recorded by tests/it/ping_matrix.rs (ASYNCPG_MATRIX_RECORD) with {versions}, PostgreSQL {server}\n\
             # cell labels<TAB>outcome<TAB>asyncpg's exception\n"
        );
        // Without this run's directory and ports, so a new recording differs only where
        // asyncpg does.
        let stable = |message: &str| {
            let mut message = message.replace(&dir.path().display().to_string(), "<dir>");
            for (_, cluster) in servers {
                message = message.replace(&cluster.port.to_string(), "<port>");
            }
            message
        };
        for (cell, (outcome, message)) in cells.iter().zip(&outcomes) {
            text.push_str(&format!("{}\t{outcome}\t{}\n", key(cell), stable(message)));
        }
        fs::write(ASYNCPG_FIXTURE, text).unwrap();
    }
    let recorded = read_asyncpg_fixture();
    let plain: Vec<Cell> = cells
        .iter()
        .map(|c| Cell {
            labels: c.cell.labels.clone(),
            uri: c.cell.uri.clone(),
        })
        .collect();
    let cell_homes: Vec<PathBuf> = cells.iter().map(|c| c.home.clone()).collect();
    let ping = ping_outcomes(&cell_homes, &[], &plain);
    let mut disagreements = Vec::new();
    for (cell, (status, detail)) in cells.iter().zip(&ping) {
        let (expected, message) = recorded
            .get(&key(cell))
            .unwrap_or_else(|| panic!("{} is not in the fixture: record it anew", key(cell)));
        if expected != status {
            disagreements.push(format!(
                "{}\n    asyncpg: {expected}: {message}\n    ping:    {status}: {detail}",
                key(cell)
            ));
        }
    }
    eprintln!(
        "ping_matrix: asyncpg: {} cells, {} agree",
        cells.len(),
        cells.len() - disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} cells disagree:\n{}",
        disagreements.len(),
        cells.len(),
        disagreements.join("\n")
    );
}

/// ping's words on the matrix's servers: hints from the server's message, allow's retry shown
/// as a stage, the libpq version's reading of sslrootcert=system, asyncpg's differences.
#[test]
fn hints_retries_and_rules_are_shown() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let Fixture { dir, servers, .. } = fixture();
    let cluster = &servers[0].1;
    let ping = |uri: &str, extra: &[&str]| {
        let mut command = dbtool(dir.path());
        command
            .args(["ping", "--format", "json", "--connect-timeout", "5"])
            .args(extra)
            .arg(uri);
        run_json(&mut command).1
    };
    let url = |db: &str, query: &str| {
        format!(
            "postgresql://trust_user:{PASSWORD}@localhost:{}/{db}?{query}",
            cluster.port
        )
    };
    // A hostssl-only database without TLS: use TLS, not createuser.
    let json = ping(&url("tls_required", "sslmode=disable"), &[]);
    let hint = json["hint"].as_str().unwrap();
    assert_eq!(json["status"], "rejecting", "{json}");
    assert!(
        hint.contains("sslmode=require") && !hint.contains("createuser"),
        "{json}"
    );
    // A hostnossl-only database over TLS: the other way round.
    let json = ping(&url("tls_refused", "sslmode=require"), &[]);
    assert!(
        json["hint"].as_str().unwrap().contains("hostnossl"),
        "{json}"
    );
    // A role that does not exist (the socket is trusted): createuser.
    let ghost = format!(
        "postgresql://ghost@/postgres?host={}&port={}",
        cluster.socket_dir.display(),
        cluster.port
    );
    let json = ping(&ghost, &[]);
    assert!(
        json["hint"].as_str().unwrap().contains("createuser"),
        "{json}"
    );
    // allow: refused without TLS, then connected with it, both tries shown.
    let json = ping(&url("tls_required", "sslmode=allow"), &[]);
    assert_eq!(json["status"], "accepting", "{json}");
    let auth: Vec<&Value> = json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "auth")
        .collect();
    assert_eq!(auth.len(), 2, "{json}");
    assert!(
        auth[0]["detail"]
            .as_str()
            .unwrap()
            .contains("retrying with TLS"),
        "{json}"
    );
    // sslrootcert=system: a file named system in libpq 15, the system store and verify-full in 16+.
    let system = url("tls_optional", "sslmode=require&sslrootcert=system");
    let json = ping(&system, &["--libpq-version", "15"]);
    assert_eq!(json["status"], "accepting", "{json}");
    assert!(json.to_string().contains("libpq 15 rules"), "{json}");
    let json = ping(&system, &["--libpq-version", "16"]);
    assert_eq!(json["status"], "no_attempt", "{json}");
    assert!(
        json["error"].as_str().unwrap().contains("verify-full"),
        "{json}"
    );
    // asyncpg with a root certificate in ~/.postgresql: ssl=prefer does not verify, libpq would.
    let home = dir.path().join("home-asyncpg-differs");
    fs::create_dir_all(home.join(".postgresql")).unwrap();
    fs::write(
        home.join(".postgresql/root.crt"),
        Authority::new("other").cert.pem(),
    )
    .unwrap();
    let asyncpg = format!(
        "postgresql+asyncpg://trust_user:{PASSWORD}@localhost:{}/tls_optional?ssl=prefer",
        cluster.port
    );
    let mut command = dbtool(&home);
    command.args(["ping", "--format", "json", &asyncpg]);
    let (_, json) = run_json(&mut command);
    assert_eq!(json["status"], "accepting", "{json}");
    assert!(json.to_string().contains("asyncpg-tls-differs"), "{json}");
    let mut command = dbtool(&home);
    command.args(["check-url", "--format", "json", &asyncpg]);
    let (_, json) = run_json(&mut command);
    assert!(json.to_string().contains("asyncpg-tls-differs"), "{json}");
}
