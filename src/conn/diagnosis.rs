//! What to do when the server refuses a session, read from its message as well as its SQLSTATE:
//! one SQLSTATE covers several causes (28000 is a missing pg_hba.conf line, a missing role, a role
//! without LOGIN, a failed certificate or peer check), and each has its own remedy. The messages
//! are the server's own (`ClientAuthentication()`/`auth_failed()` in auth.c, `InitPostgres()`,
//! `CheckMyDatabase()`), in English; a translated server falls back to the SQLSTATE's advice.

use crate::conn::target::Endpoint;

/// Who was connecting where, for the commands a hint suggests.
pub(crate) struct LoginAttempt<'a> {
    pub(crate) user: &'a str,
    pub(crate) dbname: &'a str,
    pub(crate) endpoint: &'a Endpoint,
}

/// The remedy for the server's error `code` with `message`.
pub(crate) fn hint(code: &str, message: &str, session: &LoginAttempt<'_>) -> String {
    let (host, port) = (session.endpoint.name(), session.endpoint.port);
    let user = session.user;
    let has = |needle: &str| message.contains(needle);
    match code {
        "28000" if has("no pg_hba.conf entry") && has("no encryption") => format!(
            "the server accepts {user} here only over TLS (hostssl lines in pg_hba.conf): use \
             sslmode=require or verify-full, or add a host/hostnossl line for this address"
        ),
        "28000" if has("no pg_hba.conf entry") && (has("SSL encryption") || has("GSS encryption")) => {
            "the server accepts this connection only without encryption (hostnossl lines in \
             pg_hba.conf): add a hostssl (or host) line for this address, or use sslmode=prefer"
                .into()
        }
        "28000" if has("no pg_hba.conf entry") => format!(
            "no pg_hba.conf line matches host, user {user:?} and database {:?}: add one (e.g. \
             `hostssl {} {user} <client address>/32 scram-sha-256`) and reload the server",
            session.dbname, session.dbname
        ),
        "28000" if has("pg_hba.conf rejects connection") => {
            "a `reject` line in pg_hba.conf matches this connection: connect from another address \
             or as another user, or change that line"
                .into()
        }
        "28000" if has("does not exist") && has("role") => format!(
            "the role does not exist: createuser -h {host} -p {port} {user} (as a superuser), or \
             fix the user name in the URL"
        ),
        "28000" if has("is not permitted to log in") => {
            format!("the role exists but has NOLOGIN: ALTER ROLE {user} LOGIN")
        }
        "28000" if has("requires a valid client certificate") => {
            "pg_hba.conf asks for a client certificate (cert, or clientcert=verify-*): give sslcert \
             and sslkey (or ~/.postgresql/postgresql.crt and .key)"
                .into()
        }
        "28000" if has("certificate authentication failed") || has("provided user name") => format!(
            "the client certificate's common name is not {user:?}: use a certificate issued to \
             {user}, or map the name with a pg_ident.conf map"
        ),
        "28000" if has("Peer authentication failed") || has("Ident authentication failed") => format!(
            "peer/ident authentication: the operating-system user must be {user:?} (or mapped in \
             pg_ident.conf); connect over TCP with a password instead"
        ),
        "28000" => format!(
            "the server refused user {user:?}: check pg_hba.conf for this address and user, and \
             that the role exists"
        ),
        "28P01" if has("password authentication failed") => format!(
            "the password for {user:?} is wrong, expired (VALID UNTIL) or not set, or the role \
             does not exist (the server does not say which): check the URL, PGPASSWORD and \
             ~/.pgpass (in that order, as libpq reads them)"
        ),
        "28P01" => "wrong password: check the URL, PGPASSWORD and ~/.pgpass (in that order, as libpq reads them)".into(),
        "3D000" => format!(
            "the database does not exist: createdb -h {host} -p {port} -U {user} {}",
            session.dbname
        ),
        "42501" if has("permission denied for database") => format!(
            "the role may not connect to this database: GRANT CONNECT ON DATABASE {} TO {user}",
            session.dbname
        ),
        "55000" if has("not currently accepting connections") => {
            "the database does not allow connections (datallowconn): ALTER DATABASE ... ALLOW_CONNECTIONS true".into()
        }
        "53300" if has("too many connections for role") => {
            "the role's CONNECTION LIMIT is reached: close its idle connections or raise it (ALTER ROLE ... CONNECTION LIMIT)".into()
        }
        "53300" if has("too many connections for database") => {
            "the database's CONNECTION LIMIT is reached: close idle connections or raise it (ALTER DATABASE ... CONNECTION LIMIT)".into()
        }
        "53300" if has("reserved") => {
            "the remaining connection slots are reserved for superusers (or pg_use_reserved_connections): close idle connections or raise max_connections".into()
        }
        "53300" => "too many connections: the server is at max_connections; close idle connections, use a pooler, or \
                    raise max_connections"
            .into(),
        "57P03" => "the server is starting up, shutting down or in recovery: retry shortly (dbtool ping --wait)".into(),
        "08P01" if has("startup parameter") => {
            "a pooler in front of the server refuses a startup parameter: remove it from the URL's options, or list it in PgBouncer's ignore_startup_parameters".into()
        }
        _ => "see the server's message".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::target::{EndpointKind, Origin};

    fn hint_for(code: &str, message: &str) -> String {
        let endpoint = Endpoint {
            kind: EndpointKind::Tcp,
            host: "db".into(),
            hostaddr: None,
            port: 5432,
            host_origin: Origin::Url,
            port_origin: Origin::Url,
        };
        hint(
            code,
            message,
            &LoginAttempt {
                user: "app",
                dbname: "shop",
                endpoint: &endpoint,
            },
        )
    }

    #[test]
    fn each_28000_and_28p01_message_gets_its_own_remedy() {
        let cases = [
            (
                "28000",
                "no pg_hba.conf entry for host \"10.0.0.1\", user \"app\", database \"shop\", no encryption",
                "sslmode=require",
            ),
            (
                "28000",
                "no pg_hba.conf entry for host \"10.0.0.1\", user \"app\", database \"shop\", SSL encryption",
                "hostnossl",
            ),
            (
                "28000",
                "pg_hba.conf rejects connection for host \"10.0.0.1\", user \"app\", database \"shop\", no encryption",
                "`reject` line",
            ),
            (
                "28000",
                "role \"app\" does not exist",
                "createuser -h db -p 5432 app",
            ),
            (
                "28000",
                "role \"app\" is not permitted to log in",
                "ALTER ROLE app LOGIN",
            ),
            (
                "28000",
                "connection requires a valid client certificate",
                "sslcert",
            ),
            (
                "28000",
                "certificate authentication failed for user \"app\"",
                "common name",
            ),
            (
                "28000",
                "Peer authentication failed for user \"app\"",
                "operating-system user",
            ),
            (
                "28P01",
                "password authentication failed for user \"app\"",
                "VALID UNTIL",
            ),
            ("3D000", "database \"shop\" does not exist", "createdb"),
            (
                "42501",
                "permission denied for database \"shop\"",
                "GRANT CONNECT",
            ),
            (
                "53300",
                "too many connections for role \"app\"",
                "CONNECTION LIMIT",
            ),
        ];
        for (code, message, expected) in cases {
            let hint = hint_for(code, message);
            assert!(hint.contains(expected), "{message}: {hint}");
        }
        let no_encryption = hint_for(
            "28000",
            "no pg_hba.conf entry for host \"h\", user \"app\", database \"shop\", no encryption",
        );
        assert!(!no_encryption.contains("createuser"), "{no_encryption}");
    }
}
