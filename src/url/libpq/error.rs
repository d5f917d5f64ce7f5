//! [`UriError`]: why libpq would reject a connection string.

use std::fmt;

use crate::url::libpq::notes::Ambiguity;

/// A connection string libpq would reject.
///
/// `message` is libpq's text (without the trailing newline libpq appends),
/// except that secrets are never included: where libpq quotes the whole URI
/// or a component that holds a password (user-info password, or the value of
/// `password`, `sslpassword`, `oauth_client_secret`, `scram_*_key`), the
/// secret part is replaced by `***`.  This is a deliberate deviation from
/// libpq, whose messages echo the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriError {
    /// libpq's error message (redacted, see above).
    pub message: String,
    /// 0-based byte offset in the input where the problem was detected, when
    /// meaningful.  (libpq's own "at position %d" in the message is 1-based.)
    pub position: Option<usize>,
    /// Notes and suggested fixes (e.g. an unencoded `%` in the password).
    pub ambiguities: Vec<Ambiguity>,
}

impl UriError {
    pub(crate) fn new(message: String, position: Option<usize>) -> Self {
        UriError {
            message,
            position,
            ambiguities: Vec::new(),
        }
    }
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UriError {}
