
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
            cand --format 'Output format; json prints exactly one JSON document on stdout'
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
            cand check-url 'Parse and explain a connection URL as SQLAlchemy, its driver and libpq read it'
            cand settings 'Show the effective settings and where each came from'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'dbtool;check-url'= {
            cand --libpq-version 'Read the URL as this libpq major version does (keywords and space handling differ)'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
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
        &'dbtool;settings'= {
            cand --pool-size 'Connections kept open (DB_POOL_SIZE)'
            cand --max-overflow 'Extra connections under load, -1 for no limit (DB_MAX_OVERFLOW)'
            cand --pool-timeout 'Seconds a checkout waits for a connection (DB_POOL_TIMEOUT)'
            cand --pool-recycle 'Replace connections older than this, -1 never (DB_POOL_RECYCLE)'
            cand --statement-timeout 'Seconds a statement may run before the server cancels it, 0 for no limit (DB_STATEMENT_TIMEOUT)'
            cand --url 'Connection URL [default: DATABASE_URL, then .env, then the application''s default]'
            cand --format 'Output format; json prints exactly one JSON document on stdout'
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
            cand --format 'Output format; json prints exactly one JSON document on stdout'
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
            cand settings 'Show the effective settings and where each came from'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'dbtool;help;check-url'= {
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
