#!/usr/bin/env bash
# Runs, interleaved on the same server, `dbtool pool-bench --query 'SELECT 1' --clients 10
# --pool-size 10 --max-overflow 0` and `pgbench -n -M prepared -c 10 -j 2` with a SELECT 1 script,
# and prints both tps and the ratio, with pre-ping on (the application's default) and off, and the
# pool's own cost per checkout. Usage: scripts/bench-pool.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-3}
cargo build --release --quiet
source scripts/lib/cluster.sh
script=$(mktemp)
echo "SELECT 1;" >"$script"
python3 - "$seconds" "$rounds" "$BENCH_URL" "$script" <<'PY'
import json, re, statistics, subprocess, sys
seconds, rounds, url, script = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def dbtool(pre_ping):
    flag = "--pre-ping" if pre_ping else "--no-pre-ping"
    out = subprocess.run(["target/release/dbtool", "pool-bench", "--no-dotenv", "--format", "json", "--driver", "raw", "--query", "SELECT 1",
                          "--clients", "10", "--pool-size", "10", "--max-overflow", "0", flag, "--duration", str(seconds), url],
                         check=True, stdout=subprocess.PIPE).stdout
    report = json.loads(out)
    return report["tps"], report["wait_ms"]["mean"]
def pgbench():
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", "10", "-j", "2", "-T", str(seconds), "-f", script, url],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))
rows = {"pgbench": [], "dbtool (pre-ping off)": [], "dbtool (pre-ping on)": []}
waits = {"off": [], "on": []}
for _ in range(rounds):
    rows["pgbench"].append(pgbench())
    tps, wait = dbtool(False); rows["dbtool (pre-ping off)"].append(tps); waits["off"].append(wait)
    tps, wait = dbtool(True); rows["dbtool (pre-ping on)"].append(tps); waits["on"].append(wait)
base = statistics.median(rows["pgbench"])
print(f"{'command':<24} {'median tps':>11} {'vs pgbench':>11}   ({rounds} interleaved rounds of {seconds} s)")
for name, values in rows.items():
    median = statistics.median(values)
    print(f"{name:<24} {median:>11.0f} {median / base:>10.2f}x")
print(f"mean checkout wait (pool's own cost per checkout): {statistics.median(waits['off']) * 1000:.1f} µs without pre-ping, "
      f"{statistics.median(waits['on']) * 1000:.1f} µs with pre-ping (one SELECT 1 round trip)")
PY
rm -f "$script"
