//! The guess, shared by redaction and the ambiguity checks, of where the
//! author meant the user info of a URI to end ([`intended_userinfo_at`]),
//! and the secret byte ranges that follow from it ([`secret_spans`]).
//!
//! A heuristic, so the exact parser does not call in here:
//! [`crate::url::libpq::parse_uri_bytes`] computes the secret spans and hands
//! them to the parser, and `ambiguity` compares the guess with libpq's
//! reading.

use crate::url::libpq::codec::lenient_decode;
use crate::url::libpq::keywords::{KEYWORDS, keyword_index};
use crate::url::libpq::secrets::Secrets;
use crate::url::libpq::uri::libpq_userinfo_at;

/// Best-effort byte ranges holding secrets, computed before parsing so that
/// even structural errors can redact the URI they quote.
pub(crate) fn secret_spans(uri: &[u8], prefix_len: usize) -> Secrets {
    let mut secrets = Secrets::default();
    let rest = uri.get(prefix_len..).unwrap_or_default();
    // libpq's own user-info password.
    if let Some(at) = libpq_userinfo_at(uri, prefix_len)
        && let Some(colon) = uri[prefix_len..at].iter().position(|&b| b == b':')
    {
        secrets.add(prefix_len + colon + 1..at);
    }
    // The password the author probably meant (may extend past libpq's).
    if let Some(at) = intended_userinfo_at(uri, prefix_len)
        && let Some(colon) = uri[prefix_len..at].iter().position(|&b| b == b':')
    {
        secrets.add(prefix_len + colon + 1..at);
    }
    // Any `?key=` / `&key=` whose key is a secret keyword.
    for (i, &b) in rest.iter().enumerate() {
        if b != b'?' && b != b'&' {
            continue;
        }
        let start = prefix_len + i + 1;
        let seg_end = uri[start..]
            .iter()
            .position(|&c| c == b'&')
            .map_or(uri.len(), |e| start + e);
        let seg = &uri[start..seg_end];
        if let Some(eq) = seg.iter().position(|&c| c == b'=') {
            let key = lenient_decode(&seg[..eq]);
            let key = key.trim_ascii();
            if keyword_index(key).is_some_and(|k| KEYWORDS[k].is_secret()) {
                secrets.add(start + eq + 1..seg_end);
            }
        }
    }
    secrets
}

fn is_host_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'%')
}

/// Whether `text` looks like a libpq host list: `host[:port][,...]` with
/// ordinary host-name characters or bracketed IPv6 literals.
fn plausible_netlocs(text: &[u8]) -> bool {
    text.split(|&b| b == b',').all(|el| {
        let (host_ok, port) = if el.first() == Some(&b'[') {
            match el.iter().position(|&b| b == b']') {
                Some(close) => (true, &el[close + 1..]),
                None => return false,
            }
        } else {
            let colon = el.iter().position(|&b| b == b':').unwrap_or(el.len());
            (el[..colon].iter().all(|&c| is_host_char(c)), &el[colon..])
        };
        host_ok
            && (port.is_empty() || (port[0] == b':' && port[1..].iter().all(u8::is_ascii_digit)))
    })
}

/// Whether a would-be password contains `?key=` / `&key=` for a libpq
/// keyword, i.e. is really the start of a query string.
fn looks_like_query(text: &[u8]) -> bool {
    text.iter().enumerate().any(|(i, &b)| {
        if b != b'?' && b != b'&' {
            return false;
        }
        let rest = &text[i + 1..];
        let eq = rest.iter().position(|&c| c == b'=').unwrap_or(rest.len());
        let key = &rest[..eq];
        eq < rest.len() && (keyword_index(key).is_some() || key == b"ssl" || key == b"requiressl")
    })
}

/// Where the author most likely meant the user info to end: the last `@`
/// that is preceded by a plausible user name (no `/ ? # & = [ ]` before the
/// first `:`), whose password part is not a query string, and that is
/// followed by a plausible host list.
pub(crate) fn intended_userinfo_at(uri: &[u8], s: usize) -> Option<usize> {
    let rest = uri.get(s..)?;
    let ats = rest
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'@')
        .map(|(i, _)| s + i)
        .rev();
    for at in ats {
        let ui = &uri[s..at];
        let colon = ui.iter().position(|&c| c == b':');
        let user = &ui[..colon.unwrap_or(ui.len())];
        if user
            .iter()
            .any(|&c| matches!(c, b'/' | b'?' | b'#' | b'&' | b'=' | b'[' | b']'))
        {
            continue;
        }
        if colon.is_some_and(|c| looks_like_query(&ui[c + 1..])) {
            continue;
        }
        let after = &uri[at + 1..];
        let end = after
            .iter()
            .position(|&c| c == b'/' || c == b'?')
            .unwrap_or(after.len());
        if plausible_netlocs(&after[..end]) {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netloc_plausibility() {
        assert!(plausible_netlocs(b""));
        assert!(plausible_netlocs(b"host"));
        assert!(plausible_netlocs(b"h1:5432,h2,[::1]:7"));
        assert!(plausible_netlocs(b"%2Ftmp"));
        assert!(!plausible_netlocs(b"ss@host"));
        assert!(!plausible_netlocs(b"host:port"));
        assert!(!plausible_netlocs(b"[::1"));
    }

    #[test]
    fn intended_split() {
        let u = b"postgresql://u:p@ss@host/db";
        assert_eq!(intended_userinfo_at(u, 13), Some(19));
        let u = b"postgresql://host?password=p@ss";
        assert_eq!(intended_userinfo_at(u, 13), None);
        let u = b"postgresql://u:p@h?application_name=a@b";
        assert_eq!(intended_userinfo_at(u, 13), Some(16));
    }
}
