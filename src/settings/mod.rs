//! DATABASE_URL and the DB_* settings the application reads, with where each value came from.
//!
//! Precedence is the application's (pydantic-settings) plus dbtool's flags:
//! command-line flag > process environment > `.env` file > default. Names are matched
//! case-insensitively, as pydantic-settings does with `case_sensitive=False`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::duration::{self, Unit};
use crate::exit::invalid;
use crate::url::redact_url;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    Dotenv(PathBuf),
    Default,
}

impl Source {
    /// The short name used in JSON: `flag`, `env`, `dotenv` or `default`.
    pub fn key(&self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::Dotenv(_) => "dotenv",
            Source::Default => "default",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Dotenv(path) => write!(f, ".env ({})", path.display()),
            other => f.write_str(other.key()),
        }
    }
}

/// The type of a setting, which decides how its text is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Url,
    /// An integer no smaller than the given minimum.
    Integer {
        min: i64,
    },
    /// Seconds, fractional allowed; `-1` also accepted when `disable_with_minus_one`.
    Seconds {
        disable_with_minus_one: bool,
    },
    Boolean,
}

/// One setting as the application's reference document defines it.
#[derive(Debug)]
pub struct Definition {
    /// The environment variable, e.g. `DB_POOL_SIZE`.
    pub env: &'static str,
    /// The flag that overrides it, e.g. `--pool-size`.
    pub flag: &'static str,
    pub default: &'static str,
    /// The meaning, in the words of the reference document.
    pub meaning: &'static str,
    kind: Kind,
}

/// The settings, in the order of the reference document's `.env.example`.
pub const DEFINITIONS: [Definition; 8] = [
    Definition {
        env: "DATABASE_URL",
        flag: "--url",
        default: "postgresql+asyncpg://super@localhost:5432/super",
        meaning: "SQLAlchemy connection URL: dialect+driver://user:password@host:port/database.",
        kind: Kind::Url,
    },
    Definition {
        env: "DB_POOL_SIZE",
        flag: "--pool-size",
        default: "5",
        meaning: "Number of persistent connections kept open. These connections are always available, even when idle.",
        kind: Kind::Integer { min: 0 },
    },
    Definition {
        env: "DB_MAX_OVERFLOW",
        flag: "--max-overflow",
        default: "10",
        meaning: "Extra connections created under load, beyond pool_size. These are closed when no longer needed. Total max = pool_size + max_overflow (-1: no limit).",
        kind: Kind::Integer { min: -1 },
    },
    Definition {
        env: "DB_POOL_TIMEOUT",
        flag: "--pool-timeout",
        default: "30",
        meaning: "Seconds to wait for an available connection before raising TimeoutError.",
        kind: Kind::Seconds {
            disable_with_minus_one: false,
        },
    },
    Definition {
        env: "DB_POOL_RECYCLE",
        flag: "--pool-recycle",
        default: "3600",
        meaning: "Recreate connections older than this (seconds). Set lower than your database's idle timeout (-1: never).",
        kind: Kind::Seconds {
            disable_with_minus_one: true,
        },
    },
    Definition {
        env: "DB_POOL_PRE_PING",
        flag: "--pre-ping",
        default: "true",
        meaning: "Test each connection with SELECT 1 before checkout. Catches dead connections before your query fails.",
        kind: Kind::Boolean,
    },
    Definition {
        env: "DB_ECHO",
        flag: "--echo",
        default: "false",
        meaning: "Log all SQL statements. Enable for debugging, disable in production.",
        kind: Kind::Boolean,
    },
    Definition {
        env: "DB_STATEMENT_TIMEOUT",
        flag: "--statement-timeout",
        default: "30",
        meaning: "Max seconds a query can run before being killed (0: no limit).",
        kind: Kind::Seconds {
            disable_with_minus_one: false,
        },
    },
];

/// A parsed setting value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A URL; may hold a password, so show it only through [`Value::display`].
    Url(String),
    Integer(i64),
    /// `None`: disabled with `-1` (only where the setting allows it).
    Seconds(Option<Duration>),
    Boolean(bool),
}

