//! Generated properties (proptest, with fixed seeds so CI runs the same cases every time):
//!
//! * `parse_uri(render_uri(x)) == x` for generated option sets, under both
//!   the libpq 18 and the pre-18 decoding rules;
//! * arbitrary strings never make the parser, the ambiguity analysis or the
//!   host derivation panic, and whatever parses re-renders to the same pairs.

use std::cell::Cell;

use dbtool::url::libpq::{
    ConnInfo, KEYWORDS, ParseOptions, parse_conninfo_bytes, parse_uri_bytes, parse_uri_with,
    render_uri,
};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed, TestRunner};

/// `cases` cases from a fixed seed, and no regression files: a failure is reproduced by running
/// the test again (proptest shrinks it first). XorShift: ChaCha made these tests three times
/// slower in debug builds.
fn config(cases: u32, seed: u64) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::XorShift,
        rng_seed: RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    }
}

const SPECIAL: &[u8] = b"@:/?#&=%+,[] .-_~'\"\\";

/// One byte of a value, never NUL: mostly letters and digits (5 in 10), often a character URIs
/// treat specially (3 in 10), sometimes a control character or a byte that is not UTF-8. Drawn
/// as one number (cheaper than a union per byte; shrinks to `a`).
fn value_byte() -> impl Strategy<Value = u8> {
    const PLAIN: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCXYZ0123456789";
    const CONTROL: &[u8] = b"\t\n\r\x7f";
    (0..10 * 128usize).prop_map(|n| {
        let (class, i) = (n % 10, n / 10);
        match class {
            0..=4 => PLAIN[i % PLAIN.len()],
            5..=7 => SPECIAL[i % SPECIAL.len()],
            8 => CONTROL[i % CONTROL.len()],
            _ => 0x80 + u8::try_from(i).unwrap_or(0),
        }
    })
}

fn value(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(value_byte(), 0..=max_len)
}

/// One to three short values joined by commas (a host, port or hostaddr list).
fn list() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(value(6), 1..=3).prop_map(|parts| parts.join(&b","[..]))
}

/// The keywords with a place of their own in a URI.
const COMPONENTS: [&str; 6] = ["user", "password", "host", "port", "dbname", "hostaddr"];

/// Option sets over the keywords libpq `major` knows: each of the URI's own components is set
/// in 60% of the cases (a host, port or hostaddr in half of them as a list), and up to seven of
/// the other keywords.
fn conninfo(major: u32) -> impl Strategy<Value = (u32, ConnInfo)> {
    let components: Vec<_> = COMPONENTS
        .into_iter()
        .map(|name| {
            let value = if matches!(name, "host" | "port" | "hostaddr") {
                prop_oneof![value(12), list()].boxed()
            } else {
                value(12).boxed()
            };
            prop::option::weighted(0.6, value.prop_map(move |v| (name, v)))
        })
        .collect();
    let others: Vec<&str> = KEYWORDS
        .iter()
        .filter(|k| k.since <= major && !COMPONENTS.contains(&k.name))
        .map(|k| k.name)
        .collect();
    let others = prop::collection::vec((prop::sample::select(others), value(12)), 0..8);
    (components, others).prop_map(move |(components, others)| {
        let mut info = ConnInfo::new();
        for (name, value) in others.into_iter().chain(components.into_iter().flatten()) {
            if let Err(e) = info.set(name, value) {
                panic!("set {name}: {e}");
            }
        }
        (major, info)
    })
}

proptest! {
    #![proptest_config(config(20_000, 0x9E37_79B9_7F4A_7C15))]

    /// Under libpq 18's URI decoding (which trims raw spaces) and the older one.
    #[test]
    fn render_then_parse_is_identity((major, info) in prop_oneof![conninfo(18), conninfo(15)]) {
        let opts = if major == 18 {
            ParseOptions::default()
        } else {
            ParseOptions::libpq(major)
        };
        let uri = render_uri(&info);
        let back = parse_uri_with(&uri, opts)
            .map_err(|e| TestCaseError::fail(format!("{uri} (libpq {major}) -> {e}")))?;
        prop_assert_eq!(back, info, "{} (libpq {})", uri, major);
    }
}

const FRAGMENTS: &[&str] = &[
    "postgresql://",
    "postgres://",
    "postgresql://",
    "u",
    "user",
    ":",
    "@",
    "/",
    "?",
    "#",
    "&",
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
    " ",
    "\t",
    "\n",
    "+",
    "host",
    "db",
    "5432",
    "sslmode",
    "ssl=true",
    "requiressl=1",
    "password",
    "p@ss",
    "application_name",
    "é",
    "\0",
    "hostaddr",
    "1.2.3.4",
    "options",
    "-c",
    "jdbc:",
];

/// Mostly a URI scheme, then up to 13 pieces: fragments of URIs (4 in 5) or any byte.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let scheme = prop_oneof![
        17 => prop::sample::select(&["postgresql://", "postgres://"][..]),
        3 => Just(""),
    ];
    let piece = prop_oneof![
        4 => prop::sample::select(FRAGMENTS).prop_map(|f| f.as_bytes().to_vec()),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    (scheme, prop::collection::vec(piece, 0..14)).prop_map(|(scheme, pieces)| {
        let mut s = scheme.as_bytes().to_vec();
        s.extend(pieces.concat());
        s
    })
}

#[test]
fn arbitrary_input_never_panics_and_reparses() {
    // Counted across the cases, so a runner rather than `proptest!`.
    let (ok, err) = (Cell::new(0), Cell::new(0));
    let mut runner = TestRunner::new(config(30_000, 0xD1B5_4A32_D192_ED03));
    let result = runner.run(&input(), |input| {
        let shown = String::from_utf8_lossy(&input);
        for opts in [ParseOptions::default(), ParseOptions::libpq(15)] {
            match parse_uri_bytes(&input, opts) {
                Ok(info) => {
                    ok.set(ok.get() + 1);
                    let _ = dbtool::conn::target::endpoints(
                        &info,
                        &dbtool::environment::Environment::empty(),
                    );
                    let again = render_uri(&info);
                    let back = parse_uri_with(&again, opts)
                        .map_err(|e| TestCaseError::fail(format!("{shown:?} -> {again} -> {e}")))?;
                    prop_assert_eq!(&back, &info, "{:?} -> {}", shown, again);
                    for a in info.ambiguities() {
                        if let Some(s) = &a.suggestion {
                            let _ = parse_uri_with(s, opts);
                        }
                    }
                }
                Err(e) => {
                    err.set(err.get() + 1);
                    prop_assert!(!e.message.is_empty(), "{:?}: empty error message", shown);
                    for a in &e.ambiguities {
                        if let Some(s) = &a.suggestion {
                            let _ = parse_uri_with(s, opts);
                        }
                    }
                }
            }
            let _ = parse_conninfo_bytes(&input, opts);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // the generator must exercise both outcomes
    let (ok, err) = (ok.get(), err.get());
    assert!(ok > 1_000 && err > 1_000, "ok={ok} err={err}");
}
