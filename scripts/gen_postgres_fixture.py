#!/usr/bin/env python3
"""Generate tests/fixtures/postgres_names.json from a real PostgreSQL server.

Runs one DDL statement at a time in a scratch schema and records, for each
unnamed object, the names already taken in the schema before the statement
(relations from pg_class, constraints from pg_constraint), the name the
server chose, and for indexes the column names it gave the index
(ChooseIndexColumnNames). The Rust test replays each case through
`choose_postgres_name` and compares.

Needs `psql` on PATH and a server reachable through the usual PG*
variables, e.g. a throwaway cluster:

    initdb -D /tmp/pg -E UTF8 --locale=C.UTF-8 -A trust
    pg_ctl -D /tmp/pg -o "-p 54329 -k /tmp -c listen_addresses=" start
    PGHOST=/tmp PGPORT=54329 PGUSER=postgres python3 scripts/gen_postgres_fixture.py

The server must use the UTF8 encoding.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "postgres_names.json"
SCHEMA = "fx"


def psql(sql: str) -> list[str]:
    out = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    return [line for line in out.stdout.split("\n") if line]


def taken():
    rels = psql(f"select relname from pg_class where relnamespace = '{SCHEMA}'::regnamespace order by 1")
    cons = psql(f"select conname from pg_constraint where connamespace = '{SCHEMA}'::regnamespace order by 1")
    return rels, cons


def q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


CASES: list[dict] = []


def col(name):
    return {"column": name}


def expr(figured):
    return {"expression": figured}


def case(case_id, sql, kind, table, elements=(), include=()):
    rels, cons = taken()
    psql(f"set search_path = {SCHEMA}; {sql}")
    rels_after, cons_after = taken()
    new_cons = sorted(set(cons_after) - set(cons))
    new_rels = sorted(set(rels_after) - set(rels))
    if kind == "ix":
        assert len(new_rels) == 1 and not new_cons, (case_id, new_rels, new_cons)
        name = new_rels[0]
    else:
        assert len(new_cons) == 1, (case_id, new_cons)
        name = new_cons[0]
    index_cols = None
    if kind in ("pk", "uq", "ix", "ex"):
        index_cols = psql(
            "select attname from pg_attribute where attrelid = "
            f"(select oid from pg_class where relname = $${name}$$ and relnamespace = '{SCHEMA}'::regnamespace) "
            "and attnum > 0 order by attnum"
        )
    CASES.append(
        {
            "id": case_id,
            "sql": sql,
            "kind": kind,
            "table": table,
            "elements": list(elements),
            "include": list(include),
            "relations_before": rels,
            "constraints_before": cons,
            "name": name,
            "index_column_names": index_cols,
        }
    )


def main():
    psql(f"drop schema if exists {SCHEMA} cascade; create schema {SCHEMA}")
    version = psql("show server_version")[0]
    assert psql("show server_encoding") == ["UTF8"]

    psql(f"create table {SCHEMA}.p (x int, y int, primary key (x, y))")
    psql(f"create table {SCHEMA}.t (a int, b int, c text, r int4range, d int)")

    case("pk", "alter table t add primary key (a)", "pk", "t", [col("a")])
    case("uq", "alter table t add unique (b)", "uq", "t", [col("b")])
    case("uq_again", "alter table t add unique (b)", "uq", "t", [col("b")])
    case("uq_multi", "alter table t add unique (b, c)", "uq", "t", [col("b"), col("c")])
    case("uq_include", "alter table t add unique (c) include (a, b)", "uq", "t", [col("c")], ["a", "b"])
    case("ix", "create index on t (c)", "ix", "t", [col("c")])
    case("ix_again", "create index on t (c)", "ix", "t", [col("c")])
    case("ix_unique", "create unique index on t (d)", "ix", "t", [col("d")])
    case("ix_repeat_col", "create index on t (a, a, c)", "ix", "t", [col("a"), col("a"), col("c")])
    case("ix_func", "create index on t (lower(c))", "ix", "t", [expr("lower")])
    case("ix_op", "create index on t ((a + b))", "ix", "t", [expr(None)])
    case("ix_two_ops", "create index on t ((a + b), (a * b))", "ix", "t", [expr(None), expr(None)])
    case("ix_cast", "create index on t ((c::varchar))", "ix", "t", [expr("c")])
    case("ix_include", "create index on t (a) include (d)", "ix", "t", [col("a")], ["d"])
    case("ex", "alter table t add exclude using gist (r with &&)", "ex", "t", [col("r")])
    case("ex_again", "alter table t add exclude using gist (r with &&)", "ex", "t", [col("r")])
    case("fk", "alter table t add foreign key (a, b) references p (x, y)", "fk", "t", [col("a"), col("b")])
    case("fk_again", "alter table t add foreign key (a, b) references p (x, y)", "fk", "t", [col("a"), col("b")])
    case("ck_one_col", "alter table t add check (a > 0)", "ck", "t", [col("a")])
    case("ck_one_col_twice", "alter table t add check (a > 0 and a < 100)", "ck", "t", [col("a"), col("a")])
    case("ck_two_cols", "alter table t add check (a < b)", "ck", "t", [col("a"), col("b")])
    case("ck_no_col", "alter table t add check (true)", "ck", "t", [])

    # collisions across kinds
    psql(f"create table {SCHEMA}.u (a int, b int, c int)")
    psql(f"create table {SCHEMA}.u_a_key (id int)")  # a relation
    case("uq_vs_relation", "alter table u add unique (a)", "uq", "u", [col("a")])
    psql(f"alter table {SCHEMA}.u add constraint u_b_idx check (b > 0)")  # a constraint
    case("ix_ignores_constraints", "create index on u (b)", "ix", "u", [col("b")])
    psql(f"alter table {SCHEMA}.u add constraint u_c_key check (c > 0)")
    case("uq_vs_constraint", "alter table u add unique (c)", "uq", "u", [col("c")])
    psql(f"create index u_c_fkey on {SCHEMA}.u (c)")  # a relation
    psql(f"alter table {SCHEMA}.u add primary key (c)")
    case("fk_ignores_relations", "alter table u add foreign key (c) references u (c)", "fk", "u", [col("c")])
    psql(f"create table {SCHEMA}.w (id int)")
    psql(f"create table {SCHEMA}.w_pkey (id int)")
    psql(f"create table {SCHEMA}.w_pkey1 (id int)")
    case("pk_second_suffix", "alter table w add primary key (id)", "pk", "w", [col("id")])

    # truncation: long ASCII names
    long_t = "customer_subscription_billing_history_entries_archive_2024_q4_x"  # 63 bytes
    long_c = "subscription_identifier_reference_code_for_the_billing_account"
    psql(f"create table {SCHEMA}.{long_t} ({long_c} int, b int, {long_c[:50]}_second int)")
    case("long_pk", f"alter table {long_t} add primary key ({long_c})", "pk", long_t, [col(long_c)])
    case("long_uq", f"alter table {long_t} add unique ({long_c})", "uq", long_t, [col(long_c)])
    case("long_uq_again", f"alter table {long_t} add unique ({long_c})", "uq", long_t, [col(long_c)])
    case("long_ix_two", f"create index on {long_t} ({long_c}, {long_c[:50]}_second)", "ix", long_t,
         [col(long_c), col(long_c[:50] + "_second")])
    case("long_ck", f"alter table {long_t} add check (b > 0)", "ck", long_t, [col("b")])
    case("long_fk", f"alter table {long_t} add foreign key ({long_c}) references {long_t} ({long_c})", "fk",
         long_t, [col(long_c)])
    psql(f"create table {SCHEMA}.s (id int)")
    case("short_table_long_col", f"alter table s add column {long_c} int; alter table s add unique ({long_c})",
         "uq", "s", [col(long_c)])

    # truncation: multibyte names (pg_mbcliplen)
    ja = "ユーザー" * 5 + "表"  # 21 chars, 63 bytes
    ja_col = "メールアドレス"
    psql(f"create table {SCHEMA}.{q(ja)} ({q(ja_col)} text, {q('確認')} int)")
    case("ja_pk", f"alter table {q(ja)} add primary key ({q(ja_col)})", "pk", ja, [col(ja_col)])
    case("ja_uq", f"alter table {q(ja)} add unique ({q(ja_col)})", "uq", ja, [col(ja_col)])
    case("ja_ck", f"alter table {q(ja)} add check ({q('確認')} > 0)", "ck", ja, [col("確認")])
    case("ja_ix", f"create index on {q(ja)} ({q(ja_col)}, {q('確認')})", "ix", ja, [col(ja_col), col("確認")])
    ru = "пользователи_" * 2  # 26 chars, 50 bytes
    ru_col = "электронная_почта"
    psql(f"create table {SCHEMA}.{q(ru)} ({q(ru_col)} text)")
    case("ru_uq", f"alter table {q(ru)} add unique ({q(ru_col)})", "uq", ru, [col(ru_col)])
    case("ru_uq_again", f"alter table {q(ru)} add unique ({q(ru_col)})", "uq", ru, [col(ru_col)])

    # mixed case (quoted) names are kept as stored
    psql(f'create table {SCHEMA}."UserAccount" ("EmailAddr" text, "OrgID" int)')
    case("mixed_uq", 'alter table "UserAccount" add unique ("EmailAddr")', "uq", "UserAccount", [col("EmailAddr")])
    case("mixed_ix", 'create index on "UserAccount" ("OrgID", "EmailAddr")', "ix", "UserAccount",
         [col("OrgID"), col("EmailAddr")])

    # lexer truncation of an over-long table name (NOTICE: identifier will be truncated)
    too_long = "t" * 70
    psql(f"create table {SCHEMA}.{too_long} (a int)")
    case("truncated_table_pk", f"alter table {too_long} add primary key (a)", "pk", too_long, [col("a")])

    psql(f"drop schema {SCHEMA} cascade")
    data = {
        "generator": "scripts/gen_postgres_fixture.py",
        "postgres_version": version,
        "server_encoding": "UTF8",
        "cases": CASES,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(CASES)} cases (PostgreSQL {version})")


if __name__ == "__main__":
    main()
