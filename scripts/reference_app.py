#!/usr/bin/env python3
"""The reference application of database.md, run under load and measured.

This is the database code of the FastAPI + SQLAlchemy service that the
reference document database.md describes, and nothing more:

* one engine per process, built as the service builds it::

      engine = create_async_engine(url, pool_size=..., max_overflow=...,
                                   pool_timeout=..., pool_recycle=...,
                                   pool_pre_ping=..., connect_args=...)
      async_session = async_sessionmaker(engine, expire_on_commit=False)

  with the statement timeout passed the way the service's driver takes it
  (the same ``connect_args`` as scripts/gen_driver_fixture.py):
  asyncpg ``{"server_settings": {"statement_timeout": "<ms>"}}``, psycopg and
  psycopg2 ``{"options": "-c statement_timeout=<ms>"}``;
* one session per request, FastAPI's ``get_db`` dependency::

      async with async_session() as session:
          await session.execute(text(SQL))
          await session.commit()          # with --commit

Drivers: ``asyncpg`` and ``psycopg`` (psycopg 3, ``postgresql+psycopg://``)
through ``create_async_engine`` on one asyncio event loop per process;
``psycopg2`` through ``create_engine`` + ``sessionmaker`` with one thread per
client (the GIL plays the part the event loop plays for the async drivers).

It is the ground truth for ``dbtool pool-bench``: ``dbtool pool-bench
--calibrate`` runs it to learn what one request of the real stack costs, and
scripts/check-prediction.sh compares dbtool's predictions with what it
measures.  So every figure is taken the way a production service would see it:

* Closed loop (default): ``--clients`` simulated users, each looping request ->
  think (``asyncio.sleep``).  Their first requests are spread over one think
  time (client i starts after think * i / clients), as dbtool's are: started
  all at once, clients stay in step and every burst is all of them.
* Open loop (``--rate``): arrivals on a fixed schedule, each request a new
  task started on time whatever the others are doing (as a server starts a
  task per incoming request), at most ``--clients`` in flight; an arrival that
  finds them all taken starts late.  Latency counts from the *scheduled* start,
  so a stall (in the pool, on the loop) is not hidden (no coordinated
  omission).  ``start_lag_ms`` reports how late requests actually started
  (asyncio's timer wakes up to ~1 ms late, which is in the latency too).
* Latency is from a request's start to the end of its ``async with`` block:
  the session closed and its connection back in the pool, the moment the
  connection is free for another request.
* ``--handler-ms`` burns CPU on the loop (a busy loop on perf_counter) while the
  session still holds its connection: after the statement and before the
  commit (after ``session.commit()`` the session has already given its
  connection back), as a handler's own Python work would.
* ``--warmup`` seconds run first and are not counted (connections get opened,
  statement caches filled).  Then the measured window: ``time.perf_counter()``
  and ``time.process_time()`` are read together at its start and its end in
  each worker process, and a request counts if it *completed* inside it.
  Counting completions (not starts) over the window's own clock readings keeps
  requests, seconds and CPU seconds about the same interval.  After the window
  no new request starts; in-flight ones may finish (cancelled after a short
  grace), then the engine is disposed.
* ``cpu_s`` is the process CPU time (user + system, all threads) of the workers
  in the window.  ``loop_utilization`` = cpu_s / (window_s * workers): near 1.0
  the event loop (or, for psycopg2, the GIL) is saturated and the application,
  not the database or the pool, is the limit.
* ``--workers N`` runs N processes (the "fork" context; engines are created
  only after the fork), each with its own engine, pool and event loop, as
  ``uvicorn --workers N`` / gunicorn do.  Closed-loop client i runs in worker
  i % N; the open-loop rate is split evenly (worker w's arrivals offset by
  w/rate, so the combined schedule stays evenly spaced).  All workers share one
  start time and so one window; latencies are merged before the percentiles.
  With one worker everything runs in this process (no fork), so the process
  CPU time is exactly the one worker's.

Percentiles are nearest-rank over all latencies.  Successful requests only are
counted in ``requests``, ``tps`` and the latencies; errors (any exception) are
counted by exception class name in ``errors`` (``sqlstates`` has the server's
SQLSTATE where there is one) and never stop the run.

Besides the essentials (python, versions, driver, workers, requests, errors,
window_s, tps, latency_ms, cpu_s, loop_utilization, per_worker) the object has
``cpu_ms_per_request``, ``sqlstates``, ``errors_outside_window`` (warmup and
drain), ``connections_opened`` in the window (the pool's "connect" event: with
max_overflow, QueuePool closes a returned connection when pool_size are idle
already, and the next burst opens a new one), ``settings`` (URL masked) and,
with --rate, ``open_loop`` (arrivals held back by the --clients bound, start
lag).

Output: exactly one JSON object on stdout; logs go to stderr.  Exit status 0;
2 for bad arguments; 3 with ``{"missing": ..., "install": ...}`` when SQLAlchemy,
greenlet or the driver cannot be imported; 4 with ``{"error": ...}`` when the
database cannot be reached at the start.  The password is never printed.

Example::

    python3 scripts/reference_app.py --url "$DATABASE_URL" --driver asyncpg \\
        --pool-size 5 --max-overflow 10 --pool-timeout 30 --pool-recycle -1 \\
        --pre-ping --statement-timeout 30 --clients 10 --think-ms 0 \\
        --query "SELECT 1" --duration 6

Environment: scripts/driver-fixture-requirements.txt (SQLAlchemy 2.1.9,
asyncpg 0.32.0, psycopg 3.3.9, psycopg2-binary); Python 3.8+.
"""

