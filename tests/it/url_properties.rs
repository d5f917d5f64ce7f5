//! Properties of the URLs dbtool writes, with generated connections (proptest shrinks a failure
//! to its smallest case and keeps it under `tests/proptest-regressions/`):
//!
//! * `render_uri` writes a URI that `parse_uri` reads back to the same keyword/value pairs and
//!   the same host list, for users, passwords, several hosts (names, IPv4, IPv6 with zones, Unix
//!   socket directories, abstract sockets), per-host or shared ports, databases and any libpq
//!   keyword with any value, under libpq 18's and the older decoding rules;
//! * the forms of `dbtool::check_url::conversions` that are libpq's (the URI, keyword/value, and the
//!   SQLAlchemy psycopg URL) read back with `parse_conninfo` (or as a SQLAlchemy URL) to the
//!   same pairs, and with the password masked to the same pairs but the password.

use dbtool::check_url::conversions;
use dbtool::conn::target::{EndpointKind, Origin, endpoints, parse_libpq_int};
use dbtool::environment::Environment;
use dbtool::url::libpq::{
    ConnInfo, KEYWORDS, ParseOptions, parse_conninfo_with, parse_uri_with, render_uri,
};
use dbtool::url::parse_database_url;
use dbtool::url::sqlalchemy::parse_scheme;
use proptest::prelude::*;

/// The keywords with a place of their own in a URI: generated as components, not as query
/// parameters (where they would override the components).
const COMPONENTS: &[&str] = &["user", "password", "host", "port", "dbname", "hostaddr"];

/// A connection as components, before rendering.
#[derive(Debug, Clone)]
struct Connection {
    user: Option<String>,
    password: Option<String>,
    hosts: Vec<String>,
    /// Empty: no port; one: for every host; else one per host (an empty one is the default).
    ports: Vec<String>,
    dbname: Option<String>,
    /// Other libpq keywords (by index into `KEYWORDS`), with raw values.
    options: Vec<(usize, Vec<u8>)>,
}

impl Connection {
    fn conninfo(&self) -> ConnInfo {
        let mut info = ConnInfo::new();
        let mut set = |keyword: &str, value: Vec<u8>| {
            info.set(keyword, value)
                .unwrap_or_else(|e| panic!("{keyword}: {e}"));
        };
        for (index, value) in &self.options {
            set(KEYWORDS[*index].name, value.clone());
        }
        if let Some(user) = &self.user {
            set("user", user.clone().into_bytes());
        }
        if let Some(password) = &self.password {
            set("password", password.clone().into_bytes());
        }
        if !self.hosts.is_empty() {
            set("host", self.hosts.join(",").into_bytes());
        }
        if !self.ports.is_empty() {
            set("port", self.ports.join(",").into_bytes());
        }
        if let Some(dbname) = &self.dbname {
            set("dbname", dbname.clone().into_bytes());
        }
        info
    }

    /// The oldest libpq that knows every keyword used.
    fn min_libpq(&self) -> u32 {
        self.options
            .iter()
            .map(|(index, _)| KEYWORDS[*index].since)
            .max()
            .unwrap_or(9)
    }
}

/// Any text without NUL (libpq values are C strings), mostly the characters URIs treat specially.
fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        "[a-zA-Z0-9_.-]{0,12}",
        "[ a-z@:/?#&=%+,\\[\\]'\"\\\\]{0,12}",
        "[^\\x00]{0,12}",
    ]
}

/// Text as a value (the keyword/value form is text, so only UTF-8 values survive it).
fn text_value() -> impl Strategy<Value = Vec<u8>> + Clone {
    text().prop_map(String::into_bytes)
}

/// Any bytes but NUL as a value (`%FF` in a URI yields a byte that is not UTF-8).
fn raw_value() -> impl Strategy<Value = Vec<u8>> + Clone {
    prop_oneof![
        3 => text().prop_map(String::into_bytes),
        1 => proptest::collection::vec(1u8..=255, 0..12),
    ]
}

/// One host: a name, an address, or a Unix socket directory. Never empty, never with a comma
/// (a comma separates hosts).
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,6}){0,2}",
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|ip| ip.to_string()),
        (any::<std::net::Ipv6Addr>(), "[a-z]{1,4}[0-9]")
            .prop_map(|(ip, zone)| format!("{ip}%{zone}")),
        "(/[a-zA-Z0-9 _.@:-]{1,8}){1,3}",
        "@[a-z]{1,8}",
        "[^,\\x00]{1,10}",
    ]
}

fn port() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<u16>().prop_map(|p| p.to_string()),
        1 => Just(String::new()),
        1 => "[^,\\x00]{1,6}",
    ]
}

/// Connections whose other options take `values`.
fn connections_of(
    values: impl Strategy<Value = Vec<u8>> + Clone,
) -> impl Strategy<Value = Connection> {
    let hosts = proptest::collection::vec(host(), 0..4);
    let ports = hosts.prop_flat_map(|hosts| {
        let n = hosts.len();
        let ports = prop_oneof![
            Just(Vec::new()),
            port().prop_map(|p| vec![p]),
            proptest::collection::vec(port(), n.max(1)),
        ];
        (Just(hosts), ports)
    });
    let others: Vec<usize> = (0..KEYWORDS.len())
        .filter(|&i| !COMPONENTS.contains(&KEYWORDS[i].name))
        .collect();
    let options = proptest::collection::vec((proptest::sample::select(others), values), 0..5);
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        ports,
        proptest::option::of(text()),
        options,
    )
        .prop_map(
            |(user, password, (hosts, ports), dbname, options)| Connection {
                user,
                password,
                hosts,
                ports,
                dbname,
                options,
            },
        )
}

