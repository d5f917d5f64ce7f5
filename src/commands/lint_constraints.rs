//! `dbtool lint-constraints`: a live database or SQL files against the naming convention.

use anyhow::Result;

use super::{Context, until_interrupted};
use crate::cli::LintArgs;
use crate::exit::Outcome;
use crate::lint::{self, LintConfig, catalog::Filter};
use crate::output;

pub(super) fn run(mut context: Context, args: &LintArgs) -> Result<Outcome> {
    let settings = context.settings(&context.flag_values())?;
    let (options, convention_from) = lint::config::resolve(
        args.config.as_deref(),
        &args.conventions,
        args.convention_from.as_deref(),
        args.label_schema,
    )?;
    let printer = context.printer;
    if let Some(path) = &options.config_file {
        printer.progress.info(&format!("read {}", path.display()));
    }
    if let Some((path, source)) = &convention_from {
        printer.progress.info(&format!(
            "naming convention from {}, {}",
            path.display(),
            source.describe()
        ));
    }
    let config = LintConfig {
        url: settings.database_url().to_string(),
        filter: Filter {
            schemas: args.schemas.clone(),
            exclude_schemas: args.exclude_schemas.clone(),
            tables: args.tables.clone(),
        },
        options,
        include_partitions: args.include_partitions,
        baseline: args.baseline.clone(),
        write_baseline: args.write_baseline.clone(),
        connect_timeout: args.connect_timeout,
        paths: args.paths.clone(),
        files_over_live: context.global.url.is_some(),
        alembic_metadata_convention: args.alembic_metadata_convention,
        keep_names_for: args.keep_names_for.clone(),
    };
    let report =
        until_interrupted(|| lint::lint(&config, context.environment, &printer.progress))??;
    output::write_file_errors(&report.errors);
    printer.stdout(|out| {
        if args.fix_sql {
            output::write_fix_sql(out, &report, args.lock_timeout)
        } else {
            output::write_lint(out, &report, printer.format, printer.color)
        }
    })?;
    Ok(
        if report.violations.is_empty() && report.errors.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Problems
        },
    )
}
