//! `dbtool check-url` through the binary.

use std::fs;

use serde_json::json;

use crate::cli::{dbtool, run, run_json};

fn check(args: &[&str]) -> (crate::cli::Run, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = dbtool(dir.path());
    command.args(["check-url", "--format", "json"]).args(args);
    run_json(&mut command)
}

fn codes(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_default_url_is_explained_with_its_driver() {
    let (result, json) = check(&[]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(json["valid"], true);
    assert_eq!(json["dialect"], "postgresql");
    assert_eq!(json["driver"], "asyncpg");
    assert_eq!(
        json["libpq"],
        json!({"user": "super", "dbname": "super", "host": "localhost", "port": "5432"})
    );
    assert_eq!(
        json["hosts"],
        json!([{"host": "localhost", "port": "5432", "kind": "tcp"}])
    );
    let dir = tempfile::tempdir().unwrap();
    let table = run(dbtool(dir.path()).arg("check-url"));
    assert_eq!(table.code, 0);
    assert!(
        table.stdout.contains("asyncpg") && table.stdout.contains("Part"),
        "{}",
        table.stdout
    );
}

#[test]
fn the_url_comes_from_env_then_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgresql+psycopg://fromdotenv@h/d\n",
    )
    .unwrap();
    let (_, json) = run_json(dbtool(dir.path()).args(["check-url", "--format", "json"]));
    assert_eq!(json["libpq"]["user"], "fromdotenv");
    assert_eq!(json["driver"], "psycopg");
    let (_, json) = run_json(
        dbtool(dir.path())
            .args(["check-url", "--format", "json"])
            .env("DATABASE_URL", "postgresql://fromenv@h/d"),
    );
    assert_eq!(json["libpq"]["user"], "fromenv");
    assert_eq!(json["driver"], serde_json::Value::Null);
}

#[test]
fn a_password_never_shows_unless_asked() {
    let secret = "Xy7-check-url-secret";
    let dir = tempfile::tempdir().unwrap();
    let urls = [
        format!("postgresql+asyncpg://app:{secret}@db.example.com/app"),
        format!("postgresql://app@db.example.com/app?password={secret}"),
        format!("postgresql://app:{secret}@db.example.com/app?bogus=1"),
        format!("postgresql://app:{secret}@[::1/app"),
    ];
    for url in &urls {
        for format in ["table", "json"] {
            let result = run(dbtool(dir.path()).args(["check-url", "-v", "--format", format, url]));
            assert!(
                !result.stdout.contains(secret) && !result.stderr.contains(secret),
                "{url} {format}:\n{}\n{}",
                result.stdout,
                result.stderr
            );
        }
    }
    let result = run(dbtool(dir.path()).args(["check-url", "--show-password", &urls[0]]));
    assert!(result.stdout.contains(secret));
}

#[test]
fn asyncpg_with_sslmode_is_flagged_with_the_ssl_fix() {
    let (result, json) = check(&["postgresql+asyncpg://app@db.example.com/app?sslmode=require"]);
    assert_eq!(result.code, 1);
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "asyncpg-sslmode")
        .unwrap();
    assert_eq!(finding["level"], "error");
    assert!(
        finding["message"].as_str().unwrap().contains("ssl=require"),
        "{finding}"
    );
    // asyncpg verifies against ~/.postgresql/root.crt, and refuses to start without it.
    let dir = tempfile::tempdir().unwrap();
    let url = "postgresql+asyncpg://app@db.example.com/app?ssl=verify-full";
    let (result, json) = run_json(dbtool(dir.path()).args(["check-url", "--format", "json", url]));
    assert_eq!(result.code, 1, "{json}");
    assert!(
        json["driver_connection"]["error"]
            .as_str()
            .unwrap()
            .contains("root certificate file"),
        "{json}"
    );
    std::fs::create_dir(dir.path().join(".postgresql")).unwrap();
    std::fs::write(dir.path().join(".postgresql/root.crt"), "").unwrap();
    let (result, json) = run_json(dbtool(dir.path()).args(["check-url", "--format", "json", url]));
    assert_eq!(result.code, 0, "{json}");
    assert_eq!(json["driver_only_parameters"], json!(["ssl"]));
    assert_eq!(
        json["driver_connection"]["sslmode"], "verify-full",
        "{json}"
    );
}

