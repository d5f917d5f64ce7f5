#!/usr/bin/env python3
"""Generate tests/fixtures/driver_requests.json from SQLAlchemy and the real drivers.

`dbtool pool-bench` replays what a FastAPI + SQLAlchemy 2.x service sends to
PostgreSQL per connection and per request.  This script records exactly that,
from the libraries themselves, for each driver:

* ``asyncpg``  -- ``create_async_engine("postgresql+asyncpg://...")``
* ``psycopg``  -- ``create_async_engine("postgresql+psycopg://...")`` (psycopg 3, async)
* ``psycopg2`` -- ``create_engine("postgresql+psycopg2://...")`` with ``sessionmaker``

and for ``pool_pre_ping`` True and False (plus the driver-specific prepared
statement settings: asyncpg ``?prepared_statement_cache_size=0``, psycopg
``prepare_threshold`` 0 and None).

How it records:

1. It starts its own throwaway PostgreSQL cluster (newest server binaries under
   /usr/lib/postgresql/*/bin, run as the ``postgres`` user when we are root,
   like scripts/lib/cluster.sh) with ``log_statement = 'all'`` and
   ``log_min_messages = debug2``, so the server log has the ``statement:``,
   ``parse``, ``bind`` and ``execute`` lines of every backend.  The cluster is
   stopped and removed on exit, also on error.
2. The drivers connect through a small protocol-recording TCP proxy (asyncio,
   in a thread of its own) which refuses SSL and records every frontend
   message of each client connection: the startup packet's parameters, then
   each typed message (Q, P, B, D, E, S, H, C, X, ...).  From the server's side
   it only reads BackendKeyData, which gives the backend pid used to pick that
   connection's lines out of the server log.
3. Each scenario runs the reference application's pattern on a fresh engine
   (``pool_size=5, max_overflow=10``, ``async_sessionmaker(engine,
   expire_on_commit=False)`` / ``sessionmaker``), sequential requests on one
   pooled connection: 8 "read" requests (``session.execute(text("SELECT 1"))``,
   no commit), 8 "commit" requests (the same plus ``session.commit()``), then 8
   "read" requests again (a read that follows commits differs for psycopg,
   whose ROLLBACK clears its prepared statements).  Then it opens a second
   pooled connection next to the first (to show what *every* new connection
   gets) and disposes the engine.
4. The recording is cut into segments at points the application's code and
   SQLAlchemy's pool events give (start of a request, pool "connect" before
   and after SQLAlchemy's own connect handlers, ``dialect.initialize``, pool
   "checkout" (after the pre-ping), after ``session.execute``, after
   ``session.commit``, pool "reset" and "checkin").  None of these sends
   anything to the server; the requests are sequential and awaited, so every
   boundary is exact.  Server log lines are cut at the same points (by log
   file offset) and attributed by backend pid.

Per request each frontend message and log line carries its phase:
``pre_ping``, ``begin`` (the driver's BEGIN of the session's transaction),
``workload`` (the SELECT 1), ``commit``, ``session_close`` (the session
rolling back its transaction when it closes) and ``reset_on_return`` (the
pool's rollback-on-return at checkin).  ``round_trips`` = Q messages + Sync
messages.

Usage (from the crate root):

    python3 -m venv /tmp/dbtool-fixture-venv
    /tmp/dbtool-fixture-venv/bin/pip install -r scripts/driver-fixture-requirements.txt
    /tmp/dbtool-fixture-venv/bin/python scripts/gen_driver_fixture.py

Needs the PostgreSQL server binaries (``apt-get install postgresql``).  The
output has no timestamps, pids or ports: it is deterministic for the pinned
versions (asyncpg's statement names come from a process-wide counter, so they
depend on the fixed scenario order).  A human summary is printed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import inspect
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import greenlet
import psycopg
import psycopg2
import psycopg2.extensions
import sqlalchemy
from psycopg._preparing import PrepareManager
from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "driver_requests.json"

POOL_SIZE = 5
MAX_OVERFLOW = 10
STATEMENT_TIMEOUT_MS = "30000"
WORKLOAD_SQL = "SELECT 1"
# (kind, how many) in order, all on the one pooled connection of a scenario.
REQUEST_PLAN = [("read", 8), ("commit", 8), ("read", 8)]
APP_NAME_PREFIX = "dbtool-fixture"

# --------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    driver: str  # asyncpg | psycopg | psycopg2
    name: str
    pool_pre_ping: bool
    url_query: dict = field(default_factory=dict)
    extra_connect_args: dict = field(default_factory=dict)
    note: str = ""

    @property
    def application_name(self) -> str:
        return f"{APP_NAME_PREFIX}-{self.driver}-{self.name}"


SCENARIOS = [
    Scenario("asyncpg", "pre_ping", True),
    Scenario("asyncpg", "no_pre_ping", False),
    Scenario(
        "asyncpg",
        "no_pre_ping_prepared_statement_cache_size_0",
        False,
        url_query={"prepared_statement_cache_size": "0"},
        note="SQLAlchemy's own asyncpg statement cache disabled with the URL option "
        "?prepared_statement_cache_size=0 (coerced to int by PGDialect_asyncpg.create_connect_args): "
        "every execute calls asyncpg Connection.prepare() again under a new name.",
    ),
    Scenario("psycopg", "pre_ping", True),
    Scenario("psycopg", "no_pre_ping", False),
    Scenario(
        "psycopg",
        "no_pre_ping_prepare_threshold_0",
        False,
        extra_connect_args={"prepare_threshold": 0},
        note="connect_args={'prepare_threshold': 0}: psycopg prepares every statement on its "
        "first execution.  Passed in connect_args because the URL form is not usable, see probes.",
    ),
    Scenario(
        "psycopg",
        "no_pre_ping_prepare_threshold_none",
        False,
        extra_connect_args={"prepare_threshold": None},
        note="connect_args={'prepare_threshold': None}: psycopg never prepares (the PgBouncer setting).",
    ),
    Scenario("psycopg2", "pre_ping", True),
    Scenario("psycopg2", "no_pre_ping", False),
]

DRIVER_URL_SCHEME = {
    "asyncpg": "postgresql+asyncpg",
    "psycopg": "postgresql+psycopg",
    "psycopg2": "postgresql+psycopg2",
}
# SSL off on the client side; the proxy refuses it anyway.
DRIVER_SSL_QUERY = {"asyncpg": {"ssl": "disable"}, "psycopg": {"sslmode": "disable"}, "psycopg2": {"sslmode": "disable"}}


def connect_args_for(scenario: Scenario) -> dict:
    """The statement timeout and application_name the way applications pass them."""
    if scenario.driver == "asyncpg":
        args = {
            "server_settings": {
                "application_name": scenario.application_name,
                "statement_timeout": STATEMENT_TIMEOUT_MS,
            }
        }
    else:
        args = {
            "application_name": scenario.application_name,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        }
    args.update(scenario.extra_connect_args)
    return args


def settings_transport(driver: str) -> dict:
    if driver == "asyncpg":
        return {
            "statement_timeout": "connect_args={'server_settings': {'statement_timeout': '30000'}}",
            "application_name": "connect_args={'server_settings': {'application_name': ...}}",
        }
    return {
        "statement_timeout": "connect_args={'options': '-c statement_timeout=30000'}",
        "application_name": "connect_args={'application_name': ...}",
    }


def url_for(scenario: Scenario, host: str, port: int | str) -> str:
    query = dict(DRIVER_SSL_QUERY[scenario.driver])
    query.update(scenario.url_query)
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{DRIVER_URL_SCHEME[scenario.driver]}://postgres@{host}:{port}/postgres?{qs}"


# --------------------------------------------------------------------------
# throwaway cluster
# --------------------------------------------------------------------------


@dataclass
class Cluster:
    port: int
    log_path: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def throwaway_cluster():
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not bindirs:
        sys.exit("no PostgreSQL server binaries under /usr/lib/postgresql")
    bindir = bindirs[-1]
    tmp = Path(tempfile.mkdtemp(prefix="dbtool-driver-fixture."))
    os.chmod(tmp, 0o755)
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
    data, log = tmp / "data", tmp / "log"
    port = free_port()
    started = False
    try:
        subprocess.run(
            as_postgres([f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                         "-E", "UTF8", "--locale=C", "--no-sync"]),
            check=True, stdout=subprocess.DEVNULL,
        )
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(
                f"""
