
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'dbtool' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'dbtool'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'dbtool' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: each subcommand''s --help lists those it writes [default: table]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('check-url', 'check-url', [CompletionResultType]::ParameterValue, 'Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it')
            [CompletionResult]::new('lint-constraints', 'lint-constraints', [CompletionResultType]::ParameterValue, 'Check constraint and index names against the SQLAlchemy naming convention')
            [CompletionResult]::new('check-migrations', 'check-migrations', [CompletionResultType]::ParameterValue, 'Say where the database stands against the Alembic migrations: current revisions, heads, the revisions an upgrade would run (read-only; never runs the migrations)')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Connect step by step and say where and why a connection fails (pg_isready, with reasons)')
            [CompletionResult]::new('pool-bench', 'pool-bench', [CompletionResultType]::ParameterValue, 'Run the application''s pool (QueuePool semantics) under synthetic load and show its statistics')
            [CompletionResult]::new('connections', 'connections', [CompletionResultType]::ParameterValue, 'The connection budget: will the deployment''s pools fit the role''s limit, and what each application holds now (read-only)')
            [CompletionResult]::new('settings', 'settings', [CompletionResultType]::ParameterValue, 'Show the effective settings and where each came from')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain a finding code: what it means, how to fix it, an example (without CODE: list them)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dbtool;check-url' {
            [CompletionResult]::new('--libpq-version', '--libpq-version', [CompletionResultType]::ParameterName, 'Read the URL as this libpq major version does (keywords and space handling differ)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat warnings as problems too (exit 1)')
            [CompletionResult]::new('--show-password', '--show-password', [CompletionResultType]::ParameterName, 'Show the password instead of *** (never in logs you share)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;lint-constraints' {
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Only these schemas (repeatable; default: every user schema)')
            [CompletionResult]::new('--exclude-schema', '--exclude-schema', [CompletionResultType]::ParameterName, 'Skip these schemas (repeatable)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Only tables matching this pattern (`*`, `?`; `table` or `schema.table`; repeatable)')
            [CompletionResult]::new('--convention', '--convention', [CompletionResultType]::ParameterName, 'Override one template, e.g. ix=ix_%(column_0_label)s (repeatable)')
            [CompletionResult]::new('--convention-from', '--convention-from', [CompletionResultType]::ParameterName, 'Read the convention from the application''s Python file (MetaData(naming_convention=...) or the dict it names), without running Python; replaces dbtool.toml''s [naming_convention]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read this dbtool.toml instead of searching upwards from the working directory')
            [CompletionResult]::new('--label-schema', '--label-schema', [CompletionResultType]::ParameterName, 'When column_0_label includes the schema')
            [CompletionResult]::new('--keep-names-for', '--keep-names-for', [CompletionResultType]::ParameterName, 'With --fix-sql: Alembic versions/ directories (or migration files) whose revisions may still run here; a rename of a constraint or index they drop or rename by its old name is left out, with the revision named (repeatable)')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'With --fix-sql: seconds a rename may wait for its lock before its table''s transaction gives up (queries on the table wait at most this long behind it)')
            [CompletionResult]::new('--write-baseline', '--write-baseline', [CompletionResultType]::ParameterName, 'Record today''s violations in FILE')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Report only violations not recorded in FILE')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection (default: the URL''s connect_timeout, else 10)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('--include-partitions', '--include-partitions', [CompletionResultType]::ParameterName, 'Also check constraints and indexes that partitions and child tables inherit')
            [CompletionResult]::new('--alembic-metadata-convention', '--alembic-metadata-convention', [CompletionResultType]::ParameterName, 'Alembic migrations: env.py''s target_metadata has the naming convention being checked, so Alembic names unnamed constraints by it and applies %(constraint_name)s templates to plain names (default: a MetaData without a convention, names used as written)')
            [CompletionResult]::new('--fix-sql', '--fix-sql', [CompletionResultType]::ParameterName, 'Print a SQL script that renames every violation, instead of the report: one short transaction per table, safe to run again after a partial run')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;check-migrations' {
            [CompletionResult]::new('--version-table', '--version-table', [CompletionResultType]::ParameterName, 'Alembic''s version table, NAME or SCHEMA.NAME as env.py''s version_table and version_table_schema (case-sensitive) [default: alembic_version on the search path]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the connection (default: the URL''s connect_timeout, else 10)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;ping' {
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds each stage may take (default: the URL''s connect_timeout, else PGCONNECT_TIMEOUT, else 10)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Send N pre-pings on one connection and show round-trip statistics')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Seconds between pre-pings with --count')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds --wait may take')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Processes that run the application, each with its own pool (capacity check)')
            [CompletionResult]::new('--libpq-version', '--libpq-version', [CompletionResultType]::ParameterName, 'Connect as this libpq major version does (sslrootcert=system, the home directory differ)')
            [CompletionResult]::new('--idle-probe', '--idle-probe', [CompletionResultType]::ParameterName, 'Measure how long a connection may sit idle on this path before it dies, and how it dies, trying idle times up to UP_TO (seconds, or 10m, 1h); the pass takes about UP_TO')
            [CompletionResult]::new('--pool-size', '--pool-size', [CompletionResultType]::ParameterName, 'Connections kept open (DB_POOL_SIZE)')
            [CompletionResult]::new('--max-overflow', '--max-overflow', [CompletionResultType]::ParameterName, 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)')
            [CompletionResult]::new('--pool-timeout', '--pool-timeout', [CompletionResultType]::ParameterName, 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)')
            [CompletionResult]::new('--pool-recycle', '--pool-recycle', [CompletionResultType]::ParameterName, 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)')
            [CompletionResult]::new('--statement-timeout', '--statement-timeout', [CompletionResultType]::ParameterName, 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Retry until the server accepts connections or --timeout passes')
            [CompletionResult]::new('--pre-ping', '--pre-ping', [CompletionResultType]::ParameterName, 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)')
            [CompletionResult]::new('--no-pre-ping', '--no-pre-ping', [CompletionResultType]::ParameterName, 'Do not test connections before checkout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;pool-bench' {
            [CompletionResult]::new('--pool-size', '--pool-size', [CompletionResultType]::ParameterName, 'Connections kept open (DB_POOL_SIZE)')
            [CompletionResult]::new('--max-overflow', '--max-overflow', [CompletionResultType]::ParameterName, 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)')
            [CompletionResult]::new('--pool-timeout', '--pool-timeout', [CompletionResultType]::ParameterName, 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)')
            [CompletionResult]::new('--pool-recycle', '--pool-recycle', [CompletionResultType]::ParameterName, 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)')
            [CompletionResult]::new('--statement-timeout', '--statement-timeout', [CompletionResultType]::ParameterName, 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)')
            [CompletionResult]::new('--driver', '--driver', [CompletionResultType]::ParameterName, 'Send what SQLAlchemy with this driver sends [default: the URL''s driver; raw: dbtool''s minimal path, for comparisons with pgbench]')
            [CompletionResult]::new('--statement-cache-size', '--statement-cache-size', [CompletionResultType]::ParameterName, 'asyncpg: SQLAlchemy''s prepared_statement_cache_size, as connect_args would pass it [default: the URL''s, else 100; 0: prepare every statement anew]')
            [CompletionResult]::new('--prepare-threshold', '--prepare-threshold', [CompletionResultType]::ParameterName, 'psycopg: prepare_threshold, as connect_args would pass it (a number, or none for never) [default: 5]')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Concurrent simulated requests [default: pool_size + max_overflow + 5]; with --rate, the most requests in flight at once, a bound on memory the report names when hit [default: 10000]')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'The statement each request runs')
            [CompletionResult]::new('--sleep-ms', '--sleep-ms', [CompletionResultType]::ParameterName, 'Each request runs pg_sleep for this long (a slow query)')
            [CompletionResult]::new('--script', '--script', [CompletionResultType]::ParameterName, 'Each request runs this file''s statements in one transaction')
            [CompletionResult]::new('--think-ms', '--think-ms', [CompletionResultType]::ParameterName, 'Milliseconds a request waits after returning its connection')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Seconds to run [default: 10]')
            [CompletionResult]::new('--warmup', '--warmup', [CompletionResultType]::ParameterName, 'Run the load this long before measuring: what the warm-up recorded (connections opening, the first statements prepared) is left out of the report [default: 0]')
            [CompletionResult]::new('--transactions', '--transactions', [CompletionResultType]::ParameterName, 'Stop after this many transactions')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Open loop: start this many requests per second, each on time whatever the others are doing (it waits in the pool), latency measured from the schedule')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Processes that run the application (uvicorn/gunicorn workers), each with its own pool and its own event loop; the clients and arrivals are spread over them')
            [CompletionResult]::new('--app-cpu-us', '--app-cpu-us', [CompletionResultType]::ParameterName, 'The application''s time on its event loop per round trip (SQLAlchemy and the driver), in microseconds [default: the driver''s, recorded from the real libraries]')
            [CompletionResult]::new('--app-connect-ms', '--app-connect-ms', [CompletionResultType]::ParameterName, 'The application''s time on its event loop to open (and later close) a connection, in milliseconds [default: the driver''s, recorded from the real libraries]')
            [CompletionResult]::new('--calibrate', '--calibrate', [CompletionResultType]::ParameterName, 'Measure the application''s time per round trip first, with this Python''s SQLAlchemy and driver (the application''s virtualenv) at this run''s load, and use it')
            [CompletionResult]::new('--handler-ms', '--handler-ms', [CompletionResultType]::ParameterName, 'The handler''s own work per request on its event loop, while it holds the connection')
            [CompletionResult]::new('--app-cpus', '--app-cpus', [CompletionResultType]::ParameterName, 'Cores the application''s workers share [default: one per worker]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Threads that run the clients of --driver raw, as pgbench''s -j [default: the CPUs, at most the clients]; the application''s drivers run one thread per worker')
            [CompletionResult]::new('--sweep', '--sweep', [CompletionResultType]::ParameterName, 'Run once per value and print one row each: KEY is pool_size, max_overflow or clients')
            [CompletionResult]::new('--plot', '--plot', [CompletionResultType]::ParameterName, 'Draw throughput and p99 latency (over time, or against the swept value) into an SVG file')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each new connection (default: the URL''s connect_timeout, else 10)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('--pre-ping', '--pre-ping', [CompletionResultType]::ParameterName, 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)')
            [CompletionResult]::new('--no-pre-ping', '--no-pre-ping', [CompletionResultType]::ParameterName, 'Do not test connections before checkout')
            [CompletionResult]::new('--use-lifo', '--use-lifo', [CompletionResultType]::ParameterName, 'Hand out idle connections last-in first-out (SQLAlchemy''s pool_use_lifo)')
            [CompletionResult]::new('--commit', '--commit', [CompletionResultType]::ParameterName, 'Each request commits (the handler calls session.commit()) instead of closing (ROLLBACK)')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Run the same load again with the advice''s recommended pool_size and max_overflow, and report both runs side by side')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Run even when the pool could exceed the connections the server has free')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;connections' {
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'A service: its application_name, replicas, worker processes per replica and each worker''s pool (repeatable; pool from DB_POOL_SIZE and DB_MAX_OVERFLOW when omitted), e.g. web=3x4:5+10')
            [CompletionResult]::new('--surge', '--surge', [CompletionResultType]::ParameterName, 'Extra replicas of each service during a rolling deploy')
            [CompletionResult]::new('--extra', '--extra', [CompletionResultType]::ParameterName, 'A fixed holder of N connections: a migration job, cron, an admin pool (repeatable)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Sample pg_stat_activity every 50 ms for this long and report each application''s peaks')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds a connection attempt may take (default: the URL''s connect_timeout, else PGCONNECT_TIMEOUT, else 10)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;settings' {
            [CompletionResult]::new('--pool-size', '--pool-size', [CompletionResultType]::ParameterName, 'Connections kept open (DB_POOL_SIZE)')
            [CompletionResult]::new('--max-overflow', '--max-overflow', [CompletionResultType]::ParameterName, 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)')
            [CompletionResult]::new('--pool-timeout', '--pool-timeout', [CompletionResultType]::ParameterName, 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)')
            [CompletionResult]::new('--pool-recycle', '--pool-recycle', [CompletionResultType]::ParameterName, 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)')
            [CompletionResult]::new('--statement-timeout', '--statement-timeout', [CompletionResultType]::ParameterName, 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('--pre-ping', '--pre-ping', [CompletionResultType]::ParameterName, 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)')
            [CompletionResult]::new('--no-pre-ping', '--no-pre-ping', [CompletionResultType]::ParameterName, 'Do not test connections before checkout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;explain' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;completions' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read settings from this file instead of ./.env')
            [CompletionResult]::new('--app-from', '--app-from', [CompletionResultType]::ParameterName, 'Read the settings and the engine from the application''s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]')
            [CompletionResult]::new('--app-engine', '--app-engine', [CompletionResultType]::ParameterName, 'With --app-from: the create_async_engine/create_engine call to use, where there are several')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what dbtool does (repeat for more)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)')
            [CompletionResult]::new('--no-dotenv', '--no-dotenv', [CompletionResultType]::ParameterName, 'Do not read any .env file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'dbtool;help' {
            [CompletionResult]::new('check-url', 'check-url', [CompletionResultType]::ParameterValue, 'Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it')
            [CompletionResult]::new('lint-constraints', 'lint-constraints', [CompletionResultType]::ParameterValue, 'Check constraint and index names against the SQLAlchemy naming convention')
            [CompletionResult]::new('check-migrations', 'check-migrations', [CompletionResultType]::ParameterValue, 'Say where the database stands against the Alembic migrations: current revisions, heads, the revisions an upgrade would run (read-only; never runs the migrations)')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'Connect step by step and say where and why a connection fails (pg_isready, with reasons)')
            [CompletionResult]::new('pool-bench', 'pool-bench', [CompletionResultType]::ParameterValue, 'Run the application''s pool (QueuePool semantics) under synthetic load and show its statistics')
            [CompletionResult]::new('connections', 'connections', [CompletionResultType]::ParameterValue, 'The connection budget: will the deployment''s pools fit the role''s limit, and what each application holds now (read-only)')
            [CompletionResult]::new('settings', 'settings', [CompletionResultType]::ParameterValue, 'Show the effective settings and where each came from')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain a finding code: what it means, how to fix it, an example (without CODE: list them)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'dbtool;help;check-url' {
            break
        }
        'dbtool;help;lint-constraints' {
            break
        }
        'dbtool;help;check-migrations' {
            break
        }
        'dbtool;help;ping' {
            break
        }
        'dbtool;help;pool-bench' {
            break
        }
        'dbtool;help;connections' {
            break
        }
        'dbtool;help;settings' {
            break
        }
        'dbtool;help;explain' {
            break
        }
        'dbtool;help;completions' {
            break
        }
        'dbtool;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
