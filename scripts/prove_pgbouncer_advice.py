"""Runs the reference application's database code (SQLAlchemy engine, QueuePool, pre-ping, one
session per request, concurrent requests) through PgBouncer, once as configured by default and
once as `dbtool ping` advises, for each driver, and prints what each run met.

Run through scripts/prove-pgbouncer-advice.sh, which starts the cluster and PgBouncer and sets
BOUNCER_URL; the environment is scripts/driver-fixture-requirements.txt.
"""

import asyncio
import os
import re
import sys
import threading
from collections import Counter
from uuid import uuid4

import sqlalchemy
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

BOUNCER = os.environ["BOUNCER_URL"].split("://", 1)[1]
REQUESTS, CONCURRENCY = 400, 8
POOL = dict(pool_size=5, max_overflow=10, pool_timeout=30, pool_recycle=3600, pool_pre_ping=True)
# What a request does: a few statements of the kinds an API endpoint runs.
STATEMENTS = [
    text("SELECT count(*) FROM pg_class WHERE relkind = :kind").bindparams(kind="r"),
    text("SELECT relname FROM pg_class ORDER BY oid LIMIT :n").bindparams(n=3),
    text("SELECT now()"),
]
SHOW_TIMEOUT = text("SHOW statement_timeout")


def error_name(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    # One line per kind of error, not per statement name.
    detail = re.sub(r'"(__asyncpg_stmt_|_pg3_)[0-9a-f]+(__)?"', r'"\1...\2"', detail)
    detail = re.sub(r"port \d+", "port ...", detail)
    return f"{type(orig).__name__}: {detail}"[:160]


async def run_async(url: str, connect_args: dict) -> Counter:
    engine = create_async_engine(url, connect_args=connect_args, **POOL)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    outcomes: Counter = Counter()
    queue = list(range(REQUESTS))

    async def worker():
        while queue:
            queue.pop()
            try:
                async with session_factory() as session:
                    for statement in STATEMENTS:
                        await session.execute(statement)
                    timeout = (await session.execute(SHOW_TIMEOUT)).scalar()
                    await session.commit()
                outcomes[f"ok (statement_timeout {timeout})"] += 1
            except Exception as error:  # noqa: BLE001 - counted, that is the point
                outcomes[error_name(error)] += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    await engine.dispose()
    return outcomes


def run_sync(url: str, connect_args: dict) -> Counter:
    engine = create_engine(url, connect_args=connect_args, **POOL)
    session_factory = sessionmaker(engine, expire_on_commit=False)
    outcomes: Counter = Counter()
    lock = threading.Lock()
    remaining = [REQUESTS]

    def worker():
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            try:
                with session_factory() as session:
                    for statement in STATEMENTS:
                        session.execute(statement)
                    timeout = session.execute(SHOW_TIMEOUT).scalar()
                    session.commit()
                outcome = f"ok (statement_timeout {timeout})"
            except Exception as error:  # noqa: BLE001
                outcome = error_name(error)
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    return outcomes


TIMEOUT = {"asyncpg": {"server_settings": {"statement_timeout": "30000"}},
           "psycopg": {"options": "-c statement_timeout=30000"},
           "psycopg2": {"options": "-c statement_timeout=30000"}}

CASES = [
    # (label, driver, URL query, connect_args, async?)
    ("asyncpg, defaults, DB_STATEMENT_TIMEOUT=30 as server_settings", "asyncpg", "", TIMEOUT["asyncpg"], True),
    ("asyncpg, defaults, no statement timeout", "asyncpg", "", {}, True),
    ("asyncpg, as dbtool advises", "asyncpg", "?prepared_statement_cache_size=0",
     {"statement_cache_size": 0, "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__"}, True),
    ("psycopg (async), defaults, no statement timeout", "psycopg", "", {}, True),
    ("psycopg (async), as dbtool advises", "psycopg", "", {"prepare_threshold": None}, True),
    ("psycopg2, defaults, DB_STATEMENT_TIMEOUT=30 in options", "psycopg2", "", TIMEOUT["psycopg2"], False),
    ("psycopg2, defaults, no statement timeout", "psycopg2", "", {}, False),
]


def main() -> int:
    import asyncpg, psycopg, psycopg2  # noqa: E401 - versions for the record

    # The advice for DB_STATEMENT_TIMEOUT behind a pooler that refuses it as a startup parameter:
    # set it on the role, where every server connection PgBouncer opens picks it up.
    with create_engine(os.environ["BENCH_URL"].replace("postgresql://", "postgresql+psycopg2://"),
                       isolation_level="AUTOCOMMIT").connect() as direct:
        direct.execute(text("ALTER ROLE postgres SET statement_timeout = '30s'"))

    print(f"SQLAlchemy {sqlalchemy.__version__}, asyncpg {asyncpg.__version__}, "
          f"psycopg {psycopg.__version__}, psycopg2 {psycopg2.__version__.split()[0]}; "
          f"{os.environ.get('BOUNCER_VERSION', 'PgBouncer')} pool_mode={os.environ.get('BOUNCER_MODE', 'transaction')} "
          f"default_pool_size={os.environ.get('BOUNCER_POOL_SIZE', '2')}; {REQUESTS} requests, {CONCURRENCY} concurrent, "
          f"QueuePool pool_size=5 max_overflow=10 pre_ping")
    failed_advice = False
    for label, driver, query, connect_args, is_async in CASES:
        url = f"postgresql+{driver}://{BOUNCER}{query}"
        outcomes = asyncio.run(run_async(url, connect_args)) if is_async else run_sync(url, connect_args)
        print(f"\n{label}\n  {url.replace(BOUNCER, '<pgbouncer>/postgres')}  connect_args keys: {sorted(connect_args)}")
        for outcome, count in outcomes.most_common():
            print(f"  {count:5d}  {outcome}")
        if "advises" in label and not all(o.startswith("ok") for o in outcomes):
            failed_advice = True
    print("\nadvice runs clean" if not failed_advice else "\nADVICE FAILED")
    return 1 if failed_advice else 0


if __name__ == "__main__":
    sys.exit(main())
