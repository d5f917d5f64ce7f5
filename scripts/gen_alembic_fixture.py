#!/usr/bin/env python3
"""Alembic projects and the SQL the real Alembic renders for them, for issue 19's oracle test.

Each project under tests/fixtures/alembic/<name>/ gets:
  versions/*.py   the migrations (autogenerate style, written here as literal text),
  upgrade.sql     `alembic upgrade base:head --sql` with a minimal offline env.py,
  VERSIONS        the Python, Alembic and SQLAlchemy versions that rendered it.
The cargo test (tests/it/lint_alembic.rs) lints versions/ and upgrade.sql and compares the
violation sets. env.py and alembic.ini are written to a temporary directory, not kept.

    python3 -m venv /tmp/venv19
    /tmp/venv19/bin/pip install -r scripts/alembic-fixture-requirements.txt
    /tmp/venv19/bin/python scripts/gen_alembic_fixture.py
"""

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap

import alembic
import sqlalchemy

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "alembic")

CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ENV_PY = """\
from alembic import context
import sqlalchemy as sa

target_metadata = {metadata}

context.configure(
    url="postgresql://localhost/unused",
    target_metadata=target_metadata,
    literal_binds=True,
    dialect_opts={{"paramstyle": "named"}},
)
with context.begin_transaction():
    context.run_migrations()
"""

HEADER = '''\
"""{doc}

Revision ID: {revision}
Revises: {down_text}
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = {revision!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
'''

DOWNGRADE = '''

def downgrade() -> None:
    pass
'''


def migration(revision, down, doc, body):
    down_text = ", ".join(down) if isinstance(down, tuple) else (down or "")
    head = HEADER.format(doc=doc, revision=revision, down=down, down_text=down_text)
    return head + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n" + DOWNGRADE


# No naming convention in target_metadata: unnamed constraints get PostgreSQL's names, which the
# lint reports with the op.f() name to write.
PLAIN = {
    "metadata": "None",
    "files": {
        # file names deliberately out of revision order
        "c3_add_orders.py": migration("c3", "a1", "orders, a foreign key, a check, an index", """
            op.create_table('orders',
                sa.Column('id', sa.Integer(), nullable=False),
                sa.Column('user_id', sa.Integer(), nullable=False),
                sa.Column('total', sa.Numeric(), nullable=True),
                sa.CheckConstraint('total >= 0'),
                sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
                sa.PrimaryKeyConstraint('id')
            )
            op.create_index(op.f('ix_orders_user_id'), 'orders', ['user_id'], unique=False)
            op.create_index('orders_total_idx', 'orders', ['total'], unique=False)
        """),
        "a1_initial.py": migration("a1", None, "users", """
            op.create_table('users',
                sa.Column('id', sa.Integer(), nullable=False),
                sa.Column('email', sa.String(length=255), nullable=False),
                sa.Column('name', sa.String(), nullable=True, index=True),
                sa.Column('org', sa.String(), nullable=True, unique=True),
                sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
                sa.UniqueConstraint('email')
            )
        """),
        "b2_tags.py": migration("b2", "a1", "tags on a parallel branch", """
            op.create_table('tags',
                sa.Column('id', sa.BigInteger(), primary_key=True),
                sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
                sa.Column('label', sa.String(), nullable=False, unique=True, index=True)
            )
            op.create_unique_constraint(None, 'tags', ['user_id', 'label'])
        """),
        "d4_merge.py": migration("d4", ("c3", "b2"), "merge", """
            op.add_column('users', sa.Column('nickname', sa.String(), nullable=True, unique=True))
            op.add_column('orders', sa.Column('tag_id', sa.BigInteger(), sa.ForeignKey('tags.id'), nullable=True))
            op.create_check_constraint('positive_total', 'orders', 'total > 0')
            op.create_foreign_key(None, 'orders', 'users', ['user_id'], ['id'])
            op.execute("CREATE INDEX ON users (lower(email))")
            op.execute(sa.text("ALTER TABLE tags ADD CONSTRAINT tags_label_check CHECK (label <> '')"))
            op.drop_constraint('users_email_key', 'users', type_='unique')
            op.create_unique_constraint(op.f('uq_users_email'), 'users', ['email'])
        """),
        "e5_batch_rename.py": migration("e5", "d4", "batch operations, renames", """
            with op.batch_alter_table('orders', schema=None) as batch_op:
                batch_op.add_column(sa.Column('note', sa.String(), nullable=True))
                batch_op.create_index(batch_op.f('ix_orders_note'), ['note'], unique=False)
                batch_op.create_unique_constraint(None, ['note', 'user_id'])
                batch_op.drop_index('orders_total_idx')
                batch_op.alter_column('note', new_column_name='remark')
            op.rename_table('tags', 'labels')
            op.drop_index('no_such_index', table_name='labels', if_exists=True)
            op.create_index('labels_label_idx', 'labels', ['label'], if_not_exists=True)
            op.create_index('labels_label_idx', 'labels', ['label'], if_not_exists=True)
            op.drop_constraint('no_such_constraint', 'labels', if_exists=True)
            op.create_primary_key('pk_audit', 'users_audit', ['id']) if False else None
        """),
        "f6_billing_schema.py": migration("f6", "e5", "schema= arguments", """
            op.execute("CREATE SCHEMA billing")
            op.create_table('invoices',
                sa.Column('id', sa.Integer(), primary_key=True),
                sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), index=True),
                sa.Column('number', sa.String(), unique=True),
                sa.Column('amount', sa.Integer(), sa.Computed('1 + 1')),
                schema='billing'
            )
            op.create_index(None, 'invoices', ['amount'], schema='billing')
            op.create_unique_constraint(None, 'invoices', ['user_id', 'number'], schema='billing')
            op.create_foreign_key(None, 'orders', 'invoices', ['id'], ['id'], referent_schema='billing')
            with op.batch_alter_table('invoices', schema='billing') as batch_op:
                batch_op.create_check_constraint(None, 'amount >= 0')
                batch_op.alter_column('number', new_column_name='invoice_number')
        """),
    },
}

