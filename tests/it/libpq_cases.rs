//! Our own cases: exact libpq results (checked against libpq 15's
//! `PQconninfoParse()` where the behaviour is shared: `scripts/libpq-oracle/`,
//! `tests/it/libpq_oracle_diff.rs`), plus hosts, ambiguities, redaction and
//! version differences.

use dbtool::conn::target::{EndpointKind, Origin, endpoints};
use dbtool::environment::Environment;
use dbtool::url::libpq::{
    AmbiguityKind, ConnInfo, ParseOptions, UriError, parse_conninfo, parse_uri, parse_uri_bytes,
    parse_uri_with,
};

fn pairs(info: &ConnInfo) -> Vec<(String, String)> {
    info.pairs()
}

fn p(kvs: &[(&str, &str)]) -> Vec<(String, String)> {
    kvs.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// (uri, expected pairs in libpq order) -- libpq 18.
#[rustfmt::skip]
const OK: &[(&str, &[(&str, &str)])] = &[
    // multi-host, per-host ports joined positionally
    ("postgresql://h1:5432,h2:5433,h3/db", &[("dbname", "db"), ("host", "h1,h2,h3"), ("port", "5432,5433,")]),
    ("postgresql://h1,h2/db", &[("dbname", "db"), ("host", "h1,h2"), ("port", ",")]),
    ("postgresql://h1,h2:5433", &[("host", "h1,h2"), ("port", ",5433")]),
    ("postgresql://,", &[("host", ","), ("port", ",")]),
    ("postgresql://h1:1,h2:2/db?port=5", &[("dbname", "db"), ("host", "h1,h2"), ("port", "5")]),
    // IPv6
    ("postgresql://[::1]:5432,[fe80::1%25eth0]/db", &[("dbname", "db"), ("host", "::1,fe80::1%eth0"), ("port", "5432,")]),
    ("postgresql://[::1],h2", &[("host", "::1,h2"), ("port", ",")]),
    ("postgresql://[a/b?c]:1", &[("host", "a/b?c"), ("port", "1")]),
    ("postgresql://[::1]:5432:9", &[("host", "::1"), ("port", "5432:9")]),
    // socket directories
    ("postgresql://%2Fvar%2Frun%2Fpostgresql/db", &[("dbname", "db"), ("host", "/var/run/postgresql")]),
    ("postgresql:///db?host=/tmp", &[("dbname", "db"), ("host", "/tmp")]),
    ("postgresql:///db?host=%2Ftmp", &[("dbname", "db"), ("host", "/tmp")]),
    // libpq splits user info at the FIRST '@' and the FIRST ':'
    ("postgresql://user:p@ss@host/db", &[("user", "user"), ("password", "p"), ("dbname", "db"), ("host", "ss@host")]),
    ("postgresql://me@corp.com@host/db", &[("user", "me"), ("dbname", "db"), ("host", "corp.com@host")]),
    ("postgresql://user:pa:ss@host", &[("user", "user"), ("password", "pa:ss"), ("host", "host")]),
    // '/' stops the search for '@': no user info at all
    ("postgresql://user:pa/ss@host/db", &[("dbname", "ss@host/db"), ("host", "user"), ("port", "pa")]),
    // '?' and '#' do NOT stop it
    ("postgresql://user:pa?ss@host/db", &[("user", "user"), ("password", "pa?ss"), ("dbname", "db"), ("host", "host")]),
    ("postgresql://user:pa#ss@host/db", &[("user", "user"), ("password", "pa#ss"), ("dbname", "db"), ("host", "host")]),
    ("postgresql://host?user=bob@example.com", &[("user", "host?user=bob"), ("host", "example.com")]),
    ("postgresql://host/db?user=bob@example.com", &[("user", "bob@example.com"), ("dbname", "db"), ("host", "host")]),
    // '#' is not special anywhere
    ("postgresql://host/db#frag", &[("dbname", "db#frag"), ("host", "host")]),
    ("postgresql://host?application_name=a#b", &[("host", "host"), ("application_name", "a#b")]),
    // empty raw parts set nothing
    ("postgresql://@/", &[]),
    ("postgresql://:@host", &[("host", "host")]),
    ("postgresql://user:@host", &[("user", "user"), ("host", "host")]),
    ("postgresql://:pw@host", &[("password", "pw"), ("host", "host")]),
    ("postgresql://host:/db", &[("dbname", "db"), ("host", "host")]),
    ("postgresql://host:", &[("host", "host")]),
    // ...but query parameters can set empty values
    ("postgresql://host?dbname=&user=", &[("user", ""), ("dbname", ""), ("host", "host")]),
    // ssl=true / requiressl compatibility
    ("postgresql://host?ssl=true", &[("host", "host"), ("sslmode", "require")]),
    ("postgresql://host?requiressl=1", &[("host", "host"), ("sslmode", "require")]),
    ("postgresql://host?requiressl=%31", &[("host", "host"), ("sslmode", "require")]),
    ("postgresql://host?requiressl=0", &[("host", "host"), ("sslmode", "prefer")]),
    ("postgresql://host?requiressl=true", &[("host", "host"), ("sslmode", "prefer")]),
    ("postgresql://host?requiressl=", &[("host", "host"), ("sslmode", "prefer")]),
    ("postgresql://host?sslmode=verify-full&ssl=true", &[("host", "host"), ("sslmode", "require")]),
    // last repeat wins; query overrides URI parts; keywords are decoded
    ("postgresql://host?application_name=a&application_name=b", &[("host", "host"), ("application_name", "b")]),
    ("postgresql://u@h/db?user=v&dbname=e&host=x", &[("user", "v"), ("dbname", "e"), ("host", "x")]),
    ("postgresql://host?%73slmode=require", &[("host", "host"), ("sslmode", "require")]),
    // '+' is literal, %20 is a space
    ("postgresql://host?options=-c+search_path%3Dx", &[("host", "host"), ("options", "-c+search_path=x")]),
    ("postgresql://host?options=-c%20search_path%3Dx", &[("host", "host"), ("options", "-c search_path=x")]),
    // encoded comma in the host part becomes a host separator
    ("postgresql://a%2Cb/db", &[("dbname", "db"), ("host", "a,b")]),
    // libpq 18: raw spaces at component ends are dropped (after decoding
    // of the *raw* text: %20 survives)
    ("postgresql://host/ db ", &[("dbname", "db"), ("host", "host")]),
    ("postgresql://host/%20db%20", &[("dbname", " db "), ("host", "host")]),
    ("postgresql://host/ ", &[("dbname", ""), ("host", "host")]),
    ("postgresql://  host:  5432  /db", &[("dbname", "db"), ("host", "host"), ("port", "5432")]),
    // tabs and newlines are not trimmed
    ("postgresql://host/db\n", &[("dbname", "db\n"), ("host", "host")]),
    // every PG18 keyword is accepted
    ("postgresql://h?sslnegotiation=direct&min_protocol_version=3.2&oauth_issuer=https%3A%2F%2Fidp&sslkeylogfile=%2Ftmp%2Fk", &[
        ("host", "h"), ("sslnegotiation", "direct"), ("min_protocol_version", "3.2"),
        ("oauth_issuer", "https://idp"), ("sslkeylogfile", "/tmp/k"),
    ]),
    // the short prefix
    ("postgres://u@h:1/d?connect_timeout=5", &[("user", "u"), ("connect_timeout", "5"), ("dbname", "d"), ("host", "h"), ("port", "1")]),
];

#[test]
fn ok_cases() {
    for &(uri, expected) in OK {
        match parse_uri(uri) {
            Ok(info) => assert_eq!(pairs(&info), p(expected), "{uri:?}"),
            Err(e) => panic!("{uri:?}: unexpected error {e}"),
        }
    }
}

/// (uri, libpq 18 error message, position)
#[rustfmt::skip]
const ERR: &[(&str, &str, Option<usize>)] = &[
    ("postgresql://host?ssl=false", "invalid URI query parameter: \"ssl\"", Some(18)),
    ("postgresql://host?database=x", "invalid URI query parameter: \"database\"", Some(18)),
    ("postgresql://a%00b@host", "forbidden value %00 in percent-encoded value: \"a%00b\"", Some(14)),
    ("postgresql://host/db%4", "invalid percent-encoded token: \"db%4\"", Some(20)),
    ("postgresql://host/db%", "invalid percent-encoded token: \"db%\"", Some(20)),
    ("postgresql://[fe80::1%eth0]/db", "invalid percent-encoded token: \"fe80::1%eth0\"", Some(21)),
    ("postgresql://a,%zz/db", "invalid percent-encoded token: \"a,%zz\"", Some(15)),
    ("postgresql://host/my db", "unexpected spaces found in \"my db\", use percent-encoded spaces (%20) instead", Some(20)),
    ("postgresql://host?&", "missing key/value separator \"=\" in URI query parameter: \"\"", Some(18)),
    ("postgresql://host?=x", "invalid URI query parameter: \"\"", Some(18)),
    ("postgresql://host?sslmode=require&&b=2", "missing key/value separator \"=\" in URI query parameter: \"\"", Some(34)),
    ("postgresql://host?us%3Der=x", "invalid URI query parameter: \"us=er\"", Some(18)),
    ("postgresql://host?options=-csearch_path=x", "extra key/value separator \"=\" in URI query parameter: \"options\"", Some(39)),
    ("postgresql://[::1]x:5432", "unexpected character \"x\" at position 19 in URI (expected \":\" or \"/\"): \"postgresql://[::1]x:5432\"", Some(18)),
    ("postgresql://h,[]", "IPv6 host address may not be empty in URI: \"postgresql://h,[]\"", Some(15)),
    ("postgresql://  h1  ,  h2 /db", "unexpected spaces found in \"  h1  ,  h2 \", use percent-encoded spaces (%20) instead", Some(17)),
    ("POSTGRESQL://host", "invalid URI propagated to internal parser routine: \"POSTGRESQL://host\"", Some(0)),
];

#[test]
fn error_cases() {
    for &(uri, message, position) in ERR {
        match parse_uri(uri) {
            Ok(info) => panic!("{uri:?}: expected error, got {info:?}"),
            Err(e) => {
                assert_eq!(e.message, message, "{uri:?}");
                assert_eq!(e.position, position, "{uri:?}");
            }
        }
    }
}

fn err(uri: &str) -> UriError {
    match parse_uri(uri) {
        Ok(info) => panic!("{uri:?}: expected error, got {info:?}"),
        Err(e) => e,
    }
}

#[test]
fn passwords_are_never_echoed() {
    let cases = [
        (
            "postgresql://u:s3cret@[::1",
            "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"postgresql://u:***@[::1\"",
        ),
        (
            "postgresql://u:s3cret@[]",
            "IPv6 host address may not be empty in URI: \"postgresql://u:***@[]\"",
        ),
        (
            "postgresql://u:s3cret@[::1]z",
            "unexpected character \"z\" at position 28 in URI (expected \":\" or \"/\"): \"postgresql://u:***@[::1]z\"",
        ),
        (
            "postgresql://u:s3%zzcret@h",
            "invalid percent-encoded token: \"***\"",
        ),
        (
            "postgresql://u:s3%00cret@h",
            "forbidden value %00 in percent-encoded value: \"***\"",
        ),
        (
            "postgresql://u:s3 cret@h",
            "unexpected spaces found in \"***\", use percent-encoded spaces (%20) instead",
        ),
        (
            "postgresql://h?password=s3%zzcret",
            "invalid percent-encoded token: \"***\"",
        ),
        (
            "postgresql://h?sslpassword=s3%zzcret",
            "invalid percent-encoded token: \"***\"",
        ),
        (
            "postgresql://h?oauth_client_secret=s3%zzcret",
            "invalid percent-encoded token: \"***\"",
        ),
        (
            "postgresql://h?password=s3cret&x=[",
            "invalid URI query parameter: \"x\"",
        ),
        (
            "postgresql://[::1?password=s3cret",
            "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"postgresql://[::1?password=***\"",
        ),
        // the password the author meant, even where libpq splits it
        (
            "postgresql://u:s3@cret@h,[]",
            "IPv6 host address may not be empty in URI: \"postgresql://u:***@h,[]\"",
        ),
        (
            "postgresql://u:s3@c%zz@h",
            "invalid percent-encoded token: \"***\"",
        ),
    ];
    for (uri, message) in cases {
        let e = err(uri);
        assert_eq!(e.message, message, "{uri:?}");
        assert!(!e.message.contains("s3"), "{uri:?}");
        for a in &e.ambiguities {
            assert!(!a.message.contains("s3"), "{uri:?}: {a:?}");
            if let Some(s) = &a.suggestion_redacted {
                assert!(!s.contains("s3"), "{uri:?}: {s}");
            }
        }
    }
    // Fragments of a mis-split password are flagged and hidden as well.
    let info = parse_uri("postgresql://app:Sup3r@Secret/1@db.internal:5432/prod").unwrap();
    assert_eq!(info.get("host").as_deref(), Some("Secret"));
    assert!(
        info.is_sensitive("password") && info.is_sensitive("host") && info.is_sensitive("dbname")
    );
    assert!(!info.is_sensitive("user"));
    assert!(!format!("{info:?}").contains("Secret"));
    let info = parse_uri("postgresql://host?password=p@ss").unwrap();
    assert_eq!(info.get("user").as_deref(), Some("host?password=p"));
    assert!(info.is_sensitive("user") && !format!("{info:?}").contains("password=p"));
    let info = parse_uri("postgresql://u:pw@h/db").unwrap();
    assert!(info.is_sensitive("password"));
    assert!(
        !info.is_sensitive("host") && !info.is_sensitive("user") && !info.is_sensitive("dbname")
    );

    // Debug output of a successful parse hides secrets too.
    let info = parse_uri("postgresql://u:s3cret@h?sslpassword=k3y").unwrap();
    let dbg = format!("{info:?}");
    assert!(!dbg.contains("s3cret") && !dbg.contains("k3y"), "{dbg}");
}

#[test]
fn hosts_list() {
    let layout = |uri: &str| -> Result<Vec<(String, u16, EndpointKind, Origin)>, String> {
        endpoints(&parse_uri(uri).unwrap(), &Environment::empty())
            .map(|hosts| {
                hosts
                    .into_iter()
                    .map(|h| (h.name(), h.port, h.kind, h.port_origin))
                    .collect()
            })
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        layout("postgresql://h1:5432,h2:5433,h3/db"),
        Ok(vec![
            ("h1".to_owned(), 5432, EndpointKind::Tcp, Origin::Url),
            ("h2".to_owned(), 5433, EndpointKind::Tcp, Origin::Url),
            ("h3".to_owned(), 5432, EndpointKind::Tcp, Origin::Default),
        ])
    );

    let kinds = |uri: &str| -> Vec<EndpointKind> {
        endpoints(&parse_uri(uri).unwrap(), &Environment::empty())
            .unwrap()
            .into_iter()
            .map(|h| h.kind)
            .collect()
    };
    assert_eq!(kinds("postgresql://"), vec![EndpointKind::Unix]);
    assert_eq!(
        kinds("postgresql://%2Ftmp,,[::1]"),
        vec![EndpointKind::Unix, EndpointKind::Unix, EndpointKind::Tcp]
    );
    assert_eq!(
        kinds("postgresql:///db?host=@abstract"),
        vec![EndpointKind::Abstract]
    );
    let hosts = endpoints(
        &parse_uri("postgresql://h1,h2?hostaddr=10.0.0.1,").unwrap(),
        &Environment::empty(),
    )
    .unwrap();
    assert_eq!(hosts[0].hostaddr, Some("10.0.0.1".parse().unwrap()));
    assert_eq!(
        (hosts[1].kind, hosts[1].hostaddr),
        (EndpointKind::Tcp, None)
    );

    // one port applies to all hosts
    let ports: Vec<u16> = layout("postgresql://h1,h2,h3/db?port=6432")
        .unwrap()
        .iter()
        .map(|h| h.1)
        .collect();
    assert_eq!(ports, [6432, 6432, 6432]);

    // mismatches fail at connect time in libpq
    let info = parse_uri("postgresql://h1,h2,h3/db?port=1,2").unwrap();
    assert_eq!(
        layout("postgresql://h1,h2,h3/db?port=1,2"),
        Err("could not match 2 port numbers to 3 hosts".to_owned())
    );
    assert!(
        info.ambiguities()
            .iter()
            .any(|a| a.kind == AmbiguityKind::HostListMismatch)
    );
    assert_eq!(
        layout("postgresql://h1,h2?hostaddr=1.2.3.4"),
        Err("could not match 2 host names to 1 hostaddr values".to_owned())
    );
}

fn suggestion(uri: &str, kind: AmbiguityKind) -> (String, String) {
    let ambiguities = match parse_uri(uri) {
        Ok(info) => info.ambiguities().to_vec(),
        Err(e) => e.ambiguities,
    };
    let a = ambiguities
        .iter()
        .find(|a| a.kind == kind)
        .unwrap_or_else(|| panic!("{uri:?}: no {kind:?} in {ambiguities:#?}"));
    (
        a.suggestion.clone().unwrap_or_default(),
        a.suggestion_redacted.clone().unwrap_or_default(),
    )
}

#[test]
fn ambiguity_suggestions() {
    use AmbiguityKind::*;
    let cases: &[(&str, AmbiguityKind, &str, &str)] = &[
        (
            "postgresql://user:p@ss@host/db",
            AtInUserInfo,
            "postgresql://user:p%40ss@host/db",
            "postgresql://user:***@host/db",
        ),
        (
            "postgresql://me@corp.com@host/db",
            AtInUserInfo,
            "postgresql://me%40corp.com@host/db",
            "postgresql://me%40corp.com@host/db",
        ),
        (
            "postgresql://user:pa/ss@host/db",
            SlashInUserInfo,
            "postgresql://user:pa%2Fss@host/db",
            "postgresql://user:***@host/db",
        ),
        (
            "postgresql://u:a@b/c@host:5432/db",
            AtInUserInfo,
            "postgresql://u:a%40b%2Fc@host:5432/db",
            "postgresql://u:***@host:5432/db",
        ),
        (
            "postgresql://user:pa?ss@host/db",
            NonPortableUserInfo,
            "postgresql://user:pa%3Fss@host/db",
            "postgresql://user:***@host/db",
        ),
        (
            "postgresql://user:pa#ss@host/db",
            NonPortableUserInfo,
            "postgresql://user:pa%23ss@host/db",
            "postgresql://user:***@host/db",
        ),
        (
            "postgresql://host?user=bob@example.com",
            AtAfterQuestionMark,
            "postgresql://host?user=bob%40example.com",
            "postgresql://host?user=bob%40example.com",
        ),
        (
            "postgresql://host?password=p@ss",
            AtAfterQuestionMark,
            "postgresql://host?password=p%40ss",
            "postgresql://host?password=***",
        ),
        (
            "postgresql://u:p%zz@h/db",
            BarePercent,
            "postgresql://u:p%25zz@h/db",
            "postgresql://u:***@h/db",
        ),
        (
            "postgresql://h/100%",
            BarePercent,
            "postgresql://h/100%25",
            "postgresql://h/100%25",
        ),
        (
            "postgresql://host/my db",
            Whitespace,
            "postgresql://host/my%20db",
            "postgresql://host/my%20db",
        ),
        (
            "postgresql://host/db\n",
            Whitespace,
            "postgresql://host/db",
            "postgresql://host/db",
        ),
        (
            "postgresql://host? user = u & port = 1 ",
            Whitespace,
            "postgresql://host?user=u&port=1",
            "postgresql://host?user=u&port=1",
        ),
        (
            "postgresql://host/db#prod",
            HashIsLiteral,
            "postgresql://host/db%23prod",
            "postgresql://host/db%23prod",
        ),
        (
            "postgresql://host?options=-c+search_path%3Dx",
            PlusIsLiteral,
            "postgresql://host?options=-c%20search_path%3Dx",
            "postgresql://host?options=-c%20search_path%3Dx",
        ),
        (
            "postgresql://host?ssl=false",
            SslParameter,
            "postgresql://host?sslmode=disable",
            "postgresql://host?sslmode=disable",
        ),
        (
            "postgresql://host?ssl=1&port=1",
            SslParameter,
            "postgresql://host?sslmode=require&port=1",
            "postgresql://host?sslmode=require&port=1",
        ),
        (
            "postgresql://host?uzer=bob",
            UnknownParameter,
            "postgresql://host?user=bob",
            "postgresql://host?user=bob",
        ),
        (
            "postgresql://host?database=app",
            UnknownParameter,
            "postgresql://host?dbname=app",
            "postgresql://host?dbname=app",
        ),
        (
            "postgresql://host?currentSchema=app",
            UnknownParameter,
            "postgresql://host?options=-c%20search_path%3Dapp",
            "postgresql://host?options=-c%20search_path%3Dapp",
        ),
        (
            "postgresql://host?options=-csearch_path=x",
            ExtraEquals,
            "postgresql://host?options=-csearch_path%3Dx",
            "postgresql://host?options=-csearch_path%3Dx",
        ),
        (
            "postgresql://host?sslmode=require?application_name=x",
            ExtraEquals,
            "postgresql://host?sslmode=require&application_name=x",
            "postgresql://host?sslmode=require&application_name=x",
        ),
        (
            "POSTGRESQL://host/db",
            Scheme,
            "postgresql://host/db",
            "postgresql://host/db",
        ),
        (
            "jdbc:postgresql://u:s3cret@host/db",
            Scheme,
            "postgresql://u:s3cret@host/db",
            "postgresql://u:***@host/db",
        ),
        (
            "  postgresql://host/db\n",
            Scheme,
            "postgresql://host/db",
            "postgresql://host/db",
        ),
    ];
    for &(uri, kind, full, redacted) in cases {
        let (s, r) = suggestion(uri, kind);
        assert_eq!(s, full, "{uri:?} {kind:?}");
        assert_eq!(r, redacted, "{uri:?} {kind:?}");
        // every suggestion parses, and means something without the trap
        if kind != Scheme {
            let fixed = parse_uri(&s).unwrap_or_else(|e| panic!("{uri:?} -> {s:?}: {e}"));
            assert!(!fixed.ambiguities().iter().any(|a| a.kind == kind), "{s:?}");
        }
    }

    // and what they parse to
    let fixed = parse_uri("postgresql://user:p%40ss@host/db").unwrap();
    assert_eq!(fixed.get("password").as_deref(), Some("p@ss"));
    assert_eq!(fixed.get("host").as_deref(), Some("host"));
    let fixed = parse_uri("postgresql://user:pa%2Fss@host/db").unwrap();
    assert_eq!(fixed.get("password").as_deref(), Some("pa/ss"));
}

#[test]
fn no_false_alarms() {
    for uri in [
        "postgresql://user:secret@host:5432/db?sslmode=require",
        "postgresql://user@host/db?application_name=x@y",
        "postgresql://u:p@h?application_name=a@b&sslmode=require",
        "postgresql://host/db?user=bob@example.com",
        "postgresql://[::1]:5432,h2:5433/db",
        "postgres://%2Fvar%2Frun%2Fpostgresql/db",
        "postgresql://user:pa:ss@host",
        "postgresql://",
    ] {
        let info = parse_uri(uri).unwrap();
        assert!(
            info.ambiguities().is_empty(),
            "{uri:?}: {:#?}",
            info.ambiguities()
        );
    }
}

#[test]
fn override_and_repeat_notes() {
    let info =
        parse_uri("postgresql://u@h/db?user=v&application_name=a&application_name=b").unwrap();
    let kinds: Vec<AmbiguityKind> = info.ambiguities().iter().map(|a| a.kind).collect();
    assert!(
        kinds.contains(&AmbiguityKind::QueryOverridesUri),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&AmbiguityKind::RepeatedParameter),
        "{kinds:?}"
    );
    let info = parse_uri("postgresql://h?sslmode=verify-full&ssl=true").unwrap();
    assert!(info.ambiguities().iter().any(
        |a| a.kind == AmbiguityKind::RepeatedParameter && a.message.contains("(sslmode, ssl)")
    ));
    let info = parse_uri("postgresql://a%2Cb/db").unwrap();
    assert!(
        info.ambiguities()
            .iter()
            .any(|a| a.kind == AmbiguityKind::EncodedCommaInHost)
    );
}

