//! `dbtool connections`: the connection budget, planned and observed.

use anyhow::Result;

use super::{Context, until_interrupted};
use crate::cli::ConnectionsArgs;
use crate::connections::plan::{Extra, Service};
use crate::connections::{self, ConnectionsConfig};
use crate::exit::{self, Outcome};
use crate::output;

pub(super) fn run(mut context: Context, args: &ConnectionsArgs) -> Result<Outcome> {
    let format = context.printer.table_or_json("connections")?;
    let settings = context.settings(&context.flag_values_with_url(&args.url))?;
    let pool = (settings.pool_size(), settings.max_overflow());
    let services = args
        .services
        .iter()
        .map(|value| Service::parse(value, pool))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|bad| exit::invalid(bad.to_string()))?;
    let extras = args
        .extras
        .iter()
        .map(|value| Extra::parse(value))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|bad| exit::invalid(bad.to_string()))?;
    if let Some(name) = duplicate(
        services
            .iter()
            .map(|s| &s.name)
            .chain(extras.iter().map(|e| &e.name)),
    ) {
        return Err(exit::invalid(format!(
            "{name:?} is named twice in --service/--extra; each name is one application_name"
        )));
    }
    let config = ConnectionsConfig {
        url: settings.database_url().to_string(),
        connect_timeout: args.connect_timeout,
        services,
        extras,
        surge: args.surge,
        watch: args.watch,
    };
    let (printer, environment) = (context.printer, context.environment);
    let report =
        until_interrupted(|| connections::connections(&config, environment, &printer.progress))??;
    printer.stdout(|out| output::write_connections(out, &report, format, printer.color))?;
    Ok(report.outcome())
}

/// The first name given twice.
fn duplicate<'a>(mut names: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let mut seen = std::collections::BTreeSet::new();
    names.find(|name| !seen.insert(*name))
}
