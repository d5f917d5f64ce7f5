//! What the application's driver sends, as SQLAlchemy 2.x drives it: the startup parameters,
//! the dialect's first-connect queries, the pre-ping, the implicit BEGIN, the workload in the
//! driver's protocol (simple queries, named statements from a per-connection cache, unnamed
//! statements, psycopg's prepare threshold), and the COMMIT or the closing ROLLBACK — one
//! request of the reference application's `get_db` pattern (one session per request).
//!
//! The sequences are those `scripts/gen_driver_fixture.py` recorded from the real libraries
//! (`tests/fixtures/driver_requests.json`, versions inside); the tests compare what the server
//! logs for pool-bench with that fixture. `raw` is dbtool's minimal path, for comparisons with
//! pgbench: the workload as one cached prepared statement, a simple `SELECT 1` as the pre-ping.

mod model;

pub(crate) use model::{
    ASYNCPG_FIX, Connection, DriverKind, DriverModel, DriverOptions, PSYCOPG_FIX, loop_turn,
};
