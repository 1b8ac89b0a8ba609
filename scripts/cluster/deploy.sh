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
kubectl -n greeter wait --for=condition=Ready pod --all --timeout=180s >/dev/null
say "greeter deployed in $((SECONDS - started))s"
kubectl -n greeter get pods -o wide >&2
