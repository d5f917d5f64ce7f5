//! Reading the inputs: files, directories (`*.sql` and `*.py` recursively, in path order) and
//! `-` for standard input. `*.py` files are Alembic migrations, read by [`crate::lint::alembic`].

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::SourceFile;

/// The name standard input is reported under.
pub(crate) const STDIN_NAME: &str = "<stdin>";

/// Reads every input in order: a file as is, a directory as its `*.sql` and `*.py` files (recursively,
/// sorted by path), `-` as standard input (at most once). Text must be UTF-8; a leading byte
/// order mark is dropped.
pub(crate) fn read_inputs<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<SourceFile>> {
    read_inputs_from(paths, &mut std::io::stdin().lock())
}

pub(crate) fn read_inputs_from<P: AsRef<Path>>(
    paths: &[P],
    stdin: &mut dyn Read,
) -> Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    let mut stdin_read = false;
    for path in paths {
        let path = path.as_ref();
        if path == Path::new("-") {
            if stdin_read {
                bail!("standard input (-) given more than once");
            }
            stdin_read = true;
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            files.push(source(STDIN_NAME, bytes)?);
            continue;
        }
        let metadata =
            fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
        if metadata.is_dir() {
            let mut found = Vec::new();
            let mut seen = HashSet::new();
            collect_sql(path, &mut found, &mut seen)?;
            if found.is_empty() {
                bail!(
                    "{}: no *.sql files or Alembic migrations (*.py) in this directory",
                    path.display()
                );
            }
            found.sort();
            for file in found {
                files.push(read_file(&file)?);
            }
        } else {
            files.push(read_file(path)?);
        }
    }
    Ok(files)
}

fn collect_sql(dir: &Path, found: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> Result<()> {
    // a symlink loop must not recurse forever
    let canonical =
        fs::canonicalize(dir).with_context(|| format!("{}: cannot read", dir.display()))?;
    if !seen.insert(canonical) {
        return Ok(());
    }
    let entries =
        fs::read_dir(dir).with_context(|| format!("{}: cannot list directory", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot list directory", dir.display()))?;
        let path = entry.path();
        let metadata =
            fs::metadata(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        if metadata.is_dir() {
            collect_sql(&path, found, seen)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("sql") || ext == "py")
        {
            found.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<SourceFile> {
    let bytes = fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    source(&path.display().to_string(), bytes)
}

fn source(name: &str, bytes: Vec<u8>) -> Result<SourceFile> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow::anyhow!(
            "{name}: not UTF-8 text (invalid byte at offset {offset}, line {line}); convert it to UTF-8"
        )
    })?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    Ok(SourceFile {
        name: name.to_owned(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_directories_and_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("versions/b")).unwrap();
        fs::write(root.join("versions/002_b.sql"), "SELECT 2;").unwrap();
        fs::write(root.join("versions/001_a.sql"), "\u{feff}SELECT 1;").unwrap();
        fs::write(root.join("versions/b/003.SQL"), "SELECT 3;").unwrap();
        fs::write(root.join("versions/notes.txt"), "not sql").unwrap();
        fs::write(root.join("single.sql"), "SELECT 0;").unwrap();
        let mut stdin: &[u8] = b"SELECT 4;";
        let files = read_inputs_from(
            &[
                root.join("single.sql"),
                root.join("versions"),
                PathBuf::from("-"),
            ],
            &mut stdin,
        )
        .unwrap();
        let names: Vec<_> = files.iter().map(|f| f.name.clone()).collect();
        assert!(names[1].ends_with("001_a.sql") && names[2].ends_with("002_b.sql"));
        assert!(names[3].ends_with("003.SQL"));
        assert_eq!(names[4], STDIN_NAME);
        assert_eq!(files[1].text, "SELECT 1;");
        assert_eq!(files[4].text, "SELECT 4;");
    }

    #[test]
    fn reports_missing_and_non_utf8_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.sql");
        let err = read_inputs_from(&[&missing], &mut &b""[..]).unwrap_err();
        assert!(
            format!("{err:#}").contains("nope.sql: cannot read"),
            "{err:#}"
        );
        let latin1 = dir.path().join("latin1.sql");
        fs::write(&latin1, b"SELECT 1;\nSELECT 'caf\xe9';").unwrap();
        let err = read_inputs_from(&[&latin1], &mut &b""[..]).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("latin1.sql: not UTF-8") && text.contains("line 2"),
            "{text}"
        );
        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(read_inputs_from(&[&empty], &mut &b""[..]).is_err());
        let err = read_inputs_from(&["-", "-"], &mut &b""[..]).unwrap_err();
        assert!(err.to_string().contains("more than once"));
    }
}
