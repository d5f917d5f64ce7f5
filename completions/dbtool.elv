
use builtin;
use str;

set edit:completion:arg-completer[dbtool] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'dbtool'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'dbtool'= {
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand --format 'Output format: each subcommand''s --help lists those it writes [default: table]'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check-url 'Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it'
            cand lint-constraints 'Check constraint and index names against the SQLAlchemy naming convention'
            cand check-migrations 'Say where the database stands against the Alembic migrations: current revisions, heads, the revisions an upgrade would run (read-only; never runs the migrations)'
            cand ping 'Connect step by step and say where and why a connection fails (pg_isready, with reasons)'
            cand pool-bench 'Run the application''s pool (QueuePool semantics) under synthetic load and show its statistics'
            cand settings 'Show the effective settings and where each came from'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'dbtool;check-url'= {
            cand --libpq-version 'Read the URL as this libpq major version does (keywords and space handling differ)'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand --strict 'Treat warnings as problems too (exit 1)'
            cand --show-password 'Show the password instead of *** (never in logs you share)'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dbtool;lint-constraints'= {
            cand --schema 'Only these schemas (repeatable; default: every user schema)'
            cand --exclude-schema 'Skip these schemas (repeatable)'
            cand --table 'Only tables matching this pattern (`*`, `?`; `table` or `schema.table`; repeatable)'
            cand --convention 'Override one template, e.g. ix=ix_%(column_0_label)s (repeatable)'
            cand --convention-from 'Read the convention from the application''s Python file (MetaData(naming_convention=...) or the dict it names), without running Python; replaces dbtool.toml''s [naming_convention]'
            cand --config 'Read this dbtool.toml instead of searching upwards from the working directory'
            cand --label-schema 'When column_0_label includes the schema'
            cand --keep-names-for 'With --fix-sql: Alembic versions/ directories (or migration files) whose revisions may still run here; a rename of a constraint or index they drop or rename by its old name is left out, with the revision named (repeatable)'
            cand --lock-timeout 'With --fix-sql: seconds a rename may wait for its lock before its table''s transaction gives up (queries on the table wait at most this long behind it)'
            cand --write-baseline 'Record today''s violations in FILE'
            cand --baseline 'Report only violations not recorded in FILE'
            cand --connect-timeout 'Seconds to wait for the connection (default: the URL''s connect_timeout, else 10)'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand --include-partitions 'Also check constraints and indexes that partitions and child tables inherit'
            cand --alembic-metadata-convention 'Alembic migrations: env.py''s target_metadata has the naming convention being checked, so Alembic names unnamed constraints by it and applies %(constraint_name)s templates to plain names (default: a MetaData without a convention, names used as written)'
            cand --fix-sql 'Print a SQL script that renames every violation, instead of the report: one short transaction per table, safe to run again after a partial run'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dbtool;check-migrations'= {
            cand --version-table 'Alembic''s version table, NAME or SCHEMA.NAME as env.py''s version_table and version_table_schema (case-sensitive) [default: alembic_version on the search path]'
            cand --connect-timeout 'Seconds to wait for the connection (default: the URL''s connect_timeout, else 10)'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dbtool;ping'= {
            cand --connect-timeout 'Seconds each stage may take (default: the URL''s connect_timeout, else PGCONNECT_TIMEOUT, else 10)'
            cand --count 'Send N pre-pings on one connection and show round-trip statistics'
            cand --interval 'Seconds between pre-pings with --count'
            cand --timeout 'Seconds --wait may take'
            cand --workers 'Processes that run the application, each with its own pool (capacity check)'
            cand --libpq-version 'Connect as this libpq major version does (sslrootcert=system, the home directory differ)'
            cand --pool-size 'Connections kept open (DB_POOL_SIZE)'
            cand --max-overflow 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)'
            cand --pool-timeout 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)'
            cand --pool-recycle 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)'
            cand --statement-timeout 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand --wait 'Retry until the server accepts connections or --timeout passes'
            cand --pre-ping 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)'
            cand --no-pre-ping 'Do not test connections before checkout'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dbtool;pool-bench'= {
            cand --pool-size 'Connections kept open (DB_POOL_SIZE)'
            cand --max-overflow 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)'
            cand --pool-timeout 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)'
            cand --pool-recycle 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)'
            cand --statement-timeout 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)'
            cand --driver 'Send what SQLAlchemy with this driver sends [default: the URL''s driver; raw: dbtool''s minimal path, for comparisons with pgbench]'
            cand --statement-cache-size 'asyncpg: SQLAlchemy''s prepared_statement_cache_size, as connect_args would pass it [default: the URL''s, else 100; 0: prepare every statement anew]'
            cand --prepare-threshold 'psycopg: prepare_threshold, as connect_args would pass it (a number, or none for never) [default: 5]'
            cand --clients 'Concurrent simulated requests [default: pool_size + max_overflow + 5]; with --rate, the most requests in flight at once, a bound on memory the report names when hit [default: 10000]'
            cand --query 'The statement each request runs'
            cand --sleep-ms 'Each request runs pg_sleep for this long (a slow query)'
            cand --script 'Each request runs this file''s statements in one transaction'
            cand --think-ms 'Milliseconds a request waits after returning its connection'
            cand --duration 'Seconds to run [default: 10]'
            cand --warmup 'Run the load this long before measuring: what the warm-up recorded (connections opening, the first statements prepared) is left out of the report [default: 0]'
            cand --transactions 'Stop after this many transactions'
            cand --rate 'Open loop: start this many requests per second, each on time whatever the others are doing (it waits in the pool), latency measured from the schedule'
            cand --workers 'Processes that run the application (uvicorn/gunicorn workers), each with its own pool and its own event loop; the clients and arrivals are spread over them'
            cand --app-cpu-us 'The application''s time on its event loop per round trip (SQLAlchemy and the driver), in microseconds [default: the driver''s, recorded from the real libraries]'
            cand --app-connect-ms 'The application''s time on its event loop to open (and later close) a connection, in milliseconds [default: the driver''s, recorded from the real libraries]'
            cand --calibrate 'Measure the application''s time per round trip first, with this Python''s SQLAlchemy and driver (the application''s virtualenv) at this run''s load, and use it'
            cand --handler-ms 'The handler''s own work per request on its event loop, while it holds the connection'
            cand --app-cpus 'Cores the application''s workers share [default: one per worker]'
            cand --jobs 'Threads that run the clients of --driver raw, as pgbench''s -j [default: the CPUs, at most the clients]; the application''s drivers run one thread per worker'
            cand --sweep 'Run once per value and print one row each: KEY is pool_size, max_overflow or clients'
            cand --plot 'Draw throughput and p99 latency (over time, or against the swept value) into an SVG file'
            cand --connect-timeout 'Seconds to wait for each new connection (default: the URL''s connect_timeout, else 10)'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand --pre-ping 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)'
            cand --no-pre-ping 'Do not test connections before checkout'
            cand --use-lifo 'Hand out idle connections last-in first-out (SQLAlchemy''s pool_use_lifo)'
            cand --commit 'Each request commits (the handler calls session.commit()) instead of closing (ROLLBACK)'
            cand --verify 'Run the same load again with the advice''s recommended pool_size and max_overflow, and report both runs side by side'
            cand --force 'Run even when the pool could exceed the connections the server has free'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dbtool;settings'= {
            cand --pool-size 'Connections kept open (DB_POOL_SIZE)'
            cand --max-overflow 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)'
            cand --pool-timeout 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)'
            cand --pool-recycle 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)'
            cand --statement-timeout 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand --pre-ping 'Test each connection with SELECT 1 before checkout (DB_POOL_PRE_PING)'
            cand --no-pre-ping 'Do not test connections before checkout'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dbtool;completions'= {
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --color 'When to use colours (NO_COLOR is honoured with auto)'
            cand --env-file 'Read settings from this file instead of ./.env'
            cand -q 'Print only results and errors'
            cand --quiet 'Print only results and errors'
            cand -v 'Say more about what dbtool does (repeat for more)'
            cand --verbose 'Say more about what dbtool does (repeat for more)'
            cand --echo 'Print each SQL statement dbtool sends to stderr (the DB_ECHO setting)'
            cand --no-dotenv 'Do not read any .env file'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'dbtool;help'= {
            cand check-url 'Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it'
            cand lint-constraints 'Check constraint and index names against the SQLAlchemy naming convention'
            cand check-migrations 'Say where the database stands against the Alembic migrations: current revisions, heads, the revisions an upgrade would run (read-only; never runs the migrations)'
            cand ping 'Connect step by step and say where and why a connection fails (pg_isready, with reasons)'
            cand pool-bench 'Run the application''s pool (QueuePool semantics) under synthetic load and show its statistics'
            cand settings 'Show the effective settings and where each came from'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'dbtool;help;check-url'= {
        }
        &'dbtool;help;lint-constraints'= {
        }
        &'dbtool;help;check-migrations'= {
        }
        &'dbtool;help;ping'= {
        }
        &'dbtool;help;pool-bench'= {
        }
        &'dbtool;help;settings'= {
        }
        &'dbtool;help;completions'= {
        }
        &'dbtool;help;help'= {
        }
    ]
    $completions[$command]
}
