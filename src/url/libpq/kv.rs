//! libpq's keyword/value connection-string parser (`conninfo_parse()`), used
//! by [`crate::url::libpq::parse_conninfo`] for strings without a URI prefix — e.g.
//! `host=db1 dbname='my db'`.

use crate::url::libpq::conninfo::ConnInfo;
use crate::url::libpq::error::UriError;
use crate::url::libpq::keywords::{KEYWORDS, keyword_index};
use crate::url::libpq::options::ParseOptions;

/// `isspace()` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `conninfo_parse()` + `conninfo_storeval(..., ignoreMissing=false,
/// uri_decode=false)`.
///
/// Error texts quote the offending keyword; a token that directly follows an
/// unquoted secret value (`password=a b` -- most likely the rest of the
/// password) is shown as `***`.
pub(crate) fn parse(s: &[u8], opts: ParseOptions) -> Result<ConnInfo, UriError> {
    let mut info = ConnInfo::new();
    let len = s.len();
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let mut after_unquoted_secret = false;
    while i < len {
        // Skip blanks before the parameter name
        if is_c_space(s[i]) {
            i += 1;
            continue;
        }
        // Get the parameter name
        let name_start = i;
        let mut name_end = len;
        while i < len {
            if s[i] == b'=' {
                name_end = i;
                break;
            }
            if is_c_space(s[i]) {
                name_end = i;
                i += 1;
                while i < len && is_c_space(s[i]) {
                    i += 1;
                }
                break;
            }
            i += 1;
        }
        let name = &s[name_start..name_end.min(len)];
        let shown = |name: &[u8], hide: bool| if hide { "***".to_owned() } else { lossy(name) };

        // Check that there is a following '='
        if at(i) != b'=' {
            return Err(UriError::new(
                format!(
                    "missing \"=\" after \"{}\" in connection info string",
                    shown(name, after_unquoted_secret)
                ),
                Some(name_start),
            ));
        }
        i += 1;
        // Skip blanks after the '='
        while i < len && is_c_space(s[i]) {
            i += 1;
        }

        // Get the parameter value
        let mut value = Vec::new();
        let quoted = at(i) == b'\'';
        if !quoted {
            while i < len {
                if is_c_space(s[i]) {
                    i += 1;
                    break;
                }
                if s[i] == b'\\' {
                    i += 1;
                    if i < len {
                        value.push(s[i]);
                        i += 1;
                    }
                } else {
                    value.push(s[i]);
                    i += 1;
                }
            }
        } else {
            let open = i;
            i += 1;
            loop {
                if i >= len {
                    return Err(UriError::new(
                        "unterminated quoted string in connection info string".to_owned(),
                        Some(open),
                    ));
                }
                if s[i] == b'\\' {
                    i += 1;
                    if i < len {
                        value.push(s[i]);
                        i += 1;
                    }
                    continue;
                }
                if s[i] == b'\'' {
                    i += 1;
                    break;
                }
                value.push(s[i]);
                i += 1;
            }
        }

        // conninfo_storeval(): requiressl compatibility mapping.
        let mut keyword: &[u8] = name;
        if keyword == b"requiressl" {
            keyword = b"sslmode";
            value = if value.first() == Some(&b'1') {
                b"require".to_vec()
            } else {
                b"prefer".to_vec()
            };
        }
        let Some(index) = keyword_index(keyword).filter(|&k| opts.knows(&KEYWORDS[k])) else {
            return Err(UriError::new(
                format!(
                    "invalid connection option \"{}\"",
                    shown(keyword, after_unquoted_secret)
                ),
                Some(name_start),
            ));
        };
        after_unquoted_secret = !quoted && KEYWORDS[index].is_secret();
        info.store(index, value, false);
    }
    Ok(info)
}
