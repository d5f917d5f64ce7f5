//! The exit-code contract, through the binary.

use crate::cli::{BINARY, dbtool, isolated, run};

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

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = isolated("sh", dir.path())
        .arg("-c")
        .arg(format!(
            "{BINARY} completions bash | head -c 10 >/dev/null; echo \"${{PIPESTATUS[0]:-}}\""
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "{stderr}"
    );
}

#[test]
fn sarif_and_github_formats_are_only_for_lint() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["settings", "check-url", "ping", "pool-bench"] {
        let result = run(dbtool(dir.path()).args([command, "--format", "github"]));
        assert_eq!(result.code, 3, "{command}: {}", result.stderr);
        assert!(
            result.stderr.contains("use table or json"),
            "{}",
            result.stderr
        );
    }
}
