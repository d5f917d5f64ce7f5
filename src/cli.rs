//! The command line: clap types only. Values are typed by their parsers (`duration`); each
//! subcommand's glue in `commands` turns them, with the settings, into a validated configuration.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Arg, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::duration;
use crate::settings::FlagValues;

#[derive(Debug, Parser)]
#[command(
    name = "dbtool",
    version,
    about = "Check, ping, benchmark and lint the PostgreSQL databases behind FastAPI + SQLAlchemy services",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every subcommand accepts, before or after its name; each subcommand's help lists its
/// own options first and these under their own heading.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Connection URL [default: DATABASE_URL, then .env, then the application's default]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) url: Option<String>,

    // Each subcommand declares its own `--format` (`format_arg`), which clap keeps there instead
    // of this one, so the value sets differ; the value reaches this field wherever it was given.
    /// Output format: each subcommand's --help lists those it writes [default: table]
    #[arg(long, global = true, value_enum, hide_possible_values = true)]
    pub(crate) format: Option<Format>,

    /// When to use colours (NO_COLOR is honoured with auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print only results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// Say more about what dbtool does (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)
    #[arg(long, global = true)]
    pub(crate) echo: bool,

    /// Read settings from this file instead of ./.env
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "no_dotenv")]
    pub(crate) env_file: Option<PathBuf>,

    /// Do not read any .env file
    #[arg(long, global = true)]
    pub(crate) no_dotenv: bool,

    /// Read the settings and the engine from the application's code in DIR (the directory it
    /// starts from) [default: app_from in dbtool.toml or [tool.dbtool]]
    #[arg(long, global = true, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub(crate) app_from: Option<PathBuf>,

    /// With --app-from: the create_async_engine/create_engine call to use, where there are several
    #[arg(long, global = true, value_name = "FILE[:LINE]")]
    pub(crate) app_engine: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    /// SARIF 2.1.0
    Sarif,
    /// GitHub workflow annotations
    Github,
    /// GitLab Code Quality report
    Gitlab,
    /// JUnit XML, one failure per error
    Junit,
}

/// What check-url, ping, pool-bench and settings write: the subset of [`Format`] their
/// `--format` accepts ([`Format::TABLE_OR_JSON`]), so their writers handle no CI format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOrJson {
    Table,
    Json,
}

impl Format {
    /// This format as one of check-url's, ping's, pool-bench's or settings' (`None` for the CI
    /// formats, which clap refuses for those subcommands).
    pub(crate) fn table_or_json(self) -> Option<TableOrJson> {
        match self {
            Format::Table => Some(TableOrJson::Table),
            Format::Json => Some(TableOrJson::Json),
            Format::Sarif | Format::Github | Format::Gitlab | Format::Junit => None,
        }
    }

    /// What check-url, ping, pool-bench and settings write.
    pub(crate) const TABLE_OR_JSON: &'static [Format] = &[Format::Table, Format::Json];
    /// What lint-constraints and check-migrations write: the reports and the CI formats.
    pub(crate) const WITH_CI: &'static [Format] = &[
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Gitlab,
        Format::Junit,
    ];
}

/// A subcommand's `--format`: only the `formats` it writes, so clap refuses the others and its
/// `--help` lists just these. It takes the place of the global flag in that subcommand (same id).
fn format_arg(formats: &'static [Format]) -> Arg {
    let names = formats.iter().filter_map(ValueEnum::to_possible_value);
    Arg::new("format")
        .long("format")
        .value_name("FORMAT")
        .help("Output format; json prints exactly one JSON document on stdout")
        .default_value("table")
        .value_parser(PossibleValuesParser::new(names).map(|name| {
            Format::from_str(&name, false).expect("each possible value names a format")
        }))
}

/// completions prints a shell script whatever the format: a hidden `--format` that refuses
/// every value, so its --help does not list the flag and clap refuses it before the subcommand
/// too. clap_complete lists hidden flags all the same: [`Cli::completion_command`] leaves it out
/// of the scripts.
fn no_format_arg() -> Arg {
    Arg::new("format")
        .long("format")
        .value_name("FORMAT")
        .hide(true)
        .value_parser(|_: &str| -> Result<Format, String> {
            Err("completions prints a shell script and has no --format".to_string())
        })
}

