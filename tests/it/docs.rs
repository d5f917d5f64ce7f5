//! The README's "What it looks like" examples are the real binary's output: each block marked
//! `<!-- example: NAME -->` holds a `$ dbtool ...` command line, run here from the repository's
//! root as a shell would split it, followed by exactly what it prints. A change to the output
//! fails this test; `DBTOOL_UPDATE_DOCS=1 cargo test --test it docs` rewrites the blocks.

use crate::cli::{dbtool, run, shell_words};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

/// The README with every example block's output replaced by what its command prints now.
fn regenerated(readme: &str) -> (String, usize) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut out, mut examples, mut lines) = (String::new(), 0, readme.lines());
    while let Some(line) = lines.next() {
        out += line;
        out += "\n";
        if !line.starts_with("<!-- example: ") {
            continue;
        }
        let fence = lines.next().expect("a ```console fence after the marker");
        assert_eq!(fence, "```console", "after {line}");
        let command = lines.next().expect("a command line");
        let words = shell_words(command.strip_prefix("$ ").expect("a `$ dbtool` line"));
        assert_eq!(words[0], "dbtool", "{command}");
        let result = run(dbtool(root).args(&words[1..]));
        assert!(
            result.stderr.is_empty() && result.code <= 1,
            "{command}: exit {}: {}",
            result.code,
            result.stderr
        );
        out += &format!("{fence}\n{command}\n{}", result.stdout);
        if !result.stdout.ends_with('\n') {
            out += "\n";
        }
        // Skip the old output up to the closing fence, which is kept.
        for old in lines.by_ref() {
            if old == "```" {
                out += "```\n";
                break;
            }
        }
        examples += 1;
    }
    (out, examples)
}

#[test]
fn the_readme_examples_are_what_the_binary_prints() {
    let readme = std::fs::read_to_string(README).unwrap();
    let (generated, examples) = regenerated(&readme);
    assert!(
        examples >= 3,
        "only {examples} example blocks in the README"
    );
    if std::env::var_os("DBTOOL_UPDATE_DOCS").is_some() {
        std::fs::write(README, &generated).unwrap();
        return;
    }
    let drift: Vec<(usize, (&str, &str))> = readme
        .lines()
        .zip(generated.lines())
        .enumerate()
        .filter(|(_, (written, now))| written != now)
        .take(3)
        .collect();
    assert!(
        readme == generated,
        "the README's examples are out of date (first differing lines: {drift:?}); \
         run DBTOOL_UPDATE_DOCS=1 cargo test --test it docs"
    );
}

/// The README stays a five-minute read: the rest is in docs/.
#[test]
fn the_readme_is_at_most_300_lines() {
    let lines = std::fs::read_to_string(README).unwrap().lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; move detail to docs/"
    );
}
