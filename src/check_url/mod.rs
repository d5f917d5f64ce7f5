//! `dbtool check-url`: how SQLAlchemy, the driver and libpq will read a connection URL, and what
//! will go wrong before anything connects.

pub mod conversions;
mod explain;
mod findings;

use crate::conn::plan::Reached;
use crate::conn::target::{Endpoint, Resolved, SslMode};
use crate::environment::Environment;
use crate::exit::Outcome;
use crate::finding::{Code, Finding, Level};
use crate::password::PasswordSource;
use crate::secret::MASK;
use crate::url::DatabaseUrl;
use crate::url::dialect::ApplicationReading;
use crate::url::libpq::{ConnInfo, ParseOptions, UriError};
use crate::url::sqlalchemy::{self, Scheme, SqlalchemyReading};
use conversions::Conversion;

pub(crate) use explain::Part;

/// What `check-url` needs to know, resolved from flags and settings.
#[derive(Debug, Clone)]
pub struct CheckUrlConfig {
    /// The URL, password included; never shown as is.
    pub url: String,
    pub strict: bool,
    pub show_password: bool,
    /// The libpq major version whose reading is reproduced.
    pub libpq_major: u32,
}

/// Why the URL cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParseFailure {
    pub(crate) message: String,
    /// Byte offset in the URL as given.
    pub(crate) position: Option<usize>,
}

/// Everything `check-url` found out about one URL.
#[derive(Debug, Clone)]
pub struct CheckUrlReport {
    /// The URL with its password masked (or not, with `--show-password`).
    pub(crate) url_shown: String,
    pub valid: bool,
    pub(crate) scheme: Option<Scheme>,
    /// The keyword/value pairs PQconninfoParse sets; the password masked.
    pub(crate) libpq: Vec<(String, String)>,
    /// Query parameters left out of the libpq reading because only the driver takes them.
    pub(crate) driver_only_parameters: Vec<String>,
    /// The hosts libpq will try (the URL with the PG* environment and defaults); empty when
    /// they cannot be laid out.
    pub(crate) hosts: Vec<Endpoint>,
    pub(crate) sqlalchemy: Option<Result<SqlalchemyReading, String>>,
    /// The application's reading: the dialect's arguments for the driver and what the driver
    /// makes of them; `Err`: SQLAlchemy cannot build them (password pieces masked).
    pub(crate) application: Option<Result<ApplicationReading, String>>,
    /// Who the application's driver connects as, from the same resolution as `hosts`.
    pub(crate) driver_target: Option<DriverTarget>,
    pub(crate) explanation: Vec<Part>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) conversions: Vec<Conversion>,
    pub error: Option<UrlParseFailure>,
    pub(crate) outcome: Outcome,
    pub(crate) show_password: bool,
}

/// The user, database, TLS mode and password source the application's driver connects with.
#[derive(Debug, Clone)]
pub(crate) struct DriverTarget {
    pub(crate) user: String,
    pub(crate) database: String,
    pub(crate) sslmode: Option<SslMode>,
    pub(crate) password: PasswordSource,
}