impl Cli {
    /// The command tree the completion scripts describe: [`Cli::command`] without completions'
    /// hidden `--format` ([`no_format_arg`]), which clap_complete would offer (it lists hidden
    /// flags). The global `--format` is made non-global here, or clap would propagate it to
    /// completions in place of the one left out; every other subcommand declares its own
    /// (`format_arg`), and the root keeps it.
    pub(crate) fn completion_command() -> clap::Command {
        Cli::command()
            .mut_arg("format", |format| format.global(false))
            .mut_subcommand("completions", |completions| {
                let args: Vec<Arg> = completions
                    .get_arguments()
                    .filter(|arg| arg.get_id() != "format")
                    .cloned()
                    .collect();
                let mut without_format = clap::Command::new("completions").args(args);
                if let Some(about) = completions.get_about() {
                    without_format = without_format.about(about.clone());
                }
                if let Some(long_about) = completions.get_long_about() {
                    without_format = without_format.long_about(long_about.clone());
                }
                without_format
            })
    }

    /// Parses a command line as [`Parser::try_parse_from`] does, and refuses a `--format` given
    /// before the subcommand that the subcommand does not write, with the error clap gives when
    /// it comes after (the global flag takes every format; only the subcommand's own knows).
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(args)?;
        let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))?;
        let (Some(format), Some((name, _))) = (cli.global.format, matches.subcommand()) else {
            return Ok(cli);
        };
        let value = format.to_possible_value().expect("no format is skipped");
        let subcommand = command
            .find_subcommand_mut(name)
            .expect("the subcommand just parsed");
        match subcommand.try_get_matches_from_mut([name, "--format", value.get_name()]) {
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::InvalidValue | ErrorKind::ValueValidation
                ) =>
            {
                Err(error)
            }
            _ => Ok(cli),
        }
    }
}

/// Each subcommand's examples, at the end of its --help (not -h).
const CHECK_URL_EXAMPLES: &str = "Examples:\n  # Explain the URL the application reads (--url, DATABASE_URL, then .env)\n  dbtool check-url\n\n  # A URL with asyncpg, whose TLS and parameters differ from libpq's\n  dbtool check-url 'postgresql+asyncpg://app@db.internal:5432/app?sslmode=require'\n\n  # Fail a CI job on warnings too, reading the findings as JSON\n  dbtool check-url --strict --format json \"$DATABASE_URL\"";
const LINT_EXAMPLES: &str = "Examples:\n  # Lint the live database's constraint and index names\n  dbtool lint-constraints --url postgresql://app@localhost/app\n\n  # Lint Alembic migrations offline with the convention from the models\n  dbtool lint-constraints --convention-from app/models/base.py alembic/versions\n\n  # Write the renames as SQL that is safe on a busy database\n  dbtool lint-constraints --fix-sql > fix.sql";
const CHECK_MIGRATIONS_EXAMPLES: &str = "Examples:\n  # Before `alembic upgrade head`: where the database stands, what will run\n  dbtool check-migrations alembic/versions\n\n  # A version table in another schema, as JSON\n  dbtool check-migrations --version-table ops.alembic_version --format json alembic/versions";
const PING_EXAMPLES: &str = "Examples:\n  # Connect as the application would, step by step\n  dbtool ping\n\n  # Wait up to 60 s for the database in a deploy script (like pg_isready)\n  dbtool ping --wait --timeout 60\n\n  # Round-trip statistics of 20 pre-pings through PgBouncer\n  dbtool ping --count 20 'postgresql+asyncpg://app@pgbouncer:6432/app'";
const POOL_BENCH_EXAMPLES: &str = "Examples:\n  # 30 clients against the application's pool, 10 s\n  dbtool pool-bench --clients 30 --duration 10\n\n  # Predict the application: calibrate from its own Python, 2 workers\n  dbtool pool-bench --calibrate .venv/bin/python --workers 2 --clients 30 --sleep-ms 5\n\n  # Compare pool sizes\n  dbtool pool-bench --clients 40 --sweep pool_size=5,10,20";
const CONNECTIONS_EXAMPLES: &str = "Examples:\n  # Will 3 replicas of 4 workers (and a migration job) fit during a rolling deploy?\n  dbtool connections --service web=3x4:5+10 --extra migrations=1 --surge 1\n\n  # What each application used over 30 s, as JSON\n  dbtool connections --service web=3x4 --watch 30 --format json";
const SETTINGS_EXAMPLES: &str = "Examples:\n  # Every setting, its value and where it came from\n  dbtool settings\n\n  # What a pool flag would change, as JSON\n  dbtool settings --pool-size 20 --format json";
const EXPLAIN_EXAMPLES: &str = "Examples:\n  # What a finding means and how to fix it\n  dbtool explain asyncpg-sslmode\n\n  # Every code\n  dbtool explain";
const COMPLETIONS_EXAMPLES: &str = "Examples:\n  # Bash, for the current user\n  dbtool completions bash > ~/.local/share/bash-completion/completions/dbtool\n\n  # Zsh\n  dbtool completions zsh > \"${fpath[1]}/_dbtool\"";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it
    CheckUrl(CheckUrlArgs),

    /// Check constraint and index names against the SQLAlchemy naming convention
    LintConstraints(LintArgs),

    /// Say where the database stands against the Alembic migrations: current revisions, heads,
    /// the revisions an upgrade would run (read-only; never runs the migrations)
    CheckMigrations(CheckMigrationsArgs),

    /// Connect step by step and say where and why a connection fails (pg_isready, with reasons)
    Ping(PingArgs),

    /// Run the application's pool (QueuePool semantics) under synthetic load and show its statistics
    PoolBench(Box<PoolBenchArgs>),

    /// The connection budget: will the deployment's pools fit the role's limit, and what each
    /// application holds now (read-only)
    Connections(ConnectionsArgs),

    /// Show the effective settings and where each came from
    Settings(SettingsArgs),

    /// Explain a finding code: what it means, how to fix it, an example (without CODE: list them)
    Explain(ExplainArgs),

    /// Print a shell completion script
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::TABLE_OR_JSON))]
#[command(after_long_help = CHECK_URL_EXAMPLES)]
pub(crate) struct CheckUrlArgs {
    /// The URL to check [default: --url, then DATABASE_URL, .env, the application's default]
    #[arg(id = "url_argument", value_name = "URL")]
    pub(crate) url: Option<String>,

