//! Masks the password inside a URL string, whether or not the URL is well formed.
//!
//! A URL that parses is shown from its parsed parts; this string-level masking is the safety net
//! for everything else (settings, error messages about URLs that do not parse). It errs towards
//! hiding too much, and hides the password as each reader of the URL finds it:
//!
//! * libpq's look-ahead: the userinfo ends at the last `@` before the first `/`, else at the last
//!   `@` before the first `?`, else at the last `@` at all; the password starts after its first
//!   `:`;
//! * SQLAlchemy's `make_url`, whose password is what asyncpg, pg8000 and psycopg receive: it
//!   runs from the first `:` after a user name without `:` or `/` to the next `@`, so with an
//!   `@` in the user name and a `/` in the password (`admin@server:pa/ss@host`) it is not where
//!   libpq's look-ahead puts it.

use std::ops::Range;

use crate::secret::MASK;
use crate::url::sqlalchemy;

/// The URL with the password in the userinfo and every `password=` query value replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let (libpq_password, rest_start) = userinfo_password(url);
    let mut hidden: Vec<Range<usize>> = libpq_password
        .into_iter()
        .chain(sqlalchemy::password_span(url))
        .collect();
    hidden.sort_by_key(|range| (range.start, range.end));
    let mut out = String::with_capacity(url.len());
    let mut shown_up_to = 0;
    let mut last_mask_end = None;
    for range in hidden {
        match last_mask_end {
            // overlapping or touching the previous mask: one mask covers both
            Some(end) if range.start <= end => shown_up_to = shown_up_to.max(range.end),
            _ => {
                out.push_str(&url[shown_up_to..range.start]);
                out.push_str(MASK);
                shown_up_to = range.end;
            }
        }
        last_mask_end = Some(shown_up_to);
    }
    let rest_start = rest_start.max(shown_up_to);
    out.push_str(&url[shown_up_to..rest_start]);
    out.push_str(&mask_password_params(&url[rest_start..]));
    out
}

/// A message about `url` (a library's exception quoting part of it) with every piece of the URL's
/// password masked: the password as libpq and as SQLAlchemy find it, raw and decoded, and its
/// parts between `@`, `:` and `/` (a misplaced `@` can make SQLAlchemy quote a piece of the
/// password as a port).
pub(crate) fn redact_message(message: &str, url: &str) -> String {
    let (libpq_password, _) = userinfo_password(url);
    let mut secrets: Vec<String> = Vec::new();
    for range in libpq_password
        .into_iter()
        .chain(sqlalchemy::password_span(url))
    {
        let raw = &url[range];
        for whole in [raw.to_string(), sqlalchemy::unquote(raw)] {
            secrets.extend(
                whole
                    .split(['@', ':', '/'])
                    .filter(|piece| piece.len() >= 3)
                    .map(str::to_string),
            );
            secrets.push(whole);
        }
    }
    secrets.retain(|secret| secret.len() >= 2);
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    let mut out = message.to_string();
    for secret in secrets {
        out = out.replace(&secret, MASK);
    }
    out
}

/// Any free text (an error message, a clap usage error) with every URL-like token's password masked.
pub fn redact_text(text: &str) -> String {
    if !text.contains("://") && !text.to_ascii_lowercase().contains("password") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let tokens: Vec<String> = line
            .split(' ')
            .map(|token| {
                if token.contains("://") {
                    let start = token.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
                    format!("{}{}", &token[..start], redact_url(&token[start..]))
                } else {
                    mask_keyword_password(token)
                }
            })
            .collect();
        out.push_str(&tokens.join(" "));
    }
    out
}

/// Masks `password=value` in a keyword/value connection string token.
fn mask_keyword_password(token: &str) -> String {
    match token.split_once('=') {
        Some((key, _))
            if key
                .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
                .eq_ignore_ascii_case("password") =>
        {
            format!("{key}={MASK}")
        }
        _ => token.to_string(),
    }
}

