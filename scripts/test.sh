#!/usr/bin/env bash
# The test suite (run through `npm test`, which bootstraps and builds first).
# Extra arguments are passed to node --test, e.g. `npm test -- --test-name-pattern=translator`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(find services/*/dist/test test/dist -name '*.test.js' -not -path 'test/dist/cluster/*' 2>/dev/null | sort)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "no compiled tests found (did the build run?)" >&2
  exit 1
fi
echo "[test] lint: eslint and prettier" >&2
npx eslint --max-warnings=0 .
npx prettier --check --log-level=warn .
# Tests start real servers on loopback; run files one after another so their
# figures and ports do not fight over two cores.
exec node --test --test-concurrency=1 --test-reporter=spec "$@" "${files[@]}"
