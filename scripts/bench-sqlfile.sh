#!/usr/bin/env bash
# Lints the pg_dump --schema-only of an N-table schema (default 10,000 tables, ~50,000 objects)
# offline, and compares with restoring the same dump into an empty database with psql,
# interleaved. Prints seconds, MB/s and peak memory. Usage: scripts/bench-sqlfile.sh [TABLES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${1:-10000}
runs=${2:-3}
cargo build --release --quiet
source scripts/lib/cluster.sh
source scripts/lib/schema.sh
echo "building $tables tables ..."
psql -X -q "$BENCH_URL" -c "CREATE DATABASE bench_source" >/dev/null
base="${BENCH_URL%/*}"
build_schema "$base/bench_source" "$tables"
dump=$(mktemp /tmp/dbtool-bench-dump.XXXXXX.sql)
pg_dump --schema-only -f "$dump" "$base/bench_source"
python3 - "$runs" "$base" "$dump" <<'PY'
import os, statistics, subprocess, sys, time, json
runs, base, dump = int(sys.argv[1]), sys.argv[2], sys.argv[3]
size_mb = os.path.getsize(dump) / 1e6
times = {"dbtool lint (offline)": [], "psql restore": []}
memory = {name: 0 for name in times}
summary = None
for i in range(runs):
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", "target/release/dbtool", "lint-constraints", "--no-dotenv",
                           "--format", "json", dump], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    times["dbtool lint (offline)"].append(time.perf_counter() - start)
    memory["dbtool lint (offline)"] = max(memory["dbtool lint (offline)"], int(done.stderr.decode().strip().splitlines()[-1]))
    summary = json.loads(done.stdout)["summary"]
    db = f"bench_restore_{i}"
    subprocess.run(["psql", "-X", "-q", f"{base}/postgres", "-c", f"CREATE DATABASE {db}"], check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", dump, f"{base}/{db}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    times["psql restore"].append(time.perf_counter() - start)
    memory["psql restore"] = max(memory["psql restore"], int(done.stderr.decode().strip().splitlines()[-1]))
    subprocess.run(["psql", "-X", "-q", f"{base}/postgres", "-c", f"DROP DATABASE {db}"], check=True, stdout=subprocess.DEVNULL)
print(f"dump: {size_mb:.1f} MB; dbtool summary: {summary}")
restore = statistics.median(times["psql restore"])
print(f"{'command':<24} {'median s':>9} {'vs restore':>11} {'MB/s':>8} {'peak RSS MB':>12}   ({runs} interleaved runs)")
for name, values in times.items():
    median = statistics.median(values)
    print(f"{name:<24} {median:>9.3f} {median / restore:>10.3f}x {size_mb / median:>8.1f} {memory[name] / 1024:>12.1f}")
PY
rm -f "$dump"
