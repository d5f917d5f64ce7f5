#!/usr/bin/env python3
"""What the real Alembic does with pending revisions on databases that drifted, for
check-migrations' pending references (issue 28, items 2 and 7).

A fixture project (`shop`, and `shop_branched` with a second head) is upgraded with the real
Alembic to a revision on a real PostgreSQL, then made to diverge the ways production databases
do: objects renamed as `lint-constraints --fix-sql` renames them, dropped by hand, names a later
revision creates taken by other objects, alembic_version ahead of the code. The real
`alembic upgrade head` then runs on a copy, and its outcome is recorded: success, or the
revision it failed in (the last "Running upgrade ... -> REV" before the error) and the error.
Each case keeps the SQL that rebuilds the diverged database (`pg_dump --schema-only` and the
version table's rows), so the cargo test (tests/it/check_migrations.rs) runs dbtool on it
without Python.

The cases are a fixed list (the issue's hazards) and `--random N` more drawn from `--seed`.

    scripts/gen-alembic-pending-fixture.sh                     # the committed fixture
    scripts/check-migrations-oracle.sh --random 300 --seed 7   # the oracle, compared at once
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile

import alembic
import psycopg2
import sqlalchemy

ADMIN_URL = os.environ["ALEMBIC_FIXTURE_URL"]  # a superuser on a throwaway cluster
PG_DUMP = os.environ.get("PG_DUMP", "pg_dump")
# the databases made here: several runs may share a cluster
PREFIX = f"pending_{os.getpid()}"

ENV_PY = """\
import logging
import os

from alembic import context
from sqlalchemy import create_engine

logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
engine = create_engine(os.environ["ALEMBIC_URL"].replace("postgresql://", "postgresql+psycopg2://", 1))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

HEADER = '''"""{doc}"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
'''

# (revision, down, doc, upgrade body, names the upgrade creates). The bodies use what real
# projects write: unnamed constraints PostgreSQL names, drops and renames by name, batch
# blocks, if_exists / if_not_exists, literal and computed op.execute.
SHOP = [
    ("a1", None, "users", """\
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('email', sa.String(200), nullable=False, unique=True),
        sa.Column('name', sa.String(100)),
    )
""", ["users", "users_pkey", "users_email_key", "users_id_seq"]),
    ("b2", "a1", "messages", """\
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('author_id', sa.Integer(), sa.ForeignKey('users.id')),
        sa.Column('body', sa.Text()),
        sa.CheckConstraint('length(body) < 10000', name='messages_body_check'),
    )
    op.create_index('ix_messages_body', 'messages', ['body'])
""", ["messages", "messages_pkey", "messages_author_id_fkey", "messages_body_check", "ix_messages_body", "messages_id_seq"]),
    ("c3", "b2", "foreign key named by the convention", """\
    op.drop_constraint('messages_author_id_fkey', 'messages', type_='foreignkey')
    op.create_foreign_key('fk_messages_author_id_users', 'messages', 'users', ['author_id'], ['id'], ondelete='CASCADE')
""", ["fk_messages_author_id_users"]),
    ("d4", "c3", "index on body and author", """\
    op.drop_index('ix_messages_body', table_name='messages')
    op.create_index('ix_messages_body_author', 'messages', ['body', 'author_id'])
    op.create_index('ix_users_name', 'users', ['name'], if_not_exists=True)
""", ["ix_messages_body_author", "ix_users_name"]),
    ("e5", "d4", "email address", """\
    with op.batch_alter_table('users') as batch_op:
        batch_op.alter_column('email', new_column_name='email_address')
        batch_op.drop_constraint('users_email_key', type_='unique')
        batch_op.create_unique_constraint('uq_users_email_address', ['email_address'])
""", ["uq_users_email_address"]),
    ("f6", "e5", "posts", """\
    op.rename_table('messages', 'posts')
    op.create_check_constraint('ck_posts_author', 'posts', 'author_id > 0')
    op.drop_constraint('messages_body_check', 'posts', type_='check', if_exists=True)
""", ["posts", "ck_posts_author"]),
    ("g7", "f6", "tags", """\
    op.create_table(
        'tags',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(50), nullable=False),
        sa.UniqueConstraint('post_id', 'label', name='uq_tags_post_id_label'),
        if_not_exists=True,
    )
    op.create_foreign_key(None, 'tags', 'posts', ['post_id'], ['id'])
    op.execute("ALTER TABLE posts RENAME CONSTRAINT ck_posts_author TO ck_posts_author_positive")
""", ["tags", "tags_pkey", "tags_id_seq", "uq_tags_post_id_label", "tags_post_id_fkey", "ck_posts_author_positive"]),
    ("h8", "g7", "cleanup", """\
    statement = "SELECT 1"
    op.execute(statement)
    op.drop_index('ix_users_name', table_name='users')
    op.drop_constraint('ck_posts_author_positive', 'posts')
""", []),
]

