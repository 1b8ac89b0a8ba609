// The upstream charts as Tilt installs them (values file + --set flags of each helm_resource),
// checked against facts of the pinned chart versions: which APIService each one registers,
// which monitors it creates, what the Grafana sidecar watches, how the Temporal chart's
// ServiceMonitor labels series, which collector exporter names are current, and which Jaeger
// version validates the config the cluster runs.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  ROOT,
  dig,
  evaluate,
  readYaml,
  yamlDocs,
  containersOf,
  type Evaluation,
  type HelmResource,
  type K8sObject,
  type Obj,
} from './support';

/** The values a helm_resource installs with: its --values file, then its --set flags (dotted keys, scalars). */
function effectiveValues(h: HelmResource): Obj {
  const file = h.flags[h.flags.indexOf('--values') + 1]!;
  const values = structuredClone(readYaml(file));
  for (let i = 0; i < h.flags.length; i++) {
    if (h.flags[i] !== '--set') continue;
    const [key, raw] = h.flags[i + 1]!.split(/=(.*)/s) as [string, string];
    const value: unknown = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    const keys = key.split('.');
    let cur = values;
    for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Obj;
    cur[keys[keys.length - 1]!] = value;
  }
  return values;
}

function helmResource(ev: Evaluation, name: string): HelmResource | undefined {
  return ev.helm_resources.find((h) => h.name === name);
}

/** Every `<x>Monitor(s): {enabled: true}` in a values tree, as dotted paths. */
function enabledMonitors(o: unknown, at = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [];
  return Object.entries(o as Obj).flatMap(([k, v]) => {
    const here = at ? `${at}.${k}` : k;
    const own = /^(service|pod)Monitors?$/i.test(k) && dig(v, ['enabled']) === true ? [here] : [];
    return [...own, ...enabledMonitors(v, here)];
  });
}

const SCENARIOS = [
  [],
  ['--autoscaling=keda'],
  ['--autoscaling=keda', '--temporal=chart'],
  ['--observability=false', '--autoscaling=keda', '--temporal=chart'],
  ['--observability=false', '--temporal=chart'],
];

