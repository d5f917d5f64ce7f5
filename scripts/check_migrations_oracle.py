#!/usr/bin/env python3
"""Compares dbtool check-migrations with what the real `alembic upgrade head` did, case by case
(the cases.json scripts/gen_alembic_pending_fixture.py writes): dbtool must exit 0 exactly when
the real upgrade succeeded, and otherwise exit 1 naming (JSON `fails_in`) the revision the real
upgrade failed in, or none when it failed before running any (unknown revision, several heads).
Prints the agreement and each disagreement; exits 1 if there is any.

    DBTOOL=target/release/dbtool ALEMBIC_FIXTURE_URL=... python3 scripts/check_migrations_oracle.py DIR
"""

import json
import os
import re
import subprocess
import sys

import psycopg2

ADMIN_URL = os.environ["ALEMBIC_FIXTURE_URL"]
DBTOOL = os.environ.get("DBTOOL", "target/release/dbtool")


def admin(sql):
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def database_url(db):
    return re.sub(r"/[^/]*$", "/" + db, ADMIN_URL)


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        document = json.load(f)
    cases = document["cases"]
    agreed, disagreements = 0, []
    for case in cases:
        db = "oracle_check"
        admin(f"DROP DATABASE IF EXISTS {db}")
        admin(f"CREATE DATABASE {db}")
        connection = psycopg2.connect(database_url(db))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(";\n".join(case["setup"]))
        connection.close()
        run = subprocess.run(
            [DBTOOL, "check-migrations", "--format", "json", "--url", database_url(db),
             os.path.join(root, case["project"], "versions")],
            capture_output=True, text=True)
        report = json.loads(run.stdout) if run.stdout.strip() else {}
        alembic = case["alembic"]
        expected = (0, None) if alembic["upgrade_head_ok"] else (1, alembic["fails_in"])
        ours = (run.returncode, report.get("fails_in"))
        if ours == expected:
            agreed += 1
        else:
            disagreements.append(
                f"{case['name']} (stop {case['stop']}, drift {case['divergence']}): dbtool exit {ours[0]} "
                f"fails_in {ours[1]}, Alembic {'ok' if alembic['upgrade_head_ok'] else 'fails in ' + str(alembic['fails_in'])}: "
                f"{alembic['error']}\n  {run.stderr.strip()[:300]}")
    admin("DROP DATABASE IF EXISTS oracle_check")
    failing = sum(1 for c in cases if not c["alembic"]["upgrade_head_ok"])
    print("\n".join(disagreements))
    print(f"check-migrations agrees with the real alembic upgrade head ({document['versions']['alembic']}, "
          f"PostgreSQL {document['versions']['postgresql']}) on {agreed}/{len(cases)} cases "
          f"({100.0 * agreed / len(cases):.1f} %; {failing} where the upgrade fails; seed {document['seed']})")
    sys.exit(0 if not disagreements else 1)


if __name__ == "__main__":
    main()
