#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, from upstream sources, with no container
# engine and no registry (the precedent is Kubernetes' own hack/local-up-cluster.sh).
#   npm run cluster -- up       build what is missing, start the node, install the addons
#   npm run cluster -- down     stop everything and remove every trace outside the state dir
#   npm run cluster -- status   what runs, and how to use it
#   npm run cluster -- images   (re)build greeter's images and import them into the node
# Every node process runs in the network namespace greeter-node (10.201.0.2), reached from
# the host over a veth pair (10.201.0.1); routes for the Service and pod CIDRs point into it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="${GREETER_CLUSTER_DIR:-/var/lib/greeter-cluster}"
NETNS=greeter-node
NODE_NAME=greeter-node
HOST_IF=grn-host
NODE_IF=grn-node
HOST_IP=10.201.0.1
NODE_IP=10.201.0.2
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
K8S_VERSION=v1.34.4
PIDS="$STATE/pids"
LOGS="$STATE/logs"
PKI="$STATE/pki"
CTR_SOCK="$STATE/containerd/containerd.sock"
export KUBECONFIG="$STATE/kubeconfig"

say() { printf '[cluster] %s\n' "$*" >&2; }
die() {
  printf '[cluster] error: %s\n' "$*" >&2
  exit 1
}
in_node() { nsenter --net="/run/netns/$NETNS" -- "$@"; }
ctr_node() { ctr --address "$CTR_SOCK" -n k8s.io "$@"; }

require_root() {
  [[ $EUID -eq 0 ]] || die "the local cluster needs root (network namespaces, mounts, cgroups); run as root or use kind"
  [[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] || die "no cgroup hierarchy under /sys/fs/cgroup: pods cannot be confined here"
  grep -qw overlay /proc/filesystems || die "the kernel has no overlay filesystem: containerd's snapshotter needs it"
}

# alive NAME: the pid in $PIDS/NAME runs NAME (a pid file that outlived its process may name a
# reused pid, which must never be signalled).
alive() {
  local pid
  [[ -f "$PIDS/$1" ]] || return 1
  pid="$(cat "$PIDS/$1")"
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$1"
}

# start NAME CMD...: runs CMD in the node's network namespace, logs to $LOGS/NAME.log.
start() {
  local name=$1
  shift
  if alive "$name"; then return; fi
  nsenter --net="/run/netns/$NETNS" -- setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name"
}

# wait_for WHAT SECONDS CMD...: retries CMD until it succeeds.
wait_for() {
  local what=$1 limit=$2 started=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - started > limit)); then die "$what not ready after ${limit}s (logs: $LOGS)"; fi
    sleep 1
  done
  say "$what ready after $((SECONDS - started))s"
}

# ---------------------------------------------------------------------------- PKI
cert() { # cert NAME CN [O] [SANs]: key + certificate signed by the cluster CA
  local name=$1 cn=$2 org=${3:-} sans=${4:-} subj="/CN=$2"
  [[ -n "$org" ]] && subj="/O=$org/CN=$cn"
  [[ -f "$PKI/$name.crt" ]] && return
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/${5:-ca}.crt" -CAkey "$PKI/${5:-ca}.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}

kubeconfig() { # kubeconfig FILE CERTNAME SERVER
  local file=$1 name=$2 server=$3
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: greeter-local
    cluster:
      certificate-authority: $PKI/ca.crt
      server: $server
users:
  - name: $name
    user:
      client-certificate: $PKI/$name.crt
      client-key: $PKI/$name.key
contexts:
  - name: greeter-local
    context: { cluster: greeter-local, user: $name }
current-context: greeter-local
EOF
}

