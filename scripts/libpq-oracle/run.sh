#!/bin/sh
# Build the C oracle against the system libpq and run the differential test.
# Needs: gcc, libpq-dev (apt-get install -y libpq-dev).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
incdir=$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
gcc -O2 -Wall -o "$here/oracle" "$here/oracle.c" -I"$incdir" -lpq
# libpq's major version: PQlibVersion() via the packaged pg_config if
# present, else the libpq5 package version.
major=${LIBPQ_ORACLE_MAJOR:-$(pg_config --version 2>/dev/null | sed -E 's/[^0-9]*([0-9]+).*/\1/')}
if [ -z "$major" ]; then
  major=$(dpkg-query -W -f='${Version}' libpq5 | sed -E 's/^([0-9]+).*/\1/')
fi
cd "$here/../.."
LIBPQ_ORACLE="$here/oracle" LIBPQ_ORACLE_MAJOR="$major" \
  cargo test --test it libpq_oracle_diff -- --nocapture
