#!/usr/bin/env python3
"""Generate tests/fixtures/settings_oracle.json from a real pydantic-settings ``Settings``.

dbtool promises to read ``DATABASE_URL`` and the ``DB_*`` settings exactly as the
application does.  The application reads them with pydantic-settings
(``BaseSettings`` with ``env_file=".env"`` and ``extra="ignore"``), which parses the
``.env`` file with python-dotenv and converts every value with pydantic.  This script
runs that very class, with the reference document's fields and defaults, on a few
hundred ``.env`` files and environments and records, per case:

* ``values``: what the application gets (ints as decimal text, floats as Python's
  ``repr``, so nothing is lost in JSON), or
* ``refused``: the fields pydantic refused, in its order, with pydantic's error type;
* ``sources``: per field, ``env``, ``dotenv`` or ``default``, asked of
  pydantic-settings' own ``EnvSettingsSource`` and ``DotEnvSettingsSource`` (the first
  that has the field wins, as in ``BaseSettings._settings_build_values``);
* ``skipped_statements``: how many statements python-dotenv could not parse (it logs a
  warning and goes on);
* ``secrets``: the passwords the generator wrote, which dbtool must never print.

It also records ``conversions``: pydantic's lax conversion of single texts to ``int``,
``float`` and ``bool`` (``TypeAdapter(...).validate_python(text)``), hundreds of texts
each, hand-picked plus generated; and ``dotenv_texts``: python-dotenv's ``dotenv_values``
(every key, in order, ``None`` for a bare key) and its skipped statements on texts made of
random ``.env`` syntax fragments (quotes, escapes, ``#``, ``${...}``, line ends, Unicode
whitespace), which reach the parser's corners that whole settings cases cannot.

Cases are generated deterministically from a fixed seed; the environment of a case is
recorded in byte order of the names, the order in which a child process started by
Rust's ``std::process::Command`` sees it (its environment is a sorted map), because
pydantic-settings lets the *last* of two names differing only in case win.

The field types: the reference document (shared/reference/database.md) gives
``database_url: str`` and ``db_pool_size: int``; ``db_max_overflow`` is an int
(SQLAlchemy's ``max_overflow``), the two booleans are ``bool``, and the three
durations in seconds are ``float``: SQLAlchemy's ``pool_timeout`` is a float, and dbtool
takes fractions for all three.

Usage (from the crate root):

    python3 -m venv /tmp/dbtool-settings-venv
    /tmp/dbtool-settings-venv/bin/pip install -r scripts/settings-fixture-requirements.txt
    /tmp/dbtool-settings-venv/bin/python scripts/gen_settings_fixture.py
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from dotenv import dotenv_values
from pydantic import TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.sources import DotEnvSettingsSource, EnvSettingsSource

SEED = 21
GENERATED_CASES = 380
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "settings_oracle.json"

SETTINGS_SOURCE = '''
class Settings(BaseSettings):
    database_url: str = "postgresql+asyncpg://super@localhost:5432/super"
    db_pool_size: int = 5
    db_max_overflow: int = 10
    db_pool_timeout: float = 30
    db_pool_recycle: float = 3600
    db_pool_pre_ping: bool = True
    db_echo: bool = False
    db_statement_timeout: float = 30

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
'''
exec(SETTINGS_SOURCE)  # defines Settings; the same text goes into the fixture

FIELDS = {
    "database_url": "url",
    "db_pool_size": "int",
    "db_max_overflow": "int",
    "db_pool_timeout": "float",
    "db_pool_recycle": "float",
    "db_pool_pre_ping": "bool",
    "db_echo": "bool",
    "db_statement_timeout": "float",
}

INT_TEXTS = [
    "5", "12", " 7 ", "+3", "007", "7_000", "1__0", "5.0", "5.00", "5.5", "1e3", "-1",
    "-2", "-5", "0", "00", "0_0", "99999999999999999999", "9223372036854775807", "",
    "abc", "0x10", "\u0663", "\t8", "1_0.0", "-0", "+-1", "--1", "5 5", "1_", "20",
]
BOOL_TEXTS = [
    "true", "false", "True", "FALSE", "1", "0", "yes", "no", "on", "off", "t", "f", "y",
    "n", "Y", "N", "tRuE", " true", "true ", "2", "", "1.0", "maybe", "ON", "Off",
]
FLOAT_TEXTS = [
    "30", "2.5", " 2.5 ", "1_000.5", "1e3", "1E-2", ".5", "5.", "inf", "-inf", "nan",
    "Infinity", "-3", "-1", "-1.0", "0", "0.000000001", "1e-12", "1e400", "2147483.647",
    "2147483.648", "3600", "1__0", "_1", "abc", "", "0x10", "+1.5", "1_000", "10_000.000_1",
    "0.25", "45", "\t9\t",
]
HELPERS = ["DBT_HOST", "DBT_PORT", "DBT_PW", "DBT_SIZE", "DBT_DB"]
HELPER_VALUES = {
    "DBT_HOST": ["db.internal", "localhost", "", "10.0.0.7"],
    "DBT_PORT": ["5432", "6432", ""],
    "DBT_PW": ["Hx7-helper-pw", "Kv2-other-pw"],
    "DBT_SIZE": ["9", "3_0", "x", ""],
    "DBT_DB": ["app", "app_test"],
}
PASSWORDS = ["Qm4-first-pw", "Wz8_second", "Rt5!third", "Yp2%fourth", "Ej6$fifth"]


# --- the application --------------------------------------------------------------------


class CountWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "could not parse" in record.getMessage():
            self.count += 1


WARNINGS = CountWarnings()
logging.getLogger("dotenv.main").addHandler(WARNINGS)
logging.getLogger("dotenv.main").propagate = False


def record(value, kind: str):
    if kind == "int":
        return str(value)
    if kind == "float":
        return repr(value)
    return value


def run_application(dotenv: str | None, environment: list[list[str]]) -> dict:
    """Runs Settings() in a fresh directory with exactly this environment."""
    saved_environ, saved_cwd = dict(os.environ), os.getcwd()
    with tempfile.TemporaryDirectory() as directory:
        if dotenv is not None:
            Path(directory, ".env").write_bytes(dotenv.encode("utf-8"))
        os.chdir(directory)
        os.environ.clear()
        for name, value in environment:
            os.environ[name] = value
        WARNINGS.count = 0
        try:
            result: dict = {}
            try:
                settings = Settings()
                result["values"] = {
                    name: record(getattr(settings, name), kind) for name, kind in FIELDS.items()
                }
            except ValidationError as error:
                result["refused"] = [
                    {"field": e["loc"][0], "type": e["type"]} for e in error.errors()
                ]
            from_env = EnvSettingsSource(Settings)()
            from_dotenv = DotEnvSettingsSource(Settings)()
            result["sources"] = {
                name: "env" if name in from_env else "dotenv" if name in from_dotenv else "default"
                for name in FIELDS
            }
            # Settings() and the dotenv source each read the file once.
            result["skipped_statements"] = WARNINGS.count // 2
            return result
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_environ)


# --- generated .env files ----------------------------------------------------------------


def name_variant(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.7:
        return name
    if roll < 0.85:
        return name.lower()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


def url_text(rng: random.Random, secrets: list[str]) -> str:
    password = rng.choice(PASSWORDS)
    host = rng.choice(["db", "db.internal:6432", "${DBT_HOST}", "${DBT_HOST:-fallback}",
                       "${DBT_MISSING:-fallback}", "${DBT_MISSING}", "h1,h2:5433"])
    user_part = rng.choice([
        f"app:{password}@", f"app:{password}@", "app@", "", f"app:${{DBT_PW}}@",
        f"app:{password}${{DBT_PW}}@",
    ])
    if password in user_part:
        secrets.append(password)
    if "DBT_PW" in user_part:
        secrets.extend(HELPER_VALUES["DBT_PW"])
    scheme = rng.choice(["postgresql+asyncpg", "postgresql+psycopg", "postgresql"])
    database = rng.choice(["app", "${DBT_DB}", "app?ssl=require", "app", "${DBT_DB:-app}"])
    text = f"{scheme}://{user_part}{host}/{database}"
    roll = rng.random()
    if roll < 0.04:
        return ""
    if roll < 0.08:
        return f" {text} "
    return text


def value_text(rng: random.Random, kind: str, secrets: list[str]) -> str:
    if kind == "url":
        return url_text(rng, secrets)
    # Mostly plain values, so that most cases get past pydantic and compare every field.
    plain = rng.random() < 0.6
    if kind == "int":
        return rng.choice(["5", "12", "0", "20", "-1", "7_000"] if plain else
                          INT_TEXTS + ["${DBT_SIZE}", "${DBT_SIZE:-7}", "${DBT_MISSING:-8}"])
    if kind == "bool":
        return rng.choice(["true", "false", "1", "0", "yes", "off"] if plain else BOOL_TEXTS)
    return rng.choice(["30", "2.5", "0", "3600", "0.25", "-1"] if plain else
                      FLOAT_TEXTS + ["${DBT_MISSING:-2.5}"])


def quoted(rng: random.Random, value: str) -> str:
    """The value as it may be written in a .env file; what it means is the oracle's to say."""
    roll = rng.random()
    if roll < 0.45:
        return value
    if roll < 0.7:
        inner = value.replace("\\", "\\\\").replace("'", "\\'") if rng.random() < 0.8 else value
        return f"'{inner}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if rng.random() < 0.15:
        escaped += rng.choice(["\\n", "\\t", "\\\\", "\\'", "\\x"])
    return f'"{escaped}"'