/// Checks one URL with the PG* variables, home directory and user of `env`. Never fails: an
/// unusable URL is a report with `valid: false`.
pub fn check_url(config: &CheckUrlConfig, env: &Environment) -> CheckUrlReport {
    let url = config.url.as_str();
    let mut report = empty_report(config);
    let scheme = match sqlalchemy::parse_scheme(url) {
        Ok(scheme) => scheme,
        Err(error) => {
            report.error = Some(UrlParseFailure {
                message: error.message,
                position: Some(error.position),
            });
            return report;
        }
    };
    let options = ParseOptions::libpq(config.libpq_major);
    let (parsed, driver_only) = crate::url::libpq_reading(url, &scheme, options);
    report.driver_only_parameters = driver_only;
    let sqlalchemy = sqlalchemy::read_as_sqlalchemy(url);
    report.scheme = Some(scheme.clone());
    report.sqlalchemy = Some(sqlalchemy.clone());
    let application = ApplicationReading::read(
        &sqlalchemy,
        scheme.effective_driver(),
        config.libpq_major,
        env,
    )
    .map_err(|error| crate::url::redact_message(&error, url));
    report.application = Some(application.clone());
    let readings = Readings {
        url,
        scheme: &scheme,
        sqlalchemy: &sqlalchemy,
        application: &application,
    };
    let (info, psql_rejects) = match explained_info(parsed.clone(), &readings, config) {
        Explained::Info(info, psql_rejects) => (info, psql_rejects),
        Explained::DriverRefuses(found) => {
            report.findings = found;
            return settle(report, config.strict);
        }
        Explained::Invalid(found, error) => {
            report.findings = found;
            report.error = Some(error);
            return report;
        }
    };
    report.libpq = masked_pairs(&info, config.show_password);
    let resolved = reached(
        &mut report,
        &info,
        parsed,
        &readings,
        env,
        config.libpq_major,
    );
    let context = findings::CheckContext {
        url,
        scheme: &scheme,
        info: &info,
        resolved: &resolved,
        sqlalchemy: &sqlalchemy,
        driver_password: report.driver_target.as_ref().map(|t| &t.password),
        environment: env,
    };
    report.findings = findings::collect(&context, config.show_password);
    report.explanation = explain::explain(&scheme, &info, &resolved, env, config.show_password);
    report.conversions = conversions::all(&info, &scheme, config.show_password);
    mask_sqlalchemy_password(&mut report, &sqlalchemy, config.show_password);
    let application = match &application {
        Ok(application) => application,
        Err(message) => {
            report.error = Some(UrlParseFailure {
                message: format!("the application cannot use this URL: {message}"),
                position: None,
            });
            return report;
        }
    };
    let found = findings::application(&scheme, &sqlalchemy, application, url, psql_rejects);
    add_application_findings(&mut report, application, found);
    settle(report, config.strict)
}

/// A report with nothing found yet.
fn empty_report(config: &CheckUrlConfig) -> CheckUrlReport {
    CheckUrlReport {
        url_shown: if config.show_password {
            config.url.clone()
        } else {
            crate::url::redact_url(&config.url)
        },
        valid: false,
        scheme: None,
        libpq: Vec::new(),
        driver_only_parameters: Vec::new(),
        hosts: Vec::new(),
        sqlalchemy: None,
        application: None,
        driver_target: None,
        explanation: Vec::new(),
        findings: Vec::new(),
        conversions: Vec::new(),
        error: None,
        outcome: Outcome::NoAttempt,
        show_password: config.show_password,
    }
}

/// The application's readings of the URL: SQLAlchemy's and what its dialect and driver make of it.
struct Readings<'a> {
    url: &'a str,
    scheme: &'a Scheme,
    sqlalchemy: &'a Result<SqlalchemyReading, String>,
    application: &'a Result<ApplicationReading, String>,
}

/// What there is to explain about a URL.
enum Explained {
    /// The connection string, and psql's refusal of the URL when the application reads it anyway.
    Info(ConnInfo, Option<String>),
    /// SQLAlchemy builds the arguments but the driver refuses them and psql refuses the string:
    /// the application starts and fails at connect; no connection is left to explain.
    DriverRefuses(Vec<Finding>),
    /// Neither libpq nor the application can use the URL.
    Invalid(Vec<Finding>, UrlParseFailure),
}

/// libpq's reading; where libpq refuses the string but the application reads it (a `%` escape
/// SQLAlchemy takes literally), what the driver receives.
fn explained_info(
    parsed: Result<ConnInfo, crate::url::libpq::UriError>,
    readings: &Readings<'_>,
    config: &CheckUrlConfig,
) -> Explained {
    let error = match parsed {
        Ok(info) => return Explained::Info(info, None),
        Err(error) => error,
    };
    let scheme = readings.scheme;
    match (&scheme.driver, readings.application) {
        (Some(_), Ok(app)) => match app.libpq_info(config.libpq_major) {
            Some(info) => Explained::Info(info, Some(error.message)),
            None => Explained::DriverRefuses(findings::application(
                scheme,
                readings.sqlalchemy,
                app,
                readings.url,
                Some(error.message),
            )),
        },
        _ => Explained::Invalid(
            findings::from_ambiguities(&error.ambiguities, scheme, config.show_password),
            UrlParseFailure {
                message: format!("libpq would reject this URL: {}", error.message),
                position: error.position.map(|p| crate::url::map_position(p, scheme)),
            },
        ),
    }
}

