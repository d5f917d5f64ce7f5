//! Faults, signals, secrets and hostile input across every subcommand.

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::cli::{dbtool, dbtool_process, run};
use crate::pg::{Cluster, ClusterOptions};
use crate::require::{Requirement, require};

/// Runs the binary, killing it if it outlives `limit` (a hang is a failure, not a wait). Output
/// is drained by threads so a large report cannot fill the pipe and stall the child.
fn run_bounded(args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let mut child = dbtool_process(dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return (
                status.code(),
                stdout.join().unwrap(),
                stderr.join().unwrap(),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("dbtool {args:?} hung for more than {limit:?}");
}

#[test]
fn a_frozen_server_makes_every_command_exit_2_within_its_timeout() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap();
    let url = cluster.url("postgres");
    cluster.freeze(true);
    let limit = Duration::from_secs(20);
    let results = [
        run_bounded(&["ping", "--connect-timeout", "2", &url], limit),
        run_bounded(
            &["lint-constraints", "--connect-timeout", "2", "--url", &url],
            limit,
        ),
        run_bounded(
            &[
                "pool-bench",
                "--connect-timeout",
                "2",
                "--duration",
                "1",
                &url,
            ],
            limit,
        ),
    ];
    cluster.freeze(false);
    for (code, stdout, stderr) in results {
        assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    }
}

#[test]
fn ctrl_c_during_ping_wait_and_lint_exits_130() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions::default()).unwrap();
    let url = cluster.url("postgres");
    cluster.freeze(true);
    for args in [
        vec![
            "ping",
            "--wait",
            "--timeout",
            "60",
            "--connect-timeout",
            "30",
            url.as_str(),
        ],
        vec![
            "lint-constraints",
            "--connect-timeout",
            "30",
            "--url",
            url.as_str(),
        ],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let child = dbtool_process(dir.path())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(800));
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(130),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    cluster.freeze(false);
}

#[test]
fn no_password_appears_in_any_output() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let secret = format!("Pw{}x{}", std::process::id(), 7919);
    let cluster = Cluster::start(ClusterOptions {
        password: Some(secret.clone()),
        ..Default::default()
    })
    .unwrap();
    let port = cluster.port;
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let in_userinfo = format!("postgresql://postgres:{secret}@127.0.0.1:{port}/postgres");
    let in_query = format!("postgresql://postgres@127.0.0.1:{port}/postgres?password={secret}");
    let wrong = format!("postgresql://postgres:{secret}WRONG@127.0.0.1:{port}/postgres");
    let down = format!("postgresql://postgres:{secret}@127.0.0.1:{refused}/postgres");
    let bare = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let dir = tempfile::tempdir().unwrap();
    let mut commands: Vec<Vec<String>> = Vec::new();
    for url in [&in_userinfo, &in_query, &wrong, &down] {
        for format in ["table", "json"] {
            for extra in [vec![], vec!["-v".to_string(), "--echo".to_string()]] {
                let common = |sub: &[&str]| -> Vec<String> {
                    let mut v: Vec<String> = sub.iter().map(|s| s.to_string()).collect();
                    v.extend(["--format".to_string(), format.to_string()]);
                    v.extend(extra.clone());
                    v
                };
                let mut settings = common(&["settings", "--url"]);
                settings.insert(2, url.clone());
                commands.push(settings);
                let mut check = common(&["check-url"]);
                check.push(url.clone());
                commands.push(check);
                let mut ping = common(&["ping", "--connect-timeout", "3"]);
                ping.push(url.clone());
                commands.push(ping);
                let mut bench = common(&[
                    "pool-bench",
                    "--duration",
                    "0.3",
                    "--clients",
                    "2",
                    "--connect-timeout",
                    "3",
                ]);
                bench.push(url.clone());
                commands.push(bench);
            }
        }
        for format in ["table", "json", "sarif", "github"] {
            commands.push(vec![
                "lint-constraints".into(),
                "--format".into(),
                format.into(),
                "--echo".into(),
                "-v".into(),
                "--url".into(),
                url.clone(),
            ]);
        }
        commands.push(vec![
            "lint-constraints".into(),
            "--fix-sql".into(),
            "--url".into(),
            url.clone(),
        ]);
        commands.push(vec![
            "check-url".into(),
            "--strict".into(),
            format!("{url}&bogus=1"),
        ]);
    }
    let mut checked = 0;
    for args in &commands {
        let result = run(dbtool(dir.path()).args(args));
        for (name, text) in [("stdout", &result.stdout), ("stderr", &result.stderr)] {
            assert!(
                !text.contains(&secret),
                "{args:?} printed the password on {name}:\n{text}"
            );
        }
        checked += 1;
    }
    // From PGPASSWORD and from a .env file.
    fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL={in_userinfo}\nDB_ECHO=true\n"),
    )
    .unwrap();
    for sub in [
        vec!["settings"],
        vec!["check-url"],
        vec!["ping"],
        vec!["lint-constraints"],
        vec!["pool-bench", "--duration", "0.3"],
    ] {
        let from_dotenv = run(dbtool(dir.path()).args(&sub).arg("-v"));
        let mut with_env = dbtool(dir.path());
        with_env
            .args(&sub)
            .args(["--no-dotenv", "--url", &bare, "-v", "--echo"])
            .env("PGPASSWORD", &secret);
        let from_env = run(&mut with_env);
        for result in [&from_dotenv, &from_env] {
            assert!(
                !result.stdout.contains(&secret) && !result.stderr.contains(&secret),
                "{sub:?}: {}{}",
                result.stdout,
                result.stderr
            );
        }
        checked += 2;
    }
    assert!(checked >= 90, "{checked} runs checked");
}

