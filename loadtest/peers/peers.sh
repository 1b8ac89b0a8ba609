#!/usr/bin/env bash
# Finds or builds the benchmark peers in the tools cache and prints `export ...` lines:
#   GREETER_PEER_GO      the Go SDK worker (loadtest/peers/go), cached by a hash of its sources
#   GREETER_PEER_PYTHON  the python of a venv with loadtest/peers/python/requirements.txt,
#                        cached by a hash of that file and the Python version
# Used by `npm run bench -- --only workers` and test/loadtest/peers.test.ts.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${GREETER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greeter/tools}"
say() { printf '[peers] %s\n' "$*" >&2; }
# shellcheck source=../../scripts/lib/go-module.sh
source "$HERE/../../scripts/lib/go-module.sh"

# Go: the toolchain from PATH or the machine's usual place.
command -v go >/dev/null 2>&1 || PATH="$PATH:/usr/local/go/bin"
GO_DIR="$CACHE/peer-go-$(src_hash "$HERE/go")"
local_module_tool "$GO_DIR" peer-go "$HERE/go"

# Python: a venv per requirements and interpreter version, built once, then reused.
command -v python3 >/dev/null 2>&1 || { say "python3 is needed for the Python peer"; exit 1; }
PY_KEY="$( (python3 -c 'import sys; print(sys.version)'; cat "$HERE/python/requirements.txt") | sha256sum | cut -c1-12)"
PY_DIR="$CACHE/peer-python-$PY_KEY"
if [[ -x "$PY_DIR/bin/python" && -f "$PY_DIR/.complete" ]]; then
  say "peer-python: cached at $PY_DIR"
else
  started=$SECONDS
  say "peer-python: installing $(grep -c '==' "$HERE/python/requirements.txt") pinned packages from PyPI into $PY_DIR ..."
  rm -rf "$PY_DIR"
  python3 -m venv "$PY_DIR" >&2 || { say "python3 -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }
  "$PY_DIR/bin/pip" install -q --disable-pip-version-check --no-deps -r "$HERE/python/requirements.txt" >&2
  touch "$PY_DIR/.complete"
  for old in "$CACHE"/peer-python-*; do [[ "$old" == "$PY_DIR" ]] || rm -rf "$old"; done
  say "peer-python: installed in $((SECONDS - started))s"
fi

printf 'export GREETER_PEER_GO=%q\n' "$GO_DIR/peer-go"
printf 'export GREETER_PEER_PYTHON=%q\n' "$PY_DIR/bin/python"
