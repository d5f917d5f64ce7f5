//! DATABASE_URL and the DB_* settings the application reads, with where each value came from.
//!
//! The application reads them with pydantic-settings (`BaseSettings`, `env_file=".env"`,
//! `extra="ignore"`); dbtool reads them the same way, and adds its own flags on top:
//! command-line flag > process environment > `.env` file > default. Names are matched
//! case-insensitively (pydantic-settings lower-cases every name; of two spellings of one name
//! the later wins: the later in the environment's order, the later key in the `.env` file).
//! [`dotenv`] reads the file as python-dotenv does, [`pydantic`] converts text as pydantic does.
//! A value the application refuses is refused here too, saying so; a value the application
//! accepts but dbtool cannot use (a negative pool size, `inf` seconds, an empty URL) is refused
//! in one line that says the application accepts it.
//!
//! `tests/fixtures/settings_oracle.json`, made by `scripts/gen_settings_fixture.py` with the
//! real pydantic-settings, checks all of this case by case.

pub(crate) mod app;
pub mod dotenv;
pub mod pydantic;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::duration::{self, Unit};
use crate::environment::Environment;
use crate::exit::invalid;
use crate::url::redact_url;
use pydantic::Int;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Flag,
    Env,
    Dotenv(PathBuf),
    Default,
    /// The application's engine call (`--app-from`): where the value came from, in words.
    App(String),
}

impl Source {
    /// The short name used in JSON: `flag`, `env`, `dotenv` or `default`.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::Dotenv(_) => "dotenv",
            Source::Default => "default",
            Source::App(_) => "app",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Dotenv(path) => write!(f, ".env ({})", path.display()),
            Source::Flag => f.write_str("command line"),
            Source::App(origin) => f.write_str(origin),
            other => f.write_str(other.key()),
        }
    }
}

/// The type of a setting: the field's type in the application (which decides how pydantic
/// converts its text) and the range dbtool can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SettingKind {
    /// `str`: any text.
    Url,
    /// `int`; dbtool needs it no smaller than the given minimum.
    Integer { min: i64 },
    /// `float` seconds; dbtool needs them from 0 to [`duration::MAX`], or `-1` when
    /// `disable_with_minus_one`.
    Seconds { disable_with_minus_one: bool },
    /// `bool`.
    Boolean,
}

/// One setting as the application's reference document defines it.
#[derive(Debug)]
pub struct Definition {
    /// The environment variable, e.g. `DB_POOL_SIZE`.
    pub env: &'static str,
    /// The flag that overrides it, e.g. `--pool-size`.
    pub(crate) flag: &'static str,
    pub(crate) default: &'static str,
    /// The meaning, in the words of the reference document.
    pub(crate) meaning: &'static str,
    kind: SettingKind,
}

/// The settings, in the order of the reference document's `.env.example`.
pub const DEFINITIONS: [Definition; 8] = [
    Definition {
        env: "DATABASE_URL",
        flag: "--url",
        default: "postgresql+asyncpg://super@localhost:5432/super",
        meaning: "SQLAlchemy connection URL: dialect+driver://user:password@host:port/database.",
        kind: SettingKind::Url,
    },
    Definition {
        env: "DB_POOL_SIZE",
        flag: "--pool-size",
        default: "5",
        meaning: "Number of persistent connections kept open. These connections are always available, even when idle.",
        kind: SettingKind::Integer { min: 0 },
    },
    Definition {
        env: "DB_MAX_OVERFLOW",
        flag: "--max-overflow",
        default: "10",
        meaning: "Extra connections created under load, beyond pool_size. These are closed when no longer needed. Total max = pool_size + max_overflow (-1: no limit).",
        kind: SettingKind::Integer { min: -1 },
    },
    Definition {
        env: "DB_POOL_TIMEOUT",
        flag: "--pool-timeout",
        default: "30",
        meaning: "Seconds to wait for an available connection before raising TimeoutError.",
        kind: SettingKind::Seconds {
            disable_with_minus_one: false,
        },
    },
    Definition {
        env: "DB_POOL_RECYCLE",
        flag: "--pool-recycle",
        default: "3600",
        meaning: "Recreate connections older than this (seconds). Set lower than your database's idle timeout (-1: never).",
        kind: SettingKind::Seconds {
            disable_with_minus_one: true,
        },
    },
    Definition {
        env: "DB_POOL_PRE_PING",
        flag: "--pre-ping",
        default: "true",
        meaning: "Test each connection with SELECT 1 before checkout. Catches dead connections before your query fails.",
        kind: SettingKind::Boolean,
    },
    Definition {
        env: "DB_ECHO",
        flag: "--echo",
        default: "false",
        meaning: "Log all SQL statements. Enable for debugging, disable in production.",
        kind: SettingKind::Boolean,
    },
    Definition {
        env: "DB_STATEMENT_TIMEOUT",
        flag: "--statement-timeout",
        default: "30",
        meaning: "Max seconds a query can run before being killed (0: no limit).",
        kind: SettingKind::Seconds {
            disable_with_minus_one: false,
        },
    },
];

