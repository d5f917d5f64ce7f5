#!/usr/bin/env bash
# Records the per-driver defaults of pool-bench's application model (src/pool_bench/app_model.rs:
# default_app_cpu, default_connect_cpu): the calibration (`pool-bench --calibrate`) of the
# reference application with the pinned SQLAlchemy and drivers, 10 clients, SELECT 1, pool 5+10
# with pre-ping, one worker, the server on core 0 and the application on core 1. Prints the
# median of ROUNDS calibrations per driver and the CPU they were measured on.
# Run it on a quiet machine. Usage: scripts/record-app-cpu.sh [ROUNDS]
# APP_PYTHON: an interpreter with scripts/driver-fixture-requirements.txt installed; without it a
# virtualenv is made under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --release --quiet
source scripts/lib/app-venv.sh
export BENCH_SERVER_CPUS=0
source scripts/lib/cluster.sh
taskset -c 1 python3 - "$rounds" "$BENCH_URL" "$APP_PYTHON" <<'PY'
import json, statistics, subprocess, sys
rounds, url, python = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
figures = {}
for _ in range(rounds):
    for driver in ["asyncpg", "psycopg", "psycopg2"]:
        out = subprocess.run(["target/release/dbtool", "pool-bench", "--no-dotenv", "--format", "json", "--driver", driver,
                              "--calibrate", python, "--clients", "10", "--pool-size", "5", "--max-overflow", "10",
                              "--pre-ping", "--duration", "1", url],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        app = json.loads(out)["app_model"]
        figures.setdefault(driver, []).append((app["app_cpu_us"], app["connect_ms"], app["versions"]))
print(f"{rounds} calibrations per driver on {cpu}, 10 clients, SELECT 1, pool 5+10, pre-ping; medians")
for driver, runs in figures.items():
    per_round_trip = statistics.median(r[0] for r in runs)
    connect = statistics.median(r[1] for r in runs)
    print(f"{driver:<9} {per_round_trip:6.1f} µs per round trip   {connect:5.2f} ms per connection   {runs[-1][2]}")
PY
