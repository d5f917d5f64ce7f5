//! The environment asyncpg reads: variables, the login name, and files in the home directory.

/// A password file as asyncpg finds it (`_read_password_file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordFile {
    /// Not there, or not a plain file: no lines.
    Missing,
    /// Group or other permission bits: asyncpg warns and reads no lines.
    TooOpen {
        path: String,
        mode: u32,
    },
    Usable {
        path: String,
        text: String,
    },
}

/// The environment asyncpg reads: variables, and the home directory's `.postgresql/root.crt`.
pub trait AsyncpgEnvironment {
    /// `os.environ.get(name)`: set to the empty string is not unset.
    fn var(&self, name: &str) -> Option<String>;
    /// `getpass.getuser()`: LOGNAME, USER, LNAME, USERNAME, then the password database.
    fn login_name(&self) -> Option<String>;
    /// Whether `~/.postgresql/<name>` exists, and its path.
    fn dot_postgresql(&self, name: &str) -> (String, bool);
    /// The password file at `path`, else `~/.pgpass`.
    fn password_file(&self, path: Option<&str>) -> PasswordFile;
}

/// The process's environment, as asyncpg reads it.
pub struct ProcessEnvironment;

impl AsyncpgEnvironment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn login_name(&self) -> Option<String> {
        ["LOGNAME", "USER", "LNAME", "USERNAME"]
            .into_iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .or_else(|| crate::system::passwd_name(crate::system::effective_uid()))
    }

    fn dot_postgresql(&self, name: &str) -> (String, bool) {
        let home = std::env::var("HOME").unwrap_or_default();
        let path = std::path::Path::new(&home).join(".postgresql").join(name);
        (path.display().to_string(), path.is_file())
    }

    fn password_file(&self, path: Option<&str>) -> PasswordFile {
        use std::os::unix::fs::PermissionsExt;
        let path = match path {
            Some(path) => std::path::PathBuf::from(path),
            None => match std::env::var_os("HOME") {
                Some(home) => std::path::Path::new(&home).join(".pgpass"),
                None => return PasswordFile::Missing,
            },
        };
        let shown = path.display().to_string();
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o077 != 0 => {
                PasswordFile::TooOpen {
                    path: shown,
                    mode: meta.permissions().mode() & 0o777,
                }
            }
            Ok(meta) if meta.is_file() => PasswordFile::Usable {
                path: shown,
                // Unreadable: asyncpg's IOError, no lines.
                text: std::fs::read_to_string(&path).unwrap_or_default(),
            },
            _ => PasswordFile::Missing,
        }
    }
}