#[test]
fn urls_libpq_rejects_exit_3_with_message_and_position() {
    for (url, fragment) in [
        ("postgresql://h/db?bogus=1", "invalid URI query parameter"),
        ("postgresql://h/d%zzb", "invalid percent-encoded token"),
        ("postgresql://h/d%00b", "forbidden value %00"),
        ("postgresql://[::1/db", "IPv6"),
        ("mysql://h/db", "unknown dialect"),
        (
            "postgresql+asyncpgx://h/db",
            "asyncpg, psycopg, psycopg2, pg8000, psycopg2cffi",
        ),
        ("not a url", "not a URL"),
    ] {
        let (result, json) = check(&[url]);
        assert_eq!(result.code, 3, "{url}: {json}");
        assert_eq!(json["valid"], false, "{url}");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{url}: {message}");
        assert!(json["error"].get("position").is_some(), "{url}");
        assert_eq!(result.stderr.lines().count(), 1, "{url}: {}", result.stderr);
    }
}

#[test]
fn libpq_reading_follows_libpq() {
    let (result, json) = check(&[
        "postgresql://u@h1:5433,h2/db?target_session_attrs=read-write&application_name=a%20b",
    ]);
    assert_eq!(
        result.code, 3,
        "SQLAlchemy cannot read a multi-host authority with ports: {json}"
    );
    assert_eq!(json["libpq"]["host"], "h1,h2");
    assert_eq!(json["libpq"]["port"], "5433,");
    assert_eq!(json["libpq"]["application_name"], "a b");
    let (_, json) = check(&["postgresql://%2Fvar%2Frun%2Fpostgresql/db"]);
    assert_eq!(
        json["hosts"],
        json!([{"host": "/var/run/postgresql", "port": "5432", "kind": "unix"}])
    );
    assert!(
        codes(&json).contains(&"sqlalchemy-encoded-host".to_string()),
        "{json}"
    );
    let (_, json) = check(&["postgresql:///db?host=/tmp&ssl=true"]);
    assert_eq!(
        json["libpq"],
        json!({"dbname": "db", "host": "/tmp", "sslmode": "require"})
    );
}

#[test]
fn findings_cover_scheme_tls_ports_and_hosts() {
    let (result, json) = check(&["postgres://app@db.example.com/app"]);
    assert_eq!(result.code, 1);
    assert!(codes(&json).contains(&"postgres-scheme".to_string()));
    assert!(codes(&json).contains(&"tls-not-verified".to_string()));
    let (result, json) = check(&["postgresql://app@db.example.com:99999/app?sslmode=verify-full"]);
    assert_eq!(result.code, 1);
    assert!(codes(&json).contains(&"invalid-port".to_string()), "{json}");
    assert!(!codes(&json).contains(&"tls-not-verified".to_string()));
    let (_, json) = check(&["postgresql://app@/app?host=a,b&sslmode=bogus"]);
    assert!(
        codes(&json).contains(&"invalid-sslmode".to_string()),
        "{json}"
    );
    assert!(
        codes(&json).contains(&"multi-host-without-target-session-attrs".to_string()),
        "{json}"
    );
    let (_, json) = check(&["postgresql+asyncpg://app@localhost/app?application_name=x"]);
    assert!(
        codes(&json).contains(&"driver-libpq-parameter".to_string()),
        "{json}"
    );
}

#[test]
fn strict_turns_warnings_into_exit_1() {
    let url = "postgresql+asyncpg://super@localhost:5432/super";
    assert_eq!(check(&[url]).0.code, 0);
    assert_eq!(check(&["--strict", url]).0.code, 1);
}

#[test]
fn an_unencoded_at_in_the_password_gets_an_encoded_suggestion() {
    let (_, json) = check(&["postgresql+asyncpg://app:p@ss@db/app", "--show-password"]);
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ambiguous-at-in-userinfo")
        .unwrap();
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("postgresql+asyncpg://app:p%40ss@db/app"),
        "{finding}"
    );
}

#[test]
fn the_explanation_reads_well() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(dbtool(dir.path()).args([
        "check-url",
        "--color",
        "never",
        "postgresql+asyncpg://app:secret@db.example.com:6432/app?sslmode=require&application_name=web",
    ]));
    assert_eq!(result.code, 1);
    let home = dir.path().display().to_string();
    insta::assert_snapshot!(result.stdout.replace(&home, "[HOME]"));
}

