"""Records how the application's stack reads generated connection URLs: SQLAlchemy's make_url,
the dialect's create_connect_args, then what the driver does with those arguments — psycopg's
make_conninfo and psycopg2's make_dsn (the conninfo libpq receives), asyncpg's own argument
resolution (asyncpg.connect itself, its own checks and its timeout included, with the connecting
step replaced by connect_utils._parse_connect_arguments) — with a
fixed environment (no PG* variables, USER=dbtooluser, HOME without a password file); then
asyncpg's resolution again for URLs under generated PG* environments (PGHOST with ports, PGPORT
lists, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE, PGTARGETSESSIONATTRS, PGSSLNEGOTIATION, the
TLS protocol versions, and a password file through PGPASSFILE or `?passfile=`), recording the
password asyncpg would send.

Writes tests/fixtures/sqlalchemy_urls.json, which tests/it/url_oracle.rs compares with dbtool.

    python3 -m venv /tmp/dbtool-url-venv
    /tmp/dbtool-url-venv/bin/pip install -r scripts/url-fixture-requirements.txt
    /tmp/dbtool-url-venv/bin/python scripts/gen_url_fixture.py
"""

import asyncio
import inspect
import json
import os
import random
import re
import sys
from importlib.metadata import version

ENVIRONMENT = {"USER": "dbtooluser", "HOME": "/nonexistent-dbtool-home", "PATH": os.environ.get("PATH", "")}
for key in list(os.environ):
    del os.environ[key]
os.environ.update(ENVIRONMENT)

import asyncpg  # noqa: E402
import asyncpg.connect_utils  # noqa: E402
import pg8000  # noqa: E402
import psycopg  # noqa: E402
import psycopg.conninfo  # noqa: E402
import psycopg2.extensions  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

SEED = 20261129
COUNT = 3000

SCHEMES = ["postgresql", "postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg2", "postgresql+pg8000"]
USERS = ["", "u", "app_user", "u%40corp", "us%zzer", "u:", "u%3Ax"]
PASSWORDS = [None, "", "p", "s3cret", "p%zz", "p@ss", "p%40ss", "pa/ss", "p?x", "p:x", "p%2F", "p#x"]
HOSTS = ["", "h", "db.example.com", "127.0.0.1", "[::1]", "[fe80::1%25eth0]", "%2Ftmp", "h1,h2", "localhost", "h_1"]
PORTS = [None, "", "5432", "6432", "abc", "0", "65536", "+5433", "5_432", "5432,h2:5433"]
DATABASES = [None, "", "db", "d%20b", "d%zz", "app/x", "db?"]
QUERY = [
    "host=h2", "host=h2:5433", "host=/tmp", "host=h2,h3", "port=5433", "port=5433,5434", "port=x",
    "sslmode=require", "sslmode=verify-full", "sslmode=bogus", "ssl=require", "ssl=true",
    "application_name=%zz", "application_name=my%20app", "options=-c%20statement_timeout%3D5000",
    "prepared_statement_cache_size=0", "prepared_statement_cache_size=x", "prepare_threshold=None",
    "connect_timeout=10", "target_session_attrs=read-write", "target_session_attrs=primary",
    "foo=bar", "sslmode=disable", "empty=", "user=other", "dbname=other", "database=other",
    "server_settings=x", "command_timeout=5", "passfile=/tmp/pgpass",
    "ssl=verify-full", "ssl=disable", "ssl=allow", "ssl=verify-ca", "target_session_attrs=bogus",
    "command_timeout=abc", "command_timeout=0", "statement_cache_size=5", "timeout=10", "gsslib=x",
]


def generate(rng: random.Random) -> str:
    scheme = rng.choice(SCHEMES)
    userinfo = ""
    if rng.random() < 0.7:
        userinfo = rng.choice(USERS)
        password = rng.choice(PASSWORDS)
        if password is not None:
            userinfo += ":" + password
        userinfo += "@"
    host = rng.choice(HOSTS)
    port = rng.choice(PORTS) if rng.random() < 0.3 else rng.choice([None, None, "5432", "6432"])
    netloc = userinfo + host + ("" if port is None else ":" + port)
    database = rng.choice(DATABASES)
    url = f"{scheme}://{netloc}" + ("" if database is None else "/" + database)
    if rng.random() < 0.6:
        url += "?" + "&".join(rng.choice(QUERY) for _ in range(rng.randint(1, 3)))
    return url


