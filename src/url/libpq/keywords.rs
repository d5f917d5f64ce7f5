//! The libpq connection keyword table (`PQconninfoOptions[]` in
//! `src/interfaces/libpq/fe-connect.c`, PostgreSQL 18).
//!
//! Order matters: `PQconninfoParse()` returns options in table order, and so
//! does [`crate::url::libpq::ConnInfo`].
//!
//! `default` is the table's *compiled-in* fallback (the `compiled` column),
//! for a build with SSL and GSSAPI enabled (`USE_SSL`, `ENABLE_GSS`), which is
//! what distribution packages ship.  Without SSL, `channel_binding` and
//! `sslmode` default to `"disable"`; without GSSAPI, `gssencmode` does.
//! `port`'s default is `DEF_PGPORT_STR` (5432 unless configured otherwise),
//! `krbsrvname`'s is `PG_KRB_SRVNAM` ("postgres").
//!
//! `since` is the first major release whose libpq accepts the keyword.
//! Keywords that already existed in 9.2 (the first release with URI support)
//! are marked `9`.

/// How libpq's connection dialog should display a keyword (`dispchar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum DispChar {
    /// `""`: ordinary field.
    Normal,
    /// `"*"`: password field, hide the value.
    Password,
    /// `"D"`: debug option, not shown by default.
    Debug,
}

/// One connection keyword of libpq's `PQconninfoOptions[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Keyword {
    /// Keyword as written in connection strings and URI query parameters.
    pub name: &'static str,
    /// Fallback environment variable, if any.
    pub envvar: Option<&'static str>,
    /// Compiled-in default (SSL + GSSAPI build), if any.
    pub default: Option<&'static str>,
    /// libpq's dialog label.
    pub(crate) label: &'static str,
    /// libpq's display hint.
    pub(crate) dispchar: DispChar,
    /// First PostgreSQL major version whose libpq knows the keyword
    /// (`9` = already present in 9.2).
    pub since: u32,
}

impl Keyword {
    /// Whether values of this keyword are credentials that must never be
    /// echoed: libpq's `"*"` fields plus the SCRAM key pass-through options.
    pub fn is_secret(&self) -> bool {
        self.dispchar == DispChar::Password
            || self.name == "scram_client_key"
            || self.name == "scram_server_key"
    }
}

const fn kw(
    name: &'static str,
    envvar: Option<&'static str>,
    default: Option<&'static str>,
    label: &'static str,
    dispchar: DispChar,
    since: u32,
) -> Keyword {
    Keyword {
        name,
        envvar,
        default,
        label,
        dispchar,
        since,
    }
}

use DispChar::{Debug as D, Normal as N, Password as P};

