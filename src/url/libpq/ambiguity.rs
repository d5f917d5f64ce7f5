//! Heuristics that spot places where libpq's reading of a URI probably
//! differs from what its author meant, each with a suggested rewrite.
//!
//! These are *guesses* about intent, kept separate from the exact parser:
//! they run after it, on the structural trace it records (`uri::Trace`), and
//! the parser never calls in here.  The notes they write ([`Ambiguity`]) are
//! defined in the leaf module `notes`.
//! Suggestions are minimal edits of the input (only the offending bytes are
//! changed), offered in full and with secrets replaced by `***`.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::url::libpq::codec::{encode_bytes, escape_minimal, is_bare_percent, lenient_decode};
use crate::url::libpq::conninfo::ConnInfo;
use crate::url::libpq::intent::{intended_userinfo_at, secret_spans};
use crate::url::libpq::keywords::{KEYWORDS, keyword_index};
use crate::url::libpq::notes::{Ambiguity, AmbiguityKind};
use crate::url::libpq::options::ParseOptions;
use crate::url::libpq::secrets::Secrets;
use crate::url::libpq::uri::{Trace, UriFailure, UriSection, libpq_userinfo_at};

/// A replacement of `range` in the input; `secret` replacements are shown
/// as `***` in the redacted suggestion.
struct Edit {
    range: Range<usize>,
    text: String,
    secret: bool,
}

impl Edit {
    fn new(range: Range<usize>, text: impl Into<String>, secret: bool) -> Self {
        Edit {
            range,
            text: text.into(),
            secret,
        }
    }
}

struct Ctx<'a> {
    uri: &'a [u8],
    opts: ParseOptions,
    secrets: &'a Secrets,
    out: Vec<Ambiguity>,
}

impl Ctx<'_> {
    /// Applies non-overlapping `edits` to the input (full and redacted).
    fn apply(&self, mut edits: Vec<Edit>) -> (String, String) {
        edits.sort_by_key(|e| e.range.start);
        let mut full = Vec::new();
        let mut red = String::new();
        let mut i = 0;
        for e in edits {
            if e.range.start < i || e.range.end > self.uri.len() {
                continue; // overlapping or out of range: skip defensively
            }
            full.extend_from_slice(&self.uri[i..e.range.start]);
            red.push_str(&self.secrets.redact_range(self.uri, i..e.range.start));
            full.extend_from_slice(e.text.as_bytes());
            red.push_str(if e.secret { "***" } else { &e.text });
            i = e.range.end;
        }
        full.extend_from_slice(&self.uri[i..]);
        red.push_str(&self.secrets.redact_range(self.uri, i..self.uri.len()));
        // A secret split by edits shows as one "***".
        while red.contains("******") {
            red = red.replace("******", "***");
        }
        (String::from_utf8_lossy(&full).into_owned(), red)
    }

    fn note(&mut self, kind: AmbiguityKind, message: String, position: Option<usize>) {
        self.out.push(Ambiguity {
            kind,
            message,
            position,
            suggestion: None,
            suggestion_redacted: None,
        });
    }

    fn suggest(
        &mut self,
        kind: AmbiguityKind,
        message: String,
        position: Option<usize>,
        edits: Vec<Edit>,
    ) {
        let (full, red) = self.apply(edits);
        self.out.push(Ambiguity {
            kind,
            message,
            position,
            suggestion: Some(full),
            suggestion_redacted: Some(red),
        });
    }

    fn is_secret(&self, r: &Range<usize>) -> bool {
        self.secrets.overlaps(r)
    }
}

/// Edits that percent-encode the bytes selected by `pick` inside `range`.
fn escape_edits(ctx: &Ctx<'_>, range: Range<usize>, pick: impl Fn(u8) -> bool) -> Vec<Edit> {
    let bytes = &ctx.uri[range.clone()];
    let secret = ctx.is_secret(&range);
    let text = escape_minimal(bytes, pick);
    if text.as_bytes() == bytes {
        Vec::new()
    } else {
        vec![Edit::new(range, text, secret)]
    }
}

