#!/usr/bin/env bash
# Finds or builds every binary the local cluster needs, cached by version under the
# bootstrap's tools dir, and installs the Debian packages it runs on.
#   scripts/cluster/tools.sh            build what is missing, print `export ...` lines
#   scripts/cluster/tools.sh --report   only say what is cached (used by the bootstrap)
set -euo pipefail

KUBERNETES_VERSION=v1.34.4
COREDNS_VERSION=v1.12.4
METRICS_SERVER_VERSION=v0.8.0
KSM_VERSION=v2.15.0
# Prometheus 3.16 (Go module v0.316.0): Debian's 2.42 package is built without Kubernetes service discovery.
PROMETHEUS_MODULE_VERSION=v0.316.0
# kube-router's network policy controller enforces NetworkPolicy (iptables + ipset) beside the bridge
# CNI and kube-proxy. v2.1.0 is the newest v2 release the Go module proxy serves.
KUBE_ROUTER_VERSION=v2.1.0
APT_PACKAGES=(etcd-server containerd runc containernetworking-plugins iptables nftables conntrack socat
  buildah debootstrap iproute2 openssl kmod ipset)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${GREETER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greeter/tools}"
say() { printf '[cluster-tools] %s\n' "$*" >&2; }

K8S_DIR="$CACHE/kubernetes-$KUBERNETES_VERSION"
COREDNS_DIR="$CACHE/coredns-$COREDNS_VERSION"
MS_DIR="$CACHE/metrics-server-$METRICS_SERVER_VERSION"
KSM_DIR="$CACHE/kube-state-metrics-$KSM_VERSION"
PAUSE_DIR="$CACHE/pause-3.10"
PROM_DIR="$CACHE/prometheus-$PROMETHEUS_MODULE_VERSION"
KR_DIR="$CACHE/kube-router-$KUBE_ROUTER_VERSION"
# src_hash and local_module_tool: local Go modules cached by a hash of their sources.
# shellcheck source=../lib/go-module.sh
source "$HERE/../lib/go-module.sh"
# greeter's own External metrics adapter (k8s/local/external-metrics.yaml), a module in this repo.
EM_SRC="$HERE/external-metrics"
EM_DIR="$CACHE/external-metrics-$(src_hash "$EM_SRC")"

