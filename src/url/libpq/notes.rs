//! [`Ambiguity`] and [`AmbiguityKind`]: the notes attached to a parse result
//! ([`crate::url::libpq::ConnInfo::ambiguities`], [`crate::url::libpq::UriError::ambiguities`]).
//!
//! Only the vocabulary lives here, so that the result types can carry the
//! notes without depending on the heuristics that write them (`ambiguity`).

/// What kind of trap an [`Ambiguity`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AmbiguityKind {
    /// An unencoded `@` in the user name or password: libpq ends the user
    /// info at the *first* `@`, the rest becomes part of the host name.
    AtInUserInfo,
    /// A `/` in the user name or password: libpq's search for `@` stops at
    /// the first `/`, so the credentials are read as host, port and database.
    SlashInUserInfo,
    /// An `@` after a `?` (typically in a query value) with no user info
    /// before it: libpq's search for `@` does not stop at `?`, so everything
    /// up to the `@` becomes the user name.
    AtAfterQuestionMark,
    /// `?`, `#`, `[` or `]` in the user info: libpq reads it literally, but
    /// RFC 3986 parsers (JDBC, Go, Python, Node...) would not.
    NonPortableUserInfo,
    /// `#` outside the user info: libpq has no fragments, so `#...` is part
    /// of the value.
    HashIsLiteral,
    /// A `%` not followed by two hex digits (libpq rejects the URI).
    BarePercent,
    /// Raw spaces or control characters (trimmed, rejected, or kept
    /// literally, depending on the libpq version and position).
    Whitespace,
    /// `+` in a query value is a literal plus, not a space.
    PlusIsLiteral,
    /// Unknown query parameter; the suggestion names the likely keyword.
    UnknownParameter,
    /// A parameter that the target libpq version does not know yet.
    NeedsNewerLibpq,
    /// `ssl=` with a value other than `true` (only `ssl=true` is accepted).
    SslParameter,
    /// A second `=` in a query parameter.
    ExtraEquals,
    /// The same keyword is given more than once; the last value wins.
    RepeatedParameter,
    /// A query parameter overrides user info, host, port or database.
    QueryOverridesUri,
    /// `%2C` in the host part decodes to `,`, which separates hosts.
    EncodedCommaInHost,
    /// Host, hostaddr and port lists cannot be matched (libpq fails when
    /// connecting).
    HostListMismatch,
    /// The scheme is not exactly `postgresql://` or `postgres://`.
    Scheme,
}

/// A place where libpq's reading likely differs from the author's intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguity {
    /// Category.
    pub kind: AmbiguityKind,
    /// Human-readable explanation; never contains secret values.
    pub message: String,
    /// 0-based byte offset in the input, when meaningful.
    pub(crate) position: Option<usize>,
    /// A rewritten connection string meaning what the author most likely
    /// meant.  Contains the password (encoded) if the input did.
    pub suggestion: Option<String>,
    /// `suggestion` with secrets replaced by `***`, safe to display.
    pub suggestion_redacted: Option<String>,
}
