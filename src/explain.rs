//! `dbtool explain`'s knowledge: for each registered finding code, which subcommands report it
//! and an example of what makes them do so. The match in [`example`] is exhaustive, so a code
//! cannot be registered (`finding`) without one; `tests/it/explain.rs` runs every
//! [`Case::Offline`] example and checks that it reports its code, and generates
//! `docs/findings.md` from `dbtool explain --format json` (and fails when it is out of date).

use crate::finding::Code;

/// An example of a finding: what makes dbtool report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Example {
    /// The subcommands that report it.
    pub(crate) reported_by: &'static [&'static str],
    pub(crate) case: Case,
}

/// What reports the finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// dbtool's arguments that report it without a server (run by the tests as they are).
    Offline(&'static [&'static str]),
    /// What it takes when a server, a pooler or a project's files are needed.
    Situation(&'static str),
}

impl Case {
    /// As the user would type or read it: the command line quoted for a POSIX shell.
    pub(crate) fn render(&self) -> String {
        match self {
            Case::Offline(args) => std::iter::once("dbtool")
                .chain(args.iter().copied())
                .map(shell_quote)
                .collect::<Vec<_>>()
                .join(" "),
            Case::Situation(text) => (*text).to_string(),
        }
    }
}

/// `word` quoted for a POSIX shell when it needs quoting.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=+,%@".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

const CHECK_URL: &[&str] = &["check-url", "ping"];
const PING: &[&str] = &["ping"];
const POOLER: &[&str] = &["ping", "pool-bench"];
const LINT: &[&str] = &["lint-constraints"];
const MIGRATIONS: &[&str] = &["check-migrations"];
const CONNECTIONS: &[&str] = &["connections"];