import argparse
import asyncio
import json
import math
import os
import platform
import re
import sys
import threading
import time
from collections import Counter

# How long requests still in flight at the window's end may take to finish before they are
# cancelled (async) or abandoned (psycopg2 threads). Nothing after the window is measured.
GRACE_S = 3.0
# Head start the parent gives forked workers between "go" and the common start time.
START_DELAY_S = 0.1

SCHEMES = {"asyncpg": "postgresql+asyncpg", "psycopg": "postgresql+psycopg", "psycopg2": "postgresql+psycopg2"}
INSTALL = {
    "asyncpg": "pip install 'sqlalchemy[asyncio]' asyncpg",
    "psycopg": "pip install 'sqlalchemy[asyncio]' 'psycopg[binary]'",
    "psycopg2": "pip install sqlalchemy psycopg2-binary",
}

# Filled by import_libraries(); module-level so the worker functions read like application code.
sa = None  # the sqlalchemy package
text = None


def log(msg):
    print("reference_app: " + msg, file=sys.stderr, flush=True)


def emit(obj, code=0):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    return code


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="The reference application of database.md (FastAPI + SQLAlchemy) under load: "
        "one JSON object with its throughput, latency and CPU time on stdout.",
    )
    p.add_argument("--url", default=os.environ.get("DATABASE_URL"),
                   help="database URL, plain postgresql:// or with a +driver (replaced by --driver) "
                   "[default: $DATABASE_URL]")
    p.add_argument("--driver", choices=sorted(SCHEMES),
                   help="[default: the URL's driver if it is one of these, else asyncpg]")
    # Defaults: the reference application's settings (database.md, "Pool Settings").
    p.add_argument("--pool-size", type=int, default=5, metavar="N")
    p.add_argument("--max-overflow", type=int, default=10, metavar="N", help="-1: unlimited")
    p.add_argument("--pool-timeout", type=float, default=30.0, metavar="SECONDS")
    p.add_argument("--pool-recycle", type=float, default=3600.0, metavar="SECONDS", help="-1: never")
    p.add_argument("--pre-ping", dest="pre_ping", action="store_true", default=True,
                   help="pool_pre_ping=True (default)")
    p.add_argument("--no-pre-ping", dest="pre_ping", action="store_false")
    p.add_argument("--statement-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="statement_timeout passed at connect; 0: none")
    p.add_argument("--clients", type=int, metavar="N",
                   help="closed loop: simulated users [default: pool_size + max_overflow + 5]; "
                   "with --rate: the most requests in flight [default: 10000]")
    p.add_argument("--think-ms", type=float, default=0.0, metavar="MS",
                   help="closed loop: pause after each request")
    p.add_argument("--rate", type=float, metavar="PER_SECOND",
                   help="open loop: start requests on a fixed schedule at this rate")
    work = p.add_mutually_exclusive_group()
    work.add_argument("--query", metavar="SQL", help="the statement each request runs [default: SELECT 1]")
    work.add_argument("--sleep-ms", type=float, metavar="MS", help="each request runs SELECT pg_sleep(MS/1000)")
    p.add_argument("--commit", action="store_true", help="each request commits its session")
    p.add_argument("--measure-connect", type=int, default=0, metavar="N",
                   help="first open and close N connections one after another (NullPool) and report "
                        "their process CPU time each as connect_cpu_ms (dbtool's calibration)")
    p.add_argument("--duration", type=float, default=6.0, metavar="SECONDS", help="measured window")
    p.add_argument("--warmup", type=float, default=1.0, metavar="SECONDS", help="run, not measured")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="processes, each with its own engine and event loop")
    p.add_argument("--handler-ms", type=float, default=0.0, metavar="MS",
                   help="CPU each request burns on the loop while holding its connection")
    args = p.parse_args(argv)

    if not args.url:
        p.error("--url is required (or set DATABASE_URL)")
    checks = [
        (args.pool_size >= 0, "--pool-size must be >= 0"),
        (args.max_overflow >= -1, "--max-overflow must be >= -1"),
        (args.pool_timeout >= 0, "--pool-timeout must be >= 0"),
        (args.pool_recycle >= 0 or args.pool_recycle == -1, "--pool-recycle must be >= 0 or -1"),
        (args.statement_timeout >= 0, "--statement-timeout must be >= 0"),
        (args.clients is None or args.clients >= 1, "--clients must be >= 1"),
        (args.think_ms >= 0, "--think-ms must be >= 0"),
        (args.rate is None or (args.rate > 0 and math.isfinite(args.rate)), "--rate must be > 0"),
        (args.sleep_ms is None or args.sleep_ms >= 0, "--sleep-ms must be >= 0"),
        (args.duration > 0, "--duration must be > 0"),
        (args.warmup >= 0, "--warmup must be >= 0"),
        (args.workers >= 1, "--workers must be >= 1"),
        (args.handler_ms >= 0, "--handler-ms must be >= 0"),
    ]
    for ok, message in checks:
        if not ok:
            p.error(message)
    if args.clients is None:
        args.clients = 10000 if args.rate else args.pool_size + max(args.max_overflow, 0) + 5
    if args.sleep_ms is not None:
        args.sql = "SELECT pg_sleep({:.6g})".format(args.sleep_ms / 1000.0)
    else:
        args.sql = args.query if args.query is not None else "SELECT 1"
    return args


