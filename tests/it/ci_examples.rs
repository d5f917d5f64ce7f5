//! The README's "In CI" examples, exercised: every `dbtool` command in the GitHub Actions and
//! GitLab CI blocks runs, through `sh` as the runners run it, against a migrations directory with
//! violations, and the reports it writes are read back.

use std::fs;
use std::path::Path;

use crate::cli::{BINARY, isolated};

/// The `dbtool` command lines of the README block marked `<!-- ci-example: NAME -->`.
fn example_commands(name: &str) -> Vec<String> {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let marker = format!("<!-- ci-example: {name} -->");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in the README"));
    let block = &readme[start..];
    let body = block
        .split("```")
        .nth(1)
        .expect("a fenced block after the marker");
    let commands: Vec<String> = body
        .lines()
        .filter_map(|line| {
            line.find("dbtool lint-constraints")
                .map(|at| line[at..].to_string())
        })
        .collect();
    assert!(
        !commands.is_empty(),
        "the {name} example runs no dbtool command"
    );
    commands
}

/// Runs a command line with `sh` in `dir`, isolated as every run of dbtool is, with the built
/// dbtool first on PATH.
fn shell(dir: &Path, line: &str) -> std::process::Output {
    let bin = Path::new(BINARY).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    isolated("sh", dir)
        .arg("-c")
        .arg(line)
        .env("PATH", path)
        .output()
        .unwrap()
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("migrations")).unwrap();
    fs::write(
        dir.path().join("migrations/0001_users.sql"),
        "CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE);\n",
    )
    .unwrap();
    dir
}

#[test]
fn the_github_actions_example_writes_sarif_and_annotations() {
    let dir = project();
    for line in example_commands("github") {
        let output = shell(dir.path(), &line);
        // Violations: exit 1, which the workflow tolerates where it must (continue-on-error).
        assert_eq!(
            output.status.code(),
            Some(1),
            "{line}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if line.contains("--format github") {
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(stdout.matches("::error ").count(), 2, "{stdout}");
        }
    }
    let sarif: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("dbtool.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn the_gitlab_example_writes_code_quality_and_junit_reports() {
    let dir = project();
    let lines = example_commands("gitlab");
    for line in &lines {
        let output = shell(dir.path(), line);
        let expected = if line.contains("|| status=$?") { 0 } else { 1 };
        assert_eq!(
            output.status.code(),
            Some(expected),
            "{line}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let quality: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("gl-code-quality-report.json")).unwrap())
            .unwrap();
    assert_eq!(quality.as_array().unwrap().len(), 2, "{quality}");
    assert_eq!(quality[0]["location"]["path"], "migrations/0001_users.sql");
    let junit = fs::read_to_string(dir.path().join("dbtool-junit.xml")).unwrap();
    let document = roxmltree::Document::parse(&junit).unwrap();
    assert_eq!(document.root_element().attribute("failures"), Some("2"));
}
