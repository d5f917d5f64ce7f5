//! `--convention-from FILE.py` / `[lint] convention_from`: the convention read from the
//! application's Python source agrees with what Python and SQLAlchemy make of the same file
//! (`tests/fixtures/convention_from/python.json`, written by
//! `scripts/gen_convention_from_fixture.py`), is the one the names are checked against, and
//! what cannot be read without running Python is refused with its file and line (exit 3).

use std::path::{Path, PathBuf};

use dbtool::lint::convention_source;
use dbtool::lint::naming::Kind;
use serde_json::Value;

use crate::cli::{dbtool, run};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/convention_from")
}

fn python() -> Value {
    let text = std::fs::read_to_string(fixtures().join("python.json")).expect("fixture present");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// Every `.py` under the fixture directory, relative, with `/`.
fn fixture_files(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixture_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "py") {
            let relative = path.strip_prefix(fixtures()).unwrap();
            found.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn the_convention_read_from_source_is_the_one_python_evaluates() {
    let python = python();
    let modules = python["modules"].as_object().unwrap();
    let mut files = Vec::new();
    fixture_files(&fixtures(), &mut files);
    files.sort();
    let listed: Vec<&String> = modules.keys().collect();
    assert_eq!(
        listed,
        files.iter().collect::<Vec<_>>(),
        "regenerate python.json"
    );
    let mut compared = 0;
    for (file, expected) in modules.iter().filter(|(f, _)| !f.starts_with("negative/")) {
        let found = convention_source::read(&fixtures().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e:#}"));
        let entries: Vec<(String, String)> = found
            .entries
            .iter()
            .map(|e| (e.key.clone(), e.template.clone()))
            .collect();
        let pairs: Vec<(String, String)> = expected["naming_convention"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
            .collect();
        assert_eq!(entries, pairs, "{file}");
        // and each kind gets the template SQLAlchemy's own lookup finds
        for kind in Kind::ALL {
            assert_eq!(
                found.convention.template(kind).map(|t| t.source()),
                expected["effective"][kind.abbreviation()].as_str(),
                "{file}: {kind}"
            );
        }
        compared += 1;
    }
    assert!(compared >= 9, "only {compared} layouts compared");
}

#[test]
fn what_only_running_python_could_tell_is_refused_with_file_and_line() {
    let python = python();
    let cases = [
        ("function_call.py", 8, "calling make_convention()"),
        (
            "imported.py",
            5,
            "imported from app.core.db_conventions (line 3); pass app/core/db_conventions.py",
        ),
        ("comprehension.py", 5, "a dict comprehension"),
        ("changed.py", 4, "changed here"),
        ("conditional.py", 8, "if/try/for/while"),
        ("string_class_key.py", 4, "write UniqueConstraint unquoted"),
        ("fstring.py", 4, "f-string"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (file, line, fragment) in cases {
        // Python itself evaluates every one of them
        assert!(
            python["modules"][format!("negative/{file}")]["naming_convention"].is_array(),
            "{file}"
        );
        let path = fixtures().join("negative").join(file);
        let result = run(dbtool(dir.path()).args([
            "lint-constraints",
            "--convention-from",
            path.to_str().unwrap(),
            "-",
        ]));
        assert_eq!(result.code, 3, "{file}: {}", result.stderr);
        let expected = format!("{}:{line}:", path.display());
        assert!(
            result.stderr.contains(&expected),
            "{file}: {}",
            result.stderr
        );
        assert!(
            result.stderr.contains(fragment),
            "{file}: {}",
            result.stderr
        );
        assert_eq!(
            result.stderr.trim_end().lines().count(),
            1,
            "{}",
            result.stderr
        );
    }
    let result = run(dbtool(dir.path()).args([
        "lint-constraints",
        "--convention-from",
        "no/such/base.py",
        "-",
    ]));
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(
        result.stderr.contains("no/such/base.py"),
        "{}",
        result.stderr
    );
}

/// Names that follow `app/db/base.py`'s convention (every column in `ix` and `uq`) and break
/// the default one.
const SCHEMA: &str = "CREATE TABLE orders (id int CONSTRAINT pk_orders PRIMARY KEY, a int, b int,
    CONSTRAINT uq_orders_a_b UNIQUE (a, b));
CREATE INDEX ix_orders_a_b ON orders (a, b);
";

#[test]
fn the_convention_from_source_is_the_one_checked_and_precedence_holds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("service/app/db")).unwrap();
    std::fs::copy(
        fixtures().join("app/db/base.py"),
        root.join("service/app/db/base.py"),
    )
    .unwrap();
    std::fs::write(root.join("schema.sql"), SCHEMA).unwrap();
    let lint = |cwd: &Path, args: &[&str]| {
        let schema = root.join("schema.sql");
        run(dbtool(cwd)
            .arg("lint-constraints")
            .args(args)
            .arg(schema.to_str().unwrap()))
    };
    let base = root.join("service/app/db/base.py");
    let base = base.to_str().unwrap();

    assert_eq!(lint(root, &[]).code, 1, "the default convention disagrees");
    let result = lint(root, &["--convention-from", base, "-v"]);
    assert_eq!(result.code, 0, "{}{}", result.stdout, result.stderr);
    assert!(
        result
            .stderr
            .contains("line 14: MetaData(naming_convention=...)"),
        "{}",
        result.stderr
    );
    // --convention still overrides single templates on top
    let result = lint(
        root,
        &[
            "--convention-from",
            base,
            "--convention",
            "ix=ix_%(column_0_label)s",
        ],
    );
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(result.stdout.contains("ix_orders_a_b"), "{}", result.stdout);

    // the config's path is relative to the config file, wherever dbtool runs
    let config = root.join("service/dbtool.toml");
    std::fs::write(&config, "[lint]\nconvention_from = \"app/db/base.py\"\n").unwrap();
    let result = lint(root, &["--config", config.to_str().unwrap()]);
    assert_eq!(result.code, 0, "{}{}", result.stdout, result.stderr);

    // the flag replaces the config's [naming_convention] as a whole
    std::fs::write(
        &config,
        "[naming_convention]\nuq = \"bad_%(table_name)s\"\n",
    )
    .unwrap();
    assert_eq!(lint(root, &["--config", config.to_str().unwrap()]).code, 1);
    let result = lint(
        root,
        &[
            "--config",
            config.to_str().unwrap(),
            "--convention-from",
            base,
        ],
    );
    assert_eq!(result.code, 0, "{}{}", result.stdout, result.stderr);

    // one config setting both is ambiguous
    std::fs::write(
        &config,
        "[naming_convention]\nuq = \"uq_%(table_name)s\"\n[lint]\nconvention_from = \"app/db/base.py\"\n",
    )
    .unwrap();
    let result = lint(root, &["--config", config.to_str().unwrap()]);
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("both [lint] convention_from and [naming_convention]"),
        "{}",
        result.stderr
    );
}
