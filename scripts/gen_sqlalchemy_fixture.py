#!/usr/bin/env python3
"""Generate tests/fixtures/sqlalchemy_names.json from SQLAlchemy itself.

Every name in the fixture is the one SQLAlchemy emits in DDL for the
PostgreSQL dialect: the naming convention is applied when the constraint or
index is attached to its Table (sqlalchemy/sql/naming.py), and the
character-count truncation with the md5 suffix is applied by
``IdentifierPreparer.format_constraint`` (sqlalchemy/sql/compiler.py,
``_truncate_and_render_maxlen_name``), which is exactly what
``CreateTable``/``CreateIndex`` call.  Each rendered name is also checked to
appear in the compiled ``CREATE TABLE`` / ``CREATE INDEX`` text.

Usage (from the crate root):

    python3 -m venv /tmp/sqlalchemy-venv
    /tmp/sqlalchemy-venv/bin/pip install SQLAlchemy==2.1.9   # the version the fixture records
    /tmp/sqlalchemy-venv/bin/python scripts/gen_sqlalchemy_fixture.py

The output is deterministic for a given SQLAlchemy version.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import sqlalchemy
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import TSRANGE, ExcludeConstraint
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.elements import conv
from sqlalchemy.sql.naming import ConventionDict

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sqlalchemy_names.json"

# --------------------------------------------------------------------------
# conventions
# --------------------------------------------------------------------------

# The app's documented default convention.
APP_DEFAULT = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(column_0_label)s",
}

# Every multi-column token form, plus ExcludeConstraint keyed by its class
# (SQLAlchemy has no abbreviation for it; dbtool calls it "ex").
ALL_MULTI = {
    "pk": "pk_%(table_name)s_%(column_0N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_key)s_%(column_0N_label)s",
    "fk": (
        "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s"
        "_%(referred_column_0_N_name)s"
    ),
    "ck": "ck_%(table_name)s_%(constraint_name)s_%(column_0_name)s",
    "ex": "ex_%(table_name)s_%(column_0_N_name)s",
}

# Indexed tokens, keys, labels, suffix-style names, referred_column_0N_name.
INDEXED = {
    "pk": "%(table_name)s_pkey_%(column_1_name)s",
    "uq": "%(column_0_key)s_%(column_1_key)s_%(column_2_name)s_uq",
    "ix": "%(column_0_label)s_%(column_1_label)s_idx",
    "fk": "%(table_name)s_%(column_0N_key)s_%(referred_column_0N_name)s_fk",
    "ck": "%(constraint_name)s",
    "ex": "%(table_name)s_%(column_0_key)s_%(column_0N_label)s_excl",
}

# Keys spelled as class names; constraint_name in uq; referred_column_N;
# leading-zero indexes and a literal percent sign.
CLASS_KEYS = {
    "PrimaryKeyConstraint": "%(table_name)s_%(column_00_name)s_pk",
    "UniqueConstraint": "uq_%(table_name)s_%(constraint_name)s",
    "Index": "ix_%(column_0_key)s_%(column_01_name)s_100%%",
    "ForeignKeyConstraint": "fk_%(referred_column_0_name)s_%(referred_column_1_name)s",
    "CheckConstraint": "ck_%(table_name)s_%(column_0_N_name)s",
}

CLASS_OF = {
    "pk": PrimaryKeyConstraint,
    "PrimaryKeyConstraint": PrimaryKeyConstraint,
    "uq": UniqueConstraint,
    "UniqueConstraint": UniqueConstraint,
    "ix": Index,
    "Index": Index,
    "fk": ForeignKeyConstraint,
    "ForeignKeyConstraint": ForeignKeyConstraint,
    "ck": CheckConstraint,
    "CheckConstraint": CheckConstraint,
    "ex": ExcludeConstraint,
    "ExcludeConstraint": ExcludeConstraint,
}


def sa_convention(convention: dict) -> dict:
    """Turn the JSON-friendly convention into what MetaData accepts.

    pk/fk/uq/ck/ix stay abbreviations; class names and "ex" become the
    classes themselves (the only way to key ExcludeConstraint)."""
    out = {}
    for key, template in convention.items():
        if key in ("pk", "fk", "uq", "ck", "ix"):
            out[key] = template
        else:
            out[CLASS_OF[key]] = template
    return out


# --------------------------------------------------------------------------
# model builders; each returns a list of tables and records model names
# --------------------------------------------------------------------------

MODEL_NAME: dict[int, object] = {}


def named(const, name):
    """Construct-time helper: remember the name given in the model."""
    MODEL_NAME[id(const)] = name
    return const


def ck(sqltext, name=None):
    return named(CheckConstraint(sqltext, name=name), name)


def uq(*cols, name=None):
    return named(UniqueConstraint(*cols, name=name), name)


def tables_basic(m):
    orgs = Table(
        "orgs",
        m,
        Column("id", Integer, primary_key=True),
        Column("name", String, nullable=False),
        uq("name", name="org_name"),
    )
    users = Table(
        "users",
        m,
        Column("id", Integer, primary_key=True),
        Column("email", String, unique=True, index=True),
        Column("username", String, unique=True),
        Column("org_id", ForeignKey("orgs.id")),
        Column("user_name", String, key="uname", index=True),
        Column("n", Integer),
        ck("n > 0", name="positive_n"),
        ck("n < 100", name="n_small"),
    )
    # functional index: SQLAlchemy uses the first column of the expression
    Index(None, func.lower(users.c.email), users.c.n)
    # explicit unique=True Index, unnamed -> ix convention
    Index(None, users.c.username, users.c.org_id, unique=True)
    return [orgs, users]


def tables_composite(m):
    teams = Table(
        "team_members",
        m,
        Column("user_id", Integer),
        Column("org_id", Integer),
        Column("role", String, key="role_key"),
        PrimaryKeyConstraint("user_id", "org_id"),
    )
    memberships = Table(
        "memberships",
        m,
        Column("id", Integer, primary_key=True),
        Column("member_user_id", Integer, key="muid"),
        Column("member_org_id", Integer),
        Column("role", String),
        ForeignKeyConstraint(
            ["muid", "member_org_id"],
            ["team_members.user_id", "team_members.org_id"],
        ),
        uq("member_org_id", "role", "muid"),
        ck("role in ('a', 'b')", name="role_valid"),
    )
    Index(None, memberships.c.role, memberships.c.muid, unique=True)
    return [teams, memberships]


def tables_schema(m):
    plans = Table(
        "plans",
        m,
        Column("id", Integer, primary_key=True),
        Column("code", String, unique=True, index=True),
        schema="billing",
    )
    accounts = Table(
        "accounts",
        m,
        Column("id", Integer, primary_key=True),
        Column("plan_id", ForeignKey("billing.plans.id"), index=True),
        Column("owner_email", String),
        Column("owner_id", Integer, ForeignKey("users.id"), key="owner"),
        uq("owner_email"),
        ck("plan_id > 0", name="plan_positive"),
        schema="billing",
    )
    # a schema containing a dot: SQLAlchemy's label replaces "." with "_"
    dotted = Table(
        "events",
        m,
        Column("id", Integer, primary_key=True),
        Column("kind", String, index=True),
        Column("plan_id", ForeignKey("billing.plans.id")),
        schema="tenant.audit",
    )
    return [plans, accounts, dotted]


def tables_long(m):
    long_table = "customer_subscription_billing_history_entries_archive_2024_q4"
    t = Table(
        long_table,
        m,
        Column("id", Integer, primary_key=True),
        Column("subscription_identifier_reference_code", String, unique=True, index=True),
        Column("billing_account_identifier", ForeignKey("users.id")),
        Column("secondary_reference", String),
        Column("tertiary_reference", String),
        ck("id > 0", name="identifier_must_be_strictly_positive_for_all_archived_rows"),
        uq("secondary_reference", "tertiary_reference", "subscription_identifier_reference_code"),
    )
    Index(None, t.c.secondary_reference, t.c.tertiary_reference, t.c.billing_account_identifier)
    exactly_63 = Table(
        "t" * 60,  # pk_ + 60 = 63 characters: not truncated
        m,
        Column("id", Integer, primary_key=True),
    )
    exactly_64 = Table(
        "u" * 61,  # pk_ + 61 = 64 characters: truncated
        m,
        Column("id", Integer, primary_key=True),
    )
    return [t, exactly_63, exactly_64]


def tables_unicode(m):
    ru = Table(
        "пользователи",
        m,
        Column("id", Integer, primary_key=True),
        Column("электронная_почта", String, unique=True, index=True),
        ck("id > 0", name="положительный"),
    )
    # long in characters -> SQLAlchemy md5-truncates by characters; the md5
    # is over the UTF-8 bytes
    ja = Table(
        "ユーザー" * 16,
        m,
        Column("id", Integer, primary_key=True),
        Column("メールアドレス", String, unique=True, index=True),
    )
    # fits SQLAlchemy's 63 characters but not PostgreSQL's 63 bytes
    mid = Table(
        "顧客テーブル",
        m,
        Column("id", Integer, primary_key=True),
        Column("電子メールアドレスの確認済みフラグ", String, unique=True, index=True),
    )
    return [ru, ja, mid]


def tables_mixed_case(m):
    org = Table("Org", m, Column("ID", Integer, primary_key=True))
    acct = Table(
        "UserAccount",
        m,
        Column("Id", Integer, primary_key=True),
        Column("EmailAddress", String, unique=True, index=True),
        Column("OrgID", ForeignKey("Org.ID")),
        ck('"Id" > 0', name="IdPositive"),
        schema="Tenant",
    )
    return [org, acct]


def tables_exclude(m):
    resv = Table(
        "reservations",
        m,
        Column("id", Integer, primary_key=True),
        Column("room_id", Integer, key="room"),
        Column("during", TSRANGE),
    )
    resv.append_constraint(ExcludeConstraint((resv.c.room, "="), (resv.c.during, "&&")))
    resv.append_constraint(ExcludeConstraint((func.upper(resv.c.during), "&&")))
    return [resv]


BUILDERS = [
    ("basic", tables_basic),
    ("composite", tables_composite),
    ("schema", tables_schema),
    ("long", tables_long),
    ("unicode", tables_unicode),
    ("mixed_case", tables_mixed_case),
]


# --------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------


def kind_of(const) -> str:
    if isinstance(const, Index):
        return "ix"
    if isinstance(const, ExcludeConstraint):
        return "ex"
    if isinstance(const, PrimaryKeyConstraint):
        return "pk"
    if isinstance(const, ForeignKeyConstraint):
        return "fk"
    if isinstance(const, UniqueConstraint):
        return "uq"
    if isinstance(const, CheckConstraint):
        return "ck"
    raise TypeError(const)


def describe(const, table, convention, dialect, ddl, case_id):
    kind = kind_of(const)
    if kind == "fk":
        cols = [{"name": e.parent.name, "key": e.parent.key} for e in const.elements]
        referred_table = const.elements[0].column.table.name
        referred_columns = [e.column.name for e in const.elements]
    else:
        cols = [{"name": c.name, "key": c.key} for c in const.columns]
        referred_table = None
        referred_columns = []
    model_name = MODEL_NAME.get(id(const))
    full = None if const.name is None else str(const.name)
    preparer = dialect.identifier_preparer
    rendered = None
    if full is not None:
        rendered = preparer.format_constraint(const, _alembic_quote=False)
        quoted = preparer.quote(rendered)
        # pyformat paramstyle doubles "%" in DDL text
        assert quoted in ddl or quoted.replace("%", "%%") in ddl, (case_id, quoted, ddl)
    doubled = False
    extra = {}
    if kind == "ck" and model_name is not None and not isinstance(model_name, conv):
        prefix = convention_prefix(const, table, convention)
        doubled = bool(prefix) and model_name.startswith(prefix)
        if doubled:
            extra = doubled_facts(full, rendered, prefix, dialect.max_identifier_length)
    return {
        "id": case_id,
        "kind": kind,
        "table": table.name,
        "schema": table.schema,
        "columns": cols,
        "referred_table": referred_table,
        "referred_columns": referred_columns,
        "unique": bool(getattr(const, "unique", False)),
        "constraint_name": model_name,
        "conv": isinstance(model_name, conv),
        "full_name": full,
        "rendered_name": rendered,
        "doubled": doubled,
        **extra,
    }


SENTINEL = "\x00constraint_name\x00"


def convention_prefix(const, table, convention):
    """The text SQLAlchemy's ck template puts before %(constraint_name)s for this constraint
    ("" when the template has no such token): the template expanded by SQLAlchemy's own
    ConventionDict for a copy of the constraint named with a sentinel."""
    template = convention.get("ck", convention.get("CheckConstraint", ""))
    if "%(constraint_name)s" not in template:
        return ""
    probe = CheckConstraint(const.sqltext, name=conv(SENTINEL))
    return (template % ConventionDict(probe, table, convention)).split(SENTINEL)[0]


def doubled_facts(full, rendered, prefix, max_len):
    """For a doubled name: the prefix the convention put before the model's name, whether the
    database name still holds the whole model name (else the name the model meant is lost to a
    truncation), and how many characters of the second prefix the truncations left."""
    stored = rendered.encode("utf-8")[:max_len].decode("utf-8", "ignore")
    kept = stored[: max_len - 8] if rendered != full else stored
    assert full.startswith(kept), (full, kept)
    return {
        "convention_prefix": prefix,
        "recoverable": stored == full,
        "doubled_prefix_kept": max(0, min(len(kept) - len(prefix), len(prefix))),
    }


def ddl_for(tables, dialect):
    parts = []
    for t in tables:
        parts.append(str(CreateTable(t).compile(dialect=dialect)))
        for ix in sorted(t.indexes, key=sort_key):
            if ix.name is not None:
                parts.append(str(CreateIndex(ix).compile(dialect=dialect)))
    return "\n".join(parts)


def sort_key(const):
    """A total, deterministic order (Table.indexes is a set)."""
    if isinstance(const, ForeignKeyConstraint):
        cols = [e.parent.name for e in const.elements]
    else:
        cols = [c.name for c in const.columns]
    return (kind_of(const), str(const.name), bool(getattr(const, "unique", False)), cols, str(MODEL_NAME.get(id(const))))


def run_group(group, convention, builders, max_len=63, extra=None):
    MODEL_NAME.clear()
    m = MetaData(naming_convention=sa_convention(convention)) if convention is not None else MetaData()
    dialect = postgresql.dialect(max_identifier_length=max_len) if max_len != 63 else postgresql.dialect()
    assert dialect.max_identifier_length == max_len
    tables = []
    for _, build in builders:
        tables.extend(build(m))
    if extra:
        tables.extend(extra(m))
    ddl = ddl_for(tables, dialect)
    cases = []
    for t in tables:
        # an implicit PrimaryKeyConstraint without columns is never emitted
        consts = [c for c in t.constraints if not (kind_of(c) == "pk" and not c.columns)]
        consts = sorted(consts, key=sort_key)
        idx = sorted(t.indexes, key=sort_key)
        for n, const in enumerate(consts + idx):
            case_id = "%s/%s%s/%s#%d" % (
                group,
                (t.schema + ".") if t.schema else "",
                t.name,
                kind_of(const),
                n,
            )
            cases.append(describe(const, t, convention or {}, dialect, ddl, case_id))
    return {
        "group": group,
        "convention": convention,
        "max_identifier_length": max_len,
        "cases": cases,
    }


def tables_doubled(m):
    """Check constraints declared with the convention's own prefix (the mistake conv() exists for),
    on tables whose name lengths make SQLAlchemy's cut fall at every point of the second prefix,
    next to names that only begin like the prefix and are not doubled."""
    template = m.naming_convention["ck"]

    def prefix(table_name):
        return template.replace("%(table_name)s", table_name).split("%(constraint_name)s")[0]

    tables = [
        # The example: the cut leaves "ck_subscription_renew" of the second prefix.
        Table(
            "subscription_renewal_attempts",
            m,
            Column("n", Integer),
            ck("n > 0", name=prefix("subscription_renewal_attempts") + "positive"),
        ),
        Table(
            "subscription_renewals",
            m,
            Column("amount", Integer),
            ck("amount > 0", name=prefix("subscription_renewals") + "amount_positive"),
        ),
        # Short enough not to be cut: the model's name can be read back.
        Table("widgets", m, Column("n", Integer), ck("n < 10", name=prefix("widgets") + "small")),
    ]
    source = "subscription_renewal_attempts_history_archive_by_customer_region"
    for length in range(20, 53):
        name = source[:length]
        if name in m.tables:
            continue
        tables.append(
            Table(
                name,
                m,
                Column("n", Integer),
                ck("n > 0", name=prefix(name) + "positive_amount"),
                ck("n > 1", name="capacity_must_stay_positive_for_every_renewal_attempt_row"),
                ck("n > 2", name="ck_positive_amount_on_every_row_of_this_table_please"),
            )
        )
    return tables


def conv_case_tables(m):
    # conv(): an already-converted name is used verbatim
    return [
        Table(
            "widgets",
            m,
            Column("id", Integer, primary_key=True),
            ck("id > 0", name=conv("ck_widgets_id_positive")),
            ck("id < 10", name="ck_widgets_small"),  # doubled by SQLAlchemy
        )
    ]


# --------------------------------------------------------------------------
# error cases: SQLAlchemy raises; dbtool must refuse too
# --------------------------------------------------------------------------


def error_cases():
    def t_uq(m):
        Table("t", m, Column("a", Integer), UniqueConstraint("a"))

    def t_fk(m):
        Table("p", m, Column("id", Integer, primary_key=True))
        Table("t", m, Column("a", Integer), ForeignKeyConstraint(["a"], ["p.id"]))

    specs = [
        ("unknown_token", {"uq": "uq_%(column_1_name)s_%(foo)s"}, t_uq, "uq", "foo"),
        ("misspelled_attr", {"uq": "uq_%(column_0_nam)s"}, t_uq, "uq", "column_0_nam"),
        ("prefixed_token", {"uq": "uq_%(xcolumn_0_name)s"}, t_uq, "uq", "xcolumn_0_name"),
        ("multi_needs_zero", {"uq": "uq_%(column_1N_name)s"}, t_uq, "uq", "column_1N_name"),
        ("multi_double_zero", {"uq": "uq_%(column_00N_name)s"}, t_uq, "uq", "column_00N_name"),
        ("referred_multi_on_uq", {"uq": "uq_%(referred_column_0N_name)s"}, t_uq, "uq", "referred_column_0N_name"),
        ("referred_table_on_uq", {"uq": "uq_%(referred_table_name)s"}, t_uq, "uq", "referred_table_name"),
        ("referred_col_on_uq", {"uq": "uq_%(referred_column_0_name)s"}, t_uq, "uq", "referred_column_0_name"),
        ("referred_col_out_of_range", {"fk": "fk_%(referred_column_1_name)s"}, t_fk, "fk", "referred_column_1_name"),
        ("unnamed_constraint_name", {"uq": "uq_%(table_name)s_%(constraint_name)s"}, t_uq, "uq", "constraint_name"),
        ("label_suffix_key", {"uq": "uq_%(column_0_keys)s"}, t_uq, "uq", "column_0_keys"),
    ]
    out = []
    for name, convention, build, kind, token in specs:
        m = MetaData(naming_convention=convention)
        try:
            build(m)
        except Exception as e:  # noqa: BLE001 - recording what SQLAlchemy raises
            out.append(
                {
                    "id": "error/" + name,
                    "convention": convention,
                    "kind": kind,
                    "token": token,
                    "python_error": "%s: %s" % (type(e).__name__, e),
                }
            )
        else:
            raise AssertionError("SQLAlchemy accepted " + name)
    return out


def main():
    groups = [
        run_group("app_default", APP_DEFAULT, BUILDERS, extra=conv_case_tables),
        # MetaData() without naming_convention: SQLAlchemy's own default,
        # {"ix": "ix_%(column_0_label)s"}
        run_group("sqlalchemy_default", None, BUILDERS),
        run_group("all_multi", ALL_MULTI, BUILDERS + [("exclude", tables_exclude)]),
        run_group("indexed", INDEXED, BUILDERS + [("exclude", tables_exclude)]),
        run_group("class_keys", CLASS_KEYS, [("class_keys", tables_class_keys)]),
        run_group("app_default_max30", APP_DEFAULT, BUILDERS, max_len=30),
        # Doubled check prefixes however SQLAlchemy's truncation cut them, with the app's
        # convention and with a double-underscore separator.
        run_group("doubled_ck", APP_DEFAULT, [("doubled", tables_doubled)]),
        run_group(
            "doubled_ck_double_underscore",
            {**APP_DEFAULT, "ck": "ck_%(table_name)s__%(constraint_name)s"},
            [("doubled", tables_doubled)],
        ),
    ]
    data = {
        "generator": "scripts/gen_sqlalchemy_fixture.py",
        "sqlalchemy_version": sqlalchemy.__version__,
        "python_version": platform.python_version(),
        "dialect": "postgresql",
        "sqlalchemy_default_convention": {"ix": "ix_%(column_0_label)s"},
        "groups": groups,
        "errors": error_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    total = sum(len(g["cases"]) for g in groups)
    print("wrote %s: %d names, %d error cases (SQLAlchemy %s)" % (OUT, total, len(data["errors"]), sqlalchemy.__version__), file=sys.stderr)


def tables_class_keys(m):
    # every uq must be named because the convention uses constraint_name
    users = Table(
        "users",
        m,
        Column("id", Integer, primary_key=True),
        Column("email", String, index=True),
        Column("org_id", Integer),
        Column("region_id", Integer),
        uq("email", name="email"),
        ck("org_id > 0 and region_id > 0"),
        ck("id > 0", name="ignored_name"),  # no constraint_name token
    )
    Table(
        "refs",
        m,
        Column("id", Integer, primary_key=True),
        Column("a", Integer),
        Column("b", Integer),
        ForeignKeyConstraint(["a", "b"], ["users.org_id", "users.region_id"]),
    )
    return [users, m.tables["refs"]]


if __name__ == "__main__":
    main()