# target_metadata with a naming convention; autogenerate writes every name with op.f().
CONVENTION_PROJECT = {
    "metadata": "sa.MetaData(naming_convention=%r)" % (CONVENTION,),
    "files": {
        "0001_accounts.py": migration("0001", None, "accounts", """
            op.create_table('accounts',
                sa.Column('id', sa.Integer(), nullable=False),
                sa.Column('email', sa.String(), nullable=False),
                sa.Column('owner_id', sa.Integer(), nullable=True),
                sa.Column('balance', sa.Integer(), nullable=False),
                sa.CheckConstraint('balance >= 0', name=op.f('ck_accounts_balance_nonnegative')),
                sa.ForeignKeyConstraint(['owner_id'], ['accounts.id'], name=op.f('fk_accounts_owner_id_accounts')),
                sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
                sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
            )
            op.create_index(op.f('ix_accounts_owner_id'), 'accounts', ['owner_id'], unique=False)
        """),
        "0002_wrong_names.py": migration("0002", "0001", "hand-written names off the convention", """
            op.create_table('payments',
                sa.Column('id', sa.Integer(), nullable=False),
                sa.Column('account_id', sa.Integer(), nullable=False),
                sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('payments_account_fk')),
                sa.PrimaryKeyConstraint('id', name=op.f('payments_pkey'))
            )
            op.create_index(op.f('idx_payments_account'), 'payments', ['account_id'], unique=False)
            with op.batch_alter_table('accounts', schema=None) as batch_op:
                batch_op.add_column(sa.Column('iban', sa.String(), nullable=True))
                batch_op.create_unique_constraint(batch_op.f('accounts_iban_uq'), ['iban'])
                batch_op.create_index(batch_op.f('ix_accounts_iban'), ['iban'], unique=True)
            op.execute("CREATE INDEX payments_by_account ON payments (account_id)")
        """),
    },
}