/// A parsed setting value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A URL; may hold a password, so show it only through [`Value::display`].
    Url(String),
    Integer(i64),
    /// `None`: disabled with `-1` (only where the setting allows it).
    Seconds(Option<Duration>),
    Boolean(bool),
}

impl Value {
    /// The value as shown to a user: passwords masked, whole seconds without a fraction.
    pub(crate) fn display(&self) -> String {
        match self {
            Value::Url(url) => redact_url(url),
            Value::Integer(n) => n.to_string(),
            Value::Seconds(Some(duration)) => duration::format_seconds(*duration),
            Value::Seconds(None) => "-1".to_string(),
            Value::Boolean(b) => b.to_string(),
        }
    }
}

/// One resolved setting.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub(crate) definition: &'static Definition,
    pub(crate) value: Value,
    pub(crate) source: Source,
}

/// Values given on the command line, still as text, keyed by environment variable name.
#[derive(Debug, Default, Clone)]
pub struct FlagValues(HashMap<&'static str, String>);

impl FlagValues {
    pub(crate) fn set(&mut self, env: &'static str, value: Option<String>) {
        if let Some(value) = value {
            self.0.insert(env, value);
        }
    }

    pub(crate) fn get(&self, env: &str) -> Option<&str> {
        self.0.get(env).map(String::as_str)
    }
}

/// Where to look for a `.env` file.
#[derive(Debug, Clone)]
pub enum DotenvChoice {
    /// `.env` in the working directory, if present (pydantic-settings' `env_file=".env"`).
    WorkingDirectory,
    /// A file named by `--env-file`; it must exist.
    File(PathBuf),
    /// `--no-dotenv`.
    Skip,
}

/// The value of `name` as pydantic-settings finds it in `os.environ` (the variables in their
/// order, [`Environment::python_variables`]): it builds a dict of lower-cased names, so of two
/// spellings of a name the later entry wins.
fn environ_value<'a>(variables: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    variables
        .iter()
        .rev()
        .find(|(key, _)| key.to_lowercase() == wanted)
        .map(|(_, value)| value.as_str())
}

/// All settings, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub(crate) entries: Vec<Setting>,
    /// The `.env` file that was read, if any.
    pub(crate) dotenv_path: Option<PathBuf>,
    /// The lines of that file where a statement starts that python-dotenv cannot parse: the
    /// application skips each with a warning, and so does dbtool.
    pub(crate) skipped_lines: Vec<usize>,
    /// The application read with `--app-from`, whose engine call gives the settings.
    pub(crate) app: Option<app::App>,
}

/// A setting's text and where it came from, before conversion.
struct FoundSetting {
    definition: &'static Definition,
    text: String,
    source: Source,
}

impl FoundSetting {
    /// Whether the application reads this text too (not a flag, not dbtool's copy of a default).
    fn read_by_application(&self) -> bool {
        matches!(
            self.source,
            Source::Env | Source::Dotenv(_) | Source::App(_)
        )
    }
}

