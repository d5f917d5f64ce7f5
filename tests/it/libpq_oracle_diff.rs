//! Differential test against the system libpq (see `scripts/libpq-oracle/README.md`).
//!
//! Runs only when `LIBPQ_ORACLE` names the oracle binary and
//! `LIBPQ_ORACLE_MAJOR` its libpq major version (e.g. 15); otherwise it
//! prints a note and passes.  Every input goes through both the real
//! `PQconninfoParse()` and [`parse_conninfo_bytes`] configured for that
//! version; results must agree byte for byte, error texts must agree
//! exactly unless ours redacted a secret.

use std::io::Write;
use std::process::{Command, Stdio};

use dbtool::url::libpq::{KEYWORDS, ParseOptions, parse_conninfo_bytes, render_uri};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

const FRAGMENTS: &[&str] = &[
    "u",
    "user",
    ":",
    "@",
    "@",
    "/",
    "/",
    "?",
    "#",
    "&",
    "=",
    "=",
    ",",
    "[",
    "]",
    "[::1]",
    "%",
    "%2",
    "%20",
    "%2F",
    "%40",
    "%00",
    "%zz",
    "%C3%A9",
    " ",
    "\t",
    "+",
    "host",
    "db",
    "5432",
    "sslmode",
    "ssl=true",
    "ssl=false",
    "requiressl=1",
    "requiressl=0",
    "password",
    "p@ss",
    "application_name",
    "options",
    "hostaddr",
    "1.2.3.4",
    "é",
    "sslnegotiation",
    "dbname",
    "host=",
    "port=",
    "user=",
    "'",
    "\\",
    "\0",
];

fn corpus() -> Vec<Vec<u8>> {
    let fixed = [
        "postgresql://uri-user:secret@host:12345/db",
        "postgresql://host?  user = uri-user & port  = 12345 ",
        "postgresql://host?  user user  =  uri  & port = 12345 12 ",
        "postgresql://user:p@ss@host/db",
        "postgresql://user:pa/ss@host/db",
        "postgresql://user:pa?ss@host/db",
        "postgresql://user:pa#ss@host/db",
        "postgresql://host?user=bob@example.com",
        "postgresql://h1:5432,h2:5433,h3/db",
        "postgresql://h1,h2/db",
        "postgresql://,",
        "postgresql://[::1]:5432,[fe80::1%25eth0]/db",
        "postgresql://[fe80::1%eth0]/db",
        "postgresql://[a/b?c]:1",
        "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
        "postgresql://@/",
        "postgresql://:@host",
        "postgresql://host?dbname=&user=",
        "postgresql://host?requiressl=true",
        "postgresql://host?sslmode=verify-full&ssl=true",
        "postgresql://host?%73slmode=require",
        "postgresql://host?us%3Der=x",
        "postgresql://host?&",
        "postgresql://host?=x",
        "postgresql://[::1]x:5432",
        "postgresql://h,[]",
        "postgresql://host/db%4",
        "postgresql://host/ db ",
        "postgresql://host/%FF",
        "POSTGRESQL://host",
        "postgre://",
        "host=h port = 5433 password='a b\\'c' dbname=x\\ y requiressl=1",
        "host='h",
        "password=s3 cret host=h",
        "",
    ];
    let mut out: Vec<Vec<u8>> = fixed.iter().map(|s| s.as_bytes().to_vec()).collect();
    // Drawn, not run: the oracle is another process, so all inputs go to it in one batch.  A
    // fixed seed: CI sends the same inputs every time.
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = generated();
    for _ in 0..GENERATED {
        let tree = strategy
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("generating an input: {e}"));
        out.push(tree.current());
    }
    out
}

/// How many generated inputs join the fixed ones.
const GENERATED: usize = 3_000;

