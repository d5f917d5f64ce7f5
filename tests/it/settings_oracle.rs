//! The differential oracle for settings: `tests/fixtures/settings_oracle.json`, recorded by
//! `scripts/gen_settings_fixture.py` from a real pydantic-settings `Settings` (python-dotenv
//! reading `.env`, pydantic converting), against `dbtool settings --format json`.
//!
//! Per case, dbtool must give the application's value and source for every setting, refuse
//! what the application refuses, and — where the application accepts a value dbtool cannot use
//! (a negative pool size, `inf` seconds, an empty URL) — refuse it in one line that says the
//! application accepts it. Passwords never show. A second pass resolves each case through the
//! library, where the URL can be compared with its password.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::Value as Json;

use dbtool::environment::Environment;
use dbtool::settings::dotenv;
use dbtool::settings::pydantic::{Int, parse_bool, parse_float, parse_int};
use dbtool::settings::{DEFINITIONS, DotenvChoice, FlagValues, Settings};
use dbtool::url::redact_url;

use crate::cli::dbtool_process;

const FIXTURE: &str = include_str!("../fixtures/settings_oracle.json");
const REQUIREMENTS: &str = include_str!("../../scripts/settings-fixture-requirements.txt");

#[derive(Deserialize)]
struct Fixture {
    versions: BTreeMap<String, String>,
    cases: Vec<Case>,
    conversions: Vec<Conversion>,
    dotenv_texts: Vec<DotenvText>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    dotenv: Option<String>,
    environment: Vec<(String, String)>,
    secrets: Vec<String>,
    /// The application's values: ints as decimal text, floats as Python's `repr`.
    values: Option<BTreeMap<String, Json>>,
    refused: Option<Vec<Refusal>>,
    sources: BTreeMap<String, String>,
    skipped_statements: usize,
}

#[derive(Deserialize)]
struct Refusal {
    field: String,
}

#[derive(Deserialize)]
struct Conversion {
    kind: String,
    text: String,
    value: Json,
}

/// python-dotenv's `dotenv_values` on a text of `.env` syntax fragments.
#[derive(Deserialize)]
struct DotenvText {
    text: String,
    environment: Vec<(String, String)>,
    values: Vec<(String, Option<String>)>,
    skipped_statements: usize,
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("the oracle fixture is valid JSON")
}

/// The fields in the order dbtool checks them (the reference document's).
fn fields() -> Vec<(String, &'static str)> {
    DEFINITIONS
        .iter()
        .map(|d| (d.env.to_ascii_lowercase(), d.env))
        .collect()
}

/// Whether dbtool can use the application's value; the bounds docs/settings.md names.
fn usable(field: &str, value: &Json) -> bool {
    let text = value.as_str().unwrap_or_default();
    let seconds = |allow_never: bool| {
        let s: f64 = text.parse().unwrap();
        (allow_never && s == -1.0) || (s.is_finite() && (0.0..=2147483.647).contains(&s))
    };
    match field {
        "database_url" => !text.trim().is_empty(),
        "db_pool_size" => text.parse::<i64>().is_ok_and(|n| n >= 0),
        "db_max_overflow" => text.parse::<i64>().is_ok_and(|n| n >= -1),
        "db_pool_recycle" => seconds(true),
        "db_pool_timeout" | "db_statement_timeout" => seconds(false),
        _ => true,
    }
}

/// What dbtool's message says about a source, as the fixture names it.
fn source_words(source: &str) -> &'static str {
    match source {
        "env" => "(from env)",
        "dotenv" => "(from .env (",
        _ => "(from default)",
    }
}

/// dbtool's value in JSON agrees with the application's.
fn same_value(field: &str, ours: &Json, theirs: &Json) -> bool {
    match field {
        "database_url" => ours.as_str() == Some(&redact_url(theirs.as_str().unwrap())),
        "db_pool_size" | "db_max_overflow" => {
            ours.as_i64().map(|n| n.to_string()).as_deref() == theirs.as_str()
        }
        "db_pool_pre_ping" | "db_echo" => ours == theirs,
        // Seconds: dbtool keeps a Duration, so to the nanosecond.
        _ => {
            let theirs: f64 = theirs.as_str().unwrap().parse().unwrap();
            ours.as_f64()
                .is_some_and(|ours| (ours - theirs).abs() <= 1e-9)
        }
    }
}

