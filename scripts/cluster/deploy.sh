#!/usr/bin/env bash
# Installs greeter on the current cluster (KUBECONFIG) as the cluster suite and a user on the
# local cluster do: namespaces, Jaeger, a plain Prometheus (k8s/local/prometheus.yaml) and the
# app chart with the local profile, then waits until every pod is Ready.
#   scripts/cluster/deploy.sh [extra helm args...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VALUES="${GREETER_VALUES:-$ROOT/charts/greeter/ci/local-values.yaml}"
say() { printf '[deploy] %s\n' "$*" >&2; }
started=$SECONDS
kubectl apply -f "$ROOT/k8s/namespaces.yaml" >/dev/null
kubectl apply -f "$ROOT/k8s/jaeger/jaeger.yaml" -f "$ROOT/k8s/local/prometheus.yaml" >/dev/null
# Jaeger names a pinned tag without a pull policy (IfNotPresent): the imported stand-in is used.
say "observability applied; installing the greeter chart ($(basename "$VALUES")) ..."
helm upgrade --install greeter "$ROOT/charts/greeter" -n greeter -f "$VALUES" --wait --timeout 5m "$@" >/dev/null
kubectl -n observability rollout status deployment/jaeger deployment/prometheus --timeout=180s >/dev/null
# Every Deployment rolled out (not `kubectl wait pod --all`: a pod that terminates during a
# rollout never turns Ready, and the wait would run into its timeout).
for d in $(kubectl -n greeter get deployments -o name); do kubectl -n greeter rollout status "$d" --timeout=180s >/dev/null; done
say "greeter deployed in $((SECONDS - started))s"
kubectl -n greeter get pods -o wide >&2
