"""The oracle for `--app-from`: application layouts (settings-class variants x engine-call
variants) and environment / .env cases, each imported by the real pydantic-settings and
SQLAlchemy with create_async_engine / create_engine replaced by a recorder, written to
tests/fixtures/app_oracle.json. tests/it/app_from.rs compares dbtool with it.

    python3 -m venv /tmp/dbtool-app-venv
    /tmp/dbtool-app-venv/bin/pip install -r scripts/app-fixture-requirements.txt
    /tmp/dbtool-app-venv/bin/python scripts/gen_app_fixture.py
"""

import json
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each settings variant: its config.py, and the expressions its fields give the engine.
SETTINGS = {
    "reference_float": (
        """from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "postgresql+asyncpg://super@localhost:5432/super"
    db_pool_size: int = 5
    db_max_overflow: int = 10
    db_pool_timeout: float = 30
    db_pool_recycle: int = 3600
    db_pool_pre_ping: bool = True
    db_echo: bool = False
    db_statement_timeout: float = 30


settings = Settings()
""",
        {"url": "settings.database_url", "pool": "settings.db_pool_size",
         "overflow": "settings.db_max_overflow", "timeout": "settings.db_pool_timeout",
         "recycle": "settings.db_pool_recycle", "ping": "settings.db_pool_pre_ping",
         "echo": "settings.db_echo", "statement": "settings.db_statement_timeout"},
        {"url": "DATABASE_URL", "pool": "DB_POOL_SIZE", "timeout": "DB_POOL_TIMEOUT",
         "statement": "DB_STATEMENT_TIMEOUT", "ping": "DB_POOL_PRE_PING"},
    ),
    "reference_int": (
        """from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "postgresql+asyncpg://super@localhost:5432/super"
    db_pool_size: int = 5
    db_max_overflow: int = 10
    db_pool_timeout: int = 30
    db_pool_recycle: int = 3600
    db_pool_pre_ping: bool = True
    db_echo: bool = False
    db_statement_timeout: int = 30


settings = Settings()
""",
        {"url": "settings.database_url", "pool": "settings.db_pool_size",
         "overflow": "settings.db_max_overflow", "timeout": "settings.db_pool_timeout",
         "recycle": "settings.db_pool_recycle", "ping": "settings.db_pool_pre_ping",
         "echo": "settings.db_echo", "statement": "settings.db_statement_timeout"},
        {"url": "DATABASE_URL", "pool": "DB_POOL_SIZE", "timeout": "DB_POOL_TIMEOUT",
         "statement": "DB_STATEMENT_TIMEOUT", "ping": "DB_POOL_PRE_PING"},
    ),
    "prefix_forbid": (
        """from typing import Optional

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="API_", env_file=".env")

    url: str
    pool: int = 20
    overflow: Optional[int] = None
    timeout: float | None = 10
    recycle: int = 1800
    ping: bool = False
    echo: bool = False
    statement: int = 15


settings = Settings()
""",
        {"url": "settings.url", "pool": "settings.pool", "overflow": "settings.pool",
         "timeout": "settings.timeout", "recycle": "settings.recycle", "ping": "settings.ping",
         "echo": "settings.echo", "statement": "settings.statement"},
        {"url": "API_URL", "pool": "API_POOL", "timeout": "API_TIMEOUT",
         "statement": "API_STATEMENT", "ping": "API_PING"},
    ),
    "aliases": (
        """from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=[".env", ".env.local"], extra="ignore"
    )

    database_url: str = Field(
        "postgresql+asyncpg://app@db:5432/app", validation_alias="DATABASE_URL"
    )
    pool_size: int = Field(default=5, validation_alias=AliasChoices("POOL_SIZE", "DB_POOL_SIZE"))
    pool_timeout: float = Field(default=30.0, alias="DB_POOL_TIMEOUT")
    pre_ping: bool = True
    statement_timeout: float = 30


def get_settings() -> Settings:
    return Settings()


settings = get_settings()
""",
        {"url": "settings.database_url", "pool": "settings.pool_size",
         "overflow": "10", "timeout": "settings.pool_timeout", "recycle": "-1",
         "ping": "settings.pre_ping", "echo": "False", "statement": "settings.statement_timeout"},
        {"url": "DATABASE_URL", "pool": "DB_POOL_SIZE", "timeout": "DB_POOL_TIMEOUT",
         "statement": "APP_STATEMENT_TIMEOUT", "ping": "APP_PRE_PING"},
    ),
    "nested": (
        """from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict


class Database(BaseModel):
    url: str = "postgresql+asyncpg://nested@db:5432/app"
    pool_size: int = 5
    pool_timeout: float = 30
    pre_ping: bool = True
    statement_timeout: int = 30


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    db: Database = Database()


settings = Settings()
""",
        {"url": "settings.db.url", "pool": "settings.db.pool_size", "overflow": "10",
         "timeout": "settings.db.pool_timeout", "recycle": "3600",
         "ping": "settings.db.pre_ping", "echo": "False", "statement": "settings.db.statement_timeout"},
        {"url": "DB__URL", "pool": "DB__POOL_SIZE", "timeout": "DB__POOL_TIMEOUT",
         "statement": "DB__STATEMENT_TIMEOUT", "ping": "DB__PRE_PING"},
    ),
    "template_upper": (
        """from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    API_V1_STR: str = "/api/v1"
    DATABASE_URL: str = "postgresql+asyncpg://postgres@localhost:5432/app"
    POOL_SIZE: int = 10
    POOL_TIMEOUT: float = 30
    PRE_PING: bool = True
    STATEMENT_TIMEOUT: int = 60


settings = Settings()  # type: ignore
""",
        {"url": "str(settings.DATABASE_URL)", "pool": "settings.POOL_SIZE", "overflow": "0",
         "timeout": "settings.POOL_TIMEOUT", "recycle": "300",
         "ping": "settings.PRE_PING", "echo": "False", "statement": "settings.STATEMENT_TIMEOUT"},
        {"url": "DATABASE_URL", "pool": "POOL_SIZE", "timeout": "POOL_TIMEOUT",
         "statement": "STATEMENT_TIMEOUT", "ping": "PRE_PING"},
    ),
    "case_sensitive": (
        """from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, env_file=".env", extra="ignore")

    DATABASE_URL: str = "postgresql+asyncpg://cs@db:5432/app"
    DB_POOL_SIZE: int = 5
    DB_POOL_TIMEOUT: float = 30
    DB_PRE_PING: bool = True
    DB_STATEMENT_TIMEOUT: float = 30


settings = Settings()
""",
        {"url": "settings.DATABASE_URL", "pool": "settings.DB_POOL_SIZE", "overflow": "10",
         "timeout": "settings.DB_POOL_TIMEOUT", "recycle": "3600",
         "ping": "settings.DB_PRE_PING", "echo": "False", "statement": "settings.DB_STATEMENT_TIMEOUT"},
        {"url": "DATABASE_URL", "pool": "DB_POOL_SIZE", "timeout": "DB_POOL_TIMEOUT",
         "statement": "DB_STATEMENT_TIMEOUT", "ping": "DB_PRE_PING"},
    ),
}

