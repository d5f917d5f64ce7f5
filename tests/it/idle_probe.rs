//! `ping --idle-probe` against real cutoffs: a stateful firewall that forgets idle flows (in
//! network namespaces the test builds: the server in one, dbtool in the other, a veth pair
//! between them with addresses of their own, conntrack with a short established timeout and
//! nf_conntrack_tcp_loose off, so a forgotten flow's next packet is INVALID and dropped, or
//! answered with a reset), PostgreSQL's `idle_session_timeout` and PgBouncer's
//! `client_idle_timeout`. Each measured cutoff must lie within one resolution step of the
//! configured one, with the right kind of death; and the probe leaves no session behind.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::cli::{BINARY, Run, dbtool, dbtool_process, isolated, run, run_json};
use crate::pg::{Cluster, ClusterOptions, Pgbouncer, query_column};
use crate::require::{Requirement, require};

const NETNS: &[Requirement] = &[Requirement::LocalCluster, Requirement::NetworkNamespaces];
const SERVER_ADDRESS: &str = "10.233.0.1";
const CLIENT_ADDRESS: &str = "10.233.0.2";

/// What the firewall does with a packet of a flow it forgot.
#[derive(Clone, Copy)]
enum Forgotten {
    Dropped,
    Reset,
}

/// Two network namespaces joined by a veth pair, with a stateful firewall in the server's;
/// removed when dropped.
struct Path2 {
    server: String,
    client: String,
}

