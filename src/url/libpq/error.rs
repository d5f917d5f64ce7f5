//! [`UriError`] and the password redaction applied to error texts.

use std::fmt;
use std::ops::Range;

use crate::url::libpq::ambiguity::Ambiguity;

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

/// Byte ranges of the input that hold secrets and must not be echoed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
    spans: Vec<Range<usize>>,
}

impl Secrets {
    pub(crate) fn add(&mut self, span: Range<usize>) {
        if !span.is_empty() {
            self.spans.push(span);
        }
    }

    pub(crate) fn overlaps(&self, span: &Range<usize>) -> bool {
        self.spans
            .iter()
            .any(|s| s.start < span.end && span.start < s.end)
    }

    /// Whether any of the given input offsets is inside a secret span.
    pub(crate) fn touches(&self, mut positions: impl Iterator<Item = usize>) -> bool {
        positions.any(|p| self.spans.iter().any(|s| s.contains(&p)))
    }

    /// `input[range]` with every run of secret bytes replaced by `***`.
    pub(crate) fn redact_range(&self, input: &[u8], range: Range<usize>) -> String {
        let mut out = Vec::with_capacity(range.len());
        let mut in_secret = false;
        for i in range {
            let Some(&b) = input.get(i) else { break };
            if self.spans.iter().any(|s| s.contains(&i)) {
                if !in_secret {
                    out.extend_from_slice(b"***");
                }
                in_secret = true;
            } else {
                in_secret = false;
                out.push(b);
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// `input` with every run of secret bytes replaced by `***`.
    pub(crate) fn redact(&self, input: &[u8]) -> String {
        self.redact_range(input, 0..input.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_spans() {
        let mut s = Secrets::default();
        s.add(5..8);
        s.add(2..3);
        s.add(6..10);
        assert_eq!(s.redact(b"0123456789ab"), "01***34***ab");
        assert_eq!(s.redact_range(b"0123456789ab", 1..7), "1***34***");
        assert!(s.overlaps(&(0..3)));
        assert!(!s.overlaps(&(3..5)));
    }
}