listen_addresses = '127.0.0.1'
unix_socket_directories = '{tmp}'
port = {port}
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
lc_messages = 'C'
logging_collector = off
log_statement = 'all'
log_min_messages = debug2
log_line_prefix = '%m [%p] %a: '
"""
            )
        subprocess.run(
            as_postgres([f"{bindir}/pg_ctl", "-D", str(data), "-l", str(log), "-w", "start"]),
            check=True, stdout=subprocess.DEVNULL,
        )
        started = True
        yield Cluster(port=port, log_path=log)
    finally:
        if started:
            subprocess.run(
                as_postgres([f"{bindir}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# protocol-recording proxy
# --------------------------------------------------------------------------

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102


def cstring(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.index(b"\0", pos)
    return buf[pos:end].decode(), end + 1


def int16s(buf: bytes, pos: int, count: int) -> tuple[list[int], int]:
    return [int.from_bytes(buf[pos + 2 * i: pos + 2 * i + 2], "big", signed=True) for i in range(count)], pos + 2 * count


def decode_frontend(kind: str, body: bytes) -> dict:
    """One typed frontend message as a small object (unnamed statement/portal = "")."""
    if kind == "Q":
        return {"type": "Q", "text": cstring(body, 0)[0]}
    if kind == "P":
        name, pos = cstring(body, 0)
        query, pos = cstring(body, pos)
        n = int.from_bytes(body[pos:pos + 2], "big")
        oids = [int.from_bytes(body[pos + 2 + 4 * i: pos + 6 + 4 * i], "big") for i in range(n)]
        return {"type": "P", "name": name, "text": query, "param_types": oids}
    if kind == "B":
        portal, pos = cstring(body, 0)
        name, pos = cstring(body, pos)
        nfmt = int.from_bytes(body[pos:pos + 2], "big")
        param_formats, pos = int16s(body, pos + 2, nfmt)
        nparams = int.from_bytes(body[pos:pos + 2], "big")
        pos += 2
        for _ in range(nparams):
            size = int.from_bytes(body[pos:pos + 4], "big", signed=True)
            pos += 4 + max(size, 0)
        nres = int.from_bytes(body[pos:pos + 2], "big")
        result_formats, pos = int16s(body, pos + 2, nres)
        return {"type": "B", "portal": portal, "name": name, "params": nparams,
                "param_formats": param_formats, "result_formats": result_formats}
    if kind in ("D", "C"):
        return {"type": kind, "target": chr(body[0]), "name": cstring(body, 1)[0]}
    if kind == "E":
        portal, pos = cstring(body, 0)
        return {"type": "E", "portal": portal, "max_rows": int.from_bytes(body[pos:pos + 4], "big")}
    if kind in ("S", "H", "X"):
        return {"type": kind}
    return {"type": kind, "length": len(body)}


@dataclass
class RecordedConnection:
    index: int
    refused: list = field(default_factory=list)  # "SSLRequest"/"GSSENCRequest" answered with N
    protocol: str = ""
    startup: dict = field(default_factory=dict)
    server_parameters: dict = field(default_factory=dict)
    backend_pid: int | None = None
    messages: list = field(default_factory=list)
    # new_turn[i]: the server had sent something since the message before messages[i], i.e.
    # messages[i] starts a new round trip (the client waited for a reply before sending it)
    new_turn: list = field(default_factory=list)
    backend_messages: int = 0
    backend_seen: int = -1
    closed: threading.Event = field(default_factory=threading.Event)


class RecordingProxy:
    """Forwards 127.0.0.1:<port> to the server and records every frontend message."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.connections: list[RecordedConnection] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recording-proxy", daemon=True)

    def __enter__(self):
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_r, client_w):
        conn = RecordedConnection(index=len(self.connections))
        self.connections.append(conn)
        server_w = None
        try:
            startup = await self._read_startup(conn, client_r, client_w)
            if startup is None:
                return
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            server_w.write(startup)
            await asyncio.gather(
                self._pump_frontend(conn, client_r, server_w),
                self._pump_backend(conn, server_r, client_w),
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (client_w, server_w):
                if w is not None:
                    w.close()
            conn.closed.set()

    async def _read_startup(self, conn, client_r, client_w) -> bytes | None:
        while True:
            head = await client_r.readexactly(4)
            body = await client_r.readexactly(int.from_bytes(head, "big") - 4)
            code = int.from_bytes(body[:4], "big")
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.refused.append("SSLRequest" if code == SSL_REQUEST else "GSSENCRequest")
                client_w.write(b"N")
                await client_w.drain()
                continue
            if code == CANCEL_REQUEST:
                conn.protocol = "CancelRequest"
                return None
            conn.protocol = f"{code >> 16}.{code & 0xFFFF}"
            pos = 4
            while body[pos] != 0:
                key, pos = cstring(body, pos)
                value, pos = cstring(body, pos)
                conn.startup[key] = value
            return head + body

    async def _pump_frontend(self, conn, client_r, server_w):
        try:
            while True:
                kind = await client_r.readexactly(1)
                head = await client_r.readexactly(4)
                body = await client_r.readexactly(int.from_bytes(head, "big") - 4)
                # recorded before forwarding, so a request's messages are all in once it is answered
                conn.new_turn.append(conn.backend_messages != conn.backend_seen)
                conn.backend_seen = conn.backend_messages
                conn.messages.append(decode_frontend(kind.decode(), body))
                server_w.write(kind + head + body)
                await server_w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            server_w.close()

    async def _pump_backend(self, conn, server_r, client_w):
        try:
            while True:
                kind = await server_r.readexactly(1)
                head = await server_r.readexactly(4)
                body = await server_r.readexactly(int.from_bytes(head, "big") - 4)
                if kind == b"K":
                    conn.backend_pid = int.from_bytes(body[:4], "big")
                elif kind == b"S" and conn.backend_pid is None:
                    key, pos = cstring(body, 0)
                    conn.server_parameters[key] = cstring(body, pos)[0]
                conn.backend_messages += 1  # counted before the client can see it
                client_w.write(kind + head + body)
                await client_w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            client_w.close()


# --------------------------------------------------------------------------
# server log
# --------------------------------------------------------------------------

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[(?P<pid>\d+)\] (?P<app>.*?): (?P<level>[A-Z0-9]+):  (?P<msg>.*)$"
)
LOG_KINDS = [
    ("statement", re.compile(r"^statement: (?P<text>.*)$", re.S)),
    ("parse", re.compile(r"^parse (?P<name>\S+): (?P<text>.*)$", re.S)),
    ("bind", re.compile(r"^bind (?P<portal>\S+) to (?P<name>\S+)$", re.S)),  # portal first
    ("execute", re.compile(r"^execute (?P<name>[^\s/:]+)(?:/(?P<portal>[^\s:]+))?: (?P<text>.*)$", re.S)),
]


