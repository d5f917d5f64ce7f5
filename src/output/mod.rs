//! The only place that knows output formats and writes to stdout: reports, help, completion
//! scripts. On stderr it prints the error that ends a run, usage errors and the statements of SQL
//! files that could not be replayed; what domain code says while it works (warnings, `-v` notes,
//! echoed SQL, spinners) goes to stderr through `progress`, the leaf below it.
//!
//! Each report has one `write_*` function that takes the format and writes to a `&mut dyn Write`,
//! with one private function per format, so every format is testable without a terminal.

mod check_migrations;
mod check_url;
mod ci;
mod connections;
mod explain;
mod lint_constraints;
mod ping;
mod pool_bench;
mod pooler;
mod settings;

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;

use crate::cli::{ColorChoice, Format, TableOrJson};
use crate::environment::Environment;
use crate::exit::invalid;
use crate::finding::Finding;
use crate::progress::Progress;
use crate::url::redact_text;

pub(crate) use check_migrations::write_check_migrations;
pub use check_url::write_check_url;
pub(crate) use connections::write_connections;
pub(crate) use explain::write_explain;
pub(crate) use lint_constraints::{write_file_errors, write_fix_sql, write_lint};
pub(crate) use ping::write_ping;
pub(crate) use pool_bench::{write_bench, write_plot};
pub(crate) use pooler::{pooler_json, pooler_line};
pub(crate) use settings::write_settings;

/// How and where to print, resolved from the global flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) format: Format,
    pub(crate) color: bool,
    /// Diagnostics on stderr while the work runs; handed to the domain code.
    pub(crate) progress: Progress,
}

impl Printer {
    pub(crate) fn new(
        format: Format,
        color: ColorChoice,
        quiet: bool,
        verbose: u8,
        env: &Environment,
    ) -> Printer {
        Printer {
            format,
            color: use_color(color, io::stdout().is_terminal(), env),
            progress: Progress::new(quiet, verbose, format != Format::Table),
        }
    }

    /// The format of a subcommand that writes a table or JSON. clap has refused the CI formats
    /// for it (`cli::format_arg`); should one get here, it is refused, not written as JSON.
    pub(crate) fn table_or_json(&self, subcommand: &str) -> anyhow::Result<TableOrJson> {
        self.format.table_or_json().ok_or_else(|| {
            invalid(format!(
                "{subcommand} writes a table or JSON; --format {} is for lint-constraints and check-migrations",
                self.format
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_owned())
            ))
        })
    }

    /// Runs `write` against a locked, buffered stdout and flushes it.
    pub(crate) fn stdout(
        &self,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let stdout = io::stdout();
        let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        write(&mut out)?;
        out.flush()
    }
}

/// Whether to colour output: `--color`, then NO_COLOR, then whether stdout is a terminal.
pub fn use_color(choice: ColorChoice, is_terminal: bool, env: &Environment) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !env.no_color(),
    }
}

/// Findings as JSON, the same in every report: `[{code, level, message}]`.
fn findings_json(findings: &[Finding]) -> serde_json::Value {
    findings
        .iter()
        .map(|f| serde_json::json!({"code": f.code.as_str(), "level": f.level().name(), "message": f.message}))
        .collect()
}

/// Prints an error once, to stderr, with its whole context chain and any password masked.
pub fn print_error(error: &anyhow::Error, color: bool) {
    let prefix = if color {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    };
    eprintln!("dbtool: {prefix} {}", redact_text(&format!("{error:#}")));
}

/// Prints a command-line usage error as clap rendered it, under dbtool's prefix.
pub fn print_usage_error(rendered: &str) {
    let text = redact_text(rendered);
    eprint!("dbtool: {}", text.trim_start());
    if !text.ends_with('\n') {
        eprintln!();
    }
}

/// Prints `--help` or `--version` text to stdout.
pub fn print_help(rendered: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(rendered.as_bytes())?;
    out.flush()
}

/// Writes a completion script to stdout.
pub(crate) fn write_completions(
    shell: clap_complete::Shell,
    command: &mut clap::Command,
) -> io::Result<()> {
    let mut buffer = Vec::new();
    clap_complete::generate(shell, command, "dbtool", &mut buffer);
    let mut out = io::stdout().lock();
    out.write_all(&buffer)?;
    out.flush()
}

/// `text` in bold red (`alert`) or yellow, when colour is on.
pub(crate) fn paint(text: &str, alert: bool, color: bool) -> String {
    match (color, alert) {
        (false, _) => text.to_string(),
        (true, true) => format!("\x1b[1;31m{text}\x1b[0m"),
        (true, false) => format!("\x1b[33m{text}\x1b[0m"),
    }
}

/// A table in dbtool's style: UTF-8 borders, header in bold when colour is on.
pub(crate) fn new_table(header: &[&str], color: bool) -> comfy_table::Table {
    use comfy_table::{Attribute, Cell, ContentArrangement, Table, presets};
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    // On a terminal, wrap long cells to its width; in a pipe or file, never wrap.
    if io::stdout().is_terminal() {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    if !color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    table.set_header(header.iter().map(|h| {
        let cell = Cell::new(h);
        if color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_no_color_then_the_terminal() {
        let none = Environment::empty();
        let no_color = Environment::injected([("NO_COLOR", "1")]);
        assert!(use_color(ColorChoice::Always, false, &no_color));
        assert!(!use_color(ColorChoice::Never, true, &none));
        assert!(!use_color(ColorChoice::Auto, false, &none));
        assert!(use_color(ColorChoice::Auto, true, &none));
        assert!(!use_color(ColorChoice::Auto, true, &no_color));
        assert!(use_color(
            ColorChoice::Auto,
            true,
            &Environment::injected([("NO_COLOR", "")])
        ));
    }
}