make_pki() {
  mkdir -p "$PKI"
  for ca in ca front-proxy-ca; do
    [[ -f "$PKI/$ca.crt" ]] && continue
    openssl genrsa -out "$PKI/$ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI/$ca.key" -subj "/CN=greeter-local-$ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/$ca.crt" 2>/dev/null
  done
  cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:$API_SERVICE_IP,IP:$NODE_IP,IP:127.0.0.1"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert front-proxy-client front-proxy-client "" "" front-proxy-ca
  cert admin kubernetes-admin system:masters
  cert controller-manager system:kube-controller-manager
  cert scheduler system:kube-scheduler
  cert kube-proxy system:kube-proxy
  cert kube-router system:kube-router
  cert kubelet "system:node:$NODE_NAME" system:nodes "DNS:$NODE_NAME,IP:$NODE_IP"
  if [[ ! -f "$PKI/sa.key" ]]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  kubeconfig "$STATE/kubeconfig" admin "https://$NODE_IP:6443"
  kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager "https://127.0.0.1:6443"
  kubeconfig "$STATE/scheduler.kubeconfig" scheduler "https://127.0.0.1:6443"
  kubeconfig "$STATE/kube-proxy.kubeconfig" kube-proxy "https://127.0.0.1:6443"
  kubeconfig "$STATE/kube-router.kubeconfig" kube-router "https://127.0.0.1:6443"
  kubeconfig "$STATE/kubelet.kubeconfig" kubelet "https://127.0.0.1:6443"
}

# ---------------------------------------------------------------------------- network
make_network() {
  if [[ ! -e "/run/netns/$NETNS" ]]; then
    ip netns add "$NETNS"
  fi
  if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
    ip link add "$HOST_IF" type veth peer name "$NODE_IF"
    ip link set "$NODE_IF" netns "$NETNS"
    ip addr add "$HOST_IP/30" dev "$HOST_IF"
    ip link set "$HOST_IF" up
  fi
  in_node ip link set lo up
  in_node ip addr replace "$NODE_IP/30" dev "$NODE_IF"
  in_node ip link set "$NODE_IF" up
  in_node ip route replace default via "$HOST_IP"
  # Forwarding and bridge netfilter only inside the node: pod and Service traffic stays there.
  in_node sysctl -qw net.ipv4.ip_forward=1
  in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || say "warning: bridge-nf-call-iptables not settable; pod-to-Service replies may bypass kube-proxy"
  ip route replace "$SERVICE_CIDR" via "$NODE_IP" dev "$HOST_IF"
  ip route replace "$POD_CIDR" via "$NODE_IP" dev "$HOST_IF"
}