def unnamed(name: str | None) -> str | None:
    return "" if name == "<unnamed>" else name


def parse_server_log(path: Path) -> list[tuple[int, int, dict]]:
    """(byte offset, pid, entry) for every statement/parse/bind/execute record."""
    records: list[list] = []  # [offset, pid, msg]
    offset = 0
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            m = LOG_LINE.match(line)
            if m:
                records.append([offset, int(m["pid"]), m["msg"]])
            elif line.startswith("\t") and records:
                records[-1][2] += "\n" + line[1:]
            offset += len(raw)
    entries = []
    for off, pid, msg in records:
        for kind, pattern in LOG_KINDS:
            m = pattern.match(msg)
            if m:
                d = m.groupdict()
                entry = {"kind": kind, "name": unnamed(d.get("name")), "text": d.get("text")}
                if kind in ("bind", "execute"):
                    entry["portal"] = unnamed(d.get("portal")) or ""
                entries.append((off, pid, entry))
                break
    return entries


# --------------------------------------------------------------------------
# cutting the recording into labelled spans
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    counts: tuple  # messages recorded so far, per proxy connection
    log_offset: int


@dataclass
class Span:
    context: str  # "setup", "request:<seq>", "second_connection", "dispose"
    phase: str
    start: Mark
    end: Mark
    info: dict


