# Sourced by the scripts that run the real SQLAlchemy stack (check-prediction.sh,
# record-app-cpu.sh): exports APP_PYTHON, an interpreter with the pinned packages of
# scripts/driver-fixture-requirements.txt. A given APP_PYTHON is used as it is; otherwise a
# virtualenv under target/ is made once and remade when the requirements change.
if [ -z "${APP_PYTHON:-}" ]; then
  venv=target/prediction-venv
  if ! cmp -s scripts/driver-fixture-requirements.txt "$venv/ready" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r scripts/driver-fixture-requirements.txt
    cp scripts/driver-fixture-requirements.txt "$venv/ready"
  fi
  APP_PYTHON=$PWD/$venv/bin/python
fi
export APP_PYTHON