#[test]
fn version_differences() {
    let v15 = ParseOptions::libpq(15);
    // spaces: kept before 18, trimmed/rejected from 18
    let uri = "postgresql://host/ db ";
    assert_eq!(
        parse_uri_with(uri, v15).unwrap().get("dbname").as_deref(),
        Some(" db ")
    );
    assert_eq!(parse_uri(uri).unwrap().get("dbname").as_deref(), Some("db"));
    let uri = "postgresql://host/my db";
    assert_eq!(
        parse_uri_with(uri, v15).unwrap().get("dbname").as_deref(),
        Some("my db")
    );
    assert!(parse_uri(uri).is_err());

    // keywords newer than the target are unknown
    let uri = "postgresql://host?sslnegotiation=direct";
    let e = parse_uri_with(uri, v15).unwrap_err();
    assert_eq!(e.message, "invalid URI query parameter: \"sslnegotiation\"");
    assert!(
        e.ambiguities
            .iter()
            .any(|a| a.kind == AmbiguityKind::NeedsNewerLibpq && a.message.contains("libpq 17+"))
    );
    let info = parse_uri(uri).unwrap();
    assert_eq!(info.min_libpq_version(), 17);
    assert_eq!(
        parse_uri("postgresql://h/db").unwrap().min_libpq_version(),
        9
    );
    assert_eq!(
        parse_uri("postgresql://h?require_auth=none")
            .unwrap()
            .min_libpq_version(),
        16
    );
}