    /// Treat warnings as problems too (exit 1)
    #[arg(long)]
    pub(crate) strict: bool,

    /// Show the password instead of *** (never in logs you share)
    #[arg(long)]
    pub(crate) show_password: bool,

    /// Read the URL as this libpq major version does (keywords and space handling differ)
    #[arg(long, value_name = "MAJOR", default_value_t = 18, value_parser = clap::value_parser!(u32).range(10..=18))]
    pub(crate) libpq_version: u32,
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::WITH_CI))]
#[command(after_long_help = LINT_EXAMPLES)]
pub(crate) struct LintArgs {
    /// SQL files, Alembic migrations (*.py, in revision order) or directories (*.sql and *.py,
    /// recursively; - for stdin) to lint offline; with --url, replayed over the live schema.
    /// Without PATH: the live database
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Only these schemas (repeatable; default: every user schema)
    #[arg(long = "schema", value_name = "SCHEMA")]
    pub(crate) schemas: Vec<String>,

    /// Skip these schemas (repeatable)
    #[arg(long = "exclude-schema", value_name = "SCHEMA")]
    pub(crate) exclude_schemas: Vec<String>,

    /// Only tables matching this pattern (`*`, `?`; `table` or `schema.table`; repeatable)
    #[arg(long = "table", value_name = "PATTERN")]
    pub(crate) tables: Vec<String>,

    /// Override one template, e.g. ix=ix_%(column_0_label)s (repeatable)
    #[arg(long = "convention", value_name = "KEY=TEMPLATE")]
    pub(crate) conventions: Vec<String>,

    /// Read the convention from the application's Python file (MetaData(naming_convention=...)
    /// or the dict it names), without running Python; replaces dbtool.toml's [naming_convention]
    #[arg(long, value_name = "FILE.py")]
    pub(crate) convention_from: Option<PathBuf>,

    /// Read this dbtool.toml instead of searching upwards from the working directory
    #[arg(long, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,

    /// When column_0_label includes the schema
    #[arg(long, value_enum, value_name = "WHEN")]
    pub(crate) label_schema: Option<crate::lint::config::LabelSchema>,

    /// Also check constraints and indexes that partitions and child tables inherit
    #[arg(long)]
    pub(crate) include_partitions: bool,

    /// Alembic migrations: env.py's target_metadata has the naming convention being checked, so
    /// Alembic names unnamed constraints by it and applies %(constraint_name)s templates to
    /// plain names (default: a MetaData without a convention, names used as written)
    #[arg(long)]
    pub(crate) alembic_metadata_convention: bool,

    /// Print a SQL script that renames every violation, instead of the report: one short
    /// transaction per table, safe to run again after a partial run
    #[arg(long)]
    pub(crate) fix_sql: bool,

