//! [`ConnInfo`]: the keyword/value pairs `PQconninfoParse()` sets, plus the
//! derived host list (`pqConnectOptions2()`), and [`render_uri`].

use std::borrow::Cow;
use std::fmt;

use crate::url::libpq::codec::encode_bytes;
use crate::url::libpq::keywords::{KEYWORDS, Keyword, keyword_index};
use crate::url::libpq::notes::Ambiguity;

/// The options a connection string sets, in libpq keyword order.
///
/// Values are raw bytes, as in libpq (a `%FF` escape yields a non-UTF-8
/// value); [`ConnInfo::get`] and [`ConnInfo::pairs`] show them lossily.
/// Only keywords the string actually set are present: no defaults, no
/// environment variables.
///
/// Equality compares the keyword/value pairs only, not the ambiguity notes.
#[derive(Clone)]
pub struct ConnInfo {
    /// Indexed like [`KEYWORDS`].
    values: Vec<Option<Vec<u8>>>,
    /// Indexed like [`KEYWORDS`]: value holds (part of) a secret.
    sensitive: Vec<bool>,
    pub(crate) ambiguities: Vec<Ambiguity>,
}

/// Error from [`ConnInfo::set`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    /// Not a libpq 18 connection keyword.
    UnknownKeyword(String),
    /// libpq values are C strings and cannot contain NUL.
    NulByte,
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::UnknownKeyword(k) => write!(f, "invalid connection option \"{k}\""),
            SetError::NulByte => f.write_str("connection option values cannot contain NUL bytes"),
        }
    }
}

impl std::error::Error for SetError {}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl ConnInfo {
    /// An empty set of options.
    pub fn new() -> Self {
        ConnInfo {
            values: vec![None; KEYWORDS.len()],
            sensitive: vec![false; KEYWORDS.len()],
            ambiguities: Vec::new(),
        }
    }

    /// Stores a value; `sensitive` marks values built from bytes of a
    /// (probable) secret even though their keyword is not secret.
    pub(crate) fn store(&mut self, index: usize, value: Vec<u8>, sensitive: bool) {
        if let (Some(slot), Some(flag), Some(k)) = (
            self.values.get_mut(index),
            self.sensitive.get_mut(index),
            KEYWORDS.get(index),
        ) {
            *slot = Some(value);
            *flag = sensitive || k.is_secret();
        }
    }

    /// Whether the value of `keyword` must not be displayed: it is a secret
    /// keyword (password, ...), or libpq built it from characters the author
    /// most likely meant as part of a password (e.g. the host `ss@db` in
    /// `postgresql://u:p@ss@db/`).  [`fmt::Debug`] shows such values as `***`.
    pub fn is_sensitive(&self, keyword: &str) -> bool {
        keyword_index(keyword.as_bytes())
            .and_then(|i| self.sensitive.get(i).copied())
            .unwrap_or(false)
    }

    /// Sets `keyword` to `value` (overriding any previous value).
    pub fn set(&mut self, keyword: &str, value: impl Into<Vec<u8>>) -> Result<(), SetError> {
        let value = value.into();
        let index = keyword_index(keyword.as_bytes())
            .ok_or_else(|| SetError::UnknownKeyword(keyword.to_owned()))?;
        if value.contains(&0) {
            return Err(SetError::NulByte);
        }
        self.store(index, value, false);
        Ok(())
    }

    /// Raw value of `keyword`, if the string set it.
    pub fn get_bytes(&self, keyword: &str) -> Option<&[u8]> {
        let i = keyword_index(keyword.as_bytes())?;
        self.values.get(i)?.as_deref()
    }

    /// Value of `keyword` (lossy UTF-8), if the string set it.
    pub fn get(&self, keyword: &str) -> Option<Cow<'_, str>> {
        self.get_bytes(keyword).map(String::from_utf8_lossy)
    }

    /// Whether `keyword` was set (possibly to the empty string).
    pub(crate) fn contains(&self, keyword: &str) -> bool {
        self.get_bytes(keyword).is_some()
    }

    /// The set options in libpq keyword order, with raw values.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Keyword, &[u8])> + '_ {
        KEYWORDS
            .iter()
            .zip(self.values.iter())
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    }

    /// The set options in libpq keyword order, values as (lossy) strings.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(k, v)| (k.name.to_owned(), lossy(v)))
            .collect()
    }

    /// Number of set options.
    pub(crate) fn len(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest libpq major version that knows every keyword set here
    /// (`9` if all of them predate libpq 10).  Note that libpq 18 also
    /// changed how raw spaces in URIs are handled.
    pub fn min_libpq_version(&self) -> u32 {
        self.iter().map(|(k, _)| k.since).max().unwrap_or(9)
    }

    /// Notes about places where libpq's reading probably differs from what
    /// the author meant (see [`Ambiguity`]).  Empty for a [`ConnInfo`] built
    /// by hand.
    pub fn ambiguities(&self) -> &[Ambiguity] {
        &self.ambiguities
    }

    /// The output format of PostgreSQL's `libpq_uri_regress` test helper
    /// for this result (ignoring its filtering of values equal to the
    /// defaults): `kw='value' ... (inet)` or `(local)`.
    pub fn regress_string(&self) -> String {
        let mut out = String::new();
        let mut local = true;
        for (k, v) in self.iter() {
            out.push_str(&format!("{}='{}' ", k.name, lossy(v)));
            if !v.is_empty() && (k.name == "hostaddr" || (k.name == "host" && v[0] != b'/')) {
                local = false;
            }
        }
        out.push_str(if local { "(local)" } else { "(inet)" });
        out
    }
}

