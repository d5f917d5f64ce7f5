//! The application's settings read as pydantic-settings reads them for its class: the
//! environment over the env files over the defaults, names with the class's prefix or the
//! field's aliases, matched case-insensitively unless `case_sensitive`, nested models from
//! `PREFIX_FIELD<delimiter>SUB` variables or JSON, each text converted by the pydantic ports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value as Json;

use super::AppChoice;
use super::class::{Config, Default, Extra, Field, SettingsClass, Type};
use super::value::PyValue;
use crate::environment::Environment;
use crate::exit::invalid;
use crate::settings::dotenv;
use crate::settings::pydantic::{Int, parse_bool, parse_float, parse_int};
use crate::url::redact_url;

/// The settings the application has, each with where its value came from.
#[derive(Debug)]
pub(super) struct Read {
    pub(super) values: Vec<(String, PyValue, String)>,
    pub(super) env_files: Vec<PathBuf>,
    pub(super) skipped: Vec<(PathBuf, usize)>,
}

/// Variables by name (lower-cased unless case-sensitive), later spellings winning.
type Vars = HashMap<String, Option<String>>;

pub(super) fn read(
    class: &SettingsClass,
    dir: &Path,
    choice: &AppChoice,
    environment: &Environment,
) -> Result<Read> {
    let config = &class.config;
    let key = |name: &str| {
        if config.case_sensitive {
            name.to_string()
        } else {
            name.to_lowercase()
        }
    };
    let python = environment.python_variables();
    let mut env: Vars = HashMap::new();
    for (name, value) in &python {
        if !(config.env_ignore_empty && value.is_empty()) {
            env.insert(key(name), Some(value.clone()));
        }
    }
    let files: Vec<PathBuf> = if choice.no_dotenv {
        Vec::new()
    } else if let Some(file) = &choice.env_file {
        vec![file.clone()]
    } else {
        config
            .env_files
            .iter()
            .flatten()
            .map(|f| dir.join(f))
            .collect()
    };
    let mut dotenv_vars: Vars = HashMap::new();
    let mut read_files = Vec::new();
    let mut skipped = Vec::new();
    for path in files {
        if !path.exists() || path.is_dir() {
            if choice.env_file.is_some() {
                return Err(invalid(format!(
                    "cannot read the env file {}: no such file; fix the path or pass --no-dotenv",
                    path.display()
                )));
            }
            continue;
        }
        let shown = std::path::absolute(&path).unwrap_or(path.clone());
        let bytes = std::fs::read(&path)
            .map_err(|e| invalid(format!("cannot read the env file {}: {e}", shown.display())))?;
        let text = decode(&bytes, config.env_file_encoding.as_deref(), &shown)?;
        let parsed = dotenv::parse(&text);
        for (name, value) in dotenv::resolve_variables(&parsed.assignments, &python).iter() {
            if !(config.env_ignore_empty && value == Some("")) {
                dotenv_vars.insert(key(name), value.map(str::to_string));
            }
        }
        skipped.extend(parsed.skipped_lines.iter().map(|l| (shown.clone(), *l)));
        read_files.push(shown);
    }
    let dotenv_name = read_files
        .last()
        .map(|p| format!(".env ({})", p.display()))
        .unwrap_or_default();
    let names = |field: &Field| -> Vec<String> {
        if field.aliases.is_empty() {
            vec![key(&format!("{}{}", config.env_prefix, field.name))]
        } else {
            field.aliases.iter().map(|a| key(a)).collect()
        }
    };
    let mut values = Vec::new();
    for field in &class.fields {
        let candidates = names(field);
        let found = |vars: &Vars| {
            candidates
                .iter()
                .find_map(|n| vars.get(n).cloned().flatten().map(|v| (n.clone(), v)))
        };
        if let Type::Model(sub) = &field.ty {
            let layers = [(&dotenv_vars, dotenv_name.as_str()), (&env, "env")];
            if let Some((value, origin)) = nested(field, sub, config, &candidates, &layers)? {
                values.push((field.name.clone(), value, origin));
                continue;
            }
        } else {
            let hit = found(&env)
                .map(|(n, v)| (n, v, "env".to_string()))
                .or_else(|| found(&dotenv_vars).map(|(n, v)| (n, v, dotenv_name.clone())));
            if let Some((name, text, source)) = hit {
                let shown_name = shown(&python, &name);
                let value = convert(&field.ty, &text)
                    .ok_or_else(|| refused(class, field, &shown_name, &text, &source))?;
                values.push((field.name.clone(), value, format!("{source} {shown_name}")));
                continue;
            }
        }
        match &field.default {
            Default::Construct(_) if matches!(field.ty, Type::Model(_)) => {
                let Type::Model(sub) = &field.ty else {
                    unreachable!("just matched")
                };
                let defaults = model_defaults(field, sub)?;
                values.push((
                    field.name.clone(),
                    defaults,
                    format!("the default ({})", field.place),
                ));
            }
            // BaseSettings validates defaults (`validate_default=True`).
            Default::Value(value) => {
                let validated = match &field.ty {
                    Type::Unknown(_) | Type::Model(_) => Some(value.clone()),
                    ty => convert_json(ty, &value.to_json(false)),
                };
                let validated = validated.ok_or_else(|| {
                    invalid(format!(
                        "the default of the field {} of {} ({}) is not {}: BaseSettings validates defaults, so the application fails to start; fix the class or set {}",
                        field.name,
                        class.name,
                        field.place,
                        describe(&field.ty),
                        candidates[0].to_uppercase()
                    ))
                })?;
                values.push((
                    field.name.clone(),
                    validated,
                    format!("the default ({})", field.place),
                ));
            }
            Default::Required => {
                return Err(invalid(format!(
                    "{} is not set: the field {} of {} ({}) has no default, so the application fails to start; set it",
                    candidates[0].to_uppercase(),
                    field.name,
                    class.name,
                    field.place
                )));
            }
            Default::Unknown(_) | Default::Construct(_) => {}
        }
    }
    check_extra(class, &dotenv_vars, &names, &dotenv_name)?;
    Ok(Read {
        values,
        env_files: read_files,
        skipped,
    })
}

