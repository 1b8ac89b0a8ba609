// Policy and wiring assertions over the rendered chart, for every profile: hardened
// containers with limits and probes, selectors that match pods, autoscalers that target
// the worker, heap and grace-period arithmetic, labels, overridable images, no secrets.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isMap, isScalar, parse, parseDocument, type Node as YamlNode } from 'yaml';
import {
  CHART,
  envOf,
  find,
  mustFind,
  parseObjects,
  podOf,
  profiles,
  render,
  renderNotes,
  run,
  type Container,
  type K8sObject,
  type PodTemplate,
  type Profile,
} from './support';

const rendered = new Map<string, K8sObject[]>();
function objects(p: Profile): K8sObject[] {
  let o = rendered.get(p.name);
  if (!o) rendered.set(p.name, (o = parseObjects(render(p))));
  return o;
}

function workloads(objs: readonly K8sObject[]): { obj: K8sObject; pod: PodTemplate }[] {
  return objs.flatMap((obj) => {
    const pod = podOf(obj);
    return pod ? [{ obj, pod }] : [];
  });
}

const isTestHook = (o: K8sObject) => o.metadata.annotations?.['helm.sh/hook'] === 'test';

function memoryMiB(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(String(q));
  assert.ok(m, `unparseable memory quantity ${q}`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 1024 * 1024,
    k: 1e3 / 2 ** 20,
    K: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
    T: 1e12 / 2 ** 20,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]]! : 1 / 2 ** 20);
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

