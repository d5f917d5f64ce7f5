//! Percent-decoding exactly like libpq's `conninfo_uri_decode()`, and the
//! inverse percent-encoding used by [`crate::url::libpq::render_uri`].

/// Why [`uri_decode`] rejected a component.  `at` is the byte index in the
/// raw component where the problem starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// `invalid percent-encoded token: "%s"`
    InvalidToken { at: usize },
    /// `forbidden value %00 in percent-encoded value: "%s"`
    Nul { at: usize },
    /// `unexpected spaces found in "%s", use percent-encoded spaces (%20) instead`
    /// (libpq 18+ only).
    InteriorSpace { at: usize },
}

impl DecodeError {
    pub(crate) fn at(self) -> usize {
        match self {
            DecodeError::InvalidToken { at }
            | DecodeError::Nul { at }
            | DecodeError::InteriorSpace { at } => at,
        }
    }

    /// libpq's message, quoting `quoted` (the raw component, or a redaction).
    pub(crate) fn message(self, quoted: &str) -> String {
        match self {
            DecodeError::InvalidToken { .. } => {
                format!("invalid percent-encoded token: \"{quoted}\"")
            }
            DecodeError::Nul { .. } => {
                format!("forbidden value %00 in percent-encoded value: \"{quoted}\"")
            }
            DecodeError::InteriorSpace { .. } => format!(
                "unexpected spaces found in \"{quoted}\", use percent-encoded spaces (%20) instead"
            ),
        }
    }
}

fn hexdigit(c: u8) -> Option<u8> {
    // get_hexdigit(): only ASCII 0-9, A-F, a-f.
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// `conninfo_uri_decode()`.
///
/// With `trim_spaces` (libpq 18+) raw leading and trailing `' '` bytes are
/// skipped and a raw space anywhere else is an error; before 18 every byte
/// that is not part of a `%xx` token is copied verbatim.  Only the ASCII space
/// is special: tabs and newlines are always kept.  A `%20` is never trimmed.
pub(crate) fn uri_decode(raw: &[u8], trim_spaces: bool) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut q = 0;
    if trim_spaces {
        while raw.get(q) == Some(&b' ') {
            q += 1;
        }
    }
    while let Some(&c) = raw.get(q) {
        if c != b'%' {
            if trim_spaces && c == b' ' {
                // "if found a whitespace or NUL, the string ends"; anything
                // but more spaces after it is an error.
                let at = q;
                while raw.get(q) == Some(&b' ') {
                    q += 1;
                }
                if q < raw.len() {
                    return Err(DecodeError::InteriorSpace { at });
                }
                break;
            }
            out.push(c);
            q += 1;
        } else {
            let at = q;
            let hi = raw.get(q + 1).copied().and_then(hexdigit);
            let lo = raw.get(q + 2).copied().and_then(hexdigit);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(DecodeError::InvalidToken { at });
            };
            let byte = (hi << 4) | lo;
            if byte == 0 {
                return Err(DecodeError::Nul { at });
            }
            out.push(byte);
            q += 3;
        }
    }
    Ok(out)
}

/// Lenient decoding for heuristics: never fails, leaves bad escapes alone.
pub(crate) fn lenient_decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c == b'%'
            && let (Some(hi), Some(lo)) = (
                raw.get(i + 1).copied().and_then(hexdigit),
                raw.get(i + 2).copied().and_then(hexdigit),
            )
        {
            out.push((hi << 4) | lo);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether `raw[i]` is a `%` that libpq would reject (not followed by two
/// hex digits).
pub(crate) fn is_bare_percent(raw: &[u8], i: usize) -> bool {
    raw.get(i) == Some(&b'%')
        && !(raw.get(i + 1).copied().and_then(hexdigit).is_some()
            && raw.get(i + 2).copied().and_then(hexdigit).is_some())
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_escaped(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

/// Percent-encodes `s` for use in any part of a libpq connection URI (user,
/// password, host, port, path, query key or value).
///
/// Everything except RFC 3986 *unreserved* characters (`A-Z a-z 0-9 - . _ ~`)
/// is escaped, so the result contains none of libpq's delimiters
/// (`@ : / ? , & = [ ] %`), no spaces (which libpq 18 trims or rejects) and no
/// `+`/`#` that other URI parsers would misread.  libpq decodes the result back
/// to exactly `s`.
pub(crate) fn encode_component(s: &str) -> String {
    encode_bytes(s.as_bytes())
}

/// [`encode_component`] for arbitrary bytes (libpq values need not be UTF-8).
pub(crate) fn encode_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            push_escaped(&mut out, b);
        }
    }
    out
}

/// Minimal-edit escaping used for suggestions: escapes only the bytes for
/// which `must_escape` is true, plus any bare `%`; keeps existing valid
/// `%xx` escapes (assumed intentional) and everything else verbatim.
pub(crate) fn escape_minimal(raw: &[u8], must_escape: impl Fn(u8) -> bool) -> String {
    let mut out = Vec::with_capacity(raw.len());
    for (i, &b) in raw.iter().enumerate() {
        if is_bare_percent(raw, i) || (b != b'%' && must_escape(b)) {
            out.push(b'%');
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        } else {
            out.push(b);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_basics() {
        assert_eq!(uri_decode(b"a%41b", true), Ok(b"aAb".to_vec()));
        assert_eq!(
            uri_decode(b"%zz", true),
            Err(DecodeError::InvalidToken { at: 0 })
        );
        assert_eq!(
            uri_decode(b"x%4", true),
            Err(DecodeError::InvalidToken { at: 1 })
        );
        assert_eq!(
            uri_decode(b"%", false),
            Err(DecodeError::InvalidToken { at: 0 })
        );
        assert_eq!(uri_decode(b"a%00b", true), Err(DecodeError::Nul { at: 1 }));
        assert_eq!(uri_decode(b"  ab  ", true), Ok(b"ab".to_vec()));
        assert_eq!(uri_decode(b"  ab  ", false), Ok(b"  ab  ".to_vec()));
        assert_eq!(
            uri_decode(b"a b", true),
            Err(DecodeError::InteriorSpace { at: 1 })
        );
        assert_eq!(uri_decode(b"%20a%20", true), Ok(b" a ".to_vec()));
        assert_eq!(uri_decode(b"a+b", true), Ok(b"a+b".to_vec()));
        assert_eq!(uri_decode(b"\ta\n", true), Ok(b"\ta\n".to_vec()));
    }

    #[test]
    fn encode_roundtrip() {
        let s = "p@ss:/?#&= %+,[]é";
        let e = encode_component(s);
        assert_eq!(e, "p%40ss%3A%2F%3F%23%26%3D%20%25%2B%2C%5B%5D%C3%A9");
        assert_eq!(uri_decode(e.as_bytes(), true), Ok(s.as_bytes().to_vec()));
    }

    #[test]
    fn minimal_escape_keeps_valid_escapes() {
        assert_eq!(escape_minimal(b"a@b%41%zz", |b| b == b'@'), "a%40b%41%25zz");
    }
}
