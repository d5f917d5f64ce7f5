//! The one way the tests run the `dbtool` binary: in a clean, isolated environment.
//!
//! Every run goes through [`isolated`]: [`dbtool`] (assert_cmd, for runs to completion),
//! [`dbtool_process`] (std, for runs a test spawns, signals or pipes), or `isolated("sh", ..)`
//! for a shell line that runs dbtool. `every_run_of_the_binary_goes_through_this_module` keeps
//! it so.

use std::ffi::OsStr;
use std::path::Path;

use assert_cmd::Command;

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_dbtool");

/// Variables that would leak the developer's or CI's configuration into a test.
fn is_configuration(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper == "DATABASE_URL"
        || upper.starts_with("DB_")
        || upper.starts_with("PG")
        || upper == "NO_COLOR"
}

/// `program` run in `dir` (so no stray `.env` is read), with `HOME` there (no `~/.pgpass`) and
/// no DATABASE_URL, DB_*, PG* or NO_COLOR variables.
pub fn isolated(program: impl AsRef<OsStr>, dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(program);
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

/// `dbtool` in the [`isolated`] environment, as a std command (to spawn, signal, pipe).
pub fn dbtool_process(dir: &Path) -> std::process::Command {
    isolated(BINARY, dir)
}

/// `dbtool` in the [`isolated`] environment.
pub fn dbtool(dir: &Path) -> Command {
    Command::from_std(dbtool_process(dir))
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

/// The test sources outside this module, as (file name, text).
pub fn other_test_sources(except: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let mut sources: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension() == Some(OsStr::new("rs")))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .filter(|(name, _)| name != except)
        .collect();
    sources.sort();
    assert!(
        sources.len() > 20,
        "only {} test files in {}",
        sources.len(),
        dir.display()
    );
    sources
}

/// A test that builds its own command for the binary would inherit DATABASE_URL, PG* and the
/// developer's `.env` and `~/.pgpass`, and pass or fail by the machine it runs on.
#[test]
fn every_run_of_the_binary_goes_through_this_module() {
    let mut found = Vec::new();
    for (name, text) in other_test_sources("cli.rs") {
        for (number, line) in text.lines().enumerate() {
            if line.contains("CARGO_BIN_EXE")
                || line.contains("cargo_bin")
                || (line.contains("Command::new(") && line.contains("BINARY"))
            {
                found.push(format!("tests/it/{name}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "run dbtool with cli::dbtool, cli::dbtool_process or cli::isolated instead:\n{}",
        found.join("\n")
    );
}

/// Splits a command line of plain words, single-quoted parts and backslash escapes (what
/// `explain` writes), as a POSIX shell does.
pub fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut started) = (Vec::new(), String::new(), false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => (quoted, started) = (!quoted, true),
            '\\' if !quoted => {
                word.extend(chars.next());
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            _ => {
                word.push(c);
                started = true;
            }
        }
    }
    assert!(!quoted, "unbalanced quotes in {line}");
    if started {
        words.push(word);
    }
    words
}