describe('greeter chart policy', () => {
  for (const p of profiles()) {
    describe(`profile ${p.name}`, () => {
      test('every container has requests and limits, the hardened securityContext and a writable /tmp only', () => {
        for (const { obj, pod } of workloads(objects(p))) {
          const where = `${obj.kind}/${obj.metadata.name}`;
          assert.equal(pod.spec.securityContext?.runAsNonRoot, true, `${where}: pod runAsNonRoot`);
          assert.deepEqual(pod.spec.securityContext?.seccompProfile, { type: 'RuntimeDefault' }, `${where}: pod seccomp`);
          assert.equal(pod.spec.enableServiceLinks, false, `${where}: enableServiceLinks must be false`);
          for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
            const at = `${where} container ${c.name}`;
            for (const r of ['cpu', 'memory']) {
              assert.ok(c.resources?.requests?.[r] !== undefined, `${at}: requests.${r} missing`);
              assert.ok(c.resources?.limits?.[r] !== undefined, `${at}: limits.${r} missing`);
            }
            const sc = c.securityContext ?? {};
            assert.equal(sc.runAsNonRoot, true, `${at}: runAsNonRoot`);
            assert.ok(
              Number.isInteger(sc.runAsUser) && (sc.runAsUser as number) > 0,
              `${at}: numeric non-zero runAsUser, got ${String(sc.runAsUser)}`,
            );
            assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
            assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
            assert.deepEqual(sc.capabilities, { drop: ['ALL'] }, `${at}: capabilities`);
            assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' }, `${at}: seccompProfile`);
            const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
            assert.ok(tmp, `${at}: /tmp must be mounted (read-only root filesystem)`);
            assert.ok(pod.spec.volumes?.find((v) => v.name === tmp.name)?.emptyDir, `${at}: /tmp must be an emptyDir`);
            if (!isTestHook(obj)) {
              assert.ok(c.livenessProbe, `${at}: livenessProbe missing`);
              assert.ok(c.readinessProbe, `${at}: readinessProbe missing`);
            }
          }
        }
      });

      test("greeter's services: startup and liveness on /healthz (never Temporal), readiness on /readyz", () => {
        for (const svc of ['translator', 'worker', 'starter']) {
          const obj = find(objects(p), 'Deployment', `greeter-${svc}`);
          if (!obj) continue;
          const c = podOf(obj)!.spec.containers[0]!;
          assert.equal(c.startupProbe?.httpGet?.path, '/healthz', `${svc}: startupProbe`);
          assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${svc}: livenessProbe`);
          assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${svc}: readinessProbe`);
        }
      });

      test('labels carry the app.kubernetes.io set; selectors only name, instance, component', () => {
        for (const o of objects(p)) {
          const l = o.metadata.labels ?? {};
          for (const k of ['name', 'instance', 'component', 'version', 'part-of', 'managed-by']) {
            assert.ok(l[`app.kubernetes.io/${k}`], `${o.kind}/${o.metadata.name}: label app.kubernetes.io/${k} missing`);
          }
        }
        for (const { obj, pod } of workloads(objects(p))) {
          if (obj.kind === 'Pod') continue;
          const sel = (obj.spec?.selector as { matchLabels: Record<string, string> }).matchLabels;
          assert.deepEqual(
            Object.keys(sel).sort(),
            ['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name'],
            `${obj.metadata.name}: selector keys`,
          );
          assert.ok(
            matches(sel, pod.metadata.labels),
            `${obj.metadata.name}: selector ${JSON.stringify(sel)} does not match its pod labels`,
          );
        }
      });

      test('Service, PDB and monitor selectors select exactly the pods of their component', () => {
        const pods = workloads(objects(p)).filter(({ obj }) => obj.kind === 'Deployment');
        for (const o of objects(p)) {
          let sel: Record<string, string> | undefined;
          if (o.kind === 'Service') sel = o.spec?.selector as Record<string, string>;
          else if (['PodDisruptionBudget', 'ServiceMonitor', 'PodMonitor'].includes(o.kind))
            sel = (o.spec?.selector as { matchLabels: Record<string, string> }).matchLabels;
          if (!sel) continue;
          const selected =
            o.kind === 'ServiceMonitor'
              ? objects(p).filter((s) => s.kind === 'Service' && matches(sel, s.metadata.labels ?? {}))
              : pods.filter(({ pod }) => matches(sel, pod.metadata.labels)).map(({ obj }) => obj);
          assert.equal(
            selected.length,
            1,
            `${o.kind}/${o.metadata.name}: expected to select one ${o.kind === 'ServiceMonitor' ? 'Service' : 'Deployment'}, selected ${selected.map((s) => s.metadata.name).join(', ') || 'none'}`,
          );
          assert.equal(selected[0]!.metadata.name, o.metadata.name, `${o.kind}/${o.metadata.name} selects ${selected[0]!.metadata.name}`);
        }
      });

      test('Service and monitor ports name real container ports', () => {
        const objs = objects(p);
        for (const svc of objs.filter((o) => o.kind === 'Service')) {
          const dep = mustFind(objs, 'Deployment', svc.metadata.name);
          const names = new Set(podOf(dep)!.spec.containers.flatMap((c) => (c.ports ?? []).map((x) => x.name)));
          for (const port of svc.spec?.ports as { name: string; targetPort: string }[]) {
            assert.ok(
              names.has(port.targetPort),
              `Service ${svc.metadata.name} targets port ${port.targetPort}, container ports are ${[...names].join(', ')}`,
            );
          }
          for (const mon of objs.filter(
            (o) => (o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor') && o.metadata.name === svc.metadata.name,
          )) {
            const eps = (mon.spec?.endpoints ?? mon.spec?.podMetricsEndpoints) as { port: string; path: string; honorLabels?: boolean }[];
            for (const ep of eps) {
              assert.ok(names.has(ep.port), `${mon.kind} ${mon.metadata.name} scrapes port ${ep.port}, not a container port`);
              assert.equal(ep.path, '/metrics');
              // Temporal's `namespace` label must survive the scrape: the slot-utilization query filters on it.
              assert.equal(ep.honorLabels, true, `${mon.kind} ${mon.metadata.name} port ${ep.port}: honorLabels must be true`);
            }
          }
        }
      });

      test('worker autoscaling targets the worker Deployment; replicas omitted when autoscaled; KEDA replaces the HPA', () => {
        const objs = objects(p);
        const values = valuesOf(p);
        const worker = mustFind(objs, 'Deployment', 'greeter-worker');
        const hpa = find(objs, 'HorizontalPodAutoscaler', 'greeter-worker');
        const so = find(objs, 'ScaledObject', 'greeter-worker');
        if (!values.worker.autoscaling.enabled) {
          assert.equal(hpa, undefined);
          assert.equal(so, undefined);
          assert.ok(worker.spec?.replicas !== undefined, 'replicas must be set without autoscaling');
          return;
        }
        assert.equal(worker.spec?.replicas, undefined, 'spec.replicas must be omitted when an autoscaler owns it');
        const scaler = values.worker.autoscaling.keda.enabled ? so : hpa;
        assert.ok(scaler, `expected ${values.worker.autoscaling.keda.enabled ? 'a ScaledObject' : 'an HPA'} for the worker`);
        if (values.worker.autoscaling.keda.enabled) {
          assert.equal(hpa, undefined, 'with KEDA on, the chart must not render its own HPA (KEDA owns it)');
          const trigger = (so!.spec?.triggers as { type: string; metadata: Record<string, string> }[]).find((t) => t.type === 'temporal');
          assert.ok(trigger, 'ScaledObject needs a temporal trigger');
          for (const k of ['endpoint', 'namespace', 'taskQueue', 'targetQueueSize', 'queueTypes'])
            assert.ok(trigger.metadata[k], `temporal trigger metadata.${k} missing`);
          assert.equal(trigger.metadata.taskQueue, values.temporal.taskQueue);
        } else {
          assert.equal(hpa!.apiVersion, 'autoscaling/v2');
          const behavior = hpa!.spec?.behavior as {
            scaleUp: { stabilizationWindowSeconds: number };
            scaleDown: { stabilizationWindowSeconds: number };
          };
          // The windows the profile asks for (chart defaults: 30 s up, 120 s down).
          assert.equal(behavior.scaleUp.stabilizationWindowSeconds, values.worker.autoscaling.behavior.scaleUpStabilizationSeconds);
          assert.equal(behavior.scaleDown.stabilizationWindowSeconds, values.worker.autoscaling.behavior.scaleDownStabilizationSeconds);
          const metrics = hpa!.spec?.metrics as {
            type: string;
            external?: { metric: { name: string; selector?: { matchLabels?: Record<string, string> } }; target: { value: string } };
          }[];
          const slotMetric = values.worker.autoscaling.slotUtilization.metricName;
          const external = metrics.find((m) => m.type === 'External' && m.external?.metric.name === slotMetric);
          assert.equal(
            Boolean(external),
            values.worker.autoscaling.slotUtilization.enabled,
            'External slot-utilization metric present iff enabled',
          );
          const backlog = metrics.find(
            (m) => m.type === 'External' && m.external?.metric.name === values.worker.autoscaling.backlog.metricName,
          );
          assert.equal(Boolean(backlog), values.worker.autoscaling.backlog.enabled, 'External backlog metric present iff enabled');
          if (backlog) {
            const b = backlog.external as unknown as { target: { type: string; averageValue: string } };
            assert.deepEqual(
              b.target,
              { type: 'AverageValue', averageValue: String(values.worker.autoscaling.backlog.perWorker) },
              'backlog is a per-worker target',
            );
            assert.deepEqual(
              backlog.external!.metric.selector?.matchLabels,
              {
                namespace: values.temporal.namespace.replace(/[^a-zA-Z0-9_]/g, '_'),
                taskqueue: values.temporal.taskQueue.replace(/[^a-zA-Z0-9_]/g, '_'),
              },
              "the backlog metric selects the server's labels: taskqueue, with - and . written as _",
            );
          }
          if (external) {
            assert.equal(external.external!.target.value, '0.7');
            assert.deepEqual(
              external.external!.metric.selector?.matchLabels,
              { namespace: values.temporal.namespace, task_queue: values.temporal.taskQueue },
              'the External metric must select the Temporal namespace and task queue (prometheus-adapter label matchers)',
            );
          }
        }
        assert.deepEqual(scaler.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'greeter-worker' });
      });

      test("NODE_OPTIONS sizes the heap at the configured share of the memory limit, then the component's nodeOptions", () => {
        const values = valuesOf(p);
        for (const { obj, pod } of workloads(objects(p))) {
          for (const c of pod.spec.containers.filter((x) => ['translator', 'worker', 'starter'].includes(x.name))) {
            const limit = memoryMiB(c.resources!.limits!.memory!);
            const want = Math.floor((Math.floor(limit) * values.global.heapPercentOfMemoryLimit) / 100);
            const extra = c.name === 'worker' ? values.worker.nodeOptions : '';
            assert.equal(
              envOf(c).get('NODE_OPTIONS')?.value,
              `--max-old-space-size=${want}${extra ? ` ${extra}` : ''}`,
              `${obj.metadata.name}: heap for a ${limit} MiB limit`,
            );
          }
        }
      });

      test('terminationGracePeriodSeconds outlasts each service own shutdown budget (delay + grace + flush)', () => {
        for (const { obj, pod } of workloads(objects(p))) {
          const c = pod.spec.containers[0]!;
          const env = envOf(c);
          const grace = Number(env.get('SHUTDOWN_GRACE_MS')?.value ?? NaN);
          if (Number.isNaN(grace)) continue;
          const delay = Number(env.get('SHUTDOWN_DELAY_MS')?.value ?? 0);
          // The services' own hard deadlines (services/*/src/server.ts): worker grace + 10 s, others delay + grace + 5 s.
          const budgetMs = c.name === 'worker' ? grace + 10_000 : delay + grace + 5_000;
          const tgps = pod.spec.terminationGracePeriodSeconds ?? 30;
          assert.ok(
            tgps * 1000 > budgetMs,
            `${obj.metadata.name}: terminationGracePeriodSeconds ${tgps}s must exceed the process's shutdown budget ${budgetMs} ms`,
          );
        }
      });

      test('no secret value appears in the rendered objects: credentials only through secretKeyRef or mounted Secrets', () => {
        const objs = objects(p);
        assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0, 'the chart must not create Secrets');
        for (const { obj, pod } of workloads(objs)) {
          for (const c of pod.spec.containers) {
            const key = envOf(c).get('TEMPORAL_API_KEY');
            if (key)
              assert.ok(
                key.valueFrom?.secretKeyRef && key.value === undefined,
                `${obj.metadata.name}: TEMPORAL_API_KEY must come from a secretKeyRef`,
              );
          }
        }
      });
    });
  }

  test('every key of values.yaml is documented by a comment', () => {
    const doc = parseDocument(readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
    // Entries of free-form maps and the Kubernetes resources shape are documented by their parent.
    const FREE_FORM = /(^|\.)(dynamicConfig|resources)$/;
    const missing: string[] = [];
    const walk = (node: YamlNode | null | undefined, prefix: string): void => {
      if (!isMap(node) || node.flow || FREE_FORM.test(prefix)) return;
      node.items.forEach((pair, i) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const at = prefix ? `${prefix}.${key}` : key;
        const keyComment = isScalar(pair.key) ? pair.key.commentBefore : undefined;
        const inline = isScalar(pair.value) ? pair.value.comment : undefined;
        if (!keyComment && !inline && !(i === 0 && node.commentBefore)) missing.push(at);
        walk(pair.value as YamlNode | null, at);
      });
    };
    walk(doc.contents, '');
    assert.deepEqual(missing, [], 'values.yaml keys without a comment');
  });

  test('values files hold no secret values (only Secret names and keys)', () => {
    for (const p of profiles()) {
      const text = readFileSync(p.file ?? path.join(CHART, 'values.yaml'), 'utf8');
      assert.doesNotMatch(text, /^\s*(apiKey|password|token|tls\.key|privateKey)\s*:\s*\S+/im, `${p.name}: looks like a secret value`);
      assert.doesNotMatch(text, /-----BEGIN/, `${p.name}: contains PEM material`);
    }
  });

  test('every image is overridable: registry, repository, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const set = [
      'global.imageRegistry=reg.example/team',
      ...['translator', 'worker', 'starter'].flatMap((s) => [
        `${s}.image.repository=my-${s}`,
        `${s}.image.tag=9.9.9`,
        `${s}.image.digest=${digest}`,
      ]),
      'temporal.dev.image.repository=mirror/temporal',
      'temporal.dev.image.tag=1.2.3',
      `temporal.dev.image.digest=${digest}`,
      'test.image.repository=mirror/curl',
      'test.image.tag=8.0.0',
      `test.image.digest=${digest}`,
    ];
    const objs = parseObjects(render(profiles()[0]!, { set }));
    const images = workloads(objs).flatMap(({ obj, pod }) =>
      pod.spec.containers.map((c: Container) => [obj.metadata.name, c.image] as const),
    );
    assert.deepEqual(Object.fromEntries(images), {
      'greeter-translator': `reg.example/team/my-translator:9.9.9@${digest}`,
      'greeter-worker': `reg.example/team/my-worker:9.9.9@${digest}`,
      'greeter-starter': `reg.example/team/my-starter:9.9.9@${digest}`,
      'greeter-temporal': `mirror/temporal:1.2.3@${digest}`,
      'greeter-test-greeting': `mirror/curl:8.0.0@${digest}`,
    });
  });

  test('dashboards: one ConfigMap per dashboards/*.json labelled grafana_dashboard, and the datasource links exemplars to Jaeger', () => {
    const objs = objects(profiles()[0]!);
    const dashboards = objs.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    const dir = path.join(CHART, 'dashboards');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
    assert.equal(dashboards.length, files.length, `expected one dashboard ConfigMap per JSON file (${files.join(', ') || 'none'})`);
    for (const f of files) {
      const cm = dashboards.find((d) => d.data?.[f] !== undefined);
      assert.ok(cm, `no ConfigMap carries ${f}`);
      assert.deepEqual(
        JSON.parse(cm.data![f]!),
        JSON.parse(readFileSync(path.join(CHART, 'dashboards', f), 'utf8')),
        `${f} must be carried unchanged`,
      );
    }
    const ds = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_datasource === '1');
    assert.ok(ds, 'datasource ConfigMap missing');
    const doc = parse(Object.values(ds.data ?? {})[0] ?? '') as {
      datasources: { uid: string; type: string; jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] } }[];
    };
    const prom = doc.datasources.find((d) => d.type === 'prometheus');
    const jaeger = doc.datasources.find((d) => d.type === 'jaeger');
    assert.ok(prom && jaeger, 'expected a Prometheus and a Jaeger datasource');
    assert.deepEqual(prom.jsonData?.exemplarTraceIdDestinations, [{ name: 'trace_id', datasourceUid: jaeger.uid }]);
  });

  test('NOTES.txt renders the port-forward commands for the starter and the dev Temporal UI', () => {
    const kind = profiles().find((p) => p.name === 'kind')!;
    const notes = renderNotes([kind.file!]);
    assert.match(notes, /kubectl -n greeter port-forward svc\/greeter-starter 8080:8080/);
    assert.match(notes, /kubectl -n greeter port-forward svc\/greeter-temporal 8233:8233/);
    assert.match(notes, /helm test greeter -n greeter/);
  });

  test('a dashboard JSON dropped into dashboards/ becomes a labelled ConfigMap', () => {
    // Rendered from a copy of the chart so the test does not touch the real dashboards folder.
    const tmp = mkdtempSync(path.join(tmpdir(), 'greeter-chart-'));
    try {
      cpSync(CHART, path.join(tmp, 'greeter'), { recursive: true });
      writeFileSync(path.join(tmp, 'greeter', 'dashboards', 'zz-probe.json'), JSON.stringify({ title: 'probe', panels: [] }));
      const r = run('helm', ['template', 'greeter', path.join(tmp, 'greeter'), '-n', 'greeter', '--kube-version', '1.33.0']);
      assert.equal(r.status, 0, r.stderr);
      const cm = mustFind(parseObjects(r.stdout), 'ConfigMap', 'greeter-dashboard-zz-probe');
      assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
      assert.deepEqual(JSON.parse(cm.data?.['zz-probe.json'] ?? ''), { title: 'probe', panels: [] });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

// The merged values of a profile, enough for the assertions above.
interface Values {
  global: { heapPercentOfMemoryLimit: number };
  temporal: { taskQueue: string; namespace: string };
  worker: {
    nodeOptions: string;
    autoscaling: {
      enabled: boolean;
      keda: { enabled: boolean };
      slotUtilization: { enabled: boolean; metricName: string };
      backlog: { enabled: boolean; metricName: string; perWorker: number };
      behavior: { scaleUpStabilizationSeconds: number; scaleDownStabilizationSeconds: number };
    };
  };
}
function valuesOf(p: Profile): Values {
  const base = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const over = p.file ? (parse(readFileSync(p.file, 'utf8')) as Record<string, unknown>) : {};
  return merge(base, over) as unknown as Values;
}
function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && av && typeof av === 'object' && !Array.isArray(av)
        ? merge(av as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
