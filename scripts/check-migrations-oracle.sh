#!/usr/bin/env bash
# The check-migrations oracle (issue 28, item 7): builds databases with the real, pinned Alembic
# from the fixture projects, makes them drift (--random N cases from --seed S, beside the fixed
# ones), runs the real `alembic upgrade head` on a copy of each, then dbtool on each, and prints
# the agreement. A throwaway cluster (scripts/lib/cluster.sh) unless ALEMBIC_FIXTURE_URL is set.
#   scripts/check-migrations-oracle.sh --random 300 --seed 7
# PYTHON: a Python with scripts/alembic-fixture-requirements.txt and psycopg2-binary (default
# /tmp/alembic-venv/bin/python); DBTOOL: the binary (default: cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ALEMBIC_FIXTURE_URL:-}" ]; then
  # shellcheck source=scripts/lib/cluster.sh
  source scripts/lib/cluster.sh
  ALEMBIC_FIXTURE_URL=$BENCH_URL
fi
export ALEMBIC_FIXTURE_URL
if [ -z "${DBTOOL:-}" ]; then
  cargo build --release --quiet
  DBTOOL=${CARGO_TARGET_DIR:-target}/release/dbtool
fi
export DBTOOL
python=${PYTHON:-/tmp/alembic-venv/bin/python}
out=$(mktemp -d /tmp/dbtool-oracle.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$python" scripts/gen_alembic_pending_fixture.py --out "$out" "$@"
"$python" scripts/check_migrations_oracle.py "$out"
