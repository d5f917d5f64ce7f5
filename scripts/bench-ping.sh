#!/usr/bin/env bash
# Times `dbtool ping` (all stages) against `pg_isready` and `psql -X -c 'select 1'` on the same
# server, interleaved, and prints medians and ratios. Usage: scripts/bench-ping.sh [RUNS]
# BENCH_URL=postgresql://... uses an existing server instead of a throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
cargo build --release --quiet
source scripts/lib/cluster.sh
python3 - "$runs" "$BENCH_URL" <<'PY'
import statistics, subprocess, sys, time
runs, url = int(sys.argv[1]), sys.argv[2]
commands = {
    "dbtool ping": ["target/release/dbtool", "ping", "-q", "--no-dotenv", url],
    "pg_isready": ["pg_isready", "-q", "-d", url],
    "psql -c 'select 1'": ["psql", "-X", "-q", "-c", "select 1", url],
}
times = {name: [] for name in commands}
for _ in range(runs):
    for name, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times[name].append((time.perf_counter() - start) * 1000)
psql = statistics.median(times["psql -c 'select 1'"])
print(f"{'command':<22} {'median ms':>10} {'vs psql':>8}   ({runs} interleaved runs each)")
for name, values in times.items():
    median = statistics.median(values)
    print(f"{name:<22} {median:>10.2f} {median / psql:>7.2f}x")
PY
