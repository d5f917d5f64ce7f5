//! The naming convention and lint options: defaults, `dbtool.toml`, then `--convention` flags.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;

use crate::exit::invalid;
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
    #[serde(default)]
    naming_convention: std::collections::BTreeMap<String, String>,
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
}

/// The resolved lint configuration.
#[derive(Debug, Clone)]
pub struct LintOptions {
    pub convention: NamingConvention,
    pub label_schema: LabelSchema,
    pub ignore: Vec<String>,
    /// The `dbtool.toml` that was read.
    pub config_file: Option<PathBuf>,
}

/// Finds `dbtool.toml` by walking up from `start`.
fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("dbtool.toml"))
        .find(|path| path.is_file())
}

/// Defaults, then `dbtool.toml` (`--config` or found upwards), then `--convention KEY=TEMPLATE`.
pub fn resolve(
    config: Option<&Path>,
    conventions: &[String],
    label_schema: Option<LabelSchema>,
) -> Result<LintOptions> {
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
            toml::from_str(&text).map_err(|e| {
                let first = e
                    .message()
                    .lines()
                    .next()
                    .unwrap_or("invalid TOML")
                    .to_string();
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
                invalid(format!(
                    "invalid {}{}: {first}; see the README for [naming_convention] and [lint]",
                    path.display(),
                    line.map(|l| format!(" line {l}")).unwrap_or_default()
                ))
            })?
        }
        None => FileConfig::default(),
    };
    let mut convention = NamingConvention::app_default();
    for (key, template) in &file.naming_convention {
        convention
            .set(key, template)
            .map_err(|e| invalid(format!("[naming_convention] {key}: {e}")))?;
    }
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
    Ok(LintOptions {
        convention,
        label_schema: label_schema
            .or(file.lint.label_schema)
            .unwrap_or(LabelSchema::OutsideSearchPath),
        ignore: file.lint.ignore,
        config_file: path,
    })
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
        let options = resolve(Some(&path), &["pk=pkey_%(table_name)s".into()], None).unwrap();
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
        let error = resolve(Some(&path), &[], None).unwrap_err();
        assert_eq!(
            crate::exit::outcome_of(&error),
            crate::exit::Outcome::NoAttempt
        );
        assert!(format!("{error:#}").contains("line 2"), "{error:#}");
        assert!(resolve(None, &["pk".into()], None).is_err());
        assert!(resolve(None, &["pk=pk_%(no_such_token)s".into()], None).is_err());
    }
}