/// What the application's driver reaches: the connection plan's reading ([`Reached`]) of the URL
/// the application connects with ([`crate::url::connecting_url`]), as ping, lint-constraints and
/// pool-bench connect. When the application cannot use the URL, the hosts libpq's reading `info`
/// reaches, and no driver target. Sets the report's hosts and the driver's target.
fn reached(
    report: &mut CheckUrlReport,
    info: &ConnInfo,
    parsed: Result<ConnInfo, UriError>,
    readings: &Readings<'_>,
    env: &Environment,
    libpq_major: u32,
) -> Resolved {
    let connecting = crate::url::connecting_url(
        readings.scheme.clone(),
        parsed,
        readings.sqlalchemy,
        readings.application,
        libpq_major,
    );
    let driver_connects = connecting.is_ok()
        && readings
            .application
            .as_ref()
            .is_ok_and(|app| app.driver_error().is_none());
    let url = connecting.unwrap_or_else(|_| DatabaseUrl {
        scheme: readings.scheme.clone(),
        info: info.clone(),
        asyncpg: None,
    });
    let reached = Reached::of(&url, env);
    report.hosts = reached.resolved.endpoints.clone().unwrap_or_default();
    if driver_connects {
        let resolved = &reached.resolved;
        report.driver_target = Some(DriverTarget {
            user: resolved.user.value.clone(),
            database: resolved.dbname.value.clone(),
            sslmode: resolved.sslmode.as_ref().ok().map(|mode| mode.value),
            password: reached.password_source,
        });
    }
    reached.resolved
}

/// libpq may read an unencoded password as host, port and database; its re-rendered forms would
/// then spell the password out again. Masks the password SQLAlchemy reads there too.
fn mask_sqlalchemy_password(
    report: &mut CheckUrlReport,
    sqlalchemy: &Result<SqlalchemyReading, String>,
    show_password: bool,
) {
    if let (Ok(reading), false) = (sqlalchemy, show_password)
        && let Some(password) = reading.password.as_ref().filter(|p| p.expose().len() > 1)
    {
        for conversion in &mut report.conversions {
            if let Some(value) = &mut conversion.value {
                *value = value.replace(password.expose(), crate::secret::MASK);
            }
        }
    }
}

/// Adds where the application's stack differs from libpq; an unknown keyword that already has
/// its own finding, with the fix (asyncpg-sslmode, ...), is not reported twice.
fn add_application_findings(
    report: &mut CheckUrlReport,
    application: &ApplicationReading,
    mut found: Vec<Finding>,
) {
    let named = report.findings.iter().any(|f| {
        matches!(
            f.code,
            Code::AsyncpgSslmode | Code::DriverLibpqParameter | Code::DriverUnknownParameter
        )
    });
    if named
        && application
            .driver_error()
            .is_some_and(|e| e.starts_with("TypeError: got an unexpected keyword argument"))
    {
        found.retain(|f| f.code != Code::DriverRefusesArguments);
    }
    report.findings.extend(found);
}

/// A usable URL's report, its findings worst first and its outcome from their levels.
fn settle(mut report: CheckUrlReport, strict: bool) -> CheckUrlReport {
    report
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.level()));
    report.valid = true;
    let has = |level: Level| report.findings.iter().any(|f| f.level() == level);
    report.outcome = if has(Level::Error) || (strict && has(Level::Warning)) {
        Outcome::Problems
    } else {
        Outcome::Ok
    };
    report
}

