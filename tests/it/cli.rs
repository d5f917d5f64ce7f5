//! A small builder for running the `dbtool` binary in a clean, isolated environment.

use std::path::Path;

use assert_cmd::Command;

/// Variables that would leak the developer's or CI's configuration into a test.
fn is_configuration(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper == "DATABASE_URL"
        || upper.starts_with("DB_")
        || upper.starts_with("PG")
        || upper == "NO_COLOR"
}

/// `dbtool` run in `dir` (so no stray `.env` is read) with no DATABASE_URL, DB_* or PG* variables.
pub fn dbtool(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dbtool"));
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str()
            && is_configuration(name)
        {
            command.env_remove(name);
        }
    }
    command.current_dir(dir).env("HOME", dir);
    command
}

/// The output of a finished run, as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the command to completion.
pub fn run(command: &mut Command) -> Run {
    let output = command.output().expect("dbtool runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the command and parses its stdout as one JSON document.
pub fn run_json(command: &mut Command) -> (Run, serde_json::Value) {
    let result = run(command);
    let json = serde_json::from_str(&result.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr: {}",
            result.stdout, result.stderr
        )
    });
    (result, json)
}