# --------------------------------------------------------------------------------------------
# libraries, URL, engine
# --------------------------------------------------------------------------------------------


def libpq_version(number):
    """libpq's integer version (180006) as a string like the others ("18.6")."""
    if number >= 100000:
        return "{}.{}".format(number // 10000, number % 10000)
    return "{}.{}.{}".format(number // 10000, number // 100 % 100, number % 100)


def import_libraries(driver):
    """Imports SQLAlchemy, greenlet (async drivers) and the driver; returns their versions, or
    None after printing the missing-package message."""
    global sa, text
    versions = {}
    needed = ["sqlalchemy"] + (["greenlet"] if driver != "psycopg2" else []) + [driver]
    for name in needed:
        try:
            module = __import__(name)
            if name == "psycopg":
                import psycopg.pq  # noqa: F401  (ImportError when no libpq wrapper is available)
        except ImportError as exc:
            log("cannot import {}: {}".format(name, exc))
            emit({"missing": name, "install": INSTALL[driver]})
            return None
        if name == "psycopg":
            versions["psycopg"] = module.__version__
            versions["psycopg_impl"] = module.pq.__impl__
            versions["libpq"] = libpq_version(module.pq.version())
        elif name == "psycopg2":
            import psycopg2.extensions
            versions["psycopg2"] = module.__version__.split()[0]
            versions["libpq"] = libpq_version(psycopg2.extensions.libpq_version())
        else:
            versions[name] = getattr(module, "__version__", "?")
    try:
        import sqlalchemy.orm  # noqa: F401
        if driver != "psycopg2":
            import sqlalchemy.ext.asyncio  # noqa: F401  (SQLAlchemy 1.4+)
    except ImportError as exc:
        log("cannot import sqlalchemy.orm / sqlalchemy.ext.asyncio: {}".format(exc))
        emit({"missing": "sqlalchemy", "install": INSTALL[driver]})
        return None
    sa = sys.modules["sqlalchemy"]
    text = sa.text
    return versions


class Secrets:
    """Everything that could show the password, to be replaced by *** in any message."""

    def __init__(self, raw_url, url):
        self.needles = [raw_url] if raw_url else []
        password = getattr(url, "password", None) if url is not None else None
        if password:
            from urllib.parse import quote, quote_plus
            self.needles += [quote(password, safe=""), quote_plus(password), password]

    def mask(self, message):
        for needle in self.needles:
            if needle:
                message = message.replace(needle, "***")
        return message


def one_line(exc, secrets):
    """An exception as one line: class and message, SQLAlchemy's background link dropped."""
    message = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", str(exc))
    message = " ".join(message.split())
    return secrets.mask("{}: {}".format(type(exc).__name__, message) if message else type(exc).__name__)


def connect_args(driver, statement_timeout_s):
    """The statement timeout as the application passes it (as scripts/gen_driver_fixture.py)."""
    if statement_timeout_s <= 0:
        return {}
    ms = str(max(1, int(round(statement_timeout_s * 1000))))
    if driver == "asyncpg":
        return {"server_settings": {"statement_timeout": ms}}
    return {"options": "-c statement_timeout={}".format(ms)}


def number(x):
    return int(x) if float(x).is_integer() else x


def engine_options(cfg):
    return dict(
        pool_size=cfg.pool_size,
        max_overflow=cfg.max_overflow,
        pool_timeout=number(cfg.pool_timeout),
        pool_recycle=number(cfg.pool_recycle),
        pool_pre_ping=cfg.pre_ping,
        connect_args=connect_args(cfg.driver, cfg.statement_timeout),
    )


# --------------------------------------------------------------------------------------------
# what a worker records
# --------------------------------------------------------------------------------------------


def burn(seconds):
    """The handler's own Python work: CPU on the loop (or the GIL), nothing else runs meanwhile."""
    if seconds > 0:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass


def sqlstate_of(exc):
    orig = getattr(exc, "orig", None) or exc
    for attr in ("sqlstate", "pgcode"):
        value = getattr(orig, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


class Recorder:
    """Raw events with their perf_counter() times; cut to the window at the end. Appends only
    (atomic under the GIL), so psycopg2's client threads share one."""

    def __init__(self, secrets, tag):
        self.done = []  # (end, latency) of successful requests
        self.failed = []  # (end, exception class name, sqlstate or None)
        self.connects = []  # time of each new DBAPI connection (pool "connect" event)
        self.lags = []  # open loop: (actual start, start - scheduled)
        self.held_back = []  # open loop: scheduled times of arrivals that found no free slot
        self.secrets = secrets
        self.tag = tag
        self.logged = set()

    def success(self, start, end):
        self.done.append((end, end - start))

    def failure(self, exc, end):
        name = type(exc).__name__
        self.failed.append((end, name, sqlstate_of(exc)))
        orig = getattr(exc, "orig", None)
        key = (name, type(orig).__name__ if orig is not None else None)
        if key not in self.logged:
            self.logged.add(key)
            log("{}first {}: {}".format(self.tag, name, one_line(exc, self.secrets)[:500]))

    def result(self, window):
        ws, we, cs, ce = window
        inside = lambda t: ws <= t < we  # noqa: E731
        errors, outside, sqlstates = Counter(), Counter(), Counter()
        for end, name, state in self.failed:
            if inside(end):
                errors[name] += 1
                if state:
                    sqlstates[state] += 1
            else:
                outside[name] += 1
        return {
            "latencies": [lat for end, lat in self.done if inside(end)],
            "errors": dict(errors),
            "errors_outside_window": dict(outside),
            "sqlstates": dict(sqlstates),
            "window_s": we - ws,
            "cpu_s": ce - cs,
            "connections_opened": sum(1 for t in self.connects if inside(t)),
            "held_back": sum(1 for t in self.held_back if inside(t)),
            "start_lags": [lag for t, lag in self.lags if inside(t)],
        }


class Plan:
    """What one worker runs: its share of the clients or of the rate, and the common clock."""

    def __init__(self, cfg, index):
        n = cfg.workers
        self.index = index
        self.tag = "[worker {}] ".format(index) if n > 1 else ""
        self.client_ids = list(range(index, cfg.clients, n))  # client i -> worker i % n
        self.think = cfg.think_ms / 1000.0
        self.handler = cfg.handler_ms / 1000.0
        if cfg.rate:
            self.interval = n / cfg.rate  # rate / n per worker
            self.offset = index / cfg.rate  # the workers' arrivals interleave evenly
            self.slots = max(1, len(self.client_ids))

    def first_start(self, cfg, client_id):
        return self.think * client_id / cfg.clients


def rendezvous(control, message):
    """Tells the parent this worker is ready (or failed) and returns the common start time
    (perf_counter, CLOCK_MONOTONIC, the same clock in every process); None: abort."""
    if control is None:
        return None if message[0] == "error" else time.perf_counter()
    control.send(message)
    if message[0] == "error":
        return None
    reply = control.recv()
    return reply[1] if reply[0] == "go" else None


# --------------------------------------------------------------------------------------------
# async drivers: asyncpg, psycopg
# --------------------------------------------------------------------------------------------


def open_window(cfg, control):
    """Waits until every worker is ready; the common start and the measured window after the
    warm-up, (t0, start, end) on the perf_counter clock, or None when the run was aborted."""
    t0 = rendezvous(control, ("ready",))
    if t0 is None:
        return None
    return t0, t0 + cfg.warmup, t0 + cfg.warmup + cfg.duration


async def async_request(async_session, sql, commit, handler_s):
    """One request: FastAPI's get_db session around the handler's statement."""
    async with async_session() as session:
        await session.execute(text(sql))
        burn(handler_s)
        if commit:
            await session.commit()


async def async_worker(cfg, plan, url, secrets, control):
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(url, **engine_options(cfg))
    async_session = async_sessionmaker(engine, expire_on_commit=False)
    rec = Recorder(secrets, plan.tag)
    sa.event.listen(engine.sync_engine, "connect", lambda *_: rec.connects.append(time.perf_counter()))
    try:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            rendezvous(control, ("error", one_line(exc, secrets)))
            return {"error": one_line(exc, secrets)}
        window = open_window(cfg, control)
        if window is None:
            return {"error": "aborted"}
        t0, window_start, window_end = window
        loop = asyncio.get_running_loop()

        async def sleep_until(t):
            delay = t - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)

        async def one(start):
            try:
                await async_request(async_session, cfg.sql, cfg.commit, plan.handler)
            except Exception as exc:
                rec.failure(exc, time.perf_counter())
            else:
                rec.success(start, time.perf_counter())

        async def client(client_id):
            await sleep_until(t0 + plan.first_start(cfg, client_id))
            while time.perf_counter() < window_end:
                await one(time.perf_counter())
                if plan.think > 0:
                    if time.perf_counter() + plan.think >= window_end:
                        return  # its next request would start after the window
                    await asyncio.sleep(plan.think)

        in_flight = set()

        async def schedule():
            slots = asyncio.Semaphore(plan.slots)
            k = 0
            while True:
                due = t0 + plan.offset + k * plan.interval
                if due >= window_end:
                    return
                await sleep_until(due)
                if slots.locked():
                    rec.held_back.append(due)
                await slots.acquire()

                async def arrival(due=due):
                    try:
                        started = time.perf_counter()
                        rec.lags.append((started, started - due))
                        await one(due)  # latency from the schedule
                    finally:
                        slots.release()

                task = loop.create_task(arrival())
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                k += 1

        if cfg.rate:
            load = [loop.create_task(schedule())]
        else:
            load = [loop.create_task(client(i)) for i in plan.client_ids]

        await sleep_until(window_start)
        ws, cs = time.perf_counter(), time.process_time()
        await sleep_until(window_end)
        we, ce = time.perf_counter(), time.process_time()

        # No new request starts now (the clients and the schedule check the window's end);
        # in-flight requests may finish, then are cancelled.
        if cfg.rate:
            load[0].cancel()  # the schedule only waits for its next arrival or a free slot
        pending = set(load) | set(in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=GRACE_S)
        for task in pending:
            task.cancel()
        if pending:
            log("{}{} requests still running {:.0f} s after the window: cancelled".format(
                plan.tag, len(pending), GRACE_S))
            await asyncio.wait(pending, timeout=GRACE_S)
        return rec.result((ws, we, cs, ce))
    finally:
        try:
            await engine.dispose()
        except Exception as exc:
            log("{}engine.dispose(): {}".format(plan.tag, one_line(exc, secrets)))


# --------------------------------------------------------------------------------------------
# psycopg2: the synchronous engine, one thread per client
# --------------------------------------------------------------------------------------------


def sync_request(Session, sql, commit, handler_s):
    with Session() as session:
        session.execute(text(sql))
        burn(handler_s)
        if commit:
            session.commit()


def sync_worker(cfg, plan, url, secrets, control):
    from sqlalchemy.orm import sessionmaker
    import queue

    engine = sa.create_engine(url, **engine_options(cfg))
    Session = sessionmaker(engine, expire_on_commit=False)
    rec = Recorder(secrets, plan.tag)
    sa.event.listen(engine, "connect", lambda *_: rec.connects.append(time.perf_counter()))
    threads = []
    try:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            rendezvous(control, ("error", one_line(exc, secrets)))
            return {"error": one_line(exc, secrets)}
        window = open_window(cfg, control)
        if window is None:
            return {"error": "aborted"}
        t0, window_start, window_end = window
        stop = threading.Event()

        def sleep_until(t):
            delay = t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

        def one(start):
            try:
                sync_request(Session, cfg.sql, cfg.commit, plan.handler)
            except Exception as exc:
                rec.failure(exc, time.perf_counter())
            else:
                rec.success(start, time.perf_counter())

        def client(client_id):
            sleep_until(t0 + plan.first_start(cfg, client_id))
            while not stop.is_set() and time.perf_counter() < window_end:
                one(time.perf_counter())
                if plan.think > 0:
                    if time.perf_counter() + plan.think >= window_end:
                        return
                    time.sleep(plan.think)

        # Open loop: the arrivals queue up for at most --clients threads, started as needed (as a
        # thread pool does), so a large bound costs nothing until it is reached.
        arrivals = queue.Queue()
        idle = [0]  # threads waiting for an arrival
        servers = [0]  # threads started
        idle_lock = threading.Lock()

        def start_thread(target, *targs):
            thread = threading.Thread(target=target, args=targs, daemon=True)
            thread.start()
            threads.append(thread)

        def server_thread():
            """One of the (at most --clients) threads that take the scheduled arrivals."""
            while not stop.is_set():
                try:
                    due = arrivals.get(timeout=0.05)
                except queue.Empty:
                    continue
                if stop.is_set():
                    return  # arrived before the window's end, not started: never measured
                with idle_lock:
                    idle[0] -= 1
                started = time.perf_counter()
                rec.lags.append((started, started - due))
                one(due)
                with idle_lock:
                    idle[0] += 1

        def schedule():
            k = 0
            while not stop.is_set():
                due = t0 + plan.offset + k * plan.interval
                if due >= window_end:
                    return
                sleep_until(due)
                with idle_lock:
                    if idle[0] - arrivals.qsize() <= 0:
                        if servers[0] < plan.slots:
                            servers[0] += 1
                            idle[0] += 1
                            start_thread(server_thread)
                        else:
                            rec.held_back.append(due)
                arrivals.put(due)
                k += 1

        if cfg.rate:
            start_thread(schedule)
        else:
            for i in plan.client_ids:
                start_thread(client, i)

        sleep_until(window_start)
        ws, cs = time.perf_counter(), time.process_time()
        sleep_until(window_end)
        we, ce = time.perf_counter(), time.process_time()
        stop.set()
        deadline = time.perf_counter() + GRACE_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.perf_counter()))
        left = sum(1 for thread in threads if thread.is_alive())
        if left:
            log("{}{} client threads still running {:.0f} s after the window: abandoned".format(
                plan.tag, left, GRACE_S))
        return rec.result((ws, we, cs, ce))
    finally:
        try:
            engine.dispose()  # closes the idle connections; abandoned threads keep theirs
        except Exception as exc:
            log("{}engine.dispose(): {}".format(plan.tag, one_line(exc, secrets)))


