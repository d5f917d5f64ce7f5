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

const CONFIG: &str = "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\nclass Settings(BaseSettings):\n    model_config = SettingsConfigDict(env_file=\".env\", extra=\"ignore\")\n\n    database_url: str = \"postgresql+asyncpg://app:s3cret@db:5432/app\"\n    db_statement_timeout: int = 30\n\n\nsettings = Settings()\n";

/// Writes `files` under `dir/svc` and runs `dbtool ARGS --app-from svc` there.
fn app_run(files: &[(&str, &str)], args: &[&str], env: &[(&str, &str)]) -> crate::cli::Run {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let target = dir.path().join("svc").join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    let mut command = crate::cli::dbtool(dir.path());
    command.args(args).args(["--app-from", "svc"]);
    for (k, v) in env {
        command.env(k, v);
    }
    crate::cli::run(&mut command)
}

/// One error line naming `place`, exit 3.
fn assert_bad_input(run: &crate::cli::Run, place: &str, words: &str) {
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains(place), "{place}: {}", run.stderr);
    assert!(run.stderr.contains(words), "{words}: {}", run.stderr);
}

#[test]
fn bad_applications_are_one_line_with_file_and_line() {
    let engine = "from sqlalchemy.ext.asyncio import create_async_engine\nfrom app.config import settings\n\nengine = create_async_engine(settings.database_url)\n";
    let run = app_run(
        &[("app/config.py", "x = (1,\n"), ("app/db.py", engine)],
        &["settings"],
        &[],
    );
    assert_bad_input(&run, "svc/app/config.py:", "syntax error");
    let run = app_run(
        &[
            ("app/config.py", "from app.db import settings\n"),
            ("app/db.py", engine),
        ],
        &["settings"],
        &[],
    );
    assert_bad_input(&run, "svc/app/db.py:2", "import cycle");
    let run = app_run(&[("app/config.py", CONFIG)], &["settings"], &[]);
    assert_bad_input(&run, "no create_async_engine", "--app-from");
    let run = app_run(
        &[(
            "app/db.py",
            "import os\nfrom sqlalchemy import create_engine\n\nengine = create_engine(os.environ[\"DATABASE_URL\"])\n",
        )],
        &["settings"],
        &[],
    );
    assert_bad_input(&run, "svc/app/db.py:4", "no BaseSettings subclass");
    let run = app_run(
        &[("app/config.py", CONFIG), ("app/db.py", engine)],
        &["settings"],
        &[("DB_STATEMENT_TIMEOUT", "1e3")],
    );
    assert_bad_input(&run, "DB_STATEMENT_TIMEOUT=\"1e3\"", "svc/app/config.py:8");
}

#[test]
fn several_engine_calls_are_picked_with_app_engine() {
    let one = "from sqlalchemy.ext.asyncio import create_async_engine\nfrom app.config import settings\n\nengine = create_async_engine(settings.database_url, pool_size=3)\n";
    let two = "from sqlalchemy import create_engine\n\nreport = create_engine('postgresql://r@replica/db', pool_size=1)\n";
    let files = [
        ("app/config.py", CONFIG),
        ("app/db.py", one),
        ("app/report.py", two),
    ];
    let run = app_run(&files, &["settings"], &[]);
    assert_bad_input(&run, "svc/app/db.py:4, svc/app/report.py:3", "--app-engine");
    let run = app_run(
        &files,
        &["settings", "--format", "json", "--app-engine", "app/db.py"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["db_pool_size"]["value"], 3);
    assert_eq!(json["db_pool_size"]["source"], "app");
    let run = app_run(
        &files,
        &[
            "settings",
            "--format",
            "json",
            "--app-engine",
            "app/report.py:3",
        ],
        &[],
    );
    let json: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["database_url"]["value"], "postgresql://r@replica/db");
}

#[test]
fn the_engine_is_shown_with_sources_and_unfollowed_values_fall_back() {
    let engine = "from sqlalchemy.ext.asyncio import create_async_engine\nfrom app.config import settings\n\nengine = create_async_engine(\n    settings.database_url,\n    pool_size=settings.db_statement_timeout // 10,\n    pool_timeout=float(f\"{settings.db_statement_timeout}\"),\n    connect_args={\"server_settings\": {\"statement_timeout\": str(settings.db_statement_timeout * 1000), \"application_name\": \"api\"}, \"password\": \"hunter2\"},\n)\n";
    let files = [("app/config.py", CONFIG), ("app/db.py", engine)];
    let run = app_run(
        &files,
        &["settings", "--format", "json", "--pool-timeout", "7"],
        &[("db_statement_timeout", "40")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("svc/app/db.py:7: pool_timeout= cannot be followed (an f-string)"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("s3cret") && !run.stdout.contains("hunter2"),
        "{}",
        run.stdout
    );
    let json: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["db_pool_size"]["value"], 4);
    assert_eq!(json["db_statement_timeout"]["value"], 40);
    assert_eq!(json["db_pool_timeout"]["source"], "flag");
    assert_eq!(json["db_max_overflow"]["value"], 10);
    assert!(
        json["db_max_overflow"]["from"]
            .as_str()
            .unwrap()
            .contains("SQLAlchemy's default")
    );
    let arguments = &json["engine"]["arguments"];
    assert_eq!(
        arguments["url"]["value"],
        "postgresql+asyncpg://app:***@db:5432/app"
    );
    assert!(
        arguments["pool_size"]["source"]
            .as_str()
            .unwrap()
            .contains("svc/app/db.py:6: settings.db_statement_timeout = env db_statement_timeout"),
        "{arguments}"
    );
    assert_eq!(arguments["pool_timeout"]["followed"], false);
    assert_eq!(
        arguments["connect_args"]["value"]["server_settings"]["statement_timeout"],
        "40000"
    );
    let table = app_run(&files, &["settings"], &[]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("engine: create_async_engine() at svc/app/db.py:4"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("s3cret"), "{}", table.stdout);
}

#[test]
fn app_from_is_read_from_dbtool_toml() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("backend/app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("config.py"), CONFIG).unwrap();
    std::fs::write(
        app.join("db.py"),
        "from sqlalchemy.ext.asyncio import create_async_engine\nfrom .config import settings\n\nengine = create_async_engine(settings.database_url, pool_size=9)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.dbtool]\napp_from = \"backend\"\n",
    )
    .unwrap();
    let run =
        crate::cli::run(crate::cli::dbtool(dir.path()).args(["settings", "--format", "json"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["db_pool_size"]["value"], 9);
}