/// A URI scheme in 9 inputs of 10 (else the pieces alone, read as keyword/value), then up to 11
/// pieces: a fragment (5 in 6) or any byte but NUL.
fn generated() -> impl Strategy<Value = Vec<u8>> {
    let scheme = prop_oneof![
        6 => Just("postgresql://"),
        3 => Just("postgres://"),
        1 => Just(""),
    ];
    let piece = prop_oneof![
        5 => prop::sample::select(FRAGMENTS).prop_map(|f| f.as_bytes().to_vec()),
        1 => (1u8..=255).prop_map(|b| vec![b]),
    ];
    (scheme, prop::collection::vec(piece, 0..12)).prop_map(|(scheme, pieces)| {
        let mut s = scheme.as_bytes().to_vec();
        s.extend(pieces.concat());
        s
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(Vec<(String, Vec<u8>)>),
    Err(String),
}

fn run_oracle(bin: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    // Feed stdin from another thread so a full stdout pipe cannot deadlock.
    let writer = child.stdin.take().map(|mut input| {
        let data = stdin.to_owned();
        std::thread::spawn(move || input.write_all(data.as_bytes()))
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    if let Some(w) = writer {
        let res = w
            .join()
            .unwrap_or_else(|_| panic!("writer thread panicked"));
        res.unwrap_or_else(|e| panic!("write: {e}"));
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn agrees_with_system_libpq() {
    let (Ok(bin), Ok(major)) = (
        std::env::var("LIBPQ_ORACLE"),
        std::env::var("LIBPQ_ORACLE_MAJOR"),
    ) else {
        eprintln!("oracle_diff: LIBPQ_ORACLE / LIBPQ_ORACLE_MAJOR not set, skipping");
        return;
    };
    let major: u32 = major
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("LIBPQ_ORACLE_MAJOR: {e}"));
    let opts = ParseOptions::libpq(major);

    // 1. The keyword table of that libpq is ours, filtered by `since`.
    let table = run_oracle(&bin, &["--keywords"], "");
    let theirs: Vec<Vec<&str>> = table.lines().map(|l| l.split('\t').collect()).collect();
    let ours: Vec<_> = KEYWORDS.iter().filter(|k| k.since <= major).collect();
    assert_eq!(
        theirs.iter().map(|t| t[0]).collect::<Vec<_>>(),
        ours.iter().map(|k| k.name).collect::<Vec<_>>(),
        "keyword names/order"
    );
    for (t, k) in theirs.iter().zip(&ours) {
        assert_eq!(
            t.get(1).copied().unwrap_or(""),
            k.envvar.unwrap_or(""),
            "envvar of {}",
            k.name
        );
        assert_eq!(
            t.get(2).copied().unwrap_or(""),
            k.default.unwrap_or(""),
            "default of {}",
            k.name
        );
    }

    // 2. Parse results.  Also feed back our renderings of every success.
    let mut inputs = corpus();
    let renders: Vec<Vec<u8>> = inputs
        .iter()
        .filter_map(|i| parse_conninfo_bytes(i, opts).ok())
        .map(|info| render_uri(&info).into_bytes())
        .collect();
    inputs.extend(renders);
    let stdin: String = inputs.iter().map(|i| hex(i) + "\n").collect();
    let output = run_oracle(&bin, &[], &stdin);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), inputs.len(), "oracle output lines");

    let (mut same, mut redacted, mut mismatches) = (0, 0, Vec::new());
    for (input, line) in inputs.iter().zip(&lines) {
        let mut fields = line.split('\t');
        let theirs = match fields.next() {
            Some("OK") => Outcome::Ok(
                fields
                    .filter_map(|f| f.split_once('='))
                    .map(|(k, v)| (k.to_owned(), unhex(v)))
                    .collect(),
            ),
            _ => Outcome::Err(
                String::from_utf8_lossy(&unhex(fields.next().unwrap_or(""))).into_owned(),
            ),
        };
        let ours = match parse_conninfo_bytes(input, opts) {
            Ok(info) => Outcome::Ok(
                info.iter()
                    .map(|(k, v)| (k.name.to_owned(), v.to_vec()))
                    .collect(),
            ),
            Err(e) => Outcome::Err(e.message),
        };
        match (&ours, &theirs) {
            // Redacted: same message template, secret replaced.
            (Outcome::Err(a), Outcome::Err(b))
                if a != b && a.contains("***") && a.split('"').next() == b.split('"').next() =>
            {
                redacted += 1;
            }
            (a, b) if a == b => same += 1,
            _ => mismatches.push(format!(
                "{:?}\n  ours:   {ours:?}\n  libpq:  {theirs:?}",
                String::from_utf8_lossy(input)
            )),
        }
    }
    eprintln!(
        "oracle_diff: libpq {major}: {} inputs, {same} identical, {redacted} equal up to redaction",
        inputs.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