/// The example of `code`.
pub(crate) fn example(code: Code) -> Example {
    use Case::{Offline, Situation};
    let (reported_by, case) = match code {
        Code::AmbiguousAtInUserInfo => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://app:p@ss@db/app"]),
        ),
        Code::AmbiguousSlashInUserInfo => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://app:pa/ss@db/app"]),
        ),
        Code::AmbiguousAtAfterQuestionMark => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://?user=x@db/app"]),
        ),
        Code::NonPortableUserInfo => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://app:pa#ss@db/app"]),
        ),
        Code::HashIsLiteral => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app#main"]),
        ),
        Code::BarePercent => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?options=100%"]),
        ),
        Code::Whitespace => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?application_name=my app"]),
        ),
        Code::PlusIsLiteral => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?application_name=my+app"]),
        ),
        Code::UnknownParameter => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?timeout=10"]),
        ),
        Code::NeedsNewerLibpq => (
            CHECK_URL,
            Offline(&[
                "check-url",
                "--libpq-version",
                "15",
                "postgresql://db/app?require_auth=scram-sha-256",
            ]),
        ),
        Code::SslParameter => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?ssl=1"]),
        ),
        Code::ExtraEquals => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?sslmode=require=x"]),
        ),
        Code::RepeatedParameter => (
            CHECK_URL,
            Offline(&[
                "check-url",
                "postgresql://db/app?sslmode=require&sslmode=disable",
            ]),
        ),
        Code::QueryOverridesUri => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?dbname=other"]),
        ),
        Code::EncodedCommaInHost => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db%2Cdb2/app"]),
        ),
        Code::HostPortMismatch => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://h1,h2/app?port=5432,5433,5434"]),
        ),
        Code::Scheme => (
            CHECK_URL,
            Situation(
                "DATABASE_URL=jdbc:postgresql://db/app where libpq reads the URL itself (psql, \
                 pg_dump): only postgresql:// and postgres://, in lower case, are libpq's",
            ),
        ),
        Code::PostgresScheme => (CHECK_URL, Offline(&["check-url", "postgres://db/app"])),
        Code::SqlalchemyMultiHost => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+psycopg://h1:5432,h2:5432/app"]),
        ),
        Code::SqlalchemyDisagrees => (CHECK_URL, Offline(&["check-url", "postgresql://h1,h2/app"])),
        Code::SqlalchemyEncodedHost => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://%2Fvar%2Frun/app"]),
        ),
        Code::AsyncpgSslmode => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://db/app?sslmode=require"]),
        ),
        Code::DriverLibpqParameter => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://db/app?connect_timeout=5"]),
        ),
        Code::DriverUnknownParameter => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://db/app?pool=5"]),
        ),
        Code::InvalidSsl => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://db/app?ssl=sometimes"]),
        ),
        Code::DriverRefusesArguments => (
            CHECK_URL,
            Offline(&[
                "check-url",
                "postgresql+asyncpg://db/app?command_timeout=soon",
            ]),
        ),
        Code::DialectDropsHost => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+psycopg://db1/app?host=db2"]),
        ),
        Code::PsqlRejectsUrl => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+psycopg://app:p%zz@db/app"]),
        ),
        Code::InvalidPort => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db:99999/app"]),
        ),
        Code::InvalidSslmode => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?sslmode=required"]),
        ),
        Code::InvalidTargetSessionAttrs => (
            CHECK_URL,
            Offline(&[
                "check-url",
                "postgresql://db/app?target_session_attrs=master",
            ]),
        ),
        Code::InvalidValue => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?keepalives=yes"]),
        ),
        Code::InvalidConnectTimeout => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://db/app?connect_timeout=ten"]),
        ),
        Code::PasswordInUrl => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://app:secret@db/app"]),
        ),
        Code::NoPassword => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://app@db/app"]),
        ),
        Code::TlsNotVerified => (
            CHECK_URL,
            Offline(&[
                "check-url",
                "postgresql+psycopg://app@db/app?sslmode=require",
            ]),
        ),
        Code::TlsDisabled => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://app@db/app?sslmode=disable"]),
        ),
        Code::AsyncpgTlsDiffers => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://app@db/app?ssl=allow"]),
        ),
        Code::AsyncpgAbstractSocket => (
            CHECK_URL,
            Offline(&["check-url", "postgresql+asyncpg://app@/app?host=@pgsocket"]),
        ),
        Code::MultiHostWithoutTargetSessionAttrs => (
            CHECK_URL,
            Offline(&[
                "check-url",
                "postgresql+psycopg://app@/app?host=db1:5432&host=db2:5432",
            ]),
        ),
        Code::PoolerLikely => (
            CHECK_URL,
            Offline(&["check-url", "postgresql://app@db:6432/app"]),
        ),
        Code::UnboundedOverflow => (
            PING,
            Situation(
                "DB_MAX_OVERFLOW=-1 dbtool ping: the pool may open connections without limit",
            ),
        ),
        Code::PoolExceedsServer => (
            PING,
            Situation(
                "DB_POOL_SIZE=150 DB_MAX_OVERFLOW=10 dbtool ping against a server with max_connections = 100",
            ),
        ),
        Code::PoolExceedsRoleLimit => (
            PING,
            Situation(
                "dbtool ping as a role created WITH CONNECTION LIMIT 10, with the default pool 5 + 10",
            ),
        ),
        Code::RecycleAfterIdleTimeout => (
            PING,
            Situation(
                "dbtool ping against a server with idle_session_timeout = 60s and DB_POOL_RECYCLE=3600",
            ),
        ),
        Code::IdleRecycleAboveCutoff => (
            PING,
            Situation(
                "dbtool ping --idle-probe 10m from a pod behind a NAT gateway that forgets idle flows \
                 after 350 s, with DB_POOL_RECYCLE=3600",
            ),
        ),
        Code::IdleSilentCutoff => (
            PING,
            Situation(
                "dbtool ping --idle-probe 10m where a firewall drops the packets of a flow it \
                 forgot, so the next query on an idle connection hangs instead of failing",
            ),
        ),
        Code::IdleClosedWithoutPrePing => (
            PING,
            Situation(
                "DB_POOL_PRE_PING=false dbtool ping --idle-probe 10m against a server with \
                 idle_session_timeout = 5min",
            ),
        ),
        Code::PoolerRefusesStartupParameter => (
            POOLER,
            Situation(
                "dbtool ping through PgBouncer without ignore_startup_parameters for a parameter asyncpg sends",
            ),
        ),
        Code::PoolerStatementMode => (
            POOLER,
            Situation("dbtool ping through PgBouncer with pool_mode = statement"),
        ),
        Code::PoolerPreparedStatements => (
            POOLER,
            Situation(
                "dbtool ping with asyncpg through PgBouncer in transaction pooling with max_prepared_statements = 0",
            ),
        ),
        Code::PoolerModeUnknown => (
            POOLER,
            Situation(
                "dbtool ping through a pooler whose pool mode cannot be read (no SHOW CONFIG access)",
            ),
        ),
        Code::ConnectionBudgetExceeded => (
            CONNECTIONS,
            Situation(
                "dbtool connections --service web=1x3:5+10 as an ordinary role against max_connections = 30: 45 connections for 27 slots",
            ),
        ),
        Code::UnattributedConnections => (
            CONNECTIONS,
            Situation("dbtool connections while sessions without application_name are open"),
        ),
        Code::ActivityHidden => (
            CONNECTIONS,
            Situation("dbtool connections as a role with neither superuser nor pg_read_all_stats"),
        ),
        Code::PoolerLimitsUnknown => (
            CONNECTIONS,
            Situation(
                "dbtool connections through PgBouncer as a user in neither admin_users nor stats_users",
            ),
        ),
        Code::PoolerSessionWait => (
            CONNECTIONS,
            Situation(
                "dbtool connections --service web=1x1:4+4 through PgBouncer in session pooling with default_pool_size = 4",
            ),
        ),
        Code::NamingMismatch => (
            LINT,
            Situation(
                "dbtool lint-constraints on a database whose messages.author_id foreign key is named \
                 messages_author_id_fkey where the convention says fk_messages_author_id_users",
            ),
        ),
        Code::NamingDoubledConvention => (
            LINT,
            Situation(
                "dbtool lint-constraints --convention-from app/models/base.py where a model names a \
                 constraint ck_users_ck_users_age: the convention was applied to a name that already had it",
            ),
        ),
        Code::MigrationGraphError => (
            MIGRATIONS,
            Situation(
                "dbtool check-migrations alembic/versions where two revisions name the same \
                 down_revision and nothing merges them: two heads, so `alembic upgrade head` stops",
            ),
        ),
        Code::PendingMissingObject => (
            MIGRATIONS,
            Situation(
                "a pending revision runs op.drop_constraint(\"messages_author_id_fkey\", \"messages\") \
                 on a database where lint-constraints --fix-sql renamed it to fk_messages_author_id_users",
            ),
        ),
        Code::PendingNameTaken => (
            MIGRATIONS,
            Situation(
                "a pending revision creates the index ix_users_email on a database where someone \
                 already created an index of that name by hand",
            ),
        ),
        Code::PendingStatementFails => (
            MIGRATIONS,
            Situation(
                "a pending revision adds a foreign key to a table the database does not have, so \
                 PostgreSQL refuses the statement",
            ),
        ),
        Code::IfNotExistsSkips => (
            MIGRATIONS,
            Situation(
                "a pending revision runs op.create_index(..., if_not_exists=True) with a name an \
                 index on another table already has: PostgreSQL skips it silently",
            ),
        ),
        Code::HistoryDrift => (
            MIGRATIONS,
            Situation(
                "dbtool check-migrations on a database whose constraint the applied revisions \
                 name uq_users_email but which calls it users_email_key",
            ),
        ),
        Code::PendingCodeNotFollowed => (
            MIGRATIONS,
            Situation(
                "a pending revision calls op.execute(sql) with SQL built at run time, or loops \
                 over tables: dbtool cannot follow it without running it",
            ),
        ),
        Code::UnknownDbRevision => (
            MIGRATIONS,
            Situation(
                "dbtool check-migrations alembic/versions against a database whose alembic_version \
                 holds a revision those files do not have (deployed from a newer branch)",
            ),
        ),
    };
    Example { reported_by, case }
}