/// The name as the environment spells it, for messages.
fn shown(python: &[(String, String)], name: &str) -> String {
    python
        .iter()
        .rev()
        .find(|(n, _)| n.to_lowercase() == name.to_lowercase())
        .map_or_else(|| name.to_uppercase(), |(n, _)| n.clone())
}

fn refused(
    class: &SettingsClass,
    field: &Field,
    name: &str,
    text: &str,
    source: &str,
) -> anyhow::Error {
    let shown = match field.ty {
        Type::Url { .. } | Type::Str => redact_url(text),
        Type::Secret => "***".to_string(),
        _ => text.to_string(),
    };
    invalid(format!(
        "invalid {name}={shown:?} (from {source}): the field {} of {} ({}) is {}, so the application refuses it and fails to start; fix or unset it",
        field.name,
        class.name,
        field.place,
        describe(&field.ty)
    ))
}

fn describe(ty: &Type) -> String {
    match ty {
        Type::Str => "str".to_string(),
        Type::Int => "int".to_string(),
        Type::Float => "float".to_string(),
        Type::Bool => "bool".to_string(),
        Type::Secret => "SecretStr".to_string(),
        Type::Url { postgres: true } => "PostgresDsn".to_string(),
        Type::Url { postgres: false } => "AnyUrl".to_string(),
        Type::Optional(inner) => format!("Optional[{}]", describe(inner)),
        Type::Model(_) => "a model".to_string(),
        Type::Unknown(what) => what.clone(),
    }
}

