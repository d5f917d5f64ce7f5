//! The environment variables a run reads, and the only module that reads them from the process
//! (`tests/it/layers.rs` fails if another file under `src/` calls `std::env::var`, `var_os`,
//! `vars` or `vars_os`).
//!
//! One type, [`Environment`], for the process's variables and for a table a test gives, with
//! the views of the libraries dbtool reproduces: libpq's ([`Environment::libpq`], where an empty
//! value is the same as unset, as `conninfo_add_defaults()` treats it) and asyncpg's
//! ([`Environment::asyncpg`], Python's `os.environ.get`, where an empty value is a value); the
//! home directory, the user names libpq and asyncpg default to, `NO_COLOR`, and the variables in
//! their order as Python holds them (pydantic-settings and python-dotenv).
//!
//! The process's variables are read once, at start-up ([`Environment::process`] in `main`), and
//! handed down: every part of a run (the settings, check-url's explanation, the connection it
//! explains and the one ping opens) sees the same values, and a test injects its own table into
//! exactly the code the binary runs, with no fallback to the real `$USER` or `$HOME`. dbtool
//! never changes its own environment, so reading once loses nothing.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::PathBuf;

/// Environment variables in their order: the process's, or a test's table. `Debug` shows the
/// names only: values include passwords (`PGPASSWORD`, `DATABASE_URL`).
#[derive(Clone, Default)]
pub struct Environment {
    variables: Vec<(OsString, OsString)>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Environment")
            .field(
                &self
                    .variables
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Environment {
    /// This process's environment, as it is now; call once, at start-up.
    pub fn process() -> Environment {
        Environment {
            variables: std::env::vars_os().collect(),
        }
    }

    /// No variables at all: the URL alone, with the libraries' defaults.
    pub fn empty() -> Environment {
        Environment::default()
    }

    /// A table of variables in this order, for tests and for explaining a URL without them.
    pub fn injected<K, V>(variables: impl IntoIterator<Item = (K, V)>) -> Environment
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Environment {
            variables: variables
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// The value as set, in any encoding (the first entry of that name, as `getenv` finds it).
    fn raw(&self, name: &str) -> Option<&OsStr> {
        self.variables
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_os_str())
    }

    /// libpq's view: the value when it is set and not empty (`conninfo_add_defaults()` fills a
    /// keyword only from a non-empty variable). A value that is not UTF-8 counts as unset.
    pub(crate) fn libpq(&self, name: &str) -> Option<String> {
        self.asyncpg(name).filter(|value| !value.is_empty())
    }

    /// asyncpg's view, Python's `os.environ.get(name)`: set to the empty string is not unset.
    /// A value that is not UTF-8 counts as unset.
    pub fn asyncpg(&self, name: &str) -> Option<String> {
        self.raw(name)?.to_str().map(str::to_string)
    }

    /// `$HOME` as set, even empty (Python's `os.path.expanduser`, and the directory of
    /// `~/.pgpass`); libpq's home directory is `conn::tls`'s `pqGetHomeDirectory()`.
    pub(crate) fn home(&self) -> Option<PathBuf> {
        self.raw("HOME").map(PathBuf::from)
    }

    /// The operating-system user name, libpq's default user: `$USER` (else `$LOGNAME` when USER
    /// is unset), if not empty; else the effective user's name in `/etc/passwd`, else its uid.
    pub(crate) fn os_user(&self) -> String {
        self.asyncpg("USER")
            .or_else(|| self.asyncpg("LOGNAME"))
            .filter(|user| !user.is_empty())
            .unwrap_or_else(|| {
                let uid = crate::system::effective_uid();
                crate::system::passwd_name(uid).unwrap_or_else(|| uid.to_string())
            })
    }

    /// asyncpg's default user, `getpass.getuser()`: LOGNAME, USER, LNAME, USERNAME (the first
    /// that is set and not empty), then the password database.
    pub(crate) fn login_name(&self) -> Option<String> {
        ["LOGNAME", "USER", "LNAME", "USERNAME"]
            .into_iter()
            .find_map(|name| self.libpq(name))
            .or_else(|| crate::system::passwd_name(crate::system::effective_uid()))
    }

    /// Whether `NO_COLOR` asks for no colour: set and not empty, in any encoding (no-color.org).
    pub(crate) fn no_color(&self) -> bool {
        self.raw("NO_COLOR").is_some_and(|value| !value.is_empty())
    }

    /// The variables in their order as Python's `os.environ` holds them, for pydantic-settings
    /// and python-dotenv: a name that is not UTF-8 cannot be one of the settings and is left
    /// out; a value that is not UTF-8 keeps its bytes as U+FFFD.
    pub(crate) fn python_variables(&self) -> Vec<(String, String)> {
        self.variables
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    name.to_str()?.to_string(),
                    value.to_string_lossy().into_owned(),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_takes_empty_as_unset_and_asyncpg_does_not() {
        let env = Environment::injected([("PGUSER", ""), ("PGHOST", "h"), ("PGHOST", "second")]);
        assert_eq!(env.libpq("PGUSER"), None);
        assert_eq!(env.asyncpg("PGUSER"), Some(String::new()));
        assert_eq!(env.libpq("PGHOST").as_deref(), Some("h"));
        assert_eq!(env.asyncpg("PGPORT"), None);
        assert_eq!(Environment::empty().libpq("PGHOST"), None);
        let shown = format!("{:?}", Environment::injected([("PGPASSWORD", "s3cret")]));
        assert_eq!(shown, r#"Environment(["PGPASSWORD"])"#);
    }

    #[test]
    fn user_names_come_from_the_table_before_the_system() {
        let env = Environment::injected([("LOGNAME", "logname"), ("USER", "user")]);
        assert_eq!(env.os_user(), "user");
        assert_eq!(env.login_name().as_deref(), Some("logname"));
        assert_eq!(
            Environment::injected([("LOGNAME", "logname")]).os_user(),
            "logname"
        );
    }

    #[test]
    fn home_and_no_color_are_read_as_set() {
        let env = Environment::injected([("HOME", ""), ("NO_COLOR", "")]);
        assert_eq!(env.home(), Some(PathBuf::new()));
        assert!(!env.no_color());
        assert!(Environment::injected([("NO_COLOR", "1")]).no_color());
        assert_eq!(Environment::empty().home(), None);
    }

    #[test]
    fn python_sees_utf8_names_in_order_and_lossy_values() {
        use std::os::unix::ffi::OsStringExt;
        let env = Environment::injected([
            (OsString::from("B"), OsString::from("2")),
            (OsString::from_vec(vec![0xff]), OsString::from("x")),
            (OsString::from("A"), OsString::from_vec(vec![b'a', 0xff])),
        ]);
        assert_eq!(
            env.python_variables(),
            [
                ("B".to_string(), "2".to_string()),
                ("A".to_string(), "a\u{fffd}".to_string())
            ]
        );
        assert_eq!(env.asyncpg("A"), None);
    }
}