ENGINES = {
    "full": """from sqlalchemy.ext.asyncio import create_async_engine

from app.config import settings

engine = create_async_engine(
    {url},
    pool_size={pool},
    max_overflow={overflow},
    pool_timeout={timeout},
    pool_recycle={recycle},
    pool_pre_ping={ping},
    echo={echo},
    connect_args={{"server_settings": {{"statement_timeout": str(int({statement} * 1000))}}}},
)
""",
    "literals": """from sqlalchemy.ext.asyncio import create_async_engine

from .config import settings

STATEMENT_TIMEOUT_MS = 5000

engine = create_async_engine(
    {url},
    pool_pre_ping=False,
    pool_timeout=5,
    connect_args={{
        "server_settings": {{
            "application_name": "api",
            "statement_timeout": str(STATEMENT_TIMEOUT_MS),
        }}
    }},
)
""",
    "nullpool": """from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from app import config

engine = create_engine({url_module}, poolclass=NullPool, echo={echo_module})
""",
}

# (name, environment, .env text or None, .env.local text or None)
ENV_CASES = [
    ("nothing", {}, None),
    ("env", {"url": "postgresql+asyncpg://u:secret@envhost:6432/envdb", "pool": "7",
             "timeout": "2.5", "statement": "12", "ping": "off"}, None),
    ("dotenv", {}, {"url": "postgresql+asyncpg://u:pw@filehost/filedb", "pool": " 9 ",
                    "timeout": "1_5", "statement": "45", "ping": "yes"}),
    ("env_over_dotenv", {"pool": "3"}, {"pool": "4", "statement": "10"}),
    ("exponent", {"statement": "1e3"}, None),
    ("float_pool", {"pool": "5.0"}, None),
    ("bad_pool", {"pool": "five"}, None),
    ("bad_bool", {"ping": "maybe"}, None),
    ("extra_in_dotenv", {}, {"pool": "6", "UNRELATED_SETTING": "1"}),
    ("empty_value", {"pool": ""}, None),
    ("lower_case_names", {"lower:pool": "8"}, None),
]