class Tape:
    """Consecutive spans of (context, phase); `enter` closes the current one."""

    def __init__(self, proxy: RecordingProxy, log_path: Path):
        self.proxy = proxy
        self.log_path = log_path
        self.spans: list[Span] = []
        self.context = "setup"
        self.phase = "setup"
        self.info: dict = {}
        self._start = self.mark()

    def mark(self) -> Mark:
        return Mark(tuple(len(c.messages) for c in self.proxy.connections), os.path.getsize(self.log_path))

    def enter(self, phase: str, context: str | None = None, **info):
        now = self.mark()
        self.spans.append(Span(self.context, self.phase, self._start, now, self.info))
        if context is not None:
            self.context = context
        self.phase, self.info, self._start = phase, info, now

    def close(self):
        self.enter("closed", context="closed")


def install_marks(engine, tape: Tape):
    """Pool/dialect hooks that only mark the tape; none of them talks to the server."""
    pool = engine.pool
    resume = {}

    @event.listens_for(pool, "connect", insert=True)
    def connected(dbapi_conn, record):  # startup done, before SQLAlchemy's own connect handlers
        resume["phase"] = tape.phase
        tape.enter("on_connect", connection=len(tape.proxy.connections) - 1)

    original_initialize = engine.dialect.initialize

    def initialize(connection):  # SQLAlchemy's first_connect handler, first connection only
        tape.enter("initialize", connection=tape.info.get("connection"))
        return original_initialize(connection)

    engine.dialect.initialize = initialize

    @event.listens_for(pool, "connect")
    def connect_done(dbapi_conn, record):  # after every connect handler, incl. first_connect's rollback
        tape.enter(resume.pop("phase"))

    @event.listens_for(pool, "checkout")
    def checked_out(dbapi_conn, record, proxy):  # after the pre-ping (skipped for a fresh connection)
        tape.enter("transaction")

    @event.listens_for(pool, "reset")
    def reset(dbapi_conn, record, state):  # before rollback-on-return
        tape.enter("reset_on_return", transaction_was_reset=state.transaction_was_reset)

    @event.listens_for(pool, "checkin")
    def checked_in(dbapi_conn, record):
        tape.enter("after_checkin")


