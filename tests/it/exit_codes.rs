//! The exit-code contract, through the binary.

use std::fs;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

use crate::cli::{dbtool, dbtool_process, run};
use crate::pg::{TestDb, shared};
use crate::require::{Requirement, require};

#[test]
fn help_and_version_exit_0_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--help", "--version"] {
        let result = run(dbtool(dir.path()).arg(flag));
        assert_eq!(result.code, 0, "{flag}: {}", result.stderr);
        assert!(
            result.stdout.contains("dbtool"),
            "{flag}: {}",
            result.stdout
        );
    }
    let result = run(dbtool(dir.path()).args(["settings", "--help"]));
    assert_eq!(result.code, 0);
    assert!(result.stdout.contains("--pool-size"));
}

#[test]
fn usage_errors_exit_3_with_one_prefixed_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["bogus"],
        vec!["settings", "--no-such-flag"],
        vec!["--format", "yaml", "settings"],
        vec![],
    ] {
        let result = run(dbtool(dir.path()).args(&args));
        assert_eq!(result.code, 3, "{args:?}: {}", result.stderr);
        assert!(
            result.stderr.starts_with("dbtool: error: "),
            "{args:?}: {}",
            result.stderr
        );
        assert!(result.stdout.is_empty(), "{args:?}: {}", result.stdout);
    }
}

#[test]
fn a_missing_env_file_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args(["settings", "--env-file", "nope.env"]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(result.stderr.contains("nope.env"), "{}", result.stderr);
    assert_eq!(result.stderr.lines().count(), 1, "{}", result.stderr);
}

/// A pipe whose read end is already closed: every write to the other end fails with EPIPE
/// (Rust programs ignore SIGPIPE, so dbtool sees the error instead of dying of the signal).
fn pipe_without_reader() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array. O_CLOEXEC: no child another
    // test spawns meanwhile keeps a copy of the read end.
    let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(made, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

/// `dbtool ... | head` where head has already gone: exit 0 and not a word, in every kind of
/// output (completions, help, reports through the buffered printer).
#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("schema.sql"),
        "CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE);\n",
    )
    .unwrap();
    for args in [
        vec!["completions", "bash"],
        vec!["--help"],
        vec!["settings", "--format", "json"],
        vec![
            "check-url",
            "postgresql+asyncpg://app:secret@db.example.com/app",
        ],
        vec!["lint-constraints", "schema.sql"],
    ] {
        let output = dbtool_process(dir.path())
            .args(&args)
            .stdout(pipe_without_reader())
            .output()
            .unwrap();
        assert_eq!(
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ),
            (Some(0), "".into()),
            "{args:?}"
        );
    }
}

/// A reader that stops early (`| head -c 10`) while dbtool still has far more to write than the
/// pipe holds, so a write fails with EPIPE after the reader has gone.
#[test]
fn output_larger_than_the_pipe_buffer_to_a_reader_that_stops_early_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let schema: String = (0..5000)
        .map(|i| format!("CREATE TABLE t{i} (id int, CONSTRAINT wrong_{i} PRIMARY KEY (id));\n"))
        .collect();
    fs::write(dir.path().join("schema.sql"), schema).unwrap();
    let args = ["lint-constraints", "--format", "json", "schema.sql"];
    let whole = run(dbtool(dir.path()).args(args));
    assert_eq!(whole.code, 1, "{}", whole.stderr);
    assert!(
        whole.stdout.len() > 1 << 20,
        "the report ({} bytes) must be far larger than a pipe's buffer (64 KiB)",
        whole.stdout.len()
    );

    let mut child = dbtool_process(dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0; 10];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        ),
        (Some(0), "".into())
    );
}

/// An error nothing classified (here the disk is full) has its own code, not 1 ("problems
/// found"), which a CI step would take for a finding.
#[test]
fn an_unclassified_error_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["completions", "bash"], vec!["settings"]] {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = dbtool_process(dir.path())
            .args(&args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("dbtool: error: ") && stderr.contains("No space left on device"),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

/// A server that takes the connection and then refuses a query is "problems" (1), as the
/// contract says, for lint-constraints' catalog reads and pool-bench's capacity check.
#[test]
fn a_query_the_server_refuses_exits_1() {
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let db = TestDb::new();
    let role = format!("{}_plain", db.name);
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN; \
         REVOKE EXECUTE ON FUNCTION pg_export_snapshot() FROM PUBLIC; \
         REVOKE SELECT ON pg_stat_activity FROM PUBLIC"
    ));
    let url = format!(
        "postgresql://{role}@127.0.0.1:{}/{}",
        shared().cluster().port,
        db.name
    );
    let dir = tempfile::tempdir().unwrap();
    for (args, refused) in [
        (
            vec!["lint-constraints", "--url", url.as_str()],
            "pg_export_snapshot",
        ),
        (
            vec!["pool-bench", "--duration", "0.5", url.as_str()],
            "pg_stat_activity",
        ),
    ] {
        let result = run(dbtool(dir.path()).args(&args));
        assert_eq!(result.code, 1, "{args:?}: {}", result.stderr);
        assert!(
            result.stderr.starts_with("dbtool: error: ")
                && result.stderr.contains("permission denied")
                && result.stderr.contains(refused),
            "{args:?}: {}",
            result.stderr
        );
    }
}

/// clap refuses a format the subcommand does not write, after the subcommand or before it,
/// and names the formats it does write.
#[test]
fn sarif_and_github_formats_are_only_for_lint() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["settings", "check-url", "ping", "pool-bench"] {
        for args in [
            [command, "--format", "github"],
            ["--format", "github", command],
        ] {
            let result = run(dbtool(dir.path()).args(args));
            assert_eq!(result.code, 3, "{args:?}: {}", result.stderr);
            assert!(
                result
                    .stderr
                    .starts_with("dbtool: error: invalid value 'github' for '--format")
                    && result.stderr.contains("[possible values: table, json]"),
                "{args:?}: {}",
                result.stderr
            );
            assert!(result.stdout.is_empty(), "{args:?}: {}", result.stdout);
        }
    }
    for args in [
        ["completions", "bash", "--format", "json"],
        ["--format", "json", "completions", "bash"],
    ] {
        let result = run(dbtool(dir.path()).args(args));
        assert_eq!(result.code, 3, "{args:?}: {}", result.stderr);
        assert!(
            result.stderr.contains("has no --format"),
            "{args:?}: {}",
            result.stderr
        );
    }
}