/// Without connecting, a pooler's well-known port or name is enough to warn about what
/// transaction pooling does to the URL's driver; ping finds out for sure (tests/it/poolers.rs).
#[test]
fn a_pooler_port_or_name_warns_for_the_drivers_it_breaks() {
    for (url, warned, fix) in [
        (
            "postgresql+asyncpg://u@db.example.com:6543/postgres",
            true,
            "prepared_statement_name_func",
        ),
        (
            "postgresql+asyncpg://u@h:6432/db",
            true,
            "prepared_statement_name_func",
        ),
        (
            "postgresql+psycopg://u@pgbouncer.internal/app",
            true,
            "\"prepare_threshold\": None",
        ),
        (
            "postgresql+psycopg2://u@h:6432/db?options=-c%20statement_timeout%3D5000",
            true,
            "ALTER ROLE",
        ),
        // Caches already off, simple queries only, or no sign of a pooler: nothing to say.
        (
            "postgresql+asyncpg://u@h:6432/db?prepared_statement_cache_size=0",
            false,
            "",
        ),
        ("postgresql+psycopg2://u@h:6432/db", false, ""),
        (
            "postgresql+asyncpg://u@db.example.com:5432/postgres",
            false,
            "",
        ),
    ] {
        let (result, json) = check(&["--no-dotenv", url]);
        assert_eq!(result.code, 0, "{url}: {json}");
        let finding = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "pooler-likely");
        assert_eq!(finding.is_some(), warned, "{url}: {json}");
        if let Some(finding) = finding {
            assert_eq!(finding["level"], "warning");
            assert!(
                finding["message"].as_str().unwrap().contains(fix),
                "{url}: {finding}"
            );
        }
    }
}

/// The application's reading first: SQLAlchemy's make_url and the dialect's arguments decide
/// validity; libpq's reading of the same string is what psql would do.
#[test]
fn the_application_reading_decides_validity_and_libpq_differences_are_findings() {
    // SQLAlchemy's lenient unquoting passes the password as written: the application connects.
    let (result, json) = check(&["postgresql+psycopg://u:p%zz@h/db"]);
    assert_eq!(result.code, 0, "{json}");
    assert_eq!(json["valid"], true);
    assert!(
        codes(&json).contains(&"psql-rejects-url".to_string()),
        "{json}"
    );
    assert_eq!(json["driver_kwargs"]["password"], "***");
    assert_eq!(
        json["driver_connection"]["conninfo"],
        "host=h dbname=db user=u password=***"
    );
    assert!(!result.stdout.contains("p%zz"), "{}", result.stdout);

    // An empty port: SQLAlchemy raises ValueError, the application cannot start.
    let (result, json) = check(&["postgresql+asyncpg://u@h:/db"]);
    assert_eq!(result.code, 3, "{json}");
    assert_eq!(json["valid"], false);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ValueError: invalid literal for int() with base 10: ''"),
        "{json}"
    );

    // ?host= replaces the host before the path.
    let (result, json) = check(&["postgresql+psycopg://u:p@h1:5432/db?host=h2:5433&host=h3"]);
    assert_eq!(result.code, 1, "{json}");
    assert!(
        codes(&json).contains(&"dialect-drops-host".to_string()),
        "{json}"
    );
    assert_eq!(json["driver_kwargs"]["host"], "h2,h3");
    assert_eq!(json["driver_kwargs"]["port"], "5433,");
    // The fix lists every host the URL names, with the ports it gave them.
    assert!(
        json.to_string()
            .contains("list every host in the query instead: ?host=h1:5432&host=h2:5433&host=h3"),
        "{json}"
    );
    let (_, multi) = check(&["postgresql://u@h1:5433,h2/db"]);
    assert!(
        multi
            .to_string()
            .contains("write them as query parameters: ?host=h1:5433&host=h2:5432"),
        "{multi}"
    );
    // The hosts are the ones the driver tries (and ping connects to): h1 is gone.
    let hosts: Vec<String> = json["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}:{}",
                h["host"].as_str().unwrap(),
                h["port"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(hosts, ["h2:5433", "h3:5432"], "{json}");

    // asyncpg's own resolution: no host means its socket directories, then localhost.
    let (result, json) = check(&["postgresql+asyncpg://app:s3cret@/app"]);
    assert_eq!(result.code, 0, "{json}");
    let addrs = json["driver_connection"]["addrs"].as_array().unwrap();
    assert_eq!(
        addrs[0]["socket"], "/run/postgresql/.s.PGSQL.5432",
        "{json}"
    );
    assert_eq!(addrs.last().unwrap()["host"], "localhost");
    assert_eq!(json["driver_connection"]["password_source"], "url");
    assert!(!result.stdout.contains("s3cret"), "{}", result.stdout);
}

#[test]
fn the_driver_connection_says_where_a_libpq_driver_goes_and_with_which_password() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let url = "postgresql+psycopg://u@h1:5432/db?host=h2:5433&host=h3";
    let run = |env: &[(&str, &str)]| {
        let mut command = dbtool(dir.path());
        command.args(["check-url", "--format", "json", url]);
        for (name, value) in env {
            command.env(name, value);
        }
        run_json(&mut command)
    };
    // The dialect drops h1: psycopg goes to h2:5433, then h3 on the default port.
    let (result, json) = run(&[("PGPASSWORD", "from-env-secret")]);
    assert_eq!(result.code, 1, "{json}");
    let connection = &json["driver_connection"];
    assert_eq!(
        connection["hosts"],
        serde_json::json!(["h2:5433", "h3:5432"])
    );
    assert_eq!(
        (
            &connection["user"],
            &connection["database"],
            &connection["sslmode"]
        ),
        (
            &serde_json::json!("u"),
            &serde_json::json!("db"),
            &serde_json::json!("prefer")
        )
    );
    assert_eq!(connection["password_source"], "PGPASSWORD", "{json}");
    assert!(!result.stdout.contains("from-env-secret"));
    // libpq looks the first host up in the password file.
    let pgpass = dir.path().join(".pgpass");
    std::fs::write(&pgpass, "h2:5433:db:u:file-secret\n").unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, json) = run(&[]);
    assert_eq!(
        json["driver_connection"]["password_source"]["passfile"],
        pgpass.display().to_string(),
        "{json}"
    );
    std::fs::write(&pgpass, "h1:5432:db:u:file-secret\n").unwrap();
    let (result, json) = run(&[]);
    assert_eq!(
        json["driver_connection"]["password_source"],
        serde_json::Value::Null
    );
    assert!(!result.stdout.contains("file-secret"));
}

