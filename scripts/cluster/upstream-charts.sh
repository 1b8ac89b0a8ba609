#!/usr/bin/env bash
# Checks the pinned upstream charts of every Tilt profile against a real API server (issue 9,
# point 6): each chart is rendered with its k8s/values/ file exactly as the Tiltfile installs it,
# its CRDs are applied for real and must become Established, every other object must be accepted
# by `kubectl apply --server-side --dry-run=server` (nothing else is created), and no two charts
# of one profile may claim the same object.
#
#   scripts/cluster/upstream-charts.sh CHARTS_DIR [PROFILE...]
#
# CHARTS_DIR holds one directory per chart, named like the chart, at the version pinned in the
# Tiltfile's VERSIONS and in the header of its k8s/values/ file, with its dependencies in its
# charts/ directory: exactly what `helm pull --untar` gives. With network access:
#
#   mkdir -p CHARTS_DIR && cd CHARTS_DIR
#   helm pull --untar --repo https://kubernetes-sigs.github.io/metrics-server/ metrics-server --version 3.13.1
#   helm pull --untar --repo https://prometheus-community.github.io/helm-charts kube-prometheus-stack --version 88.5.3
#   helm pull --untar --repo https://open-telemetry.github.io/opentelemetry-helm-charts opentelemetry-collector --version 0.170.0
#   helm pull --untar --repo https://prometheus-community.github.io/helm-charts prometheus-adapter --version 5.3.0
#   helm pull --untar --repo https://grafana.github.io/helm-charts k6-operator --version 4.6.0
#   helm pull --untar --repo https://kedacore.github.io/charts keda --version 2.20.2
#   helm pull --untar --repo https://go.temporal.io/helm-charts temporal --version 1.6.0
#
# Without network access, extract each chart from a clone of its GitHub repository at the
# chart's release tag (e.g. `git archive kube-prometheus-stack-88.5.3 charts/kube-prometheus-stack`)
# and each dependency at the version its Chart.yaml names into the parent's charts/ directory
# (kube-prometheus-stack 88.5.3: crds (in the tree), kube-state-metrics 8.4.0,
# prometheus-node-exporter 4.56.1, prometheus-windows-exporter 0.12.* (0.12.8 was current when
# 88.5.3 was released), grafana 12.11.1 from grafana-community/helm-charts). Chart sources are
# third-party code: keep them outside the repository.
#
# PROFILE (default: all of them) mirrors `tilt up -- ARGS`; the releases, namespaces, values files
# and --set flags are taken from the Tiltfile itself (test/tilt/eval_tiltfile.py runs it offline):
#   default            (no args)  observability on, autoscaling=slots: metrics-server,
#                      kube-prometheus-stack, opentelemetry-collector, prometheus-adapter, k6-operator
#   keda               --autoscaling=keda: KEDA instead of prometheus-adapter
#   temporal-chart     --temporal=chart: the default profile plus the Temporal chart
#   no-observability   --observability=false --autoscaling=keda --temporal=chart (the Tiltfile then
#                      switches the KEDA and Temporal ServiceMonitors off: monitors_off())
#   adapter-and-keda   NOT a Tilt profile: the default profile plus KEDA, i.e. what the Tiltfile
#                      avoids. It checks the checker: it passes only if the double claim of the
#                      APIService v1beta1.external.metrics.k8s.io is found.
#
# What it does on the cluster (KUBECONFIG, or kubectl's current context):
#   - CustomResourceDefinitions are applied FOR REAL (server-side, field manager = release) and
#     waited for (condition Established). They stay; the end of the output lists the ones this run
#     created and the command that removes them.
#   - Every other object is only validated: `kubectl apply --server-side --dry-run=server
#     --field-manager=<release>`, namespaced objects in their namespace. Nothing runs: upstream
#     images cannot be pulled on a machine without a registry mirror, so the images are listed,
#     not started.
#   - The namespaces of k8s/namespaces.yaml must exist (as after `kubectl apply -f
#     k8s/namespaces.yaml`, which the Tiltfile applies first); kube-system is always there.
#   - Objects that already exist in the cluster (e.g. the local cluster's own metrics-server) are
#     reported as "pre-existing": a Helm install would have to adopt them; they are validated with
#     --force-conflicts (still a dry run) and do not fail the check.
#   - UPSTREAM_TILTFILE=PATH evaluates another Tiltfile (to test this script; values paths are
#     relative to its directory).
#   - helm template gets --kube-version (default 1.34.4, env UPSTREAM_KUBE_VERSION), --include-crds,
#     --skip-tests (`helm install` does not create test hooks), --api-versions for the cluster's own
#     API groups (what `helm install` sees: without apiregistration.k8s.io/v1 prometheus-adapter
#     renders its APIServices as the removed v1beta1) and for every CRD the profile's charts bring
#     (the Tiltfile installs kube-prometheus-stack first, so its CRDs are served when the others
#     install).
#   - YAML is read as YAML 1.1, as Helm and kubectl read it (`defaultMode: 0555` is octal).
#
# Output: Markdown (a table per profile, then the rejected objects with the API server's
# message, double claims, pre-existing objects and images). Exit status 0 when every object
# was accepted, every CRD established and nothing claimed twice in any profile; 1 otherwise;
# 2 on a usage or setup error. Env: KEEP_WORK=1 keeps the work directory (renders, results).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KUBE_VERSION="${UPSTREAM_KUBE_VERSION:-1.34.4}"
# The Tiltfile whose helm_resource calls define the profiles (another one only to test this script);
# its values paths are relative to its directory.
TILTFILE="$(realpath "${UPSTREAM_TILTFILE:-$ROOT/Tiltfile}")"
export TILT_DIR="${TILTFILE%/*}"
# Field separator of the work files (US, not tab: `read` merges empty tab-separated fields).
US=$'\x1f'
ALL_PROFILES=(default keda temporal-chart no-observability adapter-and-keda)