/// With `extra="forbid"` (pydantic-settings' default), a non-empty `.env` variable no field
/// reads stops the application.
fn check_extra(
    class: &SettingsClass,
    dotenv_vars: &Vars,
    names: &dyn Fn(&Field) -> Vec<String>,
    dotenv_name: &str,
) -> Result<()> {
    if class.config.extra != Extra::Forbid {
        return Ok(());
    }
    let mut unused: Vec<&String> = dotenv_vars
        .iter()
        .filter(|(_, v)| v.as_deref().is_some_and(|v| !v.is_empty()))
        .map(|(k, _)| k)
        .filter(|k| {
            class.config.env_prefix.is_empty() || !class.fields.iter().any(|f| f.name == **k)
        })
        .filter(|k| {
            !class.fields.iter().any(|f| {
                names(f).iter().any(|n| {
                    *k == n
                        || matches!(f.ty, Type::Model(_))
                            && class
                                .config
                                .env_nested_delimiter
                                .as_ref()
                                .is_some_and(|d| k.starts_with(&format!("{n}{d}")))
                })
            })
        })
        .collect();
    unused.sort();
    match unused.first() {
        None => Ok(()),
        Some(name) => Err(invalid(format!(
            "{dotenv_name} sets {}, which no field of {} ({}) reads, and the class forbids extra values (extra=\"forbid\", pydantic-settings' default), so the application fails to start; remove it or set extra=\"ignore\"",
            name.to_uppercase(),
            class.name,
            class.place
        ))),
    }
}

/// The text of an env file in the class's `env_file_encoding`.
fn decode(bytes: &[u8], encoding: Option<&str>, path: &Path) -> Result<String> {
    let normalized = encoding.map(|e| e.to_ascii_lowercase().replace('_', "-"));
    match normalized.as_deref() {
        None | Some("utf-8" | "utf8" | "utf-8-sig") => dotenv::decode(bytes).map_err(|e| {
            invalid(format!(
                "cannot read the env file {}: {e}; fix the file",
                path.display()
            ))
        }),
        Some("latin-1" | "latin1" | "iso-8859-1" | "iso8859-1") => {
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
        }
        Some("ascii" | "us-ascii") if bytes.is_ascii() => dotenv::decode(bytes)
            .map_err(|e| invalid(format!("cannot read the env file {}: {e}", path.display()))),
        Some(other) => Err(invalid(format!(
            "{}: env_file_encoding {other:?} is not one dbtool reads (utf-8, latin-1, ascii); pass --env-file with a UTF-8 copy",
            path.display()
        ))),
    }
}

/// Converts an environment text as pydantic (lax mode) converts it for the type.
pub(super) fn convert(ty: &Type, text: &str) -> Option<PyValue> {
    match ty {
        Type::Str => Some(PyValue::Str(text.to_string())),
        Type::Secret => Some(PyValue::Secret(text.to_string())),
        Type::Int => parse_int(text).map(|i| match i {
            Int::Small(n) => PyValue::Int(n),
            Int::Big(text) => PyValue::BigInt(text),
        }),
        Type::Float => parse_float(text).map(PyValue::Float),
        Type::Bool => parse_bool(text).map(PyValue::Bool),
        Type::Url { postgres } => url(text, *postgres).map(PyValue::Str),
        Type::Optional(inner) => convert(inner, text),
        Type::Model(_) | Type::Unknown(_) => None,
    }
}

/// The schemes `PostgresDsn` allows.
const POSTGRES_SCHEMES: [&str; 9] = [
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+pg8000",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+psycopg2cffi",
    "postgresql+py-postgresql",
    "postgresql+pygresql",
];

/// A URL pydantic accepts: a scheme and `://` with a host; `PostgresDsn` also its schemes.
fn url(text: &str, postgres: bool) -> Option<String> {
    let trimmed = text.trim();
    let (scheme, rest) = trimmed.split_once("://")?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    if !scheme_ok || (postgres && (!POSTGRES_SCHEMES.contains(&scheme) || host.is_empty())) {
        return None;
    }
    Some(trimmed.to_string())
}

