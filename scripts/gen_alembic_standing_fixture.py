#!/usr/bin/env python3
"""What the real Alembic says about databases stopped at several revisions, for check-migrations.

For each case below, a database on a real PostgreSQL is brought to a revision with the real
`alembic upgrade` (and `downgrade`, `stamp`, or a hand-edited alembic_version row), then this
script records what the real Alembic says about it:
  current   the revision ids `alembic current` prints (or its error),
  heads     the ids `alembic heads` prints,
  pending   the revisions the real `alembic upgrade heads` runs on a copy of the database, in the
            order its "Running upgrade ... -> REV" log lines show, each with its file and the
            message `alembic history` shows (Script.doc, checked against the history output),
  upgrade_head  whether the real `alembic upgrade head` succeeds on another copy (and its error).
and the SQL that rebuilds the state dbtool reads (the version table, its rows, the database's
search_path), since the cargo test does not run Python. Writes
tests/fixtures/alembic_standing/{branches,twoheads}/versions/*.py and cases.json; the cargo test
(tests/it/check_migrations.rs) runs dbtool on each case and compares.

    python3 -m venv /tmp/alembic-venv
    /tmp/alembic-venv/bin/pip install -r scripts/alembic-fixture-requirements.txt psycopg2-binary==2.9.13
    scripts/gen-alembic-standing-fixture.sh     # a throwaway cluster, then this script
"""

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

import alembic
import psycopg2
import sqlalchemy
from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "alembic_standing"
)
ADMIN_URL = os.environ["ALEMBIC_FIXTURE_URL"]  # a superuser on a throwaway cluster

ENV_PY = """\
import logging
import os

from alembic import context
from sqlalchemy import create_engine

logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
engine = create_engine(os.environ["ALEMBIC_URL"].replace("postgresql://", "postgresql+psycopg2://", 1))
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table=os.environ.get("ALEMBIC_VERSION_TABLE", "alembic_version"),
        version_table_schema=os.environ.get("ALEMBIC_VERSION_TABLE_SCHEMA") or None,
    )
    with context.begin_transaction():
        context.run_migrations()
"""


def migration(doc, revision, down, table):
    """A migration that creates (and drops) one table, safe to run twice."""
    docstring = '' if doc is None else '"""' + doc + '"""\n'
    body = f"""\
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
"""
    if table:
        body += f"    op.create_table({table!r}, sa.Column('id', sa.Integer(), primary_key=True), if_not_exists=True)\n"
        body += f"\n\ndef downgrade():\n    op.drop_table({table!r}, if_exists=True)\n"
    else:
        body += "    pass\n\n\ndef downgrade():\n    pass\n"
    return docstring + body


# a1 <- b2 <- (c3, x3) <- d4 (merge) <- e5. File names sort x3 before c3, and the docstrings
# take the shapes Alembic's Script.doc reads (header, two-line paragraph, none, indented).
BRANCHES = {
    "1_a1_accounts.py": migration("create accounts\n\nRevision ID: a1\nRevises:\nCreate Date: 2026-01-01\n", "a1", None, "accounts"),
    "2_b2_email.py": migration("add email\nand an index on it\n\nRevision ID: b2\nRevises: a1\n", "b2", "a1", "emails"),
    "4_c3_audit.py": migration("audit table", "c3", "b2", "audit"),
    "3_x3_tags.py": migration(None, "x3", "b2", "tags"),
    "5_d4_merge.py": migration("merge audit and tags\n\nRevision ID: d4\nRevises: c3, x3\n", "d4", ("c3", "x3"), None),
    "6_e5_orders.py": migration("\n    orders, indented  \n\n    Revision ID: e5\n", "e5", "d4", "orders"),
}

# t1 <- t2a <- t3a, and t1 <- t2b: two heads, file names not in revision-id order.
TWOHEADS = {
    "1_t1.py": migration("base", "t1", None, "t_base"),
    "2_t2b.py": migration("second branch", "t2b", "t1", "t_second"),
    "3_t2a.py": migration("first branch", "t2a", "t1", "t_first"),
    "4_t3a.py": migration("first branch, more", "t3a", "t2a", "t_more"),
}

PROJECTS = {"branches": BRANCHES, "twoheads": TWOHEADS}