say() { printf '[upstream-charts] %s\n' "$*" >&2; }
die() {
  printf '[upstream-charts] error: %s\n' "$*" >&2
  exit 2
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
case "$1" in -h | --help) usage ;; esac
CHARTS_DIR="$(cd "$1" 2>/dev/null && pwd)" || die "CHARTS_DIR '$1' is not a directory (see --help for how to fill it)"
shift
PROFILES=("$@")
[[ ${#PROFILES[@]} -gt 0 ]] || PROFILES=("${ALL_PROFILES[@]}")

tilt_args() {
  case "$1" in
    default) echo "" ;;
    keda) echo "--autoscaling=keda" ;;
    temporal-chart) echo "--temporal=chart" ;;
    no-observability) echo "--observability=false --autoscaling=keda --temporal=chart" ;;
    *) return 1 ;;
  esac
}
for p in "${PROFILES[@]}"; do
  [[ "$p" == adapter-and-keda ]] || tilt_args "$p" >/dev/null || die "unknown profile '$p' (profiles: ${ALL_PROFILES[*]})"
done

# --- tools -------------------------------------------------------------------------------
for tool in helm kubectl node python3 jq; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (npm run bootstrap, or scripts/with-toolchain.sh, provides helm and node)"
done
[[ -d "$ROOT/node_modules/yaml" ]] || die "the repository's node_modules/yaml is missing (run npm ci): YAML is parsed with it"
kubectl version --request-timeout=10s >/dev/null 2>&1 ||
  die "no API server reachable with kubectl (KUBECONFIG=${KUBECONFIG:-unset}): start one (npm run cluster -- up) or point KUBECONFIG at it"
while read -r ns; do
  kubectl get namespace "$ns" >/dev/null 2>&1 </dev/null ||
    die "namespace $ns (k8s/namespaces.yaml) does not exist; the Tiltfile creates it before the charts: kubectl apply -f k8s/namespaces.yaml"
done < <(sed -n 's/^  name: //p' "$ROOT/k8s/namespaces.yaml")

WORK="$(mktemp -d "${TMPDIR:-/tmp}/upstream-charts.XXXXXX")"
if [[ "${KEEP_WORK:-}" == 1 ]]; then say "work directory: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK/cache"