def assignment(rng: random.Random, name: str, value: str) -> str:
    export = "export " if rng.random() < 0.15 else ""
    equals = rng.choice(["=", "=", "=", " = ", "= ", " ="])
    tail = rng.choice(["", "", "", "", " # note", "  #note", "#x", "   ", "\t"])
    return f"{export}{name}{equals}{quoted(rng, value)}{tail}"


def garbage(rng: random.Random) -> str:
    return rng.choice([
        "this is not 'an assignment",
        "DB_POOL_SIZE='unterminated",
        "=5",
        "DB_ECHO=\"ok\" junk",
        "export =1",
        "DB_POOL_SIZE 7",
    ])


def generate_case(rng: random.Random, number: int) -> dict:
    secrets: list[str] = []
    lines: list[str] = []
    kinds = list(FIELDS.items())
    for _ in range(rng.randint(0, 9)):
        roll = rng.random()
        if roll < 0.62:
            field, kind = rng.choice(kinds)
            value = value_text(rng, kind, secrets)
            lines.append(assignment(rng, name_variant(rng, field.upper()), value))
        elif roll < 0.74:
            helper = rng.choice(HELPERS)
            value = rng.choice(HELPER_VALUES[helper])
            if helper == "DBT_PW":
                secrets.append(value)
            lines.append(assignment(rng, helper, value))
        elif roll < 0.82:
            lines.append(rng.choice(["# a comment", "", "   ", "#DB_POOL_SIZE=99", "  # indented"]))
        elif roll < 0.87:
            lines.append(garbage(rng))
        elif roll < 0.90:
            lines.append(name_variant(rng, rng.choice(kinds)[0].upper()))  # a name, no '='
        elif roll < 0.95 and lines:
            lines.append(rng.choice(lines))  # a duplicate
        else:
            field, kind = rng.choice(kinds)
            value = value_text(rng, kind, secrets)
            lines.append(f'{field.upper()}="{value}\nsecond line"')  # multi-line
    newline = rng.choices(["\n", "\r\n", "\r"], weights=[70, 20, 10])[0]
    dotenv = newline.join(lines) + (newline if rng.random() < 0.85 else "")
    if rng.random() < 0.05:
        dotenv = "\ufeff" + dotenv
    if rng.random() < 0.12:
        dotenv = None

    environment: dict[str, str] = {}
    if rng.random() < 0.45:
        for _ in range(rng.randint(1, 3)):
            field, kind = rng.choice(kinds)
            environment[name_variant(rng, field.upper())] = value_text(rng, kind, secrets)
    for helper in HELPERS:
        if rng.random() < 0.35:
            environment[helper] = rng.choice(HELPER_VALUES[helper])
            if helper == "DBT_PW":
                secrets.append(environment[helper])
    return {
        "name": f"generated-{number:03}",
        "dotenv": dotenv,
        "environment": sorted([k, v] for k, v in environment.items()),
        "secrets": sorted(set(secrets)),
    }