/// The libpq versions whose URI decoding differs (18 trims raw spaces) that know the keywords.
fn versions(connection: &Connection) -> Vec<ParseOptions> {
    [18, 15]
        .into_iter()
        .filter(|&v| v >= connection.min_libpq())
        .map(ParseOptions::libpq)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rendered_uris_parse_back_to_the_same_components(connection in connections_of(raw_value())) {
        let info = connection.conninfo();
        let uri = render_uri(&info);
        for options in versions(&connection) {
            let back = parse_uri_with(&uri, options)
                .map_err(|e| TestCaseError::fail(format!("{uri:?}: {e}")))?;
            prop_assert_eq!(back.pairs(), info.pairs(), "{:?} (libpq {})", uri, options.libpq_major);
            let none = Environment::empty();
            let hosts = endpoints(&back, &none);
            prop_assert_eq!(&hosts, &endpoints(&info, &none));
            // Each host keeps its place, its kind and its port.
            if let Ok(hosts) = hosts
                && !connection.hosts.is_empty()
            {
                prop_assert_eq!(hosts.len(), connection.hosts.len());
                for (i, entry) in hosts.iter().enumerate() {
                    let given = &connection.hosts[i];
                    if given.is_empty() {
                        prop_assert_eq!(entry.host_origin, Origin::Default);
                    } else {
                        prop_assert_eq!(&entry.host, given);
                    }
                    let socket = given.is_empty() || given.starts_with(['/', '@']);
                    prop_assert_eq!(entry.kind != EndpointKind::Tcp, socket);
                    prop_assert_eq!(entry.kind == EndpointKind::Abstract, given.starts_with('@'));
                    // An empty port list sets no port at all.
                    let port = match connection.ports.as_slice() {
                        [] => None,
                        [only] if only.is_empty() => None,
                        [only] => Some(only),
                        per_host => per_host.get(i).filter(|p| !p.is_empty()),
                    };
                    match port {
                        None => prop_assert_eq!(entry.port_origin, Origin::Default),
                        Some(text) => prop_assert_eq!(parse_libpq_int(text), Some(i32::from(entry.port))),
                    }
                }
            }
        }
    }

    #[test]
    fn libpq_conversions_parse_back_to_the_same_pairs(connection in connections_of(text_value())) {
        let info = connection.conninfo();
        let scheme = parse_scheme("postgresql+asyncpg://").expect("a known scheme");
        let forms = conversions::all(&info, &scheme, true);
        let form = |key: &str| {
            forms
                .iter()
                .find(|c| c.key == key)
                .and_then(|c| c.value.clone())
                .unwrap_or_else(|| panic!("no {key} form"))
        };
        for options in versions(&connection) {
            for key in ["libpq_uri", "keyword_value"] {
                let text = form(key);
                let back = parse_conninfo_with(&text, options)
                    .map_err(|e| TestCaseError::fail(format!("{key} {text:?}: {e}")))?;
                prop_assert_eq!(back.pairs(), info.pairs(), "{} {:?}", key, text);
            }
        }
        // SQLAlchemy takes only integer ports (the form says so instead); it passes them on as
        // Python's int() reads them, so only canonical ones come back as written.
        let canonical = connection.ports.iter().all(|p| p.is_empty() || p.parse::<u16>().is_ok_and(|n| n > 0 && n.to_string() == *p));
        if !canonical {
            return Ok(());
        }
        let psycopg = form("sqlalchemy_psycopg");
        let back = parse_database_url(&psycopg, &Environment::empty())
            .map_err(|e| TestCaseError::fail(format!("{psycopg:?}: {e:#}")))?
            .info;
        // Read as the application reads it: SQLAlchemy drops blank query values (`?port=`),
        // which libpq takes as unset, and its dialect joins the ?host= list with an empty port
        // per host (`port=","`), which libpq takes as the default port.
        // And libpq's one port for every host is one per host for the dialect.
        let default_port = |pairs: Vec<(String, String)>| -> Vec<(String, String)> {
            let hosts = pairs
                .iter()
                .find(|(key, _)| key == "host")
                .map_or(1, |(_, value)| value.split(',').count());
            pairs
                .into_iter()
                .filter(|(key, value)| {
                    !(value.is_empty() || key == "port" && value.chars().all(|c| c == ','))
                })
                .map(|(key, value)| match key == "port" && !value.contains(',') {
                    true => (key, vec![value.as_str(); hosts].join(",")),
                    false => (key, value),
                })
                .collect()
        };
        prop_assert_eq!(default_port(back.pairs()), default_port(info.pairs()), "{:?}", psycopg);
    }

    #[test]
    fn masked_conversions_differ_only_in_the_password(
        connection in connections_of(text_value()),
        password in text(),
    ) {
        let info = Connection { password: Some(password), ..connection }.conninfo();
        let mut masked = info.clone();
        masked.set("password", dbtool::secret::MASK).expect("password is a keyword");
        let scheme = parse_scheme("postgresql://").expect("a known scheme");
        for conversion in conversions::all(&info, &scheme, false) {
            if !matches!(conversion.key, "libpq_uri" | "keyword_value") {
                continue;
            }
            let text = conversion.value.expect("libpq forms always exist");
            let back = parse_conninfo_with(&text, ParseOptions::default())
                .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            prop_assert_eq!(back.pairs(), masked.pairs(), "{:?}", text);
        }
    }
}
