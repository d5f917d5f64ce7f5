#!/usr/bin/env bash
# Builds a schema of N tables (default 10,000), each with a primary key, a foreign key, a unique
# constraint, a check and one index, all with PostgreSQL's default names (about 5 N objects), then
# times `dbtool lint-constraints --format json` against a bare listing of the same constraints and
# indexes through psql, interleaved, and reports peak memory.
# Usage: scripts/bench-lint.sh [TABLES] [RUNS]; BENCH_URL=... uses an existing server.
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${1:-10000}
runs=${2:-9}
cargo build --release --quiet
source scripts/lib/cluster.sh
echo "building $tables tables ..."
psql -X -q "$BENCH_URL" -c "CREATE DATABASE bench_lint" >/dev/null
url="${BENCH_URL%/*}/bench_lint"
source scripts/lib/schema.sh
build_schema "$url" "$tables"
# Steady state, as in a database that has been running: the bulk creation leaves the catalogs
# unvacuumed (autovacuum would otherwise start in the middle of the timed runs).
psql -X -q "$url" -c "VACUUM ANALYZE" >/dev/null
listing="SELECT n.nspname, c.relname, con.conname, con.contype FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT n.nspname, c.relname, ic.relname, 'i' FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
python3 - "$runs" "$url" "$listing" <<'PY'
import statistics, subprocess, sys, time, json
runs, url, listing = int(sys.argv[1]), sys.argv[2], sys.argv[3]
commands = {
    "dbtool lint-constraints": ["/usr/bin/time", "-f", "%M", "target/release/dbtool", "lint-constraints", "--no-dotenv", "--format", "json", "--url", url],
    "psql listing": ["/usr/bin/time", "-f", "%M", "psql", "-X", "-q", "-A", "-t", "-c", listing, url],
}
times = {name: [] for name in commands}
memory = {name: 0 for name in commands}
violations = None
for command in commands.values():  # one untimed warm-up run each
    subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
for _ in range(runs):
    for name, command in commands.items():
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        times[name].append(time.perf_counter() - start)
        memory[name] = max(memory[name], int(done.stderr.decode().strip().splitlines()[-1]))
        if name.startswith("dbtool"):
            violations = json.loads(done.stdout)["summary"]
base = statistics.median(times["psql listing"])
print(f"dbtool summary: {violations}")
print(f"{'command':<26} {'median s':>9} {'ratio':>6} {'min s':>7} {'peak RSS MB':>12}   ({runs} interleaved runs)")
for name, values in times.items():
    median = statistics.median(values)
    print(f"{name:<26} {median:>9.3f} {median / base:>5.2f}x {min(values):>7.3f} {memory[name] / 1024:>12.1f}")
PY
