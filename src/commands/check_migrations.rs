//! `dbtool check-migrations`: where the database stands against the Alembic migrations.

use anyhow::Result;

use super::{Context, until_interrupted};
use crate::check_migrations::{self, CheckMigrationsConfig, VersionTable};
use crate::cli::CheckMigrationsArgs;
use crate::exit::{self, Outcome};
use crate::output;

pub(super) fn run(mut context: Context, args: &CheckMigrationsArgs) -> Result<Outcome> {
    let version_table = VersionTable::parse(&args.version_table).map_err(exit::invalid)?;
    let settings = context.settings(&context.flag_values())?;
    let config = CheckMigrationsConfig {
        url: settings.database_url().to_string(),
        version_table,
        versions: args.versions.clone(),
        connect_timeout: args.connect_timeout,
    };
    let (printer, environment) = (context.printer, context.environment);
    let report =
        until_interrupted(|| check_migrations::check(&config, environment, &printer.progress))??;
    output::write_file_errors(&report.errors);
    printer.stdout(|out| {
        output::write_check_migrations(out, &report, printer.format, printer.color)
    })?;
    Ok(if report.is_clean() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}
