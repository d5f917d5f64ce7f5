//! What a test needs beyond the PostgreSQL binaries, and the one way a test may skip without it.
//!
//! A test that needs PgBouncer, a libpq oracle or clusters of its own starts with
//! `if !require(&[Requirement::...]) { return; }`. When something is missing, [`require`] prints
//! `skipped: <test>: <why>` to stderr and returns false; but a requirement named in
//! `DBTOOL_TEST_REQUIRE` (comma-separated names, or `all`) turns that skip into a failure.
//! `scripts/test`, and so CI, sets `DBTOOL_TEST_REQUIRE=all`: no test passes there by skipping.

use std::io::Write;

use crate::pg::{Server, pgbouncer_program, shared};

/// The variable that turns skips into failures.
const VARIABLE: &str = "DBTOOL_TEST_REQUIRE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// PgBouncer installed, for the pooler tests.
    Pgbouncer,
    /// `LIBPQ_ORACLE` and `LIBPQ_ORACLE_MAJOR`: the PQconninfoParse oracle scripts/test builds.
    LibpqOracle,
    /// `LIBPQ_CONNECT` and `LIBPQ_ORACLE_MAJOR`: the PQconnectPoll oracle scripts/test builds.
    LibpqConnect,
    /// Clusters the harness starts itself (no `DBTOOL_TEST_DATABASE_URL`): tests that start,
    /// stop, freeze or reconfigure servers.
    LocalCluster,
    /// Root, `ip` (iproute2) and `nft` (nftables): the idle-probe tests build network
    /// namespaces with a stateful firewall between client and server.
    NetworkNamespaces,
}

impl Requirement {
    const ALL: [Requirement; 5] = [
        Requirement::Pgbouncer,
        Requirement::LibpqOracle,
        Requirement::LibpqConnect,
        Requirement::LocalCluster,
        Requirement::NetworkNamespaces,
    ];

    /// The name `DBTOOL_TEST_REQUIRE` lists.
    pub fn name(self) -> &'static str {
        match self {
            Requirement::Pgbouncer => "pgbouncer",
            Requirement::LibpqOracle => "libpq-oracle",
            Requirement::LibpqConnect => "libpq-connect",
            Requirement::LocalCluster => "local-cluster",
            Requirement::NetworkNamespaces => "network-namespaces",
        }
    }

    /// Why the requirement is not met on this machine, or `None` when it is.
    fn missing(self) -> Option<&'static str> {
        let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
        let met = match self {
            Requirement::Pgbouncer => pgbouncer_program().is_some(),
            Requirement::LibpqOracle => set("LIBPQ_ORACLE") && set("LIBPQ_ORACLE_MAJOR"),
            Requirement::LibpqConnect => set("LIBPQ_CONNECT") && set("LIBPQ_ORACLE_MAJOR"),
            Requirement::LocalCluster => matches!(shared(), Server::Local(_)),
            Requirement::NetworkNamespaces => {
                // SAFETY: geteuid has no preconditions.
                let root = unsafe { libc::geteuid() } == 0;
                root && ["/usr/sbin/ip", "/usr/sbin/nft", "/usr/sbin/runuser"]
                    .iter()
                    .all(|p| std::path::Path::new(p).is_file())
            }
        };
        (!met).then_some(match self {
            Requirement::Pgbouncer => "pgbouncer is not installed (apt-get install pgbouncer)",
            Requirement::LibpqOracle => {
                "LIBPQ_ORACLE or LIBPQ_ORACLE_MAJOR is not set (scripts/test builds the oracle and sets them)"
            }
            Requirement::LibpqConnect => {
                "LIBPQ_CONNECT or LIBPQ_ORACLE_MAJOR is not set (scripts/test builds the program and sets them)"
            }
            Requirement::LocalCluster => {
                "DBTOOL_TEST_DATABASE_URL is set, and this test needs clusters the harness starts itself"
            }
            Requirement::NetworkNamespaces => {
                "network namespaces need root, iproute2, nftables and runuser (scripts/install-system-packages.sh)"
            }
        })
    }
}

/// True when everything in `needs` is there. Otherwise the test must return: this prints one
/// `skipped: <test>: <why>` line and returns false, or panics when `DBTOOL_TEST_REQUIRE` names
/// a missing requirement (or is `all`).
#[track_caller]
pub fn require(needs: &[Requirement]) -> bool {
    let required = std::env::var(VARIABLE).unwrap_or_default();
    // Checked on every call, so a misspelt name fails every test that asks instead of requiring
    // nothing.
    if let Err(message) = parse(&required) {
        panic!("{message}");
    }
    let missing: Vec<(Requirement, &str)> = needs
        .iter()
        .filter_map(|&need| need.missing().map(|why| (need, why)))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let thread = std::thread::current();
    // libtest runs each test on a thread named after it.
    let test = thread.name().unwrap_or("a test");
    match verdict(test, &missing, &required) {
        Ok(line) => {
            // Straight to the process's stderr: eprintln! is captured by libtest and shown only
            // for failing tests, and a skip must be seen.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            false
        }
        Err(message) => panic!("{message}"),
    }
}

