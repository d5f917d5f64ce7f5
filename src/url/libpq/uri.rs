//! The URI parser: a byte-for-byte port of libpq's
//! `conninfo_uri_parse_options()`, `conninfo_uri_parse_params()` and the
//! parts of `conninfo_storeval()` they rely on (`fe-connect.c`).
//!
//! The C code works on a modifiable copy of the string, cutting it with NUL
//! bytes; here the same scans run over indices into the original input,
//! which also gives error positions.  Comments quote the C they mirror.

use std::ops::Range;

use crate::url::libpq::codec::{DecodeError, uri_decode};
use crate::url::libpq::conninfo::ConnInfo;
use crate::url::libpq::error::UriError;
use crate::url::libpq::keywords::{KEYWORDS, keyword_index};
use crate::url::libpq::options::ParseOptions;
use crate::url::libpq::secrets::Secrets;

/// `uri_designator` / `short_uri_designator`; matched case-sensitively.
pub(crate) const URI_DESIGNATORS: [&[u8]; 2] = [b"postgresql://", b"postgres://"];

/// `uri_prefix_length()`: length of the recognised scheme prefix, or 0.
pub(crate) fn uri_prefix_length(s: &[u8]) -> usize {
    URI_DESIGNATORS
        .iter()
        .find(|d| s.starts_with(d))
        .map_or(0, |d| d.len())
}

/// Where a keyword's value came from (for ambiguity notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UriSection {
    UserInfo,
    Authority,
    Path,
    /// Query parameter; `key` is the raw key's byte range.
    Query {
        key: Range<usize>,
    },
}

/// One raw query parameter as split by libpq.
#[derive(Debug, Clone)]
pub(crate) struct RawParam {
    pub(crate) key: Range<usize>,
    pub(crate) value: Option<Range<usize>>,
}

/// What went wrong, in a form the ambiguity analysis can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UriFailure {
    NoPrefix,
    Decode(DecodeError),
    ExtraSeparator {
        param: Range<usize>,
        second_eq: usize,
    },
    MissingSeparator,
    UnknownKeyword {
        key: Range<usize>,
        decoded: Vec<u8>,
        value: Vec<u8>,
    },
    Structure,
}

/// Everything the parser learned about the input's structure.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    pub(crate) prefix_len: usize,
    /// libpq's user-info terminator (`@`), if it found one.
    pub(crate) userinfo_at: Option<usize>,
    /// Raw host-list text (between user info and `/`/`?`/end).
    pub(crate) authority: Option<Range<usize>>,
    /// Raw path (database name) text.
    pub(crate) path: Option<Range<usize>>,
    /// Index of the first byte after the `?`.
    pub(crate) query_start: Option<usize>,
    pub(crate) params: Vec<RawParam>,
    /// `(keyword index, origin)` for every store, in order.
    pub(crate) origins: Vec<(usize, UriSection)>,
    pub(crate) failure: Option<UriFailure>,
}

/// libpq's look-ahead: the first `@` before any `/` ("Look ahead for
/// possible user credentials designator").  `?` and `#` do not stop it.
pub(crate) fn libpq_userinfo_at(uri: &[u8], prefix_len: usize) -> Option<usize> {
    let rest = uri.get(prefix_len..)?;
    let stop = rest.iter().position(|&b| b == b'@' || b == b'/')?;
    (rest[stop] == b'@').then_some(prefix_len + stop)
}