# --- YAML/JSON helper (node + the repository's `yaml` package) -----------------------------
HELPER="$WORK/helper.cjs"
cat >"$HELPER" <<'JS'
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const YAML = require(path.join(process.env.ROOT, 'node_modules', 'yaml'));
const [cmd, ...args] = process.argv.slice(2);
const fail = (m) => { process.stderr.write(`[upstream-charts] error: ${m}\n`); process.exit(2); };
// YAML 1.1, as Helm and kubectl read it (sigs.k8s.io/yaml): `defaultMode: 0555` is octal there
// (365) but decimal 555 in YAML 1.2, which the API server rejects. Timestamps stay strings, as
// they do for Kubernetes objects.
const YAML_OPTIONS = {
  version: '1.1',
  maxAliasCount: -1,
  customTags: (tags) => tags.filter((t) => t.tag !== 'tag:yaml.org,2002:timestamp'),
};
const docs = (file) =>
  YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), YAML_OPTIONS)
    .map((d) => { if (d.errors.length) fail(`${file}: ${d.errors[0].message}`); return d.toJSON(); })
    .filter((d) => d && typeof d === 'object' && d.kind);
const group = (apiVersion) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
// Fields are separated by US (\x1f), not tabs: bash's `read` would merge empty tab-separated fields.
const tsv = (rows) => rows.map((r) => r.map((c) => String(c ?? '').replace(/[\x1f\n]/g, ' ')).join('\x1f') + '\n').join('');

// Images a workload runs, plus image references an operator is told to start (Prometheus CR
// `image`, --prometheus-config-reloader=... and the like).
const IMAGE_REF = /^([a-z0-9-]+\.)+[a-z]{2,}(:[0-9]+)?\/[a-z0-9._\/-]+(:[\w][\w.-]*)?(@sha256:[0-9a-f]{64})?$/;
function images(o) {
  const out = new Set();
  const walk = (v, key) => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.entries(v).forEach(([k, x]) => walk(x, k));
    if (typeof v !== 'string') return;
    if (key === 'image' && v) out.add(v);
    const m = /^--?[\w.-]+=(.+)$/.exec(v);
    if ((key === 'args' || key === 'command' || key === 'value') && m && IMAGE_REF.test(m[1])) out.add(m[1]);
  };
  if (o.kind !== 'ConfigMap' && o.kind !== 'Secret' && o.kind !== 'CustomResourceDefinition') walk(o.spec ?? {}, 'spec');
  return [...out];
}