# shop with a second head beside g7: `alembic upgrade head` stops on the two heads.
SHOP_BRANCHED = SHOP + [
    ("x9", "f6", "a branch", """\
    op.create_index('ix_posts_author_id', 'posts', ['author_id'])
""", ["ix_posts_author_id"]),
]

PROJECTS = {"shop": SHOP, "shop_branched": SHOP_BRANCHED}


def write_project(versions, revisions):
    os.makedirs(versions)
    for n, (revision, down, doc, body, _) in enumerate(revisions):
        text = HEADER.format(doc=doc, revision=revision, down=down) + body + "\n\ndef downgrade():\n    pass\n"
        with open(os.path.join(versions, f"{n + 1}_{revision}.py"), "w") as f:
            f.write(text)


def admin(sql):
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def database_url(db):
    return re.sub(r"/[^/]*$", "/" + db, ADMIN_URL)


def alembic_run(project_dir, db, *args):
    env = dict(os.environ, ALEMBIC_URL=database_url(db))
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", os.path.join(project_dir, "alembic.ini"), *args],
        capture_output=True, text=True, env=env, cwd=project_dir,
    )


def sql(db, statement):
    connection = psycopg2.connect(database_url(db))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def rows(db, query):
    connection = psycopg2.connect(database_url(db))
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall()
    finally:
        connection.close()


def objects(db):
    """(kind, table, name) of the constraints and the indexes that back none, in public."""
    constraints = rows(db, """
        SELECT con.contype::text, c.relname::text, con.conname::text FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY 2, 3""")
    indexes = rows(db, """
        SELECT 'i', t.relname::text, ic.relname::text FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname <> 'alembic_version'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid) ORDER BY 2, 3""")
    return constraints + indexes


def tables(db):
    return [r[0] for r in rows(db, "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' ORDER BY 1")]


def fix_sql_name(kind, table, name, db):
    """The name lint-constraints --fix-sql gives, for the app's convention (fk/uq/ck/ix/pk)."""
    columns = [r[0] for r in rows(db, f"""
        SELECT a.attname::text FROM pg_constraint con JOIN pg_attribute a
          ON a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)
        WHERE con.conname = '{name}' ORDER BY a.attnum""")]
    if kind == "f":
        target = rows(db, f"SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = '{name}'")[0][0]
        return f"fk_{table}_{'_'.join(columns)}_{target}"
    if kind == "u":
        return f"uq_{table}_{'_'.join(columns)}"
    if kind == "p":
        return f"pk_{table}"
    if kind == "c":
        return f"ck_{table}_{name}"[:63]
    return f"ix_{table}_renamed_{name}"[:63]


