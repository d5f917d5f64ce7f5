# Sourced after scripts/lib/cluster.sh: starts PgBouncer (Debian's package) in front of the
# cluster in $BOUNCER_MODE (default transaction) with $BOUNCER_POOL_SIZE server connections per
# pool (default 2), exports BOUNCER_URL and BOUNCER_PORT, and stops it on exit.
set -euo pipefail
bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$bouncer" ] || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 3; }
BOUNCER_DIR=$(mktemp -d /tmp/dbtool-bouncer.XXXXXX)
chmod 755 "$BOUNCER_DIR"
BOUNCER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$BOUNCER_DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$BENCH_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir = $BOUNCER_DIR
auth_type = trust
auth_file = $BOUNCER_DIR/userlist.txt
pool_mode = ${BOUNCER_MODE:-transaction}
default_pool_size = ${BOUNCER_POOL_SIZE:-2}
max_client_conn = 500
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
INI
echo '"postgres" ""' >"$BOUNCER_DIR/userlist.txt"
[ "$(id -u)" = 0 ] && chown -R postgres "$BOUNCER_DIR"
as_pg "$bouncer" -d "$BOUNCER_DIR/pgbouncer.ini"
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $BOUNCER_PORT))" 2>/dev/null && break
  sleep 0.05
done
stop_bouncer() { kill "$(cat "$BOUNCER_DIR/pgbouncer.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$BOUNCER_DIR"; }
# Runs before cluster.sh's trap: PgBouncer first, then the cluster.
trap "stop_bouncer; $(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")" EXIT
export BOUNCER_URL="postgresql://postgres@127.0.0.1:$BOUNCER_PORT/postgres"
export BOUNCER_PORT BOUNCER_DIR
