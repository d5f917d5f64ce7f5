//! The exit-code contract shared by every subcommand, and the typed error that carries it.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | ok |
//! | 1    | the check ran and found problems (lint violations, a server that answers but refuses) |
//! | 2    | no response from a server (DNS failure, refused, unreachable, timed out) |
//! | 3    | no attempt: invalid arguments, URL, setting, config or input file |
//! | 4    | unexpected: an error none of the above classifies (an I/O error such as a full disk, a bug) |
//! | 130  | interrupted (Ctrl-C) |
//!
//! An error takes its code from the first [`Failure`] in its chain; one without is unexpected
//! (4), so a forgotten classification cannot pass for "problems found" (1).

use std::fmt;

/// What a run ended with; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    Problems,
    NoResponse,
    NoAttempt,
    /// An error that carries no [`Failure`]: nothing decided what it means.
    Unexpected,
    Interrupted,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Problems => 1,
            Outcome::NoResponse => 2,
            Outcome::NoAttempt => 3,
            Outcome::Unexpected => 4,
            Outcome::Interrupted => 130,
        }
    }
}

/// An error whose exit code the caller must not guess: wrap the message in the outcome it means.
///
/// Errors that do not carry a `Failure` anywhere in their chain exit with code 4 (unexpected).
#[derive(Debug, thiserror::Error)]
pub(crate) struct Failure {
    pub(crate) outcome: Outcome,
    pub(crate) message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Invalid input: arguments, URL, setting, config or input file (exit 3).
pub(crate) fn invalid(message: impl Into<String>) -> anyhow::Error {
    Failure {
        outcome: Outcome::NoAttempt,
        message: message.into(),
    }
    .into()
}

/// The server did not answer (exit 2).
pub(crate) fn no_response(message: impl Into<String>) -> anyhow::Error {
    Failure {
        outcome: Outcome::NoResponse,
        message: message.into(),
    }
    .into()
}

/// The check ran and found a problem, or the server answered and refused (exit 1).
pub(crate) fn problems(message: impl Into<String>) -> anyhow::Error {
    Failure {
        outcome: Outcome::Problems,
        message: message.into(),
    }
    .into()
}

/// The outcome an error stands for: the first `Failure` in its chain, else `Unexpected`.
pub fn outcome_of(error: &anyhow::Error) -> Outcome {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Failure>())
        .map_or(Outcome::Unexpected, |failure| failure.outcome)
}

/// True when the error is only a closed stdout (`dbtool ... | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_match_the_documented_contract() {
        let codes: Vec<u8> = [
            Outcome::Ok,
            Outcome::Problems,
            Outcome::NoResponse,
            Outcome::NoAttempt,
            Outcome::Unexpected,
            Outcome::Interrupted,
        ]
        .iter()
        .map(|o| o.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 130]);
    }

    #[test]
    fn outcome_survives_added_context() {
        let error = Err::<(), _>(invalid("bad port"))
            .context("reading settings")
            .unwrap_err();
        assert_eq!(outcome_of(&error), Outcome::NoAttempt);
        assert_eq!(format!("{error:#}"), "reading settings: bad port");
    }

    #[test]
    fn unclassified_errors_are_unexpected_not_problems() {
        assert_eq!(outcome_of(&anyhow::anyhow!("boom")), Outcome::Unexpected);
        let io = std::io::Error::other("disk full");
        let error = anyhow::Error::from(io).context("writing the report");
        assert_eq!(outcome_of(&error), Outcome::Unexpected);
        let classified = Err::<(), _>(problems("refused"))
            .context("reading the catalogs")
            .unwrap_err();
        assert_eq!(outcome_of(&classified), Outcome::Problems);
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let error = anyhow::Error::from(io).context("writing the table");
        assert!(is_broken_pipe(&error));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
