//! `dbtool explain`: every registered code is explained, and every example that needs no server
//! really reports its code when run as written (the command line is split as a POSIX shell
//! would, so its quoting is checked too).

use crate::cli::{dbtool, run, run_json, shell_words};

#[test]
fn every_offline_example_reports_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = run_json(dbtool(dir.path()).args(["explain", "--format", "json"]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    let codes = json["codes"].as_array().unwrap();
    assert!(codes.len() >= 52, "{} codes", codes.len());
    let (mut ran, mut wrong) = (0, Vec::<String>::new());
    for entry in codes {
        let code = entry["code"].as_str().unwrap();
        for field in ["level", "summary", "fix"] {
            assert!(
                !entry[field].as_str().unwrap().is_empty(),
                "{code}: no {field}"
            );
        }
        assert!(
            !entry["reported_by"].as_array().unwrap().is_empty(),
            "{code}"
        );
        let Some(command) = entry["example"]["command"].as_str() else {
            assert!(
                entry["example"]["situation"].as_str().unwrap().len() > 20,
                "{code}"
            );
            continue;
        };
        let words = shell_words(command);
        assert_eq!(words[0], "dbtool", "{command}");
        let (result, report) = run_json(
            dbtool(dir.path())
                .args(&words[1..2])
                .args(["--no-dotenv", "--format", "json"])
                .args(&words[2..]),
        );
        let reported: Vec<&str> = report["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("{command}: {report} {}", result.stderr))
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        if !reported.contains(&code) {
            wrong.push(format!("{command} reported {reported:?}, not {code}"));
        }
        ran += 1;
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Most codes come from check-url, whose examples need no server.
    assert!(ran >= 40, "only {ran} examples ran");
}

/// `docs/findings.md` is generated from the registry, as `explain --format json` gives it:
/// regenerate it with `DBTOOL_UPDATE_DOCS=1 cargo test --test it explain` after changing a code.
#[test]
fn docs_findings_md_is_generated_from_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let (result, json) = run_json(dbtool(dir.path()).args(["explain", "--format", "json"]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    let generated = findings_markdown(json["codes"].as_array().unwrap());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/findings.md");
    if std::env::var_os("DBTOOL_UPDATE_DOCS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/findings.md is out of date: run DBTOOL_UPDATE_DOCS=1 cargo test --test it explain"
    );
}

fn findings_markdown(codes: &[serde_json::Value]) -> String {
    let text = |entry: &serde_json::Value, field: &str| entry[field].as_str().unwrap().to_string();
    let reported_by = |entry: &serde_json::Value| {
        let names: Vec<&str> = entry["reported_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        names.join(", ")
    };
    let mut markdown = String::from(
        "# Findings\n\n\
         Every finding dbtool reports, generated from its registry (`src/finding.rs`, \
         `src/explain.rs`) by `tests/it/explain.rs`; `dbtool explain CODE` prints the same. \
         An error makes the command exit 1; a warning does not, unless `--strict`.\n\n\
         | code | level | reported by |\n|---|---|---|\n",
    );
    for entry in codes {
        let code = text(entry, "code");
        let anchor: String = code
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        markdown += &format!(
            "| [`{code}`](#{anchor}) | {} | {} |\n",
            text(entry, "level"),
            reported_by(entry)
        );
    }
    for entry in codes {
        let example = match entry["example"]["command"].as_str() {
            Some(command) => format!("\n\n```console\n$ {command}\n```\n"),
            None => format!(" {}.\n", text(&entry["example"], "situation")),
        };
        markdown += &format!(
            "\n## {}\n\n**{}**, reported by {}. {}.\n\n**Fix:** {}.\n\n**Example:**{example}",
            text(entry, "code"),
            text(entry, "level"),
            reported_by(entry),
            text(entry, "summary"),
            text(entry, "fix"),
        );
    }
    markdown
}

#[test]
fn one_code_is_explained_and_an_unknown_one_gets_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args(["explain", "ASYNCPG-SSLMODE"]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result
            .stdout
            .starts_with("asyncpg-sslmode  (error; reported by check-url, ping)")
    );
    assert!(
        result
            .stdout
            .contains("How to fix     write ?ssl=MODE instead.")
    );
    let result = run(dbtool(dir.path()).args(["explain", "asyncpg-ssl"]));
    assert_eq!(result.code, 3);
    assert_eq!(
        result.stderr.trim(),
        "dbtool: error: no finding code \"asyncpg-ssl\"; did you mean asyncpg-sslmode? \
         `dbtool explain` lists every code"
    );
    assert!(result.stdout.is_empty());
}

#[test]
fn shell_words_undo_the_quoting() {
    assert_eq!(
        shell_words(r"dbtool check-url 'it'\''s a b'"),
        ["dbtool", "check-url", "it's a b"]
    );
}

/// Each subcommand's --help ends with two or three examples, and each parses as written (a
/// variable such as "$DATABASE_URL" stands for a URL; a redirection is the shell's).
#[test]
fn every_subcommand_has_examples_that_parse() {
    use clap::CommandFactory;
    let mut root = dbtool::cli::Cli::command();
    root.build();
    for sub in root.get_subcommands().filter(|s| s.get_name() != "help") {
        let help = sub
            .get_after_long_help()
            .unwrap_or_else(|| panic!("{} has no examples", sub.get_name()))
            .to_string();
        let examples: Vec<&str> = help
            .lines()
            .filter_map(|line| line.trim().strip_prefix("dbtool "))
            .collect();
        assert!(
            (2..=3).contains(&examples.len()),
            "{}: {examples:?}",
            sub.get_name()
        );
        for example in examples {
            let line = example.split(" > ").next().unwrap();
            let words: Vec<String> = std::iter::once("dbtool".to_string())
                .chain(
                    shell_words(line)
                        .into_iter()
                        .map(|word| match word.as_str() {
                            "$DATABASE_URL" => "postgresql://db/app".to_string(),
                            _ => word,
                        }),
                )
                .collect();
            if let Err(error) = dbtool::cli::Cli::try_parse_args(&words) {
                panic!("{}: `{line}` does not parse: {error}", sub.get_name());
            }
        }
    }
}