/// Runs `dbtool settings --format json` with exactly the case's `.env` and environment, and
/// says what disagrees with the application.
fn check_binary(case: &Case, dir: &Path) -> Vec<String> {
    let dotenv = dir.join(".env");
    match &case.dotenv {
        Some(text) => std::fs::write(&dotenv, text).unwrap(),
        None => {
            let _ = std::fs::remove_file(&dotenv);
        }
    }
    let output = dbtool_process(dir)
        .args(["settings", "--format", "json"])
        // Stricter than the harness's isolation: exactly the case's environment, not even HOME
        // or PATH, as the recorded Settings() saw it.
        .env_clear()
        .envs(case.environment.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("dbtool runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    let mut problems = Vec::new();
    for secret in &case.secrets {
        if stdout.contains(secret.as_str()) || stderr.contains(secret.as_str()) {
            problems.push(format!("the password {secret:?} shows"));
        }
    }
    let first_error = |field: &str, words: &str| {
        let (name, source) = (field.to_ascii_uppercase(), &case.sources[field]);
        let one_line = stderr.lines().filter(|l| l.contains("error")).count() == 1;
        let names = stderr.contains(&format!("{name}=")) && stderr.contains(source_words(source));
        (code == Some(3) && one_line && names && stderr.contains(words))
            .then_some(())
            .ok_or_else(|| format!("expected exit 3 naming {name} from {source} with {words:?}, got {code:?}: {stderr}"))
    };
    if let Some(refused) = &case.refused {
        if let Err(problem) = first_error(&refused[0].field, "the application refuses it too") {
            problems.push(problem);
        }
        return problems;
    }
    let values = case.values.as_ref().expect("values or refused");
    if let Some((field, _)) = fields().into_iter().find(|(f, _)| !usable(f, &values[f])) {
        if let Err(problem) = first_error(&field, "accepted by the application") {
            problems.push(problem);
        }
        return problems;
    }
    if code != Some(0) {
        problems.push(format!("expected exit 0, got {code:?}: {stderr}"));
        return problems;
    }
    let json: Json = serde_json::from_str(&stdout).expect("one JSON document");
    for (field, _) in fields() {
        let ours = &json[&field];
        if ours["source"] != case.sources[&field] {
            problems.push(format!(
                "{field}: source {} where the application's is {}",
                ours["source"], case.sources[&field]
            ));
        }
        if !same_value(&field, &ours["value"], &values[&field]) {
            problems.push(format!(
                "{field}: {} where the application has {}",
                ours["value"], values[&field]
            ));
        }
    }
    let warnings = stderr.matches("cannot be parsed").count();
    if warnings != case.skipped_statements {
        problems.push(format!(
            "{warnings} skipped statements said, python-dotenv skipped {}: {stderr}",
            case.skipped_statements
        ));
    }
    problems
}

#[test]
fn every_oracle_case_agrees_with_pydantic_settings() {
    let fixture = fixture();
    let cases = &fixture.cases;
    let accepted = cases.iter().filter(|c| c.values.is_some()).count();
    assert!(
        cases.len() >= 300 && accepted >= 150 && cases.len() - accepted >= 50,
        "{} cases, {accepted} accepted",
        cases.len()
    );
    let queue = Mutex::new(cases.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let dir = tempfile::tempdir().unwrap();
                loop {
                    let Some(case) = queue.lock().unwrap().next() else {
                        break;
                    };
                    for problem in check_binary(case, dir.path()) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {problem}", case.name));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_oracle_url_agrees_with_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.env");
    let mut compared = 0;
    for case in fixture().cases {
        let Some(values) = &case.values else { continue };
        let dotenv = match &case.dotenv {
            Some(text) => {
                std::fs::write(&path, text).unwrap();
                DotenvChoice::File(path.clone())
            }
            None => DotenvChoice::Skip,
        };
        let environment = Environment::injected(case.environment.clone());
        let Ok(settings) = Settings::resolve(&FlagValues::default(), &dotenv, &environment) else {
            continue; // refused by dbtool: the binary's test checks why
        };
        let theirs = values["database_url"].as_str().unwrap();
        assert_eq!(settings.database_url(), theirs, "{}", case.name);
        compared += 1;
    }
    assert!(compared >= 150, "only {compared} URLs compared");
}

#[test]
fn every_conversion_agrees_with_pydantic() {
    let fixture = fixture();
    let mut failures = Vec::new();
    for case in &fixture.conversions {
        let ours: Json = match case.kind.as_str() {
            "int" => match parse_int(&case.text) {
                Some(Int::Small(n)) => Json::from(n.to_string()),
                Some(Int::Big(digits)) => Json::from(digits),
                None => Json::Null,
            },
            "float" => match (parse_float(&case.text), case.value.as_str()) {
                (Some(ours), Some(theirs)) => {
                    let theirs: f64 = theirs.parse().unwrap();
                    let same =
                        ours.to_bits() == theirs.to_bits() || ours.is_nan() && theirs.is_nan();
                    if same {
                        case.value.clone()
                    } else {
                        Json::from(ours)
                    }
                }
                (Some(ours), None) => Json::from(format!("{ours:?}")),
                (None, _) => Json::Null,
            },
            "bool" => parse_bool(&case.text).map_or(Json::Null, Json::from),
            other => panic!("unknown kind {other}"),
        };
        if ours != case.value {
            failures.push(format!(
                "{} {:?}: dbtool {ours}, pydantic {}",
                case.kind, case.text, case.value
            ));
        }
    }
    assert!(fixture.conversions.len() >= 1000);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_dotenv_text_reads_as_python_dotenv_reads_it() {
    let fixture = fixture();
    let mut failures = Vec::new();
    for case in &fixture.dotenv_texts {
        let text = dotenv::decode(case.text.as_bytes()).expect("the fixture's texts are UTF-8");
        let parsed = dotenv::parse(&text);
        let ours: Vec<(String, Option<String>)> =
            dotenv::resolve_variables(&parsed.assignments, &case.environment)
                .iter()
                .map(|(key, value)| (key.to_string(), value.map(str::to_string)))
                .collect();
        if ours != case.values || parsed.skipped_lines.len() != case.skipped_statements {
            failures.push(format!(
                "{:?}: dbtool {ours:?}, {} skipped; python-dotenv {:?}, {} skipped",
                case.text,
                parsed.skipped_lines.len(),
                case.values,
                case.skipped_statements
            ));
        }
    }
    assert!(fixture.dotenv_texts.len() >= 1000);
    assert!(
        failures.is_empty(),
        "{} of {} disagree:\n{}",
        failures.len(),
        fixture.dotenv_texts.len(),
        failures.join("\n")
    );
}

#[test]
fn the_oracle_was_recorded_with_the_pinned_versions() {
    let fixture = fixture();
    for package in [
        "pydantic-settings",
        "pydantic",
        "pydantic-core",
        "python-dotenv",
    ] {
        let pin = REQUIREMENTS
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{package}==")))
            .unwrap_or_else(|| panic!("{package} is pinned"));
        assert_eq!(fixture.versions[package], pin, "{package}");
    }
}
