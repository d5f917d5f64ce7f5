//! The naming convention and lint options: defaults, `dbtool.toml` (or `[tool.dbtool]` in
//! `pyproject.toml`), then `--convention` flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;

use crate::exit::invalid;
use crate::lint::convention_source::{self, SourceConvention};
use crate::lint::naming::NamingConvention;

/// When `%(column_0_label)s` carries the schema: SQLAlchemy adds it for tables declared `schema=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSchema {
    /// Tables outside the first schema of the search path are declared with `schema=`.
    OutsideSearchPath,
    Always,
    Never,
}

/// `dbtool.toml`, as far as lint-constraints reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    /// The application's directory for `--app-from`, relative to the config file's directory:
    /// read by [`app_from`] for every subcommand, declared here so that lint accepts the key.
    #[serde(default)]
    #[expect(dead_code, reason = "read by app_from(), which every subcommand calls")]
    app_from: Option<PathBuf>,
    #[serde(default)]
    naming_convention: BTreeMap<String, String>,
    #[serde(default)]
    lint: LintSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LintSection {
    label_schema: Option<LabelSchema>,
    /// `schema.table.name` patterns (`*`, `?`) of objects never reported.
    #[serde(default)]
    ignore: Vec<String>,
    /// The Python file whose `MetaData(naming_convention=...)` is the convention, relative to
    /// the config file's directory.
    convention_from: Option<PathBuf>,
}

/// The resolved lint configuration.
#[derive(Debug, Clone)]
pub struct LintOptions {
    pub convention: NamingConvention,
    pub label_schema: LabelSchema,
    pub ignore: Vec<String>,
    /// The `dbtool.toml` or `pyproject.toml` that was read.
    pub config_file: Option<PathBuf>,
}

/// `pyproject.toml`, as far as dbtool reads it: `[tool.dbtool]`, with `dbtool.toml`'s keys.
#[derive(Debug, Default, Deserialize)]
struct PyProject {
    #[serde(default)]
    tool: PyProjectTools,
}

#[derive(Debug, Default, Deserialize)]
struct PyProjectTools {
    dbtool: Option<FileConfig>,
}

/// Finds the configuration by walking up from `start`: in each directory `dbtool.toml`, else a
/// `pyproject.toml` with a `[tool.dbtool]` table (as ruff and sqlfluff look for theirs).
fn find_config(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let own = dir.join("dbtool.toml");
        if own.is_file() {
            return Some(own);
        }
        let pyproject = dir.join("pyproject.toml");
        has_dbtool_table(&pyproject).then_some(pyproject)
    })
}

/// `app_from` of the configuration found upwards from the working directory, relative to it;
/// a configuration that cannot be read is left to lint-constraints to report.
pub(crate) fn app_from() -> Option<PathBuf> {
    let path = find_config(&std::env::current_dir().ok()?)?;
    let table = std::fs::read_to_string(&path)
        .ok()?
        .parse::<toml::Table>()
        .ok()?;
    let section = if is_pyproject(&path) {
        table.get("tool")?.get("dbtool")?
    } else {
        &toml::Value::Table(table)
    };
    let relative = section.get("app_from")?.as_str()?;
    Some(path.parent()?.join(relative))
}

/// Whether `path` is a pyproject.toml with `[tool.dbtool]` (one that cannot be read or parsed
/// is not ours to judge: it is skipped, as other tools' sections are).
fn has_dbtool_table(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.parse::<toml::Table>().is_ok_and(|table| {
        table
            .get("tool")
            .and_then(|tool| tool.get("dbtool"))
            .is_some()
    })
}

fn is_pyproject(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name == "pyproject.toml")
}

/// The Python file the convention was read from, and what was found in it.
pub(crate) type ConventionFrom = (PathBuf, SourceConvention);