if [[ "${1:-}" == --report ]]; then
  for entry in "kubernetes $KUBERNETES_VERSION:$K8S_DIR/bin/kubelet" "coredns $COREDNS_VERSION:$COREDNS_DIR/coredns" \
    "metrics-server $METRICS_SERVER_VERSION:$MS_DIR/metrics-server" "kube-state-metrics $KSM_VERSION:$KSM_DIR/kube-state-metrics" \
    "prometheus (module $PROMETHEUS_MODULE_VERSION):$PROM_DIR/prometheus" "pause:$PAUSE_DIR/pause" \
    "kube-router $KUBE_ROUTER_VERSION:$KR_DIR/kube-router" \
    "external-metrics (scripts/cluster/external-metrics):$EM_DIR/external-metrics"; do
    if [[ -x "${entry#*:}" ]]; then say "${entry%%:*}: cached at $(dirname "${entry#*:}")"; else say "${entry%%:*}: not built yet (npm run cluster -- up builds it)"; fi
  done
  exit 0
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || { say "needs root to install Debian packages: ${missing[*]}"; exit 1; }
  say "installing Debian packages: ${missing[*]} ..."
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
  # Debian's containerd unit may start a system containerd; greeter's cluster runs its own.
  (systemctl disable --now containerd 2>/dev/null || true) >/dev/null 2>&1
else
  say "Debian packages: present (${APT_PACKAGES[*]})"
fi
command -v go >/dev/null 2>&1 || { say "a Go toolchain is needed to build the Kubernetes binaries"; exit 1; }

# go_module_tool DIR NAME MAIN_PKG MODULE@VERSION: builds a program in its own tools module.
go_module_tool() {
  local dir=$1 name=$2 pkg=$3 modver=$4 started=$SECONDS
  if [[ -x "$dir/$name" ]]; then say "$name: cached at $dir"; return; fi
  say "$name: building $modver from the Go module proxy (first run only) ..."
  mkdir -p "$dir/src"
  (
    cd "$dir/src"
    [[ -f go.mod ]] || go mod init "greeter-$name-build" >/dev/null 2>&1
    GOFLAGS=-mod=mod go get -tool "$pkg@${modver#*@}" >&2
    GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$dir/$name.partial" "$pkg" >&2
    mv "$dir/$name.partial" "$dir/$name"
  )
  say "$name: built in $((SECONDS - started))s"
}

if [[ -x "$K8S_DIR/bin/kubelet" && -x "$K8S_DIR/bin/kubectl" ]]; then
  say "kubernetes $KUBERNETES_VERSION: cached at $K8S_DIR/bin"
else
  say "kubernetes $KUBERNETES_VERSION: building apiserver, controller-manager, scheduler, kubelet, kube-proxy, kubectl (first run only, about 17 min on 2 cores) ..."
  started=$SECONDS
  bash "$HERE/build-kubernetes.sh" "$K8S_DIR" "$KUBERNETES_VERSION" >&2
  say "kubernetes $KUBERNETES_VERSION: built in $((SECONDS - started))s"
fi

if [[ -x "$COREDNS_DIR/coredns" ]]; then
  say "coredns $COREDNS_VERSION: cached at $COREDNS_DIR"
else
  say "coredns $COREDNS_VERSION: building with only the plugins the cluster uses ..."
  started=$SECONDS
  mkdir -p "$COREDNS_DIR/src"
  cp "$HERE/coredns/main.go" "$COREDNS_DIR/src/main.go"
  (
    cd "$COREDNS_DIR/src"
    [[ -f go.mod ]] || go mod init greeter-coredns-build >/dev/null 2>&1
    GOFLAGS=-mod=mod go get "github.com/coredns/coredns@$COREDNS_VERSION" >&2
    GOFLAGS=-mod=mod go mod tidy >&2
    GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$COREDNS_DIR/coredns.partial" . >&2
    mv "$COREDNS_DIR/coredns.partial" "$COREDNS_DIR/coredns"
  )
  say "coredns $COREDNS_VERSION: built in $((SECONDS - started))s"
fi

go_module_tool "$MS_DIR" metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server "sigs.k8s.io/metrics-server@$METRICS_SERVER_VERSION"
go_module_tool "$PROM_DIR" prometheus github.com/prometheus/prometheus/cmd/prometheus "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION"
go_module_tool "$KSM_DIR" kube-state-metrics k8s.io/kube-state-metrics/v2 "k8s.io/kube-state-metrics/v2@$KSM_VERSION"
go_module_tool "$KR_DIR" kube-router github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "github.com/cloudnativelabs/kube-router/v2@$KUBE_ROUTER_VERSION"
local_module_tool "$EM_DIR" external-metrics "$EM_SRC"

if [[ -x "$PAUSE_DIR/pause" ]]; then
  say "pause: cached at $PAUSE_DIR"
else
  mkdir -p "$PAUSE_DIR"
  gcc -static -O2 -o "$PAUSE_DIR/pause" "$HERE/pause/pause.c"
  say "pause: compiled (static) into $PAUSE_DIR"
fi

printf 'export GREETER_K8S_BIN=%q\n' "$K8S_DIR/bin"
# kubectl of the same version first on PATH (a machine's own kubectl may be several minors older).
printf 'export PATH=%q\n' "$K8S_DIR/bin:$PATH"
printf 'export GREETER_COREDNS=%q\n' "$COREDNS_DIR/coredns"
printf 'export GREETER_METRICS_SERVER=%q\n' "$MS_DIR/metrics-server"
printf 'export GREETER_KSM=%q\n' "$KSM_DIR/kube-state-metrics"
printf 'export GREETER_PAUSE=%q\n' "$PAUSE_DIR/pause"
printf 'export GREETER_PROMETHEUS=%q\n' "$PROM_DIR/prometheus"
printf 'export GREETER_EXTERNAL_METRICS=%q\n' "$EM_DIR/external-metrics"
printf 'export GREETER_KUBE_ROUTER=%q\n' "$KR_DIR/kube-router"