if (cmd === 'releases') {
  // releases OUTDIR TILT_JSON [TILT_JSON2 ONLY_RELEASE]: one TSV line per helm_resource and
  // OUTDIR/<release>.args (helm template arguments, one per line).
  const [outdir, first, second, only] = args;
  let rs = JSON.parse(fs.readFileSync(first, 'utf8')).helm_resources;
  if (second) rs = rs.concat(JSON.parse(fs.readFileSync(second, 'utf8')).helm_resources.filter((r) => r.name === only));
  const lines = [];
  for (const r of rs) {
    const keep = [];
    let version = '', values = '';
    for (let i = 0; i < r.flags.length; i++) {
      const f = r.flags[i];
      if (f === '--version') version = r.flags[++i];
      else if (f === '--values' || f === '-f') { values = r.flags[++i]; keep.push('--values', path.resolve(process.env.TILT_DIR, values)); }
      else if (['--set', '--set-string', '--set-json', '--set-file'].includes(f)) keep.push(f, r.flags[++i]);
      else if (['--wait', '--wait-for-jobs', '--atomic'].includes(f)) continue; // install-only
      else if (f === '--timeout') i++; // install-only
      else fail(`the Tiltfile passes ${f} to ${r.name}; teach scripts/cluster/upstream-charts.sh what it means for helm template`);
    }
    fs.writeFileSync(path.join(outdir, `${r.release_name}.args`), keep.map((a) => a + '\n').join(''));
    lines.push([r.release_name, r.chart, r.chart.split('/').pop(), r.namespace, version, values]);
  }
  process.stdout.write(tsv(lines));
} else if (cmd === 'crds') {
  // crds RENDERED: name, group, kind, served versions of every CRD in a render.
  process.stdout.write(tsv(docs(args[0]).filter((o) => o.kind === 'CustomResourceDefinition').map((o) => [
    o.metadata.name, o.spec.group, o.spec.names.kind,
    (o.spec.versions ?? []).filter((v) => v.served !== false).map((v) => v.name).join(','),
  ])));
} else if (cmd === 'split') {
  // split RENDERED OUTDIR RELEASE: OUTDIR/crds.yaml, OUTDIR/obj-N.json, OUTDIR/index.tsv
  // (id, group, kind, apiVersion, namespace given in the object or '', name, hook, sha, images).
  const [file, outdir, release] = args;
  const crds = [], rows = [];
  docs(file).forEach((o, i) => {
    if (!o.metadata?.name) fail(`${release}: an object of kind ${o.kind} has no metadata.name`);
    const hook = o.metadata.annotations?.['helm.sh/hook'] ?? '';
    const json = JSON.stringify(o);
    if (o.kind === 'CustomResourceDefinition') crds.push(json);
    else fs.writeFileSync(path.join(outdir, `obj-${i}.json`), json);
    const sha = crypto.createHash('sha256').update(release + '\0' + json).digest('hex');
    rows.push([o.kind === 'CustomResourceDefinition' ? 'crd' : `obj-${i}`, group(o.apiVersion), o.kind, o.apiVersion,
      o.metadata.namespace ?? '', o.metadata.name, hook, sha, images(o).join(' ')]);
  });
  fs.writeFileSync(path.join(outdir, 'crds.yaml'), crds.join('\n---\n') + '\n');
  process.stdout.write(tsv(rows));
} else if (cmd === 'report') {
  // report WORKDIR PROFILE EXPECT_CLAIM: Markdown for one profile from the TSV files the shell
  // part wrote; exit 1 when the profile fails.
  const [w, profile, expect] = args;
  const read = (f) => (fs.existsSync(path.join(w, f)) ? fs.readFileSync(path.join(w, f), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\x1f')) : []);
  const releases = read('releases.tsv');
  const results = read('results.tsv'); // release group kind apiVersion ns name status message images
  const crds = read('crd-status.tsv'); // release crdname status message
  const md = [];
  md.push(`### Profile \`${profile}\`\n`);
  md.push(profile === 'adapter-and-keda'
    ? 'Not a Tilt profile: the releases of `tilt up` plus the keda release of `tilt up -- --autoscaling=keda`, the combination the Tiltfile avoids (a check of this checker).\n'
    : `Tilt: \`tilt up${process.env.TILT_ARGS ? ' -- ' + process.env.TILT_ARGS : ''}\`\n`);
  md.push('| release | chart | version | namespace | objects rendered | accepted | rejected | pre-existing | CRDs established | images |');
  md.push('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  let failed = false;
  const allImages = new Set();
  for (const [rel, chart, , ns, version] of releases) {
    const rs = results.filter((r) => r[0] === rel);
    const cs = crds.filter((c) => c[0] === rel);
    const acc = rs.filter((r) => r[6] === 'accepted' || r[6] === 'pre-existing').length;
    const rej = rs.filter((r) => r[6] === 'rejected').length;
    const pre = rs.filter((r) => r[6] === 'pre-existing').length;
    const est = cs.filter((c) => c[2] === 'established').length;
    const imgs = [...new Set(rs.flatMap((r) => (r[8] ? r[8].split(' ') : [])))].sort();
    imgs.forEach((i) => allImages.add(i));
    if (rej || est !== cs.length) failed = true;
    md.push(`| ${rel} | ${chart} | ${version} | ${ns} | ${rs.length + cs.length} | ${acc} | ${rej} | ${pre} | ${est}/${cs.length} | ${imgs.map((i) => '`' + i + '`').join('<br>') || '-'} |`);
  }
  md.push('');
  md.push('"objects rendered" counts CRDs too; "accepted" counts the other objects the API server accepted in a server-side dry run (pre-existing ones included).\n');
  const rejected = results.filter((r) => r[6] === 'rejected');
  const badCrds = crds.filter((c) => c[2] !== 'established');
  if (rejected.length || badCrds.length) {
    md.push('Rejected:\n');
    for (const r of rejected) md.push(`- ${r[0]}: ${r[3]} ${r[2]} ${r[4] ? r[4] + '/' : ''}${r[5]}: ${r[7]}`);
    for (const c of badCrds) md.push(`- ${c[0]}: CustomResourceDefinition ${c[1]} ${c[2]}: ${c[3]}`);
    md.push('');
  }
  // Double claims: the same object (group, kind, namespace, name) in two releases, or twice in one.
  const owners = new Map();
  for (const r of results) {
    const key = `${r[1] || 'core'}/${r[2]} ${r[4] ? r[4] + '/' : ''}${r[5]}`;
    owners.set(key, [...(owners.get(key) ?? []), r[0]]);
  }
  for (const c of crds) {
    const key = `apiextensions.k8s.io/CustomResourceDefinition ${c[1]}`;
    owners.set(key, [...(owners.get(key) ?? []), c[0]]);
  }
  const claims = [...owners].filter(([, rs]) => rs.length > 1);
  if (claims.length) {
    md.push('Claimed more than once (the second Helm install would fail on "exists and cannot be imported into the current release"):\n');
    for (const [key, rs] of claims) md.push(`- ${key}: ${rs.join(', ')}`);
    md.push('');
  } else md.push('No object is claimed by two releases.\n');
  const preRows = results.filter((r) => r[6] === 'pre-existing');
  if (preRows.length) {
    md.push('Pre-existing in this cluster (not created by these charts; a Helm install here would have to adopt them). Each was still validated: as a forced server-side update (`--force-conflicts`, dry run) or, when the API server refuses the update, as a new object under another name (dry run). They do not fail the check:\n');
    for (const r of preRows) md.push(`- ${r[0]}: ${r[3]} ${r[2]} ${r[4] ? r[4] + '/' : ''}${r[5]}: ${r[7]}`);
    md.push('');
  }
  md.push(`Images (${allImages.size}): these upstream images cannot be pulled on this machine (no registry access), so the pods of these charts are not started here; their objects were validated by the API server only.\n`);
  const expectedKey = 'apiregistration.k8s.io/APIService v1beta1.external.metrics.k8s.io';
  if (expect === 'claim') {
    const found = claims.some(([k]) => k === expectedKey);
    md.push(found ? `Expected double claim found (${expectedKey}): the check detects it; this is why the Tiltfile installs prometheus-adapter only when autoscaling is not keda.\n`
      : `FAILED: the expected double claim of ${expectedKey} was NOT detected.\n`);
    failed = rejected.length > 0 || badCrds.length > 0 || !found;
  } else if (claims.length) failed = true;
  md.push(`Result: **${failed ? 'FAIL' : 'PASS'}**\n`);
  process.stdout.write(md.join('\n') + '\n');
  process.exit(failed ? 1 : 0);
} else fail(`helper: unknown command ${cmd}`);
JS
helper() { ROOT="$ROOT" node "$HELPER" "$@"; }

# CRDs in the cluster before this run: the ones created later are listed at the end.
kubectl get crd -o name | sed 's#^.*/##' | sort >"$WORK/crds-before.txt"

# The API versions `helm install` would see on this cluster, without the ones served by CRDs
# (those are passed per profile, from the CRDs its charts bring). helm template alone knows only
# the built-in client-go groups: prometheus-adapter would then render its APIServices as
# apiregistration.k8s.io/v1beta1 (removed in Kubernetes 1.22) instead of v1.
BUILTIN_API_VERSIONS=()
while read -r apiv kind; do
  BUILTIN_API_VERSIONS+=(--api-versions "$apiv" --api-versions "$apiv/$kind")
done < <(
  kubectl get crd -o json | jq -r '.items[] | .spec.group as $g | .spec.versions[] | "\($g)/\(.name)"' | sort -u >"$WORK/crd-versions.txt"
  kubectl api-resources --no-headers | awk '{ print $(NF-2), $NF }' | grep -v -F -f <(sed 's/$/ /' "$WORK/crd-versions.txt") | sort -u
)
[[ ${#BUILTIN_API_VERSIONS[@]} -gt 0 ]] || die "kubectl api-resources listed nothing"

# render RELEASE CHART_DIR NAMESPACE ARGS_FILE [--api-versions X]...
render() {
  local rel="$1" dir="$2" ns="$3" argsfile="$4"
  shift 4
  local -a extra=()
  mapfile -t extra <"$argsfile"
  helm template "$rel" "$dir" --namespace "$ns" "${extra[@]}" --kube-version "$KUBE_VERSION" \
    --include-crds --skip-tests "${BUILTIN_API_VERSIONS[@]}" "$@"
}

# apply_dry RELEASE NAMESPACE FILE [kubectl flags]: server-side dry run; stdout the object as
# the API server would store it (JSON), the error in $WORK/err.
apply_dry() {
  local rel="$1" ns="$2" file="$3"
  shift 3
  kubectl apply --server-side --dry-run=server --field-manager="$rel" -n "$ns" --show-managed-fields -o json "$@" -f "$file" 2>"$WORK/err"
}
# The first sentence of kubectl's error (conflict messages go on with a long explanation).
first_error() { tr '\n' ' ' <"$WORK/err" | sed 's/ *Please review the fields above.*//; s/^error: //; s/  */ /g; s/ *$//'; }

# dry_run RELEASE NAMESPACE FILE: prints "status US server namespace US message", status
# accepted, rejected or pre-existing (the object is already in this cluster, not from this
# check: validated anyway, as a forced update or, when the update is refused, as a new object
# under another name).
dry_run() {
  local rel="$1" ns="$2" file="$3" out rc=0 note=""
  out="$(apply_dry "$rel" "$ns" "$file")" || rc=$?
  if [[ $rc -ne 0 ]] && grep -q 'Apply failed with .* conflict' "$WORK/err"; then
    # Fields of an existing object are owned by another manager: validate anyway (dry run).
    note="$(first_error)"
    rc=0
    out="$(apply_dry "$rel" "$ns" "$file" --force-conflicts)" || rc=$?
  fi
  if [[ $rc -ne 0 ]]; then
    local err live
    err="$(first_error)"
    live="$(jq -r '"\(.kind).\(.apiVersion | if test("/") then split("/")[0] else "" end)/\(.metadata.name)" | sub("\\./"; "/")' "$file")"
    if kubectl get -n "$ns" "$live" -o name >/dev/null 2>&1; then
      # Refused as an update of an object that is already here (e.g. an immutable field):
      # check the chart's object itself as a new one under another name.
      jq -c '.metadata.name += "-upstream-check"' "$file" >"$WORK/renamed.json"
      if apply_dry "$rel" "$ns" "$WORK/renamed.json" >/dev/null; then
        printf 'pre-existing\037%s\037%s\n' "$(jq -r '.metadata.namespace // ""' <<<"$(kubectl get -n "$ns" "$live" -o json)")" \
          "exists already and refuses this update ($err); the chart's object is valid as a new object (checked as ${live##*/}-upstream-check)"
        return
      fi
      err="$err; as a new object: $(first_error)"
    fi
    printf 'rejected\037%s\037%s\n' "$ns" "${err:-kubectl exited $rc}"
    return
  fi
  jq -r --arg m "$rel" --arg e "$note" '
    (.metadata.namespace // "") as $ns
    | if (.metadata.resourceVersion // "") == "" then ["accepted", $ns, ""]
      else ["pre-existing", $ns,
            ([.metadata.managedFields[]?.manager | select(. != $m)] | unique | join(", ")) as $by
            | ("exists already, " + (if $by == "" then "no field manager recorded" else "managed by " + $by end)
             + (if .metadata.annotations["meta.helm.sh/release-name"] then " (Helm release " + .metadata.annotations["meta.helm.sh/release-name"] + ")" else " (not a Helm release)" end)
             + (if $e != "" then "; " + $e else "" end))]
      end | join("\u001f")' <<<"$out"
}

# eval_tilt OUT [TILT_ARGS...]: the Tiltfile's calls for `tilt up -- TILT_ARGS` as JSON.
eval_tilt() {
  local out="$1"
  shift
  if ! python3 "$ROOT/test/tilt/eval_tiltfile.py" --tiltfile "$TILTFILE" -- "$@" >"$out" 2>"$WORK/err"; then
    die "the Tiltfile did not evaluate with '$*' (test/tilt/eval_tiltfile.py): $(jq -r '.error? // empty' "$out" 2>/dev/null) $(cat "$WORK/err")"
  fi
}

overall=0
created_crds=()
for profile in "${PROFILES[@]}"; do
  W="$WORK/$profile"
  mkdir -p "$W"
  say "profile $profile"
  # 1. The releases the Tiltfile installs in this profile.
  if [[ "$profile" == adapter-and-keda ]]; then
    TILT_ARGS=""
    eval_tilt "$W/tilt.json"
    eval_tilt "$W/tilt-keda.json" --autoscaling=keda
    helper releases "$W" "$W/tilt.json" "$W/tilt-keda.json" keda >"$W/releases.tsv"
  else
    TILT_ARGS="$(tilt_args "$profile")"
    # shellcheck disable=SC2086 # the profile's Tilt args are words
    eval_tilt "$W/tilt.json" $TILT_ARGS
    helper releases "$W" "$W/tilt.json" >"$W/releases.tsv"
  fi
  export TILT_ARGS
  : >"$W/results.tsv"
  : >"$W/crd-status.tsv"
  : >"$W/crds.tsv"

  # 2. Check the chart sources against the pins; first render to learn the profile's CRDs.
  while IFS="$US" read -r -u 3 rel chart name ns version values; do
    dir="$CHARTS_DIR/$name"
    [[ -f "$dir/Chart.yaml" ]] || die "$dir/Chart.yaml missing: put $chart $version in $CHARTS_DIR/$name (helm pull --untar, see --help)"
    have="$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$dir/Chart.yaml")"
    [[ "$have" == "$version" ]] || die "$dir is $name $have, the Tiltfile pins $version"
    pinned="$(sed -n 's/^# version: *//p' "$TILT_DIR/$values")"
    [[ "$pinned" == "$version" ]] || die "$values names version ${pinned:-none}, the Tiltfile pins $version"
    render "$rel" "$dir" "$ns" "$W/$rel.args" >"$W/$rel.pass1.yaml" 2>"$W/err" ||
      die "helm template $rel ($chart $version) failed: $(cat "$W/err")"
    helper crds "$W/$rel.pass1.yaml" | sed "s/^/$rel$US/" >>"$W/crds.tsv"
  done 3<"$W/releases.tsv"
  api_versions=()
  while IFS="$US" read -r _ _ grp kind versions; do
    for v in ${versions//,/ }; do api_versions+=(--api-versions "$grp/$v" --api-versions "$grp/$v/$kind"); done
  done <"$W/crds.tsv"
  declare -A PROFILE_KIND=()
  while IFS="$US" read -r _ crd grp kind _; do PROFILE_KIND["$grp/$kind"]="$crd"; done <"$W/crds.tsv"

  # 3. Final render; CRDs for real, then wait for Established.
  while IFS="$US" read -r -u 3 rel chart name ns version values; do
    mkdir -p "$W/$rel"
    render "$rel" "$CHARTS_DIR/$name" "$ns" "$W/$rel.args" "${api_versions[@]}" >"$W/$rel.yaml" 2>"$W/err" ||
      die "helm template $rel ($chart $version) failed: $(cat "$W/err")"
    helper split "$W/$rel.yaml" "$W/$rel" "$rel" >"$W/$rel/index.tsv"
    mapfile -t names < <(awk -F"$US" '$1 == "crd" { print $6 }' "$W/$rel/index.tsv")
    [[ ${#names[@]} -gt 0 ]] || continue
    say "  $rel: applying ${#names[@]} CRDs (for real) and waiting for Established"
    if ! kubectl apply --server-side --field-manager="$rel" -f "$W/$rel/crds.yaml" >/dev/null 2>"$W/err"; then
      msg="$(tr '\n' ' ' <"$W/err")"
      for n in "${names[@]}"; do printf '%s\037%s\037not applied\037%s\n' "$rel" "$n" "$msg" >>"$W/crd-status.tsv"; done
      continue
    fi
    for n in "${names[@]}"; do
      grep -qx "$n" "$WORK/crds-before.txt" || [[ " ${created_crds[*]} " == *" $n "* ]] || created_crds+=("$n")
      if kubectl wait --for=condition=Established --timeout=60s "crd/$n" >/dev/null 2>"$W/err"; then
        printf '%s\037%s\037established\037\n' "$rel" "$n" >>"$W/crd-status.tsv"
      else
        printf '%s\037%s\037not established\037%s\n' "$rel" "$n" "$(tr '\n' ' ' <"$W/err")" >>"$W/crd-status.tsv"
      fi
    done
  done 3<"$W/releases.tsv"

  # Kinds served by CRDs now in the cluster: an object of such a kind whose CRD no chart of this
  # profile brings would fail on a fresh cluster ("no matches for kind"), even though this
  # cluster (which has the CRD from another profile or elsewhere) would accept it.
  declare -A CLUSTER_KIND=()
  while IFS="$US" read -r crd grp kind; do CLUSTER_KIND["$grp/$kind"]="$crd"; done < <(
    kubectl get crd -o json | jq -r '.items[] | [.metadata.name, .spec.group, .spec.names.kind] | join("\u001f")')

  # 4. Every other object: server-side dry run, one object at a time (precise messages); the
  # same object with the same release was already checked in an earlier profile -> cached.
  while IFS="$US" read -r -u 3 rel chart name ns version values; do
    n=0
    while IFS="$US" read -r -u 4 id grp kind apiv ons oname hook sha imgs; do
      [[ "$id" != crd ]] || continue
      target="${ons:-$ns}"
      if [[ -n "${CLUSTER_KIND["$grp/$kind"]:-}" && -z "${PROFILE_KIND["$grp/$kind"]:-}" ]]; then
        res="$(printf 'rejected\037%s\037needs the CRD %s, which no chart of this profile installs (on a fresh cluster: no matches for kind %s)' \
          "$target" "${CLUSTER_KIND["$grp/$kind"]}" "$kind")"
      elif [[ -f "$WORK/cache/$sha-$target" ]]; then
        res="$(cat "$WORK/cache/$sha-$target")"
      else
        res="$(dry_run "$rel" "$target" "$W/$rel/$id.json")"
        printf '%s\n' "$res" >"$WORK/cache/$sha-$target"
        n=$((n + 1))
      fi
      IFS="$US" read -r status sns msg <<<"$res"
      # Cluster-scoped objects come back without a namespace; rejected ones keep the target.
      printf '%s\037%s\037%s\037%s\037%s\037%s\037%s\037%s\037%s\n' "$rel" "$grp" "$kind" "$apiv" "$sns" "$oname" "$status" "${msg:-}${hook:+ (helm hook: $hook)}" "$imgs" >>"$W/results.tsv"
    done 4<"$W/$rel/index.tsv"
    say "  $rel: $(grep -c "^$rel$US" "$W/results.tsv" || true) objects checked ($n new dry runs)"
  done 3<"$W/releases.tsv"
  unset PROFILE_KIND CLUSTER_KIND

  expect=""
  [[ "$profile" != adapter-and-keda ]] || expect=claim
  helper report "$W" "$profile" "$expect" || overall=1
done

echo "### CRDs"
echo
if [[ ${#created_crds[@]} -gt 0 ]]; then
  echo "This run created ${#created_crds[@]} CRDs for real (they stay, with no controller behind them). To remove them:"
  echo
  echo '```sh'
  echo "kubectl delete crd ${created_crds[*]}"
  echo '```'
else
  echo "This run created no CRD (every CRD the charts bring was already in the cluster; they were re-applied server-side)."
fi
echo
exit "$overall"
