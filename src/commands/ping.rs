//! `dbtool ping`: the staged connection check, with --wait, --count and --idle-probe.

use anyhow::Result;

use super::{Context, on_runtime};
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
        idle_probe: args.idle_probe,
        pre_ping: settings.pool_pre_ping(),
    };
    let (printer, environment) = (context.printer, context.environment);
    // The idle probe stops on Ctrl-C itself and reports what it knows; a plain ping is dropped.
    let reports_when_interrupted = config.idle_probe.is_some();
    let report = on_runtime(|interrupt| async move {
        let ping = ping::ping(&config, environment, &printer.progress, &interrupt);
        if reports_when_interrupted {
            return Some(ping.await);
        }
        tokio::select! {
            report = ping => Some(report),
            _ = interrupt.wait() => None,
        }
    })?;
    let interrupted = || exit::Failure {
        outcome: Outcome::Interrupted,
        message: "interrupted; every connection was closed".into(),
    };
    let report = report.ok_or_else(interrupted)?;
    printer.stdout(|out| {
        output::write_ping(out, &report, format, printer.color, printer.progress.quiet)
    })?;
    if let Some(error) = &report.error {
        return Err(exit::invalid(error.clone()));
    }
    if let Some(error) = &report.idle_error {
        return Err(exit::problems(error.clone()));
    }
    if report.idle.as_ref().is_some_and(|idle| idle.interrupted) {
        return Err(interrupted().into());
    }
    Ok(report.outcome())
}
