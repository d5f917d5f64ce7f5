//! `dbtool check-url`: the explanation table, findings and conversions; or one JSON object.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use crate::check_url::{CheckUrlReport, DriverTarget};
use crate::cli::TableOrJson;
use crate::conn::target::Endpoint;
use crate::finding::Level;
use crate::password::PasswordSource;
use crate::secret::MASK;
use crate::url::dialect::{self, ApplicationReading, AsyncpgAddr, DriverReading, Kwargs, PyValue};

pub fn write_check_url(
    out: &mut dyn Write,
    report: &CheckUrlReport,
    format: TableOrJson,
    color: bool,
) -> io::Result<()> {
    match format {
        TableOrJson::Table => write_text(out, report, color),
        TableOrJson::Json => {
            serde_json::to_writer_pretty(&mut *out, &to_json(report))?;
            writeln!(out)
        }
    }
}

fn write_text(out: &mut dyn Write, report: &CheckUrlReport, color: bool) -> io::Result<()> {
    writeln!(out, "{}", report.url_shown)?;
    if let Some(error) = &report.error {
        let at = error
            .position
            .map(|p| format!(" (at byte {p})"))
            .unwrap_or_default();
        writeln!(out, "invalid: {}{at}", error.message)?;
    }
    if !report.explanation.is_empty() {
        let mut table = super::new_table(&["Part", "Value", "Meaning"], color);
        for part in &report.explanation {
            table.add_row([&part.part, &part.value, &part.meaning]);
        }
        writeln!(out, "{table}")?;
    }
    if !report.driver_only_parameters.is_empty() {
        writeln!(
            out,
            "Query parameters for the driver only (libpq never sees them): {}",
            report.driver_only_parameters.join(", ")
        )?;
    }
    if let Some(Ok(application)) = &report.application {
        for line in application_lines(
            application,
            report.show_password,
            report.driver_target.as_ref(),
            &report.hosts,
        ) {
            writeln!(out, "{line}")?;
        }
    }
    if report.findings.is_empty() {
        writeln!(out, "No findings.")?;
    } else {
        writeln!(out, "Findings:")?;
        for finding in &report.findings {
            let level = super::paint(
                finding.level().name(),
                finding.level() == Level::Error,
                color,
            );
            writeln!(out, "  {level} [{}] {}", finding.code, finding.message)?;
        }
    }
    if !report.conversions.is_empty() {
        writeln!(out, "Conversions:")?;
        for conversion in &report.conversions {
            match (&conversion.value, &conversion.note) {
                (Some(value), _) => writeln!(out, "  {:<26} {value}", conversion.label)?,
                (None, Some(note)) => {
                    writeln!(out, "  {:<26} (not expressible: {note})", conversion.label)?
                }
                (None, None) => {}
            }
        }
    }
    Ok(())
}

fn to_json(report: &CheckUrlReport) -> Json {
    let libpq: Map<String, Json> = report
        .libpq
        .iter()
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    let mut doc = json!({
        "valid": report.valid,
        "url": report.url_shown,
        "dialect": report.scheme.as_ref().map(|s| s.dialect.clone()),
        "driver": report.scheme.as_ref().and_then(|s| s.driver).map(|d| d.name()),
        "libpq": libpq,
        "driver_only_parameters": report.driver_only_parameters,
        "hosts": report.hosts.iter().map(|h| json!({"host": h.hostaddr.map_or_else(|| h.name(), |a| a.to_string()), "port": h.port.to_string(), "kind": h.kind.key()})).collect::<Vec<_>>(),
        "sqlalchemy": sqlalchemy_json(report),
        "driver_args": application_args(report),
        "driver_kwargs": application_kwargs(report),
        "driver_connection": application_connection(report),
        "explanation": report.explanation.iter().map(|p| json!({"part": p.part, "value": p.value, "meaning": p.meaning})).collect::<Vec<_>>(),
        "findings": super::findings_json(&report.findings),
        "conversions": report.conversions.iter().map(|c| (c.key.to_string(), c.value.clone().map_or(Json::Null, Json::String))).collect::<Map<_, _>>(),
    });
    if let Some(error) = &report.error {
        doc["error"] = json!({"message": error.message, "position": error.position});
    }
    doc
}

fn sqlalchemy_json(report: &CheckUrlReport) -> Json {
    match &report.sqlalchemy {
        Some(Ok(reading)) => json!({
            "username": reading.username,
            "password": reading.password.as_ref().map(|p| if report.show_password { p.expose().to_string() } else { MASK.to_string() }),
            "host": reading.host,
            "port": reading.port,
            "database": reading.database,
            "query": reading.query.iter().map(|(k, v)| {
                let shown: Vec<&str> = v.iter().map(|x| if k == "password" && !report.show_password { MASK } else { x.as_str() }).collect();
                (k.clone(), json!(shown))
            }).collect::<Map<_, _>>(),
        }),
        Some(Err(message)) => json!({"error": message}),
        None => Json::Null,
    }
}

/// The dialect's keyword arguments with the password masked (unless shown).
fn shown_kwargs(application: &ApplicationReading, show_password: bool) -> Kwargs {
    let mut kwargs = application.connect.kwargs.clone();
    if !show_password {
        for (key, value) in &mut kwargs.0 {
            if key == "password" {
                *value = PyValue::Str(MASK.to_string());
            }
        }
    }
    kwargs
}

