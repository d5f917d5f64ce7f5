//! Every repository path a comment cites exists: a comment that sends the reader to a file that
//! was renamed or never written is worse than none.
//!
//! The test reads every line of the documentation (the Markdown files at the top, in `docs/` and
//! beside the sources) and the comments of every source file under `src/`, `tests/`,
//! `scripts/`, `fuzz/` and `.ci/` (data is left out: fixtures, snapshots, proptest regressions,
//! fuzz corpora, build output): `//`, `///`, `//!` and `/* */` comments in Rust and C, `#` comments in shell, Python,
//! TOML and YAML files and in scripts without an extension that start with `#!`, and Python
//! docstrings. A comment cites a path when one of its words starts with a top-level directory
//! (one of [`TOP_DIRS`], the directories of the repository and those it may grow) or is a
//! top-level file (an upper-case Markdown name such as `README.md`, or one of [`TOP_FILES`]);
//! trailing sentence punctuation is dropped. Each must exist relative to the repository root.
//!
//! Two kinds of citation are not plain paths. A pattern (a word with `<`, `*`, `{`, `?`) is
//! checked up to its last fixed directory. A path in another project's source tree that is
//! spelt like one of ours is accepted only under a prefix of [`OTHER_TREES`], each with its
//! reason; that none of these prefixes exists here is checked too.

use crate::layers::{Span, rust_spans};
use std::path::Path;

/// The top-level directories a cited path starts with.
const TOP_DIRS: [&str; 7] = [
    "src",
    "tests",
    "scripts",
    "fuzz",
    "docs",
    "completions",
    ".ci",
];

/// Top-level files besides the upper-case Markdown ones. Not `pyproject.toml`: comments name
/// the application's own, where `[tool.dbtool]` goes.
const TOP_FILES: [&str; 4] = ["Cargo.toml", "Cargo.lock", ".env.example", ".gitignore"];

/// Characters that make a cited path a pattern, checked up to its last fixed directory.
const PLACEHOLDERS: [char; 4] = ['<', '*', '{', '?'];

/// Other projects' source trees, cited by their own paths: (prefix, whose tree and why cited).
const OTHER_TREES: [(&str, &str); 4] = [
    (
        "src/backend/",
        "PostgreSQL's server, whose naming and quoting functions lint::naming ports",
    ),
    (
        "src/include/",
        "PostgreSQL's headers, whose keyword list lint::naming::keywords copies",
    ),
    (
        "src/interfaces/",
        "PostgreSQL's libpq, whose URI parser and regression cases url::libpq ports",
    ),
    (
        "src/input/",
        "pydantic-core, whose text-to-value conversions settings::pydantic ports",
    ),
];

/// Data under the roots, read by tests but not source: its `#` lines are no comments.
const DATA: [&str; 6] = [
    "tests/fixtures",
    "tests/it/snapshots",
    "tests/proptest-regressions",
    "fuzz/corpus",
    "fuzz/artifacts",
    "fuzz/target",
];

/// Output that tools write when they run, cited as where to look: it need not exist.
const GENERATED: [&str; 2] = ["fuzz/artifacts/", "fuzz/target/"];

/// How a file writes its comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// `//` and `/* */`: Rust and C.
    Slashes,
    /// `#` to the end of the line; `python` also takes docstrings.
    Hashes { python: bool },
    /// Documentation: every line is read.
    Markdown,
}

/// A path a comment cites, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Citation {
    file: String,
    line: usize,
    path: String,
}

/// The syntax of a file's comments, if it is a source file whose comments are read.
fn syntax_of(path: &Path, text: &str) -> Option<Syntax> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("rs" | "c" | "h") => Some(Syntax::Slashes),
        Some("py") => Some(Syntax::Hashes { python: true }),
        Some("sh" | "toml" | "yml" | "yaml") => Some(Syntax::Hashes { python: false }),
        Some("md") => Some(Syntax::Markdown),
        None if text.starts_with("#!") => Some(Syntax::Hashes {
            python: text.lines().next().is_some_and(|l| l.contains("python")),
        }),
        _ => None,
    }
}

/// The comments of a Rust or C source, `(line, text)` for each line a comment covers, with
/// string, raw string and character literals skipped (and lifetimes told from characters).
fn slash_comments(source: &str) -> Vec<(usize, String)> {
    let mut comments = Vec::new();
    let mut line = 1;
    for (kind, text) in rust_spans(source) {
        if kind == Span::Comment {
            for (k, part) in text.split('\n').enumerate() {
                comments.push((line + k, part.to_string()));
            }
        }
        line += text.matches('\n').count();
    }
    comments
}