# --------------------------------------------------------------------------------------------
# workers and the report
# --------------------------------------------------------------------------------------------


def run_worker(cfg, index, url, secrets, control):
    plan = Plan(cfg, index)
    if not cfg.rate and not plan.client_ids:
        log("{}no clients (--clients {} < --workers {}): this worker idles".format(
            plan.tag, cfg.clients, cfg.workers))
    if cfg.driver == "psycopg2":
        return sync_worker(cfg, plan, url, secrets, control)
    return asyncio.run(async_worker(cfg, plan, url, secrets, control))


def child_main(cfg, index, url, secrets, control):
    try:
        result = run_worker(cfg, index, url, secrets, control)
    except BaseException as exc:  # report it rather than leave the parent waiting
        result = {"error": "worker {}: {}".format(index, one_line(exc, secrets))}
    try:
        control.send(("result", result))
        control.close()
    finally:
        sys.stderr.flush()
        os._exit(0)  # abandoned psycopg2 threads must not hold the process


def run_forked(cfg, url, secrets):
    """Returns the workers' results, or {"error": ...}."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    workers = []
    for index in range(cfg.workers):
        parent_end, child_end = ctx.Pipe()
        proc = ctx.Process(target=child_main, args=(cfg, index, url, secrets, child_end),
                           name="reference-app-worker-{}".format(index), daemon=True)
        proc.start()
        child_end.close()
        workers.append((proc, parent_end))

    def receive(proc, conn):
        while True:
            if conn.poll(0.2):
                try:
                    return conn.recv()
                except EOFError:
                    pass
            if not proc.is_alive() and not conn.poll(0):
                return ("error", "worker process exited with code {}".format(proc.exitcode))

    try:
        hello = [receive(proc, conn) for proc, conn in workers]
        failed = [m for m in hello if m[0] != "ready"]
        if failed:
            for (proc, conn), message in zip(workers, hello):
                if message[0] == "ready":
                    conn.send(("abort",))
            return {"error": failed[0][1]}
        start = time.perf_counter() + START_DELAY_S
        for proc, conn in workers:
            conn.send(("go", start))
        results = []
        for proc, conn in workers:
            message = receive(proc, conn)
            if message[0] != "result":
                return {"error": message[1]}
            results.append(message[1])
        for proc, conn in workers:
            proc.join(GRACE_S)
        bad = [r for r in results if "error" in r]
        return bad[0] if bad else results
    finally:
        for proc, conn in workers:
            if proc.is_alive():
                proc.terminate()


def nearest_rank(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def latency_ms(values_s):
    values = sorted(values_s)
    if not values:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "max": None}
    ms = lambda s: round(s * 1000.0, 4)  # noqa: E731
    return {
        "mean": ms(sum(values) / len(values)),
        "p50": ms(nearest_rank(values, 0.50)),
        "p90": ms(nearest_rank(values, 0.90)),
        "p99": ms(nearest_rank(values, 0.99)),
        "max": ms(values[-1]),
    }


def merge_counts(results, key):
    total = Counter()
    for r in results:
        total.update(r[key])
    return dict(sorted(total.items()))


def report(cfg, versions, url, results):
    latencies = [lat for r in results for lat in r["latencies"]]
    requests = len(latencies)
    cpu_s = sum(r["cpu_s"] for r in results)
    window_s = sum(r["window_s"] for r in results) / len(results)  # one shared window
    out = {
        "python": platform.python_version(),
        "versions": versions,
        "driver": cfg.driver,
        "workers": cfg.workers,
        "requests": requests,
        "errors": merge_counts(results, "errors"),
        "window_s": round(window_s, 6),
        "tps": round(requests / window_s, 3),
        "latency_ms": latency_ms(latencies),
        "cpu_s": round(cpu_s, 6),
        "loop_utilization": round(cpu_s / (window_s * cfg.workers), 4),
        "per_worker": [
            {
                "requests": len(r["latencies"]),
                "cpu_s": round(r["cpu_s"], 6),
                "window_s": round(r["window_s"], 6),
                "loop_utilization": round(r["cpu_s"] / r["window_s"], 4),
                "connections_opened": r["connections_opened"],
            }
            for r in results
        ],
        # beyond the essentials: what else the window saw
        "cpu_ms_per_request": round(cpu_s * 1000.0 / requests, 4) if requests else None,
        "sqlstates": merge_counts(results, "sqlstates"),
        "errors_outside_window": merge_counts(results, "errors_outside_window"),
        "connections_opened": sum(r["connections_opened"] for r in results),
        "settings": {
            "url": url.render_as_string(hide_password=True),
            "engine": engine_options(cfg),
            "session": "expire_on_commit=False",
            "sql": cfg.sql,
            "commit": cfg.commit,
            "clients": cfg.clients,
            "think_ms": cfg.think_ms,
            "rate": cfg.rate,
            "handler_ms": cfg.handler_ms,
            "warmup_s": cfg.warmup,
            "duration_s": cfg.duration,
        },
    }
    if cfg.rate:
        lags = sorted(lag for r in results for lag in r["start_lags"])
        out["open_loop"] = {
            "arrivals_held_back": sum(r["held_back"] for r in results),
            "start_lag_ms": latency_ms(lags),
        }
    return out


def measure_connect(cfg, url, count):
    """Process CPU time of opening and closing one connection through SQLAlchemy (the pool's
    connect event and the dialect's on-connect steps included), in ms: what the application's
    loop spends each time QueuePool opens an overflow connection and closes it again."""
    from sqlalchemy.pool import NullPool

    options = {"connect_args": connect_args(cfg.driver, cfg.statement_timeout)}
    if cfg.driver == "psycopg2":
        engine = sa.create_engine(url, poolclass=NullPool, **options)
        with engine.connect():
            pass  # the dialect's first-connect initialisation, not measured
        started = time.process_time()
        for _ in range(count):
            with engine.connect():
                pass
        spent = time.process_time() - started
        engine.dispose()
        return spent * 1000.0 / count

    from sqlalchemy.ext.asyncio import create_async_engine

    async def measure():
        engine = create_async_engine(url, poolclass=NullPool, **options)
        async with engine.connect():
            pass
        started = time.process_time()
        for _ in range(count):
            async with engine.connect():
                pass
        spent = time.process_time() - started
        await engine.dispose()
        return spent * 1000.0 / count

    return asyncio.run(measure())


def main(argv=None):
    cfg = parse_args(argv)
    raw_url = cfg.url
    secrets = Secrets(raw_url, None)

    # The driver: --driver, else the URL's own if it is one of ours, else asyncpg (database.md's).
    try:
        import sqlalchemy.engine.url as sa_url  # noqa: F401
        have_sa = True
    except ImportError:
        have_sa = False
    if not have_sa:
        return emit({"missing": "sqlalchemy", "install": INSTALL[cfg.driver or "asyncpg"]}, 3)
    from sqlalchemy.engine import make_url

    try:
        given = make_url(raw_url)
    except Exception as exc:
        return emit({"error": "invalid URL: " + one_line(exc, secrets)}, 2)
    secrets = Secrets(raw_url, given)
    if cfg.driver is None:
        named = given.drivername.partition("+")[2]
        if named and named not in SCHEMES:
            return emit({"error": "the URL names driver {!r}; pass --driver {}".format(
                named, "|".join(sorted(SCHEMES)))}, 2)
        cfg.driver = named or "asyncpg"

    versions = import_libraries(cfg.driver)
    if versions is None:
        return 3
    url = given.set(drivername=SCHEMES[cfg.driver])

    shown = url.render_as_string(hide_password=True)
    make = "create_engine" if cfg.driver == "psycopg2" else "create_async_engine"
    log("{}({!r}, {})".format(make, shown, ", ".join(
        "{}={!r}".format(k, v) for k, v in engine_options(cfg).items())))
    load = ("open loop, {:g} requests/s, at most {} in flight".format(cfg.rate, cfg.clients) if cfg.rate
            else "closed loop, {} clients, think {:g} ms".format(cfg.clients, cfg.think_ms))
    log("{}; {} worker(s); {!r}{}{}; warmup {:g} s, window {:g} s".format(
        load, cfg.workers, cfg.sql, " + commit" if cfg.commit else "",
        ", handler {:g} ms CPU".format(cfg.handler_ms) if cfg.handler_ms else "", cfg.warmup, cfg.duration))

    connect_cpu_ms = None
    if cfg.measure_connect > 0:
        try:
            connect_cpu_ms = measure_connect(cfg, url, cfg.measure_connect)
        except Exception as exc:
            return emit({"error": secrets.mask(one_line(exc, secrets))}, 4)

    if cfg.workers == 1:
        result = run_worker(cfg, 0, url, secrets, None)
        results = result if "error" in result else [result]
    else:
        results = run_forked(cfg, url, secrets)
    if isinstance(results, dict):
        return emit({"error": secrets.mask(results["error"])}, 4)

    out = report(cfg, versions, url, results)
    if connect_cpu_ms is not None:
        out["connect_cpu_ms"] = round(connect_cpu_ms, 4)
    log("{} requests in {:.2f} s: {:.0f} tps, p99 {} ms, cpu {:.3f} s (utilization {:.2f}){}".format(
        out["requests"], out["window_s"], out["tps"], out["latency_ms"]["p99"], out["cpu_s"],
        out["loop_utilization"], ", errors {}".format(out["errors"]) if out["errors"] else ""))
    return emit(out)


if __name__ == "__main__":
    code = main()
    if threading.active_count() > 1:  # abandoned psycopg2 client threads (daemons) in this process
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