# --------------------------------------------------------------------------
# running a scenario
# --------------------------------------------------------------------------


async def async_request(session_factory, kind: str, tape: Tape):
    async with session_factory() as session:
        await session.execute(text(WORKLOAD_SQL))
        if kind == "commit":
            tape.enter("commit")
            await session.commit()
        tape.enter("session_close")


def sync_request(session_factory, kind: str, tape: Tape):
    with session_factory() as session:
        session.execute(text(WORKLOAD_SQL))
        if kind == "commit":
            tape.enter("commit")
            session.commit()
        tape.enter("session_close")


def request_sequence():
    seq = 0
    for kind, count in REQUEST_PLAN:
        for _ in range(count):
            yield seq, kind
            seq += 1


def wait_closed(proxy: RecordingProxy, first_conn: int):
    deadline = time.monotonic() + 10
    for conn in proxy.connections[first_conn:]:
        conn.closed.wait(max(0.0, deadline - time.monotonic()))


async def run_async_scenario(scenario: Scenario, proxy: RecordingProxy, tape: Tape):
    engine = create_async_engine(
        url_for(scenario, "127.0.0.1", proxy.port),
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_pre_ping=scenario.pool_pre_ping,
        connect_args=connect_args_for(scenario),
    )
    install_marks(engine.sync_engine, tape)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    for seq, kind in request_sequence():
        tape.enter("pre_ping", context=f"request:{seq}", kind=kind)
        await async_request(session_factory, kind, tape)
    tape.enter("checkout", context="second_connection")
    async with engine.connect():
        async with engine.connect():
            pass
    tape.enter("dispose", context="dispose")
    await engine.dispose()


def run_sync_scenario(scenario: Scenario, proxy: RecordingProxy, tape: Tape):
    engine = create_engine(
        url_for(scenario, "127.0.0.1", proxy.port),
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_pre_ping=scenario.pool_pre_ping,
        connect_args=connect_args_for(scenario),
    )
    install_marks(engine, tape)
    session_factory = sessionmaker(engine, expire_on_commit=False)
    for seq, kind in request_sequence():
        tape.enter("pre_ping", context=f"request:{seq}", kind=kind)
        sync_request(session_factory, kind, tape)
    tape.enter("checkout", context="second_connection")
    with engine.connect():
        with engine.connect():
            pass
    tape.enter("dispose", context="dispose")
    engine.dispose()


def record_scenario(scenario: Scenario, proxy: RecordingProxy, log_path: Path):
    first_conn = len(proxy.connections)
    tape = Tape(proxy, log_path)
    if scenario.driver == "psycopg2":
        run_sync_scenario(scenario, proxy, tape)
    else:
        asyncio.run(run_async_scenario(scenario, proxy, tape))
    wait_closed(proxy, first_conn)  # the Terminate messages of dispose
    tape.close()
    return range(first_conn, len(proxy.connections)), tape.spans


def probe_psycopg_prepare_threshold_in_url(proxy: RecordingProxy) -> dict:
    """Does ?prepare_threshold=N in a postgresql+psycopg URL work?  (It reaches psycopg as a str.)"""
    url = url_for(Scenario("psycopg", "probe", False), "127.0.0.1", proxy.port) + "&prepare_threshold=0"

    async def attempt():
        engine = create_async_engine(url)
        passed = engine.dialect.create_connect_args(engine.url)[1].get("prepare_threshold")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(WORKLOAD_SQL))
            error = None
        except Exception as exc:  # noqa: BLE001 - the error is the finding
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            await engine.dispose()
        return passed, error

    first_conn = len(proxy.connections)
    passed, error = asyncio.run(attempt())
    wait_closed(proxy, first_conn)
    return {
        "url_query": "prepare_threshold=0",
        "value_passed_to_psycopg_connect": repr(passed),
        "works": error is None,
        "error": error,
        "conclusion": "use connect_args={'prepare_threshold': N}" if error else "the URL option works",
    }


# --------------------------------------------------------------------------
# turning spans into the fixture
# --------------------------------------------------------------------------


def span_frontend(span: Span, proxy: RecordingProxy, conn_range: range) -> list[tuple[int, dict, bool]]:
    """(connection number within the scenario, message, starts a new round trip) recorded during span."""
    out = []
    for i in conn_range:
        if i >= len(span.end.counts):
            break
        conn = proxy.connections[i]
        start = span.start.counts[i] if i < len(span.start.counts) else 0
        for j in range(start, span.end.counts[i]):
            out.append((i - conn_range.start, conn.messages[j], conn.new_turn[j]))
    return out