#[test]
fn asyncpg_ports_from_the_environment_and_its_multi_host_form_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = dbtool(dir.path());
    command
        .args([
            "check-url",
            "--format",
            "json",
            "postgresql+asyncpg://u:pw@h/db",
        ])
        .env("PGPORT", "65536");
    let (result, json) = run_json(&mut command);
    assert_eq!(result.code, 1, "{json}");
    assert!(codes(&json).contains(&"invalid-port".to_string()), "{json}");
    assert_eq!(json["driver_connection"]["password_source"], "url");

    // The asyncpg form of several hosts names every port, as SQLAlchemy's dialect requires,
    // and reads back as the same two hosts.
    let (_, json) = check(&["postgresql://u@h1:5433,h2/db"]);
    let form = json["conversions"]["sqlalchemy_asyncpg"].as_str().unwrap();
    assert_eq!(form, "postgresql+asyncpg://u@/db?host=h1,h2&port=5433,5432");
    let (result, back) = check(&[form]);
    assert_eq!(result.code, 0, "{back}");
    assert_eq!(
        back["driver_connection"]["addrs"],
        serde_json::json!([{"host": "h1", "port": 5433}, {"host": "h2", "port": 5432}])
    );
}

#[test]
fn asyncpg_numbers_in_the_url_are_strings_it_cannot_use() {
    // Measured with SQLAlchemy 2.1.9 + asyncpg 0.32: every connect fails with this TypeError.
    let url = "postgresql+asyncpg://u@127.0.0.1:1/db?timeout=10";
    let (result, json) = check(&[url]);
    assert_eq!(result.code, 1, "{json}");
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "driver-refuses-arguments")
        .unwrap_or_else(|| panic!("{json}"));
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("unsupported operand type(s) for +: 'float' and 'str'")
            && message.contains("connect_args"),
        "{message}"
    );
    let dir = tempfile::tempdir().unwrap();
    let ping = crate::cli::run(dbtool(dir.path()).args(["ping", url]));
    assert_eq!(ping.code, 3, "{}", ping.stderr);
    // The libpq keyword's advice no longer points at ?timeout=.
    let (_, json) = check(&["postgresql+asyncpg://u@h/db?connect_timeout=10"]);
    assert!(
        json.to_string()
            .contains("connect_args={\\\"timeout\\\": SECONDS}"),
        "{json}"
    );
}
