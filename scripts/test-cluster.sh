#!/usr/bin/env bash
# The cluster suite (npm run test:cluster): greeter on a real Kubernetes.
#   KUBECONFIG set      runs against that cluster (kind, cloud): the greeter images must be
#                       loadable there (GREETER_KIND_CLUSTER=<name> loads them into kind)
#   KUBECONFIG unset    brings up the local single-node cluster (npm run cluster -- up), builds
#                       and imports the images, runs the suite, and takes the cluster down again
#                       (GREETER_CLUSTER_KEEP=1 keeps it running)
# Extra arguments go to node --test (e.g. --test-name-pattern=faults).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '[test:cluster] %s\n' "$*" >&2; }
started=$SECONDS
ours=0
if [[ -z "${KUBECONFIG:-}" ]]; then
  say "no KUBECONFIG given: bringing up the local cluster (scripts/cluster/cluster.sh up)"
  bash scripts/cluster/cluster.sh up || {
    say "the local cluster could not start (see the messages above); give a KUBECONFIG for another cluster"
    exit 1
  }
  ours=1
  eval "$(bash scripts/cluster/cluster.sh env)"
  # `up` twice is harmless: the second one only reports the running cluster.
  again="$(bash scripts/cluster/cluster.sh up 2>&1)" && grep -q 'already running' <<<"$again" ||
    { say "a second 'cluster up' did not report the running cluster: $again"; exit 1; }
  bash scripts/cluster/cluster.sh status >/dev/null || { say "'cluster status' failed on a running cluster"; exit 1; }
  export GREETER_CLUSTER_ROUTED=1
  # Taken down at the end (below); on an early exit too, by this trap.
  if [[ "${GREETER_CLUSTER_KEEP:-0}" != 1 ]]; then trap 'bash scripts/cluster/cluster.sh down || true' EXIT; fi
fi
kubectl get --raw /readyz >/dev/null 2>&1 || { say "the cluster at KUBECONFIG=$KUBECONFIG does not answer /readyz"; exit 1; }
kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes >/dev/null 2>&1 ||
  { say "no metrics API (metrics-server) on this cluster: the CPU HPA cannot work; install it first"; exit 1; }
if ((ours)) || [[ -n "${GREETER_KIND_CLUSTER:-}" ]]; then bash scripts/cluster/images.sh app; fi
bash scripts/cluster/deploy.sh
say "cluster ready in $((SECONDS - started))s; running the suite"
mapfile -t files < <(find test/dist/cluster -name '*.test.js' | sort)
((${#files[@]})) || { say "no compiled cluster tests (did the build run?)"; exit 1; }
# node --test runs files in name order: 1-install (the fresh install), 2-autoscale, 3-faults, 4-network-policy.
status=0
node --test --test-concurrency=1 --test-reporter=spec "$@" "${files[@]}" || status=$?
say "suite finished in $((SECONDS - started))s (exit $status)"
if ((ours)) && [[ "${GREETER_CLUSTER_KEEP:-0}" != 1 ]]; then
  trap - EXIT
  # `down` checks that nothing is left (netns, veth, routes, mounts, cgroups, processes) and fails otherwise.
  bash scripts/cluster/cluster.sh down || { say "cluster down left things behind"; status=1; }
fi
exit $status
