//! The pooler line and JSON object, shared by ping and pool-bench.

use crate::pooler::{Pooler, PoolerKind};

/// One line: none, or which pooler, its mode, and whether named statements survive.
pub(crate) fn pooler_line(pooler: Option<&Pooler>) -> String {
    let Some(pooler) = pooler else {
        return "none (the session runs in the server process its cancel key names)".into();
    };
    let survive = match pooler.prepared_statements_survive {
        Some(true) => "named prepared statements survive between transactions",
        Some(false) => "named prepared statements do NOT survive between transactions",
        None => "whether named prepared statements survive is unknown",
    };
    let mode = pooler
        .mode
        .map_or("pooling mode unknown".to_string(), |mode| {
            format!("{} pooling", mode.name())
        });
    let mut line = format!("{}, {mode}; {survive}", pooler.kind.describe());
    if let Some(configured) = &pooler.configured_mode {
        line.push_str(&format!(" (admin console: pool_mode = {configured}"));
        if let Some(max) = pooler.max_prepared_statements {
            line.push_str(&format!(", max_prepared_statements = {max}"));
        }
        line.push(')');
    }
    line
}

pub(crate) fn pooler_json(pooler: Option<&Pooler>) -> serde_json::Value {
    let Some(pooler) = pooler else {
        return serde_json::Value::Null;
    };
    let version = match &pooler.kind {
        PoolerKind::Pgbouncer { version } => version.clone(),
        PoolerKind::Unknown => None,
    };
    serde_json::json!({
        "detected": true,
        "kind": pooler.kind.key(),
        "version": version,
        "mode": pooler.mode.map(|mode| mode.name()),
        "prepared_statements_survive": pooler.prepared_statements_survive,
        "configured_mode": pooler.configured_mode,
        "max_prepared_statements": pooler.max_prepared_statements,
        "refused_startup_parameters": pooler.refused_parameters.iter().map(|p| serde_json::json!({"name": p.name, "message": p.message})).collect::<Vec<_>>(),
        "evidence": pooler.evidence,
    })
}
