//! `dbtool check-url`: the URL from the argument or the settings, explained.

use anyhow::Result;

use super::Context;
use crate::check_url::{CheckUrlConfig, check_url};
use crate::cli::CheckUrlArgs;
use crate::exit::{self, Outcome};
use crate::output;

pub(super) fn run(mut context: Context, args: &CheckUrlArgs) -> Result<Outcome> {
    let format = context.printer.table_or_json("check-url")?;
    let settings = context.settings(&context.flag_values_with_url(&args.url))?;
    let config = CheckUrlConfig {
        url: settings.database_url().to_string(),
        strict: args.strict,
        show_password: args.show_password,
        libpq_major: args.libpq_version,
    };
    let report = check_url(&config, context.environment);
    let printer = &context.printer;
    printer.stdout(|out| output::write_check_url(out, &report, format, printer.color))?;
    match &report.error {
        Some(error) if !report.valid => Err(exit::invalid(error.message.clone())),
        _ => Ok(report.outcome),
    }
}
