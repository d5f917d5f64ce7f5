//! Masks the password inside a URL string, whether or not the URL is well formed.
//!
//! A URL that parses is shown from its parsed parts; this string-level masking is the safety net
//! for everything else (settings, error messages about URLs that do not parse). It errs towards
//! hiding too much: the userinfo ends at the last `@` before the first `/` (libpq's look-ahead),
//! else at the last `@` before the first `?`, else at the last `@` at all.

use crate::secret::MASK;

/// The URL with the password in the userinfo and every `password=` query value replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let (userinfo_masked, rest_start) = mask_userinfo(url);
    let mut out = userinfo_masked;
    out.push_str(&mask_password_params(&url[rest_start..]));
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

/// Returns the URL up to the end of the userinfo with its password masked, and where the rest starts.
fn mask_userinfo(url: &str) -> (String, usize) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (String::new(), 0);
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
        return (url[..scheme_end].to_string(), scheme_end);
    };
    let userinfo = &after[..at];
    let masked = match userinfo.find(':') {
        Some(colon) => format!("{}:{MASK}", &userinfo[..colon]),
        None => userinfo.to_string(),
    };
    (format!("{}{masked}", &url[..scheme_end]), scheme_end + at)
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
    percent_decode_lossy(key).eq_ignore_ascii_case("password")
}

/// Decodes `%XX` escapes, keeping malformed ones as they are.
fn percent_decode_lossy(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