# (name, project, version table as dbtool's --version-table (None: default), alembic's
# (version_table, version_table_schema), setup steps). A step is ("alembic", args...) or
# ("sql", statement); "{db}" is the case's database.
CASES = [
    ("none_applied", "branches", None, None, []),
    ("table_but_no_rows", "branches", None, None, [("alembic", "upgrade", "a1"), ("alembic", "downgrade", "base")]),
    ("at_base", "branches", None, None, [("alembic", "upgrade", "a1")]),
    ("middle", "branches", None, None, [("alembic", "upgrade", "b2")]),
    ("one_branch_c3", "branches", None, None, [("alembic", "upgrade", "c3")]),
    ("other_branch_x3", "branches", None, None, [("alembic", "upgrade", "x3")]),
    ("both_branches", "branches", None, None, [("alembic", "upgrade", "c3"), ("alembic", "upgrade", "x3")]),
    ("merged", "branches", None, None, [("alembic", "upgrade", "d4")]),
    ("at_head", "branches", None, None, [("alembic", "upgrade", "head")]),
    ("stamped_head", "branches", None, None, [("alembic", "stamp", "head")]),
    ("unknown_revision", "branches", None, None, [("alembic", "upgrade", "b2"), ("sql", "UPDATE alembic_version SET version_num = 'ff00deadbeef'")]),
    ("unknown_beside_known", "branches", None, None, [("alembic", "upgrade", "c3"), ("alembic", "upgrade", "x3"), ("sql", "UPDATE alembic_version SET version_num = 'zz9' WHERE version_num = 'x3'")]),
    ("schema_qualified_table", "branches", "meta.alembic_version", ("alembic_version", "meta"), [("sql", "CREATE SCHEMA meta"), ("alembic", "upgrade", "b2")]),
    ("table_in_schema_off_search_path", "branches", None, None, [("sql", "CREATE SCHEMA meta"), ("alembic-with", ("alembic_version", "meta"), "upgrade", "b2")]),
    ("table_found_through_search_path", "branches", None, None, [("sql", "CREATE SCHEMA meta"), ("sql", "ALTER DATABASE {db} SET search_path = meta, public"), ("alembic", "upgrade", "c3")]),
    ("custom_table_name", "branches", "deploy_versions", ("deploy_versions", None), [("alembic", "upgrade", "x3")]),
    ("two_heads_none_applied", "twoheads", None, None, []),
    ("two_heads_first_branch", "twoheads", None, None, [("alembic", "upgrade", "t2a")]),
    ("two_heads_all_applied", "twoheads", None, None, [("alembic", "upgrade", "heads")]),
]


def admin(sql):
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def database_url(db):
    return re.sub(r"/[^/]*$", "/" + db, ADMIN_URL)


def alembic_run(project_dir, db, table, *args):
    env = dict(os.environ)
    env["ALEMBIC_URL"] = database_url(db)
    env["ALEMBIC_VERSION_TABLE"] = table[0] if table else "alembic_version"
    env["ALEMBIC_VERSION_TABLE_SCHEMA"] = (table[1] or "") if table else ""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", os.path.join(project_dir, "alembic.ini"), *args],
        capture_output=True, text=True, env=env, cwd=project_dir,
    )


def ids(stdout):
    """The first word of each line `alembic current` / `heads` prints."""
    return [line.split()[0] for line in stdout.splitlines() if line.strip()]


