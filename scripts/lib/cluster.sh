# Sourced by the benchmark scripts: starts a throwaway PostgreSQL cluster unless BENCH_URL is set,
# exports BENCH_URL (superuser, TCP) and BENCH_PORT, and stops the cluster on exit.
# BENCH_SERVER_CPUS (a taskset list, e.g. 0) pins the server and its backends to those cores.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "${bindir:-}" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 3; }
export PATH="$bindir:$PATH"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -z "${BENCH_URL:-}" ]; then
  BENCH_DIR=$(mktemp -d /tmp/dbtool-bench.XXXXXX)
  chmod 755 "$BENCH_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$BENCH_DIR"
  BENCH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg initdb -D "$BENCH_DIR/data" -A trust -U postgres --no-sync >/dev/null
  cat >>"$BENCH_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$BENCH_DIR'
port = $BENCH_PORT
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = ${BENCH_MAX_CONNECTIONS:-200}
max_locks_per_transaction = 1024
shared_buffers = 256MB
CONF
  pin=()
  [ -n "${BENCH_SERVER_CPUS:-}" ] && pin=(taskset -c "$BENCH_SERVER_CPUS")
  as_pg "${pin[@]}" pg_ctl -D "$BENCH_DIR/data" -l "$BENCH_DIR/log" -w start >/dev/null
  trap 'as_pg pg_ctl -D "$BENCH_DIR/data" -m fast -w stop >/dev/null 2>&1; rm -rf "$BENCH_DIR"' EXIT
  export BENCH_URL="postgresql://postgres@127.0.0.1:$BENCH_PORT/postgres"
  export BENCH_PORT
fi