fn masked_pairs(info: &ConnInfo, show_password: bool) -> Vec<(String, String)> {
    info.iter()
        .map(|(keyword, value)| {
            let value = if keyword.is_secret() && !show_password {
                MASK.to_string()
            } else {
                String::from_utf8_lossy(value).into_owned()
            };
            (keyword.name.to_string(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{RngAlgorithm, RngSeed};

    use super::*;

    /// Checks a URL without the environment of the machine the tests run on.
    fn checked(config: &CheckUrlConfig) -> CheckUrlReport {
        check_url(config, &Environment::empty())
    }

    fn config(url: &str) -> CheckUrlConfig {
        CheckUrlConfig {
            url: url.to_string(),
            strict: false,
            show_password: false,
            libpq_major: 18,
        }
    }

    /// What generated URLs are made of: schemes, URL punctuation, escapes (valid and not),
    /// keywords, and `SECRETPW`, which must never be shown when it is read as the password.
    const PIECES: &[&str] = &[
        "postgresql",
        "postgres",
        "+asyncpg",
        "+psycopg",
        "://",
        "@",
        ":",
        "/",
        "?",
        "&",
        "=",
        "#",
        "%",
        "%2F",
        "%40",
        "%00",
        "%zz",
        "[",
        "]",
        "::1",
        ",",
        "host",
        "5432",
        "db",
        "user",
        "SECRETPW",
        "sslmode",
        "ssl",
        "true",
        "require",
        "password",
        "host=/tmp",
        " ",
        "+",
        "é",
        "\u{0}",
        "application_name",
    ];

    fn pieces(count: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), count)
            .prop_map(|pieces| pieces.concat())
    }

    /// Half the time one to fourteen pieces; half the time a URL with `SECRETPW` in its password
    /// (pieces alone almost never spell one), amid pieces that may move the `@` or the `:`.
    fn url() -> impl Strategy<Value = String> {
        let scheme = proptest::sample::select(
            &[
                "postgresql",
                "postgres",
                "postgresql+asyncpg",
                "postgresql+psycopg",
            ][..],
        );
        let with_password = (
            scheme,
            pieces(0..=2),
            pieces(0..=2),
            pieces(0..=2),
            pieces(0..=8),
        )
            .prop_map(|(scheme, user, before, after, rest)| {
                format!("{scheme}://{user}:{before}SECRETPW{after}@{rest}")
            });
        prop_oneof![pieces(1..=14), with_password]
    }

    proptest! {
        // A fixed seed so CI runs the same cases every time, and no regression files.
        #![proptest_config(ProptestConfig {
            cases: 5000,
            failure_persistence: None,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(0x5eed_1234_abcd_ef01),
            ..ProptestConfig::default()
        })]

        #[test]
        fn random_urls_never_panic_and_never_show_the_password(url in url()) {
            let report = checked(&config(&url));
            let shown = format!("{report:?}");
            let mentions_secret_outside_secrets = shown.contains("SECRETPW");
            if mentions_secret_outside_secrets {
                // The password may legitimately end up elsewhere (a host or user named
                // SECRETPW); it must never be shown when it was read as the password.
                prop_assert!(
                    !report
                        .libpq
                        .iter()
                        .any(|(k, v)| k == "password" && v.contains("SECRETPW")),
                    "{}",
                    url
                );
            }
            prop_assert_eq!(report.valid, report.error.is_none(), "{}", url);
        }
    }

    /// check-url explains the plan the connecting commands use: the same hosts in the same
    /// order, user, database, TLS mode and password source.
    #[test]
    fn explains_the_connection_plan() {
        use crate::conn::plan::{ConnectionPlan, Options};
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("postgresql://u@h1,h2:7/db?sslmode=require", &[]),
            (
                "postgresql+psycopg:///db?host=/tmp,@abstract",
                &[("PGPORT", "6")],
            ),
            (
                "postgresql+asyncpg:///db",
                &[("PGHOST", "127.0.0.1:9"), ("LOGNAME", "me")],
            ),
            ("postgresql+asyncpg://u:pw@h/db?ssl=require", &[]),
            (
                "postgresql+psycopg2://u@h/db",
                &[("PGPASSWORD", "pw"), ("PGSSLMODE", "disable")],
            ),
            (
                "postgresql://u@/db?hostaddr=127.0.0.1&port=1",
                &[("USER", "os")],
            ),
        ];
        let options = Options {
            application_name: "test",
            connect_timeout: None,
            libpq_major: 18,
        };
        for (url, variables) in cases {
            let env = Environment::injected(variables.iter().copied());
            let report = check_url(&config(url), &env);
            let plan =
                ConnectionPlan::new(url, &env, &options).unwrap_or_else(|e| panic!("{url}: {e:#}"));
            assert_eq!(report.hosts, plan.endpoints, "{url}");
            let target = report.driver_target.expect(url);
            assert_eq!(
                (target.user, target.database, target.password),
                (plan.user, plan.dbname, plan.password_source),
                "{url}"
            );
            assert_eq!(target.sslmode, Some(plan.tls.mode), "{url}");
        }
    }

    #[test]
    fn set_aside_parameters_are_only_the_drivers() {
        let report = checked(&config(
            "postgresql+asyncpg://u@h/db?ssl=require&command_timeout=5",
        ));
        assert!(report.valid, "{:?}", report.error);
        assert_eq!(report.driver_only_parameters, ["ssl", "command_timeout"]);
        // SQLAlchemy passes `ssl` on, and psycopg refuses it when the application connects.
        let report = checked(&config("postgresql+psycopg://u@h/db?ssl=require"));
        assert!(report.valid);
        assert_eq!(report.outcome, Outcome::Problems);
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.code == Code::DriverRefusesArguments && f.level() == Level::Error),
            "{:?}",
            report.findings
        );
    }
}