/// The convention: the defaults, then `dbtool.toml` or `pyproject.toml` (`--config` or found
/// upwards), then `--convention KEY=TEMPLATE`. A Python file (`--convention-from`, else the
/// config's `convention_from`) replaces the defaults and `[naming_convention]` as a whole; a
/// config setting both is refused as ambiguous.
pub(crate) fn resolve(
    config: Option<&Path>,
    conventions: &[String],
    convention_from: Option<&Path>,
    label_schema: Option<LabelSchema>,
) -> Result<(LintOptions, Option<ConventionFrom>)> {
    let path = match config {
        Some(path) => Some(path.to_path_buf()),
        None => std::env::current_dir()
            .ok()
            .and_then(|cwd| find_config(&cwd)),
    };
    let file: FileConfig = match &path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                invalid(format!(
                    "cannot read {}: {e}; fix the path given to --config",
                    path.display()
                ))
            })?;
            let parsed = if is_pyproject(path) {
                toml::from_str::<PyProject>(&text).map(|p| p.tool.dbtool.unwrap_or_default())
            } else {
                toml::from_str::<FileConfig>(&text)
            };
            parsed.map_err(|e| {
                let first = e
                    .message()
                    .lines()
                    .next()
                    .unwrap_or("invalid TOML")
                    .to_string();
                let line = e.span().map(|s| {
                    text.as_bytes()[..s.start.min(text.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                        + 1
                });
                let sections = if is_pyproject(path) {
                    "[tool.dbtool.naming_convention] and [tool.dbtool.lint]"
                } else {
                    "[naming_convention] and [lint]"
                };
                invalid(format!(
                    "invalid {}{}: {first}; see docs/lint-constraints.md for {sections}",
                    path.display(),
                    line.map(|l| format!(" line {l}")).unwrap_or_default()
                ))
            })?
        }
        None => FileConfig::default(),
    };
    if let (Some(path), Some(_)) = (&path, &file.lint.convention_from)
        && !file.naming_convention.is_empty()
    {
        return Err(invalid(format!(
            "{} sets both [lint] convention_from and [naming_convention]; keep one (--convention KEY=TEMPLATE overrides single templates)",
            path.display()
        )));
    }
    let python_file = match (convention_from, &file.lint.convention_from) {
        (Some(flag), _) => Some(flag.to_path_buf()),
        (None, Some(relative)) => Some(
            path.as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new(""))
                .join(relative),
        ),
        (None, None) => None,
    };
    let source = python_file
        .map(|file| convention_source::read(&file).map(|source| (file, source)))
        .transpose()?;
    let mut convention = match &source {
        Some((_, source)) => source.convention.clone(),
        None => file_convention(&file.naming_convention)?,
    };
    for pair in conventions {
        let (key, template) = pair.split_once('=').ok_or_else(|| {
            invalid(format!(
                "--convention {pair:?}: expected KEY=TEMPLATE, e.g. ix=ix_%(column_0_label)s"
            ))
        })?;
        convention
            .set(key.trim(), template)
            .map_err(|e| invalid(format!("--convention {key}: {e}")))?;
    }
    let options = LintOptions {
        convention,
        label_schema: label_schema
            .or(file.lint.label_schema)
            .unwrap_or(LabelSchema::OutsideSearchPath),
        ignore: file.lint.ignore,
        config_file: path,
    };
    Ok((options, source))
}

/// The defaults with the config's `[naming_convention]` entries over them.
fn file_convention(entries: &BTreeMap<String, String>) -> Result<NamingConvention> {
    let mut convention = NamingConvention::app_default();
    for (key, template) in entries {
        convention
            .set(key, template)
            .map_err(|e| invalid(format!("[naming_convention] {key}: {e}")))?;
    }
    Ok(convention)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::naming::Kind;

    #[test]
    fn flags_beat_the_file_and_bad_types_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dbtool.toml");
        std::fs::write(&path, "[naming_convention]\nix = \"idx_%(table_name)s_%(column_0_name)s\"\n[lint]\nignore = [\"public.legacy*\"]\n").unwrap();
        let (options, _) =
            resolve(Some(&path), &["pk=pkey_%(table_name)s".into()], None, None).unwrap();
        assert_eq!(
            options.convention.template(Kind::Pk).unwrap().source(),
            "pkey_%(table_name)s"
        );
        assert_eq!(
            options.convention.template(Kind::Ix).unwrap().source(),
            "idx_%(table_name)s_%(column_0_name)s"
        );
        assert_eq!(options.ignore, ["public.legacy*"]);
        std::fs::write(&path, "[lint]\nignore = 3\n").unwrap();
        let error = resolve(Some(&path), &[], None, None).unwrap_err();
        assert_eq!(
            crate::exit::outcome_of(&error),
            crate::exit::Outcome::NoAttempt
        );
        assert!(format!("{error:#}").contains("line 2"), "{error:#}");
        assert!(resolve(None, &["pk".into()], None, None).is_err());
        assert!(resolve(None, &["pk=pk_%(no_such_token)s".into()], None, None).is_err());
    }

    #[test]
    fn pyproject_has_the_same_keys_under_tool_dbtool_and_dbtool_toml_wins() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("app/migrations");
        std::fs::create_dir_all(&nested).unwrap();
        let pyproject = root.path().join("pyproject.toml");
        std::fs::write(
            &pyproject,
            "[project]\nname = \"app\"\n[tool.ruff]\nline-length = 100\n\
             [tool.dbtool.naming_convention]\npk = \"pkey_%(table_name)s\"\n\
             [tool.dbtool.lint]\nignore = [\"public.alembic_version*\"]\n",
        )
        .unwrap();
        assert_eq!(find_config(&nested).as_deref(), Some(pyproject.as_path()));
        let (options, _) = resolve(Some(&pyproject), &[], None, None).unwrap();
        assert_eq!(
            options.convention.template(Kind::Pk).unwrap().source(),
            "pkey_%(table_name)s"
        );
        assert_eq!(options.ignore, ["public.alembic_version*"]);
        // A pyproject.toml without [tool.dbtool] is not a configuration.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("pyproject.toml"), "[tool.ruff]\n").unwrap();
        assert_eq!(find_config(other.path()), None);
        // dbtool.toml beside it wins.
        let own = root.path().join("dbtool.toml");
        std::fs::write(&own, "[lint]\n").unwrap();
        assert_eq!(find_config(&nested).as_deref(), Some(own.as_path()));
        // Unknown keys under [tool.dbtool] are refused with the line, as in dbtool.toml.
        std::fs::write(
            &pyproject,
            "[tool.dbtool.lint]\nignore = []\nno_such_key = 1\n",
        )
        .unwrap();
        let error = format!(
            "{:#}",
            resolve(Some(&pyproject), &[], None, None).unwrap_err()
        );
        assert!(
            error.contains("line 3") && error.contains("[tool.dbtool.lint]"),
            "{error}"
        );
    }
}
