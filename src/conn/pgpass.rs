//! The password file, read as libpq reads it (`passwordFromFile` in `fe-connect.c`).
//!
//! `PGPASSFILE` names the file, else `~/.pgpass`. A file that other users can read (any group or
//! other permission bit) is ignored with a warning. Each line is `host:port:database:user:password`;
//! `*` matches anything, `\` escapes `:` and `\`, lines starting with `#` are comments. The first
//! matching line wins. For a Unix socket at the default directory, or no host, libpq matches the
//! host `localhost`.

use std::path::Path;

use crate::environment::Environment;
use crate::password::PasswordFile;
use crate::secret::Secret;

/// The password file libpq would consult, from `passfile` (URL), `PGPASSFILE` or `~/.pgpass`
/// (`None` without a home directory). An empty `passfile` means `~/.pgpass`, not `PGPASSFILE`.
pub(crate) fn locate(env: &Environment, passfile: Option<&str>) -> Option<PasswordFile> {
    let path = match passfile
        .map(str::to_string)
        .or_else(|| env.libpq("PGPASSFILE"))
    {
        Some(path) if !path.is_empty() => path.into(),
        _ => env.home()?.join(".pgpass"),
    };
    Some(PasswordFile::at(path))
}

/// The connection a password is looked up for, after defaults apply.
#[derive(Debug, Clone)]
pub(crate) struct Lookup<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: &'a str,
    pub(crate) database: &'a str,
    pub(crate) user: &'a str,
}

/// The password of the first matching line of a usable file, if any.
pub(crate) fn find_password(file: &Path, lookup: &Lookup<'_>) -> Option<Secret> {
    let text = std::fs::read_to_string(file).ok()?;
    find_in_text(&text, lookup)
}

/// The line-matching rule, separate from the file for testing.
pub(crate) fn find_in_text(text: &str, lookup: &Lookup<'_>) -> Option<Secret> {
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
    fn the_file_is_passfile_else_pgpassfile_else_home() {
        let env = Environment::injected([("PGPASSFILE", "/env/pgpass"), ("HOME", "/home/u")]);
        let path = |env: &Environment, passfile: Option<&str>| match locate(env, passfile) {
            Some(PasswordFile::Missing(path)) => Some(path),
            other => panic!("{other:?}"),
        };
        assert_eq!(path(&env, Some("/url/pgpass")), Some("/url/pgpass".into()));
        assert_eq!(path(&env, None), Some("/env/pgpass".into()));
        assert_eq!(path(&env, Some("")), Some("/home/u/.pgpass".into()));
        let home_only = Environment::injected([("PGPASSFILE", ""), ("HOME", "/home/u")]);
        assert_eq!(path(&home_only, None), Some("/home/u/.pgpass".into()));
        assert_eq!(locate(&Environment::empty(), None), None);
    }
}