def variable(names, key):
    if key.startswith("lower:"):
        return names[key[6:]].lower()
    return names[key] if key in names else key


def layout(settings_name, engine_name):
    config, expressions, _ = SETTINGS[settings_name]
    fields = dict(expressions)
    fields["url_module"] = fields["url"].replace("settings.", "config.settings.")
    fields["echo_module"] = fields["echo"].replace("settings.", "config.settings.")
    files = {
        "app/__init__.py": "",
        "app/config.py": config,
        "app/db.py": ENGINES[engine_name].format(**fields),
        "app/main.py": "from app.db import engine\n",
        # A test's own engine, which dbtool must skip.
        os.path.join("tests", "test_db.py"): "from sqlalchemy import create_engine\n\nengine = create_engine('sqlite://')\n",
    }
    return files


RUNNER = r"""
import json, sys
import sqlalchemy
import sqlalchemy.ext.asyncio
recorded = {}
def record(function):
    def fake(*args, **kwargs):
        if args:
            kwargs = {"url": args[0], **kwargs}
        recorded["function"] = function
        recorded["arguments"] = kwargs
        return object()
    return fake
sqlalchemy.create_engine = record("create_engine")
sqlalchemy.ext.asyncio.create_async_engine = record("create_async_engine")
def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)
try:
    import importlib
    sys.path.insert(0, ".")
    importlib.import_module("app.main")
    print(json.dumps({"arguments": plain(recorded["arguments"]), "function": recorded["function"]}))
except Exception as error:
    import pydantic
    if isinstance(error, pydantic.ValidationError):
        locs = [str(e["loc"][0]) for e in error.errors()]
        print(json.dumps({"fails": locs}))
    else:
        print(json.dumps({"fails": [type(error).__name__ + ": " + str(error)]}))
"""


def main():
    cases = []
    for settings_name, (_, _, names) in SETTINGS.items():
        for engine_name in ENGINES:
            files = layout(settings_name, engine_name)
            for env_name, env, dotenv in ENV_CASES:
                environment = {variable(names, k): v for k, v in env.items()}
                dotenv_text = None
                if dotenv is not None:
                    dotenv_text = "".join(
                        f"{variable(names, k)}={v}\n" for k, v in dotenv.items()
                    )
                with tempfile.TemporaryDirectory() as directory:
                    for path, text in files.items():
                        target = Path(directory, path)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_text(text)
                    if dotenv_text is not None:
                        Path(directory, ".env").write_text(dotenv_text)
                    run_env = {"PATH": os.environ["PATH"], **environment}
                    result = subprocess.run(
                        [sys.executable, "-c", RUNNER], cwd=directory, env=run_env,
                        capture_output=True, text=True, check=True,
                    )
                outcome = json.loads(result.stdout.strip().splitlines()[-1])
                cases.append({
                    "name": f"{settings_name}/{engine_name}/{env_name}",
                    "settings": settings_name,
                    "engine": engine_name,
                    "environment": sorted(environment.items()),
                    "dotenv": dotenv_text,
                    **outcome,
                })
    layouts = {
        f"{s}/{e}": layout(s, e) for s in SETTINGS for e in ENGINES
    }
    versions = {
        name: metadata.version(name)
        for name in ["pydantic-settings", "pydantic", "pydantic-core", "python-dotenv", "sqlalchemy"]
    }
    out = ROOT / "tests" / "fixtures" / "app_oracle.json"
    out.write_text(json.dumps({"versions": versions, "layouts": layouts, "cases": cases}, indent=1) + "\n")
    print(f"{len(cases)} cases written to {out}")


if __name__ == "__main__":
    main()