fn application_args(report: &CheckUrlReport) -> Json {
    match &report.application {
        Some(Ok(application)) => application
            .connect
            .args
            .iter()
            .map(PyValue::to_json)
            .collect(),
        _ => Json::Null,
    }
}

fn application_kwargs(report: &CheckUrlReport) -> Json {
    match &report.application {
        Some(Ok(application)) => shown_kwargs(application, report.show_password)
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect::<Map<_, _>>()
            .into(),
        Some(Err(error)) => json!({"error": error}),
        None => Json::Null,
    }
}

/// What the driver makes of the arguments: libpq's conninfo, or asyncpg's resolution.
fn application_connection(report: &CheckUrlReport) -> Json {
    let Some(Ok(application)) = &report.application else {
        return Json::Null;
    };
    match &application.reading {
        DriverReading::Libpq(Err(error)) | DriverReading::Asyncpg(Err(error)) => {
            json!({"error": error})
        }
        DriverReading::Libpq(Ok(_)) => {
            let mut connection =
                json!({"conninfo": shown_conninfo(application, report.show_password)});
            if let Some(target) = &report.driver_target {
                connection["hosts"] = report.hosts.iter().map(|h| json!(h.describe())).collect();
                connection["user"] = json!(target.user);
                connection["database"] = json!(target.database);
                connection["sslmode"] = json!(target.sslmode.map(|m| m.name()));
                connection["password_source"] = password_source_json(&target.password);
            }
            connection
        }
        DriverReading::Asyncpg(Ok(connection)) => json!({
            "addrs": connection.addrs.iter().map(|a| match a {
                AsyncpgAddr::Socket(path) => json!({"socket": path}),
                AsyncpgAddr::Tcp(host, port) => json!({"host": host, "port": port}),
            }).collect::<Vec<_>>(),
            "user": connection.user.to_json(),
            "database": connection.database.to_json(),
            "password_source": report.driver_target.as_ref().map_or(Json::Null, |t| password_source_json(&t.password)),
            "sslmode": connection.sslmode,
            "target_session_attrs": connection.target_session_attrs,
        }),
        DriverReading::Unmodelled => Json::Null,
    }
}

/// Where the driver's password comes from: `"url"`, `"PGPASSWORD"`, `{"passfile": path}`, or null.
fn password_source_json(source: &PasswordSource) -> Json {
    match source {
        PasswordSource::Url => json!("url"),
        PasswordSource::Env => json!("PGPASSWORD"),
        PasswordSource::PassFile(path) => json!({"passfile": path.display().to_string()}),
        PasswordSource::None => Json::Null,
    }
}

/// The conninfo libpq receives, built from the masked arguments.
fn shown_conninfo(application: &ApplicationReading, show_password: bool) -> String {
    let kwargs = shown_kwargs(application, show_password);
    dialect::libpq_conninfo(application.driver, &kwargs, u32::MAX).unwrap_or_default()
}

/// What SQLAlchemy passes, what the driver makes of it, and whom it connects as.
fn application_lines(
    application: &ApplicationReading,
    show_password: bool,
    target: Option<&DriverTarget>,
    hosts: &[Endpoint],
) -> Vec<String> {
    let driver = application.driver.name();
    let kwargs = shown_kwargs(application, show_password);
    let mut arguments: Vec<String> = application
        .connect
        .args
        .iter()
        .map(PyValue::py_repr)
        .collect();
    arguments.extend(kwargs.0.iter().map(|(k, v)| format!("{k}={}", v.py_repr())));
    let mut lines = vec![format!(
        "SQLAlchemy calls {driver}.connect({})",
        arguments.join(", ")
    )];
    let password = target.map_or_else(String::new, |t| t.password.to_string());
    match &application.reading {
        DriverReading::Libpq(Ok(_)) => {
            lines.push(format!(
                "libpq receives: {}",
                shown_conninfo(application, show_password)
            ));
            if let Some(target) = target {
                let hosts: Vec<String> = hosts.iter().map(|h| h.describe()).collect();
                lines.push(format!(
                    "{driver} tries {} as user {}, database {}, sslmode {}, {password}",
                    hosts.join(", "),
                    target.user,
                    target.database,
                    target.sslmode.map_or("(invalid)", |m| m.name()),
                ));
            }
        }
        DriverReading::Libpq(Err(error)) | DriverReading::Asyncpg(Err(error)) => {
            lines.push(format!("{driver} refuses it: {error}"))
        }
        DriverReading::Asyncpg(Ok(connection)) => {
            let addrs: Vec<String> = connection
                .addrs
                .iter()
                .map(|a| match a {
                    AsyncpgAddr::Socket(path) => path.clone(),
                    AsyncpgAddr::Tcp(host, port) => format!("{host}:{port}"),
                })
                .collect();
            lines.push(format!(
                "asyncpg tries {} as user {}, database {}, sslmode {}, {password}",
                addrs.join(", "),
                connection.user.py_str(),
                connection.database.py_str(),
                connection.sslmode,
            ));
        }
        DriverReading::Unmodelled => {}
    }
    lines
}
