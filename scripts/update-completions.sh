#!/usr/bin/env bash
# Regenerates the committed shell completion scripts in completions/ from the current binary.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin="${CARGO_TARGET_DIR:-target}/debug/dbtool"
mkdir -p completions
"$bin" completions bash >completions/dbtool.bash
"$bin" completions zsh >completions/_dbtool
"$bin" completions fish >completions/dbtool.fish
"$bin" completions powershell >completions/_dbtool.ps1
"$bin" completions elvish >completions/dbtool.elv
echo "completions/ regenerated"