def handmade_cases() -> list[dict]:
    """The differences the issue measured, and rules worth naming one by one."""
    cases = [
        ("issue: ${VAR:-default} interpolation",
         "DATABASE_URL=postgresql+asyncpg://u:Pw1-issue@${DB_HOST:-fallback}/db\n", []),
        ("issue: single quotes are interpolated too",
         "DATABASE_URL='postgresql+asyncpg://u:Pw1-issue@${DB_HOST}/db'\n",
         [["DB_HOST", "envhost"]]),
        ("issue: the last of two assignments wins", "DB_POOL_SIZE=3\nDB_POOL_SIZE=4\n", []),
        ("issue: 7_000 is an int to pydantic", "DB_POOL_SIZE=7_000\n", []),
        ("issue: \\n in double quotes is a newline",
         'DATABASE_URL="postgresql+asyncpg://u:Pw1-issue@h/db\\n"\n', []),
        ("a file value refers to an earlier one", "DBT_HOST=filehost\nDATABASE_URL=postgresql://${DBT_HOST}/db\n",
         [["DBT_HOST", "envhost"]]),
        ("a later file value is not seen by an earlier reference",
         "DATABASE_URL=postgresql://${DBT_HOST}/db\nDBT_HOST=filehost\n", [["DBT_HOST", "envhost"]]),
        ("an empty variable does not take the default",
         "DATABASE_URL=postgresql://${DBT_HOST:-fallback}/db\n", [["DBT_HOST", ""]]),
        ("a name without '=' hides an earlier value", "DB_ECHO=true\ndb_echo\n", []),
        ("of two spellings the later wins", "DB_ECHO=true\ndb_echo=false\n", []),
        ("a repeated name keeps its first place", "DB_ECHO=1\ndb_echo=0\nDB_ECHO=1\n", []),
        ("the environment beats the file", "DB_POOL_SIZE=3\n", [["db_pool_size", "11"]]),
        ("two spellings in the environment: the later in byte order wins", None,
         [["DB_POOL_SIZE", "4"], ["db_pool_size", "6"]]),
        ("an invalid environment value is refused even with a valid file", "DB_POOL_SIZE=3\n",
         [["DB_POOL_SIZE", "x"]]),
        ("CRLF line endings", "DB_POOL_SIZE=8\r\nDB_ECHO=yes\r\n", []),
        ("CR line endings", "DB_POOL_SIZE=8\rDB_ECHO=yes\r", []),
        ("a CRLF inside double quotes is a newline", 'DATABASE_URL="postgresql://h/db\r\nx"\n', []),
        ("a byte order mark", "\ufeffDB_POOL_SIZE=8\n", []),
        ("a garbage line is skipped", "DB_POOL_SIZE=8\nthis is not 'an assignment\nDB_ECHO=on\n", []),
        ("an unterminated quote swallows lines up to the next quote",
         "DB_POOL_SIZE=\"8\nDB_ECHO=on\nDB_MAX_OVERFLOW=\"3\"\n", []),
        ("inline comments", "DB_POOL_SIZE=8 # eight\nDB_ECHO=on#not a comment\nDB_MAX_OVERFLOW= # empty\n", []),
        ("export and spaces", "export DB_POOL_SIZE = 8\n  export\tDB_ECHO=on  \n", []),
        ("a quoted key", "'DB_POOL_SIZE'=8\n", []),
        ("single-quote escapes", "DATABASE_URL='postgresql://h/d\\'b\\\\x\\n'\n", []),
        ("double-quote escapes", 'DATABASE_URL="postgresql://h/\\t\\"\\\\\\a\\$"\n', []),
        ("a bool with spaces is refused", "DB_ECHO=' true'\n", []),
        ("a float with underscores", "DB_POOL_TIMEOUT=1_000.5\n", []),
        ("inf is a float to pydantic", "DB_POOL_TIMEOUT=inf\n", []),
        ("a negative pool size", "DB_POOL_SIZE=-5\n", []),
        ("an int too large for dbtool", "DB_POOL_SIZE=99999999999999999999\n", []),
        ("an empty URL", "DATABASE_URL=\n", []),
        ("a multi-line URL", 'DATABASE_URL="postgresql://h/db\nsecond"\n', []),
        ("nothing at all", None, []),
    ]
    out = []
    for number, (name, dotenv, environment) in enumerate(cases):
        secrets = ["Pw1-issue"] if dotenv and "Pw1-issue" in dotenv else []
        out.append({
            "name": f"named-{number:02}: {name}",
            "dotenv": dotenv,
            "environment": sorted(environment),
            "secrets": secrets,
        })
    return out


