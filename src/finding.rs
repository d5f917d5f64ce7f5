//! The vocabulary every check reports in: a [`Finding`] is a registered [`Code`] and a message
//! that says what to do about this case; [`REGISTRY`] gives each code its [`Level`], a one-line
//! summary and the usual fix.
//!
//! A code exists only here: checks name a [`Code`] variant, so none can be emitted unregistered,
//! and its text, level and explanation cannot drift apart between the subcommands that share it
//! (`asyncpg-tls-differs` comes from check-url and ping, the pooler's codes from ping and
//! pool-bench). The code strings are what users see and match on (JSON, SARIF, baselines in
//! scripts): they never change. `tests/it/findings.rs` checks that every code is emitted somewhere.
//!
//! A leaf: it uses nothing else in the crate, so every checking module can sit above it.

use std::fmt;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Warning,
    Error,
}

impl Level {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One thing that will go wrong or should be looked at; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) code: Code,
    pub(crate) message: String,
}

impl Finding {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Finding {
        Finding {
            code,
            message: message.into(),
        }
    }

    /// The level its code is registered with.
    pub(crate) fn level(&self) -> Level {
        self.code.level()
    }
}

/// What the registry says about one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FindingKind {
    /// Stable identifier as users see it: kebab-case (`asyncpg-sslmode`), or `naming/…` for
    /// lint-constraints' rules.
    pub(crate) code: &'static str,
    pub(crate) level: Level,
    /// What it means, in one line.
    pub(crate) summary: &'static str,
    /// How to fix it, in one line; the message of each finding is specific to its case.
    pub(crate) fix: &'static str,
}