/// The password in the userinfo as libpq's look-ahead finds it (a byte range, possibly empty),
/// and where the part after the userinfo starts.
fn userinfo_password(url: &str) -> (Option<Range<usize>>, usize) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (None, 0);
    };
    let after = &url[scheme_end..];
    let last_at_before = |stop: Option<usize>| {
        let region = stop.map_or(after, |s| &after[..s]);
        region.rfind('@')
    };
    let at = last_at_before(after.find('/'))
        .or_else(|| last_at_before(after.find('?')))
        .or_else(|| last_at_before(None));
    let Some(at) = at else {
        return (None, scheme_end);
    };
    let password = after[..at]
        .find(':')
        .map(|colon| scheme_end + colon + 1..scheme_end + at);
    (password, scheme_end + at)
}

/// Masks the value of every `password` query parameter (case-insensitive, percent-encoded or not).
fn mask_password_params(rest: &str) -> String {
    let Some(query_start) = rest.find('?') else {
        return rest.to_string();
    };
    let (head, query) = rest.split_at(query_start + 1);
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _)) if is_password_key(key) => format!("{key}={MASK}"),
            _ => param.to_string(),
        })
        .collect();
    format!("{head}{}", params.join("&"))
}

fn is_password_key(key: &str) -> bool {
    crate::url::sqlalchemy::unquote(key).eq_ignore_ascii_case("password")
}

#[cfg(test)]
mod tests {
    use super::{redact_text, redact_url};

    #[test]
    fn masks_userinfo_password() {
        assert_eq!(
            redact_url("postgresql+asyncpg://app:s3cret@db:5432/app"),
            "postgresql+asyncpg://app:***@db:5432/app"
        );
    }

    #[test]
    fn leaves_urls_without_password_alone() {
        let url = "postgresql+asyncpg://super@localhost:5432/super";
        assert_eq!(redact_url(url), url);
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn masks_passwords_with_unencoded_specials() {
        for (url, secret) in [
            ("postgresql://u:p@ss@host/db", "p@ss"),
            ("postgresql://u:pa/ss@host/db", "pa/ss"),
            ("postgresql://u:p?w@host/db", "p?w"),
            ("postgresql://u:p#w@host/db", "p#w"),
            ("postgresql://u:p@w@h/db?application_name=a@b", "p@w"),
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains(secret), "{url} shown as {shown}");
            assert!(shown.contains("u:***@"), "{shown}");
        }
    }

    /// Found by replaying the url_check fuzz corpus: an `@` in the user name (Azure's
    /// `user@server`) and a `/` in the password hid the password from libpq's look-ahead, so the
    /// password SQLAlchemy hands to asyncpg was shown.
    #[test]
    fn masks_the_password_sqlalchemy_reads() {
        for (url, shown) in [
            (
                "postgresql+asyncpg://admin@myserver:abc/def@myserver.example.com/db",
                "postgresql+asyncpg://admin@myserver:***@myserver.example.com/db",
            ),
            (
                "postgresql://me@corp:pa/ss@h/db?password=x",
                "postgresql://me@corp:***@h/db?password=***",
            ),
            // both readings agree: one mask
            ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u:@h/db", "postgresql://u:***@h/db"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        let text = "connect to postgresql+asyncpg://admin@srv:s3/cr3t@srv.example.com/db failed";
        assert!(
            !redact_text(text).contains("s3/cr3t"),
            "{}",
            redact_text(text)
        );
    }

    #[test]
    fn masks_urls_inside_free_text() {
        let text = "cannot connect to 'postgresql://u:sekrit@h/db' (password=other1 host=h)";
        let shown = redact_text(text);
        assert!(
            !shown.contains("sekrit") && !shown.contains("other1"),
            "{shown}"
        );
        assert!(shown.contains("'postgresql://u:***@h/db'"), "{shown}");
    }

    #[test]
    fn masks_password_query_parameters() {
        assert_eq!(
            redact_url("postgresql://h/db?sslmode=require&password=topsecret&x=1"),
            "postgresql://h/db?sslmode=require&password=***&x=1"
        );
        assert!(!redact_url("postgresql://h/db?pass%77ord=abc").contains("abc"));
        assert!(!redact_url("postgresql://h/db?%50ASSWORD=abc").contains("abc"));
    }
}
