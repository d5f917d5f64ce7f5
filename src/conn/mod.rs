//! Connecting as libpq does: its defaults, environment fallbacks and password sources.

pub mod connect;
pub mod diagnosis;
pub mod pgpass;
pub mod plan;
pub mod socket;
pub mod target;
pub mod tls;
pub mod transport;

/// libpq's compiled-in Unix socket directory on Debian and Ubuntu builds.
pub const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// libpq's default port.
pub const DEFAULT_PORT: &str = "5432";

/// The libpq environment variables dbtool explains and applies, with the keyword each stands for.
pub const ENV_FALLBACKS: [(&str, &str); 9] = [
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
