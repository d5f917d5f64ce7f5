#!/usr/bin/env bash
# Runs pool-bench for a long time (default 300 s) with connection churn (recycling every 10 s,
# overflow opened and closed) and samples the process's resident memory and open file
# descriptors every 15 s, to show they stay flat. Usage: scripts/bench-resources.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
cargo build --release --quiet
source scripts/lib/cluster.sh
target/release/dbtool pool-bench --no-dotenv --format json --duration "$seconds" --clients 12 --pool-size 5 \
  --max-overflow 5 --pool-recycle 10 --pre-ping --rate 2000 "$BENCH_URL" >/tmp/dbtool-resources.json &
pid=$!
printf '%6s %10s %6s\n' "t (s)" "RSS (MB)" "fds"
for ((t = 0; t <= seconds; t += 15)); do
  if [ -r "/proc/$pid/status" ]; then
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    printf '%6d %10.1f %6d\n' "$t" "$(echo "$rss / 1024" | bc -l)" "$fds"
  fi
  sleep 15
done
wait "$pid"
python3 -c "import json; r=json.load(open('/tmp/dbtool-resources.json')); print('transactions', r['transactions'], 'tps', round(r['tps']), 'created', r['connections']['created'], 'closed_recycle', r['connections']['closed_recycle'], 'errors', r['errors'])"
