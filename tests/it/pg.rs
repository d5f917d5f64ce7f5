//! Throwaway PostgreSQL clusters for the integration tests.
//!
//! `DBTOOL_TEST_DATABASE_URL` names an existing server to use instead. Otherwise one shared
//! cluster per test run is started from the server binaries on the machine (`initdb -A trust`,
//! `pg_ctl`, a free port on 127.0.0.1 and a socket directory inside a temporary directory), and
//! further clusters with their own configuration (password authentication, TLS, a low
//! `max_connections`) can be started with [`Cluster::start`]. As root, the server binaries run as
//! the `postgres` user. Every cluster is stopped and removed at the end of the run, also when tests
//! fail: by an `atexit` hook, and by a watchdog process should the test binary die.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// How to configure a cluster beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Require this password (scram-sha-256) for the `postgres` superuser over TCP.
    pub password: Option<String>,
    /// `ssl = on` with these PEM files (copied into the data directory).
    pub tls: Option<TlsFiles>,
    pub max_connections: Option<u32>,
    /// Extra `postgresql.conf` lines.
    pub settings: Vec<String>,
    /// Also listen on this Linux abstract socket name (`@name` in a URL's host).
    pub abstract_socket: Option<String>,
    /// Replace pg_hba.conf with these lines (after the TLS options wrote theirs).
    pub hba: Option<String>,
    /// Run the server in this network namespace (`ip netns exec`; as root only).
    pub netns: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert_pem: String,
    pub key_pem: String,
    /// When set, TCP connections must present a client certificate signed by this CA whose
    /// common name is the user (`cert` authentication, `hostssl` only).
    pub client_ca_pem: Option<String>,
}

/// A running cluster started by the harness.
#[derive(Debug)]
pub struct Cluster {
    root: PathBuf,
    bindir: PathBuf,
    owner: Option<(u32, u32)>,
    pub port: u16,
    pub socket_dir: PathBuf,
    pub password: Option<String>,
    netns: Option<String>,
}

/// Where the tests connect: a cluster of ours, or the server `DBTOOL_TEST_DATABASE_URL` names.
pub enum Server {
    Local(Cluster),
    External(String),
}

static SHARED: OnceLock<Server> = OnceLock::new();
/// A started cluster as the exit hook needs it: bindir, root directory, owner.
type Started = (PathBuf, PathBuf, Option<(u32, u32)>);

static STARTED: Mutex<Vec<Started>> = Mutex::new(Vec::new());
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The server shared by the whole run, started on first use.
pub fn shared() -> &'static Server {
    SHARED.get_or_init(|| match std::env::var("DBTOOL_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Server::External(url),
        _ => Server::Local(
            Cluster::start(ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}")),
        ),
    })
}

impl Server {
    /// A URL for database `db` as the superuser.
    pub fn url(&self, db: &str) -> String {
        match self {
            Server::Local(cluster) => cluster.url(db),
            Server::External(url) => replace_database(url, db),
        }
    }

    /// The cluster the harness started, for tests that checked
    /// `require(&[Requirement::LocalCluster])`.
    pub fn cluster(&self) -> &Cluster {
        match self {
            Server::Local(cluster) => cluster,
            Server::External(_) => panic!("the shared server is DBTOOL_TEST_DATABASE_URL's"),
        }
    }
}

