//! Every option that takes a value, of every subcommand (enumerated from clap's command tree, so
//! new options and subcommands are covered without editing this file), and every setting, given
//! hostile values: dbtool never panics (exit 101), never hangs, and a rejected value is one
//! clear error with exit 3.
//!
//! Connections go to a refused port, so a value that is accepted ends in a quick exit 2.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use clap::CommandFactory;
use dbtool::cli::{Cli, required_positionals};

use crate::cli::dbtool;

/// A server that is not there: every accepted value ends at the connect stage.
const REFUSED: &str = "postgresql+asyncpg://u@127.0.0.1:1/db";

fn hostile_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "",
        "-1",
        "0",
        "nan",
        "inf",
        "-inf",
        "1e20",
        "18446744073709551616",
        "word",
    ]
    .map(String::from)
    .to_vec();
    values.push("9".repeat(5000));
    values
}

/// Options that only take effect together with another flag.
fn companions(option: &str) -> &'static [&'static str] {
    match option {
        "timeout" => &["--wait"],
        _ => &[],
    }
}

/// One command line to try: the arguments, and environment variables to set.
struct Case {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// Every (subcommand, option or positional) that takes a value, with each hostile value.
fn argument_cases() -> Vec<Case> {
    let mut command = Cli::command();
    command.build();
    let mut cases = Vec::new();
    for sub in command.get_subcommands() {
        let name = sub.get_name().to_string();
        if name == "help" {
            continue;
        }
        // Required positionals get a valid value when another argument is under test.
        let required = required_positionals(sub);
        for arg in sub.get_arguments() {
            if !arg.get_action().takes_values() {
                continue;
            }
            for value in hostile_values() {
                let mut args = vec![name.clone()];
                if arg.is_positional() {
                    args.push("--".into());
                    args.push(value);
                } else {
                    let long = arg.get_long().expect("options have a long name");
                    args.extend(companions(long).iter().map(|s| s.to_string()));
                    args.push(format!("--{long}={value}"));
                    if !required.is_empty() {
                        args.push("--".into());
                        args.extend(required.iter().cloned());
                    }
                }
                cases.push(Case {
                    args,
                    env: vec![("DATABASE_URL".into(), REFUSED.into())],
                });
            }
        }
    }
    cases
}

/// Every setting, through the environment, with the subcommands that read it.
fn setting_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for definition in &dbtool::settings::DEFINITIONS {
        for value in hostile_values() {
            for sub in [
                "settings",
                "ping",
                "pool-bench",
                "check-url",
                "lint-constraints",
            ] {
                let mut env = vec![(definition.env.to_string(), value.clone())];
                if definition.env != "DATABASE_URL" {
                    env.push(("DATABASE_URL".into(), REFUSED.into()));
                }
                cases.push(Case {
                    args: vec![sub.to_string()],
                    env,
                });
            }
        }
    }
    cases
}

/// What went wrong with one case, if anything.
fn check(case: &Case, dir: &std::path::Path) -> Option<String> {
    let shown = || {
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                if a.len() > 40 {
                    format!("{}…", &a[..40])
                } else {
                    a.clone()
                }
            })
            .collect();
        let env: Vec<String> = case
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", if v.len() > 40 { &v[..40] } else { v }))
            .collect();
        format!("{} dbtool {}", env.join(" "), args.join(" "))
    };
    let mut command = dbtool(dir);
    command.args(&case.args).timeout(Duration::from_secs(30));
    for (name, value) in &case.env {
        command.env(name, value);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(error) => return Some(format!("{}: did not finish: {error}", shown())),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    if code.is_none_or(|c| ![0, 1, 2, 3].contains(&c)) || stderr.contains("panicked") {
        return Some(format!("{}: exit {code:?}\n{stderr}", shown()));
    }
    if code == Some(3) && !stderr.starts_with("dbtool: ") {
        return Some(format!(
            "{}: exit 3 without an error message: {stderr}",
            shown()
        ));
    }
    None
}

/// Runs the cases on a few threads (each mostly waits for a process) and collects failures.
fn run_all(cases: Vec<Case>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let queue = Mutex::new(VecDeque::from(cases));
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..6 {
            scope.spawn(|| {
                loop {
                    let Some(case) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    if let Some(failure) = check(&case, dir.path()) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

#[test]
fn no_option_value_makes_any_subcommand_panic_or_hang() {
    let cases = argument_cases();
    // Every subcommand contributes, and so do the global flags after the subcommand.
    assert!(cases.len() > 500, "only {} cases", cases.len());
    for needle in ["--connect-timeout=", "--sleep-ms=", "--url=", "--rate="] {
        assert!(
            cases
                .iter()
                .any(|c| c.args.iter().any(|a| a.starts_with(needle))),
            "{needle} is not exercised"
        );
    }
    let failures = run_all(cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_setting_value_makes_any_subcommand_panic_or_hang() {
    let failures = run_all(setting_cases());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_out_of_range_duration_is_one_line_naming_flag_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    for (sub, flag) in [
        ("ping", "--connect-timeout"),
        ("lint-constraints", "--connect-timeout"),
        ("pool-bench", "--connect-timeout"),
        ("pool-bench", "--duration"),
        ("pool-bench", "--sleep-ms"),
        ("ping", "--interval"),
    ] {
        for value in ["inf", "1e20", "-1", "nan"] {
            let output = dbtool(dir.path())
                .args([sub, &format!("{flag}={value}")])
                .env("DATABASE_URL", REFUSED)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(3),
                "{sub} {flag} {value}: {stderr}"
            );
            assert_eq!(stderr.lines().count(), 1, "{sub} {flag} {value}: {stderr}");
            assert!(
                stderr.contains(flag) && stderr.contains(value) && stderr.contains("from 0 to "),
                "{sub} {flag} {value}: {stderr}"
            );
        }
    }
    // A lock timeout of 0 would wait forever: refused like an out-of-range value.
    for value in ["0", "0.0001", "inf", "1e20", "-1", "nan"] {
        let output = dbtool(dir.path())
            .args([
                "lint-constraints",
                "--fix-sql",
                &format!("--lock-timeout={value}"),
            ])
            .env("DATABASE_URL", REFUSED)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(3),
            "--lock-timeout {value}: {stderr}"
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "--lock-timeout {value}: {stderr}"
        );
        assert!(
            stderr.contains("--lock-timeout")
                && stderr.contains(value)
                && stderr.contains("from 0.001 to ")
                && stderr.contains("0 would wait forever"),
            "--lock-timeout {value}: {stderr}"
        );
    }
    for variable in ["DB_POOL_TIMEOUT", "DB_POOL_RECYCLE", "DB_STATEMENT_TIMEOUT"] {
        let output = dbtool(dir.path())
            .arg("pool-bench")
            .env("DATABASE_URL", REFUSED)
            .env(variable, "1e20")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{variable}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{variable}: {stderr}");
        assert!(
            stderr.contains(&format!("{variable}=\"1e20\"")) && stderr.contains("from 0 to "),
            "{variable}: {stderr}"
        );
    }
}
