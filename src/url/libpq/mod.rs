//! Parse PostgreSQL connection URIs exactly as libpq does.
//!
//! A dependency-free port of libpq's URI parser (`fe-connect.c`:
//! `conninfo_uri_parse()`, `conninfo_uri_parse_options()`,
//! `conninfo_uri_parse_params()`, `conninfo_uri_decode()`,
//! `conninfo_storeval()`, and the `PQconninfoOptions[]` keyword table), as of
//! PostgreSQL 18.  [`parse_uri`] returns exactly the keyword/value pairs
//! `PQconninfoParse()` would set, or libpq's error message.
//!
//! # libpq's rules, in short
//!
//! * Only the exact, case-sensitive prefixes `postgresql://` and
//!   `postgres://` make a URI (`uri_prefix_length()`).
//! * User info: libpq scans for the first `@`, stopping only at `/`
//!   (not at `?` or `#`).  If found, the user name runs to the first `:` or
//!   that `@`, the password from the `:` to that *first* `@`.  So an
//!   unencoded `@` in a password splits it, and a `/` in a password hides
//!   the user info completely (see [`AmbiguityKind`]).
//! * Hosts: `host[:port]` entries separated by `,`; `[...]` for IPv6, which
//!   must be followed by `:`, `/`, `?`, `,` or the end.  A host runs to `:`,
//!   `/`, `?` or `,`; a port to `/`, `?` or `,`.  All host texts are joined
//!   with `,` (likewise the ports, so two port-less hosts give `port=","`)
//!   and percent-decoded *as a whole*.  An empty joined string sets nothing.
//! * Path: everything after the `/` up to `?` is the database name; an empty
//!   one sets nothing.  `#` is not special anywhere.
//! * Query: `key=value` pairs separated by `&`; both sides percent-decoded;
//!   a missing or second `=` is an error; `ssl=true` means
//!   `sslmode=require`; `requiressl=<v>` means `sslmode=require` if `<v>`
//!   starts with `1`, else `sslmode=prefer`; unknown keys are an error
//!   (`invalid URI query parameter`); later values override earlier ones
//!   and the URI parts.
//! * Decoding: `%xx` (either case) only; `%00` and malformed escapes are
//!   errors; `+` is *not* a space.  From libpq 18 on, raw spaces at the
//!   start or end of a component are dropped and any other raw space is an
//!   error; older versions keep spaces verbatim.
//! * A user, password, host, port or database whose *raw* text is empty is
//!   not set at all (`postgresql://@/` sets nothing); a raw text that
//!   decodes to nothing (libpq 18: only spaces) is set to the empty string.
//!
//! # Deviations from libpq
//!
//! * Error messages never contain secrets: where libpq quotes the whole URI,
//!   or a component holding a password, the secret is replaced by `***`
//!   (see [`UriError`]).  Messages also lack libpq's trailing newline.
//! * Input is cut at the first NUL byte, as a C string would be.
//!
//! # Layout
//!
//! The exact parser (`uri`, `kv`, over `codec`, `keywords`, `conninfo` and
//! `error`) never consults the heuristics.  [`parse_uri_bytes`] decides which
//! bytes are secret (`intent`), runs the parser, then the ambiguity checks
//! (`ambiguity`, which read the parser's trace), and attaches their notes to
//! the result.  `secrets`, `notes` and `options` are leaf vocabulary shared by both
//! sides; `options` reads `keywords`, the others import nothing from their siblings.
//!
//! # Example
//!
//! ```
//! let info = dbtool::url::libpq::parse_uri("postgresql://alice@db1:5433,db2/app?sslmode=require").unwrap();
//! assert_eq!(info.get("host").as_deref(), Some("db1,db2"));
//! assert_eq!(info.get("port").as_deref(), Some("5433,"));
//! assert_eq!(info.get("dbname").as_deref(), Some("app"));
//!
//! let err = dbtool::url::libpq::parse_uri("postgresql://bob:s3cret@[::1").unwrap_err();
//! assert_eq!(
//!     err.message,
//!     "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \
//!      \"postgresql://bob:***@[::1\""
//! );
//! ```

mod ambiguity;
mod codec;
mod conninfo;
mod error;
mod intent;
mod keywords;
mod kv;
mod notes;
mod options;
mod secrets;
mod uri;

pub(crate) use ambiguity::distance;
pub(crate) use codec::encode_component;
pub use conninfo::{ConnInfo, render_uri};
pub use error::UriError;
pub use keywords::{KEYWORDS, keyword};
pub use notes::{Ambiguity, AmbiguityKind};
pub use options::ParseOptions;

/// The input as libpq sees it: a C string ends at the first NUL.
fn c_string(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// Parses a connection URI as libpq 18's `PQconninfoParse()` would.
///
/// The result also carries [`ConnInfo::ambiguities`]; the error carries
/// [`UriError::ambiguities`].  A string without a URI prefix is rejected with
/// libpq's internal message `invalid URI propagated to internal parser
/// routine` (use [`parse_conninfo`] to accept keyword/value strings too).
pub fn parse_uri(uri: &str) -> Result<ConnInfo, UriError> {
    parse_uri_bytes(uri.as_bytes(), ParseOptions::default())
}

/// [`parse_uri`] for a specific libpq version.
pub fn parse_uri_with(uri: &str, opts: ParseOptions) -> Result<ConnInfo, UriError> {
    parse_uri_bytes(uri.as_bytes(), opts)
}

/// [`parse_uri`] on raw bytes (libpq accepts any bytes).
pub fn parse_uri_bytes(uri: &[u8], opts: ParseOptions) -> Result<ConnInfo, UriError> {
    let uri = c_string(uri);
    let secrets = intent::secret_spans(uri, uri::uri_prefix_length(uri));
    let (result, trace) = uri::parse(uri, opts, &secrets);
    match result {
        Ok(mut info) => {
            info.ambiguities = ambiguity::analyze(uri, opts, &trace, &secrets, Some(&info));
            Ok(info)
        }
        Err(mut err) => {
            err.ambiguities = ambiguity::analyze(uri, opts, &trace, &secrets, None);
            Err(err)
        }
    }
}

/// Parses any libpq connection string like `PQconninfoParse()`: URIs as in
/// [`parse_uri`], everything else as `keyword=value` pairs
/// (`conninfo_parse()`).
pub fn parse_conninfo(s: &str) -> Result<ConnInfo, UriError> {
    parse_conninfo_bytes(s.as_bytes(), ParseOptions::default())
}

/// [`parse_conninfo`] for a specific libpq version.
pub fn parse_conninfo_with(s: &str, opts: ParseOptions) -> Result<ConnInfo, UriError> {
    parse_conninfo_bytes(s.as_bytes(), opts)
}

/// [`parse_conninfo`] on raw bytes.
pub fn parse_conninfo_bytes(s: &[u8], opts: ParseOptions) -> Result<ConnInfo, UriError> {
    let s = c_string(s);
    if uri::uri_prefix_length(s) != 0 {
        return parse_uri_bytes(s, opts);
    }
    kv::parse(s, opts).map_err(|mut err| {
        if s.windows(2).any(|w| w == b":/") {
            err.ambiguities = ambiguity::scheme_check(s);
        }
        err
    })
}
