//! Connection URLs: SQLAlchemy's and libpq's readings, conversions, and redaction of the password
//! wherever a URL is shown.

pub mod conversions;
pub mod libpq;
mod redact;
pub mod sqlalchemy;

pub use redact::{redact_text, redact_url};
