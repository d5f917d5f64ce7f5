//! `dbtool lint-constraints`: constraint and index names against SQLAlchemy naming conventions,
//! read into a schema model from a live database (`catalog`) or by replaying SQL files and
//! Alembic migrations (`sqlfile`, `alembic`), checked (`rules`), and fixed with rename SQL (`fix`).

pub(crate) mod alembic;
pub(crate) mod baseline;
pub(crate) mod catalog;
pub mod config;
pub mod convention_source;
pub mod fix;
pub(crate) mod inline_ignore;
pub(crate) mod model;
pub mod naming;
pub mod rules;
pub mod sqlfile;

use std::path::PathBuf;

use anyhow::Result;

use crate::conn::connect;
use crate::conn::plan::{self, ConnectionPlan};
use crate::conn::tls::LATEST_LIBPQ;
use crate::environment::Environment;
use crate::lint::inline_ignore::InlineIgnores;
use crate::progress::Progress;

pub(crate) use fix::Collision;
pub(crate) use rules::Violation;

/// What a lint run needs, resolved from flags, settings and `dbtool.toml`.
#[derive(Debug, Clone)]
pub(crate) struct LintConfig {
    pub(crate) url: String,
    pub(crate) filter: catalog::Filter,
    pub(crate) options: config::LintOptions,
    pub(crate) include_partitions: bool,
    pub(crate) baseline: Option<PathBuf>,
    pub(crate) write_baseline: Option<PathBuf>,
    pub(crate) connect_timeout: Option<std::time::Duration>,
    /// SQL files and directories (`-` for stdin); none means the live database.
    pub(crate) paths: Vec<PathBuf>,
    /// Replay the files over the live schema (`--url` given with paths).
    pub(crate) files_over_live: bool,
    /// `--keep-names-for`: migrations whose drops and renames by name hold back renames.
    pub(crate) keep_names_for: Vec<PathBuf>,
    /// Alembic's `target_metadata` has `options.convention` (`--alembic-metadata-convention`);
    /// otherwise it has none and SQLAlchemy's built-in `ix` template applies.
    pub(crate) alembic_metadata_convention: bool,
}

/// The result of a lint run.
#[derive(Debug, Clone)]
pub(crate) struct LintReport {
    pub(crate) violations: Vec<Violation>,
    pub(crate) collisions: Vec<Collision>,
    pub(crate) objects_checked: usize,
    pub(crate) skipped: usize,
    pub(crate) ignored: usize,
    pub(crate) baselined: usize,
    /// Baseline entries that no longer occur.
    pub(crate) stale_baseline: Vec<baseline::BaselineEntry>,
    /// Statements in SQL files that could not be parsed or replayed, and Alembic revision
    /// graph errors.
    pub(crate) errors: Vec<sqlfile::FileError>,
    /// The revision graph, when Alembic migrations were read.
    pub(crate) alembic: Option<alembic::Graph>,
    /// Names `--keep-names-for`'s migrations drop or rename: `--fix-sql` leaves those out.
    pub(crate) references: Vec<alembic::Reference>,
}

impl LintReport {
    /// The `--fix-sql` script: every violation that has a fix renamed, one short transaction per
    /// table, each rename waiting at most `lock_timeout` for its lock.
    ///
    /// A rename of an object a migration of `--keep-names-for` drops or renames by its old name
    /// is left out, with a comment naming the migration: renamed now, that revision would fail
    /// where it has not run yet (`constraint ... does not exist`).
    pub(crate) fn fix_sql(&self, lock_timeout: std::time::Duration) -> String {
        let referring = |v: &Violation| {
            self.references
                .iter()
                .find(|r| r.name == v.name && r.table.as_ref().is_none_or(|t| *t == v.table))
        };
        let (held, renamed): (Vec<&Violation>, Vec<&Violation>) = self
            .violations
            .iter()
            .partition(|v| v.has_fix() && referring(v).is_some());
        let renamed: Vec<Violation> = renamed.into_iter().cloned().collect();
        let mut script = fix::script(&renamed, lock_timeout);
        for v in held {
            if let Some(r) = referring(v) {
                let line = format!(
                    "not renamed: {} on {}.{} (to {}): {}:{} {} it by this name; renamed now, that revision fails where it has not run yet. Rename it once the revision has run everywhere, or change the revision to the new name",
                    v.name,
                    v.schema,
                    v.table,
                    v.expected.as_deref().unwrap_or_default(),
                    r.file,
                    r.line,
                    r.action
                );
                script.push_str("-- ");
                script.push_str(&fix::comment_text(&line));
                script.push('\n');
            }
        }
        script
    }
}

