//! Where a connection's password comes from: the password file as libpq and asyncpg find it
//! ([`PasswordFile`]; each library's lookup of a line is its own, in `conn::pgpass` and
//! `url::dialect::asyncpg`), and the source a password was taken from ([`PasswordSource`]),
//! which renders itself for check-url and ping.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A password file and whether the client reads it. libpq (`passwordFromFile`) and asyncpg
/// (`_read_password_file`) agree on this part: a plain file that the group or others may read
/// is ignored with a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PasswordFile {
    /// Not there, or not a plain file.
    Missing(PathBuf),
    /// Group or other permission bits set (`mode`, the permission bits): ignored.
    TooOpen {
        path: PathBuf,
        mode: u32,
    },
    Usable(PathBuf),
}

impl PasswordFile {
    /// The file at `path`, as the client finds it there.
    pub(crate) fn at(path: PathBuf) -> PasswordFile {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    PasswordFile::TooOpen { path, mode }
                } else {
                    PasswordFile::Usable(path)
                }
            }
            _ => PasswordFile::Missing(path),
        }
    }
}

/// Where a connection's password came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The URL: libpq's `password` keyword, the driver's `password` argument.
    Url,
    /// `PGPASSWORD` (for asyncpg, set even to the empty string).
    Env,
    /// A matching line of this password file.
    PassFile(PathBuf),
    /// No source: the server's request for a password will fail.
    None,
}

impl fmt::Display for PasswordSource {
    /// `password from the URL`, `password from PGPASSWORD`, `password from the password file
    /// PATH` or `no password`: the words check-url's driver line and ping's authentication stage
    /// share.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Url => f.write_str("password from the URL"),
            PasswordSource::Env => f.write_str("password from PGPASSWORD"),
            PasswordSource::PassFile(path) => {
                write!(f, "password from the password file {}", path.display())
            }
            PasswordSource::None => f.write_str("no password"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_file_is_not_usable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        assert_eq!(
            PasswordFile::at(path.clone()),
            PasswordFile::Missing(path.clone())
        );
        std::fs::write(&path, "*:*:*:*:x\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            PasswordFile::at(path.clone()),
            PasswordFile::TooOpen {
                path: path.clone(),
                mode: 0o644
            }
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(PasswordFile::at(path.clone()), PasswordFile::Usable(path));
        assert_eq!(
            PasswordFile::at(dir.path().to_path_buf()),
            PasswordFile::Missing(dir.path().to_path_buf())
        );
    }

    #[test]
    fn a_source_says_where_the_password_came_from() {
        let sources = [
            PasswordSource::Url,
            PasswordSource::Env,
            PasswordSource::PassFile(PathBuf::from("/home/u/.pgpass")),
            PasswordSource::None,
        ];
        assert_eq!(
            sources.map(|s| s.to_string()),
            [
                "password from the URL",
                "password from PGPASSWORD",
                "password from the password file /home/u/.pgpass",
                "no password"
            ]
        );
    }
}