/// Every connection keyword of PostgreSQL 18's libpq, in `PQconninfoOptions[]`
/// order.
#[rustfmt::skip]
pub const KEYWORDS: &[Keyword] = &[
    kw("service", Some("PGSERVICE"), None, "Database-Service", N, 9),
    kw("user", Some("PGUSER"), None, "Database-User", N, 9),
    kw("password", Some("PGPASSWORD"), None, "Database-Password", P, 9),
    kw("passfile", Some("PGPASSFILE"), None, "Database-Password-File", N, 10),
    kw("channel_binding", Some("PGCHANNELBINDING"), Some("prefer"), "Channel-Binding", N, 13),
    kw("connect_timeout", Some("PGCONNECT_TIMEOUT"), None, "Connect-timeout", N, 9),
    kw("dbname", Some("PGDATABASE"), None, "Database-Name", N, 9),
    kw("host", Some("PGHOST"), None, "Database-Host", N, 9),
    kw("hostaddr", Some("PGHOSTADDR"), None, "Database-Host-IP-Address", N, 9),
    kw("port", Some("PGPORT"), Some("5432"), "Database-Port", N, 9),
    kw("client_encoding", Some("PGCLIENTENCODING"), None, "Client-Encoding", N, 9),
    kw("options", Some("PGOPTIONS"), Some(""), "Backend-Options", N, 9),
    kw("application_name", Some("PGAPPNAME"), None, "Application-Name", N, 9),
    kw("fallback_application_name", None, None, "Fallback-Application-Name", N, 9),
    kw("keepalives", None, None, "TCP-Keepalives", N, 9),
    kw("keepalives_idle", None, None, "TCP-Keepalives-Idle", N, 9),
    kw("keepalives_interval", None, None, "TCP-Keepalives-Interval", N, 9),
    kw("keepalives_count", None, None, "TCP-Keepalives-Count", N, 9),
    kw("tcp_user_timeout", None, None, "TCP-User-Timeout", N, 12),
    kw("sslmode", Some("PGSSLMODE"), Some("prefer"), "SSL-Mode", N, 9),
    kw("sslnegotiation", Some("PGSSLNEGOTIATION"), Some("postgres"), "SSL-Negotiation", N, 17),
    kw("sslcompression", Some("PGSSLCOMPRESSION"), Some("0"), "SSL-Compression", N, 9),
    kw("sslcert", Some("PGSSLCERT"), None, "SSL-Client-Cert", N, 9),
    kw("sslkey", Some("PGSSLKEY"), None, "SSL-Client-Key", N, 9),
    kw("sslcertmode", Some("PGSSLCERTMODE"), None, "SSL-Client-Cert-Mode", N, 16),
    kw("sslpassword", None, None, "SSL-Client-Key-Password", P, 13),
    kw("sslrootcert", Some("PGSSLROOTCERT"), None, "SSL-Root-Certificate", N, 9),
    kw("sslcrl", Some("PGSSLCRL"), None, "SSL-Revocation-List", N, 9),
    kw("sslcrldir", Some("PGSSLCRLDIR"), None, "SSL-Revocation-List-Dir", N, 14),
    kw("sslsni", Some("PGSSLSNI"), Some("1"), "SSL-SNI", N, 14),
    kw("requirepeer", Some("PGREQUIREPEER"), None, "Require-Peer", N, 9),
    kw("require_auth", Some("PGREQUIREAUTH"), None, "Require-Auth", N, 16),
    kw("min_protocol_version", Some("PGMINPROTOCOLVERSION"), None, "Min-Protocol-Version", N, 18),
    kw("max_protocol_version", Some("PGMAXPROTOCOLVERSION"), None, "Max-Protocol-Version", N, 18),
    kw("ssl_min_protocol_version", Some("PGSSLMINPROTOCOLVERSION"), Some("TLSv1.2"), "SSL-Minimum-Protocol-Version", N, 13),
    kw("ssl_max_protocol_version", Some("PGSSLMAXPROTOCOLVERSION"), None, "SSL-Maximum-Protocol-Version", N, 13),
    kw("gssencmode", Some("PGGSSENCMODE"), Some("prefer"), "GSSENC-Mode", N, 12),
    kw("krbsrvname", Some("PGKRBSRVNAME"), Some("postgres"), "Kerberos-service-name", N, 9),
    kw("gsslib", Some("PGGSSLIB"), None, "GSS-library", N, 9),
    kw("gssdelegation", Some("PGGSSDELEGATION"), Some("0"), "GSS-delegation", N, 16),
    kw("replication", None, None, "Replication", D, 9),
    kw("target_session_attrs", Some("PGTARGETSESSIONATTRS"), Some("any"), "Target-Session-Attrs", N, 10),
    kw("load_balance_hosts", Some("PGLOADBALANCEHOSTS"), Some("disable"), "Load-Balance-Hosts", N, 16),
    kw("scram_client_key", None, None, "SCRAM-Client-Key", D, 18),
    kw("scram_server_key", None, None, "SCRAM-Server-Key", D, 18),
    kw("oauth_issuer", None, None, "OAuth-Issuer", N, 18),
    kw("oauth_client_id", None, None, "OAuth-Client-ID", N, 18),
    kw("oauth_client_secret", None, None, "OAuth-Client-Secret", P, 18),
    kw("oauth_scope", None, None, "OAuth-Scope", N, 18),
    kw("sslkeylogfile", None, None, "SSL-Key-Log-File", D, 18),
];

/// Index of `name` in [`KEYWORDS`] (exact, case-sensitive match, like
/// libpq's `conninfo_find`), regardless of version.
pub(super) fn keyword_index(name: &[u8]) -> Option<usize> {
    KEYWORDS.iter().position(|k| k.name.as_bytes() == name)
}

/// Looks up a keyword by name (exact match).
pub fn keyword(name: &str) -> Option<&'static Keyword> {
    keyword_index(name.as_bytes()).map(|i| &KEYWORDS[i])
}
