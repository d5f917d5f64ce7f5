//! `dbtool explain [CODE]`: what a finding code means, how to fix it, an example; every code
//! without one. An unknown code is bad input (exit 3) with the closest known ones.

use anyhow::Result;

use super::Context;
use crate::cli::ExplainArgs;
use crate::exit::{Outcome, invalid};
use crate::explain;
use crate::output;

pub(super) fn run(context: Context, args: &ExplainArgs) -> Result<Outcome> {
    let format = context.printer.table_or_json("explain")?;
    let code = match &args.code {
        None => None,
        Some(name) => Some(explain::find(name).ok_or_else(|| {
            let closest = explain::closest(name);
            let hint = if closest.is_empty() {
                String::new()
            } else {
                format!("did you mean {}? ", closest.join(", "))
            };
            invalid(format!(
                "no finding code {name:?}; {hint}`dbtool explain` lists every code"
            ))
        })?),
    };
    let printer = &context.printer;
    printer.stdout(|out| output::write_explain(out, code, format, printer.color))?;
    Ok(Outcome::Ok)
}