impl Value {
    /// The value as shown to a user: passwords masked, whole seconds without a fraction.
    pub fn display(&self) -> String {
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
pub struct Setting {
    pub definition: &'static Definition,
    pub value: Value,
    pub source: Source,
}

/// Values given on the command line, still as text, keyed by environment variable name.
#[derive(Debug, Default, Clone)]
pub struct FlagValues(HashMap<&'static str, String>);

impl FlagValues {
    pub fn set(&mut self, env: &'static str, value: Option<String>) {
        if let Some(value) = value {
            self.0.insert(env, value);
        }
    }

    pub fn get(&self, env: &str) -> Option<&str> {
        self.0.get(env).map(String::as_str)
    }
}

/// Where to look for a `.env` file.
#[derive(Debug, Clone)]
pub enum DotenvChoice {
    /// `.env` in the working directory, if present.
    WorkingDirectory,
    /// A file named by `--env-file`; it must exist.
    File(PathBuf),
    /// `--no-dotenv`.
    Skip,
}

/// All settings, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub entries: Vec<Setting>,
    /// The `.env` file that was read, if any.
    pub dotenv_path: Option<PathBuf>,
}

impl Settings {
    /// Resolves every setting from flags, the process environment, a `.env` file and defaults.
    pub fn resolve(flags: &FlagValues, dotenv: &DotenvChoice) -> Result<Settings> {
        let environment: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().unwrap_or_default())))
            .collect();
        let dotenv_file = load_dotenv(dotenv)?;
        let dotenv_path = dotenv_file.as_ref().map(|(path, _)| path.clone());
        let entries = DEFINITIONS
            .iter()
            .map(|definition| {
                let (text, source) = lookup(definition, flags, &environment, dotenv_file.as_ref());
                let value = parse(definition, &text, &source)?;
                Ok(Setting {
                    definition,
                    value,
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Settings {
            entries,
            dotenv_path,
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

    pub fn database_url_source(&self) -> &Source {
        &self.get("DATABASE_URL").source
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

    pub fn pool_size(&self) -> u32 {
        u32::try_from(self.integer("DB_POOL_SIZE")).unwrap_or(u32::MAX)
    }

    /// `None` means no overflow limit (`-1`).
    pub fn max_overflow(&self) -> Option<u32> {
        u32::try_from(self.integer("DB_MAX_OVERFLOW")).ok()
    }

    pub fn pool_timeout(&self) -> Duration {
        self.seconds("DB_POOL_TIMEOUT").unwrap_or_default()
    }

    /// `None` means connections are never recycled (`-1`).
    pub fn pool_recycle(&self) -> Option<Duration> {
        self.seconds("DB_POOL_RECYCLE")
    }

    pub fn pool_pre_ping(&self) -> bool {
        self.boolean("DB_POOL_PRE_PING")
    }

    pub fn echo(&self) -> bool {
        self.boolean("DB_ECHO")
    }

    /// Zero means no limit.
    pub fn statement_timeout(&self) -> Duration {
        self.seconds("DB_STATEMENT_TIMEOUT").unwrap_or_default()
    }
}

/// A `.env` file that was read: its absolute path and its assignments in file order.
type DotenvFile = (PathBuf, Vec<(String, String)>);

/// Reads the `.env` file the choice names; a missing working-directory `.env` is not an error.
fn load_dotenv(choice: &DotenvChoice) -> Result<Option<DotenvFile>> {
    let path = match choice {
        DotenvChoice::Skip => return Ok(None),
        DotenvChoice::File(path) => path.clone(),
        DotenvChoice::WorkingDirectory => {
            let path = PathBuf::from(".env");
            if !path.exists() {
                return Ok(None);
            }
            path
        }
    };
    let shown = absolute(&path);
    let iter = dotenvy::from_path_iter(&path).map_err(|e| {
        invalid(format!(
            "cannot read the env file {}: {}; fix the path or pass --no-dotenv",
            shown.display(),
            describe_dotenv_error(&e)
        ))
    })?;
    let mut pairs = Vec::new();
    for item in iter {
        let pair = item.map_err(|e| {
            invalid(format!(
                "cannot parse the env file {}: {}; fix that line or pass --no-dotenv",
                shown.display(),
                describe_dotenv_error(&e)
            ))
        })?;
        pairs.push(pair);
    }
    Ok(Some((shown, pairs)))
}

fn describe_dotenv_error(error: &dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(line, index) => {
            let line = line.lines().next().unwrap_or_default();
            format!("invalid line {:?} at character {index}", redact_line(line))
        }
        dotenvy::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// A `.env` line as it may be shown: the value is hidden, it may be a secret.
fn redact_line(line: &str) -> String {
    match line.split_once('=') {
        Some((key, _)) => format!("{key}=***"),
        None if line.chars().count() > 40 => {
            format!("{}…", line.chars().take(40).collect::<String>())
        }
        None => line.to_string(),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Finds the text of a setting by precedence: flag, environment, `.env`, default.
fn lookup(
    definition: &'static Definition,
    flags: &FlagValues,
    environment: &[(String, String)],
    dotenv: Option<&DotenvFile>,
) -> (String, Source) {
    if let Some(value) = flags.0.get(definition.env) {
        return (value.clone(), Source::Flag);
    }
    if let Some(value) = find_case_insensitive(environment, definition.env) {
        return (value, Source::Env);
    }
    if let Some((path, pairs)) = dotenv
        && let Some(value) = find_case_insensitive(pairs, definition.env)
    {
        return (value, Source::Dotenv(path.clone()));
    }
    (definition.default.to_string(), Source::Default)
}

/// The value of `name`, preferring an exact match, then the last case-insensitive one.
fn find_case_insensitive(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .or_else(|| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
        })
        .map(|(_, v)| v.clone())
}

fn parse(definition: &Definition, text: &str, source: &Source) -> Result<Value> {
    let trimmed = text.trim();
    let parsed = match definition.kind {
        Kind::Url => {
            if trimmed.is_empty() {
                Err(
                    "expected a connection URL such as postgresql+asyncpg://user@host:5432/db"
                        .to_string(),
                )
            } else {
                Ok(Value::Url(trimmed.to_string()))
            }
        }
        Kind::Integer { min } => parse_integer(trimmed, min).map(Value::Integer),
        Kind::Seconds {
            disable_with_minus_one: true,
        } => duration::parse_or_never(trimmed, Unit::Seconds).map(Value::Seconds),
        Kind::Seconds {
            disable_with_minus_one: false,
        } => duration::parse(trimmed, Unit::Seconds).map(|d| Value::Seconds(Some(d))),
        Kind::Boolean => parse_boolean(trimmed).map(Value::Boolean),
    };
    parsed.map_err(|expected| {
        let shown = match definition.kind {
            Kind::Url => redact_url(text),
            _ => text.to_string(),
        };
        let name = match source {
            Source::Flag => definition.flag.to_string(),
            _ => definition.env.to_string(),
        };
        invalid(format!(
            "invalid {name}={shown:?} (from {source}): {expected}; fix or unset it"
        ))
    })
}

fn parse_integer(text: &str, min: i64) -> std::result::Result<i64, String> {
    let expected = || match min {
        0 => "expected a whole number ≥ 0".to_string(),
        -1 => "expected a whole number ≥ 0, or -1 for no limit".to_string(),
        _ => format!("expected a whole number ≥ {min}"),
    };
    // pydantic accepts a float with no fractional part ("5.0") for an int field.
    let number = text
        .parse::<i64>()
        .ok()
        .or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        })
        .ok_or_else(expected)?;
    if number < min {
        return Err(expected());
    }
    Ok(number)
}

/// pydantic's boolean words, case-insensitive.
fn parse_boolean(text: &str) -> std::result::Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Ok(false),
        _ => Err("expected a boolean: true/false, 1/0, yes/no or on/off".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(env: &str) -> &'static Definition {
        DEFINITIONS.iter().find(|d| d.env == env).unwrap()
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
            assert!(parse(d, d.default, &Source::Default).is_ok(), "{}", d.env);
        }
    }

    #[test]
    fn precedence_is_flag_env_dotenv_default() {
        let d = definition("DB_POOL_SIZE");
        let env = vec![("db_pool_size".to_string(), "7".to_string())];
        let dotenv = (
            PathBuf::from("/x/.env"),
            vec![("DB_POOL_SIZE".to_string(), "8".to_string())],
        );
        let mut flags = FlagValues::default();
        assert_eq!(lookup(d, &flags, &[], None), ("5".into(), Source::Default));
        assert_eq!(
            lookup(d, &flags, &[], Some(&dotenv)),
            ("8".into(), Source::Dotenv(PathBuf::from("/x/.env")))
        );
        assert_eq!(
            lookup(d, &flags, &env, Some(&dotenv)),
            ("7".into(), Source::Env)
        );
        flags.set("DB_POOL_SIZE", Some("9".into()));
        assert_eq!(
            lookup(d, &flags, &env, Some(&dotenv)),
            ("9".into(), Source::Flag)
        );
    }

    #[test]
    fn exact_name_beats_other_case() {
        let pairs = vec![
            ("DB_ECHO".to_string(), "1".to_string()),
            ("db_echo".to_string(), "0".to_string()),
        ];
        assert_eq!(
            find_case_insensitive(&pairs, "DB_ECHO").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn booleans_accept_pydantic_words() {
        for word in ["true", "TRUE", "1", "yes", "on", "t", "y"] {
            assert_eq!(parse_boolean(word), Ok(true), "{word}");
        }
        for word in ["false", "0", "no", "Off", "f", "n"] {
            assert_eq!(parse_boolean(word), Ok(false), "{word}");
        }
        assert!(parse_boolean("maybe").is_err());
    }

    #[test]
    fn numbers_follow_their_ranges() {
        assert_eq!(parse_integer("5", 0), Ok(5));
        assert_eq!(parse_integer("5.0", 0), Ok(5));
        assert_eq!(parse_integer("-1", -1), Ok(-1));
        assert!(parse_integer("-2", -1).is_err());
        assert!(parse_integer("abc", 0).is_err());
        assert!(parse_integer("5.5", 0).is_err());
        let recycle = definition("DB_POOL_RECYCLE");
        let timeout = definition("DB_POOL_TIMEOUT");
        let seconds = |d, text| parse(d, text, &Source::Env).map_err(|e| format!("{e:#}"));
        assert_eq!(
            seconds(timeout, "2.5"),
            Ok(Value::Seconds(Some(Duration::from_millis(2500))))
        );
        assert_eq!(seconds(recycle, "-1"), Ok(Value::Seconds(None)));
        for text in ["-3", "-1", "inf", "NaN", "1e20"] {
            let error = seconds(timeout, text).unwrap_err();
            assert!(error.contains("from 0 to 2147483.647"), "{error}");
        }
        assert!(
            seconds(recycle, "1e20")
                .unwrap_err()
                .contains("or -1 for never")
        );
    }

    #[test]
    fn a_bad_value_names_variable_value_and_source() {
        let d = definition("DB_POOL_TIMEOUT");
        let error = parse(d, "-3", &Source::Dotenv(PathBuf::from("/app/.env"))).unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("DB_POOL_TIMEOUT=\"-3\""), "{text}");
        assert!(text.contains("/app/.env"), "{text}");
        assert_eq!(
            crate::exit::outcome_of(&error),
            crate::exit::Outcome::NoAttempt
        );
    }

    #[test]
    fn a_bad_url_setting_hides_its_password() {
        let d = definition("DATABASE_URL");
        let value = parse(d, "postgresql://u:pw@h/db", &Source::Env).unwrap();
        assert_eq!(value.display(), "postgresql://u:***@h/db");
    }

    #[test]
    fn seconds_display_as_written() {
        assert_eq!(
            Value::Seconds(Some(Duration::from_secs(30))).display(),
            "30"
        );
        assert_eq!(Value::Seconds(None).display(), "-1");
    }
}
