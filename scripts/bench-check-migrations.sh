#!/usr/bin/env bash
# check-migrations' speed (issue 28, item 8): 1,000 pending revisions against a database of
# 10,000 tables (each with a primary key, a unique constraint, an index and, from the second
# on, a foreign key), on a throwaway cluster (scripts/lib/cluster.sh) unless BENCH_URL is set.
# Each revision drops a constraint by name, renames an index and creates one. Prints the wall
# time of each of RUNS runs (default 5) and dbtool's own phases (-v); the target is 2 s.
#   scripts/bench-check-migrations.sh            # needs a release build: cargo build --release
# Not run in cargo test (no timing assertions there), and not while /tmp/quiet.hold exists.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e /tmp/quiet.hold ] && { echo "/tmp/quiet.hold exists: another benchmark runs; try later" >&2; exit 3; }
# shellcheck source=scripts/lib/cluster.sh
source scripts/lib/cluster.sh
dbtool=${DBTOOL:-${CARGO_TARGET_DIR:-target}/release/dbtool}
tables=${TABLES:-10000}
revisions=${REVISIONS:-1000}
runs=${RUNS:-5}
db_url="${BENCH_URL%/*}/check_migrations_bench"
psql -q "$BENCH_URL" -c "DROP DATABASE IF EXISTS check_migrations_bench" -c "CREATE DATABASE check_migrations_bench"
psql -q "$db_url" <<SQL
DO \$\$ BEGIN
  FOR i IN 1..$tables LOOP
    EXECUTE format('CREATE TABLE t%s (id integer PRIMARY KEY, code text UNIQUE, parent integer, note text)', i);
    EXECUTE format('CREATE INDEX ix_t%s_note ON t%s (note)', i, i);
    IF i > 1 THEN
      EXECUTE format('ALTER TABLE t%s ADD FOREIGN KEY (parent) REFERENCES t%s (id)', i, i - 1);
    END IF;
  END LOOP;
END \$\$;
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('r0000');
SQL
versions=$(mktemp -d /tmp/check-migrations-bench.XXXXXX)
trap 'rm -rf "$versions"' EXIT
printf 'revision = "r0000"\ndown_revision = None\n\ndef upgrade():\n    pass\n' > "$versions/r0000.py"
for ((r = 1; r <= revisions; r++)); do
  t=$(( r % (tables - 1) + 2 ))
  printf -v id 'r%04d' "$r"
  printf -v down 'r%04d' "$((r - 1))"
  cat > "$versions/$id.py" <<PY
"""revision $r"""
from alembic import op
import sqlalchemy as sa

revision = "$id"
down_revision = "$down"


def upgrade():
    op.drop_constraint("t${t}_parent_fkey", "t$t", type_="foreignkey")
    op.execute("ALTER INDEX ix_t${t}_note RENAME TO ix_t${t}_note_$r")
    op.create_index("ix_t${t}_code_note", "t$t", ["code", "note"])
PY
done
echo "database: $tables tables; versions: $revisions pending revisions"
for ((i = 1; i <= runs; i++)); do
  start=$(date +%s.%N)
  set +e
  "$dbtool" check-migrations --format json --url "$db_url" "$versions" > /tmp/check-migrations-bench.json 2>/dev/null
  code=$?
  set -e
  end=$(date +%s.%N)
  printf 'run %d: %.3f s (exit %d)\n' "$i" "$(echo "$end - $start" | bc)" "$code"
done
"$dbtool" -v check-migrations --url "$db_url" "$versions" 2>&1 >/dev/null | grep -E "replayed|catalogs|after" || true
python3 -c "import json; d=json.load(open('/tmp/check-migrations-bench.json')); print('pending:', len(d['pending']), 'findings:', len(d['findings']), 'fails_in:', d['fails_in'])"