def last_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def state_sql(db, table_name):
    """SQL that rebuilds what dbtool reads: every table named like the version table, its rows,
    and the database's search_path setting."""
    connection = psycopg2.connect(database_url(db))
    statements = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND c.relkind = 'r' ORDER BY 1", (table_name,))
        for (schema,) in cursor.fetchall():
            qualified = f'"{schema}"."{table_name}"'
            if schema != "public":
                statements.append(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            statements.append(
                f"CREATE TABLE {qualified} (version_num varchar(32) NOT NULL, "
                f"CONSTRAINT {table_name}_pkc PRIMARY KEY (version_num))")
            cursor.execute(f"SELECT version_num FROM {qualified} ORDER BY 1")
            for (revision,) in cursor.fetchall():
                statements.append(f"INSERT INTO {qualified} VALUES ('{revision}')")
        cursor.execute(
            "SELECT unnest(setconfig) FROM pg_db_role_setting s JOIN pg_database d "
            "ON d.oid = s.setdatabase WHERE d.datname = %s AND s.setrole = 0", (db,))
        for (setting,) in cursor.fetchall():
            name, value = setting.split("=", 1)
            statements.append(f"ALTER DATABASE {{db}} SET {name} = {value}")
    connection.close()
    return statements


def run_case(work, case):
    name, project, flag, table, steps = case
    project_dir = os.path.join(work, project)
    db = "case_" + name
    admin(f"CREATE DATABASE {db}")
    for step in steps:
        if step[0] == "sql" and step[1].startswith("ALTER DATABASE"):
            admin(step[1].format(db=db))
        elif step[0] == "sql":
            connection = psycopg2.connect(database_url(db))
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(step[1])
            connection.close()
        elif step[0] == "alembic-with":
            done = alembic_run(project_dir, db, step[1], *step[2:])
            assert done.returncode == 0, done.stderr
        else:
            done = alembic_run(project_dir, db, table, *step[1:])
            assert done.returncode == 0, done.stderr
    current = alembic_run(project_dir, db, table, "current")
    heads = alembic_run(project_dir, db, table, "heads")
    history = alembic_run(project_dir, db, table, "history")
    assert heads.returncode == 0 and history.returncode == 0, heads.stderr + history.stderr
    script = ScriptDirectory.from_config(Config(os.path.join(project_dir, "alembic.ini")))
    # the message recorded is the one `alembic history` shows
    for revision in script.walk_revisions():
        assert f"-> {revision.revision}" in history.stdout and revision.doc in history.stdout, history.stdout

    def upgraded(target):
        copy = db + "_" + target
        admin(f"CREATE DATABASE {copy} TEMPLATE {db}")
        # a template does not carry ALTER DATABASE ... SET: give the copy the same settings
        for step in steps:
            if step[0] == "sql" and step[1].startswith("ALTER DATABASE"):
                admin(step[1].format(db=copy))
        done = alembic_run(project_dir, copy, table, "upgrade", target)
        admin(f"DROP DATABASE {copy}")
        return done

    heads_run = upgraded("heads")
    head_run = upgraded("head")
    pending = None
    if heads_run.returncode == 0:
        pending = []
        for revision in re.findall(r"Running upgrade .*? -> ([^,\s]+)", heads_run.stderr):
            script_revision = script.get_revision(revision)
            pending.append({
                "revision": revision,
                "file": os.path.basename(script_revision.path),
                "message": script_revision.doc,
            })
    table_name = table[0] if table else "alembic_version"
    return {
        "name": name,
        "project": project,
        "version_table": flag,
        "setup": state_sql(db, table_name),
        "alembic": {
            "current": ids(current.stdout) if current.returncode == 0 else None,
            "current_error": None if current.returncode == 0 else last_line(current.stderr),
            "heads": ids(heads.stdout),
            "pending": pending,
            "upgrade_heads_error": None if heads_run.returncode == 0 else last_line(heads_run.stderr),
            "upgrade_head_ok": head_run.returncode == 0,
            "upgrade_head_error": None if head_run.returncode == 0 else last_line(head_run.stderr),
        },
    }


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        for project, files in PROJECTS.items():
            versions = os.path.join(ROOT, project, "versions")
            os.makedirs(versions)
            for file, text in files.items():
                with open(os.path.join(versions, file), "w") as f:
                    f.write(text)
            project_dir = os.path.join(work, project)
            os.makedirs(project_dir)
            with open(os.path.join(project_dir, "env.py"), "w") as f:
                f.write(ENV_PY)
            with open(os.path.join(project_dir, "alembic.ini"), "w") as f:
                f.write(f"[alembic]\nscript_location = {project_dir}\nversion_locations = {versions}\n")
        cases = [run_case(work, case) for case in CASES]
    document = {
        "versions": {
            "python": platform.python_version(),
            "alembic": alembic.__version__,
            "sqlalchemy": sqlalchemy.__version__,
        },
        "cases": cases,
    }
    with open(os.path.join(ROOT, "cases.json"), "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases written to {os.path.relpath(os.path.join(ROOT, 'cases.json'))}")


if __name__ == "__main__":
    main()