fn userinfo_checks(ctx: &mut Ctx<'_>, s: usize) {
    let libpq = libpq_userinfo_at(ctx.uri, s);
    let intended = intended_userinfo_at(ctx.uri, s);
    let uri = ctx.uri;
    let special = |c: u8| matches!(c, b'@' | b'/' | b'?' | b'#' | b'[' | b']');
    // Edits escaping user and password (up to `at`) separately.
    let credential_edits = |ctx: &Ctx<'_>, at: usize| -> Vec<Edit> {
        let ui = &uri[s..at];
        match ui.iter().position(|&c| c == b':') {
            Some(c) => {
                let mut e = escape_edits(ctx, s..s + c, special);
                e.extend(escape_edits(ctx, s + c + 1..at, special));
                e
            }
            None => escape_edits(ctx, s..at, special),
        }
    };
    let has_password = |at: usize| uri[s..at].contains(&b':');
    let what = |at: usize| {
        if has_password(at) {
            "password"
        } else {
            "user name"
        }
    };

    match (libpq, intended) {
        (Some(a), Some(b)) if a == b => {
            let ui = &uri[s..a];
            if ui.iter().any(|&c| matches!(c, b'?' | b'#' | b'[' | b']')) {
                let edits = credential_edits(ctx, a);
                ctx.suggest(
                    AmbiguityKind::NonPortableUserInfo,
                    "the user info contains an unencoded '?', '#', '[' or ']'. libpq reads it \
                     literally (it only looks for the first '@'), but standard URI parsers \
                     (JDBC, Go, Python, Node, ...) would cut the URI there; percent-encode it"
                        .to_owned(),
                    Some(s),
                    edits,
                );
            }
        }
        (Some(a), Some(b)) => {
            let edits = credential_edits(ctx, b);
            let msg = format!(
                "the {} appears to contain an unencoded '@'. libpq ends the user info at the \
                 first '@', so it would use only the part before that '@' and take the rest \
                 (up to the real host) as the host name; percent-encode '@' as %40",
                what(b)
            );
            ctx.suggest(AmbiguityKind::AtInUserInfo, msg, Some(a), edits);
        }
        (None, Some(b)) => {
            let edits = credential_edits(ctx, b);
            let slash = uri[s..b].iter().position(|&c| c == b'/').map(|i| s + i);
            let msg = format!(
                "the {} appears to contain an unencoded '/'. libpq only looks for the '@' \
                 before the first '/', so it finds no user info and reads the credentials as \
                 host, port and database name; percent-encode '/' as %2F",
                what(b)
            );
            ctx.suggest(AmbiguityKind::SlashInUserInfo, msg, slash, edits);
        }
        (Some(a), None) => {
            if let Some(q) = uri[s..a].iter().position(|&c| c == b'?').map(|i| s + i) {
                let edits: Vec<Edit> = (q..uri.len())
                    .filter(|&i| uri[i] == b'@')
                    .map(|i| Edit::new(i..i + 1, "%40", ctx.is_secret(&(i..i + 1))))
                    .collect();
                ctx.suggest(
                    AmbiguityKind::AtAfterQuestionMark,
                    "an '@' follows the '?' (probably inside a query value). libpq's search for \
                     the user info does not stop at '?', so it takes everything before the '@' \
                     -- including the query parameters, and any password in them -- as the \
                     user name, and the rest as the host; percent-encode '@' as %40"
                        .to_owned(),
                    Some(a),
                    edits,
                );
            }
        }
        (None, None) => {}
    }
}

fn percent_check(ctx: &mut Ctx<'_>, s: usize) {
    let uri = ctx.uri;
    let bare: Vec<usize> = (s..uri.len())
        .filter(|&i| is_bare_percent(uri, i))
        .collect();
    if let Some(&first) = bare.first() {
        let edits = bare
            .iter()
            .map(|&i| Edit::new(i..i + 1, "%25", ctx.is_secret(&(i..i + 1))))
            .collect();
        ctx.suggest(
            AmbiguityKind::BarePercent,
            "a '%' is not followed by two hex digits, so libpq rejects the URI; a literal '%' \
             must be written %25"
                .to_owned(),
            Some(first),
            edits,
        );
    }
}