/// Lints the live database, SQL files, or SQL files replayed over the live database.
pub(crate) async fn lint(
    config: &LintConfig,
    env: &Environment,
    progress: &Progress,
) -> Result<LintReport> {
    if config.paths.is_empty() {
        let schema = read_live(config, env, progress).await?;
        let mut report = check(
            &schema,
            config,
            Vec::new(),
            &InlineIgnores::default(),
            progress,
        )?;
        report.references = kept_names(config, progress)?;
        return Ok(report);
    }
    let inputs =
        sqlfile::read_inputs(&config.paths).map_err(|e| crate::exit::invalid(format!("{e:#}")))?;
    let context_convention = if config.alembic_metadata_convention {
        config.options.convention.clone()
    } else {
        naming::NamingConvention::sqlalchemy_builtin()
    };
    let (files, migrations) = replay_order(inputs, &context_convention, progress)?;
    let base = if config.files_over_live {
        Some(read_live(config, env, progress).await?)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let mut replay = sqlfile::replay(&files, base);
    progress.info(&format!(
        "replayed {} file(s), {} bytes, in {:.0} ms",
        files.len(),
        files.iter().map(|f| f.text.len()).sum::<usize>(),
        started.elapsed().as_secs_f64() * 1000.0
    ));
    let mut errors = Vec::new();
    let mut graph = None;
    if let Some(migrations) = migrations {
        alembic::relocate(
            &mut replay.schema,
            &mut replay.errors,
            &migrations.translated,
        );
        errors = migrations.errors;
        graph = Some(migrations.graph);
    }
    errors.extend(replay.errors);
    let written: Vec<sqlfile::SourceFile> = files
        .into_iter()
        .filter(|f| !f.name.ends_with(".py"))
        .collect();
    let (ignores, problems) = InlineIgnores::scan(&written);
    for problem in problems {
        progress.warn(&format!(
            "{}:{}: {}",
            problem.file, problem.line, problem.message
        ));
    }
    let mut report = check(&replay.schema, config, errors, &ignores, progress)?;
    report.alembic = graph;
    report.references = kept_names(config, progress)?;
    Ok(report)
}

/// What the migrations of `--keep-names-for` drop or rename by name.
fn kept_names(config: &LintConfig, progress: &Progress) -> Result<Vec<alembic::Reference>> {
    if config.keep_names_for.is_empty() {
        return Ok(Vec::new());
    }
    let files: Vec<sqlfile::SourceFile> = sqlfile::read_inputs(&config.keep_names_for)
        .map_err(|e| crate::exit::invalid(format!("{e:#}")))?
        .into_iter()
        .filter(|f| f.name.ends_with(".py"))
        .collect();
    let context_convention = if config.alembic_metadata_convention {
        config.options.convention.clone()
    } else {
        naming::NamingConvention::sqlalchemy_builtin()
    };
    let migrations = alembic::read(&files, &context_convention);
    if migrations.graph.revisions.is_empty() {
        return Err(crate::exit::invalid(format!(
            "--keep-names-for: no Alembic migration in {}; pass the versions directory",
            config
                .keep_names_for
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for skipped in &migrations.skipped {
        progress.warn(&skipped.to_string());
    }
    Ok(alembic::references::references(&migrations.translated))
}

/// The files to replay: SQL files in the order given, Alembic migrations (`*.py`) in revision
/// order where the first of them was given, each as the SQL Alembic would render for it.
fn replay_order(
    inputs: Vec<sqlfile::SourceFile>,
    context_convention: &naming::NamingConvention,
    progress: &Progress,
) -> Result<(Vec<sqlfile::SourceFile>, Option<alembic::Migrations>)> {
    let is_python = |f: &sqlfile::SourceFile| f.name.ends_with(".py");
    let Some(first) = inputs.iter().position(is_python) else {
        return Ok((inputs, None));
    };
    let (python, mut files): (Vec<_>, Vec<_>) = inputs.into_iter().partition(is_python);
    let migrations = alembic::read(&python, context_convention);
    for name in &migrations.not_migrations {
        progress.info(&format!(
            "{name}: not an Alembic migration (no revision = ...), not read"
        ));
    }
    for skipped in &migrations.skipped {
        progress.warn(&skipped.to_string());
    }
    if files.is_empty() && migrations.graph.revisions.is_empty() && migrations.errors.is_empty() {
        return Err(crate::exit::invalid(format!(
            "{}: no Alembic migration among the Python files (none assigns revision = \"...\"); pass the versions directory or SQL files",
            python[0].name
        )));
    }
    let at = first.min(files.len());
    let generated = migrations.translated.iter().map(|t| t.sql.clone());
    files.splice(at..at, generated);
    Ok((files, Some(migrations)))
}

/// Reads the live schema. Nothing is written to the database.
async fn read_live(
    config: &LintConfig,
    env: &Environment,
    progress: &Progress,
) -> Result<model::Schema> {
    let started = std::time::Instant::now();
    let phase = |what: &str| {
        progress.info(&format!(
            "{what} after {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        ))
    };
    let options = plan::Options {
        application_name: "dbtool-lint",
        connect_timeout: config.connect_timeout,
        libpq_major: LATEST_LIBPQ,
    };
    let target = ConnectionPlan::new(&config.url, env, &options)?;
    if let Some(warning) = &target.passfile_warning {
        progress.warn(warning);
    }
    let (client, second) = tokio::join!(connect::connect(&target), connect::connect(&target));
    let client = client?;
    let second = second.ok();
    phase("connected");
    let schema = catalog::read_schema(&client, second.as_ref(), &config.filter, progress)
        .await
        .map_err(|e| connect::query_failure(e, &target, "reading the catalogs"))?;
    drop((client, second));
    phase("read the catalogs");
    Ok(schema)
}

/// Checks a schema model and assembles the report.
fn check(
    schema: &model::Schema,
    config: &LintConfig,
    errors: Vec<sqlfile::FileError>,
    ignores: &InlineIgnores,
    progress: &Progress,
) -> Result<LintReport> {
    let started = std::time::Instant::now();
    let phase = |what: &str| {
        progress.info(&format!(
            "{what} after {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        ))
    };
    let findings = rules::check_schema(schema, &config.options, config.include_partitions)?;
    phase("checked every name");
    let mut violations = findings.violations;
    let before_inline = violations.len();
    violations.retain(|violation| !ignores.covers(violation));
    let ignored_inline = before_inline - violations.len();
    let collisions = fix::find_collisions(schema, &mut violations);
    if let Some(path) = &config.write_baseline {
        baseline::write(path, &violations)?;
    }
    let before = violations.len();
    let stale_baseline = match &config.baseline {
        Some(path) => baseline::apply(path, &mut violations)?,
        None => Vec::new(),
    };
    phase("computed the fixes");
    Ok(LintReport {
        baselined: before - violations.len(),
        violations,
        collisions,
        objects_checked: findings.objects_checked,
        skipped: findings.skipped,
        ignored: findings.ignored + ignored_inline,
        stale_baseline,
        errors,
        alembic: None,
        references: Vec::new(),
    })
}

/// `*` matches any run of characters, `?` one character.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_like_psql_patterns() {
        assert!(glob("user*", "users"));
        assert!(glob("public.o?ders", "public.orders"));
        assert!(!glob("user*", "orders"));
        assert!(glob("*", ""));
    }
}
