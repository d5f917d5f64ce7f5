//! Every case of PostgreSQL 18's `src/interfaces/libpq/t/001_uri.pl`.
//!
//! That test runs `libpq_uri_regress`, which calls `PQconninfoParse()` and
//! prints each set option whose value differs from `PQconndefaults()` as
//! `kw='value' `, then `(local)` or `(inet)`; on error it prints
//! `libpq_uri_regress: <message>` to stderr.  `regress()` below reproduces
//! that output from our result.

use dbtool::url::libpq::{ConnInfo, parse_conninfo};

/// Compiled-in defaults as `PQconndefaults()` reports them in the test
/// environment, plus the overrides a case sets through environment
/// variables.  Only `sslmode`/`sslrootcert` matter for the cases below.
fn defaults(env: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut d: Vec<(&'static str, String)> = dbtool::url::libpq::KEYWORDS
        .iter()
        .filter_map(|k| k.default.map(|v| (k.name, v.to_owned())))
        .collect();
    if env.contains(&("PGSSLROOTCERT", "system")) {
        d.push(("sslrootcert", "system".to_owned()));
        // conninfo_add_defaults(): sslrootcert=system strengthens the
        // default sslmode to verify-full.
        for (k, v) in &mut d {
            if *k == "sslmode" {
                *v = "verify-full".to_owned();
            }
        }
    }
    d
}

/// `libpq_uri_regress` output: (stdout, stderr).
fn regress(input: &str, env: &[(&str, &str)]) -> (String, String) {
    match parse_conninfo(input) {
        Err(e) => (String::new(), format!("libpq_uri_regress: {}", e.message)),
        Ok(info) => (print(&info, &defaults(env)), String::new()),
    }
}

fn print(info: &ConnInfo, defaults: &[(&str, String)]) -> String {
    let mut out = String::new();
    let mut local = true;
    for (k, v) in info.pairs() {
        let is_default = defaults.iter().any(|(dk, dv)| *dk == k && *dv == v);
        if !is_default {
            out.push_str(&format!("{k}='{v}' "));
        }
        if !v.is_empty() && (k == "hostaddr" || (k == "host" && !v.starts_with('/'))) {
            local = false;
        }
    }
    out.push_str(if local { "(local)" } else { "(inet)" });
    out
}

/// (input, expected stdout, expected stderr, environment)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    ("postgresql://uri-user:secret@host:12345/db", "user='uri-user' password='secret' dbname='db' host='host' port='12345' (inet)", "", &[]),
    ("postgresql://uri-user@host:12345/db", "user='uri-user' dbname='db' host='host' port='12345' (inet)", "", &[]),
    ("postgresql://uri-user@host/db", "user='uri-user' dbname='db' host='host' (inet)", "", &[]),
    ("postgresql://host:12345/db", "dbname='db' host='host' port='12345' (inet)", "", &[]),
    ("postgresql://host/db", "dbname='db' host='host' (inet)", "", &[]),
    ("postgresql://uri-user@host:12345/", "user='uri-user' host='host' port='12345' (inet)", "", &[]),
    ("postgresql://uri-user@host/", "user='uri-user' host='host' (inet)", "", &[]),
    ("postgresql://uri-user@", "user='uri-user' (local)", "", &[]),
    ("postgresql://host:12345/", "host='host' port='12345' (inet)", "", &[]),
    ("postgresql://host:12345", "host='host' port='12345' (inet)", "", &[]),
    ("postgresql://host/db", "dbname='db' host='host' (inet)", "", &[]),
    ("postgresql://host/", "host='host' (inet)", "", &[]),
    ("postgresql://host", "host='host' (inet)", "", &[]),
    ("postgresql://", "(local)", "", &[]),
    ("postgresql://?hostaddr=127.0.0.1", "hostaddr='127.0.0.1' (inet)", "", &[]),
    ("postgresql://example.com?hostaddr=63.1.2.4", "host='example.com' hostaddr='63.1.2.4' (inet)", "", &[]),
    ("postgresql://%68ost/", "host='host' (inet)", "", &[]),
    ("postgresql://host/db?user=uri-user", "user='uri-user' dbname='db' host='host' (inet)", "", &[]),
    ("postgresql://host/db?user=uri-user&port=12345", "user='uri-user' dbname='db' host='host' port='12345' (inet)", "", &[]),
    ("postgresql://host/db?u%73er=someotheruser&port=12345", "user='someotheruser' dbname='db' host='host' port='12345' (inet)", "", &[]),
    ("postgresql://host/db?u%7aer=someotheruser&port=12345", "", "libpq_uri_regress: invalid URI query parameter: \"uzer\"", &[]),
    ("postgresql://host:12345?user=uri-user", "user='uri-user' host='host' port='12345' (inet)", "", &[]),
    ("postgresql://host?user=uri-user", "user='uri-user' host='host' (inet)", "", &[]),
    // Leading and trailing spaces, works.
    ("postgresql://host?  user = uri-user & port  = 12345 ", "user='uri-user' host='host' port='12345' (inet)", "", &[]),
    // Trailing data in parameter.
    ("postgresql://host?  user user  =  uri  & port = 12345 12 ", "", "libpq_uri_regress: unexpected spaces found in \"  user user  \", use percent-encoded spaces (%20) instead", &[]),
    // Trailing data in value.
    ("postgresql://host?  user  =  uri-user  & port = 12345 12 ", "", "libpq_uri_regress: unexpected spaces found in \" 12345 12 \", use percent-encoded spaces (%20) instead", &[]),
    ("postgresql://host?", "host='host' (inet)", "", &[]),
    ("postgresql://[::1]:12345/db", "dbname='db' host='::1' port='12345' (inet)", "", &[]),
    ("postgresql://[::1]/db", "dbname='db' host='::1' (inet)", "", &[]),
    ("postgresql://[2001:db8::1234]/", "host='2001:db8::1234' (inet)", "", &[]),
    ("postgresql://[200z:db8::1234]/", "host='200z:db8::1234' (inet)", "", &[]),
    ("postgresql://[::1]", "host='::1' (inet)", "", &[]),
    ("postgres://", "(local)", "", &[]),
    ("postgres:///", "(local)", "", &[]),
    ("postgres:///db", "dbname='db' (local)", "", &[]),
    ("postgres://uri-user@/db", "user='uri-user' dbname='db' (local)", "", &[]),
    ("postgres://?host=/path/to/socket/dir", "host='/path/to/socket/dir' (local)", "", &[]),
    ("postgresql://host?uzer=", "", "libpq_uri_regress: invalid URI query parameter: \"uzer\"", &[]),
    ("postgre://", "", "libpq_uri_regress: missing \"=\" after \"postgre://\" in connection info string", &[]),
    ("postgres://[::1", "", "libpq_uri_regress: end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"postgres://[::1\"", &[]),
    ("postgres://[]", "", "libpq_uri_regress: IPv6 host address may not be empty in URI: \"postgres://[]\"", &[]),
    ("postgres://[::1]z", "", "libpq_uri_regress: unexpected character \"z\" at position 17 in URI (expected \":\" or \"/\"): \"postgres://[::1]z\"", &[]),
    ("postgresql://host?zzz", "", "libpq_uri_regress: missing key/value separator \"=\" in URI query parameter: \"zzz\"", &[]),
    ("postgresql://host?value1&value2", "", "libpq_uri_regress: missing key/value separator \"=\" in URI query parameter: \"value1\"", &[]),
    ("postgresql://host?key=key=value", "", "libpq_uri_regress: extra key/value separator \"=\" in URI query parameter: \"key\"", &[]),
    ("postgres://host?dbname=%XXfoo", "", "libpq_uri_regress: invalid percent-encoded token: \"%XXfoo\"", &[]),
    ("postgresql://a%00b", "", "libpq_uri_regress: forbidden value %00 in percent-encoded value: \"a%00b\"", &[]),
    ("postgresql://%zz", "", "libpq_uri_regress: invalid percent-encoded token: \"%zz\"", &[]),
    ("postgresql://%1", "", "libpq_uri_regress: invalid percent-encoded token: \"%1\"", &[]),
    ("postgresql://%", "", "libpq_uri_regress: invalid percent-encoded token: \"%\"", &[]),
    ("postgres://@host", "host='host' (inet)", "", &[]),
    ("postgres://host:/", "host='host' (inet)", "", &[]),
    ("postgres://:12345/", "port='12345' (local)", "", &[]),
    ("postgres://otheruser@?host=/no/such/directory", "user='otheruser' host='/no/such/directory' (local)", "", &[]),
    ("postgres://otheruser@/?host=/no/such/directory", "user='otheruser' host='/no/such/directory' (local)", "", &[]),
    ("postgres://otheruser@:12345?host=/no/such/socket/path", "user='otheruser' host='/no/such/socket/path' port='12345' (local)", "", &[]),
    ("postgres://otheruser@:12345/db?host=/path/to/socket", "user='otheruser' dbname='db' host='/path/to/socket' port='12345' (local)", "", &[]),
    ("postgres://:12345/db?host=/path/to/socket", "dbname='db' host='/path/to/socket' port='12345' (local)", "", &[]),
    ("postgres://:12345?host=/path/to/socket", "host='/path/to/socket' port='12345' (local)", "", &[]),
    ("postgres://%2Fvar%2Flib%2Fpostgresql/dbname", "dbname='dbname' host='/var/lib/postgresql' (local)", "", &[]),
    // Usually the default sslmode is 'prefer' (for libraries with SSL) or
    // 'disable' (for those without). This default changes to 'verify-full'
    // if the system CA store is in use.
    ("postgresql://host?sslmode=disable", "host='host' sslmode='disable' (inet)", "", &[("PGSSLROOTCERT", "system")]),
    ("postgresql://host?sslmode=prefer", "host='host' sslmode='prefer' (inet)", "", &[("PGSSLROOTCERT", "system")]),
    ("postgresql://host?sslmode=verify-full", "host='host' (inet)", "", &[("PGSSLROOTCERT", "system")]),
];

#[test]
fn libpq_001_uri_all_cases() {
    let mut failures = Vec::new();
    for &(input, stdout, stderr, env) in CASES {
        let got = regress(input, env);
        if got != (stdout.to_owned(), stderr.to_owned()) {
            failures.push(format!(
                "{input}\n  expected: {stdout:?} / {stderr:?}\n  got:      {:?} / {:?}",
                got.0, got.1
            ));
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
    assert_eq!(CASES.len(), 63);
}
