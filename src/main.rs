//! The `dbtool` binary: parse, run, and map the outcome to the documented exit code.

use std::process::ExitCode;

use clap::error::ErrorKind;

use dbtool::cli::{Cli, ColorChoice};
use dbtool::environment::Environment;
use dbtool::exit::{Outcome, is_broken_pipe, outcome_of};
use dbtool::output;

/// mimalloc: lint-constraints allocates hundreds of thousands of small strings on large schemas,
/// and glibc's allocator spent a fifth of the run in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = output::print_help(&error.render().to_string());
            return ExitCode::from(Outcome::Ok.code());
        }
        Err(error) if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            output::print_usage_error(&format!("error: no subcommand given\n\n{}", error.render()));
            return ExitCode::from(Outcome::NoAttempt.code());
        }
        // A value a parser refused (a duration out of range, say): one line that names the
        // flag, the value and what is accepted; clap's "For more information" tail adds nothing.
        Err(error) if error.kind() == ErrorKind::ValueValidation => {
            let rendered = error.render().to_string();
            output::print_usage_error(rendered.lines().next().unwrap_or_default());
            return ExitCode::from(Outcome::NoAttempt.code());
        }
        Err(error) => {
            output::print_usage_error(&error.render().to_string());
            return ExitCode::from(Outcome::NoAttempt.code());
        }
    };
    // Read once, here; everything below reads this copy (`environment.rs` says why).
    let environment = Environment::process();
    let color = output::use_color(
        cli.global.color,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        &environment,
    ) && cli.global.color != ColorChoice::Never;
    let outcome = match dbtool::run(cli, &environment) {
        Ok(outcome) => outcome,
        Err(error) if is_broken_pipe(&error) => Outcome::Ok,
        Err(error) => {
            output::print_error(&error, color);
            outcome_of(&error)
        }
    };
    ExitCode::from(outcome.code())
}
