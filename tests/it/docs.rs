//! The README's "What it looks like" examples are the real binary's output: each block marked
//! `<!-- example: NAME -->` holds a `$ dbtool ...` command line, run here from the repository's
//! root as a shell would split it, followed by exactly what it prints. A block marked
//! `<!-- example: NAME (pgbouncer) -->` runs against a real PgBouncer in transaction pooling in
//! front of a cluster of the harness: its command names PgBouncer as `127.0.0.1:6432`, which is
//! swapped for the real port both ways, and its output is compared with numbers (timings,
//! versions, counts) masked and table padding collapsed: the written output stands while only
//! those differ. A `(server)` block runs against the cluster itself, named `127.0.0.1:5432`. A change to the output fails this test;
//! `DBTOOL_UPDATE_DOCS=1 cargo test --test it docs` rewrites the blocks.

use regex::Regex;

use crate::cli::{dbtool, run, shell_words};
use crate::pg::{Cluster, ClusterOptions, Pgbouncer};
use crate::require::{Requirement, require};

/// Where a `(pgbouncer)` example says PgBouncer listens.
const BOUNCER_IN_DOCS: &str = "127.0.0.1:6432";
/// Where a `(server)` example says PostgreSQL listens.
const SERVER_IN_DOCS: &str = "127.0.0.1:5432";

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

/// A cluster and a PgBouncer in transaction pooling in front of it, for the `(server)` and
/// `(pgbouncer)` examples, started on first use.
struct Servers(Option<(Cluster, Pgbouncer)>);

impl Servers {
    /// `host:port` of the cluster (`server`) or of PgBouncer.
    fn address(&mut self, server: bool) -> String {
        let (cluster, bouncer) = self.0.get_or_insert_with(|| {
            let cluster =
                Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            let bouncer =
                Pgbouncer::start(&cluster, "transaction", 2).unwrap_or_else(|e| panic!("{e}"));
            (cluster, bouncer)
        });
        if server {
            return format!("127.0.0.1:{}", cluster.port);
        }
        let url = bouncer.url("postgres");
        let rest = url.split_once('@').unwrap().1;
        rest.split_once('/').unwrap().0.to_string()
    }
}

/// Text with its numbers masked and table padding collapsed, for the `(pgbouncer)` examples.
fn masked(text: &str) -> String {
    let numbers = Regex::new(r"\d+").unwrap();
    let padding = Regex::new(r"[ ─═]+").unwrap();
    padding
        .replace_all(&numbers.replace_all(text, "#"), " ")
        .into_owned()
}

/// The README with every example block's output replaced by what its command prints now.
fn regenerated(readme: &str, servers: &mut Servers) -> (String, usize) {
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
        let server = line.contains("(server)");
        let pooled = server || line.contains("(pgbouncer)");
        let in_docs = if server {
            SERVER_IN_DOCS
        } else {
            BOUNCER_IN_DOCS
        };
        let address = if pooled {
            servers.address(server)
        } else {
            String::new()
        };
        let args = words[1..].iter().map(|word| {
            if pooled {
                word.replace(in_docs, &address)
            } else {
                word.clone()
            }
        });
        let mut result = run(dbtool(root).args(args));
        if pooled {
            result.stdout = result.stdout.replace(&address, in_docs);
        }
        assert!(
            result.stderr.is_empty() && result.code <= 1,
            "{command}: exit {}: {}",
            result.code,
            result.stderr
        );
        let mut now = result.stdout;
        if !now.ends_with('\n') {
            now += "\n";
        }
        let mut written = String::new();
        for old in lines.by_ref() {
            if old == "```" {
                break;
            }
            written += old;
            written += "\n";
        }
        // Timings and counts differ from run to run against a server: the written output
        // stands while only they differ.
        if pooled && masked(&written) == masked(&now) {
            now = written;
        }
        out += &format!("{fence}\n{command}\n{now}```\n");
        examples += 1;
    }
    (out, examples)
}

#[test]
fn the_readme_examples_are_what_the_binary_prints() {
    if !require(&[Requirement::LocalCluster, Requirement::Pgbouncer]) {
        return;
    }
    let readme = std::fs::read_to_string(README).unwrap();
    let (generated, examples) = regenerated(&readme, &mut Servers(None));
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
