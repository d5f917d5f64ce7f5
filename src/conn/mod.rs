//! Connecting as libpq does: its defaults, environment fallbacks and password sources.

pub(crate) mod connect;
pub(crate) mod diagnosis;
pub(crate) mod pgpass;
pub(crate) mod plan;
pub(crate) mod socket;
pub mod target;
pub(crate) mod tcp;
pub(crate) mod tls;
pub(crate) mod transport;

/// libpq's compiled-in Unix socket directory on Debian and Ubuntu builds.
pub(crate) const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// libpq's default port.
pub(crate) const DEFAULT_PORT: &str = "5432";

/// The libpq environment variables dbtool explains and applies, with the keyword each stands for.
pub(crate) const ENV_FALLBACKS: [(&str, &str); 9] = [
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
];