def plain(value):
    """A Python value as JSON: tuples and lists alike, other objects by their class name."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return f"<{type(value).__module__}.{type(value).__name__}>"


def error(exc: BaseException) -> dict:
    message = f"{type(exc).__name__}: {exc}".splitlines()[0]
    # asyncpg's target_session_attrs message shows a bound method, with its memory address.
    return {"error": re.sub(r" at 0x[0-9a-f]+", " at 0x...", message)}


ENGINES = {}


def dialect_for(drivername: str):
    if drivername not in ENGINES:
        url = f"{drivername}://u@h/db"
        if drivername.endswith(("asyncpg", "psycopg")):
            ENGINES[drivername] = create_async_engine(url).sync_engine.dialect
        else:
            ENGINES[drivername] = create_engine(url).dialect
    return ENGINES[drivername]


ASYNCPG_CONNECT = inspect.signature(asyncpg.connect)
PARSE_PARAMETERS = set(inspect.signature(asyncpg.connect_utils._parse_connect_arguments).parameters)


async def _resolve_only(*, loop, connection_class, record_class, **kwargs):
    """Stands in for connect_utils._connect: asyncpg.connect's own checks (connection_class,
    record_class, its timeout) have run; resolve the arguments and connect nowhere."""
    return asyncpg.connect_utils._parse_connect_arguments(
        **{k: v for k, v in kwargs.items() if k in PARSE_PARAMETERS}
    )


asyncpg.connect_utils._connect = _resolve_only


def asyncpg_reading(kwargs: dict, password_value: bool = False) -> dict:
    kwargs = dict(kwargs)
    # SQLAlchemy's AsyncAdapt_asyncpg_dbapi.connect calls async_creator_fn instead of
    # asyncpg.connect when it is given; from a URL it is a string.
    if kwargs.get("async_creator_fn") is not None:
        try:
            kwargs["async_creator_fn"]()
        except Exception as exc:  # noqa: BLE001 - the refusal is the record
            return error(exc)
    # SQLAlchemy's AsyncAdapt_asyncpg_dbapi.connect keeps these for itself.
    for key in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"):
        kwargs.pop(key, None)
    try:
        ASYNCPG_CONNECT.bind(**kwargs)
    except TypeError as exc:
        return error(exc)
    try:
        addrs, params, _config = asyncio.run(asyncpg.connect(**kwargs))
    except Exception as exc:  # noqa: BLE001 - the refusal is the record
        return error(exc)
    return {
        "addrs": [list(a) if isinstance(a, tuple) else a for a in addrs],
        "user": params.user,
        "database": params.database,
        "password": params.password if password_value else params.password is not None,
        "sslmode": params.sslmode.name.replace("_", "-") if params.sslmode is not None else None,
        "target_session_attrs": params.target_session_attrs.value if params.target_session_attrs else None,
    }


PSYCOPG_NAMED = {"autocommit", "prepare_threshold", "context", "row_factory", "cursor_factory"}


def libpq_conninfo(driver: str, kwargs: dict) -> dict:
    try:
        if driver == "psycopg":
            rest = {k: v for k, v in kwargs.items() if k not in PSYCOPG_NAMED}
            return {"conninfo": psycopg.conninfo.make_conninfo("", **rest)}
        rest = {k: v for k, v in kwargs.items() if k not in ("connection_factory", "cursor_factory", "async", "async_")}
        return {"conninfo": psycopg2.extensions.make_dsn(**rest)}
    except Exception as exc:  # noqa: BLE001
        return error(exc)


def record(url: str) -> dict:
    entry = {"url": url}
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001
        entry["make_url"] = error(exc)
        return entry
    entry["make_url"] = {
        "drivername": parsed.drivername,
        "username": parsed.username,
        "password": parsed.password,
        "host": parsed.host,
        "port": parsed.port,
        "database": parsed.database,
        "query": plain(dict(parsed.query)),
    }
    try:
        dialect = dialect_for(parsed.drivername)
        args, kwargs = dialect.create_connect_args(parsed)
    except Exception as exc:  # noqa: BLE001
        entry["connect_args"] = error(exc)
        return entry
    entry["connect_args"] = {"args": plain(list(args)), "kwargs": plain(kwargs)}
    driver = dialect.driver
    if driver == "asyncpg":
        entry["asyncpg"] = asyncpg_reading(kwargs)
    elif driver in ("psycopg", "psycopg2"):
        entry["libpq_conninfo"] = libpq_conninfo(driver, kwargs)
    return entry


PASSFILE = "/tmp/dbtool-url-oracle.pgpass"
PASSFILE_TEXTS = [
    "# host:port:database:user:password\n"
    "localhost:5432:*:dbtooluser:pf-local-default\n"
    "  localhost:5433:*:*:pf-local-5433  \n"
    "h1:5433:*:*:pf-h1-5433\n"
    "h1:*:envdb:*:pf-h1-envdb\n"
    "*:5435:db:*:pf\\:colon\\\\x\n"
    "h2:*:*:u:pf-h2-u\n",
    "h2:7:*:*:pf-h2-7\n"
    "short:line\n"
    "*:*:*:*:pf-any\n",
]
ENV_URLS = [
    "postgresql+asyncpg:///",
    "postgresql+asyncpg://u@/db",
    "postgresql+asyncpg://u:from-url@h/db",
    "postgresql+asyncpg://h:5435/db",
    "postgresql+asyncpg:///db?host=/tmp",
    "postgresql+asyncpg://u@/db?ssl=require",
    "postgresql+asyncpg://u@/?port=5440",
    "postgresql+asyncpg://u@/db?host=h1:1&host=h2:2",
    "postgresql+asyncpg://u@h1/db",
    f"postgresql+asyncpg://u@/db?passfile={PASSFILE}",
    "postgresql+asyncpg://u@h2/db?target_session_attrs=primary",
    "postgresql+asyncpg://u@h/db?direct_tls=1",
    "postgresql+asyncpg://u@h/db?direct_tls=1&ssl=require",
    "postgresql+asyncpg://u@h/db?direct_tls=",
    "postgresql+asyncpg://u@h/db?command_timeout=nan",
    "postgresql+asyncpg://u@h/db?timeout=5",
    "postgresql+asyncpg://u@h/db?connection_class=x",
    "postgresql+asyncpg://u@h/db?record_class=x&record_class=y",
    "postgresql+asyncpg://u@h/db?async_creator_fn=x",
]
ENV_CHOICES = {
    "PGHOST": [None] * 8 + ["h1", "h1:5433", "h1,h2", "h1:5433,h2", "/tmp", "/tmp,h2:7", "[::1]:5433", "[::1]",
                           "h1,,h2", "[bad", "h:x", "localhost"],
    "PGPORT": [None] * 10 + ["5433", "5433,5434", "x", "", "0", "5435"],
    "PGUSER": [None, None, "envuser", ""],
    "PGDATABASE": [None, None, "envdb", ""],
    "PGPASSWORD": [None, None, None, "from-env", ""],
    "PGSSLMODE": [None] * 12 + ["require", "disable", "verify-full", "bogus", "allow", "verify_ca"],
    "PGTARGETSESSIONATTRS": [None] * 8 + ["read-write", "bogus"],
    "PGPASSFILE": [None, PASSFILE, PASSFILE],
    "PGSSLNEGOTIATION": [None] * 12 + ["direct", "postgres", "bogus"],
    "PGSSLMINPROTOCOLVERSION": [None] * 12 + ["TLSv1.3", "SSLv3", "bogus", "TLSv1_2"],
    "PGSSLMAXPROTOCOLVERSION": [None] * 14 + ["TLSv1.3", "bogus"],
}
ENV_COUNT = 1500


def environment_entries(rng: random.Random) -> list:
    entries = []
    for _ in range(ENV_COUNT):
        env = {name: value for name, choices in ENV_CHOICES.items() if (value := rng.choice(choices)) is not None}
        passfile_text = rng.choice(PASSFILE_TEXTS[:1] * 4 + PASSFILE_TEXTS[1:])
        url = rng.choice(ENV_URLS)
        with open(PASSFILE, "w") as out:
            out.write(passfile_text)
        os.chmod(PASSFILE, 0o600)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            _args, kwargs = dialect_for("postgresql+asyncpg").create_connect_args(make_url(url))
            reading = asyncpg_reading(kwargs, password_value=True)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        entries.append({"url": url, "environment": env, "passfile_text": passfile_text, "asyncpg": reading})
    os.remove(PASSFILE)
    return entries


def main() -> None:
    rng = random.Random(SEED)
    urls = []
    seen = set()
    while len(urls) < COUNT:
        url = generate(rng)
        if url not in seen:
            seen.add(url)
            urls.append(url)
    entries = [record(url) for url in urls]
    environment_cases = environment_entries(rng)
    fixture = {
        "generated_by": "scripts/gen_url_fixture.py",
        "versions": {name: version(name) for name in ("sqlalchemy", "asyncpg", "psycopg", "psycopg2-binary", "pg8000")},
        "python": sys.version.split()[0],
        "environment": ENVIRONMENT | {"PATH": "(the caller's)"},
        "seed": SEED,
        "signatures": {
            "asyncpg.connect": list(ASYNCPG_CONNECT.parameters),
            "pg8000.connect": list(inspect.signature(pg8000.connect).parameters),
        },
        "entries": entries,
        "passfile": PASSFILE,
        "environment_entries": environment_cases,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "sqlalchemy_urls.json")
    with open(path, "w") as out:
        json.dump(fixture, out, indent=1, ensure_ascii=False)
        out.write("\n")
    ok = sum(1 for e in entries if "connect_args" in e and "error" not in e["connect_args"])
    print(
        f"{len(entries)} URLs, {ok} with connect arguments, {len(environment_cases)} asyncpg environments,"
        f" written to {os.path.normpath(path)}"
    )


if __name__ == "__main__":
    main()
