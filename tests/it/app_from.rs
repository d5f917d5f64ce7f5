//! `--app-from DIR`: the oracle `tests/fixtures/app_oracle.json`, recorded by
//! `scripts/gen_app_fixture.py` by importing each application layout with the real
//! pydantic-settings and SQLAlchemy (create_async_engine / create_engine replaced by a recorder),
//! against `dbtool settings --format json --app-from DIR`; and the bad-input cases.
//!
//! Per case: where the application starts, dbtool's `engine.arguments` are the arguments the
//! application passed, each followed (the URL with its password hidden); where it fails to
//! start, dbtool exits 3 in one line naming the variable (the field pydantic names).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::cli::dbtool_process;

const FIXTURE: &str = include_str!("../fixtures/app_oracle.json");
const REQUIREMENTS: &str = include_str!("../../scripts/app-fixture-requirements.txt");

#[derive(Deserialize)]
struct Fixture {
    versions: BTreeMap<String, String>,
    layouts: BTreeMap<String, BTreeMap<String, String>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    settings: String,
    engine: String,
    environment: Vec<(String, String)>,
    dotenv: Option<String>,
    function: Option<String>,
    arguments: Option<BTreeMap<String, Json>>,
    fails: Option<Vec<String>>,
}

/// Writes a layout under `dir/svc`, with the case's `.env`.
fn write_layout(dir: &Path, files: &BTreeMap<String, String>, dotenv: Option<&str>) {
    let app = dir.join("svc");
    let _ = std::fs::remove_dir_all(&app);
    for (path, text) in files {
        let target = app.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    if let Some(text) = dotenv {
        std::fs::write(app.join(".env"), text).unwrap();
    }
}

/// The application's argument as dbtool shows it: a URL's password hidden.
fn shown(value: &Json) -> Json {
    match value {
        Json::String(text) if text.contains("://") => Json::String(dbtool::url::redact_url(text)),
        Json::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), shown(v))).collect()),
        other => other.clone(),
    }
}

/// What disagrees between dbtool and the application in one case.
fn check(
    case: &Case,
    dir: &Path,
    layouts: &BTreeMap<String, BTreeMap<String, String>>,
) -> Vec<String> {
    let files = &layouts[&format!("{}/{}", case.settings, case.engine)];
    write_layout(dir, files, case.dotenv.as_deref());
    let output = dbtool_process(dir)
        .args(["settings", "--format", "json", "--app-from", "svc"])
        .env_clear()
        .envs(case.environment.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("dbtool runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    let mut problems = Vec::new();
    for secret in [":secret@", ":pw@"] {
        if stdout.contains(secret) || stderr.contains(secret) {
            problems.push(format!("a password shows: {stdout}{stderr}"));
        }
    }
    if let Some(fails) = &case.fails {
        let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
        let names = errors
            .first()
            .is_some_and(|e| e.to_lowercase().contains(&fails[0].to_lowercase()));
        if code != Some(3) || errors.len() != 1 || !names {
            problems.push(format!(
                "the application fails on {fails:?}; dbtool exits {code:?}: {stderr}"
            ));
        }
        return problems;
    }
    if code != Some(0) {
        problems.push(format!(
            "the application starts; dbtool exits {code:?}: {stderr}"
        ));
        return problems;
    }
    let json: Json = serde_json::from_str(&stdout).expect("one JSON document");
    let engine = &json["engine"];
    if engine["function"].as_str() != case.function.as_deref() {
        problems.push(format!(
            "function {} where the application calls {:?}",
            engine["function"], case.function
        ));
    }
    let theirs = case.arguments.as_ref().expect("arguments or fails");
    let ours = engine["arguments"].as_object().cloned().unwrap_or_default();
    for (name, value) in theirs {
        let expected = shown(value);
        match ours.get(name) {
            Some(entry) if entry["value"] == expected && entry["followed"] == true => {}
            Some(entry) => problems.push(format!(
                "{name}: dbtool {entry} where the application passes {expected}"
            )),
            None => problems.push(format!(
                "{name}: missing, the application passes {expected}"
            )),
        }
    }
    for name in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        problems.push(format!(
            "{name}: shown, but the application does not pass it"
        ));
    }
    problems
}

#[test]
fn every_oracle_case_agrees_with_the_application() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("the oracle fixture is valid JSON");
    let dir = tempfile::tempdir().unwrap();
    let mut disagreements = Vec::new();
    for case in &fixture.cases {
        let problems = check(case, dir.path(), &fixture.layouts);
        if !problems.is_empty() {
            disagreements.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    let total = fixture.cases.len();
    let agree = total - disagreements.len();
    println!("app oracle: {agree}/{total} cases agree with pydantic-settings + SQLAlchemy");
    assert!(
        disagreements.is_empty(),
        "{agree}/{total} agree; disagreements:\n{}",
        disagreements.join("\n")
    );
}

#[test]
fn the_oracle_was_recorded_with_the_pinned_versions() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).unwrap();
    for (name, version) in &fixture.versions {
        let pin = format!("{}=={version}", name.to_lowercase());
        assert!(
            REQUIREMENTS.lines().any(|l| l.to_lowercase() == pin),
            "{pin} is not pinned in scripts/app-fixture-requirements.txt"
        );
    }
}
