//! The committed fuzz corpora (`fuzz/corpus/<target>/`) replayed through the very functions the
//! fuzz targets call (`fuzz/src/lib.rs`), so that every input the fuzzers kept, crashes they
//! found included, is checked by a plain `cargo test` without cargo-fuzz or a nightly compiler.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
mod targets;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs every input of one target's corpus; fails naming each input that panicked, and why.
fn replay(target: &str) {
    let (_, run) = targets::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let dir = corpus_root().join(target);
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    paths.sort();
    assert!(!paths.is_empty(), "{} is empty", dir.display());
    let mut failures = Vec::new();
    for path in &paths {
        let data = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
            failures.push(format!("{}: {}", path.display(), panic_message(&*payload)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs of {target} panicked:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

#[test]
fn libpq_parse_corpus() {
    replay("libpq_parse");
}

#[test]
fn url_check_corpus() {
    replay("url_check");
}

#[test]
fn sqlfile_split_corpus() {
    replay("sqlfile_split");
}

#[test]
fn sqlfile_replay_corpus() {
    replay("sqlfile_replay");
}

/// A corpus directory without a replay test here, or a target without a test, is a mistake.
#[test]
fn every_corpus_belongs_to_a_target_replayed_here() {
    let replayed = [
        "libpq_parse",
        "url_check",
        "sqlfile_split",
        "sqlfile_replay",
    ];
    let targets: Vec<&str> = targets::TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(targets, replayed);
    let mut corpora: Vec<String> = fs::read_dir(corpus_root())
        .expect("fuzz/corpus exists")
        .map(|entry| {
            entry
                .expect("a corpus entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    corpora.sort();
    let mut expected: Vec<String> = replayed.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(corpora, expected);
}
