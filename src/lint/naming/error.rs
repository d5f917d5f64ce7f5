//! The one error type of `lint::naming`.
//!
//! Every variant corresponds to a situation in which SQLAlchemy itself
//! refuses to produce a name (it raises `KeyError`, `AttributeError`,
//! `IndexError`, `InvalidRequestError` or `IdentifierError`), so that a
//! convention dbtool accepts is one SQLAlchemy accepts too.

use std::fmt;

use crate::lint::naming::Kind;

/// Why a convention or a name could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamingError {
    /// A convention key that is neither an abbreviation (`pk`, `fk`, `uq`,
    /// `ck`, `ix`, `ex`) nor a SQLAlchemy class name.
    UnknownKey(String),
    /// A `%(token)s` SQLAlchemy does not know (it raises `KeyError(token)`).
    UnknownToken(String),
    /// A `%` directive other than `%(token)s` and `%%` (or an unterminated one).
    UnsupportedFormat {
        /// The template text.
        template: String,
        /// Byte offset of the offending `%`.
        offset: usize,
    },
    /// `referred_*` tokens exist only for foreign keys (SQLAlchemy raises
    /// `AttributeError: ... has no attribute 'elements'`).
    TokenNotAvailable {
        /// The convention key the template is for.
        kind: Kind,
        /// The token.
        token: String,
    },
    /// The template uses `%(constraint_name)s` but the object is unnamed
    /// (SQLAlchemy raises `InvalidRequestError`).
    ConstraintNameRequired(Kind),
    /// `%(referred_column_N_name)s` past the end of the foreign key's columns
    /// (SQLAlchemy raises `IndexError`).
    ReferredColumnOutOfRange {
        /// The token.
        token: String,
        /// How many referred columns the foreign key has.
        available: usize,
    },
    /// A `referred_*` token on a foreign key given without a referred table.
    MissingReferredTable,
    /// An explicit (non-convention, non-`conv`) name longer than the maximum
    /// identifier length: SQLAlchemy does not truncate those, it raises
    /// `IdentifierError` when emitting DDL.
    IdentifierTooLong {
        /// The name.
        name: String,
        /// The limit, in characters.
        max: usize,
    },
}

impl fmt::Display for NamingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey(key) => write!(
                f,
                "unknown naming convention key {key:?} (expected pk, fk, uq, ck, ix, ex or a SQLAlchemy class name)"
            ),
            Self::UnknownToken(token) => write!(f, "unknown naming convention token %({token})s"),
            Self::UnsupportedFormat { template, offset } => write!(
                f,
                "unsupported format directive at byte {offset} of {template:?}: only %(token)s and %% are allowed"
            ),
            Self::TokenNotAvailable { kind, token } => write!(
                f,
                "token %({token})s is only available in the fk convention, not in {kind}"
            ),
            Self::ConstraintNameRequired(kind) => write!(
                f,
                "the {kind} convention uses %(constraint_name)s, which requires the constraint to be explicitly named"
            ),
            Self::ReferredColumnOutOfRange { token, available } => write!(
                f,
                "token %({token})s is out of range: the foreign key refers to {available} column(s)"
            ),
            Self::MissingReferredTable => {
                write!(
                    f,
                    "a referred_* token needs the foreign key's referred table"
                )
            }
            Self::IdentifierTooLong { name, max } => write!(
                f,
                "identifier {name:?} exceeds the maximum length of {max} characters"
            ),
        }
    }
}

impl std::error::Error for NamingError {}