#[test]
fn bytes_and_nul() {
    // C strings end at NUL
    let info = parse_uri("postgresql://host/db\0junk").unwrap();
    assert_eq!(info.get("dbname").as_deref(), Some("db"));
    // values are bytes
    let info = parse_uri("postgresql://host/%FF%C3%A9").unwrap();
    assert_eq!(info.get_bytes("dbname"), Some(&[0xFF, 0xC3, 0xA9][..]));
    assert_eq!(info.get("dbname").as_deref(), Some("\u{FFFD}é"));
    let info = parse_uri_bytes(b"postgresql://h\xff/", ParseOptions::default()).unwrap();
    assert_eq!(info.get_bytes("host"), Some(&b"h\xff"[..]));
}

#[test]
fn keyword_value_strings() {
    let info =
        parse_conninfo("host=h port = 5433 password='a b\\'c' dbname=x\\ y requiressl=1").unwrap();
    assert_eq!(
        pairs(&info),
        p(&[
            ("password", "a b'c"),
            ("dbname", "x y"),
            ("host", "h"),
            ("port", "5433"),
            ("sslmode", "require")
        ])
    );
    assert!(parse_conninfo("").unwrap().is_empty());
    let e = parse_conninfo("host='h").unwrap_err();
    assert_eq!(
        e.message,
        "unterminated quoted string in connection info string"
    );
    let e = parse_conninfo("hots=h").unwrap_err();
    assert_eq!(e.message, "invalid connection option \"hots\"");
    let e = parse_conninfo("host").unwrap_err();
    assert_eq!(
        e.message,
        "missing \"=\" after \"host\" in connection info string"
    );
    // the rest of an unquoted password is not echoed
    let e = parse_conninfo("password=s3 cret host=h").unwrap_err();
    assert_eq!(
        e.message,
        "missing \"=\" after \"***\" in connection info string"
    );
    // ssl=true is a URI-only alias
    let e = parse_conninfo("ssl=true").unwrap_err();
    assert_eq!(e.message, "invalid connection option \"ssl\"");
    // scheme hint for near-URIs
    let e = parse_conninfo("Postgres://h/db").unwrap_err();
    assert_eq!(
        e.message,
        "missing \"=\" after \"Postgres://h/db\" in connection info string"
    );
    assert_eq!(
        e.ambiguities[0].suggestion.as_deref(),
        Some("postgres://h/db")
    );
}

#[test]
fn keyword_table() {
    use dbtool::url::libpq::{KEYWORDS, keyword};
    assert_eq!(KEYWORDS.len(), 50);
    assert_eq!(KEYWORDS[0].name, "service");
    assert_eq!(KEYWORDS[KEYWORDS.len() - 1].name, "sslkeylogfile");
    let k = keyword("sslnegotiation").unwrap();
    assert_eq!(
        (k.envvar, k.default, k.since),
        (Some("PGSSLNEGOTIATION"), Some("postgres"), 17)
    );
    let k = keyword("host").unwrap();
    assert_eq!((k.envvar, k.default), (Some("PGHOST"), None));
    assert_eq!(keyword("port").unwrap().default, Some("5432"));
    assert!(keyword("password").unwrap().is_secret());
    assert!(keyword("oauth_client_secret").unwrap().is_secret());
    assert!(!keyword("user").unwrap().is_secret());
    assert!(keyword("requiressl").is_none());
    assert!(keyword("servicefile").is_none()); // PostgreSQL 19
    let mut names: Vec<&str> = KEYWORDS.iter().map(|k| k.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), KEYWORDS.len());
}