/// The requirements `DBTOOL_TEST_REQUIRE`'s value names; an unknown name is an error.
fn parse(value: &str) -> Result<Vec<Requirement>, String> {
    let mut required = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match Requirement::ALL.into_iter().find(|r| r.name() == name) {
            Some(requirement) => required.push(requirement),
            None if name == "all" => required.extend(Requirement::ALL),
            None => {
                let known: Vec<&str> = Requirement::ALL.iter().map(|r| r.name()).collect();
                return Err(format!(
                    "{VARIABLE}={value:?}: unknown requirement {name:?}; known: all, {}",
                    known.join(", ")
                ));
            }
        }
    }
    Ok(required)
}

/// The skip line (`Ok`) or the failure (`Err`) for a test missing `missing`.
fn verdict(test: &str, missing: &[(Requirement, &str)], required: &str) -> Result<String, String> {
    let names = parse(required)?;
    let why: Vec<&str> = missing.iter().map(|(_, why)| *why).collect();
    let why = why.join("; ");
    match missing.iter().find(|(need, _)| names.contains(need)) {
        Some((need, _)) => Err(format!(
            "{test}: {why}; {VARIABLE}={required} requires {name}, so the test may not skip \
             (leave {name} out of {VARIABLE} to let it skip)",
            name = need.name()
        )),
        None => Ok(format!("skipped: {test}: {why}")),
    }
}

#[test]
fn a_missing_requirement_skips_unless_it_is_required() {
    let missing = [(Requirement::Pgbouncer, "pgbouncer is not installed")];
    assert_eq!(
        verdict("poolers::t", &missing, ""),
        Ok("skipped: poolers::t: pgbouncer is not installed".to_string())
    );
    assert_eq!(
        verdict("poolers::t", &missing, "libpq-oracle, local-cluster"),
        Ok("skipped: poolers::t: pgbouncer is not installed".to_string())
    );
    for required in ["pgbouncer", "libpq-oracle,pgbouncer", " pgbouncer ,", "all"] {
        let failure = verdict("poolers::t", &missing, required).unwrap_err();
        assert_eq!(
            failure,
            format!(
                "poolers::t: pgbouncer is not installed; DBTOOL_TEST_REQUIRE={required} requires \
                 pgbouncer, so the test may not skip (leave pgbouncer out of DBTOOL_TEST_REQUIRE \
                 to let it skip)"
            )
        );
    }
}

#[test]
fn every_missing_requirement_is_said_and_any_required_one_fails() {
    let missing = [
        (Requirement::LocalCluster, "external server"),
        (Requirement::Pgbouncer, "no pgbouncer"),
    ];
    assert_eq!(
        verdict("t", &missing, "libpq-connect"),
        Ok("skipped: t: external server; no pgbouncer".to_string())
    );
    assert!(
        verdict("t", &missing, "pgbouncer")
            .unwrap_err()
            .contains("requires pgbouncer")
    );
}

#[test]
fn an_unknown_requirement_is_refused_with_the_known_names() {
    assert_eq!(
        parse("pgbouncer,pgbounce"),
        Err("DBTOOL_TEST_REQUIRE=\"pgbouncer,pgbounce\": unknown requirement \"pgbounce\"; known: all, pgbouncer, libpq-oracle, libpq-connect, local-cluster, network-namespaces".to_string())
    );
    assert_eq!(parse("all"), Ok(Requirement::ALL.to_vec()));
    assert_eq!(parse(""), Ok(Vec::new()));
}

/// Tests skip through [`require`] only: the forms ad-hoc skips took are not found elsewhere.
#[test]
fn tests_skip_only_through_require() {
    let forms = [
        "matches!(shared(), Server::",
        "shared() else",
        "pgbouncer_program().is_none()",
        "skipping",
        "eprintln!(\"skipped",
    ];
    let mut found = Vec::new();
    for (name, text) in crate::cli::other_test_sources("require.rs") {
        for (number, line) in text.lines().enumerate() {
            if forms.iter().any(|form| line.contains(form)) {
                found.push(format!("tests/it/{name}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "skip with `if !require(&[Requirement::...]) {{ return; }}` instead:\n{}",
        found.join("\n")
    );
}
