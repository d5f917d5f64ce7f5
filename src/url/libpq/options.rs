//! Which libpq version's reading to reproduce: a leaf the parser, the key/value reader and the
//! ambiguity checks share.

use crate::url::libpq::keywords::Keyword;

/// Which libpq version's behaviour to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// PostgreSQL major version of the libpq that will read the string.
    ///
    /// It decides which keywords exist (`Keyword::since`) and whether raw
    /// spaces are trimmed/rejected (18+) or kept (earlier).  The URI grammar
    /// itself has been stable since libpq 10.
    pub libpq_major: u32,
}

impl ParseOptions {
    /// The newest libpq this crate models.
    pub(crate) const LATEST: u32 = 18;

    /// Options for the given libpq major version.
    pub const fn libpq(major: u32) -> Self {
        ParseOptions { libpq_major: major }
    }

    /// Whether `conninfo_uri_decode()` trims and rejects raw spaces.
    pub(crate) fn trims_spaces(self) -> bool {
        self.libpq_major >= 18
    }

    /// Whether the target libpq knows `kw`.
    pub(crate) fn knows(self, kw: &Keyword) -> bool {
        kw.since <= self.libpq_major
    }
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions::libpq(Self::LATEST)
    }
}
