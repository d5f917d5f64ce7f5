//! How domain code reports progress on stderr while it works: warnings, `-v` notes, the SQL it
//! sends (`--echo`), and a spinner for waits. A leaf below every subcommand, so that `ping`,
//! `lint` and `bench` need not know `output` (which renders their reports) to say what they do.

use std::io::IsTerminal;

use crate::url::redact_text;

/// Where progress goes and how much of it, from the global flags and `DB_ECHO`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    pub(crate) quiet: bool,
    pub(crate) verbose: u8,
    /// Echo each SQL statement (`--echo`, `DB_ECHO`).
    pub(crate) echo: bool,
    /// Whether live progress may be drawn: stderr is a terminal, not `--quiet`, not JSON.
    pub(crate) live: bool,
}

impl Progress {
    /// `live` is decided here from stderr; `machine_readable` output (JSON) never gets a spinner.
    pub(crate) fn new(quiet: bool, verbose: u8, machine_readable: bool) -> Progress {
        Progress {
            quiet,
            verbose,
            echo: false,
            live: std::io::stderr().is_terminal() && !quiet && !machine_readable,
        }
    }

    /// A warning on stderr, unless `--quiet`.
    pub(crate) fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("dbtool: warning: {}", redact_text(message));
        }
    }

    /// A progress note on stderr, only with `-v`.
    pub(crate) fn info(&self, message: &str) {
        if self.verbose > 0 {
            eprintln!("dbtool: {}", redact_text(message));
        }
    }

    /// An SQL statement about to be sent, on stderr, with `--echo` / DB_ECHO.
    pub(crate) fn echo_sql(&self, sql: &str) {
        if self.echo {
            eprintln!("dbtool: sql: {}", redact_text(sql.trim()));
        }
    }

    /// A spinner on stderr for a wait, when live progress may be drawn.
    pub(crate) fn spinner(&self, message: &str) -> Option<Spinner> {
        self.live.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(redact_text(message));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            Spinner(bar)
        })
    }
}

/// A spinner line on stderr; cleared when finished or dropped.
pub(crate) struct Spinner(indicatif::ProgressBar);

impl Spinner {
    pub(crate) fn set_message(&self, message: String) {
        self.0.set_message(redact_text(&message));
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
