//! `dbtool settings`: every setting, its value and where it came from.

use anyhow::Result;

use super::Context;
use crate::cli::SettingsArgs;
use crate::exit::Outcome;
use crate::output;

pub(super) fn run(mut context: Context, args: &SettingsArgs) -> Result<Outcome> {
    let format = context.printer.table_or_json("settings")?;
    let mut flags = context.flag_values();
    args.pool.collect_into(&mut flags);
    let settings = context.settings(&flags)?;
    let printer = &context.printer;
    printer.stdout(|out| output::write_settings(out, &settings, format, printer.color))?;
    Ok(Outcome::Ok)
}
