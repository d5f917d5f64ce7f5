#!/usr/bin/env bash
# The prediction check of pool-bench's application model: the real reference application
# (scripts/reference_app.py: SQLAlchemy + the driver, FastAPI's get_db pattern, pool 5+10 with
# pre-ping) against `dbtool pool-bench --calibrate` with the same load, at several load points,
# for asyncpg and psycopg (async), at 1 and 2 workers. The server is pinned to core 0 and both
# clients to core 1 (so two workers share one core: pool-bench is told so with --app-cpus 1).
# The two run back to back at each point, interleaved over ROUNDS rounds. Printed: the medians of
# both, the median of each round's ratio (each pair ran under the same conditions, so a drift of
# the machine between rounds cancels out), the reference's own spread between rounds (how far
# the real application disagrees with itself), and how many points are within the targets
# (tps ±10 %, p99 ±15 %, on the median ratios).
# Run it on a quiet machine (no build, no fuzzer, no other benchmark).
# Usage: scripts/check-prediction.sh [SECONDS] [ROUNDS] [POINTS]
#   POINTS: a comma-separated subset of the point names below (default: all)
# APP_PYTHON: an interpreter with the pinned packages (scripts/driver-fixture-requirements.txt);
# without it a virtualenv is made under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
points=${3:-}
cargo build --release --quiet
source scripts/lib/app-venv.sh
export BENCH_SERVER_CPUS=0 BENCH_MAX_CONNECTIONS=200
source scripts/lib/cluster.sh
taskset -c 1 python3 - "$seconds" "$rounds" "$points" "$BENCH_URL" "$APP_PYTHON" <<'PY'
import json, statistics, subprocess, sys

seconds, rounds, only, url, python = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
POOL = ["--pool-size", "5", "--max-overflow", "10", "--pool-timeout", "30", "--pre-ping"]
# name: (what it exercises, the load's flags, shared by both)
POINTS = {
    "closed-sleep": ("closed loop, 30 clients, pg_sleep 5 ms", ["--clients", "30", "--sleep-ms", "5"]),
    "closed-think": ("closed loop, 20 clients thinking 20 ms, pg_sleep 5 ms",
                     ["--clients", "20", "--think-ms", "20", "--sleep-ms", "5"]),
    "open-rate": ("open loop, 400/s, pg_sleep 5 ms", ["--rate", "400", "--clients", "500", "--sleep-ms", "5"]),
    "cpu-bound": ("closed loop, 10 clients, SELECT 1 (the event loop's limit)", ["--clients", "10", "--query", "SELECT 1"]),
    "handler": ("closed loop, 10 clients, SELECT 1, handler 1 ms", ["--clients", "10", "--query", "SELECT 1", "--handler-ms", "1"]),
}
selected = [p for p in POINTS if not only or p in only.split(",")]
DRIVERS = ["asyncpg", "psycopg"]
WORKERS = [1, 2]

def reference(driver, workers, load):
    out = subprocess.run([python, "scripts/reference_app.py", "--driver", driver, "--workers", str(workers),
                          "--duration", str(seconds), "--warmup", "1", "--statement-timeout", "30", *POOL, *load],
                         env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    report = json.loads(out)
    return report["tps"], report["latency_ms"]["p99"], report.get("errors") or {}

def dbtool(driver, workers, load):
    out = subprocess.run(["target/release/dbtool", "pool-bench", "--no-dotenv", "--format", "json", "--driver", driver,
                          "--calibrate", python, "--workers", str(workers), "--app-cpus", "1", "--warmup", "1",
                          "--duration", str(seconds), *POOL, *load, url],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    report = json.loads(out)
    app = report["app_model"]
    return report["tps"], report["latency_ms"]["p99"], app["app_cpu_us"], app["emulation_accuracy"], report["advice"]["limit"]

rows = {}
for round_ in range(rounds):
    for point in selected:
        for driver in DRIVERS:
            for workers in WORKERS:
                key = (point, driver, workers)
                load = POINTS[point][1]
                row = rows.setdefault(key, {"app": [], "dbtool": []})
                row["app"].append(reference(driver, workers, load))
                row["dbtool"].append(dbtool(driver, workers, load))
    print(f"round {round_ + 1} of {rounds} done", file=sys.stderr)

print(f"{rounds} interleaved rounds of {seconds:g} s; server on core 0, clients on core 1; pool 5+10, pre-ping; medians")
print(f"{'point':<13} {'driver':<8} {'w':>1} | {'app tps':>8} {'app p99':>8} | {'dbtool tps':>10} {'p99':>8} | "
      f"{'tps ratio':>9} {'p99 ratio':>9} | {'app spread':>10} | {'µs/rt':>6} {'emul.':>6} {'limit':<10} ok")
within = 0
for (point, driver, workers), row in rows.items():
    med = lambda runs, i: statistics.median(r[i] for r in runs)
    app_tps, app_p99 = med(row["app"], 0), med(row["app"], 1)
    db_tps, db_p99, cost = med(row["dbtool"], 0), med(row["dbtool"], 1), med(row["dbtool"], 2)
    accuracy = med(row["dbtool"], 3) or 0.0
    limit = row["dbtool"][-1][4]
    pairs = list(zip(row["app"], row["dbtool"]))
    tps_ratio = statistics.median(d[0] / a[0] for a, d in pairs)
    p99_ratio = statistics.median(d[1] / a[1] for a, d in pairs)
    spread = lambda i: max(r[i] for r in row["app"]) / min(r[i] for r in row["app"])
    app_spread = f"{spread(0):.2f}/{spread(1):.2f}"
    ok = abs(tps_ratio - 1) <= 0.10 and abs(p99_ratio - 1) <= 0.15
    within += ok
    errors = sum(sum(r[2].values()) for r in row["app"])
    print(f"{point:<13} {driver:<8} {workers:>1} | {app_tps:>8.0f} {app_p99:>7.1f}ms | {db_tps:>10.0f} {db_p99:>6.1f}ms | "
          f"{tps_ratio:>8.2f}x {p99_ratio:>8.2f}x | {app_spread:>10} | {cost:>6.1f} {accuracy:>6.3f} {limit:<10} {'yes' if ok else 'NO'}"
          + (f"  (application errors: {errors})" if errors else ""))
print(f"agreement: {within} of {len(rows)} points within tps ±10 % and p99 ±15 %")
print("app spread: the real application's largest ÷ smallest tps / p99 over the rounds")
for point in selected:
    print(f"  {point}: {POINTS[point][0]}")
PY
