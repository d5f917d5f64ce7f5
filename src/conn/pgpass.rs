//! The password file, read as libpq reads it (`passwordFromFile` in `fe-connect.c`).
//!
//! `PGPASSFILE` names the file, else `~/.pgpass`. A file that other users can read (any group or
//! other permission bit) is ignored with a warning. Each line is `host:port:database:user:password`;
//! `*` matches anything, `\` escapes `:` and `\`, lines starting with `#` are comments. The first
//! matching line wins. For a Unix socket at the default directory, or no host, libpq matches the
//! host `localhost`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::secret::Secret;

/// Where the password file is and whether libpq will use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassFile {
    Missing(PathBuf),
    /// Group or other bits set: libpq warns and ignores it.
    TooOpen(PathBuf, u32),
    Usable(PathBuf),
}

/// The password file libpq would consult, from `passfile` (URL), `PGPASSFILE` or `~/.pgpass`.
pub fn locate(passfile: Option<&str>) -> Option<PassFile> {
    let path = match passfile
        .map(str::to_string)
        .or_else(|| std::env::var("PGPASSFILE").ok())
    {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
    };
    Some(classify(path))
}

fn classify(path: PathBuf) -> PassFile {
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                PassFile::TooOpen(path, mode)
            } else {
                PassFile::Usable(path)
            }
        }
        _ => PassFile::Missing(path),
    }
}

/// The connection a password is looked up for, after defaults apply.
#[derive(Debug, Clone)]
pub struct Lookup<'a> {
    pub host: &'a str,
    pub port: &'a str,
    pub database: &'a str,
    pub user: &'a str,
}

/// The password of the first matching line of a usable file, if any.
pub fn find_password(file: &Path, lookup: &Lookup<'_>) -> Option<Secret> {
    let text = std::fs::read_to_string(file).ok()?;
    find_in_text(&text, lookup)
}

/// The line-matching rule, separate from the file for testing.
pub fn find_in_text(text: &str, lookup: &Lookup<'_>) -> Option<Secret> {
    let host = if lookup.host.is_empty() || lookup.host == crate::conn::DEFAULT_SOCKET_DIR {
        "localhost"
    } else {
        lookup.host
    };
    let wanted = [host, lookup.port, lookup.database, lookup.user];
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let fields = split_fields(line);
            (fields.len() >= 5).then_some(fields)
        })
        .find(|fields| {
            fields
                .iter()
                .zip(wanted)
                .all(|(field, value)| field == "*" || field == value)
        })
        .map(|fields| Secret::new(fields[4..].join(":")))
}

/// Splits on unescaped `:`, removing `\` escapes; the password keeps any further `:`.
fn split_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = line.trim_end_matches('\r').chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ':' if fields.len() < 4 => fields.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    fields.push(current);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(host: &'a str, database: &'a str) -> Lookup<'a> {
        Lookup {
            host,
            port: "5432",
            database,
            user: "app",
        }
    }

    #[test]
    fn first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# comment\nother:5432:*:app:nope\ndb.example:*:app:app:first\\:pw\n*:*:*:app:fallback\n";
        assert_eq!(
            find_in_text(text, &lookup("db.example", "app"))
                .unwrap()
                .expose(),
            "first:pw"
        );
        assert_eq!(
            find_in_text(text, &lookup("db.example", "other"))
                .unwrap()
                .expose(),
            "fallback"
        );
        assert!(find_in_text("h:5432:d:u:p\n", &lookup("x", "d")).is_none());
    }

    #[test]
    fn sockets_match_localhost() {
        let text = "localhost:5432:app:app:sock\n";
        assert_eq!(
            find_in_text(text, &lookup("", "app")).unwrap().expose(),
            "sock"
        );
        assert_eq!(
            find_in_text(text, &lookup(crate::conn::DEFAULT_SOCKET_DIR, "app"))
                .unwrap()
                .expose(),
            "sock"
        );
    }

    #[test]
    fn an_open_file_is_not_usable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:x\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            classify(path.clone()),
            PassFile::TooOpen(_, 0o644)
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(classify(path.clone()), PassFile::Usable(path));
    }
}
