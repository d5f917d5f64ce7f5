//! `--app-from DIR`: the application's own code as the source of its settings and its engine,
//! read without running Python (through the front end in `crate::python`).
//!
//! * `modules` finds the application's Python files under DIR and reads each as a module;
//! * `class` reads the `BaseSettings` subclass: its fields, their types and defaults, its
//!   `model_config`;
//! * `values` reads that class's settings as pydantic-settings does (the environment, its
//!   `env_file`s through the python-dotenv port, the pydantic conversions) — a value the
//!   application refuses stops dbtool as it stops the application;
//! * `engine` finds the `create_async_engine` / `create_engine` call and follows each argument
//!   to a settings field, a literal or a simple expression over them.
//!
//! DIR is the directory the application is started from: relative `env_file`s are read from it,
//! as pydantic-settings reads them from the working directory.

mod class;
mod engine;
mod modules;
mod value;
mod values;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::environment::Environment;
pub(crate) use engine::Engine;
pub(crate) use value::PyValue;

/// What the application's code says: its engine call, followed.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) engine: Engine,
    /// The env files the Settings class read, in order.
    pub(crate) env_files: Vec<PathBuf>,
    /// Statements python-dotenv skipped, per file.
    pub(crate) skipped: Vec<(PathBuf, usize)>,
    /// What could not be followed, each naming file:line; dbtool falls back to its own settings
    /// for those values.
    pub(crate) warnings: Vec<String>,
}

/// How the application is read: which engine call, and `.env` overrides from the command line.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppChoice {
    /// `--app-engine FILE[:LINE]`: the engine call to use when there are several.
    pub(crate) engine: Option<String>,
    /// `--env-file`: read this file instead of the class's `env_file`.
    pub(crate) env_file: Option<PathBuf>,
    /// `--no-dotenv`.
    pub(crate) no_dotenv: bool,
}

/// Reads the application under `dir`.
pub(crate) fn read(dir: &Path, choice: &AppChoice, environment: &Environment) -> Result<App> {
    let program = modules::Program::load(dir)?;
    let found = engine::find(&program, choice.engine.as_deref())?;
    let settings = engine::settings_class(&program, &found)?;
    let (read, warnings) = match &settings {
        Some(class) => {
            let read = values::read(class, dir, choice, environment)?;
            (Some(read), Vec::new())
        }
        None => (None, Vec::new()),
    };
    let (engine, mut more) = engine::follow(&program, &found, settings.as_ref(), read.as_ref());
    let mut all = warnings;
    all.append(&mut more);
    let (env_files, skipped) = read.map(|r| (r.env_files, r.skipped)).unwrap_or_default();
    Ok(App {
        engine,
        env_files,
        skipped,
        warnings: all,
    })
}

/// SQLAlchemy's defaults for what the engine call does not pass (`QueuePool`), by dbtool's
/// setting, with the argument's name.
const SQLALCHEMY_DEFAULTS: [(&str, &str, &str); 6] = [
    ("DB_POOL_SIZE", "pool_size", "5"),
    ("DB_MAX_OVERFLOW", "max_overflow", "10"),
    ("DB_POOL_TIMEOUT", "pool_timeout", "30"),
    ("DB_POOL_RECYCLE", "pool_recycle", "-1"),
    ("DB_POOL_PRE_PING", "pool_pre_ping", "false"),
    ("DB_ECHO", "echo", "false"),
];

impl App {
    /// The text of one of dbtool's settings (`DB_POOL_SIZE`) as the engine call gives it, and
    /// where it came from; `None` where the call's argument cannot be followed (dbtool's own
    /// lookup applies).
    pub(crate) fn setting(&self, env: &str) -> Option<(String, String)> {
        let engine = &self.engine;
        if env == "DATABASE_URL" {
            let argument = engine.argument("url")?;
            let text = match argument.value.as_ref()? {
                PyValue::Str(text) => text.clone(),
                _ => return None,
            };
            return Some((text, argument.source.clone()));
        }
        if env == "DB_STATEMENT_TIMEOUT" {
            let Some(argument) = engine.argument("connect_args") else {
                return Some((
                    "0".to_string(),
                    format!("not sent ({}: no connect_args)", engine.place),
                ));
            };
            let PyValue::Dict(entries) = argument.value.as_ref()? else {
                return None;
            };
            let timeout = entries
                .iter()
                .find(|(k, _)| k == "server_settings")
                .and_then(|(_, v)| match v {
                    PyValue::Dict(settings) => {
                        settings.iter().find(|(k, _)| k == "statement_timeout")
                    }
                    _ => None,
                });
            return match timeout {
                None => Some((
                    "0".to_string(),
                    format!(
                        "not sent ({}: no server_settings statement_timeout)",
                        engine.place
                    ),
                )),
                Some((_, value)) => {
                    let seconds = postgres_seconds(&value.py_str()?)?;
                    Some((seconds, argument.source.clone()))
                }
            };
        }
        let (_, name, default) = SQLALCHEMY_DEFAULTS.iter().find(|(e, _, _)| *e == env)?;
        let Some(argument) = engine.argument(name) else {
            return Some((
                (*default).to_string(),
                format!("SQLAlchemy's default ({}: {name} not passed)", engine.place),
            ));
        };
        let text = match argument.value.as_ref()? {
            PyValue::Bool(b) => b.to_string(),
            // echo="debug" logs too.
            PyValue::Str(_) if *name == "echo" => "true".to_string(),
            PyValue::None if *name == "pool_timeout" || *name == "pool_recycle" => return None,
            value => value.py_str()?,
        };
        Some((text, argument.source.clone()))
    }
}

/// A PostgreSQL `statement_timeout` (milliseconds, or a number with a unit) in seconds.
fn postgres_seconds(text: &str) -> Option<String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "ms" => number / 1000.0,
        "us" => number / 1_000_000.0,
        "s" => number,
        "min" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86400.0,
        _ => return None,
    };
    Some(value::float_repr(seconds))
}