struct Parser<'a> {
    uri: &'a [u8],
    opts: ParseOptions,
    secrets: &'a Secrets,
    info: ConnInfo,
    trace: Trace,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Parser<'_> {
    fn fail(&mut self, failure: UriFailure, message: String, position: Option<usize>) -> UriError {
        self.trace.failure = Some(failure);
        UriError::new(message, position)
    }

    /// The whole URI as libpq would quote it, secrets replaced by `***`.
    fn quoted_uri(&self) -> String {
        self.secrets.redact(self.uri)
    }

    /// `conninfo_uri_decode()` on a raw component whose bytes came from the
    /// given input offsets; errors quote the raw component (or `***`).
    fn decode(&mut self, raw: &[u8], pos: &[usize], secret: bool) -> Result<Vec<u8>, UriError> {
        uri_decode(raw, self.opts.trims_spaces()).map_err(|e| {
            let quoted = if secret || self.secrets.touches(pos.iter().copied()) {
                "***".to_owned()
            } else {
                lossy(raw)
            };
            let position = pos.get(e.at()).copied();
            self.fail(UriFailure::Decode(e), e.message(&quoted), position)
        })
    }

    /// `conninfo_storeval(options, keyword, value, errorMessage, false, true)`
    /// for the fixed URI-part keywords (which exist in every version).
    fn store_uri_part(
        &mut self,
        keyword: &str,
        raw: &[u8],
        pos: &[usize],
        origin: UriSection,
    ) -> Result<(), UriError> {
        let index = keyword_index(keyword.as_bytes()).unwrap_or_default();
        let secret = KEYWORDS.get(index).is_some_and(|k| k.is_secret());
        let value = self.decode(raw, pos, secret)?;
        let sensitive = self.secrets.touches(pos.iter().copied());
        self.info.store(index, value, sensitive);
        self.trace.origins.push((index, origin));
        Ok(())
    }

    fn parse(&mut self) -> Result<(), UriError> {
        let uri = self.uri;
        let len = uri.len();
        let at = |i: usize| uri.get(i).copied().unwrap_or(0);

        // Skip the URI prefix
        let prefix_len = uri_prefix_length(uri);
        self.trace.prefix_len = prefix_len;
        if prefix_len == 0 {
            // "Should never happen" in libpq (callers check the prefix).
            let msg = format!(
                "invalid URI propagated to internal parser routine: \"{}\"",
                self.quoted_uri()
            );
            return Err(self.fail(UriFailure::NoPrefix, msg, Some(0)));
        }
        let start = prefix_len;
        let mut p;

        // Look ahead for possible user credentials designator
        //   while (*p && *p != '@' && *p != '/') ++p;
        if let Some(at_sign) = libpq_userinfo_at(uri, start) {
            self.trace.userinfo_at = Some(at_sign);
            // while (*p != ':' && *p != '@') ++p;
            let mut q = start;
            while at(q) != b':' && at(q) != b'@' {
                q += 1;
            }
            let user = start..q;
            if !user.is_empty() {
                let pos: Vec<usize> = user.clone().collect();
                self.store_uri_part("user", &uri[user], &pos, UriSection::UserInfo)?;
            }
            if at(q) == b':' {
                // while (*p != '@') ++p;  -- the *first* '@' after the ':'
                let pw = q + 1..at_sign;
                if !pw.is_empty() {
                    let pos: Vec<usize> = pw.clone().collect();
                    self.store_uri_part("password", &uri[pw], &pos, UriSection::UserInfo)?;
                }
            }
            p = at_sign + 1;
        } else {
            p = start;
        }

        // netloc[:port][,...] -- host and port texts are concatenated raw
        // (with ',' between entries) and decoded as a whole afterwards.
        let authority_start = p;
        let mut hostbuf: Vec<u8> = Vec::new();
        let mut hostpos: Vec<usize> = Vec::new();
        let mut portbuf: Vec<u8> = Vec::new();
        let mut portpos: Vec<usize> = Vec::new();
        let mut prevchar;
        loop {
            let host: Range<usize>;
            if at(p) == b'[' {
                // Look for IPv6 address.
                let open = p;
                p += 1;
                let host_start = p;
                while p < len && uri[p] != b']' {
                    p += 1;
                }
                if p >= len {
                    let msg = format!(
                        "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"{}\"",
                        self.quoted_uri()
                    );
                    return Err(self.fail(UriFailure::Structure, msg, Some(open)));
                }
                if p == host_start {
                    let msg = format!(
                        "IPv6 host address may not be empty in URI: \"{}\"",
                        self.quoted_uri()
                    );
                    return Err(self.fail(UriFailure::Structure, msg, Some(open)));
                }
                host = host_start..p;
                // Cut off the bracket and advance
                p += 1;
                // The address may be followed by a port specifier or a slash
                // or a query or a separator comma.
                if p < len && !matches!(uri[p], b':' | b'/' | b'?' | b',') {
                    // libpq prints the single byte with %c and a 1-based
                    // position; a non-ASCII byte shows as U+FFFD here.
                    let c = lossy(&uri[p..=p]);
                    let msg = format!(
                        "unexpected character \"{c}\" at position {} in URI (expected \":\" or \"/\"): \"{}\"",
                        p + 1,
                        self.quoted_uri()
                    );
                    return Err(self.fail(UriFailure::Structure, msg, Some(p)));
                }
            } else {
                // not an IPv6 address: DNS-named or IPv4 netloc
                let host_start = p;
                while p < len && !matches!(uri[p], b':' | b'/' | b'?' | b',') {
                    p += 1;
                }
                host = host_start..p;
            }

            // Save the hostname terminator before we null it
            prevchar = at(p);
            hostbuf.extend_from_slice(&uri[host.clone()]);
            hostpos.extend(host);

            if prevchar == b':' {
                p += 1; // advance past host terminator
                let port_start = p;
                while p < len && !matches!(uri[p], b'/' | b'?' | b',') {
                    p += 1;
                }
                prevchar = at(p);
                portbuf.extend_from_slice(&uri[port_start..p]);
                portpos.extend(port_start..p);
            }

            if prevchar != b',' {
                break;
            }
            hostbuf.push(b',');
            hostpos.push(p);
            portbuf.push(b',');
            portpos.push(p);
            p += 1; // advance past comma separator
        }
        self.trace.authority = Some(authority_start..p);

        // Save final values for host and port.
        if !hostbuf.is_empty() {
            self.store_uri_part("host", &hostbuf, &hostpos, UriSection::Authority)?;
        }
        if !portbuf.is_empty() {
            self.store_uri_part("port", &portbuf, &portpos, UriSection::Authority)?;
        }

        if prevchar != 0 && prevchar != b'?' {
            p += 1; // advance past host terminator ('/')
            let db_start = p;
            // Look for query parameters
            while p < len && uri[p] != b'?' {
                p += 1;
            }
            prevchar = at(p);
            let db = db_start..p;
            self.trace.path = Some(db.clone());
            // Avoid setting dbname to an empty string (raw emptiness test).
            if !db.is_empty() {
                let pos: Vec<usize> = db.clone().collect();
                self.store_uri_part("dbname", &uri[db], &pos, UriSection::Path)?;
            }
        }

        if prevchar != 0 {
            p += 1; // advance past terminator ('?')
            self.trace.query_start = Some(p);
            self.parse_params(p)?;
        }
        Ok(())
    }

    /// `conninfo_uri_parse_params()`.
    fn parse_params(&mut self, mut params: usize) -> Result<(), UriError> {
        let uri = self.uri;
        let len = uri.len();
        while params < len {
            let key_start = params;
            let mut key_end = params;
            let mut value: Option<usize> = None;
            let mut p = params;
            // Scan the params string for '=' and '&', marking the end of
            // keyword and value respectively.
            let value_end;
            loop {
                if p < len && uri[p] == b'=' {
                    // Was there '=' already?
                    if value.is_some() {
                        let param_end = uri[p..]
                            .iter()
                            .position(|&b| b == b'&')
                            .map_or(len, |e| p + e);
                        let msg = format!(
                            "extra key/value separator \"=\" in URI query parameter: \"{}\"",
                            lossy(&uri[key_start..key_end])
                        );
                        let failure = UriFailure::ExtraSeparator {
                            param: key_start..param_end,
                            second_eq: p,
                        };
                        return Err(self.fail(failure, msg, Some(p)));
                    }
                    // Cut off keyword, advance to value
                    key_end = p;
                    p += 1;
                    value = Some(p);
                } else if p >= len || uri[p] == b'&' {
                    value_end = p;
                    if p < len {
                        p += 1;
                    }
                    // Was there '=' at all?
                    if value.is_none() {
                        let msg = format!(
                            "missing key/value separator \"=\" in URI query parameter: \"{}\"",
                            lossy(&uri[key_start..value_end])
                        );
                        self.trace.params.push(RawParam {
                            key: key_start..value_end,
                            value: None,
                        });
                        return Err(self.fail(UriFailure::MissingSeparator, msg, Some(key_start)));
                    }
                    break;
                } else {
                    p += 1; // Advance over all other bytes.
                }
            }
            let value_start = value.unwrap_or(value_end);
            let key = key_start..key_end;
            let val = value_start..value_end;
            self.trace.params.push(RawParam {
                key: key.clone(),
                value: Some(val.clone()),
            });

            let key_pos: Vec<usize> = key.clone().collect();
            let keyword = self.decode(&uri[key.clone()], &key_pos, false)?;
            let secret = keyword_index(&keyword).is_some_and(|k| KEYWORDS[k].is_secret());
            let val_pos: Vec<usize> = val.clone().collect();
            let mut decoded = self.decode(&uri[val], &val_pos, secret)?;

            // Special keyword handling for improved JDBC compatibility.
            let mut name: &[u8] = &keyword;
            if name == b"ssl" && decoded == b"true" {
                name = b"sslmode";
                decoded = b"require".to_vec();
            }
            // conninfo_storeval(): requiressl=1 gets translated to
            // sslmode=require, anything else to sslmode=prefer.
            if name == b"requiressl" {
                name = b"sslmode";
                decoded = if decoded.first() == Some(&b'1') {
                    b"require".to_vec()
                } else {
                    b"prefer".to_vec()
                };
            }
            match keyword_index(name).filter(|&i| self.opts.knows(&KEYWORDS[i])) {
                Some(index) => {
                    let sensitive = self
                        .secrets
                        .touches(key_pos.iter().chain(&val_pos).copied());
                    self.info.store(index, decoded, sensitive);
                    self.trace.origins.push((index, UriSection::Query { key }));
                }
                None => {
                    let msg = format!("invalid URI query parameter: \"{}\"", lossy(&keyword));
                    let failure = UriFailure::UnknownKeyword {
                        key: key.clone(),
                        decoded: keyword.clone(),
                        value: decoded,
                    };
                    return Err(self.fail(failure, msg, Some(key.start)));
                }
            }
            // Proceed to next key=value pair, if any
            params = p;
        }
        Ok(())
    }
}

/// Parses `uri` (already truncated at any NUL) and returns the result plus
/// the structural trace.  Error messages redact the bytes in `secrets`, and
/// values built from them are marked sensitive; the caller decides which
/// bytes those are (`intent::secret_spans`).
pub(crate) fn parse(
    uri: &[u8],
    opts: ParseOptions,
    secrets: &Secrets,
) -> (Result<ConnInfo, UriError>, Trace) {
    let mut parser = Parser {
        uri,
        opts,
        secrets,
        info: ConnInfo::new(),
        trace: Trace::default(),
    };
    let result = parser.parse();
    let Parser { info, trace, .. } = parser;
    (result.map(|()| info), trace)
}
