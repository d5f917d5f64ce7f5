//! What reading a Python file yields: the entries of the convention dict, how and where it was
//! found, or where and why it could not be read. The vocabulary the readers share.

use crate::lint::naming::NamingConvention;
use crate::python::Position;

/// Why no convention could be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub(crate) struct SourceError {
    pub(crate) at: Position,
    pub(crate) message: String,
}

/// One entry of the dict, as Python holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConventionEntry {
    /// `ix`, or a class name (`Index`) when the key is the class itself.
    pub key: String,
    pub template: String,
    pub(crate) at: Position,
}

/// How the convention was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// `MetaData(naming_convention=...)`.
    MetaData,
    /// `MetaData(...)` without a convention: SQLAlchemy's `DEFAULT_NAMING_CONVENTION`.
    SqlalchemyDefault,
    /// `<something>.naming_convention = ...`.
    Assignment,
    /// A top-level `..._CONVENTION = {...}` in a file without `MetaData`.
    ModuleConstant,
}

/// The convention an application's module gives SQLAlchemy.
#[derive(Debug, Clone)]
pub struct SourceConvention {
    /// The entries in dict order, as Python would print them.
    pub entries: Vec<ConventionEntry>,
    pub convention: NamingConvention,
    pub(crate) found: Found,
    /// The `MetaData(...)` call, the assignment or the constant.
    pub(crate) at: Position,
}

impl SourceConvention {
    /// Says where the convention came from, for `-v`.
    pub(crate) fn describe(&self) -> String {
        let what = match self.found {
            Found::MetaData => "MetaData(naming_convention=...)",
            Found::SqlalchemyDefault => {
                "MetaData() without naming_convention: SQLAlchemy's default, ix only"
            }
            Found::Assignment => "the .naming_convention assignment",
            Found::ModuleConstant => "the module-level convention dict",
        };
        format!("line {}: {what}", self.at.line)
    }
}