def span_log(span: Span, log: list, pids: dict) -> list[tuple[int, dict]]:
    return [
        (pids[pid], entry)
        for off, pid, entry in log
        if span.start.log_offset <= off < span.end.log_offset and pid in pids
    ]


def is_begin(sql: str | None) -> bool:
    return re.match(r"(?i)\s*BEGIN\b", sql or "") is not None


def message_phase(span_phase: str, sql: str | None) -> str:
    """The tape's "transaction" span (checkout .. end of execute) is the driver's BEGIN + the workload."""
    if span_phase == "transaction":
        return "begin" if is_begin(sql) else "workload"
    return span_phase


def round_trips(messages: list[dict]) -> int:
    return sum(1 for m in messages if m["type"] in ("Q", "S"))


def build_segment(spans, pred, proxy, conn_range, log, pids, *, phases=True, conn=None) -> dict:
    """Frontend messages and server log entries of the spans matching pred, in order.

    round_trips counts Q and S; round_trips_observed counts the messages the client sent
    only after the server had answered (also catches a Flush the driver waits on)."""
    frontend, server_log, observed, by_phase = [], [], 0, {}
    for span in spans:
        if not pred(span):
            continue
        for c, msg, new_turn in span_frontend(span, proxy, conn_range):
            assert conn is None or c == conn, (span, c, msg)
            phase = message_phase(span.phase, msg.get("text") if msg["type"] == "Q" else None)
            frontend.append({"phase": phase, **msg} if phases else dict(msg))
            observed += new_turn
            if msg["type"] in ("Q", "S"):
                by_phase[phase] = by_phase.get(phase, 0) + 1
        for c, entry in span_log(span, log, pids):
            assert conn is None or c == conn, (span, c, entry)
            phase = message_phase(span.phase, entry["text"] if entry["kind"] == "statement" else None)
            server_log.append({"phase": phase, **entry} if phases else dict(entry))
    seg = {
        "frontend": frontend,
        "server_log": server_log,
        "round_trips": round_trips(frontend),
        "round_trips_observed": observed,
    }
    if phases:
        seg["round_trips_by_phase"] = by_phase
    return seg


def build_scenario(scenario: Scenario, proxy: RecordingProxy, conn_range: range, spans: list[Span],
                   log: list) -> dict:
    conns = proxy.connections[conn_range.start:conn_range.stop]
    first, second = conn_range.start, conn_range.start + 1
    pids = {c.backend_pid: c.index - first for c in conns}

    def segment(pred, **kw):
        return build_segment(spans, pred, proxy, conn_range, log, pids, **kw)

    setup = segment(lambda s: s.context == "setup")
    assert not setup["frontend"] and not setup["server_log"], setup
    connecting = ("on_connect", "initialize")

    requests = []
    for seq, kind in request_sequence():
        context = f"request:{seq}"
        mine = [s for s in spans if s.context == context]
        after = [s for s in mine if s.phase == "after_checkin"]
        assert not build_segment(after, bool, proxy, conn_range, log, pids)["frontend"], context
        reset = next(s for s in mine if s.phase == "reset_on_return")
        seg = segment(lambda s, c=context: s.context == c and s.phase not in connecting, conn=0)
        requests.append({
            "seq": seq,
            "kind": kind,
            "opened_connection": any(s.phase in connecting for s in mine),
            "pool_reset_transaction_was_reset": reset.info["transaction_was_reset"],
            "pattern": render_request(seg["frontend"]),
            **seg,
        })

    return {
        "driver": scenario.driver,
        "pool_pre_ping": scenario.pool_pre_ping,
        "url": url_for(scenario, "{host}", "{port}"),
        "connect_args": connect_args_for(scenario),
        "settings_transport": settings_transport(scenario.driver),
        "note": scenario.note,
        "connections_opened": len(conns),
        "connect": {
            "protocol": conns[0].protocol,
            "refused_before_startup": conns[0].refused,
            "startup_parameters": conns[0].startup,
            "same_on_second_connection": len(conns) > 1 and conns[1].startup == conns[0].startup,
        },
        # on the engine's first connection: SQLAlchemy's connect handlers ("on_connect") then
        # dialect.initialize() and its rollback ("initialize")
        "first_connect": segment(lambda s: s.phase in connecting and s.info.get("connection") == first),
        # what a later new connection gets (the second pooled connection, opened after the requests)
        "per_connection": segment(
            lambda s: s.phase == "on_connect" and s.info.get("connection") == second, phases=False, conn=1
        ),
        "requests": requests,
        "dispose": segment(lambda s: s.context == "dispose", phases=False),
    }