/// The `#` comment of one line of shell, Python, TOML or YAML: a line that starts with `#`, or
/// the end of a line from a `#` after a blank outside quotes.
fn hash_comment(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') {
        return Some(trimmed);
    }
    let (mut single, mut double, mut escaped) = (false, false, false);
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else {
            match c {
                '\\' if !single => escaped = true,
                '\'' if !double => single = !single,
                '"' if !single => double = !double,
                '#' if !single && !double && previous.is_whitespace() => {
                    return Some(&line[at..]);
                }
                _ => {}
            }
        }
        previous = c;
    }
    None
}

/// The comments of a `#` file, `(line, text)`; with `python`, also the lines of docstrings (a
/// triple-quoted string that starts a line).
fn hash_comments(source: &str, python: bool) -> Vec<(usize, String)> {
    let mut comments = Vec::new();
    // The closing quotes of the docstring the current line is in.
    let mut docstring: Option<&str> = None;
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        if let Some(quotes) = docstring {
            match line.find(quotes) {
                Some(at) => {
                    comments.push((number, line[..at].to_string()));
                    docstring = None;
                }
                None => comments.push((number, line.to_string())),
            }
            continue;
        }
        if python {
            let trimmed = line.trim_start();
            let unprefixed = trimmed.trim_start_matches(['r', 'R', 'b', 'B', 'u', 'U']);
            if let Some(quotes) = ["\"\"\"", "'''"]
                .into_iter()
                .find(|q| unprefixed.starts_with(q) && trimmed.len() - unprefixed.len() <= 2)
            {
                let rest = &unprefixed[quotes.len()..];
                match rest.find(quotes) {
                    Some(at) => comments.push((number, rest[..at].to_string())),
                    None => {
                        comments.push((number, rest.to_string()));
                        docstring = Some(quotes);
                    }
                }
                continue;
            }
        }
        if let Some(comment) = hash_comment(line) {
            comments.push((number, comment.to_string()));
        }
    }
    comments
}

/// The paths a comment cites: its words that start with a top-level directory or are a
/// top-level file, without trailing sentence punctuation.
fn cited_paths(comment: &str) -> Vec<&str> {
    let path_char = |c: char| c.is_ascii_alphanumeric() || "_./<>*{}?~$@+-".contains(c);
    comment
        .split(|c: char| !path_char(c))
        .map(|word| word.trim_end_matches(['.', '?']))
        .filter(|word| {
            let rooted = word
                .split_once('/')
                .is_some_and(|(first, _)| TOP_DIRS.contains(&first));
            rooted || TOP_FILES.contains(word) || is_upper_markdown(word)
        })
        .collect()
}

/// `README.md`, `ARCHITECTURE.md`: an upper-case name with the Markdown extension.
fn is_upper_markdown(word: &str) -> bool {
    word.strip_suffix(".md").is_some_and(|stem| {
        stem.starts_with(|c: char| c.is_ascii_uppercase())
            && stem
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
    })
}

/// Whether a cited path is missing under `root`: a pattern up to its last fixed directory, and
/// nothing under another project's tree.
fn is_missing(root: &Path, path: &str) -> bool {
    if OTHER_TREES
        .iter()
        .any(|(prefix, _)| path.starts_with(prefix))
        || GENERATED.iter().any(|prefix| path.starts_with(prefix))
    {
        return false;
    }
    let fixed = match path.find(PLACEHOLDERS) {
        Some(at) => &path[..path[..at].rfind('/').map_or(0, |slash| slash + 1)],
        None => path,
    };
    !root.join(fixed).exists()
}

/// The citations in one file's text (`file` is its path relative to the root, with `/`).
fn citations(file: &str, text: &str, syntax: Syntax) -> Vec<Citation> {
    let comments = match syntax {
        Syntax::Slashes => slash_comments(text),
        Syntax::Hashes { python } => hash_comments(text, python),
        Syntax::Markdown => text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line.to_string()))
            .collect(),
    };
    comments
        .iter()
        .flat_map(|(line, comment)| {
            cited_paths(comment).into_iter().map(move |path| Citation {
                file: file.to_string(),
                line: *line,
                path: path.to_string(),
            })
        })
        .collect()
}

/// Every source file under `dir` whose comments are read, as (path relative to `root` with `/`,
/// text, syntax), sorted; data directories, build output and hidden directories left out.
fn read_sources(root: &Path, dir: &Path, files: &mut Vec<(String, String, Syntax)>) {
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = relative(path.as_path());
        if path.is_dir() {
            let skipped = DATA.contains(&file.as_str())
                || name == "target"
                || name == "__pycache__"
                || name.starts_with('.');
            if !skipped {
                read_sources(root, &path, files);
            }
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(syntax) = syntax_of(&path, &text) {
            files.push((file, text, syntax));
        }
    }
}