    /// With --fix-sql: Alembic versions/ directories (or migration files) whose revisions may
    /// still run here; a rename of a constraint or index they drop or rename by its old name is
    /// left out, with the revision named (repeatable)
    #[arg(long, value_name = "VERSIONS", requires = "fix_sql")]
    pub(crate) keep_names_for: Vec<PathBuf>,

    /// With --fix-sql: seconds a rename may wait for its lock before its table's transaction
    /// gives up (queries on the table wait at most this long behind it)
    #[arg(
        long,
        value_name = "SECONDS",
        default_value = "2",
        value_parser = duration::lock_timeout_arg,
        requires = "fix_sql"
    )]
    pub(crate) lock_timeout: Duration,

    /// Record today's violations in FILE
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,

    /// Report only violations not recorded in FILE
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,

    /// Seconds to wait for the connection (default: the URL's connect_timeout, else 10)
    #[arg(long, value_name = "SECONDS", value_parser = duration::seconds_arg)]
    pub(crate) connect_timeout: Option<Duration>,
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::WITH_CI))]
#[command(after_long_help = CHECK_MIGRATIONS_EXAMPLES)]
pub(crate) struct CheckMigrationsArgs {
    /// Alembic versions/ directories or migration files (*.py), read without running them
    #[arg(value_name = "VERSIONS", required = true)]
    pub(crate) versions: Vec<PathBuf>,

    /// Alembic's version table, NAME or SCHEMA.NAME as env.py's version_table and
    /// version_table_schema (case-sensitive) [default: alembic_version on the search path]
    #[arg(
        long,
        value_name = "NAME",
        default_value = "alembic_version",
        hide_default_value = true
    )]
    pub(crate) version_table: String,

    /// Seconds to wait for the connection (default: the URL's connect_timeout, else 10)
    #[arg(long, value_name = "SECONDS", value_parser = duration::seconds_arg)]
    pub(crate) connect_timeout: Option<Duration>,
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::TABLE_OR_JSON))]
#[command(after_long_help = PING_EXAMPLES)]
pub(crate) struct PingArgs {
    /// The URL to ping [default: --url, then DATABASE_URL, .env, the application's default]
    #[arg(id = "url_argument", value_name = "URL")]
    pub(crate) url: Option<String>,

    /// Seconds each stage may take (default: the URL's connect_timeout, else PGCONNECT_TIMEOUT, else 10)
    #[arg(long, value_name = "SECONDS", value_parser = duration::seconds_arg)]
    pub(crate) connect_timeout: Option<Duration>,

    /// Send N pre-pings on one connection and show round-trip statistics
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) count: u32,

    /// Seconds between pre-pings with --count
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = duration::seconds_arg)]
    pub(crate) interval: Duration,

    /// Retry until the server accepts connections or --timeout passes
    #[arg(long)]
    pub(crate) wait: bool,

    /// Seconds --wait may take
    #[arg(
        long,
        value_name = "SECONDS",
        default_value = "60",
        value_parser = duration::seconds_arg,
        requires = "wait"
    )]
    pub(crate) timeout: Duration,

    /// Processes that run the application, each with its own pool (capacity check)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) workers: u32,

    /// Connect as this libpq major version does (sslrootcert=system, the home directory differ)
    #[arg(long, value_name = "MAJOR", default_value_t = 18, value_parser = clap::value_parser!(u32).range(10..=18))]
    pub(crate) libpq_version: u32,

    /// Measure how long a connection may sit idle on this path before it dies, and how it dies,
    /// trying idle times up to UP_TO (seconds, or 10m, 1h); the pass takes about UP_TO
    #[arg(long, value_name = "UP_TO", value_parser = duration::idle_probe_arg)]
    pub(crate) idle_probe: Option<Duration>,

    #[command(flatten)]
    pub(crate) pool: PoolFlags,
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::TABLE_OR_JSON))]
#[command(after_long_help = CONNECTIONS_EXAMPLES)]
pub(crate) struct ConnectionsArgs {
    /// The URL the application connects with [default: --url, then DATABASE_URL, .env, the
    /// application's default]
    #[arg(id = "url_argument", value_name = "URL")]
    pub(crate) url: Option<String>,

    /// A service: its application_name, replicas, worker processes per replica and each
    /// worker's pool (repeatable; pool from DB_POOL_SIZE and DB_MAX_OVERFLOW when omitted),
    /// e.g. web=3x4:5+10
    #[arg(long = "service", value_name = "NAME=REPLICASxWORKERS[:POOL+OVERFLOW]")]
    pub(crate) services: Vec<String>,