fn whitespace_check(ctx: &mut Ctx<'_>, s: usize) {
    let uri = ctx.uri;
    let is_ws = |c: u8| c == b' ' || c.is_ascii_control();
    let mut edits = Vec::new();
    let mut first = None;
    let mut has_space = false;
    let mut has_control = false;
    let mut i = s;
    while i < uri.len() {
        if !is_ws(uri[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < uri.len() && is_ws(uri[i]) {
            has_space |= uri[i] == b' ';
            has_control |= uri[i] != b' ';
            i += 1;
        }
        first.get_or_insert(start);
        // Spaces at the ends or around delimiters are almost certainly
        // cosmetic; anything else is presumably meant literally.
        let delim = |c: u8| b"?&=/@:,".contains(&c);
        let before = if start > s {
            Some(uri[start - 1])
        } else {
            None
        };
        let after = uri.get(i).copied();
        let text = if before.is_none_or(delim) || after.is_none_or(delim) {
            String::new()
        } else {
            encode_bytes(&uri[start..i])
        };
        edits.push(Edit::new(start..i, text, ctx.is_secret(&(start..i))));
    }
    if edits.is_empty() {
        return;
    }
    let mut msg = String::from("the URI contains ");
    msg.push_str(match (has_space, has_control) {
        (true, true) => "spaces and control characters",
        (true, false) => "spaces",
        _ => "control characters (tab, newline, ...)",
    });
    msg.push_str(". ");
    if has_space {
        msg.push_str(if ctx.opts.trims_spaces() {
            "libpq 18+ drops spaces at the start and end of each component and rejects \
             spaces inside one; "
        } else {
            "libpq before 18 keeps them as part of the value (e.g. a database name \
             \"db \"); "
        });
    }
    if has_control {
        msg.push_str("control characters are always kept as part of the value; ");
    }
    msg.push_str("write literal spaces as %20");
    ctx.suggest(AmbiguityKind::Whitespace, msg, first, edits);
}

/// `#` outside the user info.
fn hash_check(ctx: &mut Ctx<'_>, s: usize, userinfo_end: Option<usize>) {
    let uri = ctx.uri;
    let from = userinfo_end.map_or(s, |a| a + 1);
    let hashes: Vec<usize> = (from..uri.len()).filter(|&i| uri[i] == b'#').collect();
    if let Some(&first) = hashes.first() {
        let edits = hashes
            .iter()
            .map(|&i| Edit::new(i..i + 1, "%23", ctx.is_secret(&(i..i + 1))))
            .collect();
        ctx.suggest(
            AmbiguityKind::HashIsLiteral,
            "libpq has no URI fragments: '#' and what follows it are part of the host, \
             database name or parameter value; other URI parsers would drop them. Encode '#' \
             as %23 to keep libpq's meaning portably (or remove the '#...' if it was not \
             meant to be part of the value)"
                .to_owned(),
            Some(first),
            edits,
        );
    }
}

fn plus_check(ctx: &mut Ctx<'_>, trace: &Trace) {
    let uri = ctx.uri;
    let mut edits = Vec::new();
    let mut first = None;
    for p in &trace.params {
        let Some(v) = &p.value else { continue };
        let key = lenient_decode(&uri[p.key.clone()]);
        let key = key.trim_ascii();
        if !matches!(
            key,
            b"options" | b"application_name" | b"fallback_application_name"
        ) {
            continue;
        }
        for i in v.clone().filter(|&i| uri[i] == b'+') {
            first.get_or_insert(i);
            edits.push(Edit::new(i..i + 1, "%20", false));
        }
    }
    if !edits.is_empty() {
        ctx.suggest(
            AmbiguityKind::PlusIsLiteral,
            "libpq does not decode '+' as a space (that is HTML form encoding); a '+' in \
             options or application_name stays a literal '+'. Write spaces as %20"
                .to_owned(),
            first,
            edits,
        );
    }
}

/// Case-insensitive edit distance (small strings only).
pub(crate) fn distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(!ca.eq_ignore_ascii_case(&cb));
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Common spellings from other drivers (JDBC, SQLAlchemy, ...).
const ALIASES: &[(&str, &str)] = &[
    ("database", "dbname"),
    ("db", "dbname"),
    ("username", "user"),
    ("pass", "password"),
    ("passwd", "password"),
    ("pwd", "password"),
    ("timeout", "connect_timeout"),
    ("connecttimeout", "connect_timeout"),
    ("connection_timeout", "connect_timeout"),
    ("logintimeout", "connect_timeout"),
    ("applicationname", "application_name"),
    ("appname", "application_name"),
    ("sslrootcertificate", "sslrootcert"),
    ("sslca", "sslrootcert"),
    ("ssl_ca", "sslrootcert"),
    ("ssl_cert", "sslcert"),
    ("ssl_key", "sslkey"),
    ("ssl_mode", "sslmode"),
    ("targetservertype", "target_session_attrs"),
    ("loadbalancehosts", "load_balance_hosts"),
];

fn suggest_keyword(name: &[u8], opts: ParseOptions) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if let Some((_, to)) = ALIASES
        .iter()
        .find(|(from, _)| from.as_bytes() == lower.as_slice())
    {
        return Some(to);
    }
    KEYWORDS
        .iter()
        .filter(|k| opts.knows(k))
        .map(|k| (distance(name, k.name.as_bytes()), k.name))
        .filter(|&(d, k)| d <= 2 && d < k.len())
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

fn failure_checks(ctx: &mut Ctx<'_>, trace: &Trace) {
    let uri = ctx.uri;
    match &trace.failure {
        Some(UriFailure::UnknownKeyword {
            key,
            decoded,
            value,
        }) => {
            let name = String::from_utf8_lossy(decoded).into_owned();
            let param_end = trace
                .params
                .last()
                .and_then(|p| p.value.clone())
                .map_or(key.end, |v| v.end);
            if decoded.as_slice() == b"ssl" {
                let v = value.to_ascii_lowercase();
                let mode = if matches!(v.as_slice(), b"false" | b"0" | b"off" | b"no" | b"disable")
                {
                    "disable"
                } else {
                    "require"
                };
                ctx.suggest(
                    AmbiguityKind::SslParameter,
                    format!(
                        "libpq only accepts ssl=true (exactly, as a JDBC compatibility alias \
                         for sslmode=require); use sslmode={mode} instead"
                    ),
                    Some(key.start),
                    vec![Edit::new(
                        key.start..param_end,
                        format!("sslmode={mode}"),
                        false,
                    )],
                );
            } else if let Some(k) = keyword_index(decoded).map(|i| &KEYWORDS[i]) {
                ctx.note(
                    AmbiguityKind::NeedsNewerLibpq,
                    format!(
                        "\"{}\" is a libpq {}+ parameter; libpq {} rejects it",
                        k.name, k.since, ctx.opts.libpq_major
                    ),
                    Some(key.start),
                );
            } else if matches!(
                decoded.to_ascii_lowercase().as_slice(),
                b"currentschema" | b"search_path" | b"schema"
            ) {
                let mut opt = b"-c search_path=".to_vec();
                opt.extend_from_slice(value);
                ctx.suggest(
                    AmbiguityKind::UnknownParameter,
                    format!(
                        "libpq has no \"{name}\" parameter; a schema search path is set through \
                         options=-c search_path=..."
                    ),
                    Some(key.start),
                    vec![Edit::new(
                        key.start..param_end,
                        format!("options={}", encode_bytes(&opt)),
                        false,
                    )],
                );
            } else if let Some(k) = suggest_keyword(decoded, ctx.opts) {
                ctx.suggest(
                    AmbiguityKind::UnknownParameter,
                    format!("libpq has no \"{name}\" parameter; did you mean \"{k}\"?"),
                    Some(key.start),
                    vec![Edit::new(key.clone(), k, false)],
                );
            } else {
                ctx.note(
                    AmbiguityKind::UnknownParameter,
                    format!("libpq has no \"{name}\" parameter"),
                    Some(key.start),
                );
            }
        }
        Some(UriFailure::ExtraSeparator { param, second_eq }) => {
            let first_eq = uri[param.clone()]
                .iter()
                .position(|&b| b == b'=')
                .map_or(param.start, |i| param.start + i);
            let question = (first_eq..*second_eq).find(|&i| uri[i] == b'?');
            if let Some(q) = question {
                ctx.suggest(
                    AmbiguityKind::ExtraEquals,
                    "a second '?' starts what looks like another parameter; parameters are \
                     separated by '&'"
                        .to_owned(),
                    Some(q),
                    vec![Edit::new(q..q + 1, "&", false)],
                );
            } else {
                let edits = (first_eq + 1..param.end)
                    .filter(|&i| uri[i] == b'=')
                    .map(|i| Edit::new(i..i + 1, "%3D", ctx.is_secret(&(i..i + 1))))
                    .collect();
                ctx.suggest(
                    AmbiguityKind::ExtraEquals,
                    "a parameter value contains '='; libpq requires it to be percent-encoded \
                     as %3D"
                        .to_owned(),
                    Some(*second_eq),
                    edits,
                );
            }
        }
        _ => {}
    }
}

fn origin_checks(ctx: &mut Ctx<'_>, trace: &Trace) {
    let uri = ctx.uri;
    let mut by_kw: BTreeMap<usize, Vec<&UriSection>> = BTreeMap::new();
    for (k, o) in &trace.origins {
        by_kw.entry(*k).or_default().push(o);
    }
    for (k, origins) in by_kw {
        if origins.len() < 2 {
            continue;
        }
        let name = KEYWORDS[k].name;
        let last_key = origins.iter().rev().find_map(|o| match o {
            UriSection::Query { key } => Some(key.clone()),
            _ => None,
        });
        let position = last_key.as_ref().map(|r| r.start);
        let from_uri = origins.iter().find_map(|o| match o {
            UriSection::UserInfo => Some("user info"),
            UriSection::Authority => Some("host part"),
            UriSection::Path => Some("path"),
            UriSection::Query { .. } => None,
        });
        if let Some(part) = from_uri {
            ctx.note(
                AmbiguityKind::QueryOverridesUri,
                format!(
                    "the query parameter for \"{name}\" overrides the value given in the {part}"
                ),
                position,
            );
        }
        let queries: Vec<String> = origins
            .iter()
            .filter_map(|o| match o {
                UriSection::Query { key } => {
                    Some(String::from_utf8_lossy(&lenient_decode(&uri[key.clone()])).into_owned())
                }
                _ => None,
            })
            .collect();
        if queries.len() > 1 {
            ctx.note(
                AmbiguityKind::RepeatedParameter,
                format!(
                    "\"{name}\" is set {} times in the query ({}); libpq keeps the last value",
                    queries.len(),
                    queries.join(", ")
                ),
                position,
            );
        }
    }
}

fn host_checks(ctx: &mut Ctx<'_>, trace: &Trace, info: Option<&ConnInfo>) {
    if let Some(auth) = &trace.authority {
        let raw = &ctx.uri[auth.clone()];
        if let Some(i) = raw.windows(3).position(|w| w.eq_ignore_ascii_case(b"%2C")) {
            ctx.note(
                AmbiguityKind::EncodedCommaInHost,
                "'%2C' in the host part decodes to ',', which libpq then treats as a separator \
                 between hosts"
                    .to_owned(),
                Some(auth.start + i),
            );
        }
    }
    if let Some(message) = info.and_then(list_mismatch) {
        ctx.note(
            AmbiguityKind::HostListMismatch,
            format!("libpq will refuse to connect: {message}"),
            trace.authority.as_ref().map(|a| a.start),
        );
    }
}

/// Host, hostaddr and port lists of the string itself that `connectOptions2()` cannot line up
/// (the full layout, with the PG* environment, is `conn::target::endpoints`).
fn list_mismatch(info: &ConnInfo) -> Option<String> {
    let count = |keyword: &str| {
        info.get_bytes(keyword)
            .filter(|v| !v.is_empty())
            .map(|v| v.iter().filter(|&&b| b == b',').count() + 1)
    };
    let hosts = count("hostaddr").or(count("host")).unwrap_or(1);
    match (count("host"), count("port")) {
        (Some(names), _) if names != hosts => Some(format!(
            "could not match {names} host names to {hosts} hostaddr values"
        )),
        (_, Some(ports)) if ports != 1 && ports != hosts => Some(format!(
            "could not match {ports} port numbers to {hosts} hosts"
        )),
        _ => None,
    }
}

/// Notes for a string whose scheme libpq does not recognise.
pub(crate) fn scheme_check(uri: &[u8]) -> Vec<Ambiguity> {
    let trimmed_start = uri
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(uri.len());
    let lower = uri[trimmed_start..].to_ascii_lowercase();
    let candidates: [(&[u8], &str); 9] = [
        (b"jdbc:postgresql://", "postgresql://"),
        (b"postgresql://", "postgresql://"),
        (b"postgres://", "postgres://"),
        (b"postgresql:/", "postgresql://"),
        (b"postgres:/", "postgres://"),
        (b"postgresql:", "postgresql://"),
        (b"postgres:", "postgres://"),
        (b"postgre://", "postgresql://"),
        (b"pgsql://", "postgresql://"),
    ];
    let Some((from, to)) = candidates
        .into_iter()
        .find(|(from, _)| lower.starts_with(from))
    else {
        return Vec::new();
    };
    let end = trimmed_start + from.len();
    // Redact relative to where the user info would start.
    let secrets = secret_spans(uri, end);
    let mut ctx = Ctx {
        uri,
        opts: ParseOptions::default(),
        secrets: &secrets,
        out: Vec::new(),
    };
    let msg = if trimmed_start > 0 {
        "libpq only recognises a URI that starts exactly with \"postgresql://\" or \
         \"postgres://\" (no leading whitespace)"
    } else if from.starts_with(b"jdbc:") {
        "\"jdbc:postgresql://\" is a JDBC URL; libpq needs \"postgresql://\" (and does \
         not understand JDBC-only parameters)"
    } else {
        "libpq only recognises the exact, lower-case schemes \"postgresql://\" and \
         \"postgres://\""
    };
    let mut edits = vec![Edit::new(0..end, to, false)];
    let tail = uri[trimmed_start..]
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(uri.len(), |p| trimmed_start + p + 1);
    if tail < uri.len() {
        edits.push(Edit::new(tail..uri.len(), "", false));
    }
    ctx.suggest(
        AmbiguityKind::Scheme,
        msg.to_owned(),
        Some(trimmed_start),
        edits,
    );
    ctx.out
}

/// Runs every heuristic over a parsed (or failed) URI.
pub(crate) fn analyze(
    uri: &[u8],
    opts: ParseOptions,
    trace: &Trace,
    secrets: &Secrets,
    info: Option<&ConnInfo>,
) -> Vec<Ambiguity> {
    if trace.prefix_len == 0 {
        return scheme_check(uri);
    }
    let s = trace.prefix_len;
    let mut ctx = Ctx {
        uri,
        opts,
        secrets,
        out: Vec::new(),
    };
    userinfo_checks(&mut ctx, s);
    percent_check(&mut ctx, s);
    whitespace_check(&mut ctx, s);
    let userinfo_end = intended_userinfo_at(uri, s).max(trace.userinfo_at);
    hash_check(&mut ctx, s, userinfo_end);
    plus_check(&mut ctx, trace);
    failure_checks(&mut ctx, trace);
    origin_checks(&mut ctx, trace);
    host_checks(&mut ctx, trace, info);
    ctx.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance(b"uzer", b"user"), 1);
        assert_eq!(distance(b"SSLMODE", b"sslmode"), 0);
        assert_eq!(
            suggest_keyword(b"uzer", ParseOptions::default()),
            Some("user")
        );
        assert_eq!(
            suggest_keyword(b"database", ParseOptions::default()),
            Some("dbname")
        );
        assert_eq!(suggest_keyword(b"zzzzzz", ParseOptions::default()), None);
    }
}
