//! `dbtool settings`: the table and the JSON object.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use crate::cli::TableOrJson;
use crate::settings::{Settings, Source, Value};

pub(crate) fn write_settings(
    out: &mut dyn Write,
    settings: &Settings,
    format: TableOrJson,
    color: bool,
) -> io::Result<()> {
    match format {
        TableOrJson::Table => write_table(out, settings, color),
        TableOrJson::Json => write_json(out, settings),
    }
}

fn write_table(out: &mut dyn Write, settings: &Settings, color: bool) -> io::Result<()> {
    let mut table = super::new_table(&["setting", "value", "source", "meaning"], color);
    for setting in &settings.entries {
        table.add_row([
            setting.definition.env.to_string(),
            setting.value.display(),
            setting.source.to_string(),
            setting.definition.meaning.to_string(),
        ]);
    }
    writeln!(out, "{table}")?;
    if let Some(app) = &settings.app {
        let mut engine = super::new_table(&["engine argument", "value", "source"], color);
        for argument in &app.engine.arguments {
            let value = argument
                .value
                .as_ref()
                .map_or_else(|| "?".to_string(), |v| v.to_json(true).to_string());
            engine.add_row([argument.name.clone(), value, argument.source.clone()]);
        }
        writeln!(
            out,
            "engine: {}() at {}\n{engine}",
            app.engine.function, app.engine.place
        )?;
    }
    Ok(())
}

fn write_json(out: &mut dyn Write, settings: &Settings) -> io::Result<()> {
    let mut object = Map::new();
    for setting in &settings.entries {
        let value = match &setting.value {
            Value::Url(_) => Json::String(setting.value.display()),
            Value::Integer(n) => json!(n),
            Value::Seconds(None) => json!(-1),
            Value::Seconds(Some(d)) if d.subsec_nanos() == 0 => json!(d.as_secs()),
            Value::Seconds(Some(d)) => json!(d.as_secs_f64()),
            Value::Boolean(b) => json!(b),
        };
        object.insert(
            setting.definition.env.to_ascii_lowercase(),
            match &setting.source {
                Source::App(origin) => json!({ "value": value, "source": "app", "from": origin }),
                source => json!({ "value": value, "source": source.key() }),
            },
        );
    }
    if let Some(app) = &settings.app {
        let arguments: Map<String, Json> = app
            .engine
            .arguments
            .iter()
            .map(|argument| {
                let value = argument
                    .value
                    .as_ref()
                    .map_or(Json::Null, |v| v.to_json(true));
                let entry = json!({
                    "value": value,
                    "followed": argument.value.is_some(),
                    "source": argument.source,
                });
                (argument.name.clone(), entry)
            })
            .collect();
        object.insert(
            "engine".to_string(),
            json!({
                "call": app.engine.place,
                "function": app.engine.function,
                "arguments": arguments,
                "warnings": app.warnings,
            }),
        );
    }
    serde_json::to_writer_pretty(&mut *out, &Json::Object(object))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::settings::{DotenvChoice, FlagValues};

    fn resolved(flags: &[(&'static str, &str)]) -> Settings {
        let mut values = FlagValues::default();
        for (env, value) in flags {
            values.set(env, Some(value.to_string()));
        }
        Settings::resolve(&values, &DotenvChoice::Skip, &Environment::empty()).unwrap()
    }

    #[test]
    fn json_uses_lower_case_keys_and_native_types() {
        let settings = resolved(&[
            ("DATABASE_URL", "postgresql+asyncpg://app:pw@db/app"),
            ("DB_POOL_TIMEOUT", "2.5"),
            ("DB_POOL_SIZE", "7"),
        ]);
        let mut buffer = Vec::new();
        write_settings(&mut buffer, &settings, TableOrJson::Json, false).unwrap();
        let doc: Json = serde_json::from_slice(&buffer).unwrap();
        assert_eq!(
            doc["database_url"]["value"],
            "postgresql+asyncpg://app:***@db/app"
        );
        assert_eq!(doc["database_url"]["source"], "flag");
        assert_eq!(doc["db_pool_timeout"]["value"], json!(2.5));
        assert_eq!(doc["db_pool_size"]["value"], json!(7));
        assert_eq!(doc.as_object().unwrap().len(), 8);
    }

    #[test]
    fn table_hides_the_password() {
        let settings = resolved(&[("DATABASE_URL", "postgresql://app:pw-123@db/app")]);
        let mut buffer = Vec::new();
        write_settings(&mut buffer, &settings, TableOrJson::Table, false).unwrap();
        let text = String::from_utf8(buffer).unwrap();
        assert!(!text.contains("pw-123"));
        assert!(text.contains("DB_STATEMENT_TIMEOUT"));
    }
}