/// A JSON value converted as pydantic (lax, Python mode) converts a decoded value.
fn convert_json(ty: &Type, value: &Json) -> Option<PyValue> {
    match (ty, value) {
        (_, Json::String(text)) => convert(ty, text),
        (Type::Optional(_), Json::Null) => Some(PyValue::None),
        (Type::Optional(inner), _) => convert_json(inner, value),
        (Type::Int, Json::Number(n)) => n.as_i64().map(PyValue::Int).or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| PyValue::Int(f as i64))
        }),
        (Type::Int, Json::Bool(b)) => Some(PyValue::Int(i64::from(*b))),
        (Type::Float, Json::Number(n)) => n.as_f64().map(PyValue::Float),
        (Type::Float, Json::Bool(b)) => Some(PyValue::Float(f64::from(u8::from(*b)))),
        (Type::Bool, Json::Bool(b)) => Some(PyValue::Bool(*b)),
        (Type::Bool, Json::Number(n)) => match n.as_f64() {
            Some(0.0) => Some(PyValue::Bool(false)),
            Some(1.0) => Some(PyValue::Bool(true)),
            _ => None,
        },
        _ => None,
    }
}

/// A nested model field: its JSON value and its `<delimiter>` variables from each layer, the
/// environment's merged over the env files', then each sub-field converted.
fn nested(
    field: &Field,
    sub: &[Field],
    config: &Config,
    candidates: &[String],
    layers: &[(&Vars, &str)],
) -> Result<Option<(PyValue, String)>> {
    let mut merged: serde_json::Map<String, Json> = serde_json::Map::new();
    let mut origins = Vec::new();
    for (vars, source) in layers {
        for name in candidates {
            if let Some(Some(text)) = vars.get(name) {
                let Ok(Json::Object(object)) = serde_json::from_str::<Json>(text) else {
                    return Err(invalid(format!(
                        "invalid {}={text:?} (from {source}): the field {} ({}) is a model, so the application expects a JSON object and fails to start; fix or unset it",
                        name.to_uppercase(),
                        field.name,
                        field.place
                    )));
                };
                for (k, v) in object {
                    merged.insert(k.to_lowercase(), v);
                }
                origins.push(format!("{source} {}", name.to_uppercase()));
            }
            if let Some(delimiter) = &config.env_nested_delimiter {
                let prefix = format!("{name}{delimiter}");
                let mut keys: Vec<&String> =
                    vars.keys().filter(|k| k.starts_with(&prefix)).collect();
                keys.sort();
                for k in keys {
                    if let Some(text) = vars.get(k).cloned().flatten() {
                        merged.insert(k[prefix.len()..].to_lowercase(), Json::String(text));
                        origins.push(format!("{source} {}", k.to_uppercase()));
                    }
                }
            }
        }
    }
    if merged.is_empty() {
        return Ok(None);
    }
    let mut values = Vec::new();
    for inner in sub {
        match merged.get(&inner.name.to_lowercase()) {
            Some(value) => {
                let converted = convert_json(&inner.ty, value).ok_or_else(|| {
                    invalid(format!(
                        "invalid {}.{}={value} (from {}): it is {}, so the application refuses it and fails to start; fix or unset it",
                        field.name,
                        inner.name,
                        origins.join(", "),
                        describe(&inner.ty)
                    ))
                })?;
                values.push((inner.name.clone(), converted));
            }
            None => match &inner.default {
                Default::Value(value) => values.push((inner.name.clone(), value.clone())),
                Default::Required => {
                    return Err(invalid(format!(
                        "{}.{} is not set: it has no default ({}), so the application fails to start; set it",
                        field.name, inner.name, inner.place
                    )));
                }
                Default::Unknown(_) | Default::Construct(_) => {}
            },
        }
    }
    Ok(Some((PyValue::Model(values), origins.join(", "))))
}

/// A nested model built from its fields' defaults (`db: Database = Database()`).
fn model_defaults(field: &Field, sub: &[Field]) -> Result<PyValue> {
    let mut values = Vec::new();
    for inner in sub {
        match &inner.default {
            Default::Value(value) => values.push((inner.name.clone(), value.clone())),
            Default::Required => {
                return Err(invalid(format!(
                    "{}.{} is not set: it has no default ({}), so the application fails to start; set it",
                    field.name, inner.name, inner.place
                )));
            }
            Default::Unknown(_) | Default::Construct(_) => {}
        }
    }
    Ok(PyValue::Model(values))
}
