# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dbtool_global_optspecs
    string join \n url= color= q/quiet v/verbose echo env-file= no-dotenv app-from= app-engine= format= h/help V/version
end

function __fish_dbtool_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dbtool_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dbtool_using_subcommand
    set -l cmd (__fish_dbtool_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dbtool -n "__fish_dbtool_needs_command" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_needs_command" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_needs_command" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_needs_command" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_needs_command" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_needs_command" -l format -d 'Output format: each subcommand\'s --help lists those it writes [default: table]' -r -f -a "table\t''
json\t''
sarif\t'SARIF 2.1.0'
github\t'GitHub workflow annotations'
gitlab\t'GitLab Code Quality report'
junit\t'JUnit XML, one failure per error'"
complete -c dbtool -n "__fish_dbtool_needs_command" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_needs_command" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_needs_command" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_needs_command" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_needs_command" -s h -l help -d 'Print help'
complete -c dbtool -n "__fish_dbtool_needs_command" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "check-url" -d 'Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "lint-constraints" -d 'Check constraint and index names against the SQLAlchemy naming convention'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "check-migrations" -d 'Say where the database stands against the Alembic migrations: current revisions, heads, the revisions an upgrade would run (read-only; never runs the migrations)'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "ping" -d 'Connect step by step and say where and why a connection fails (pg_isready, with reasons)'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "pool-bench" -d 'Run the application\'s pool (QueuePool semantics) under synthetic load and show its statistics'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "connections" -d 'The connection budget: will the deployment\'s pools fit the role\'s limit, and what each application holds now (read-only)'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "settings" -d 'Show the effective settings and where each came from'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "explain" -d 'Explain a finding code: what it means, how to fix it, an example (without CODE: list them)'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c dbtool -n "__fish_dbtool_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l libpq-version -d 'Read the URL as this libpq major version does (keywords and space handling differ)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l strict -d 'Treat warnings as problems too (exit 1)'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l show-password -d 'Show the password instead of *** (never in logs you share)'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-url" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l schema -d 'Only these schemas (repeatable; default: every user schema)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l exclude-schema -d 'Skip these schemas (repeatable)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l table -d 'Only tables matching this pattern (`*`, `?`; `table` or `schema.table`; repeatable)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l convention -d 'Override one template, e.g. ix=ix_%(column_0_label)s (repeatable)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l convention-from -d 'Read the convention from the application\'s Python file (MetaData(naming_convention=...) or the dict it names), without running Python; replaces dbtool.toml\'s [naming_convention]' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l config -d 'Read this dbtool.toml instead of searching upwards from the working directory' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l label-schema -d 'When column_0_label includes the schema' -r -f -a "outside-search-path\t'Tables outside the first schema of the search path are declared with `schema=`'
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l keep-names-for -d 'With --fix-sql: Alembic versions/ directories (or migration files) whose revisions may still run here; a rename of a constraint or index they drop or rename by its old name is left out, with the revision named (repeatable)' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l lock-timeout -d 'With --fix-sql: seconds a rename may wait for its lock before its table\'s transaction gives up (queries on the table wait at most this long behind it)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l write-baseline -d 'Record today\'s violations in FILE' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l baseline -d 'Report only violations not recorded in FILE' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l connect-timeout -d 'Seconds to wait for the connection (default: the URL\'s connect_timeout, else 10)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''
sarif\t'SARIF 2.1.0'
github\t'GitHub workflow annotations'
gitlab\t'GitLab Code Quality report'
junit\t'JUnit XML, one failure per error'"
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l include-partitions -d 'Also check constraints and indexes that partitions and child tables inherit'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l alembic-metadata-convention -d 'Alembic migrations: env.py\'s target_metadata has the naming convention being checked, so Alembic names unnamed constraints by it and applies %(constraint_name)s templates to plain names (default: a MetaData without a convention, names used as written)'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l fix-sql -d 'Print a SQL script that renames every violation, instead of the report: one short transaction per table, safe to run again after a partial run'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand lint-constraints" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l version-table -d 'Alembic\'s version table, NAME or SCHEMA.NAME as env.py\'s version_table and version_table_schema (case-sensitive) [default: alembic_version on the search path]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l connect-timeout -d 'Seconds to wait for the connection (default: the URL\'s connect_timeout, else 10)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''
sarif\t'SARIF 2.1.0'
github\t'GitHub workflow annotations'
gitlab\t'GitLab Code Quality report'
junit\t'JUnit XML, one failure per error'"
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand check-migrations" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l connect-timeout -d 'Seconds each stage may take (default: the URL\'s connect_timeout, else PGCONNECT_TIMEOUT, else 10)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l count -d 'Send N pre-pings on one connection and show round-trip statistics' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l interval -d 'Seconds between pre-pings with --count' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l timeout -d 'Seconds --wait may take' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l workers -d 'Processes that run the application, each with its own pool (capacity check)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l libpq-version -d 'Connect as this libpq major version does (sslrootcert=system, the home directory differ)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l idle-probe -d 'Measure how long a connection may sit idle on this path before it dies, and how it dies, trying idle times up to UP_TO (seconds, or 10m, 1h); the pass takes about UP_TO' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l pool-size -d 'Connections kept open (DB_POOL_SIZE)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l max-overflow -d 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l pool-timeout -d 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l pool-recycle -d 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l statement-timeout -d 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l wait -d 'Retry until the server accepts connections or --timeout passes'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l pre-ping -d 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l no-pre-ping -d 'Do not test connections before checkout'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand ping" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l pool-size -d 'Connections kept open (DB_POOL_SIZE)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l max-overflow -d 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l pool-timeout -d 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l pool-recycle -d 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l statement-timeout -d 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l driver -d 'Send what SQLAlchemy with this driver sends [default: the URL\'s driver; raw: dbtool\'s minimal path, for comparisons with pgbench]' -r -f -a "asyncpg\t''
psycopg\t''
psycopg2\t''
raw\t'dbtool\'s minimal path: the workload as one cached prepared statement, `SELECT 1` as the pre-ping, no transaction statements; for comparisons with pgbench'"
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l statement-cache-size -d 'asyncpg: SQLAlchemy\'s prepared_statement_cache_size, as connect_args would pass it [default: the URL\'s, else 100; 0: prepare every statement anew]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l prepare-threshold -d 'psycopg: prepare_threshold, as connect_args would pass it (a number, or none for never) [default: 5]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l clients -d 'Concurrent simulated requests [default: pool_size + max_overflow + 5]; with --rate, the most requests in flight at once, a bound on memory the report names when hit [default: 10000]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l query -d 'The statement each request runs' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l sleep-ms -d 'Each request runs pg_sleep for this long (a slow query)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l script -d 'Each request runs this file\'s statements in one transaction' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l think-ms -d 'Milliseconds a request waits after returning its connection' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l duration -d 'Seconds to run [default: 10]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l warmup -d 'Run the load this long before measuring: what the warm-up recorded (connections opening, the first statements prepared) is left out of the report [default: 0]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l transactions -d 'Stop after this many transactions' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l rate -d 'Open loop: start this many requests per second, each on time whatever the others are doing (it waits in the pool), latency measured from the schedule' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l workers -d 'Processes that run the application (uvicorn/gunicorn workers), each with its own pool and its own event loop; the clients and arrivals are spread over them' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l app-cpu-us -d 'The application\'s time on its event loop per round trip (SQLAlchemy and the driver), in microseconds [default: the driver\'s, recorded from the real libraries]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l app-connect-ms -d 'The application\'s time on its event loop to open (and later close) a connection, in milliseconds [default: the driver\'s, recorded from the real libraries]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l calibrate -d 'Measure the application\'s time per round trip first, with this Python\'s SQLAlchemy and driver (the application\'s virtualenv) at this run\'s load, and use it' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l handler-ms -d 'The handler\'s own work per request on its event loop, while it holds the connection' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l app-cpus -d 'Cores the application\'s workers share [default: one per worker]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l jobs -d 'Threads that run the clients of --driver raw, as pgbench\'s -j [default: the CPUs, at most the clients]; the application\'s drivers run one thread per worker' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l sweep -d 'Run once per value and print one row each: KEY is pool_size, max_overflow or clients' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l plot -d 'Draw throughput and p99 latency (over time, or against the swept value) into an SVG file' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l connect-timeout -d 'Seconds to wait for each new connection (default: the URL\'s connect_timeout, else 10)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l pre-ping -d 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l no-pre-ping -d 'Do not test connections before checkout'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l use-lifo -d 'Hand out idle connections last-in first-out (SQLAlchemy\'s pool_use_lifo)'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l commit -d 'Each request commits (the handler calls session.commit()) instead of closing (ROLLBACK)'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l verify -d 'Run the same load again with the advice\'s recommended pool_size and max_overflow, and report both runs side by side'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l force -d 'Run even when the pool could exceed the connections the server has free'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand pool-bench" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l service -d 'A service: its application_name, replicas, worker processes per replica and each worker\'s pool (repeatable; pool from DB_POOL_SIZE and DB_MAX_OVERFLOW when omitted), e.g. web=3x4:5+10' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l surge -d 'Extra replicas of each service during a rolling deploy' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l extra -d 'A fixed holder of N connections: a migration job, cron, an admin pool (repeatable)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l watch -d 'Sample pg_stat_activity every 50 ms for this long and report each application\'s peaks' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l connect-timeout -d 'Seconds a connection attempt may take (default: the URL\'s connect_timeout, else PGCONNECT_TIMEOUT, else 10)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand connections" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l pool-size -d 'Connections kept open (DB_POOL_SIZE)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l max-overflow -d 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l pool-timeout -d 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l pool-recycle -d 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l statement-timeout -d 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l pre-ping -d 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l no-pre-ping -d 'Do not test connections before checkout'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand settings" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l format -d 'Output format; json prints exactly one JSON document on stdout' -r -f -a "table\t''
json\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbtool -n "__fish_dbtool_using_subcommand explain" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -l url -d 'Connection URL [default: DATABASE_URL, then .env, then the application\'s default]' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -l color -d 'When to use colours (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -l env-file -d 'Read settings from this file instead of ./.env' -r -F
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -l app-from -d 'Read the settings and the engine from the application\'s code in DIR (the directory it starts from) [default: app_from in dbtool.toml or [tool.dbtool]]' -r -f -a "(__fish_complete_directories)"
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -l app-engine -d 'With --app-from: the create_async_engine/create_engine call to use, where there are several' -r
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -s q -l quiet -d 'Print only results and errors'
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -s v -l verbose -d 'Say more about what dbtool does (repeat for more)'
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -l echo -d 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -l no-dotenv -d 'Do not read any .env file'
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -s h -l help -d 'Print help'
complete -c dbtool -n "__fish_dbtool_using_subcommand completions" -s V -l version -d 'Print version'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "check-url" -d 'Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "lint-constraints" -d 'Check constraint and index names against the SQLAlchemy naming convention'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "check-migrations" -d 'Say where the database stands against the Alembic migrations: current revisions, heads, the revisions an upgrade would run (read-only; never runs the migrations)'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "ping" -d 'Connect step by step and say where and why a connection fails (pg_isready, with reasons)'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "pool-bench" -d 'Run the application\'s pool (QueuePool semantics) under synthetic load and show its statistics'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "connections" -d 'The connection budget: will the deployment\'s pools fit the role\'s limit, and what each application holds now (read-only)'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "settings" -d 'Show the effective settings and where each came from'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "explain" -d 'Explain a finding code: what it means, how to fix it, an example (without CODE: list them)'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c dbtool -n "__fish_dbtool_using_subcommand help; and not __fish_seen_subcommand_from check-url lint-constraints check-migrations ping pool-bench connections settings explain completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
