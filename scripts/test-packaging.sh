#!/usr/bin/env bash
# Packaging tests, run by scripts/test (the README's test command) and so by CI:
#  1. the wheel maturin builds (bindings = "bin") installs into a fresh virtualenv and runs;
#  2. `pip install <checkout>`, `uv tool install <checkout>` and `pip install git+file://<checkout>`
#     put dbtool on the PATH;
#  3. the pre-commit hooks (SQL files, Alembic migrations) fail a commit adding an unnamed or
#     misnamed constraint and pass a well-named one (`pre-commit try-repo` in a temporary git
#     repository).
# Builds use cargo's dev profile and this checkout's target directory, so they reuse what
# `cargo test` compiled instead of a release build per install. Needs python3-venv and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/dbtool-packaging.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export MATURIN_PEP517_ARGS="--profile dev"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PRE_COMMIT_HOME="$work/pre-commit-home"
fail() { echo "packaging: FAILED: $*" >&2; exit 1; }
step() { echo "packaging: $*"; }

python3 -m venv "$work/tools"
"$work/tools/bin/pip" install -q -r scripts/packaging-requirements.txt

# The installed command runs: --version, and check-url on a URL (no .env, no server needed).
runs() {
  local bin=$1/bin/dbtool out
  [ -x "$bin" ] || fail "$1: no bin/dbtool after the install"
  "$bin" --version | grep -q '^dbtool ' || fail "$bin --version"
  out=$("$bin" check-url --no-dotenv 'postgresql+asyncpg://app@db.example.com:6432/app') \
    || fail "$bin check-url exited $?"
  grep -q 'db.example.com' <<<"$out" || fail "$bin check-url did not explain the URL: $out"
  step "$bin runs"
}

step "maturin build (wheel)"
"$work/tools/bin/maturin" build --profile dev --quiet --out "$work/dist" >/dev/null 2>&1 \
  || "$work/tools/bin/maturin" build --profile dev --out "$work/dist"
wheel=$(ls "$work"/dist/dbtool-*.whl)
python3 -m venv "$work/wheel"
"$work/wheel/bin/pip" install -q "$wheel"
runs "$work/wheel"

step "pip install $root"
python3 -m venv "$work/local"
"$work/local/bin/pip" install -q "$root"
runs "$work/local"

step "uv tool install $root"
UV_TOOL_DIR="$work/uv-tools" UV_TOOL_BIN_DIR="$work/uv-bin/bin" UV_CACHE_DIR="$work/uv-cache" \
  "$work/tools/bin/uv" tool install --quiet "$root"
runs "$work/uv-bin"

if git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
  step "pip install git+file://$root (HEAD)"
  python3 -m venv "$work/git"
  "$work/git/bin/pip" install -q "git+file://$root"
  runs "$work/git"
fi

step "pre-commit try-repo"
app="$work/app"
mkdir -p "$app/migrations"
git -C "$app" init -q
git -C "$app" config user.email ci@example.com
git -C "$app" config user.name ci
cat >"$app/migrations/0001_users.sql" <<'SQL'
CREATE TABLE users (id bigint CONSTRAINT pk_users PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX ix_users_email ON users (email);
SQL
git -C "$app" add migrations
(cd "$app" && "$work/tools/bin/pre-commit" try-repo "$root" dbtool-lint-constraints >"$work/good.log" 2>&1) \
  || { cat "$work/good.log"; fail "the hook refused well-named constraints"; }
git -C "$app" commit -qm users --no-verify
cat >"$app/migrations/0002_orders.sql" <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));
SQL
git -C "$app" add migrations
if (cd "$app" && "$work/tools/bin/pre-commit" try-repo "$root" dbtool-lint-constraints >"$work/bad.log" 2>&1); then
  cat "$work/bad.log"; fail "the hook passed unnamed constraints"
fi
grep -q 'pk_orders' "$work/bad.log" || { cat "$work/bad.log"; fail "the hook's output does not name pk_orders"; }
step "the hook fails unnamed constraints and passes named ones"

step "pre-commit try-repo (Alembic migrations)"
git -C "$app" commit -qm orders --no-verify
mkdir -p "$app/alembic/versions"
cat >"$app/alembic/versions/0001_accounts.py" <<'PY'
"""accounts"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
PY
git -C "$app" add alembic
(cd "$app" && "$work/tools/bin/pre-commit" try-repo "$root" dbtool-lint-alembic >"$work/alembic-good.log" 2>&1) \
  || { cat "$work/alembic-good.log"; fail "the Alembic hook refused a well-named migration"; }
git -C "$app" commit -qm accounts --no-verify
cat >"$app/alembic/versions/0002_sessions.py" <<'PY'
"""sessions"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_table("sessions", sa.Column("id", sa.Integer(), primary_key=True))
PY
git -C "$app" add alembic
if (cd "$app" && "$work/tools/bin/pre-commit" try-repo "$root" dbtool-lint-alembic >"$work/alembic-bad.log" 2>&1); then
  cat "$work/alembic-bad.log"; fail "the Alembic hook passed an unnamed primary key"
fi
grep -q 'pk_sessions' "$work/alembic-bad.log" || { cat "$work/alembic-bad.log"; fail "the Alembic hook's output does not name pk_sessions"; }
step "the Alembic hook fails an unnamed primary key and passes a named one"
echo "packaging: ok"