describe('upstream charts as the Tiltfile installs them', () => {
  for (const args of SCENARIOS) {
    const title = args.join(' ') || '(no flags)';
    let cached: Evaluation | undefined;
    const ev = (): Evaluation => (cached ??= evaluate(args));

    it(`tilt up -- ${title}: at most one chart registers the external metrics API`, () => {
      // keda 2.20.2 templates/metrics-server/apiservice.yaml: always v1beta1.external.metrics.k8s.io;
      // prometheus-adapter 5.3.0 templates/external-metrics-apiservice.yaml: when rules.external is set.
      const owners: string[] = [];
      const keda = helmResource(ev(), 'keda');
      if (keda) owners.push('keda');
      const adapter = helmResource(ev(), 'prometheus-adapter');
      if (adapter && ((dig(effectiveValues(adapter), ['rules', 'external']) as unknown[] | undefined) ?? []).length > 0)
        owners.push('prometheus-adapter');
      assert.ok(
        owners.length <= 1,
        `${owners.join(' and ')} both create the APIService v1beta1.external.metrics.k8s.io: the second install fails ("exists and cannot be imported")`,
      );
      if (args.includes('--autoscaling=keda')) assert.deepEqual(owners, ['keda']);
    });

    if (args.includes('--observability=false')) {
      it(`tilt up -- ${title}: no chart creates monitors without the Prometheus Operator CRDs`, () => {
        const charts = ev().helm_resources.map((h) => h.name);
        for (const expected of args.includes('--autoscaling=keda') ? ['keda', 'temporal'] : ['temporal'])
          assert.ok(charts.includes(expected), `expected ${expected} in this scenario, got ${charts.join(', ')}`);
        for (const h of ev().helm_resources) {
          const on = enabledMonitors(effectiveValues(h));
          assert.deepEqual(on, [], `${h.name}: ${on.join(', ')} enabled, but kube-prometheus-stack (and its CRDs) is not installed`);
        }
      });
    }
  }

  const full = evaluate(['--temporal=chart']);
  const kps = effectiveValues(helmResource(full, 'kube-prometheus-stack')!);
  const kpsNamespace = helmResource(full, 'kube-prometheus-stack')!.namespace;
  /** The sidecar's namespaces: the Grafana pod's own unless searchNamespace says otherwise. */
  const watches = (sidecar: 'dashboards' | 'datasources', ns: string): boolean => {
    const search = dig(kps, ['grafana', 'sidecar', sidecar, 'searchNamespace']);
    const list = Array.isArray(search)
      ? search.filter((x): x is string => typeof x === 'string')
      : typeof search === 'string'
        ? search.split(',')
        : [kpsNamespace];
    return list.includes('ALL') || list.includes(ns);
  };
  const chartNamespace = full.helm.find((h) => h.chart === 'charts/greeter')!.namespace;

  it("lets the Grafana sidecars see the greeter chart's dashboard and datasource ConfigMaps", () => {
    const cms = full.objects.filter((o) => o.kind === 'ConfigMap');
    const datasource = cms.filter((o) => o.metadata.labels?.['grafana_datasource'] === '1');
    const dashboards = cms.filter((o) => o.metadata.labels?.['grafana_dashboard'] === '1');
    assert.ok(datasource.length > 0 && dashboards.length > 0, 'expected the chart to render dashboard and datasource ConfigMaps');
    for (const o of datasource) {
      const ns = o.metadata.namespace ?? chartNamespace;
      assert.ok(
        watches('datasources', ns),
        `ConfigMap ${o.metadata.name} is in namespace ${ns}; the datasource sidecar watches ${JSON.stringify(dig(kps, ['grafana', 'sidecar', 'datasources', 'searchNamespace']) ?? kpsNamespace)}: no Jaeger datasource, exemplar links go nowhere`,
      );
    }
    for (const o of dashboards)
      assert.ok(watches('dashboards', o.metadata.namespace ?? chartNamespace), `dashboard ${o.metadata.name} is not watched`);
  });

  it('puts the dashboards in the folder their grafana_folder annotation names', () => {
    const annotated = full.objects.filter(
      (o) => (o as K8sObject & { metadata: { annotations?: Obj } }).metadata.annotations?.['grafana_folder'],
    );
    assert.ok(annotated.length > 0, 'expected dashboard ConfigMaps with a grafana_folder annotation');
    // grafana chart 12.11.1: the sidecar honours a folder annotation only when sidecar.dashboards.folderAnnotation
    // names it, and Grafana builds folders from those subdirectories only with provider.foldersFromFilesStructure.
    assert.equal(dig(kps, ['grafana', 'sidecar', 'dashboards', 'folderAnnotation']), 'grafana_folder');
    assert.equal(dig(kps, ['grafana', 'sidecar', 'dashboards', 'provider', 'foldersFromFilesStructure']), true);
  });

  it('provisions no Alertmanager datasource when there is no Alertmanager', () => {
    if (dig(kps, ['alertmanager', 'enabled']) !== false) return;
    // kube-prometheus-stack 88.5.3 defaults grafana.sidecar.datasources.alertmanager.enabled to true.
    assert.equal(
      dig(kps, ['grafana', 'sidecar', 'datasources', 'alertmanager', 'enabled']),
      false,
      'alertmanager.enabled is false, so the Alertmanager datasource would point at a Service that does not exist',
    );
  });

  it("keeps the Temporal namespace label of the Temporal chart's server series", () => {
    const temporal = effectiveValues(helmResource(full, 'temporal')!);
    if (dig(temporal, ['server', 'metrics', 'serviceMonitor', 'enabled']) !== true) return;
    // temporal 1.6.0 templates/server-service-monitor.yaml renders no honorLabels: Prometheus moves the
    // series' own `namespace` to exported_namespace. Apply the metricRelabelings to such a series.
    type Relabel = { action?: string; sourceLabels?: string[]; regex?: string; targetLabel?: string; replacement?: string };
    const rules = (dig(temporal, ['server', 'metrics', 'serviceMonitor', 'metricRelabelings']) as Relabel[] | undefined) ?? [];
    let labels: Record<string, string> = { __name__: 'service_requests', namespace: 'greeter', exported_namespace: 'default' };
    for (const r of rules) {
      const action = r.action ?? 'replace';
      const re = new RegExp(`^(?:${r.regex ?? '(.*)'})$`);
      if (action === 'replace') {
        const value = (r.sourceLabels ?? []).map((l) => labels[l] ?? '').join(';');
        const m = re.exec(value);
        if (m) labels[r.targetLabel!] = (r.replacement ?? '$1').replace(/\$(\d+)|\$\{(\d+)\}/g, (_, a, b) => m[Number(a ?? b)] ?? '');
      } else if (action === 'labeldrop') labels = Object.fromEntries(Object.entries(labels).filter(([k]) => !re.test(k)));
    }
    assert.equal(
      labels['namespace'],
      'default',
      `after metricRelabelings the series has ${JSON.stringify(labels)}; dashboards filter on namespace="default"`,
    );
    assert.equal(labels['exported_namespace'], undefined);
  });

  it("waits for the Temporal chart's namespace Job before the worker starts", () => {
    const h = helmResource(full, 'temporal')!;
    const temporal = effectiveValues(h);
    if (dig(temporal, ['server', 'config', 'namespaces', 'create']) !== true) return;
    // temporal 1.6.0 templates/server-namespace-job.yaml is a plain Job (no hook): helm --wait alone does not wait for it.
    assert.ok(
      h.flags.includes('--wait') && h.flags.includes('--wait-for-jobs'),
      `temporal flags ${h.flags.join(' ')}: need --wait --wait-for-jobs`,
    );
    const worker = full.k8s_resources.find((r) => r.workload === 'greeter-worker')!;
    assert.ok(worker.resource_deps.includes('temporal'));
  });

  it('names the collector exporters by their current names', () => {
    const otel = effectiveValues(helmResource(full, 'otel-collector')!);
    // Collector 0.144.0 renamed otlp -> otlp_grpc and otlphttp -> otlp_http; the old names log a deprecation warning.
    const deprecated: Record<string, string> = { otlp: 'otlp_grpc', otlphttp: 'otlp_http' };
    const exporters = Object.keys((dig(otel, ['config', 'exporters']) as Obj | undefined) ?? {});
    assert.ok(exporters.length > 0, 'expected collector exporters');
    for (const id of exporters) {
      const type = id.split('/')[0]!;
      assert.ok(!(type in deprecated), `exporter ${id}: "${type}" is a deprecated alias, use ${deprecated[type]}/...`);
    }
    const pipelines = (dig(otel, ['config', 'service', 'pipelines']) as Record<string, { exporters?: string[] } | null>) ?? {};
    for (const [name, p] of Object.entries(pipelines))
      for (const e of p?.exporters ?? []) assert.ok(exporters.includes(e), `pipeline ${name} uses exporter ${e}, which is not defined`);
  });

  it('validates the Jaeger config with the Jaeger version the cluster runs', () => {
    const docs = yamlDocs(readFileSync(path.join(ROOT, 'k8s/jaeger/jaeger.yaml'), 'utf8'), 'k8s/jaeger/jaeger.yaml') as K8sObject[];
    const image = containersOf(docs.find((d) => d.kind === 'Deployment')!)[0]!.image;
    const deployed = /^jaegertracing\/jaeger:(2\.\d+\.\d+)$/.exec(image)?.[1];
    assert.ok(deployed, `expected jaegertracing/jaeger:2.x.y, got ${image}`);
    const binary = execFileSync('sh', ['-c', 'command -v jaeger'], { encoding: 'utf8' }).trim();
    const info = execFileSync('go', ['version', '-m', binary], { encoding: 'utf8' });
    const mod = /^\s*(?:mod|dep)\s+github\.com\/jaegertracing\/jaeger\s+(v\S+)/m.exec(info)?.[1];
    assert.ok(mod, `${binary}: no github.com/jaegertracing/jaeger module in its build info:\n${info}`);
    // Jaeger tagged each release twice, v1.N.0 (Go module) = v2.(N-63).0, from v1.66.0 = v2.3.0 to v1.76.0 = v2.13.0.
    const m = /^v1\.(\d+)\.0$/.exec(mod);
    const validator = m && Number(m[1]) >= 66 ? `2.${Number(m[1]) - 63}.0` : mod;
    assert.equal(validator, deployed, `\`jaeger validate\` runs Jaeger ${validator} (${mod}), the cluster runs ${image}`);
  });
});
