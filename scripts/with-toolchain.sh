#!/usr/bin/env bash
# Runs a command with the bootstrapped toolchain (Node 24, temporal, helm, ...) on PATH.
#   scripts/with-toolchain.sh [--build] COMMAND ARGS...
# --build compiles the TypeScript and prebundles the workflow code first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval "$(bash "$ROOT/scripts/bootstrap.sh" --env)"
if [[ "${1:-}" == "--build" ]]; then
  shift
  started=$SECONDS
  (cd "$ROOT" && npx tsc -b && node services/worker/dist/src/build-workflow-bundle.js)
  printf '[build] compiled and bundled in %ss\n' "$((SECONDS - started))" >&2
fi
cd "$ROOT"
exec "$@"