    /// Extra replicas of each service during a rolling deploy
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) surge: u32,

    /// A fixed holder of N connections: a migration job, cron, an admin pool (repeatable)
    #[arg(long = "extra", value_name = "NAME=N")]
    pub(crate) extras: Vec<String>,

    /// Sample pg_stat_activity every 50 ms for this long and report each application's peaks
    #[arg(long, value_name = "SECONDS", value_parser = duration::seconds_arg)]
    pub(crate) watch: Option<Duration>,

    /// Seconds a connection attempt may take (default: the URL's connect_timeout, else
    /// PGCONNECT_TIMEOUT, else 10)
    #[arg(long, value_name = "SECONDS", value_parser = duration::seconds_arg)]
    pub(crate) connect_timeout: Option<Duration>,
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::TABLE_OR_JSON))]
#[command(after_long_help = POOL_BENCH_EXAMPLES)]
pub(crate) struct PoolBenchArgs {
    /// The URL to benchmark [default: --url, then DATABASE_URL, .env, the application's default]
    #[arg(id = "url_argument", value_name = "URL")]
    pub(crate) url: Option<String>,

    #[command(flatten)]
    pub(crate) pool: PoolFlags,

    /// Hand out idle connections last-in first-out (SQLAlchemy's pool_use_lifo)
    #[arg(long)]
    pub(crate) use_lifo: bool,

    /// Send what SQLAlchemy with this driver sends [default: the URL's driver; raw: dbtool's
    /// minimal path, for comparisons with pgbench]
    #[arg(long, value_enum, value_name = "DRIVER")]
    pub(crate) driver: Option<crate::driver::DriverKind>,

    /// Each request commits (the handler calls session.commit()) instead of closing (ROLLBACK)
    #[arg(long)]
    pub(crate) commit: bool,

    /// asyncpg: SQLAlchemy's prepared_statement_cache_size, as connect_args would pass it
    /// [default: the URL's, else 100; 0: prepare every statement anew]
    #[arg(long, value_name = "N")]
    pub(crate) statement_cache_size: Option<usize>,

    /// psycopg: prepare_threshold, as connect_args would pass it (a number, or none for never)
    /// [default: 5]
    #[arg(long, value_name = "N|none")]
    pub(crate) prepare_threshold: Option<String>,

    /// Concurrent simulated requests [default: pool_size + max_overflow + 5]; with --rate, the
    /// most requests in flight at once, a bound on memory the report names when hit [default:
    /// 10000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) clients: Option<u32>,

    /// The statement each request runs
    #[arg(long, value_name = "SQL", default_value = "SELECT 1", conflicts_with_all = ["sleep_ms", "script"])]
    pub(crate) query: String,

    /// Each request runs pg_sleep for this long (a slow query)
    #[arg(long, value_name = "MS", conflicts_with = "script", value_parser = duration::milliseconds_arg)]
    pub(crate) sleep_ms: Option<Duration>,

    /// Each request runs this file's statements in one transaction
    #[arg(long, value_name = "FILE")]
    pub(crate) script: Option<PathBuf>,

    /// Milliseconds a request waits after returning its connection
    #[arg(long, value_name = "MS", default_value = "0", value_parser = duration::milliseconds_arg)]
    pub(crate) think_ms: Duration,

    /// Seconds to run [default: 10]
    #[arg(long, value_name = "SECONDS", conflicts_with = "transactions", value_parser = duration::seconds_arg)]
    pub(crate) duration: Option<Duration>,

    /// Run the load this long before measuring: what the warm-up recorded (connections opening,
    /// the first statements prepared) is left out of the report [default: 0]
    #[arg(long, value_name = "SECONDS", default_value = "0", conflicts_with = "transactions", value_parser = duration::seconds_arg)]
    pub(crate) warmup: Duration,

    /// Stop after this many transactions
    #[arg(long, value_name = "N")]
    pub(crate) transactions: Option<u64>,

    /// Open loop: start this many requests per second, each on time whatever the others are doing
    /// (it waits in the pool), latency measured from the schedule
    #[arg(long, value_name = "PER_SECOND", value_parser = duration::rate_arg)]
    pub(crate) rate: Option<f64>,

    /// Processes that run the application (uvicorn/gunicorn workers), each with its own pool
    /// and its own event loop; the clients and arrivals are spread over them
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(crate) workers: u32,

