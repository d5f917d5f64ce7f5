//! Connection URLs: redaction of the password wherever a URL is shown.

mod redact;

pub use redact::{redact_text, redact_url};