# --- single conversions ------------------------------------------------------------------


def conversions(rng: random.Random) -> list[dict]:
    adapters = {"int": TypeAdapter(int), "float": TypeAdapter(float), "bool": TypeAdapter(bool)}
    alphabet = {
        "int": "0123456789_.+- \t0e1",
        "float": "0123456789_.+- \teEinfatyx",
        "bool": "tTrRuUeEfFaAlLsSyYnNoO01 ",
    }
    handpicked = {
        "int": INT_TEXTS + ["1" * 30, "-" + "9" * 25, "0.0", "-1.0", "00.00", "0_1", "1_0_0",
                             "\u00a05", "5\x1c", "\u20035", "1.", ".0", "-.0", "0__0", "+0", "-00"],
        "float": FLOAT_TEXTS + ["INF", "NaN", "-nan", "+inf", "infinity", "1e", "e1", "1.5_0",
                                "5.0e1_0", "\u00a01.5", "1_000 ", " 1_000", "0x1p3", "1d"],
        "bool": BOOL_TEXTS + ["F", "T", "yES", "nO", "oN", "OFF", "10", "01", "true\n"],
    }
    out = []
    for kind, adapter in adapters.items():
        texts = list(dict.fromkeys(handpicked[kind]))
        seen = set(texts)
        while len(texts) < 400:
            text = "".join(rng.choice(alphabet[kind]) for _ in range(rng.randint(0, 6)))
            if text not in seen:
                seen.add(text)
                texts.append(text)
        for text in texts:
            try:
                value = record(adapter.validate_python(text), kind)
            except ValidationError:
                value = None
            out.append({"kind": kind, "text": text, "value": value})
    return out


