#!/usr/bin/env bash
# Runs a command with the bootstrapped toolchain (Node 24, temporal, helm, ...) on PATH.
#   scripts/with-toolchain.sh [--build] COMMAND ARGS...
# --build compiles the TypeScript and prebundles the workflow code first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Not `eval "$(bootstrap)"`: that discards the bootstrap's exit status and would run the
# command with whatever node and tools the machine has.
if ! toolchain_env="$(bash "$ROOT/scripts/bootstrap.sh" --env)"; then
  printf '[toolchain] the bootstrap failed (its reason is above); not running: %s\n' "$*" >&2
  exit 1
fi
eval "$toolchain_env"
if [[ "${1:-}" == "--build" ]]; then
  shift
  started=$SECONDS
  (cd "$ROOT" && npx tsc -b && node services/worker/dist/src/build-workflow-bundle.js)
  printf '[build] compiled and bundled in %ss\n' "$((SECONDS - started))" >&2
fi
cd "$ROOT"
exec "$@"
