#!/usr/bin/env bash
# pool-bench against pgbench on the same server, interleaved over several rounds, on 10
# connections (pool_size 10, max_overflow 0, 10 clients; pgbench -c 10 -j 2):
#   (a) `--driver raw --no-pre-ping`, SELECT 1            vs pgbench -M prepared, SELECT 1
#   (b) `--driver asyncpg --pre-ping` (6 round trips:     vs pgbench -M prepared running
#       the asyncpg dialect's ping, then BEGIN; SELECT 1;     BEGIN; SELECT 1; ROLLBACK; twice
#       ROLLBACK; as SQLAlchemy sends them), with no          (the same 6 round trips)
#       application time (--app-cpu-us 0 --app-connect-ms 0) on two workers' loops (pgbench's
#       two threads): the wire path alone
# Prints both medians and the ratio for each. Run it on a quiet machine (no build, no fuzzer).
# Usage: scripts/bench-pool.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-3}
cargo build --release --quiet
source scripts/lib/cluster.sh
select_one=$(mktemp)
echo "SELECT 1;" >"$select_one"
six=$(mktemp)
printf 'BEGIN;\nSELECT 1;\nROLLBACK;\nBEGIN;\nSELECT 1;\nROLLBACK;\n' >"$six"
python3 - "$seconds" "$rounds" "$BENCH_URL" "$select_one" "$six" <<'PY'
import json, re, statistics, subprocess, sys
seconds, rounds, url, select_one, six = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def dbtool(*args):
    out = subprocess.run(["target/release/dbtool", "pool-bench", "--no-dotenv", "--format", "json", "--query", "SELECT 1",
                          "--clients", "10", "--pool-size", "10", "--max-overflow", "0", "--duration", str(seconds),
                          *args, url], check=True, stdout=subprocess.PIPE).stdout
    report = json.loads(out)
    return report["tps"], report["per_request"]["round_trips"]
def pgbench(script):
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", "10", "-j", "2", "-T", str(seconds), "-f", script, url],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))
rows = {"a": {"pgbench": [], "dbtool": []}, "b": {"pgbench": [], "dbtool": []}}
trips = {"a": [], "b": []}
for _ in range(rounds):
    rows["a"]["pgbench"].append(pgbench(select_one))
    tps, rt = dbtool("--driver", "raw", "--no-pre-ping"); rows["a"]["dbtool"].append(tps); trips["a"].append(rt)
    rows["b"]["pgbench"].append(pgbench(six))
    tps, rt = dbtool("--driver", "asyncpg", "--pre-ping", "--app-cpu-us", "0", "--app-connect-ms", "0", "--workers", "2")
    rows["b"]["dbtool"].append(tps); trips["b"].append(rt)
print(f"{rounds} interleaved rounds of {seconds} s, 10 connections, medians (transactions per second)")
labels = {"a": "(a) SELECT 1, raw, no pre-ping", "b": "(b) asyncpg request, no app time"}
for key, label in labels.items():
    pg, db = statistics.median(rows[key]["pgbench"]), statistics.median(rows[key]["dbtool"])
    print(f"{label:<36} pgbench {pg:>9.0f}   dbtool {db:>9.0f}   ratio {db / pg:.2f}x   "
          f"(dbtool: {statistics.median(trips[key]):.2f} round trips per request)")
PY
rm -f "$select_one" "$six"