# --- python-dotenv alone ----------------------------------------------------------------

DOTENV_FRAGMENTS = [
    "A", "b", "DB_ECHO", "export ", "export", "=", "=", " = ", "'", "'", '"', '"', "\\", "\\n",
    "\\'", '\\"', "#", " #c", "#c", "${A}", "${B:-x}", "${A:-}", "${", "}", ":-", ":", "$A", "\n",
    "\n", "\n", "\r\n", "\r", " ", " ", "\t", "5", "v a l", "\ufeff", "\u00e9", "\x0b", "\x1c",
    "\u00a0", "\u2028",
]


VALUE_FRAGMENTS = [
    "x", "5", " ", "\t", "#", " #c", "'", '"', "\\", "\\n", "\\'", '\\"', "\\t", "\\$", "${A}",
    "${B:-dflt}", "${A:-}", "${b}", "${", "}", "$A", "\n", "\r\n", "\u00a0", "\x1c", "=",
]


def dotenv_line(rng: random.Random) -> str:
    """One statement-shaped line: an optional export, a key, '=', a value, a line end."""
    export = rng.choice(["", "", "", "export ", "export\t", " "])
    key = rng.choice(["A", "B", "b", "DB_ECHO", "'q k'", "A.b-c"])
    equals = rng.choice(["=", "=", " =", "= ", " = ", ""])
    inner = "".join(rng.choice(VALUE_FRAGMENTS) for _ in range(rng.randint(0, 6)))
    quote = rng.choice(["", "", "'", '"'])
    closing = quote if rng.random() < 0.9 else ""
    tail = rng.choice(["", "", " # note", "#x", " ", " junk"])
    end = rng.choice(["\n", "\n", "\r\n", "\r", ""])
    return f"{export}{key}{equals}{quote}{inner}{closing}{tail}{end}"


def dotenv_texts(rng: random.Random) -> list[dict]:
    """python-dotenv's dotenv_values() on texts made of .env syntax fragments, any keys."""
    out = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "x.env")
        saved_environ = dict(os.environ)
        for _ in range(1500):
            if rng.random() < 0.3:
                text = "".join(rng.choice(DOTENV_FRAGMENTS) for _ in range(rng.randint(1, 24)))
            else:
                text = "".join(dotenv_line(rng) for _ in range(rng.randint(1, 4)))
            environment = [["A", "env-a"]] if rng.random() < 0.5 else []
            path.write_bytes(text.encode("utf-8"))
            os.environ.clear()
            os.environ.update(dict(environment))
            WARNINGS.count = 0
            try:
                values = dotenv_values(path, encoding="utf-8")
            finally:
                os.environ.clear()
                os.environ.update(saved_environ)
            out.append({
                "text": text,
                "environment": environment,
                "values": [[k, v] for k, v in values.items()],
                "skipped_statements": WARNINGS.count,
            })
    return out


def main() -> None:
    rng = random.Random(SEED)
    cases = handmade_cases() + [generate_case(rng, n) for n in range(GENERATED_CASES)]
    for case in cases:
        case.update(run_application(case["dotenv"], case["environment"]))
    fixture = {
        "generated_by": "scripts/gen_settings_fixture.py",
        "seed": SEED,
        "versions": {
            "python": sys.version.split()[0],
            **{p: version(p) for p in ["pydantic-settings", "pydantic", "pydantic-core", "python-dotenv"]},
        },
        "settings_class": SETTINGS_SOURCE.strip(),
        "cases": cases,
        "conversions": conversions(rng),
        "dotenv_texts": dotenv_texts(rng),
    }
    OUT.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    refused = sum("refused" in c for c in cases)
    print(f"{len(cases)} cases ({refused} refused by pydantic), "
          f"{len(fixture['conversions'])} conversions, "
          f"{len(fixture['dotenv_texts'])} dotenv texts -> {OUT}")


if __name__ == "__main__":
    main()