# --------------------------------------------------------------------------
# human-readable patterns
# --------------------------------------------------------------------------


def short(sql: str, width: int = 40) -> str:
    one = " ".join(sql.split())
    return repr(one if len(one) <= width else one[: width - 3] + "...")


def stmt(name: str) -> str:
    return f"{name} (named)" if name else "(unnamed)"


def render_group(group: list[dict]) -> str:
    types = "+".join(m["type"] for m in group)
    parse = next((m for m in group if m["type"] == "P"), None)
    bind = next((m for m in group if m["type"] == "B"), None)
    closes = [m for m in group if m["type"] == "C"]
    detail = []
    if closes:
        detail.append("close " + ",".join(f"{m['target']}:{m['name'] or '(unnamed)'}" for m in closes))
    if parse:
        detail.append(f"{short(parse['text'])} {stmt(parse['name'])}")
    elif bind:
        detail.append(stmt(bind["name"]))
    return types + (" " + "; ".join(detail) if detail else "")


def render_messages(messages: list[dict]) -> list[str]:
    """One item per round trip: a Q, or an extended-protocol group up to its Sync or Flush
    (every Flush in these recordings is one the driver waits on: asyncpg's Parse+Describe)."""
    units, pending = [], []
    for m in messages:
        if m["type"] == "Q":
            if pending:
                units.append(render_group(pending))
                pending = []
            units.append(f"Q {short(m['text'], 60)[1:-1]}")
        else:
            pending.append(m)
            if m["type"] in ("S", "H"):
                units.append(render_group(pending))
                pending = []
    if pending:
        units.append(render_group(pending))
    return units


def render_request(frontend: list[dict]) -> str:
    parts, phase, chunk = [], None, []
    for m in frontend + [{"phase": None}]:
        if m["phase"] != phase:
            if chunk:
                parts.append(f"{phase}[{' | '.join(render_messages(chunk))}]")
            phase, chunk = m["phase"], []
        if m["phase"] is not None:
            chunk.append({k: v for k, v in m.items() if k != "phase"})
    return " ".join(parts) if parts else "(nothing)"


def pattern_key(pattern: str) -> str:
    return re.sub(r"__asyncpg_stmt_[0-9a-f]+__|_pg3_\d+", "<name>", pattern)


def trips(seg: dict) -> str:
    rt, seen = seg["round_trips"], seg["round_trips_observed"]
    return f"{rt} round trips" + (f" (Q+S; {seen} observed)" if seen != rt else "")


def summary_lines(fixture: dict) -> list[str]:
    lines = []
    for driver, scenarios in fixture["drivers"].items():
        for name, sc in scenarios.items():
            lines.append(f"== {driver} {name}")
            lines.append(f"   startup: {sc['connect']['startup_parameters']}")
            lines.append(f"   first_connect: {render_request(sc['first_connect']['frontend'])}"
                         f" = {trips(sc['first_connect'])}")
            per_conn = sc["per_connection"]
            lines.append(f"   per_connection: {' | '.join(render_messages(per_conn['frontend'])) or '(nothing)'}"
                         f" = {trips(per_conn)}")
            groups: list[list[dict]] = []
            for req in sc["requests"]:
                if groups and groups[-1][0]["kind"] == req["kind"] and \
                        pattern_key(groups[-1][0]["pattern"]) == pattern_key(req["pattern"]):
                    groups[-1].append(req)
                else:
                    groups.append([req])
            for group in groups:
                first, last = group[0]["seq"] + 1, group[-1]["seq"] + 1
                span = f"#{first}" if first == last else f"#{first}-#{last}"
                varies = " (names vary)" if len({r["pattern"] for r in group}) > 1 else ""
                lines.append(f"   {group[0]['kind']:6} {span:8} {group[0]['pattern']}"
                             f" = {trips(group[0])}{varies}")
            lines.append(f"   dispose: {' | '.join(render_messages(sc['dispose']['frontend']))}")
    return lines


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def versions(server_version: str) -> dict:
    return {
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "asyncpg": asyncpg.__version__,
        "psycopg": psycopg.__version__,
        "psycopg_impl": psycopg.pq.__impl__,
        "psycopg_libpq": psycopg.pq.version(),
        "psycopg2": psycopg2.__version__.split()[0],
        "psycopg2_libpq": psycopg2.extensions.libpq_version(),
        "greenlet": greenlet.__version__,
        "postgresql_server_version": server_version,
    }