def divergences(rng, db, later_names):
    """Candidate statements that make the database drift, each a (label, SQL)."""
    found = []
    for kind, table, name in objects(db):
        new = fix_sql_name(kind, table, name, db)
        if kind == "i":
            found.append((f"rename index {name}", f'ALTER INDEX "{name}" RENAME TO "{new}"'))
            found.append((f"drop index {name}", f'DROP INDEX "{name}"'))
        else:
            found.append((f"rename {name} as --fix-sql", f'ALTER TABLE "{table}" RENAME CONSTRAINT "{name}" TO "{new}"'))
            found.append((f"drop {name}", f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    present = tables(db)
    for name in later_names:
        if name.endswith("_seq"):
            continue
        found.append((f"take {name} with a table", f'CREATE TABLE "{name}" (x integer)'))
        if present:
            table = rng.choice(present)
            found.append((f"take {name} with an index on {table}", f'CREATE INDEX "{name}" ON "{table}" (id)'))
            found.append((f"take {name} with a check on {table}", f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK (id > 0)'))
    found.append(("alembic_version ahead", "UPDATE alembic_version SET version_num = 'ffff0000beef'"))
    return found


# (name, project, stop revision, divergence SQL): the hazards, named.
FIXED = [
    ("clean_from_nothing", "shop", None, []),
    ("clean_middle", "shop", "b2", []),
    ("at_head", "shop", "h8", []),
    ("fix_sql_renamed_fk_then_dropped_by_old_name", "shop", "b2",
     ["ALTER TABLE messages RENAME CONSTRAINT messages_author_id_fkey TO fk_messages_author_id_users"]),
    ("fk_dropped_by_hand", "shop", "b2", ["ALTER TABLE messages DROP CONSTRAINT messages_author_id_fkey"]),
    ("index_renamed", "shop", "c3", ["ALTER INDEX ix_messages_body RENAME TO ix_messages_text"]),
    ("unique_renamed_before_batch_drop", "shop", "d4",
     ["ALTER TABLE users RENAME CONSTRAINT users_email_key TO uq_users_email"]),
    ("index_name_taken_by_a_table", "shop", "c3", ["CREATE TABLE ix_messages_body_author (x integer)"]),
    ("if_not_exists_index_name_taken", "shop", "c3", ["CREATE INDEX ix_users_name ON messages (body)"]),
    ("constraint_name_taken_on_the_table", "shop", "f6",
     ["ALTER TABLE posts ADD CONSTRAINT tags_post_id_fkey CHECK (id > 0)",
      "ALTER TABLE users ADD CONSTRAINT uq_tags_post_id_label CHECK (id > 0)"]),
    ("unique_name_taken_by_an_index", "shop", "d4", ["CREATE INDEX uq_users_email_address ON messages (id)"]),
    ("renamed_but_never_referenced", "shop", "g7", ["ALTER TABLE tags RENAME CONSTRAINT uq_tags_post_id_label TO uq_tags_label"]),
    ("check_dropped_if_exists", "shop", "e5", ["ALTER TABLE messages DROP CONSTRAINT messages_body_check"]),
    ("primary_key_dropped_then_referenced", "shop", "a1", ["ALTER TABLE users DROP CONSTRAINT users_pkey"]),
    ("table_name_taken_by_an_index", "shop", "f6", ["CREATE INDEX tags ON users (id)"]),
    ("table_exists_with_other_columns", "shop", "f6", ["CREATE TABLE tags (x integer)"]),
    ("version_ahead", "shop", "c3", ["UPDATE alembic_version SET version_num = 'ffff0000beef'"]),
    ("two_heads", "shop_branched", "c3", []),
]


def dump(db):
    done = subprocess.run([PG_DUMP, "--schema-only", "--no-owner", "--no-privileges", database_url(db)],
                          capture_output=True, text=True, check=True)
    lines = [line for line in done.stdout.splitlines() if not line.startswith("\\")]
    statements = ["\n".join(lines)]
    for (revision,) in rows(db, "SELECT version_num FROM alembic_version ORDER BY 1") if "alembic_version" in tables_with_version(db) else []:
        statements.append(f"INSERT INTO public.alembic_version VALUES ('{revision}')")
    return statements


def tables_with_version(db):
    return [r[0] for r in rows(db, "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")]


def failing_revision(stderr):
    running = re.findall(r"Running upgrade .*? -> ([^,\s]+)", stderr)
    return running[-1] if running else None


def run_case(work, index, name, project, stop, steps):
    project_dir = os.path.join(work, project)
    db = f"{PREFIX}_{index}"
    admin(f"DROP DATABASE IF EXISTS {db}")
    admin(f"CREATE DATABASE {db}")
    if stop is not None:
        done = alembic_run(project_dir, db, "upgrade", stop)
        assert done.returncode == 0, done.stderr
    applied = []
    for step in steps:
        sql(db, step)
        applied.append(step)
    copy = db + "_up"
    admin(f"DROP DATABASE IF EXISTS {copy}")
    admin(f"CREATE DATABASE {copy} TEMPLATE {db}")
    upgrade = alembic_run(project_dir, copy, "upgrade", "head")
    admin(f"DROP DATABASE {copy}")
    setup = dump(db)
    admin(f"DROP DATABASE {db}")
    # the driver's error line (psycopg2.errors.X: message), else Alembic's own last line
    lines = [line for line in upgrade.stderr.splitlines() if line.strip()]
    error = [line for line in lines if line.startswith(("psycopg2.", "sqlalchemy.exc."))] or lines
    return {
        "name": name,
        "project": project,
        "stop": stop,
        "divergence": applied,
        "setup": setup,
        "alembic": {
            "upgrade_head_ok": upgrade.returncode == 0,
            "fails_in": None if upgrade.returncode == 0 else failing_revision(upgrade.stderr),
            "error": None if upgrade.returncode == 0 else (error[0] if error else ""),
        },
    }


def random_cases(count, seed, work):
    """`count` cases drawn from `seed`: a stop revision, then zero to two divergences that the
    database accepts."""
    rng = random.Random(seed)
    cases = []
    probe = f"{PREFIX}_probe"
    while len(cases) < count:
        project = rng.choice(["shop"] * 9 + ["shop_branched"])
        revisions = PROJECTS[project]
        stop_index = rng.randrange(0, len(SHOP))
        stop = None if stop_index == 0 else SHOP[stop_index - 1][0]
        later = [n for r in revisions[stop_index:] for n in r[4]]
        admin(f"DROP DATABASE IF EXISTS {probe}")
        admin(f"CREATE DATABASE {probe}")
        project_dir = os.path.join(work, project)
        if stop is not None:
            done = alembic_run(project_dir, probe, "upgrade", stop)
            assert done.returncode == 0, done.stderr
        steps = []
        for _ in range(rng.choice([0, 1, 1, 2, 2])):
            candidates = divergences(rng, probe, later) if stop is not None else [
                (f"take {n} with a table", f'CREATE TABLE "{n}" (x integer)') for n in later if not n.endswith("_seq")]
            label, statement = rng.choice(candidates)
            try:
                sql(probe, statement)
                steps.append(statement)
            except psycopg2.Error:
                pass  # the database refuses this drift (a dependency): draw again next time
        admin(f"DROP DATABASE {probe}")
        cases.append((f"random_{seed}_{len(cases)}", project, stop, steps))
    return cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, help="directory for the projects and cases.json")
    parser.add_argument("--random", type=int, default=0, help="random cases beside the fixed ones")
    parser.add_argument("--seed", type=int, default=28)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        for project, revisions in PROJECTS.items():
            versions = os.path.join(args.out, project, "versions")
            write_project(versions, revisions)
            project_dir = os.path.join(work, project)
            os.makedirs(project_dir)
            with open(os.path.join(project_dir, "env.py"), "w") as f:
                f.write(ENV_PY)
            with open(os.path.join(project_dir, "alembic.ini"), "w") as f:
                f.write(f"[alembic]\nscript_location = {project_dir}\nversion_locations = {os.path.abspath(versions)}\n")
        plan = FIXED + random_cases(args.random, args.seed, work)
        cases = [run_case(work, i, *case) for i, case in enumerate(plan)]
    document = {
        "versions": {
            "python": platform.python_version(),
            "alembic": alembic.__version__,
            "sqlalchemy": sqlalchemy.__version__,
            "postgresql": rows("postgres", "SHOW server_version")[0][0],
        },
        "seed": args.seed,
        "cases": cases,
    }
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    failing = sum(1 for c in cases if not c["alembic"]["upgrade_head_ok"])
    print(f"{len(cases)} cases ({failing} where the real upgrade fails) written to {args.out}/cases.json")


if __name__ == "__main__":
    main()