#[test]
fn hostile_input_gets_a_clear_error_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    // A 1 MB URL: too long for an argument (128 KiB), so it comes from a .env file.
    let huge_env = dir.path().join("huge.env");
    fs::write(
        &huge_env,
        format!(
            "DATABASE_URL=postgresql://u:pw@{}/db?application_name=x\n",
            "h".repeat(1 << 20)
        ),
    )
    .unwrap();
    let (code, _, stderr) = run_bounded(
        &[
            "check-url",
            "--format",
            "json",
            "--env-file",
            huge_env.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert!(matches!(code, Some(0 | 1 | 3)), "{stderr}");
    assert!(!stderr.contains("panicked"));

    let env = dir.path().join("bad.env");
    fs::write(&env, b"DB_POOL_SIZE=5\n\xff\xfe garbage = = =\n\0\0\n").unwrap();
    let result = run(dbtool(dir.path()).args(["settings", "--env-file", env.to_str().unwrap()]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(!result.stderr.contains("panicked"));

    let invalid_utf8 = dir.path().join("bad.sql");
    fs::write(
        &invalid_utf8,
        b"CREATE TABLE t (id int PRIMARY KEY);\n\xff\xfe\n",
    )
    .unwrap();
    let result = run(dbtool(dir.path()).args(["lint-constraints", "bad.sql"]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(result.stderr.contains("bad.sql"), "{}", result.stderr);

    let nul = dir.path().join("nul.sql");
    fs::write(
        &nul,
        b"CREATE TABLE t (id int PRIMARY KEY);\nCREATE TABLE u (\0);\n",
    )
    .unwrap();
    let result = run(dbtool(dir.path()).args(["lint-constraints", "nul.sql"]));
    assert!(matches!(result.code, 1 | 3), "{}", result.stderr);
    assert!(!result.stderr.contains("panicked"), "{}", result.stderr);

    let nested = dir.path().join("nested.sql");
    let depth = 20_000;
    fs::write(
        &nested,
        format!(
            "CREATE TABLE t (c int CHECK ({}c{} > 0));\n",
            "(".repeat(depth),
            ")".repeat(depth)
        ),
    )
    .unwrap();
    let (code, _, stderr) = run_bounded(
        &["lint-constraints", nested.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(matches!(code, Some(1 | 3)), "{code:?} {stderr}");
    assert!(!stderr.contains("panicked"));

    let big = dir.path().join("big.sql");
    let statement = "CREATE TABLE IF NOT EXISTS big (id int PRIMARY KEY, note text);\nCOMMENT ON TABLE big IS 'padding padding padding padding';\n";
    fs::write(&big, statement.repeat((10 << 20) / statement.len())).unwrap();
    let (code, _, stderr) = run_bounded(
        &["lint-constraints", big.to_str().unwrap()],
        Duration::from_secs(120),
    );
    assert_eq!(code, Some(1), "{stderr}");

    let toml = dir.path().join("dbtool.toml");
    fs::write(&toml, "[naming_convention]\npk = [1, 2]\n").unwrap();
    let result = run(dbtool(dir.path()).args(["lint-constraints", "big.sql"]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(result.stderr.contains("dbtool.toml"), "{}", result.stderr);

    use std::os::unix::ffi::OsStrExt;
    let not_utf8 = std::ffi::OsStr::from_bytes(b"postgresql://u@h/\xff");
    let result = run(dbtool(dir.path()).arg("check-url").arg(not_utf8));
    assert_eq!(result.code, 3, "{}", result.stderr);
}