    /// The application's time on its event loop per round trip (SQLAlchemy and the driver), in
    /// microseconds [default: the driver's, recorded from the real libraries]
    #[arg(long, value_name = "US", conflicts_with = "calibrate", value_parser = duration::microseconds_arg)]
    pub(crate) app_cpu_us: Option<Duration>,

    /// The application's time on its event loop to open (and later close) a connection, in
    /// milliseconds [default: the driver's, recorded from the real libraries]
    #[arg(long, value_name = "MS", conflicts_with = "calibrate", value_parser = duration::milliseconds_arg)]
    pub(crate) app_connect_ms: Option<Duration>,

    /// Measure the application's time per round trip first, with this Python's SQLAlchemy and
    /// driver (the application's virtualenv) at this run's load, and use it
    #[arg(long, value_name = "PYTHON")]
    pub(crate) calibrate: Option<String>,

    /// The handler's own work per request on its event loop, while it holds the connection
    #[arg(long, value_name = "MS", default_value = "0", value_parser = duration::milliseconds_arg)]
    pub(crate) handler_ms: Duration,

    /// Cores the application's workers share [default: one per worker]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub(crate) app_cpus: Option<u32>,

    /// Threads that run the clients of --driver raw, as pgbench's -j [default: the CPUs, at
    /// most the clients]; the application's drivers run one thread per worker
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(crate) jobs: Option<u32>,

    /// Run once per value and print one row each: KEY is pool_size, max_overflow or clients
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub(crate) sweep: Option<String>,

    /// Run the same load again with the advice's recommended pool_size and max_overflow, and
    /// report both runs side by side
    #[arg(long, conflicts_with = "sweep")]
    pub(crate) verify: bool,

    /// Draw throughput and p99 latency (over time, or against the swept value) into an SVG file
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,

    /// Run even when the pool could exceed the connections the server has free
    #[arg(long)]
    pub(crate) force: bool,

    /// Seconds to wait for each new connection (default: the URL's connect_timeout, else 10)
    #[arg(long, value_name = "SECONDS", value_parser = duration::seconds_arg)]
    pub(crate) connect_timeout: Option<Duration>,
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::TABLE_OR_JSON))]
#[command(after_long_help = SETTINGS_EXAMPLES)]
pub(crate) struct SettingsArgs {
    #[command(flatten)]
    pub(crate) pool: PoolFlags,
}

/// The pool settings as flags; each beats DB_* in the environment and in .env.
#[derive(Debug, Args, Default)]
pub(crate) struct PoolFlags {
    /// Connections kept open (DB_POOL_SIZE)
    #[arg(long, value_name = "N")]
    pub(crate) pool_size: Option<String>,

    /// Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub(crate) max_overflow: Option<String>,

    /// Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)
    #[arg(long, value_name = "SECONDS")]
    pub(crate) pool_timeout: Option<String>,

    /// Replace connections older than this, -1 never (DB_POOL_RECYCLE)
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub(crate) pool_recycle: Option<String>,

    /// Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)
    #[arg(long, overrides_with = "no_pre_ping")]
    pub(crate) pre_ping: bool,

    /// Do not test connections before checkout
    #[arg(long, overrides_with = "pre_ping")]
    pub(crate) no_pre_ping: bool,

    /// Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)
    #[arg(long, value_name = "SECONDS")]
    pub(crate) statement_timeout: Option<String>,
}

impl PoolFlags {
    /// Adds the flags that were given to `values`, keyed by their environment variable.
    pub(crate) fn collect_into(&self, values: &mut FlagValues) {
        values.set("DB_POOL_SIZE", self.pool_size.clone());
        values.set("DB_MAX_OVERFLOW", self.max_overflow.clone());
        values.set("DB_POOL_TIMEOUT", self.pool_timeout.clone());
        values.set("DB_POOL_RECYCLE", self.pool_recycle.clone());
        let pre_ping = match (self.pre_ping, self.no_pre_ping) {
            (true, _) => Some("true".to_string()),
            (_, true) => Some("false".to_string()),
            _ => None,
        };
        values.set("DB_POOL_PRE_PING", pre_ping);
        values.set("DB_STATEMENT_TIMEOUT", self.statement_timeout.clone());
    }
}

#[derive(Debug, Args)]
#[command(arg = format_arg(Format::TABLE_OR_JSON))]
#[command(after_long_help = EXPLAIN_EXAMPLES)]
pub(crate) struct ExplainArgs {
    /// A finding code as dbtool reports it, e.g. asyncpg-sslmode or naming/mismatch
    #[arg(value_name = "CODE")]
    pub(crate) code: Option<String>,
}

