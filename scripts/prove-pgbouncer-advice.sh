#!/usr/bin/env bash
# Proves the advice `dbtool ping` gives behind PgBouncer: runs a real SQLAlchemy engine, as the
# reference application configures it, through PgBouncer in transaction mode (default pool of 2
# server connections) with each driver — with its defaults, then as dbtool advises — and prints
# the outcome of every request. Exit 1 when an advised configuration meets an error.
# Usage: scripts/prove-pgbouncer-advice.sh   (BOUNCER_MODE=statement|session to try another mode)
# Needs PgBouncer (apt-get install pgbouncer), PostgreSQL's server binaries, and python3-venv;
# the Python environment is scripts/driver-fixture-requirements.txt, in $VENV (created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/dbtool-fixture-venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r scripts/driver-fixture-requirements.txt
fi
source scripts/lib/cluster.sh
source scripts/lib/pgbouncer.sh
BOUNCER_VERSION=$(as_pg "$bouncer" --version | head -n 1)
export BOUNCER_VERSION
"$VENV/bin/python" scripts/prove_pgbouncer_advice.py
