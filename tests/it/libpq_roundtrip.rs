//! Randomized properties, with a tiny deterministic PRNG (no crates):
//!
//! * `parse_uri(render_uri(x)) == x` for generated option sets, under both
//!   the libpq 18 and the pre-18 decoding rules;
//! * arbitrary strings never make the parser, the ambiguity analysis or the
//!   host derivation panic, and whatever parses re-renders to the same pairs.

use dbtool::url::libpq::{
    ConnInfo, KEYWORDS, ParseOptions, parse_conninfo_bytes, parse_uri_bytes, parse_uri_with,
    render_uri,
};

/// xorshift64* (Vigna).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        // n is tiny; modulo bias is irrelevant here.
        usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SPECIAL: &[u8] = b"@:/?#&=%+,[] .-_~'\"\\";

fn random_value(rng: &mut Rng, max_len: usize) -> Vec<u8> {
    let len = rng.below(max_len + 1);
    (0..len)
        .map(|_| match rng.below(10) {
            0..=4 => *rng.pick(b"abcdefghijklmnopqrstuvwxyzABCXYZ0123456789"),
            5..=7 => *rng.pick(SPECIAL),
            8 => *rng.pick(b"\t\n\r\x7f"),
            _ => u8::try_from(0x80 + rng.below(0x80)).unwrap_or(0x80),
        })
        .collect()
}

fn random_list(rng: &mut Rng) -> Vec<u8> {
    let n = 1 + rng.below(3);
    let parts: Vec<Vec<u8>> = (0..n).map(|_| random_value(rng, 6)).collect();
    parts.join(&b","[..])
}

fn random_conninfo(rng: &mut Rng, max_since: u32) -> ConnInfo {
    let mut info = ConnInfo::new();
    for k in KEYWORDS.iter().filter(|k| k.since <= max_since) {
        let main = matches!(
            k.name,
            "user" | "password" | "host" | "port" | "dbname" | "hostaddr"
        );
        if !rng.chance(if main { 60 } else { 8 }) {
            continue;
        }
        let value = if matches!(k.name, "host" | "port" | "hostaddr") && rng.chance(50) {
            random_list(rng)
        } else {
            random_value(rng, 12)
        };
        if let Err(e) = info.set(k.name, value) {
            panic!("set {}: {e}", k.name);
        }
    }
    info
}

#[test]
fn render_then_parse_is_identity() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000 {
        let legacy = i % 2 == 1;
        let (opts, max_since) = if legacy {
            (ParseOptions::libpq(15), 15)
        } else {
            (ParseOptions::default(), 18)
        };
        let info = random_conninfo(&mut rng, max_since);
        let uri = render_uri(&info);
        match parse_uri_with(&uri, opts) {
            Ok(back) => assert_eq!(back, info, "case {i}: {uri}"),
            Err(e) => panic!("case {i}: {uri} -> {e}"),
        }
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

fn random_input(rng: &mut Rng) -> Vec<u8> {
    let mut s = Vec::new();
    if rng.chance(85) {
        s.extend_from_slice(rng.pick(&["postgresql://", "postgres://"]).as_bytes());
    }
    for _ in 0..rng.below(14) {
        if rng.chance(80) {
            s.extend_from_slice(rng.pick(FRAGMENTS).as_bytes());
        } else {
            s.push(u8::try_from(rng.below(256)).unwrap_or(b'x'));
        }
    }
    s
}

#[test]
fn arbitrary_input_never_panics_and_reparses() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let (mut ok, mut err) = (0, 0);
    for i in 0..30_000 {
        let input = random_input(&mut rng);
        for opts in [ParseOptions::default(), ParseOptions::libpq(15)] {
            match parse_uri_bytes(&input, opts) {
                Ok(info) => {
                    ok += 1;
                    let _ = info.hosts();
                    let again = render_uri(&info);
                    let back = parse_uri_with(&again, opts)
                        .unwrap_or_else(|e| panic!("case {i}: {again} -> {e}"));
                    assert_eq!(
                        back,
                        info,
                        "case {i}: {:?} -> {again}",
                        String::from_utf8_lossy(&input)
                    );
                    for a in info.ambiguities() {
                        if let Some(s) = &a.suggestion {
                            let _ = parse_uri_with(s, opts);
                        }
                    }
                }
                Err(e) => {
                    err += 1;
                    assert!(!e.message.is_empty());
                    for a in &e.ambiguities {
                        if let Some(s) = &a.suggestion {
                            let _ = parse_uri_with(s, opts);
                        }
                    }
                }
            }
            let _ = parse_conninfo_bytes(&input, opts);
        }
    }
    // the generator must exercise both outcomes
    assert!(ok > 1_000 && err > 1_000, "ok={ok} err={err}");
}