/// A fresh, empty database on the shared server, for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        TestDb::created_with("")
    }

    /// A database in another server encoding (C collation, from template0).
    pub fn with_encoding(encoding: &str) -> TestDb {
        TestDb::created_with(&format!(
            " ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        ))
    }

    fn created_with(options: &str) -> TestDb {
        let server = shared();
        let name = format!(
            "dbtool_t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let admin = match server {
            Server::Local(cluster) => cluster.url("postgres"),
            Server::External(url) => url.clone(),
        };
        execute(&admin, &format!("CREATE DATABASE {name}{options}"))
            .unwrap_or_else(|e| panic!("{e}"));
        TestDb {
            url: server.url(&name),
            name,
        }
    }

    /// Runs SQL (several statements allowed) in this database.
    pub fn execute(&self, sql: &str) {
        execute(&self.url, sql).unwrap_or_else(|e| panic!("{e}"));
    }

    /// The first column of every row of a query, as text.
    pub fn query_column(&self, sql: &str) -> Vec<String> {
        query_column(&self.url, sql).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Cluster {
    /// Starts a new cluster; the error says what to install when there are no server binaries.
    pub fn start(options: ClusterOptions) -> Result<Cluster, String> {
        let bindir = find_bindir()?;
        let owner = if unsafe { libc::geteuid() } == 0 {
            Some(postgres_user()?)
        } else {
            None
        };
        let root = std::env::temp_dir().join(format!(
            "dbtool-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("sock"))
            .map_err(|e| format!("creating {}: {e}", root.display()))?;
        fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
        chown_tree(&root, owner)?;

        let data = root.join("data");
        let mut initdb = vec![
            "-D".to_string(),
            data.display().to_string(),
            "-U".into(),
            "postgres".into(),
            "-E".into(),
            "UTF8".into(),
            "--locale=C".into(),
            "--no-sync".into(),
        ];
        match &options.password {
            Some(password) => {
                let pwfile = root.join("pwfile");
                fs::write(&pwfile, password).map_err(|e| e.to_string())?;
                chown_tree(&pwfile, owner)?;
                initdb.extend([
                    "--auth-local=trust".into(),
                    "--auth-host=scram-sha-256".into(),
                    format!("--pwfile={}", pwfile.display()),
                ]);
            }
            None => initdb.extend(["-A".into(), "trust".into()]),
        }
        run(&bindir.join("initdb"), &initdb, owner)?;

        let mut conf = vec![
            "listen_addresses = '127.0.0.1'".to_string(),
            format!(
                "unix_socket_directories = '{}{}'",
                root.join("sock").display(),
                options
                    .abstract_socket
                    .as_ref()
                    .map_or(String::new(), |name| format!(", @{name}"))
            ),
            "fsync = off".into(),
            "synchronous_commit = off".into(),
            "full_page_writes = off".into(),
            "shared_buffers = 32MB".into(),
            "log_min_messages = warning".into(),
        ];
        if let Some(max) = options.max_connections {
            conf.push(format!("max_connections = {max}"));
            conf.push(format!(
                "superuser_reserved_connections = {}",
                max.saturating_sub(1).min(3)
            ));
        }
        if let Some(tls) = &options.tls {
            for (file, text) in [("server.crt", &tls.cert_pem), ("server.key", &tls.key_pem)] {
                let path = data.join(file);
                fs::write(&path, text).map_err(|e| e.to_string())?;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                    .map_err(|e| e.to_string())?;
                chown_tree(&path, owner)?;
            }
            conf.extend([
                "ssl = on".into(),
                "ssl_cert_file = 'server.crt'".into(),
                "ssl_key_file = 'server.key'".into(),
            ]);
            if let Some(ca) = &tls.client_ca_pem {
                let path = data.join("client_ca.crt");
                fs::write(&path, ca).map_err(|e| e.to_string())?;
                chown_tree(&path, owner)?;
                conf.push("ssl_ca_file = 'client_ca.crt'".into());
                let hba = data.join("pg_hba.conf");
                fs::write(
                    &hba,
                    "local all all trust\nhostssl all all 127.0.0.1/32 cert\nhostssl all all ::1/128 cert\n",
                )
                .map_err(|e| e.to_string())?;
                chown_tree(&hba, owner)?;
            }
        }
        if let Some(lines) = &options.hba {
            let hba = data.join("pg_hba.conf");
            fs::write(&hba, lines).map_err(|e| e.to_string())?;
            chown_tree(&hba, owner)?;
        }
        conf.extend(options.settings.iter().cloned());
        let mut text =
            fs::read_to_string(data.join("postgresql.conf")).map_err(|e| e.to_string())?;
        text.push_str("\n# dbtool test harness\n");
        text.push_str(&conf.join("\n"));
        text.push('\n');
        fs::write(data.join("postgresql.conf"), text).map_err(|e| e.to_string())?;

        let mut cluster = Cluster {
            root: root.clone(),
            bindir,
            owner,
            port: 0,
            socket_dir: root.join("sock"),
            password: options.password.clone(),
            netns: options.netns.clone(),
        };
        register(&cluster);
        let mut last_error = String::new();
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.pg_ctl(&[
                "start",
                "-w",
                "-t",
                "60",
                "-o",
                &format!("-p {}", cluster.port),
            ]) {
                Ok(_) => return Ok(cluster),
                Err(e) => last_error = e,
            }
        }
        Err(format!("could not start a test cluster: {last_error}"))
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output, String> {
        let mut all = vec![
            "-D".to_string(),
            self.data().display().to_string(),
            "-l".into(),
            self.root.join("server.log").display().to_string(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let pg_ctl = self.bindir.join("pg_ctl");
        match &self.netns {
            // Entering a namespace needs root: `ip` enters it, runuser drops to the owner.
            Some(netns) => {
                let mut wrapped: Vec<String> = vec!["netns".into(), "exec".into(), netns.clone()];
                if self.owner.is_some() {
                    wrapped.extend([
                        "runuser".into(),
                        "-u".into(),
                        "postgres".into(),
                        "--".into(),
                    ]);
                }
                wrapped.push(pg_ctl.display().to_string());
                wrapped.extend(all);
                run(Path::new("/usr/sbin/ip"), &wrapped, None)
            }
            None => run(&pg_ctl, &all, self.owner),
        }
    }

    /// A URL for database `db` as the superuser over TCP, with the password if there is one.
    pub fn url(&self, db: &str) -> String {
        match &self.password {
            Some(password) => format!(
                "postgresql://postgres:{password}@127.0.0.1:{}/{db}",
                self.port
            ),
            None => format!("postgresql://postgres@127.0.0.1:{}/{db}", self.port),
        }
    }

    /// A URL over the Unix socket (always trusted), for setting things up.
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "postgresql://postgres@/{db}?host={}&port={}",
            self.socket_dir.display(),
            self.port
        )
    }

    /// The server log so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    pub fn stop(&self) -> Result<(), String> {
        self.pg_ctl(&["stop", "-m", "fast", "-w"]).map(|_| ())
    }

    /// The postmaster's process id.
    pub fn postmaster_pid(&self) -> Option<i32> {
        fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the postmaster: connections are accepted by the
    /// kernel but never answered.
    pub fn freeze(&self, frozen: bool) {
        if let Some(pid) = self.postmaster_pid() {
            unsafe {
                libc::kill(pid, if frozen { libc::SIGSTOP } else { libc::SIGCONT });
            }
        }
    }

    pub fn start_again(&self) -> Result<(), String> {
        self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-o",
            &format!("-p {}", self.port),
        ])
        .map(|_| ())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        stop_and_remove(&self.bindir, &self.root, self.owner);
        if let Ok(mut started) = STARTED.lock() {
            started.retain(|(_, root, _)| root != &self.root);
        }
    }
}

/// Remembers a cluster for the exit hook and starts a watchdog that cleans up if we die.
fn register(cluster: &Cluster) {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| unsafe {
        libc::atexit(stop_all_at_exit);
    });
    if let Ok(mut started) = STARTED.lock() {
        started.push((cluster.bindir.clone(), cluster.root.clone(), cluster.owner));
    }
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         if [ -f '{data}/postmaster.pid' ]; then kill -QUIT $(head -n 1 '{data}/postmaster.pid') 2>/dev/null; sleep 1; fi; \
         rm -rf '{root}'",
        pid = std::process::id(),
        data = cluster.root.join("data").display(),
        root = cluster.root.display(),
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

extern "C" fn stop_all_at_exit() {
    let started = match STARTED.lock() {
        Ok(mut started) => std::mem::take(&mut *started),
        Err(_) => return,
    };
    for (bindir, root, owner) in started {
        stop_and_remove(&bindir, &root, owner);
    }
}

fn stop_and_remove(bindir: &Path, root: &Path, owner: Option<(u32, u32)>) {
    let data = root.join("data");
    if data.join("postmaster.pid").exists() {
        let args = [
            "-D".to_string(),
            data.display().to_string(),
            "stop".into(),
            "-m".into(),
            "immediate".into(),
            "-w".into(),
        ];
        let _ = run(&bindir.join("pg_ctl"), &args, owner);
    }
    let _ = fs::remove_dir_all(root);
}

/// A PostgreSQL client or server program (`pg_dump`, `psql`, ...) from the server's bindir, else PATH.
pub fn program(name: &str) -> PathBuf {
    find_bindir()
        .map(|dir| dir.join(name))
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn find_bindir() -> Result<PathBuf, String> {
    let has_server = |dir: &Path| {
        dir.join("initdb").is_file()
            && dir.join("pg_ctl").is_file()
            && dir.join("postgres").is_file()
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_server(&dir) {
                return Ok(dir);
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_server(&dir) {
            return Ok(dir);
        }
    }
    let mut candidates: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates
        .into_iter()
        .rev()
        .find(|dir| has_server(dir))
        .ok_or_else(|| {
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found on PATH, via pg_config or under \
             /usr/lib/postgresql/*/bin: install them (Debian: apt-get install postgresql) or set \
             DBTOOL_TEST_DATABASE_URL"
                .to_string()
        })
}

fn postgres_user() -> Result<(u32, u32), String> {
    let passwd = fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .ok_or_else(|| "running as root but there is no `postgres` user to run the server as: install PostgreSQL's server package".to_string())
}

fn chown_tree(path: &Path, owner: Option<(u32, u32)>) -> Result<(), String> {
    let Some((uid, gid)) = owner else {
        return Ok(());
    };
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| format!("chown {}: {e}", path.display()))?;
    if path.is_dir() {
        for entry in fs::read_dir(path).map_err(|e| e.to_string())? {
            chown_tree(&entry.map_err(|e| e.to_string())?.path(), owner)?;
        }
    }
    Ok(())
}

fn run(program: &Path, args: &[String], owner: Option<(u32, u32)>) -> Result<Output, String> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .current_dir(std::env::temp_dir());
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    let output = command
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{} {} failed: {}{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn replace_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connecting to the test database: {}", describe(&e)))?;
    tokio::spawn(connection);
    Ok(client)
}

/// The server's message where there is one, else the client error.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}

/// Runs SQL on a fresh connection.
pub fn execute(url: &str, sql: &str) -> Result<(), String> {
    runtime().block_on(async {
        let client = connect(url).await?;
        client
            .batch_execute(sql)
            .await
            .map_err(|e| format!("{sql}: {}", describe(&e)))
    })
}

/// The first column of every row, as text (use `::text` casts in the query).
pub fn query_column(url: &str, sql: &str) -> Result<Vec<String>, String> {
    runtime().block_on(async {
        let client = connect(url).await?;
        let messages = client
            .simple_query(sql)
            .await
            .map_err(|e| format!("{sql}: {}", describe(&e)))?;
        Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    Some(row.get(0).unwrap_or("").to_string())
                }
                _ => None,
            })
            .collect())
    })
}

#[test]
fn the_harness_database_answers_select_1() {
    let db = TestDb::new();
    assert_eq!(db.query_column("SELECT 1"), ["1"]);
    assert_eq!(
        db.query_column("SELECT current_database()"),
        [db.name.as_str()]
    );
}

#[test]
fn a_second_cluster_can_require_a_password_and_limit_connections() {
    use crate::require::{Requirement, require};
    if !require(&[Requirement::LocalCluster]) {
        return;
    }
    let cluster = Cluster::start(ClusterOptions {
        password: Some("harness-pw".into()),
        max_connections: Some(7),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let wrong = cluster.url("postgres").replace("harness-pw", "wrong");
    let refused = query_column(&wrong, "SELECT 1").unwrap_err();
    assert!(
        refused.contains("password authentication failed"),
        "{refused}"
    );
    assert_eq!(
        query_column(&cluster.url("postgres"), "SHOW max_connections").unwrap(),
        ["7"]
    );
    assert_eq!(
        query_column(&cluster.socket_url("postgres"), "SELECT 1").unwrap(),
        ["1"]
    );
}

/// A PgBouncer (Debian's `pgbouncer`) in front of a cluster, in a temporary directory removed
/// when it is dropped. Trust authentication, the given pool mode, `default_pool_size` server
/// connections per database and user.
#[derive(Debug)]
pub struct Pgbouncer {
    root: PathBuf,
    pub port: u16,
}

/// The pgbouncer program, if installed (`.ci/run` installs Debian's package).
pub fn pgbouncer_program() -> Option<PathBuf> {
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

impl Pgbouncer {
    /// PgBouncer with the cluster's superuser in admin_users (its admin console readable).
    pub fn start(cluster: &Cluster, pool_mode: &str, pool_size: u32) -> Result<Pgbouncer, String> {
        Pgbouncer::start_with(cluster, pool_mode, pool_size, true)
    }

    /// `console`: whether the superuser may use the admin console (`admin_users`).
    pub fn start_with(
        cluster: &Cluster,
        pool_mode: &str,
        pool_size: u32,
        console: bool,
    ) -> Result<Pgbouncer, String> {
        Pgbouncer::start_configured(cluster, pool_mode, pool_size, console, "")
    }

    /// With `extra` lines in the `[pgbouncer]` section (`client_idle_timeout = 3`).
    pub fn start_configured(
        cluster: &Cluster,
        pool_mode: &str,
        pool_size: u32,
        console: bool,
        extra: &str,
    ) -> Result<Pgbouncer, String> {
        let program =
            pgbouncer_program().ok_or("pgbouncer is not installed (apt-get install pgbouncer)")?;
        let owner = cluster.owner;
        let root = std::env::temp_dir().join(format!(
            "dbtool-pgbouncer-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
        let port = free_port()?;
        let ini = root.join("pgbouncer.ini");
        fs::write(
            &ini,
            format!(
                "[databases]\n* = host=127.0.0.1 port={server}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
                 listen_port = {port}\nunix_socket_dir = {dir}\nauth_type = trust\nauth_file = {dir}/userlist.txt\n\
                 pool_mode = {pool_mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n\
                 {admin}logfile = {dir}/pgbouncer.log\npidfile = {dir}/pgbouncer.pid\n{extra}\n",
                server = cluster.port,
                dir = root.display(),
                admin = if console { "admin_users = postgres\n" } else { "" },
            ),
        )
        .map_err(|e| e.to_string())?;
        fs::write(root.join("userlist.txt"), "\"postgres\" \"\"\n").map_err(|e| e.to_string())?;
        chown_tree(&root, owner)?;
        run(
            &program,
            &["-d".to_string(), ini.display().to_string()],
            owner,
        )?;
        let bouncer = Pgbouncer { root, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(bouncer);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Err(format!(
            "pgbouncer did not listen on {port}: {}",
            bouncer.log()
        ))
    }

    /// A URL through the pooler for database `db` as the superuser.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(self.root.join("pgbouncer.pid"))
            && let Ok(pid) = pid.trim().parse::<i32>()
        {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}