#[derive(Debug, Args)]
#[command(arg = no_format_arg())]
#[command(after_long_help = COMPLETIONS_EXAMPLES)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate the script for
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// A value for each required positional argument of a (sub)command — its first possible value,
/// else `x` — for walking the command tree (tests try every option of every subcommand with it).
pub fn required_positionals(command: &clap::Command) -> Vec<String> {
    command
        .get_positionals()
        .filter(|p| p.is_required_set())
        .map(|p| {
            p.get_possible_values()
                .first()
                .map_or("x".to_string(), |v| v.get_name().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn completion_scripts_offer_no_format_for_completions_only() {
        let mut described = Cli::completion_command();
        described.build();
        let mut parsed = Cli::command();
        parsed.build();
        let formats = |command: &clap::Command| -> Option<Vec<String>> {
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_id() == "format")?;
            Some(
                arg.get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_owned())
                    .collect(),
            )
        };
        assert_eq!(
            formats(&described),
            formats(&parsed),
            "the root keeps --format"
        );
        for sub in parsed
            .get_subcommands()
            .filter(|sub| sub.get_name() != "help")
        {
            let described_sub = described.find_subcommand(sub.get_name()).unwrap();
            if sub.get_name() == "completions" {
                assert!(
                    formats(sub).is_some(),
                    "parsing still refuses completions --format"
                );
                assert_eq!(formats(described_sub), None);
            } else {
                assert_eq!(formats(described_sub), formats(sub), "{}", sub.get_name());
                assert!(formats(sub).is_some(), "{}", sub.get_name());
            }
        }
    }

    #[test]
    fn table_or_json_is_exactly_what_those_subcommands_accept() {
        for format in Format::WITH_CI {
            assert_eq!(
                format.table_or_json().is_some(),
                Format::TABLE_OR_JSON.contains(format),
                "{format:?}"
            );
        }
        assert_eq!(Format::Json.table_or_json(), Some(TableOrJson::Json));
        assert_eq!(Format::Table.table_or_json(), Some(TableOrJson::Table));
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_are_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "dbtool",
            "settings",
            "--format",
            "json",
            "--url",
            "postgresql://h/d",
        ])
        .unwrap();
        assert_eq!(cli.global.format, Some(Format::Json));
        assert_eq!(cli.global.url.as_deref(), Some("postgresql://h/d"));
    }

    /// Walks clap's command tree: every global flag is accepted after every subcommand (also
    /// next to a positional URL) and listed in that subcommand's --help. `--format` is each
    /// subcommand's own: `each_subcommand_takes_only_its_own_formats`.
    #[test]
    fn every_global_flag_works_after_every_subcommand() {
        let mut command = Cli::command();
        command.build();
        let globals: Vec<(String, Option<String>)> = command
            .get_arguments()
            .filter(|a| a.is_global_set() && a.get_id() != "format")
            .map(|a| {
                let value = a.get_action().takes_values().then(|| {
                    a.get_possible_values()
                        .first()
                        .map_or("postgresql://h/d".to_string(), |v| v.get_name().to_string())
                });
                (
                    a.get_long().expect("global flags are long").to_string(),
                    value,
                )
            })
            .collect();
        assert!(globals.iter().any(|(long, _)| long == "url"));
        let mut checked = 0;
        for sub in command.get_subcommands_mut() {
            let name = sub.get_name().to_string();
            if name == "help" {
                continue;
            }
            let positionals = required_positionals(sub);
            let help = sub.render_long_help().to_string();
            for (long, value) in &globals {
                assert!(
                    help.contains(&format!("--{long}")),
                    "{name} --help lacks --{long}"
                );
                let mut argv = vec!["dbtool".to_string(), name.clone()];
                argv.extend(positionals.iter().cloned());
                argv.push(format!("--{long}"));
                argv.extend(value.iter().cloned());
                let parsed = Cli::try_parse_from(&argv);
                assert!(parsed.is_ok(), "{argv:?}: {}", parsed.unwrap_err());
                checked += 1;
            }
        }
        assert!(checked >= 6 * 7, "only {checked} combinations");
    }

    /// The formats each subcommand writes: clap refuses the others, before the subcommand or
    /// after it, and its --help lists exactly these.
    #[test]
    fn each_subcommand_takes_only_its_own_formats() {
        let table_or_json: &[&str] = &["table", "json"];
        let with_ci: &[&str] = &["table", "json", "sarif", "github", "gitlab", "junit"];
        let expected: [(&str, &[&str]); 9] = [
            ("check-url", table_or_json),
            ("lint-constraints", with_ci),
            ("check-migrations", with_ci),
            ("ping", table_or_json),
            ("pool-bench", table_or_json),
            ("connections", table_or_json),
            ("settings", table_or_json),
            ("explain", table_or_json),
            ("completions", &[]),
        ];
        let mut command = Cli::command();
        command.build();
        let subcommands: Vec<&str> = command
            .get_subcommands()
            .map(|s| s.get_name())
            .filter(|name| *name != "help")
            .collect();
        assert_eq!(subcommands, expected.map(|(name, _)| name));
        for (name, formats) in expected {
            let sub = command.find_subcommand_mut(name).unwrap();
            let help = sub.render_long_help().to_string();
            let format = sub
                .get_arguments()
                .find(|a| a.get_id() == "format")
                .unwrap();
            let listed: Vec<String> = if format.is_hide_set() {
                Vec::new()
            } else {
                let values = format.get_possible_values();
                values.iter().map(|v| v.get_name().to_string()).collect()
            };
            assert_eq!(listed, formats, "{name}");
            assert_eq!(help.contains("--format"), !formats.is_empty(), "{name}");
            let positionals = required_positionals(sub);
            for value in ["table", "json", "sarif", "github", "gitlab", "junit"] {
                let after = [
                    &["dbtool", name][..],
                    &positionals.iter().map(String::as_str).collect::<Vec<_>>(),
                    &["--format", value],
                ]
                .concat();
                let before = [
                    &["dbtool", "--format", value, name][..],
                    &positionals.iter().map(String::as_str).collect::<Vec<_>>(),
                ]
                .concat();
                for argv in [after, before] {
                    match Cli::try_parse_args(&argv) {
                        Ok(cli) => {
                            assert!(formats.contains(&value), "{argv:?} accepted");
                            let parsed = cli.global.format.and_then(|f| f.to_possible_value());
                            assert_eq!(
                                parsed.as_ref().map(|v| v.get_name()),
                                Some(value),
                                "{argv:?}"
                            );
                        }
                        Err(error) => {
                            assert!(!formats.contains(&value), "{argv:?}: {error}");
                            assert!(
                                matches!(
                                    error.kind(),
                                    ErrorKind::InvalidValue | ErrorKind::ValueValidation
                                ),
                                "{argv:?}: {error}"
                            );
                        }
                    }
                }
            }
        }
        let cli = Cli::try_parse_args(["dbtool", "ping"]).unwrap();
        assert_eq!(cli.global.format, Some(Format::Table));
        let cli = Cli::try_parse_args(["dbtool", "completions", "bash"]).unwrap();
        assert_eq!(cli.global.format, None);
    }

    #[test]
    fn url_after_the_subcommand_sits_beside_the_positional_url() {
        for sub in ["ping", "check-url", "pool-bench"] {
            let cli = Cli::try_parse_from(["dbtool", sub, "--url", "postgresql://flag/d"]).unwrap();
            assert_eq!(
                cli.global.url.as_deref(),
                Some("postgresql://flag/d"),
                "{sub}"
            );
            let cli =
                Cli::try_parse_from(["dbtool", sub, "postgresql://positional/d", "--url", "u"])
                    .unwrap();
            let positional = match cli.command {
                Command::Ping(args) => args.url,
                Command::CheckUrl(args) => args.url,
                Command::PoolBench(args) => args.url,
                _ => unreachable!(),
            };
            assert_eq!(
                positional.as_deref(),
                Some("postgresql://positional/d"),
                "{sub}"
            );
        }
    }

    #[test]
    fn pre_ping_flags_become_setting_text() {
        let cli = Cli::try_parse_from([
            "dbtool",
            "settings",
            "--no-pre-ping",
            "--max-overflow",
            "-1",
        ])
        .unwrap();
        let Command::Settings(args) = cli.command else {
            panic!("not settings")
        };
        let mut values = FlagValues::default();
        args.pool.collect_into(&mut values);
        assert_eq!(values.get("DB_POOL_PRE_PING"), Some("false"));
        assert_eq!(values.get("DB_MAX_OVERFLOW"), Some("-1"));
        assert_eq!(values.get("DB_POOL_SIZE"), None);
    }
}
