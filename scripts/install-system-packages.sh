#!/usr/bin/env bash
# Installs the system packages dbtool's build and tests need, when they are missing (Debian 12,
# apt-get; as root, or through sudo). Used by the README's quickstart (scripts/dbtool,
# scripts/test) and by CI (.ci/run), so all three set a machine up the same way.
#   scripts/install-system-packages.sh          # the build and the tests
#   scripts/install-system-packages.sh build    # the build only (scripts/dbtool)
set -euo pipefail
what=${1:-all}
missing=()
# A C toolchain for crates that build C code (mimalloc, ring, libpg_query).
command -v cc >/dev/null || missing+=(build-essential)
# libclang for bindgen and clang, which the pg_query crate (libpg_query) needs to build.
compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null || missing+=(libclang-dev)
command -v clang >/dev/null || missing+=(clang)
if [ "$what" = all ]; then
  # PostgreSQL server binaries for the test harness (initdb, pg_ctl, postgres) and psql.
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null; then
    missing+=(postgresql postgresql-client)
  fi
  # PgBouncer, for the tests behind a real pooler (tests/it/poolers.rs).
  command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  # Network namespaces (ip) with a stateful firewall (nft, conntrack) between client and server,
  # for the idle-probe tests (tests/it/idle_probe.rs).
  command -v ip >/dev/null || [ -x /usr/sbin/ip ] || missing+=(iproute2)
  command -v nft >/dev/null || [ -x /usr/sbin/nft ] || missing+=(nftables)
  # libpq's headers for the libpq differential test (scripts/libpq-oracle).
  [ -f /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
  # Virtual environments for the packaging tests (scripts/test-packaging.sh), and SQLite, which
  # pre-commit keeps its state in (a Python built elsewhere may lack the shared library).
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  python3 -c 'import sqlite3' 2>/dev/null || missing+=(libsqlite3-0)
fi
if ((${#missing[@]})); then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$what" = all ]; then
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
fi
