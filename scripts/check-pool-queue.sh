#!/usr/bin/env bash
# Where the application's latency tail comes from when requests queue for connections, and
# whether pool-bench reproduces it: the reference application (SQLAlchemy + the driver, pool
# 5+10, pre-ping, one worker, 30 clients running pg_sleep 5 ms) with SQLAlchemy's real pool
# queue (waiters overtaken, as asyncio.Queue does), the same application with a first-come,
# first-served hand-off patched in (scripts/pool_queue_probe.py), and `dbtool pool-bench
# --calibrate` at the same load. Server on core 0, clients on core 1, interleaved over ROUNDS.
# Prints the medians: tps, p99, overtakes per wait, and the connection churn: connections opened
# per 1000 requests and checkins that found pool_size idle (closed) per 1000 (the application's
# from scripts/pool_queue_probe.py observe, pool-bench's from its JSON `connections`); for the
# application also the share of its slowest 1 % that opened a connection.
# Run it on a quiet machine (no build, no fuzzer, no other benchmark).
# Usage: scripts/check-pool-queue.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
cargo build --release --quiet
source scripts/lib/app-venv.sh
export BENCH_SERVER_CPUS=0 BENCH_MAX_CONNECTIONS=200
source scripts/lib/cluster.sh
taskset -c 1 python3 - "$seconds" "$rounds" "$BENCH_URL" "$APP_PYTHON" <<'PY'
import json, statistics, subprocess, sys

seconds, rounds, url, python = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
LOAD = ["--pool-size", "5", "--max-overflow", "10", "--pool-timeout", "30", "--pre-ping",
        "--clients", "30", "--sleep-ms", "5", "--workers", "1", "--warmup", "1", "--duration", str(seconds)]

def probe(mode, driver):
    out = subprocess.run([python, "scripts/pool_queue_probe.py", mode, "--driver", driver, *LOAD],
                         env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    r = json.loads(out)
    q, c = r["queue"], r.get("churn") or {}
    return (r["tps"], r["latency_ms"]["p99"], q["overtaken"] / max(q["waits"], 1),
            c.get("opened_per_1000"), c.get("checkins_queue_full_per_1000"), c.get("slowest_1pct_that_opened"))

def dbtool(driver):
    out = subprocess.run(["target/release/dbtool", "pool-bench", "--no-dotenv", "--format", "json", "--driver", driver,
                          "--calibrate", python, *LOAD, url],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    r = json.loads(out)
    k, n = r["connections"], max(r["transactions"], 1)
    return (r["tps"], r["latency_ms"]["p99"], k["overtaken"] / max(k["queued"], 1),
            1000 * k["created"] / n, 1000 * k["closed_overflow"] / n, None)

rows = {}
for round_ in range(rounds):
    for driver in ["asyncpg", "psycopg"]:
        for name, run in [("application", lambda d: probe("observe", d)),
                          ("application, FIFO queue", lambda d: probe("fifo", d)),
                          ("pool-bench", dbtool)]:
            rows.setdefault((driver, name), []).append(run(driver))
    print(f"round {round_ + 1} of {rounds} done", file=sys.stderr)
print(f"{rounds} interleaved rounds of {seconds:g} s; 30 clients, pg_sleep 5 ms, pool 5+10, pre-ping, 1 worker; medians")
print(f"{'driver':<8} {'run':<24} {'tps':>7} {'p99 ms':>7} {'overtaken per wait':>19} "
      f"{'opened/1000':>11} {'closed/1000':>11} {'slowest 1% opened':>17}")
for (driver, name), runs in rows.items():
    def med(i, fmt):
        values = [r[i] for r in runs if r[i] is not None]
        return format(statistics.median(values), fmt) if values else "-"
    print(f"{driver:<8} {name:<24} {med(0, '.0f'):>7} {med(1, '.1f'):>7} {med(2, '.2f'):>19} "
          f"{med(3, '.1f'):>11} {med(4, '.1f'):>11} {med(5, '.2f'):>17}")
PY
