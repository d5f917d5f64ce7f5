//! asyncpg's password: the argument, else `PGPASSWORD` (even empty), else its password file
//! (`passfile`, else `PGPASSFILE`, else `~/.pgpass`), read its own way (`_read_password_file`,
//! `_read_password_from_pgpass`).

use std::path::PathBuf;

use super::given;
use super::hosts::Hosts;
use crate::environment::Environment;
use crate::password::{PasswordFile, PasswordSource};
use crate::secret::Secret;
use crate::url::Origin;
use crate::url::dialect::{Kwargs, PyValue};

/// The password's source, the password its file gives, and asyncpg's warning about a password
/// file it ignored.
pub(super) fn password(
    kwargs: &Kwargs,
    env: &Environment,
    hosts: &Hosts,
    user: &PyValue,
    database: &PyValue,
) -> Result<(PasswordSource, Option<Secret>, Option<String>), String> {
    if given(kwargs, "password").is_some() {
        return Ok((PasswordSource::Url, None, None));
    }
    if env.asyncpg("PGPASSWORD").is_some() {
        return Ok((PasswordSource::Env, None, None));
    }
    // The file is read for these hosts: socket directories as `localhost`, and only `localhost`
    // with the first port when asyncpg chose the hosts itself.
    let lookup: Vec<(String, i64)> = if hosts.origins.0 == Origin::Default {
        vec![("localhost".to_string(), hosts.ports[0])]
    } else {
        hosts
            .hosts
            .iter()
            .zip(&hosts.ports)
            .map(|(host, port)| {
                let host = if host.starts_with('/') {
                    "localhost"
                } else {
                    host
                };
                (host.to_string(), *port)
            })
            .collect()
    };
    let file = given(kwargs, "passfile")
        .map(PyValue::py_str)
        .or_else(|| env.asyncpg("PGPASSFILE"));
    let path = match file {
        Some(path) => PathBuf::from(path),
        None => match env.home() {
            Some(home) => home.join(".pgpass"),
            None => return Ok((PasswordSource::None, None, None)),
        },
    };
    Ok(match PasswordFile::at(path) {
        PasswordFile::Missing(_) => (PasswordSource::None, None, None),
        PasswordFile::TooOpen { path, mode } => {
            let path = path.display();
            let warning = format!(
                "password file {path} has group or world access (mode {mode:o}) and is ignored, as asyncpg does; run chmod 600 {path}"
            );
            (PasswordSource::None, None, Some(warning))
        }
        PasswordFile::Usable(path) => {
            // Unreadable: asyncpg's IOError, no lines.
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let (database, user) = (database.py_str(), user.py_str());
            match find_in_password_file(&text, &lookup, &database, &user)? {
                Some(password) => (PasswordSource::PassFile(path), Some(password), None),
                None => (PasswordSource::None, None, None),
            }
        }
    })
}

/// asyncpg's lookup (`_read_password_from_pgpass`): for each (host, port) in order, the first
/// line that matches. Its reading differs from libpq's: lines are stripped, and `\` escapes
/// only keep a `:` from separating — the backslashes stay in the values. A line with fewer than
/// five fields makes asyncpg fail (`ValueError`) when the lookup reaches it.
pub(crate) fn find_in_password_file(
    text: &str,
    hosts: &[(String, i64)],
    database: &str,
    user: &str,
) -> Result<Option<Secret>, String> {
    let table: Vec<Vec<String>> = text
        .lines()
        .map(|line| line.trim_matches(|c: char| c.is_whitespace()))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(password_file_fields)
        .collect();
    for (host, port) in hosts {
        let port = port.to_string();
        let wanted = [host.as_str(), port.as_str(), database, user];
        for fields in &table {
            if fields.len() < 5 {
                return Err(format!(
                    "ValueError: not enough values to unpack (expected 5, got {})",
                    fields.len()
                ));
            }
            if fields.iter().zip(wanted).all(|(f, w)| f == "*" || f == w) {
                return Ok(Some(Secret::new(fields[4].clone())));
            }
        }
    }
    Ok(None)
}

/// `re.split(r'(?<!\\):', line, maxsplit=4)` after `\\` is set aside, as asyncpg splits.
fn password_file_fields(line: &str) -> Vec<String> {
    let line = line.replace("\\\\", "\n");
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut previous = None;
    for c in line.chars() {
        if c == ':' && previous != Some('\\') && fields.len() < 4 {
            fields.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
        previous = Some(c);
    }
    fields.push(current);
    fields
        .into_iter()
        .map(|f| f.replace('\n', "\\\\"))
        .collect()
}