# ---------------------------------------------------------------------------- configs
write_configs() {
  mkdir -p "$STATE"/{containerd,cni/net.d,cni/ipam,kubelet/manifests,kubelet/pod-logs}
  # etcd refuses a data dir that others may read.
  mkdir -p -m 700 "$STATE/etcd"
  cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
[grpc]
  address = "$CTR_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  # root here lacks CAP_SYS_RESOURCE: runc must never try to lower oom_score_adj.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  cat >"$STATE/cni/net.d/10-greeter.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "greeter",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$STATE/cni/ipam",
                "ranges": [[{ "subnet": "$NODE_POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  printf 'nameserver %s\noptions ndots:1\n' "$HOST_IP" >"$STATE/resolv.conf"
  cat >"$STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
containerRuntimeEndpoint: unix://$CTR_SOCK
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
staticPodPath: $STATE/kubelet/manifests
podLogsDir: $STATE/kubelet/pod-logs
resolvConf: $STATE/resolv.conf
address: $NODE_IP
healthzBindAddress: 127.0.0.1
# Imported images cannot be pulled again: never garbage-collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2% }
serializeImagePulls: false
maxPods: 110
EOF
  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $STATE/kube-proxy.kubeconfig }
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
# nf_conntrack sysctls are read-only here: leave them as they are.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
}

# ---------------------------------------------------------------------------- processes
start_node() {
  local bin=$GREETER_K8S_BIN
  start etcd etcd --name greeter-node --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster greeter-node=http://127.0.0.1:2380 --quota-backend-bytes 2147483648
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_for etcd 30 in_node curl -fsS http://127.0.0.1:2379/health
  start kube-apiserver "$bin/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
    --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
    --authorization-mode=Node,RBAC --client-ca-file="$PKI/ca.crt" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --enable-aggregator-routing=true
  wait_for kube-apiserver 60 kubectl get --raw /readyz
  start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" --use-service-account-credentials=true \
    --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" --node-cidr-mask-size=24 --service-cluster-ip-range="$SERVICE_CIDR" \
    --leader-elect=false
  start kube-scheduler "$bin/kube-scheduler" --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false
  wait_for containerd 30 ctr_node version
  start kubelet "$bin/kubelet" --config="$STATE/kubelet/config.yaml" --kubeconfig="$STATE/kubelet.kubeconfig" \
    --root-dir="$STATE/kubelet" --cert-dir="$STATE/kubelet/pki" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME"
  start kube-proxy "$bin/kube-proxy" --config="$STATE/kube-proxy.yaml"
  wait_for "node $NODE_NAME registered" 60 kubectl get node "$NODE_NAME"
  wait_for "node $NODE_NAME Ready" 120 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
}

install_addons() {
  kubectl apply --server-side --force-conflicts -f "$ROOT/k8s/local/addons.yaml" >/dev/null
  start_policy_controller
  wait_for "CoreDNS, metrics-server, kube-state-metrics" 180 kubectl -n kube-system wait --for=condition=Available \
    deployment/coredns deployment/metrics-server deployment/kube-state-metrics --timeout=2s
  wait_for "metrics API" 120 kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes
}

# NetworkPolicy enforcement: kube-router's policy controller only (no routing, no service proxy:
# the bridge CNI and kube-proxy keep those), as a node process like kube-proxy. Its RBAC
# (system:kube-router) comes with the addons. Rules and ipsets live in the node's netns.
start_policy_controller() {
  start kube-router "$GREETER_KUBE_ROUTER" --kubeconfig="$STATE/kube-router.kubeconfig" --hostname-override="$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false --enable-ipv6=false \
    --service-cluster-ip-range="$SERVICE_CIDR" --health-port=20244 --metrics-port=0 --iptables-sync-period=1m
  wait_for "kube-router policy controller" 60 in_node curl -fsS http://127.0.0.1:20244/healthz
}

# ---------------------------------------------------------------------------- up / down / status
other_cluster() { # another cluster of ours (by state dir or netns) already running?
  local f
  for f in /var/lib/greeter-cluster*/pids/kube-apiserver /tmp/greeter-cluster*/pids/kube-apiserver; do
    [[ -f "$f" ]] || continue
    [[ "$(dirname "$(dirname "$f")")" == "$STATE" ]] && continue
    tr '\0' ' ' <"/proc/$(cat "$f")/cmdline" 2>/dev/null | grep -q kube-apiserver && { echo "$(dirname "$(dirname "$f")")"; return 0; }
  done
  return 1
}

cmd_up() {
  require_root
  local other started=$SECONDS
  if other="$(other_cluster)"; then die "another greeter cluster is running from $other; stop it first (GREETER_CLUSTER_DIR=$other npm run cluster -- down)"; fi
  if alive kube-apiserver && alive kubelet && kubectl get --raw /readyz >/dev/null 2>&1; then
    say "already running (state $STATE)"
    usage_hint
    return
  fi
  if [[ -d "$STATE" || -e "/run/netns/$NETNS" ]] && ! alive kube-apiserver; then
    # A cluster that died with its host session (or a failed up) left state behind: start clean.
    say "found state of a cluster that is not running (${STATE}); cleaning it up first"
    GREETER_CLUSTER_KEEP=0 cmd_down
  fi
  eval "$(bash "$HERE/tools.sh")"
  mkdir -p "$STATE" "$PIDS" "$LOGS"
  make_pki
  make_network
  write_configs
  start_node
  bash "$HERE/images.sh" system
  install_addons
  say "up in $((SECONDS - started))s"
  usage_hint
}

usage_hint() {
  cat >&2 <<EOF
[cluster] Kubernetes $K8S_VERSION, node $NODE_NAME ($NODE_IP), state in $STATE
[cluster]   export KUBECONFIG=$KUBECONFIG
[cluster]   kubectl get pods -A
[cluster]   npm run cluster -- images        # build greeter's images into the node
[cluster]   npm run test:cluster             # the cluster suite against this cluster
[cluster] Services ($SERVICE_CIDR) and pods ($POD_CIDR) are routed from this host via $NODE_IP.
EOF
}

kill_pidfile() { # kill_pidfile NAME SIGNAL_WAIT_SECONDS
  local name=$1 pid
  [[ -f "$PIDS/$name" ]] || return 0
  pid="$(cat "$PIDS/$name")"
  if alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 "${2:-10}"); do alive "$name" || break; sleep 1; done
    if alive "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$PIDS/$name"
}

# Pids of processes started for the node but not by this script: containers and shims.
node_container_pids() {
  local p
  for p in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/unified/kubepods; do
    [[ -d "$p" ]] && find "$p" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  for p in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "containerd-shim.*-address $CTR_SOCK" && basename "$p"
  done
  true
}

cmd_down() {
  require_root
  local started=$SECONDS pid
  for name in kube-router kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver; do kill_pidfile "$name" 15; done
  # Containers and their shims: by pid, found through the pod cgroups and the shims' socket.
  for _ in 1 2 3; do
    mapfile -t pids < <(node_container_pids | sort -u)
    ((${#pids[@]})) || break
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    sleep 1
  done
  kill_pidfile containerd 15
  kill_pidfile etcd 15
  # Mounts made by kubelet, containerd and CNI (deepest first).
  awk '{print $5}' /proc/self/mountinfo | grep -E "^($STATE/|/run/netns/cni-|/run/containerd/)" | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -f /run/netns/cni-* 2>/dev/null || true
  # cgroups (deepest first; only empty ones can go).
  for p in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/unified/kubepods; do
    [[ -d "$p" ]] && find "$p" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  # The network: the netns takes the veth pair, its iptables/nftables rules and cni0 with it.
  ip route del "$SERVICE_CIDR" 2>/dev/null || true
  ip route del "$POD_CIDR" 2>/dev/null || true
  ip link del "$HOST_IF" 2>/dev/null || true
  [[ -e "/run/netns/$NETNS" ]] && ip netns del "$NETNS"
  # Files written outside the state dir.
  rm -rf /run/containerd/fifo /run/containerd/s /run/containerd/runc/k8s.io /var/lib/cni/results /var/lib/kubelet/device-plugins
  rmdir /run/containerd/runc /run/containerd /var/lib/cni /var/lib/kubelet 2>/dev/null || true
  # Runtime state goes; the CA and images stay only if asked (GREETER_CLUSTER_KEEP=1).
  if [[ "${GREETER_CLUSTER_KEEP:-0}" != 1 ]]; then rm -rf "$STATE"; fi
  if [[ -d "$STATE" ]]; then say "down in $((SECONDS - started))s; nothing of the cluster is left outside ${STATE} (kept: GREETER_CLUSTER_KEEP=1)"; else say "down in $((SECONDS - started))s; nothing of the cluster is left"; fi
  leftovers || die "leftovers after down (see above)"
}

leftovers() { # prints anything of ours that survived; exit 1 when there is some
  local bad=0
  [[ -e "/run/netns/$NETNS" ]] && { say "left: netns $NETNS"; bad=1; }
  ip link show "$HOST_IF" >/dev/null 2>&1 && { say "left: veth $HOST_IF"; bad=1; }
  ip route | grep -qE "^($SERVICE_CIDR|$POD_CIDR) " && { say "left: routes"; bad=1; }
  grep -qE " ($STATE/|/run/netns/cni-)" /proc/self/mountinfo && { say "left: mounts"; bad=1; }
  ls -d /sys/fs/cgroup/*/kubepods >/dev/null 2>&1 && { say "left: cgroups kubepods"; bad=1; }
  [[ -n "$(node_container_pids)" ]] && { say "left: container processes"; bad=1; }
  return $bad
}

cmd_status() {
  local any=0
  for name in etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kube-router; do
    if alive "$name"; then printf '%-24s running (pid %s)\n' "$name" "$(cat "$PIDS/$name")"; any=1; else printf '%-24s stopped\n' "$name"; fi
  done
  if ((any)) && kubectl get --raw /readyz >/dev/null 2>&1; then
    kubectl get nodes -o wide
    kubectl get pods -A
    usage_hint
  else
    echo "no cluster running (state dir $STATE); start one with: npm run cluster -- up"
    return 3
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  images)
    require_root
    shift
    bash "$HERE/images.sh" "${@:-app}"
    ;;
  env) echo "export KUBECONFIG=$KUBECONFIG" ;;
  *)
    echo "usage: npm run cluster -- up | down | status | images [system|app|all] | env" >&2
    exit 2
    ;;
esac