# target_metadata with a naming convention and hand-written migrations: Alembic names unnamed
# constraints by the convention and applies %(constraint_name)s templates to plain names
# (dbtool --alembic-metadata-convention).
HANDWRITTEN = {
    "metadata": CONVENTION_PROJECT["metadata"],
    "files": {
        "h1_items.py": migration("h1", None, "unnamed and plain names under a convention", """
            op.create_table('items',
                sa.Column('id', sa.Integer(), primary_key=True),
                sa.Column('sku', sa.String(), nullable=False, unique=True),
                sa.Column('parent_id', sa.Integer(), sa.ForeignKey('items.id'), index=True),
                sa.Column('price', sa.Integer(), nullable=False),
                sa.CheckConstraint('price >= 0', name='price_nonnegative'),
                sa.UniqueConstraint('parent_id', 'price', name='items_parent_price_key')
            )
            op.create_index(None, 'items', ['price'])
            op.create_index('items_by_sku', 'items', ['sku'])
        """),
        "h2_more.py": migration("h2", "h1", "operations under a convention", """
            op.add_column('items', sa.Column('code', sa.String(), unique=True))
            op.add_column('items', sa.Column('owner_id', sa.Integer(), sa.ForeignKey('items.id', name='owner_fk')))
            op.create_unique_constraint(None, 'items', ['price', 'code'])
            op.create_check_constraint('positive', 'items', 'price > 0')
            op.create_foreign_key(None, 'items', 'items', ['code'], ['sku'])
            # a plain name is converted on the way out too: this drops ck_items_price_nonnegative
            op.drop_constraint('price_nonnegative', 'items', type_='check')
            op.drop_constraint('items_parent_price_key', 'items')
            with op.batch_alter_table('items') as batch_op:
                batch_op.create_unique_constraint(None, ['owner_id'])
                batch_op.create_index(None, ['owner_id', 'code'], unique=True)
        """),
        "h3_primary_keys_and_drops.py": migration("h3", "h2", "create_primary_key, drops", """
            op.create_table('tags', sa.Column('name', sa.String(), nullable=False))
            op.create_primary_key(None, 'tags', ['name'])
            op.create_table('scratch',
                sa.Column('id', sa.Integer(), primary_key=True),
                sa.Column('tag', sa.String(), sa.ForeignKey('tags.name'))
            )
            op.drop_table('scratch')
            op.create_table('scratch', sa.Column('id', sa.Integer(), primary_key=True))
            op.add_column('items', sa.Column('note', sa.String(), unique=True))
            op.drop_column('items', 'note')
            with op.batch_alter_table('items') as batch_op:
                batch_op.drop_column('code')
                batch_op.create_primary_key('items_pk_again', ['id']) if False else None
        """),
    },
}

PROJECTS = {"plain": PLAIN, "convention": CONVENTION_PROJECT, "handwritten": HANDWRITTEN}


def render(name, project):
    out = os.path.join(ROOT, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "versions"))
    for file, text in project["files"].items():
        with open(os.path.join(out, "versions", file), "w") as f:
            f.write(text)
    with tempfile.TemporaryDirectory() as work:
        script = os.path.join(work, "migrations")
        os.makedirs(script)
        shutil.copytree(os.path.join(out, "versions"), os.path.join(script, "versions"))
        with open(os.path.join(script, "env.py"), "w") as f:
            f.write(ENV_PY.format(metadata=project["metadata"]))
        ini = os.path.join(work, "alembic.ini")
        with open(ini, "w") as f:
            f.write("[alembic]\nscript_location = %s\n" % script)
        sql = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", ini, "upgrade", "base:heads", "--sql"],
            check=True, capture_output=True, text=True,
        ).stdout
    with open(os.path.join(out, "upgrade.sql"), "w") as f:
        f.write(sql)
    with open(os.path.join(out, "env_target_metadata.txt"), "w") as f:
        f.write(project["metadata"] + "\n")


def main():
    for name, project in PROJECTS.items():
        render(name, project)
    with open(os.path.join(ROOT, "VERSIONS"), "w") as f:
        f.write("python %s\nalembic %s\nsqlalchemy %s\n" % (
            platform.python_version(), alembic.__version__, sqlalchemy.__version__))


if __name__ == "__main__":
    main()
