//! The kinds of named schema objects and their convention keys.
//!
//! SQLAlchemy looks a convention up by walking the constraint class's MRO
//! and accepting, for each class, first its abbreviation and then the class
//! itself as a dictionary key (`sqlalchemy/sql/naming.py`, `_get_convention`
//! and `_prefix_dict`). `ExcludeConstraint` (PostgreSQL dialect) has no
//! abbreviation: SQLAlchemy only finds a convention keyed by the class itself.
//! dbtool spells that key `ex` (or `ExcludeConstraint`) and ships no default
//! template for it, so exclusion constraints are checked only when configured.

use std::fmt;
use std::str::FromStr;

use crate::lint::naming::NamingError;

/// A kind of named object. Ordered as `pk, fk, uq, ck, ix, ex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// PRIMARY KEY constraint (`PrimaryKeyConstraint`).
    Pk,
    /// FOREIGN KEY constraint (`ForeignKeyConstraint`).
    Fk,
    /// UNIQUE constraint (`UniqueConstraint`).
    Uq,
    /// CHECK constraint (`CheckConstraint`).
    Ck,
    /// Index, unique or not (`Index`).
    Ix,
    /// EXCLUDE constraint (`postgresql.ExcludeConstraint`); dbtool's own key.
    Ex,
}

impl Kind {
    /// All kinds, in key order.
    pub const ALL: [Kind; 6] = [Kind::Pk, Kind::Fk, Kind::Uq, Kind::Ck, Kind::Ix, Kind::Ex];

    /// The convention key: `pk`, `fk`, `uq`, `ck`, `ix` or `ex`.
    pub fn abbreviation(self) -> &'static str {
        match self {
            Kind::Pk => "pk",
            Kind::Fk => "fk",
            Kind::Uq => "uq",
            Kind::Ck => "ck",
            Kind::Ix => "ix",
            Kind::Ex => "ex",
        }
    }

    /// The SQLAlchemy class, also accepted as a convention key.
    pub(crate) fn sqlalchemy_class(self) -> &'static str {
        match self {
            Kind::Pk => "PrimaryKeyConstraint",
            Kind::Fk => "ForeignKeyConstraint",
            Kind::Uq => "UniqueConstraint",
            Kind::Ck => "CheckConstraint",
            Kind::Ix => "Index",
            Kind::Ex => "ExcludeConstraint",
        }
    }

    /// The label PostgreSQL appends to a name it chooses itself
    /// (`ChooseIndexName` in `indexcmds.c`; `fkey` in `tablecmds.c`;
    /// `check` in `heap.c`, `AddRelationNewConstraints`).
    pub(crate) fn postgres_label(self) -> &'static str {
        match self {
            Kind::Pk => "pkey",
            Kind::Fk => "fkey",
            Kind::Uq => "key",
            Kind::Ck => "check",
            Kind::Ix => "idx",
            Kind::Ex => "excl",
        }
    }

    /// Whether PostgreSQL stores an index (a `pg_class` relation) under this
    /// name: true for pk, uq, ix and ex.
    pub(crate) fn is_relation(self) -> bool {
        matches!(self, Kind::Pk | Kind::Uq | Kind::Ix | Kind::Ex)
    }

    /// Whether PostgreSQL stores a `pg_constraint` row under this name:
    /// true for everything but plain indexes.
    pub(crate) fn is_constraint(self) -> bool {
        self != Kind::Ix
    }

    /// Whether `key` is the abbreviation (which SQLAlchemy prefers over the
    /// class key when both are present).
    pub(crate) fn is_abbreviation(key: &str) -> bool {
        Kind::ALL.iter().any(|k| k.abbreviation() == key)
    }
}

impl FromStr for Kind {
    type Err = NamingError;

    /// Parses an abbreviation or a SQLAlchemy class name.
    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.abbreviation() == key || k.sqlalchemy_class() == key)
            .ok_or_else(|| NamingError::UnknownKey(key.to_owned()))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abbreviation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.abbreviation().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.sqlalchemy_class().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.abbreviation());
        }
    }

    #[test]
    fn unknown_key_is_an_error() {
        assert_eq!(
            "px".parse::<Kind>(),
            Err(NamingError::UnknownKey("px".into()))
        );
        assert!("PK".parse::<Kind>().is_err());
    }

    #[test]
    fn postgres_storage() {
        assert!(Kind::Ix.is_relation() && !Kind::Ix.is_constraint());
        assert!(Kind::Fk.is_constraint() && !Kind::Fk.is_relation());
        assert!(Kind::Pk.is_constraint() && Kind::Pk.is_relation());
        assert_eq!(Kind::Uq.postgres_label(), "key");
    }
}
