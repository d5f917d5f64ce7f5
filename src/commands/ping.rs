//! `dbtool ping`: the staged connection check, with --wait and --count.

use anyhow::Result;

use super::{Context, until_interrupted};
use crate::cli::PingArgs;
use crate::exit::{self, Outcome};
use crate::output;
use crate::ping::{self, PingConfig, PoolSizing};

pub(super) fn run(mut context: Context, args: &PingArgs) -> Result<Outcome> {
    let format = context.printer.table_or_json("ping")?;
    let mut flags = context.flag_values_with_url(&args.url);
    args.pool.collect_into(&mut flags);
    let settings = context.settings(&flags)?;
    let config = PingConfig {
        url: settings.database_url().to_string(),
        connect_timeout: args.connect_timeout,
        count: args.count,
        interval: args.interval,
        wait: args.wait.then_some(args.timeout),
        sizing: PoolSizing {
            pool_size: settings.pool_size(),
            max_overflow: settings.max_overflow(),
            pool_recycle: settings.pool_recycle(),
            workers: args.workers,
        },
        statement_timeout: settings.statement_timeout(),
        libpq_version: args.libpq_version,
    };
    let (printer, environment) = (context.printer, context.environment);
    let report = until_interrupted(|| ping::ping(&config, environment, &printer.progress))?;
    printer.stdout(|out| {
        output::write_ping(out, &report, format, printer.color, printer.progress.quiet)
    })?;
    if let Some(error) = &report.error {
        return Err(exit::invalid(error.clone()));
    }
    Ok(report.outcome())
}