def driver_defaults() -> dict:
    """Read from the installed libraries, not from memory."""
    asyncpg_connect = inspect.signature(asyncpg.connect).parameters
    psycopg_connect = inspect.signature(psycopg.AsyncConnection.connect).parameters
    sa_asyncpg = inspect.signature(AsyncAdapt_asyncpg_connection.__init__).parameters
    return {
        "asyncpg": {
            "asyncpg_statement_cache_size": asyncpg_connect["statement_cache_size"].default,
            "asyncpg_max_cacheable_statement_size": asyncpg_connect["max_cacheable_statement_size"].default,
            "sqlalchemy_prepared_statement_cache_size": sa_asyncpg["prepared_statement_cache_size"].default,
            "explanation": (
                "SQLAlchemy's asyncpg adapter calls asyncpg Connection.prepare(sql) for every execute and "
                "keeps the PreparedStatement in its own per-connection LRU (prepared_statement_cache_size, "
                "a URL/connect_args option it pops before calling asyncpg.connect).  With the cache on, a "
                "statement is parsed once per connection under a name from asyncpg's process-wide counter "
                "(__asyncpg_stmt_<hex>__) and then only bound/executed.  asyncpg's own statement_cache_size "
                "cache is used by SQLAlchemy only for the pre-ping's fetchrow(';') and asyncpg's internals."
            ),
        },
        "psycopg": {
            "prepare_threshold": psycopg_connect["prepare_threshold"].default,
            "prepared_max": PrepareManager.prepared_max,
            "explanation": (
                "psycopg counts executions per (query bytes, param types) per connection; a query seen "
                "prepare_threshold times before is prepared (Parse named _pg3_<n>, n per connection) on the "
                "next execution and bound by name afterwards.  Connection.rollback() that actually sends "
                "ROLLBACK clears the counts and, if any statement was prepared, sends DEALLOCATE ALL; COMMIT "
                "keeps them.  Queries whose result is not COMMAND_OK/TUPLES_OK (e.g. ';', EMPTY_QUERY) are "
                "never counted.  prepare_threshold=None disables preparing; 0 prepares on first use."
            ),
        },
    }


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with throwaway_cluster() as cluster, RecordingProxy(cluster.port) as proxy:
        recorded = []
        for scenario in SCENARIOS:
            conn_range, spans = record_scenario(scenario, proxy, cluster.log_path)
            recorded.append((scenario, conn_range, spans))
        probe = probe_psycopg_prepare_threshold_in_url(proxy)
        log = parse_server_log(cluster.log_path)
        fixture_drivers: dict = {}
        for scenario, conn_range, spans in recorded:
            fixture_drivers.setdefault(scenario.driver, {})[scenario.name] = build_scenario(
                scenario, proxy, conn_range, spans, log
            )
        server_version = proxy.connections[0].server_parameters.get("server_version", "")

    fixture = {
        "generated_by": "scripts/gen_driver_fixture.py",
        "versions": versions(server_version),
        "engine": {
            "pool_size": POOL_SIZE,
            "max_overflow": MAX_OVERFLOW,
            "async_session_factory": "async_sessionmaker(engine, expire_on_commit=False)",
            "sync_session_factory": "sessionmaker(engine, expire_on_commit=False)",
            "workload": f"session.execute(text({WORKLOAD_SQL!r}))",
            "request_kinds": {
                "read": "async with session_factory() as session: await session.execute(text('SELECT 1'))",
                "commit": "the same, then await session.commit() inside the block",
            },
            "request_plan": [{"kind": k, "count": n} for k, n in REQUEST_PLAN],
            "statement_timeout_ms": int(STATEMENT_TIMEOUT_MS),
            "phases": {
                "pre_ping": "pool checkout up to the pool 'checkout' event (SQLAlchemy skips it on a fresh connection)",
                "begin": "the driver's BEGIN for the session's transaction (sent with the first statement)",
                "workload": "the SELECT 1 itself",
                "commit": "session.commit()",
                "session_close": "leaving the session block: Connection.close() rolls back an open transaction",
                "reset_on_return": "pool reset at checkin (do_rollback unless the transaction was already reset)",
            },
            "round_trips": "number of Q plus number of S (Sync) frontend messages",
            "round_trips_observed": (
                "frontend messages the client sent only after the server had answered since its previous "
                "message (as seen by the proxy); exceeds round_trips where a driver waits on a Flush (H), "
                "i.e. asyncpg's Parse+Describe+Flush before Bind"
            ),
            "pattern": "human-readable rendering of a request: phase[round trip | round trip ...]",
            "names": "unnamed statements and portals are \"\" (the server log's <unnamed>)",
        },
        "driver_defaults": driver_defaults(),
        "probes": {"psycopg_prepare_threshold_in_url": probe},
        "drivers": fixture_drivers,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")
    print("\n".join(summary_lines(fixture)))


if __name__ == "__main__":
    main()
