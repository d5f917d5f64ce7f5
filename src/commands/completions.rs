//! `dbtool completions SHELL`: the completion script clap generates from the command tree.

use anyhow::Result;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Outcome;
use crate::output;

pub(super) fn run(args: &CompletionsArgs) -> Result<Outcome> {
    output::write_completions(args.shell, &mut Cli::completion_command())?;
    Ok(Outcome::Ok)
}
