#!/usr/bin/env bash
# Regenerates tests/fixtures/alembic_pending/ (the fixed cases and 30 drawn from seed 28) with
# the real Alembic against a throwaway PostgreSQL cluster (scripts/lib/cluster.sh), or the server
# ALEMBIC_FIXTURE_URL names. PYTHON: as scripts/gen-alembic-standing-fixture.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ALEMBIC_FIXTURE_URL:-}" ]; then
  # shellcheck source=scripts/lib/cluster.sh
  source scripts/lib/cluster.sh
  ALEMBIC_FIXTURE_URL=$BENCH_URL
fi
export ALEMBIC_FIXTURE_URL
"${PYTHON:-/tmp/alembic-venv/bin/python}" scripts/gen_alembic_pending_fixture.py \
  --out tests/fixtures/alembic_pending --random 30 --seed 28
