#!/usr/bin/env bash
# Installs greeter on the current cluster (KUBECONFIG) as the cluster suite and a user on the
# local cluster do: namespaces, Jaeger, a plain Prometheus with greeter's alert rules
# (k8s/local/prometheus.yaml), the External metrics adapter the worker HPA reads
# (k8s/local/external-metrics.yaml) and the app chart with the local profile, then waits until
# every pod is Ready.
#   scripts/cluster/deploy.sh [extra helm args...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VALUES="${GREETER_VALUES:-$ROOT/charts/greeter/ci/local-values.yaml}"
say() { printf '[deploy] %s\n' "$*" >&2; }
started=$SECONDS
kubectl apply -f "$ROOT/k8s/namespaces.yaml" >/dev/null
# The alert rules and the autoscaling queries come from their single sources as ConfigMaps.
kubectl -n observability create configmap prometheus-rules --from-file="$ROOT/charts/greeter/alerts/greeter.rules.yaml" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n kube-system create configmap greeter-queries --from-file="$ROOT/k8s/queries" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f "$ROOT/k8s/jaeger/jaeger.yaml" -f "$ROOT/k8s/local/prometheus.yaml" -f "$ROOT/k8s/local/external-metrics.yaml" >/dev/null
# Jaeger names a pinned tag without a pull policy (IfNotPresent): the imported stand-in is used.
say "observability applied; installing the greeter chart ($(basename "$VALUES")) ..."
helm upgrade --install greeter "$ROOT/charts/greeter" -n greeter -f "$VALUES" --wait --timeout 5m "$@" >/dev/null
kubectl -n observability rollout status deployment/jaeger deployment/prometheus --timeout=180s >/dev/null
kubectl -n kube-system rollout status deployment/greeter-external-metrics --timeout=180s >/dev/null
# Every Deployment rolled out (not `kubectl wait pod --all`: a pod that terminates during a
# rollout never turns Ready, and the wait would run into its timeout).
for d in $(kubectl -n greeter get deployments -o name); do kubectl -n greeter rollout status "$d" --timeout=180s >/dev/null; done
say "greeter deployed in $((SECONDS - started))s"
kubectl -n greeter get pods -o wide >&2