impl Code {
    /// Its entry in [`REGISTRY`].
    pub(crate) fn kind(self) -> &'static FindingKind {
        &REGISTRY[self as usize]
    }

    /// The code as users see it: `asyncpg-sslmode`.
    pub fn as_str(self) -> &'static str {
        self.kind().code
    }

    pub(crate) fn level(self) -> Level {
        self.kind().level
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares [`Code`] (one variant per entry), [`Code::ALL`] and [`REGISTRY`] (one
/// [`FindingKind`] per entry, in the same order, so `REGISTRY[code as usize]` is its entry)
/// from one list, so no code can have a variant without an entry or the other way round.
macro_rules! registry {
    ($($variant:ident: $code:literal, $level:ident, $summary:literal, $fix:literal;)*) => {
        /// A registered finding code; [`Code::kind`] gives its [`FindingKind`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the registry's order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
        }

        /// Every finding code dbtool reports, in [`Code`]'s order.
        pub(crate) static REGISTRY: &[FindingKind] = &[$(
            FindingKind {
                code: $code,
                level: Level::$level,
                summary: $summary,
                fix: $fix,
            },
        )*];
    };
}

registry! {
    // check-url: how libpq reads the URL (`url::libpq`'s ambiguities).
    AmbiguousAtInUserInfo: "ambiguous-at-in-userinfo", Error,
        "An unencoded @ in the user name or password: libpq ends the user info at the first @ and reads the rest as the host",
        "percent-encode @ as %40 in the user name and password";
    AmbiguousSlashInUserInfo: "ambiguous-slash-in-userinfo", Error,
        "A / in the user name or password: libpq looks for the @ only up to the first /, so the credentials become host, port and database",
        "percent-encode / as %2F in the user name and password";
    AmbiguousAtAfterQuestionMark: "ambiguous-at-after-question-mark", Error,
        "An @ after the ? with no user info before it: libpq reads everything up to the @ as the user name",
        "percent-encode @ as %40 in query values";
    NonPortableUserInfo: "non-portable-userinfo", Warning,
        "A ?, #, [ or ] in the user info: libpq reads it literally, but RFC 3986 parsers (JDBC, Go, Python, Node) cut the URL there",
        "percent-encode it in the user name and password";
    HashIsLiteral: "hash-is-literal", Warning,
        "A # outside the user info: libpq has no fragments, so the # and what follows are part of the value",
        "percent-encode # as %23, or remove what follows it";
    BarePercent: "bare-percent", Error,
        "A % not followed by two hex digits, so libpq rejects the URL",
        "write a literal % as %25";
    Whitespace: "whitespace", Warning,
        "Spaces or control characters in the URL, which libpq trims, rejects or keeps depending on its version and where they are",
        "remove them, or write a space as %20";
    PlusIsLiteral: "plus-is-literal", Warning,
        "A + in a query value is a literal plus to libpq, not a space",
        "write a space as %20";
    UnknownParameter: "unknown-parameter", Error,
        "A query parameter libpq does not know, so libpq rejects the URL",
        "use the keyword the message suggests, or pass the driver's own option through connect_args";
    NeedsNewerLibpq: "needs-newer-libpq", Warning,
        "A parameter the chosen libpq version does not know yet, so that libpq rejects the URL",
        "use a libpq new enough for it, or leave the parameter out";
    SslParameter: "ssl-parameter", Error,
        "An ssl= other than ssl=true, which is all libpq accepts",
        "write sslmode=require (or sslmode=disable) instead";
    ExtraEquals: "extra-equals", Error,
        "A second = in a query parameter, or a second ? starting another parameter",
        "percent-encode = in a value as %3D, and separate parameters with &";
    RepeatedParameter: "repeated-parameter", Warning,
        "The same keyword is given more than once; libpq keeps the last value",
        "give each keyword once";
    QueryOverridesUri: "query-overrides-uri", Warning,
        "A query parameter overrides the user, host, port or database written before the ?",
        "give each value in one place";
    EncodedCommaInHost: "encoded-comma-in-host", Error,
        "A %2C in the host part decodes to a comma, which libpq then reads as a separator between hosts",
        "remove the %2C, or list several hosts with plain commas";
    HostPortMismatch: "host-port-mismatch", Error,
        "The host, hostaddr and port lists cannot be lined up, so libpq fails to connect",
        "give one port for all hosts or one per host";
    Scheme: "scheme", Error,
        "A scheme libpq does not read: only postgresql:// and postgres://, exactly",
        "write postgresql:// (postgresql+DRIVER:// for SQLAlchemy)";
    // check-url: the application's reading (SQLAlchemy, the dialect, the driver).
    PostgresScheme: "postgres-scheme", Error,
        "The postgres:// scheme, which SQLAlchemy 1.4 and later reject (NoSuchModuleError)",
        "write postgresql:// instead";
    SqlalchemyMultiHost: "sqlalchemy-multi-host", Error,
        "Several hosts in the authority, which SQLAlchemy cannot read (int() of the port fails)",
        "write them as query parameters: ?host=h1:5432&host=h2:5432";
    SqlalchemyDisagrees: "sqlalchemy-disagrees", Error,
        "SQLAlchemy and libpq read the user, host, port, database or password differently",
        "percent-encode @ : / ? # in the user name and password";
    SqlalchemyEncodedHost: "sqlalchemy-encoded-host", Error,
        "A percent-encoded host, which SQLAlchemy passes to the driver without decoding it",
        "give a socket directory as ?host=/path instead";
    AsyncpgSslmode: "asyncpg-sslmode", Error,
        "sslmode or requiressl with asyncpg, which has neither: connect() fails with TypeError",
        "write ?ssl=MODE instead";
    DriverLibpqParameter: "driver-libpq-parameter", Error,
        "A libpq keyword for a driver that does not use libpq: connect() fails with TypeError",
        "remove it, or pass the driver's own option through connect_args";
    DriverUnknownParameter: "driver-unknown-parameter", Error,
        "A query parameter the driver does not accept: connect() fails with TypeError",
        "remove it; the message lists what the driver accepts";
    InvalidSsl: "invalid-ssl", Error,
        "An ssl value asyncpg does not know",
        "use disable, allow, prefer, require, verify-ca or verify-full";
    DriverRefusesArguments: "driver-refuses-arguments", Error,
        "The driver refuses the arguments SQLAlchemy passes it, so every connection fails",
        "change the URL as the driver's error says; pass values that are not strings through connect_args";
    DialectDropsHost: "dialect-drops-host", Error,
        "A host before the path and ?host= in the query: SQLAlchemy's dialect drops the first",
        "list every host in the query: ?host=h1:5432&host=h2:5432";
    PsqlRejectsUrl: "psql-rejects-url", Warning,
        "The application reads this URL, but psql and libpq would reject it",
        "do not hand it to psql, pg_dump or pg_isready as is; use the libpq forms check-url shows";
    // check-url: values libpq takes in the URL and refuses only when connecting.
    InvalidPort: "invalid-port", Error,
        "A port that is not a number from 1 to 65535, so connecting fails",
        "give a number 1-65535";
    InvalidSslmode: "invalid-sslmode", Error,
        "An sslmode libpq does not accept",
        "use disable, allow, prefer, require, verify-ca or verify-full";
    InvalidTargetSessionAttrs: "invalid-target-session-attrs", Error,
        "A target_session_attrs libpq does not accept",
        "use any, read-write, read-only, primary, standby or prefer-standby";
    InvalidValue: "invalid-value", Error,
        "A value libpq does not accept for a keyword with a fixed set of values or a number of seconds",
        "use one of the values the message lists, or whole seconds";
    InvalidConnectTimeout: "invalid-connect-timeout", Error,
        "A connect_timeout that is not a whole number, so connecting fails",
        "give whole seconds";
    // check-url: passwords, TLS, hosts and poolers.
    PasswordInUrl: "password-in-url", Warning,
        "The URL carries a password, which ends up in config files and process listings",
        "keep it in a secret store, PGPASSWORD or ~/.pgpass";
    NoPassword: "no-password", Warning,
        "No password in the URL; the message says what supplies one, or that the server must trust the connection",
        "fine for a local database; elsewhere supply one through PGPASSWORD, ~/.pgpass or a secret store";
    TlsNotVerified: "tls-not-verified", Warning,
        "TLS to a remote host without verifying the server's certificate, so a man in the middle goes unnoticed",
        "use sslmode=verify-full (asyncpg: ssl=verify-full) with the server's CA in sslrootcert";
    TlsDisabled: "tls-disabled", Warning,
        "TLS disabled to a remote host: the password and data travel in clear text",
        "use sslmode=verify-full (asyncpg: ssl=verify-full)";
    AsyncpgTlsDiffers: "asyncpg-tls-differs", Warning,
        "asyncpg connects with other TLS rules than libpq for this mode and these certificate files",
        "set the mode and certificate files so that asyncpg does what the message says libpq would";
    AsyncpgAbstractSocket: "asyncpg-abstract-socket", Error,
        "An @name host, which asyncpg looks up in DNS instead of reading it as a Linux abstract socket",
        "give a socket directory (?host=/dir) or TCP, or use psycopg";
    MultiHostWithoutTargetSessionAttrs: "multi-host-without-target-session-attrs", Warning,
        "Several hosts without target_session_attrs: the driver takes the first that answers, which may be a read-only standby",
        "add ?target_session_attrs=read-write (or primary)";
    PoolerLikely: "pooler-likely", Warning,
        "The port or host name says a pooler is likely, and pooling transactions breaks this driver's prepared statements or startup options",
        "run dbtool ping to find the pooler and its mode; the message gives the driver's fix";
    // ping: the pool settings against the server.
    UnboundedOverflow: "unbounded-overflow", Warning,
        "DB_MAX_OVERFLOW=-1 lets each worker open connections without limit",
        "set DB_MAX_OVERFLOW to a bound the server's free connections allow";
    PoolExceedsServer: "pool-exceeds-server", Warning,
        "workers × (pool_size + max_overflow) is more than the connections the server leaves to ordinary roles",
        "lower DB_POOL_SIZE/DB_MAX_OVERFLOW or add PgBouncer";
    PoolExceedsRoleLimit: "pool-exceeds-role-limit", Warning,
        "The pooled connections exceed the role's CONNECTION LIMIT",
        "lower DB_POOL_SIZE/DB_MAX_OVERFLOW, or raise the role's CONNECTION LIMIT";
    RecycleAfterIdleTimeout: "recycle-after-idle-timeout", Warning,
        "pool_recycle is off or not below the server's idle_session_timeout, so the server ends pooled connections first",
        "set DB_POOL_RECYCLE below idle_session_timeout";
    // ping --idle-probe: the application's settings held against the measured idle cutoff.
    IdleRecycleAboveCutoff: "idle-recycle-above-cutoff", Error,
        "pool_recycle is off or not below the idle cutoff ping --idle-probe measured, so pooled connections die in the pool",
        "set DB_POOL_RECYCLE to the value the message gives, below the cutoff";
    IdleSilentCutoff: "idle-silent-cutoff", Warning,
        "The path drops idle connections silently: a query on one hangs until the kernel gives up, pre-ping included",
        "keep DB_POOL_RECYCLE below the cutoff, and bound the hang (tcp_user_timeout for libpq drivers, command_timeout for asyncpg)";
    IdleClosedWithoutPrePing: "idle-closed-without-pre-ping", Warning,
        "Connections idle past the cutoff are closed and pre-ping is off, so the first request on one fails",
        "set DB_POOL_PRE_PING=true, or DB_POOL_RECYCLE below the cutoff";
    // connections: the deployment's connection budget (`connections`).
    ConnectionBudgetExceeded: "connection-budget-exceeded", Error,
        "The deployment can open more connections than the role may (or than the pooler takes): the rest are refused with SQLSTATE 53300",
        "lower pool_size + max_overflow per worker to what the message says fits, or put PgBouncer in front";
    UnattributedConnections: "unattributed-connections", Warning,
        "Sessions without application_name: nothing says which application holds them",
        "set application_name in the driver's connect arguments (asyncpg: server_settings; libpq drivers: application_name)";
    ActivityHidden: "activity-hidden", Warning,
        "The role has neither superuser nor pg_read_all_stats, so other roles' sessions show no state, address or times",
        "GRANT pg_read_all_stats TO the role, or run dbtool connections as one that has it";
    PoolerLimitsUnknown: "pooler-limits-unknown", Warning,
        "A pooler is in front of the server but its limits could not be read, so the plan cannot be checked against them",
        "add the user to PgBouncer's stats_users (or admin_users) so SHOW CONFIG and SHOW POOLS answer";
    PoolerSessionWait: "pooler-session-wait", Error,
        "Session pooling with fewer server connections than the plan's clients: the clients beyond them wait for a server connection",
        "raise the database's pool_size, or use transaction pooling";
    // ping and pool-bench: a pooler in front of the server (`pooler::advice`).
    PoolerRefusesStartupParameter: "pooler-refuses-startup-parameter", Error,
        "The pooler refuses a startup parameter the driver sends, so every connection fails",
        "set the setting on the role (ALTER ROLE ... SET) and stop sending it, or list it in PgBouncer's ignore_startup_parameters";
    PoolerStatementMode: "pooler-statement-mode", Error,
        "The pooler pools statements, which refuses the transactions SQLAlchemy runs every session in",
        "set pool_mode = transaction for this database";
    PoolerPreparedStatements: "pooler-prepared-statements", Error,
        "The pooler pools transactions and the driver's named prepared statements do not survive from one to the next",
        "turn off the driver's named prepared statements as the message says, or run PgBouncer 1.21+ with max_prepared_statements";
    PoolerModeUnknown: "pooler-mode-unknown", Warning,
        "A pooler sits in front of the server but its pooling mode could not be told",
        "check the pooler's pool_mode; transaction pooling needs the driver fixes dbtool gives";
    // lint-constraints: the naming rules (`lint::naming`); SARIF shows the summaries.
    NamingMismatch: "naming/mismatch", Error,
        "Name does not follow the SQLAlchemy naming convention",
        "rename it (--fix-sql writes the statements), or give the model the name the convention gives";
    NamingDoubledConvention: "naming/doubled-convention", Error,
        "The naming convention was applied twice",
        "declare the name with conv() or without the prefix, then rename it";
    // check-migrations: where the database stands against the code.
    UnknownDbRevision: "unknown-db-revision", Error,
        "The database is at an Alembic revision no migration in the code defines (ahead of the code, or another branch), so alembic upgrade cannot locate it",
        "deploy the code that has the revision, or pass the versions directory that defines it";
    MigrationGraphError: "migration-graph-error", Error,
        "The migrations cannot be read or ordered (several heads, an unknown down_revision, a duplicate revision, a cycle, a file that is not Python), so alembic upgrade head cannot run them",
        "do what the message says: alembic merge heads for several heads, correct the file otherwise";
    // check-migrations: the pending revisions replayed over the live schema.
    PendingMissingObject: "pending-missing-object", Error,
        "A pending revision drops, renames or alters an object by a name this database does not have, so alembic upgrade fails there",
        "refer to the object by the name the database has (the message says which), or rename it back before deploying";
    PendingNameTaken: "pending-name-taken", Error,
        "A pending revision creates an object under a name this database already uses (relation names per schema, constraint names per table)",
        "give the new object another name, or drop or rename the existing one in an earlier revision";
    PendingStatementFails: "pending-statement-fails", Error,
        "A pending revision runs a statement PostgreSQL rejects on this database, so alembic upgrade fails there",
        "change the statement as PostgreSQL's error says";
    IfNotExistsSkips: "if-not-exists-skips", Warning,
        "An if_not_exists create whose name belongs to another object: PostgreSQL skips it with a notice and the object the revision means is never made",
        "give the new object a name of its own, or drop if_not_exists=True so that the clash fails loudly";
    HistoryDrift: "history-drift", Warning,
        "The live schema differs from what the migrations' history up to the current revision makes: a constraint or index missing, named differently, or extra",
        "bring the database back in line with the history (rename or drop by hand), or write the next revisions for what the database has";
    PendingCodeNotFollowed: "pending-code-not-followed", Warning,
        "A statement of a pending revision only running Python could follow (a non-literal op.execute, a loop, a helper call): what it does is not checked",
        "check it by hand, or write it as op.* calls with literal names";
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn each_code_is_its_own_entry_spelled_once() {
        assert_eq!(Code::ALL.len(), REGISTRY.len());
        let mut seen = HashSet::new();
        for (index, &code) in Code::ALL.iter().enumerate() {
            assert_eq!(code as usize, index, "{code:?}");
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
        }
        assert!(REGISTRY.len() >= 50, "only {} codes", REGISTRY.len());
    }

    #[test]
    fn codes_are_kebab_case_and_explained_in_one_line() {
        for kind in REGISTRY {
            let name = kind.code.strip_prefix("naming/").unwrap_or(kind.code);
            assert!(
                !name.is_empty()
                    && !name.starts_with('-')
                    && !name.ends_with('-')
                    && !name.contains("--")
                    && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                kind.code
            );
            for text in [kind.summary, kind.fix] {
                assert!(
                    !text.trim().is_empty() && !text.contains('\n') && !text.ends_with('.'),
                    "{}: {text:?}",
                    kind.code
                );
            }
        }
    }

    #[test]
    fn a_finding_takes_its_level_from_the_registry() {
        let finding = Finding::new(Code::PasswordInUrl, "the URL carries a password");
        assert_eq!(finding.level(), Level::Warning);
        assert_eq!(finding.code.to_string(), "password-in-url");
    }
}
