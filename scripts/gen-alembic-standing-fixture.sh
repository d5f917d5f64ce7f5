#!/usr/bin/env bash
# Regenerates tests/fixtures/alembic_standing/ with the real Alembic against a throwaway
# PostgreSQL cluster (scripts/lib/cluster.sh), or the server ALEMBIC_FIXTURE_URL names.
# PYTHON: a Python with scripts/alembic-fixture-requirements.txt and psycopg2-binary installed
# (default /tmp/alembic-venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ALEMBIC_FIXTURE_URL:-}" ]; then
  # shellcheck source=scripts/lib/cluster.sh
  source scripts/lib/cluster.sh
  ALEMBIC_FIXTURE_URL=$BENCH_URL
fi
export ALEMBIC_FIXTURE_URL
"${PYTHON:-/tmp/alembic-venv/bin/python}" scripts/gen_alembic_standing_fixture.py