/// Registered codes ranked by how close they are to `unknown` (case-insensitive edit distance,
/// a containing code first), at most three, for "did you mean".
pub(crate) fn closest(unknown: &str) -> Vec<&'static str> {
    let unknown = unknown.to_ascii_lowercase();
    let mut ranked: Vec<(usize, &'static str)> = Code::ALL
        .iter()
        .map(|code| {
            let name = code.as_str();
            let distance = if name.contains(&unknown) || unknown.contains(name) {
                0
            } else {
                crate::url::libpq::distance(unknown.as_bytes(), name.as_bytes())
            };
            (distance, name)
        })
        .collect();
    ranked.sort();
    let limit = unknown.len().max(4) / 2;
    ranked
        .into_iter()
        .filter(|(distance, _)| *distance <= limit)
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

/// The registered code named `name` (case-insensitive).
pub(crate) fn find(name: &str) -> Option<Code> {
    Code::ALL
        .iter()
        .copied()
        .find(|code| code.as_str().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_code_gets_the_closest_ones() {
        assert_eq!(closest("asyncpg-sslmod")[0], "asyncpg-sslmode");
        assert_eq!(closest("ASYNCPG-SSLMODE")[0], "asyncpg-sslmode");
        assert!(closest("mismatch").contains(&"naming/mismatch"));
        assert!(closest("zzzzzzzzzzzzzzzzzzzzzzzzzz").is_empty());
    }

    #[test]
    fn codes_are_found_case_insensitively() {
        assert_eq!(find("Naming/Mismatch"), Some(Code::NamingMismatch));
        assert_eq!(find("naming-mismatch"), None);
    }

    #[test]
    fn command_lines_are_quoted_for_the_shell() {
        assert_eq!(
            Case::Offline(&["check-url", "postgresql://db/app?a=1&b=2"]).render(),
            "dbtool check-url 'postgresql://db/app?a=1&b=2'"
        );
        assert_eq!(
            Case::Offline(&["check-url", "it's"]).render(),
            r"dbtool check-url 'it'\''s'"
        );
    }
}