impl Default for ConnInfo {
    fn default() -> Self {
        ConnInfo::new()
    }
}

impl PartialEq for ConnInfo {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for ConnInfo {}

impl fmt::Debug for ConnInfo {
    /// Sensitive values (see [`ConnInfo::is_sensitive`]) are shown as `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.iter() {
            if self.is_sensitive(k.name) {
                m.entry(&k.name, &"***");
            } else {
                m.entry(&k.name, &lossy(v));
            }
        }
        m.finish()
    }
}

fn count_commas(v: &[u8]) -> usize {
    v.iter().filter(|&&b| b == b',').count()
}

/// Encodes one host element for the authority part.  IPv6-looking values
/// are written in brackets for readability (libpq copies the bracket
/// contents verbatim and then percent-decodes them).
fn render_host_element(h: &[u8]) -> String {
    let ipv6ish = h.contains(&b':')
        && h.iter()
            .all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'%'));
    if ipv6ish {
        let inner: String = h
            .iter()
            .map(|&b| {
                if b == b'%' {
                    "%25".to_owned()
                } else {
                    char::from(b).to_string()
                }
            })
            .collect();
        format!("[{inner}]")
    } else {
        encode_bytes(h)
    }
}

/// Renders `info` as a `postgresql://` URI that libpq (9.2+) parses back to
/// exactly the same keyword/value pairs (`parse_uri(&render_uri(&x)) == x`).
///
/// User, password, host(s), port(s) and database go into their URI slots
/// where that is lossless; anything the URI syntax cannot express (empty
/// values, host lists without matching port lists, ...) and every other
/// keyword goes into the query string, in libpq keyword order.  All values
/// are percent-encoded with [`crate::url::libpq::encode_component`].
///
/// The result contains the password in clear text (encoded); treat it as a
/// secret.
pub fn render_uri(info: &ConnInfo) -> String {
    let get = |k: &str| info.get_bytes(k);
    let mut in_uri: Vec<&str> = Vec::new();

    let mut out = String::from("postgresql://");

    // user[:password]@ -- only non-empty values can be expressed.
    let user = get("user").filter(|v| !v.is_empty());
    let password = get("password").filter(|v| !v.is_empty());
    if let Some(u) = user {
        out.push_str(&encode_bytes(u));
        in_uri.push("user");
    }
    if let Some(p) = password {
        out.push(':');
        out.push_str(&encode_bytes(p));
        in_uri.push("password");
    }
    if user.is_some() || password.is_some() {
        out.push('@');
    }

    // netloc[:port][,...]
    let host = get("host").filter(|v| !v.is_empty());
    let port = get("port");
    match host {
        Some(h) if count_commas(h) == 0 || port.is_some() => {
            let hosts: Vec<&[u8]> = h.split(|&b| b == b',').collect();
            let ports: Option<Vec<&[u8]>> = port
                .filter(|p| !p.is_empty() && count_commas(p) + 1 == hosts.len())
                .map(|p| p.split(|&b| b == b',').collect());
            for (i, hp) in hosts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&render_host_element(hp));
                if let Some(pp) = ports.as_ref().and_then(|ps| ps.get(i))
                    && !pp.is_empty()
                {
                    out.push(':');
                    out.push_str(&encode_bytes(pp));
                }
            }
            in_uri.push("host");
            // With several hosts and no port list, the authority yields a
            // port value of bare commas; the query "port" below overrides it.
            if ports.is_some() {
                in_uri.push("port");
            }
        }
        _ => {
            if let Some(p) = port.filter(|p| !p.is_empty() && count_commas(p) == 0) {
                out.push(':');
                out.push_str(&encode_bytes(p));
                in_uri.push("port");
            }
        }
    }

    if let Some(db) = get("dbname").filter(|v| !v.is_empty()) {
        out.push('/');
        out.push_str(&encode_bytes(db));
        in_uri.push("dbname");
    }

    let mut sep = '?';
    for (k, v) in info.iter() {
        if in_uri.contains(&k.name) {
            continue;
        }
        out.push(sep);
        sep = '&';
        out.push_str(k.name);
        out.push('=');
        out.push_str(&encode_bytes(v));
    }
    out
}