#[test]
fn every_path_cited_in_a_comment_or_the_docs_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (prefix, whose) in OTHER_TREES {
        assert!(
            !root.join(prefix).exists(),
            "{prefix} exists in this repository now, so it no longer stands only for {whose}: \
             take it out of OTHER_TREES"
        );
    }
    let mut files = Vec::new();
    for dir in ["src", "tests", "scripts", "fuzz", ".ci", "docs"] {
        read_sources(root, &root.join(dir), &mut files);
    }
    // The documentation at the top: README.md, ARCHITECTURE.md, TESTING.md, ...
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_file() && name.ends_with(".md") {
            files.push((
                name,
                std::fs::read_to_string(&path).unwrap(),
                Syntax::Markdown,
            ));
        }
    }
    assert!(
        files.iter().any(|(file, ..)| file == "README.md")
            && files.iter().any(|(file, ..)| file == "docs/pool-bench.md"),
        "the documentation was not read"
    );
    let found: Vec<Citation> = files
        .iter()
        .flat_map(|(file, text, syntax)| citations(file, text, *syntax))
        .collect();
    // Not vacuous: the sources were read and their citations found.
    assert!(
        files.len() > 100 && found.len() > 40,
        "read {} files with {} citations under {}",
        files.len(),
        found.len(),
        root.display()
    );
    let missing: Vec<String> = found
        .iter()
        .filter(|citation| is_missing(root, &citation.path))
        .map(|citation| format!("{}:{}: {}", citation.file, citation.line, citation.path))
        .collect();
    assert!(
        missing.is_empty(),
        "{} paths cited in comments do not exist; point each comment at the file that does, or \
         drop the citation (a path in another project's tree goes into OTHER_TREES, with why):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// The checker itself, on made-up sources.
mod checker {
    use super::*;

    fn lines(found: &[(usize, String)]) -> Vec<(usize, &str)> {
        found.iter().map(|(n, t)| (*n, t.as_str())).collect()
    }

    #[test]
    fn rust_comments_are_found_and_literals_skipped() {
        let source = "//! a\nfn f<'a>(x: &'a str) -> char { // b\n    let _ = \"// no\";\n    \
                      let _ = r#\"/* no \"# ; let _ = '\"'; let _ = '\\''; /* c\n d */ 'x'\n}\n/// e\n";
        assert_eq!(
            lines(&slash_comments(source)),
            [
                (1, "//! a"),
                (2, "// b"),
                (4, "/* c"),
                (5, " d */"),
                (7, "/// e")
            ]
        );
    }

    #[test]
    fn hash_comments_skip_quotes_and_read_docstrings() {
        let shell = "#!/bin/sh\necho \"# no\" '# no' # yes\nx=$# # too\n  # whole\n";
        assert_eq!(
            lines(&hash_comments(shell, false)),
            [(1, "#!/bin/sh"), (2, "# yes"), (3, "# too"), (4, "# whole")]
        );
        let python =
            "\"\"\"One line.\"\"\"\ndef f():\n    r'''Two\n    lines'''\n    x = \"\"\"no\"\"\"\n";
        assert_eq!(
            lines(&hash_comments(python, true)),
            [(1, "One line."), (3, "Two"), (4, "    lines")]
        );
    }

    #[test]
    fn citations_start_at_the_root_or_name_a_top_level_file() {
        assert_eq!(
            cited_paths(
                "see `src/lib.rs`, (tests/it/main.rs). README.md and .ci/run; not \
                 postgres/src/x.c, ../src/y, https://host/src/z, ~/.pgpass, srcs/a, pyproject.toml"
            ),
            ["src/lib.rs", "tests/it/main.rs", "README.md", ".ci/run"]
        );
        assert_eq!(
            cited_paths("fuzz/corpus/<target>/ and tests/it/libpq_*.rs?"),
            ["fuzz/corpus/<target>/", "tests/it/libpq_*.rs"]
        );
    }

    #[test]
    fn missing_paths_patterns_and_other_trees() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(!is_missing(root, "src/lib.rs"));
        assert!(!is_missing(root, "tests/it/"));
        assert!(!is_missing(root, "fuzz/corpus/<target>/"));
        assert!(!is_missing(root, "tests/it/libpq_*.rs"));
        assert!(is_missing(root, "tests/nowhere/<name>.rs"));
        assert!(!is_missing(root, "src/backend/parser/scansup.c"));
    }

    /// Comments this test was written against: each cited a file that did not exist.
    #[test]
    fn the_comments_it_was_written_for_fail() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let old = "/// Expected values (see scripts/sqlalchemy_urls.py).\n\
                   //! Checked against PostgreSQL 15 by `scripts/sqlfile_vs_postgres.sh`. Not\n\
                   //! Layers (STYLE.md, \"Layers\"): a module may use what is below it\n";
        let missing: Vec<(usize, String)> = citations("old.rs", old, Syntax::Slashes)
            .into_iter()
            .filter(|c| is_missing(root, &c.path))
            .map(|c| (c.line, c.path))
            .collect();
        assert_eq!(
            missing,
            [
                (1, "scripts/sqlalchemy_urls.py".to_string()),
                (2, "scripts/sqlfile_vs_postgres.sh".to_string()),
                (3, "STYLE.md".to_string()),
            ]
        );
    }
}