fn sh(args: &[&str]) {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")));
    assert!(
        output.status.success(),
        "{}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Path2 {
    fn new(established_timeout_s: u32, forgotten: Forgotten) -> Path2 {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let id = format!(
            "{}{}",
            std::process::id() % 100_000,
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let path = Path2 {
            server: format!("dbts{id}"),
            client: format!("dbtc{id}"),
        };
        let (server, client) = (&path.server, &path.client);
        let (veth_server, veth_client) = (format!("vs{id}"), format!("vc{id}"));
        sh(&["ip", "netns", "add", server]);
        sh(&["ip", "netns", "add", client]);
        sh(&[
            "ip",
            "link",
            "add",
            &veth_server,
            "type",
            "veth",
            "peer",
            "name",
            &veth_client,
        ]);
        sh(&["ip", "link", "set", &veth_server, "netns", server]);
        sh(&["ip", "link", "set", &veth_client, "netns", client]);
        for (netns, veth, address) in [
            (server, &veth_server, SERVER_ADDRESS),
            (client, &veth_client, CLIENT_ADDRESS),
        ] {
            sh(&[
                "ip",
                "-n",
                netns,
                "addr",
                "add",
                &format!("{address}/30"),
                "dev",
                veth,
            ]);
            sh(&["ip", "-n", netns, "link", "set", veth, "up"]);
            sh(&["ip", "-n", netns, "link", "set", "lo", "up"]);
        }
        let timeout =
            format!("net.netfilter.nf_conntrack_tcp_timeout_established={established_timeout_s}");
        let verdict = match forgotten {
            Forgotten::Dropped => "drop",
            Forgotten::Reset => "reject with tcp reset",
        };
        // The rule loads the conntrack module for the namespace, so the sysctls exist after it.
        let rules = format!(
            "table inet idle {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n  iifname \"{veth_server}\" ct state invalid {verdict}\n }}\n}}\n"
        );
        let file = std::env::temp_dir().join(format!("dbtool-idle-{id}.nft"));
        std::fs::write(&file, rules).unwrap();
        sh(&[
            "ip",
            "netns",
            "exec",
            server,
            "nft",
            "-f",
            &file.display().to_string(),
        ]);
        let _ = std::fs::remove_file(&file);
        sh(&[
            "ip",
            "netns",
            "exec",
            server,
            "sysctl",
            "-qw",
            &timeout,
            "net.netfilter.nf_conntrack_tcp_loose=0",
        ]);
        path
    }

    /// A cluster of its own in the server's namespace, listening on its veth address too.
    fn cluster(&self) -> Cluster {
        Cluster::start(ClusterOptions {
            netns: Some(self.server.clone()),
            settings: vec![format!("listen_addresses = '127.0.0.1, {SERVER_ADDRESS}'")],
            hba: Some("local all all trust\nhost all all 0.0.0.0/0 trust\n".into()),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// dbtool, run in the client's namespace.
    fn dbtool(&self, dir: &Path, args: &[&str]) -> (Run, Value) {
        let mut command = isolated("ip", dir);
        command
            .args(["netns", "exec", &self.client, BINARY])
            .args(args);
        run_json(&mut assert_cmd::Command::from_std(command))
    }
}

impl Drop for Path2 {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and with it the other end.
        for netns in [&self.server, &self.client] {
            let _ = Command::new("ip").args(["netns", "del", netns]).output();
        }
    }
}

/// The idle report, after checking the measured cutoff lies within one resolution step of
/// `configured_s` and the death is `how`.
fn cutoff_near(report: &Value, configured_s: f64, how: &str) -> Value {
    let idle = report["idle"].clone();
    let cutoff = idle["cutoff_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("no cutoff: {idle:#}"));
    let resolution = idle["resolution_s"].as_f64().unwrap();
    assert_eq!(idle["how"], how, "{idle:#}");
    // The cutoff is the shortest idle that died; the true one lies in (cutoff - resolution,
    // cutoff]. A conntrack entry's timer restarts at the client's ACK, a little after the
    // answer dbtool times from: a small allowance for it.
    assert!(
        (cutoff - configured_s).abs() <= resolution + 0.15,
        "cutoff {cutoff} s (resolution {resolution} s) is not within one step of {configured_s} s: {idle:#}"
    );
    assert!(resolution <= 1.0, "the pass did not refine: {idle:#}");
    // The figures, for `cargo test -- --nocapture` (README, "The idle cutoff").
    eprintln!(
        "idle probe: {how} configured {configured_s} s, measured {}–{cutoff} s (resolution {resolution} s) in {} s",
        idle["lived_s"], idle["elapsed_s"]
    );
    idle
}

/// No probe session is left on the server.
fn nothing_left_behind(cluster: &Cluster) {
    let count = || {
        query_column(
            &cluster.socket_url("postgres"),
            "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = 'dbtool-idle-probe'",
        )
        .unwrap()
    };
    // A backend whose client said goodbye or was terminated exits a moment later.
    for _ in 0..40 {
        if count() == ["0"] {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(count(), ["0"], "the probe left sessions behind");
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_firewall_that_forgets_idle_flows_silently_is_measured_and_pool_recycle_held_against_it() {
    if !require(NETNS) {
        return;
    }
    let path = Path2::new(4, Forgotten::Dropped);
    let cluster = path.cluster();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgresql+asyncpg://postgres@{SERVER_ADDRESS}:{}/postgres",
        cluster.port
    );
    let (result, report) = path.dbtool(
        dir.path(),
        &[
            "ping",
            "--format",
            "json",
            "--idle-probe",
            "12",
            "--pool-recycle",
            "3600",
            &url,
        ],
    );
    // pool_recycle above the cutoff is an error finding: exit 1.
    assert_eq!(result.code, 1, "{}\n{report:#}", result.stderr);
    let idle = cutoff_near(&report, 4.0, "silent");
    assert_eq!(idle["keepalive_survives"], true, "{idle:#}");
    // The application would hang for the kernel's retransmission limit.
    assert!(idle["hang_s"].as_f64().unwrap() > 60.0, "{idle:#}");
    let recycle = idle["recycle_s"].as_u64().unwrap();
    assert!((1..4).contains(&recycle), "{idle:#}");
    let codes = codes(&report);
    assert!(
        codes.contains(&"idle-recycle-above-cutoff".into()),
        "{codes:?}"
    );
    assert!(codes.contains(&"idle-silent-cutoff".into()), "{codes:?}");
    let message = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "idle-recycle-above-cutoff")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains(&format!("DB_POOL_RECYCLE={recycle}")),
        "{message}"
    );
    nothing_left_behind(&cluster);
}

#[test]
fn a_firewall_that_resets_forgotten_flows_is_a_reset_and_without_pre_ping_the_first_request_fails()
{
    if !require(NETNS) {
        return;
    }
    let path = Path2::new(3, Forgotten::Reset);
    let cluster = path.cluster();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgresql+psycopg2://postgres@{SERVER_ADDRESS}:{}/postgres",
        cluster.port
    );
    let (result, report) = path.dbtool(
        dir.path(),
        &[
            "ping",
            "--format",
            "json",
            "--idle-probe",
            "10",
            "--no-pre-ping",
            &url,
        ],
    );
    assert_eq!(result.code, 1, "{}\n{report:#}", result.stderr);
    let idle = cutoff_near(&report, 3.0, "reset");
    let codes = codes(&report);
    assert!(
        codes.contains(&"idle-closed-without-pre-ping".into()),
        "{codes:?}"
    );
    assert!(!codes.contains(&"idle-silent-cutoff".into()), "{codes:?}");
    // libpq drivers are told the keepalive settings.
    let advice = idle["advice"].to_string();
    assert!(advice.contains("keepalives_idle="), "{advice}");
    nothing_left_behind(&cluster);
}

#[test]
fn idle_session_timeout_is_the_server_closing_with_57p05_and_keepalives_do_not_help() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions {
        settings: vec!["idle_session_timeout = '3s'".into()],
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let url = cluster
        .url("postgres")
        .replacen("postgresql://", "postgresql+asyncpg://", 1);
    let (result, report) =
        run_json(dbtool(dir.path()).args(["ping", "--format", "json", "--idle-probe", "8", &url]));
    assert_eq!(result.code, 1, "{}\n{report:#}", result.stderr);
    let idle = cutoff_near(&report, 3.0, "server_closed");
    let message = idle["message"].as_str().unwrap();
    assert!(message.contains("57P05"), "{message}");
    assert_eq!(idle["keepalive_survives"], false, "{idle:#}");
    nothing_left_behind(&cluster);
}

#[test]
fn pgbouncer_client_idle_timeout_is_the_pooler_closing() {
    if !require(&[Requirement::LocalCluster, Requirement::Pgbouncer]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let bouncer =
        Pgbouncer::start_configured(&cluster, "transaction", 4, true, "client_idle_timeout = 3")
            .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let (result, report) = run_json(dbtool(dir.path()).args([
        "ping",
        "--format",
        "json",
        "--idle-probe",
        "10",
        &bouncer.url("postgres"),
    ]));
    assert_eq!(result.code, 1, "{}\n{report:#}", result.stderr);
    // PgBouncer checks client_idle_timeout on its janitor's rounds, so connections die a little
    // after it: within one resolution step plus the janitor's period.
    let idle = report["idle"].clone();
    let cutoff = idle["cutoff_s"].as_f64().unwrap();
    assert!((3.0..=4.0).contains(&cutoff), "{idle:#}\n{}", bouncer.log());
    assert_eq!(idle["how"], "pooler_closed", "{idle:#}");
    eprintln!(
        "idle probe: pooler_closed configured 3 s, measured {}–{cutoff} s (resolution {}) in {} s",
        idle["lived_s"], idle["resolution_s"], idle["elapsed_s"]
    );
    assert!(
        idle["message"]
            .as_str()
            .unwrap()
            .contains("client_idle_timeout"),
        "{idle:#}"
    );
    assert!(
        idle["advice"].to_string().contains("client_idle_timeout"),
        "{idle:#}"
    );
}

#[test]
fn a_path_without_a_cutoff_says_none_was_found_up_to_the_time_tried() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let (result, report) = run_json(dbtool(dir.path()).args([
        "ping",
        "--format",
        "json",
        "--idle-probe",
        "3",
        &cluster.url("postgres"),
    ]));
    assert_eq!(result.code, 0, "{}\n{report:#}", result.stderr);
    let idle = &report["idle"];
    assert_eq!(idle["cutoff_s"], Value::Null, "{idle:#}");
    assert_eq!(idle["how"], Value::Null, "{idle:#}");
    let probes = idle["probes"].as_array().unwrap();
    assert!(probes.len() >= 10, "{idle:#}");
    assert!(probes.iter().all(|p| p["lived"] == true), "{idle:#}");
    let longest = probes
        .iter()
        .map(|p| p["idle_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(longest >= 3.0, "{idle:#}");
    nothing_left_behind(&cluster);
}

#[test]
fn ctrl_c_during_the_pass_reports_what_is_known_and_exits_130() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let child = dbtool_process(dir.path())
        .args([
            "ping",
            "--format",
            "json",
            "--idle-probe",
            "60",
            &cluster.url("postgres"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for the first spread probe (6 s) to be known.
    std::thread::sleep(std::time::Duration::from_secs(8));
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let idle = &report["idle"];
    assert_eq!(idle["interrupted"], true, "{idle:#}");
    assert!(!idle["probes"].as_array().unwrap().is_empty(), "{idle:#}");
    assert!(idle["elapsed_s"].as_f64().unwrap() < 30.0, "{idle:#}");
    nothing_left_behind(&cluster);
}

#[test]
fn bad_idle_probe_times_and_a_pooler_refusing_the_probe_get_one_line_and_their_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "25h", "-1", "soon"] {
        let result = run(dbtool(dir.path()).args([
            "ping",
            &format!("--idle-probe={bad}"),
            "postgresql://u@127.0.0.1:1/d",
        ]));
        assert_eq!(result.code, 3, "{bad}: {}", result.stderr);
        assert_eq!(
            result.stderr.trim().lines().count(),
            1,
            "{bad}: {}",
            result.stderr
        );
        assert!(result.stderr.contains("--idle-probe"), "{}", result.stderr);
        assert!(
            result.stderr.contains("from 1 s to a day"),
            "{}",
            result.stderr
        );
    }
    if !require(&[Requirement::LocalCluster, Requirement::Pgbouncer]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let bouncer = Pgbouncer::start_configured(&cluster, "session", 4, false, "max_client_conn = 6")
        .unwrap_or_else(|e| panic!("{e}"));
    let result =
        run(dbtool(dir.path()).args(["ping", "--idle-probe", "5", &bouncer.url("postgres")]));
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let error = result.stderr.trim();
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("could not open them"), "{error}");
    assert!(error.contains("max_client_conn"), "{error}");
}

/// The reference application (scripts/reference_app.py: SQLAlchemy + asyncpg, the reference
/// settings: pool_recycle 3600, pre-ping on), one user who thinks longer than the path's cutoff
/// between requests, run in the client's namespace.
fn reference_app(path: &Path2, dir: &Path, port: u16, pool_recycle: &str) -> (Value, String) {
    let python = crate::pool_bench_app::app_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/reference_app.py");
    let url = format!("postgresql://postgres@{SERVER_ADDRESS}:{port}/postgres");
    let output = isolated("ip", dir)
        // A hang past the run's own grace is a failure, not a stuck test.
        .args(["netns", "exec", &path.client, "timeout", "-s", "KILL", "60"])
        .arg(python)
        .arg(script)
        .args([
            "--url",
            &url,
            "--driver",
            "asyncpg",
            "--clients",
            "1",
            "--think-ms",
            "4500",
            "--warmup",
            "0",
            "--duration",
            "8",
            "--pool-recycle",
            pool_recycle,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&output.stdout)));
    (report, stderr)
}

#[test]
fn the_reference_application_hangs_past_a_silent_cutoff_and_runs_clean_with_the_advised_recycle() {
    if !require(NETNS) {
        return;
    }
    let path = Path2::new(3, Forgotten::Dropped);
    let cluster = path.cluster();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgresql+asyncpg://postgres@{SERVER_ADDRESS}:{}/postgres",
        cluster.port
    );
    let (_, report) = path.dbtool(
        dir.path(),
        &["ping", "--format", "json", "--idle-probe", "8", &url],
    );
    let idle = cutoff_near(&report, 3.0, "silent");
    let advised = idle["recycle_s"].as_u64().unwrap().to_string();

    // The reference settings: the request after the first idle pause hangs (pre-ping included)
    // until the run gives up on it; only the first request completes.
    let (failing, stderr) = reference_app(&path, dir.path(), cluster.port, "3600");
    assert_eq!(failing["requests"], 1, "{failing:#}\n{stderr}");
    assert!(stderr.contains("still running"), "{failing:#}\n{stderr}");

    // With the pool_recycle dbtool advises both requests complete: the dead connection is
    // replaced at checkout (after SQLAlchemy's 2 s graceful-close timeout, which the advice
    // names). The window ends before the last connection idles past the cutoff, since
    // engine.dispose() of a dead asyncpg connection would hang.
    let (clean, stderr) = reference_app(&path, dir.path(), cluster.port, &advised);
    assert_eq!(clean["requests"], 2, "{clean:#}\n{stderr}");
    assert_eq!(
        clean["errors"],
        serde_json::json!({}),
        "{clean:#}\n{stderr}"
    );
    assert!(!stderr.contains("still running"), "{clean:#}\n{stderr}");
}
