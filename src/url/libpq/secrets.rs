//! [`Secrets`]: the byte ranges of an input that hold secrets, and the
//! redaction (`***`) applied wherever the input is quoted.
//!
//! Which ranges are secret is decided elsewhere (`intent::secret_spans`);
//! this module only records them and redacts.

use std::ops::Range;

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