impl Settings {
    /// Resolves every setting from flags, the environment, a `.env` file and defaults. A value
    /// the application refuses is reported before any value only dbtool refuses, because then
    /// the application does not start at all.
    pub fn resolve(
        flags: &FlagValues,
        dotenv: &DotenvChoice,
        environment: &Environment,
    ) -> Result<Settings> {
        Settings::resolve_with_app(flags, dotenv, environment, None)
    }

    /// [`Settings::resolve`], with the application's engine call (`--app-from`) between the
    /// flags and dbtool's own lookup: what the call passes or leaves to SQLAlchemy's defaults
    /// is the value; what cannot be followed falls back to the environment, `.env`, default.
    pub(crate) fn resolve_with_app(
        flags: &FlagValues,
        dotenv: &DotenvChoice,
        environment: &Environment,
        app: Option<app::App>,
    ) -> Result<Settings> {
        let variables = environment.python_variables();
        let dotenv_file = match app {
            Some(_) => None,
            None => load_dotenv(dotenv, &variables)?,
        };
        let found: Vec<FoundSetting> = DEFINITIONS
            .iter()
            .map(|definition| {
                let from_app = app.as_ref().and_then(|app| app.setting(definition.env));
                match (flags.get(definition.env), from_app) {
                    (None, Some((text, origin))) => FoundSetting {
                        definition,
                        text,
                        source: Source::App(origin),
                    },
                    _ => lookup(definition, flags, &variables, dotenv_file.as_ref()),
                }
            })
            .collect();
        let accepted = found
            .iter()
            .map(|found| convert(found.definition.kind, &found.text).ok_or_else(|| refusal(found)))
            .collect::<Result<Vec<_>>>()?;
        let entries = found
            .into_iter()
            .zip(&accepted)
            .map(|(found, accepted)| {
                let value = usable(found.definition.kind, accepted)
                    .map_err(|expected| unusable(&found, &expected))?;
                Ok(Setting {
                    definition: found.definition,
                    value,
                    source: found.source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (dotenv_path, skipped_lines) = match (dotenv_file, &app) {
            (Some(file), _) => (Some(file.path), file.skipped_lines),
            (None, Some(app)) => (
                app.env_files.last().cloned(),
                app.skipped.iter().map(|(_, line)| *line).collect(),
            ),
            (None, None) => (None, Vec::new()),
        };
        Ok(Settings {
            entries,
            dotenv_path,
            skipped_lines,
            app,
        })
    }

    fn get(&self, env: &str) -> &Setting {
        self.entries
            .iter()
            .find(|s| s.definition.env == env)
            .unwrap_or_else(|| unreachable!("{env} is in DEFINITIONS"))
    }

    /// The DATABASE_URL, password included: pass it only to code that connects or parses.
    pub fn database_url(&self) -> &str {
        match &self.get("DATABASE_URL").value {
            Value::Url(url) => url,
            _ => unreachable!("DATABASE_URL is a URL"),
        }
    }

    fn integer(&self, env: &str) -> i64 {
        match self.get(env).value {
            Value::Integer(n) => n,
            _ => unreachable!("{env} is an integer"),
        }
    }

    fn seconds(&self, env: &str) -> Option<Duration> {
        match self.get(env).value {
            Value::Seconds(duration) => duration,
            _ => unreachable!("{env} is in seconds"),
        }
    }

    fn boolean(&self, env: &str) -> bool {
        match self.get(env).value {
            Value::Boolean(b) => b,
            _ => unreachable!("{env} is a boolean"),
        }
    }

    pub(crate) fn pool_size(&self) -> u32 {
        u32::try_from(self.integer("DB_POOL_SIZE")).unwrap_or(u32::MAX)
    }

    /// `None` means no overflow limit (`-1`).
    pub(crate) fn max_overflow(&self) -> Option<u32> {
        u32::try_from(self.integer("DB_MAX_OVERFLOW")).ok()
    }

    pub(crate) fn pool_timeout(&self) -> Duration {
        self.seconds("DB_POOL_TIMEOUT").unwrap_or_default()
    }

    /// `None` means connections are never recycled (`-1`).
    pub(crate) fn pool_recycle(&self) -> Option<Duration> {
        self.seconds("DB_POOL_RECYCLE")
    }

    pub(crate) fn pool_pre_ping(&self) -> bool {
        self.boolean("DB_POOL_PRE_PING")
    }

    pub(crate) fn echo(&self) -> bool {
        self.boolean("DB_ECHO")
    }

    /// Zero means no limit.
    pub(crate) fn statement_timeout(&self) -> Duration {
        self.seconds("DB_STATEMENT_TIMEOUT").unwrap_or_default()
    }
}

/// A `.env` file that was read: its absolute path, the application's values from it (names
/// lower-cased, as pydantic-settings keeps them) and the statements python-dotenv skipped.
struct DotenvFile {
    path: PathBuf,
    values: Vec<(String, Option<String>)>,
    skipped_lines: Vec<usize>,
}

impl DotenvFile {
    /// The value of `name`; `None` also when the file names it without `=`.
    fn find(&self, name: &str) -> Option<&str> {
        let wanted = name.to_lowercase();
        self.values
            .iter()
            .rev()
            .find(|(key, _)| *key == wanted)
            .and_then(|(_, value)| value.as_deref())
    }
}

/// Reads the `.env` file the choice names; a missing working-directory `.env` is not an error.
fn load_dotenv(
    choice: &DotenvChoice,
    variables: &[(String, String)],
) -> Result<Option<DotenvFile>> {
    let path = match choice {
        DotenvChoice::Skip => return Ok(None),
        DotenvChoice::File(path) => path.clone(),
        DotenvChoice::WorkingDirectory => {
            let path = PathBuf::from(".env");
            // pydantic-settings reads a regular file or a FIFO; a directory is no env file.
            if !path.exists() || path.is_dir() {
                return Ok(None);
            }
            path
        }
    };
    let shown = absolute(&path);
    let bytes = std::fs::read(&path).map_err(|e| {
        invalid(format!(
            "cannot read the env file {}: {e}; fix the path or pass --no-dotenv",
            shown.display()
        ))
    })?;
    let text = dotenv::decode(&bytes).map_err(|e| {
        invalid(format!(
            "cannot read the env file {}: {e}; fix the file or pass --no-dotenv",
            shown.display()
        ))
    })?;
    let parsed = dotenv::parse(&text);
    let values = dotenv::resolve_variables(&parsed.assignments, variables)
        .iter()
        .map(|(key, value)| (key.to_lowercase(), value.map(str::to_string)))
        .collect();
    Ok(Some(DotenvFile {
        path: shown,
        values,
        skipped_lines: parsed.skipped_lines,
    }))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Finds the text of a setting by precedence: flag, environment, `.env`, default.
fn lookup(
    definition: &'static Definition,
    flags: &FlagValues,
    variables: &[(String, String)],
    dotenv: Option<&DotenvFile>,
) -> FoundSetting {
    let found = |text: &str, source: Source| FoundSetting {
        definition,
        text: text.to_string(),
        source,
    };
    if let Some(value) = flags.get(definition.env) {
        return found(value, Source::Flag);
    }
    if let Some(value) = environ_value(variables, definition.env) {
        return found(value, Source::Env);
    }
    if let Some(file) = dotenv
        && let Some(value) = file.find(definition.env)
    {
        return found(value, Source::Dotenv(file.path.clone()));
    }
    found(definition.default, Source::Default)
}

/// The value the application has for a setting, converted by pydantic's rules.
#[derive(Debug, Clone, PartialEq)]
enum Accepted {
    Text(String),
    Int(Int),
    Float(f64),
    Bool(bool),
}

/// Converts a setting's text as pydantic converts it for the field's type; `None` when pydantic
/// refuses it.
fn convert(kind: SettingKind, text: &str) -> Option<Accepted> {
    match kind {
        SettingKind::Url => Some(Accepted::Text(text.to_string())),
        SettingKind::Integer { .. } => pydantic::parse_int(text).map(Accepted::Int),
        SettingKind::Seconds { .. } => pydantic::parse_float(text).map(Accepted::Float),
        SettingKind::Boolean => pydantic::parse_bool(text).map(Accepted::Bool),
    }
}

/// What dbtool can use of the application's value; the error says what dbtool expects.
fn usable(kind: SettingKind, accepted: &Accepted) -> std::result::Result<Value, String> {
    match (kind, accepted) {
        (SettingKind::Url, Accepted::Text(url)) if !url.trim().is_empty() => {
            Ok(Value::Url(url.clone()))
        }
        (SettingKind::Url, _) => Err(expected(kind)),
        (SettingKind::Integer { min }, Accepted::Int(Int::Small(n))) if *n >= min => {
            Ok(Value::Integer(*n))
        }
        (SettingKind::Integer { .. }, _) => Err(expected(kind)),
        (
            SettingKind::Seconds {
                disable_with_minus_one: true,
            },
            Accepted::Float(seconds),
        ) if *seconds == -1.0 => Ok(Value::Seconds(None)),
        (SettingKind::Seconds { .. }, Accepted::Float(seconds))
            if seconds.is_finite() && (0.0..=duration::MAX.as_secs_f64()).contains(seconds) =>
        {
            Duration::try_from_secs_f64(*seconds)
                .map(|d| Value::Seconds(Some(d)))
                .map_err(|_| expected(kind))
        }
        (SettingKind::Seconds { .. }, _) => Err(expected(kind)),
        (SettingKind::Boolean, Accepted::Bool(b)) => Ok(Value::Boolean(*b)),
        (SettingKind::Boolean, _) => Err(expected(kind)),
    }
}

/// What dbtool accepts for a kind of setting, for error messages.
fn expected(kind: SettingKind) -> String {
    match kind {
        SettingKind::Url => {
            "expected a connection URL such as postgresql+asyncpg://user@host:5432/db".to_string()
        }
        SettingKind::Integer { min: 0 } => "expected a whole number ≥ 0".to_string(),
        SettingKind::Integer { min: -1 } => {
            "expected a whole number ≥ 0, or -1 for no limit".to_string()
        }
        SettingKind::Integer { min } => format!("expected a whole number ≥ {min}"),
        SettingKind::Seconds {
            disable_with_minus_one: true,
        } => format!("{}, or -1 for never", Unit::Seconds.expected()),
        SettingKind::Seconds { .. } => Unit::Seconds.expected(),
        SettingKind::Boolean => {
            "expected a boolean: true/false, 1/0, yes/no, on/off, t/f or y/n".to_string()
        }
    }
}

/// `NAME="text" (from source)`, with a flag's own name and a URL's password hidden.
fn named(found: &FoundSetting) -> String {
    let shown = match found.definition.kind {
        SettingKind::Url => redact_url(&found.text),
        _ => found.text.clone(),
    };
    let name = match (found.source.clone(), &found.definition.kind) {
        // The URL may be a positional argument as well as --url.
        (Source::Flag, SettingKind::Url) => "URL",
        (Source::Flag, _) => found.definition.flag,
        _ => found.definition.env,
    };
    format!("{name}={shown:?} (from {})", found.source)
}

/// The error for a text pydantic refuses: the application does not start with it either.
fn refusal(found: &FoundSetting) -> anyhow::Error {
    if let Source::App(_) = found.source {
        return unusable(found, &expected(found.definition.kind));
    }
    let application = if found.read_by_application() {
        " (the application refuses it too)"
    } else {
        ""
    };
    invalid(format!(
        "invalid {}: {}{application}; fix or unset it",
        named(found),
        expected(found.definition.kind)
    ))
}

/// The error for a value pydantic accepts but dbtool cannot use: the one place where dbtool
/// must differ from the application, said in one line.
fn unusable(found: &FoundSetting, expected: &str) -> anyhow::Error {
    if found.read_by_application() {
        invalid(format!(
            "{} is accepted by the application, but dbtool cannot use it: {expected}; fix or unset it",
            named(found)
        ))
    } else {
        invalid(format!(
            "invalid {}: {expected}; fix or unset it",
            named(found)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(env: &str) -> &'static Definition {
        DEFINITIONS.iter().find(|d| d.env == env).unwrap()
    }

    fn environment(pairs: &[(&str, &str)]) -> Environment {
        Environment::injected(pairs.iter().copied())
    }

    /// Resolves one setting's text from `source` as `resolve` does; the error as text.
    fn resolve_one(env: &str, text: &str, source: Source) -> std::result::Result<Value, String> {
        let found = FoundSetting {
            definition: definition(env),
            text: text.to_string(),
            source,
        };
        let accepted = convert(found.definition.kind, &found.text)
            .ok_or_else(|| format!("{:#}", refusal(&found)))?;
        usable(found.definition.kind, &accepted).map_err(|e| format!("{:#}", unusable(&found, &e)))
    }

    #[test]
    fn defaults_are_the_reference_documents() {
        let defaults: Vec<(&str, &str)> = DEFINITIONS.iter().map(|d| (d.env, d.default)).collect();
        assert_eq!(
            defaults,
            [
                (
                    "DATABASE_URL",
                    "postgresql+asyncpg://super@localhost:5432/super"
                ),
                ("DB_POOL_SIZE", "5"),
                ("DB_MAX_OVERFLOW", "10"),
                ("DB_POOL_TIMEOUT", "30"),
                ("DB_POOL_RECYCLE", "3600"),
                ("DB_POOL_PRE_PING", "true"),
                ("DB_ECHO", "false"),
                ("DB_STATEMENT_TIMEOUT", "30"),
            ]
        );
        for d in &DEFINITIONS {
            assert!(
                resolve_one(d.env, d.default, Source::Default).is_ok(),
                "{}",
                d.env
            );
        }
    }

    #[test]
    fn precedence_is_flag_env_dotenv_default() {
        let d = definition("DB_POOL_SIZE");
        let env = environment(&[("db_pool_size", "7")]).python_variables();
        let dotenv = DotenvFile {
            path: PathBuf::from("/x/.env"),
            values: vec![("db_pool_size".to_string(), Some("8".to_string()))],
            skipped_lines: Vec::new(),
        };
        let mut flags = FlagValues::default();
        let text_and_source = |found: FoundSetting| (found.text, found.source);
        let none = Vec::new();
        assert_eq!(
            text_and_source(lookup(d, &flags, &none, None)),
            ("5".into(), Source::Default)
        );
        assert_eq!(
            text_and_source(lookup(d, &flags, &none, Some(&dotenv))),
            ("8".into(), Source::Dotenv(PathBuf::from("/x/.env")))
        );
        assert_eq!(
            text_and_source(lookup(d, &flags, &env, Some(&dotenv))),
            ("7".into(), Source::Env)
        );
        flags.set("DB_POOL_SIZE", Some("9".into()));
        assert_eq!(
            text_and_source(lookup(d, &flags, &env, Some(&dotenv))),
            ("9".into(), Source::Flag)
        );
    }

    #[test]
    fn of_two_spellings_the_later_wins() {
        let env = environment(&[("DB_ECHO", "1"), ("db_echo", "0")]).python_variables();
        assert_eq!(environ_value(&env, "DB_ECHO"), Some("0"));
        let dotenv = DotenvFile {
            path: PathBuf::from("/x/.env"),
            values: vec![
                ("db_echo".to_string(), Some("1".to_string())),
                ("db_echo".to_string(), None),
            ],
            skipped_lines: Vec::new(),
        };
        assert_eq!(dotenv.find("DB_ECHO"), None);
    }

    #[test]
    fn values_are_pydantics_then_checked_against_what_dbtool_can_use() {
        let env = |name, text| resolve_one(name, text, Source::Env);
        assert_eq!(env("DB_POOL_SIZE", "7_000"), Ok(Value::Integer(7000)));
        assert_eq!(env("DB_POOL_SIZE", " 5.0 "), Ok(Value::Integer(5)));
        assert_eq!(env("DB_MAX_OVERFLOW", "-1"), Ok(Value::Integer(-1)));
        assert_eq!(env("DB_ECHO", "T"), Ok(Value::Boolean(true)));
        assert_eq!(
            env("DB_POOL_TIMEOUT", "2.5"),
            Ok(Value::Seconds(Some(Duration::from_millis(2500))))
        );
        assert_eq!(env("DB_POOL_RECYCLE", "-1.0"), Ok(Value::Seconds(None)));
        for (name, text) in [
            ("DB_POOL_SIZE", "abc"),
            ("DB_POOL_SIZE", "5.5"),
            ("DB_ECHO", " true"),
        ] {
            let error = env(name, text).unwrap_err();
            assert!(error.contains("the application refuses it too"), "{error}");
        }
        for (name, text) in [
            ("DB_POOL_SIZE", "-5"),
            ("DB_MAX_OVERFLOW", "-2"),
            ("DB_POOL_SIZE", "99999999999999999999"),
            ("DB_POOL_TIMEOUT", "inf"),
            ("DB_POOL_TIMEOUT", "-3"),
            ("DATABASE_URL", " "),
        ] {
            let error = env(name, text).unwrap_err();
            assert!(error.contains("accepted by the application"), "{error}");
            assert!(
                error.contains(name) && error.contains("(from env)"),
                "{error}"
            );
        }
        for text in ["-3", "-1", "inf", "NaN", "1e20"] {
            let error = env("DB_POOL_TIMEOUT", text).unwrap_err();
            assert!(error.contains("from 0 to 2147483.647"), "{error}");
        }
        assert!(
            env("DB_POOL_RECYCLE", "1e20")
                .unwrap_err()
                .contains("or -1 for never")
        );
    }

    #[test]
    fn a_bad_value_names_variable_value_and_source() {
        let error = resolve_one(
            "DB_POOL_TIMEOUT",
            "soon",
            Source::Dotenv(PathBuf::from("/app/.env")),
        )
        .unwrap_err();
        assert!(error.contains("DB_POOL_TIMEOUT=\"soon\""), "{error}");
        assert!(error.contains("/app/.env"), "{error}");
        let error = resolve_one("DB_POOL_SIZE", "x", Source::Flag).unwrap_err();
        assert!(
            error.contains("--pool-size=\"x\" (from command line)"),
            "{error}"
        );
        assert!(!error.contains("application"), "{error}");
        let found = FoundSetting {
            definition: definition("DB_POOL_SIZE"),
            text: "x".into(),
            source: Source::Env,
        };
        assert_eq!(
            crate::exit::outcome_of(&refusal(&found)),
            crate::exit::Outcome::NoAttempt
        );
    }

    #[test]
    fn a_url_keeps_its_text_and_hides_its_password() {
        let value = resolve_one("DATABASE_URL", " postgresql://u:pw@h/db\n", Source::Env).unwrap();
        assert_eq!(value, Value::Url(" postgresql://u:pw@h/db\n".into()));
        assert!(!value.display().contains("pw"), "{}", value.display());
    }

    #[test]
    fn seconds_display_as_written() {
        assert_eq!(
            Value::Seconds(Some(Duration::from_secs(30))).display(),
            "30"
        );
        assert_eq!(Value::Seconds(None).display(), "-1");
    }

    #[test]
    fn a_dotenv_file_is_read_with_interpolation_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        std::fs::write(
            &path,
            "DATABASE_URL=postgresql://u:pw@${DB_HOST:-fallback}/db\r\nnot an assignment\r\ndb_pool_size=3\r\nDB_POOL_SIZE=4\r\n",
        )
        .unwrap();
        let settings = Settings::resolve(
            &FlagValues::default(),
            &DotenvChoice::File(path),
            &environment(&[("DB_HOST", "envhost")]),
        )
        .unwrap();
        assert_eq!(settings.database_url(), "postgresql://u:pw@envhost/db");
        assert_eq!(settings.pool_size(), 4);
        assert_eq!(settings.skipped_lines, [2]);
    }
}
