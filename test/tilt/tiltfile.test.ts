// Offline checks of the Tiltfile, the k8s/ values and manifests, and the README's Kubernetes section.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  ROOT,
  README,
  type Obj,
  type K8sObject,
  type PortForward,
  type Evaluation,
  evaluate,
  yamlDocs,
  readYaml,
  dig,
  valuesHeader,
  WORKLOAD_KINDS,
  containersOf,
  dockerStages,
  cmdText,
} from './support';

/** Resource names Tilt would show: k8s workloads/renames, local resources, helm resources and repos. */
function resourceNames(ev: Evaluation): Set<string> {
  const names = new Set<string>();
  for (const r of ev.k8s_resources) names.add(r.new_name || r.workload);
  for (const r of ev.local_resources) names.add(r.name);
  for (const r of ev.helm_resources) names.add(r.name);
  for (const r of ev.helm_repos) names.add(r.resource_name);
  return names;
}

/** Ports of Services that upstream charts create, taken from the values files that pin them. */
function upstreamServicePorts(): Map<string, number> {
  const kps = readYaml('k8s/values/kube-prometheus-stack.yaml');
  const temporal = readYaml('k8s/values/temporal.yaml');
  return new Map<string, number>([
    ['observability/kube-prometheus-stack-grafana', Number(dig(kps, ['grafana', 'service', 'port']))],
    ['observability/kube-prometheus-stack-prometheus', Number(dig(kps, ['prometheus', 'service', 'port']))],
    ['greeter/temporal-web', Number(dig(temporal, ['web', 'service', 'port']))],
  ]);
}

interface Forward {
  resource: string;
  local: number;
  ok: boolean;
  detail: string;
}
/** Every port-forward of an evaluation, with whether its target port exists. */
function forwards(ev: Evaluation): Forward[] {
  const result: Forward[] = [];
  for (const r of ev.k8s_resources) {
    if (r.port_forwards.length === 0) continue;
    const w = ev.objects.find((o) => WORKLOAD_KINDS.includes(o.kind) && o.metadata.name === r.workload);
    const ports = w ? containersOf(w).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)) : [];
    for (const pf of r.port_forwards) {
      const spec: PortForward =
        typeof pf === 'object'
          ? pf
          : { local_port: Number(String(pf).split(':')[0]), container_port: Number(String(pf).split(':').pop()), name: null };
      result.push({
        resource: r.workload,
        local: spec.local_port,
        ok: ports.includes(spec.container_port),
        detail: `${r.workload} forwards ${spec.local_port}->${spec.container_port}; its containers expose [${ports.join(', ')}]`,
      });
    }
  }
  const known = upstreamServicePorts();
  for (const l of ev.local_resources) {
    const m = /kubectl -n (\S+) port-forward svc\/(\S+) (\d+):(\d+)/.exec(cmdText(l.serve_cmd));
    if (!m) continue;
    const [, ns, svc, local, remote] = m;
    const own = ev.objects.find((o) => o.kind === 'Service' && o.metadata.name === svc);
    const ports = own
      ? ((dig(own, ['spec', 'ports']) as Array<{ port: number }> | undefined) ?? []).map((p) => p.port)
      : [known.get(`${ns}/${svc}`) ?? -1];
    result.push({
      resource: l.name,
      local: Number(local),
      ok: ports.includes(Number(remote)),
      detail: `${l.name} forwards ${local}->svc/${svc}:${remote} in ${ns}; that Service serves [${ports.join(', ')}]`,
    });
  }
  return result;
}

const SCENARIOS: Array<{ title: string; args: string[] }> = [
  { title: 'defaults', args: [] },
  { title: 'no observability, cpu autoscaling', args: ['--observability=false', '--autoscaling=cpu'] },
  { title: 'keda autoscaling, 2..8 workers', args: ['--autoscaling=keda', '--worker-min=2', '--worker-max=8'] },
  { title: 'official Temporal chart', args: ['--temporal=chart'] },
];

describe('Tiltfile (evaluated offline against stand-ins for the Tilt API)', () => {
  it('finds the greeter chart and its kind profile (nothing to check otherwise)', () => {
    assert.ok(
      existsSync(path.join(ROOT, 'charts/greeter/Chart.yaml')),
      'charts/greeter/Chart.yaml is missing: the Tiltfile deploys that chart',
    );
    assert.ok(
      existsSync(path.join(ROOT, 'charts/greeter/ci/kind-values.yaml')),
      'charts/greeter/ci/kind-values.yaml is missing: the Tiltfile passes it to helm()',
    );
  });

  for (const sc of SCENARIOS) {
    describe(`tilt up -- ${sc.args.join(' ') || '(no flags)'} [${sc.title}]`, () => {
      const ev = (() => {
        let cached: Evaluation | undefined;
        return (): Evaluation => (cached ??= evaluate(sc.args));
      })();

      it('builds every image from an existing context, Dockerfile and target', () => {
        const builds = ev().docker_builds;
        assert.ok(builds.length > 0, 'expected docker_build calls');
        const refs = new Set(builds.map((b) => b.ref));
        for (const b of builds) {
          assert.ok(existsSync(path.join(ROOT, b.context)), `${b.ref}: context ${b.context} does not exist`);
          if (b.dockerfile_contents) {
            // An inline Dockerfile must start FROM images this Tiltfile builds (Tilt wires them as deps).
            const froms = [...b.dockerfile_contents.matchAll(/^FROM\s+(\S+)/gim)].map((m) => m[1]!);
            assert.ok(froms.length > 0, `${b.ref}: inline Dockerfile has no FROM`);
            for (const f of froms)
              assert.ok(refs.has(f), `${b.ref}: FROM ${f} is not an image this Tiltfile builds (${[...refs].join(', ')})`);
          } else {
            const df = path.join(ROOT, b.context, b.dockerfile);
            assert.ok(existsSync(df), `${b.ref}: Dockerfile ${b.dockerfile} does not exist`);
            if (b.target)
              assert.ok(
                dockerStages(df).includes(b.target),
                `${b.ref}: target ${b.target} is not a stage of ${b.dockerfile} (stages: ${dockerStages(df).join(', ')})`,
              );
          }
          for (const step of b.live_update) {
            if (step.type === 'sync')
              assert.ok(existsSync(path.join(ROOT, step.local!)), `${b.ref}: sync source ${step.local} does not exist`);
            if (step.type === 'fall_back_on')
              for (const f of step.files ?? []) assert.ok(existsSync(path.join(ROOT, f)), `${b.ref}: fall_back_on ${f} does not exist`);
          }
          if (b.with_restart)
            assert.ok(
              !b.restart_file?.startsWith('/tmp/'),
              `${b.ref}: restart file ${b.restart_file} would be hidden by the chart's /tmp emptyDir`,
            );
        }
        for (const svc of ['translator', 'worker', 'starter']) {
          const release = builds.find((b) => b.dockerfile === 'Dockerfile' && b.target === svc && !b.dockerfile_contents);
          assert.ok(release, `expected a docker_build of Dockerfile target ${svc}`);
          assert.ok(refs.has(`greeter-${svc}`), `expected an image greeter-${svc}`);
        }
      });

      it('deploys images that the chart references by the same names', () => {
        const refs = new Set(ev().docker_builds.map((b) => b.ref));
        const app = ev().objects.filter((o) => o.kind === 'Deployment' && /^greeter-(translator|worker|starter)$/.test(o.metadata.name));
        assert.equal(app.length, 3, `expected the three app Deployments, got ${app.map((o) => o.metadata.name).join(', ')}`);
        for (const d of app) {
          for (const c of containersOf(d)) {
            const repo = c.image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
            assert.ok(refs.has(repo), `${d.metadata.name}: image ${c.image} is not built by Tilt (built: ${[...refs].join(', ')})`);
            const sc = (c as unknown as { securityContext?: { readOnlyRootFilesystem?: boolean } }).securityContext;
            assert.equal(sc?.readOnlyRootFilesystem, false, `${d.metadata.name}: Live Update needs a writable root filesystem in dev`);
          }
        }
      });

      it('names only workloads and objects the rendered YAML contains', () => {
        const objs = ev().objects;
        for (const r of ev().k8s_resources) {
          if (!r.new_name) {
            assert.ok(
              objs.some((o) => WORKLOAD_KINDS.includes(o.kind) && o.metadata.name === r.workload),
              `k8s_resource(${r.workload}): no workload of that name; workloads: ${objs
                .filter((o) => WORKLOAD_KINDS.includes(o.kind))
                .map((o) => o.metadata.name)
                .join(', ')}`,
            );
          }
          for (const sel of r.objects) {
            const [name, kind, ns] = sel.split(':');
            assert.ok(
              objs.some(
                (o) =>
                  o.metadata.name === name &&
                  o.kind.toLowerCase() === kind &&
                  (!ns || (o.metadata.namespace ?? '') === ns || o.kind === 'Namespace'),
              ),
              `k8s_resource(${r.new_name || r.workload}): object ${sel} is not in the YAML`,
            );
          }
        }
        const expected = ['greeter-translator', 'greeter-worker', 'greeter-starter'];
        if (!sc.args.includes('--temporal=chart')) expected.push('greeter-temporal');
        for (const w of expected)
          assert.ok(
            ev().k8s_resources.some((r) => r.workload === w),
            `expected k8s_resource(${w})`,
          );
      });

      it('lets the worker and starter start only after Temporal', () => {
        const temporal = sc.args.includes('--temporal=chart') ? 'temporal' : 'greeter-temporal';
        for (const w of ['greeter-worker', 'greeter-starter']) {
          const r = ev().k8s_resources.find((x) => x.workload === w);
          assert.ok(r?.resource_deps.includes(temporal), `${w} should depend on ${temporal}; deps: ${r?.resource_deps.join(', ')}`);
        }
      });

      it('depends only on resources that exist', () => {
        const names = resourceNames(ev());
        const all: Array<{ name: string; deps: string[] }> = [
          ...ev().k8s_resources.map((r) => ({ name: r.new_name || r.workload, deps: r.resource_deps })),
          ...ev().local_resources.map((r) => ({ name: r.name, deps: r.resource_deps })),
          ...ev().helm_resources.map((r) => ({ name: r.name, deps: r.resource_deps })),
        ];
        for (const r of all)
          for (const d of r.deps)
            assert.ok(names.has(d), `${r.name} depends on ${d}, which is not a resource (resources: ${[...names].sort().join(', ')})`);
      });

      it('forwards only ports the target containers or Services serve', () => {
        const fw = forwards(ev());
        for (const f of fw) assert.ok(f.ok, f.detail);
        const locals = fw.map((f) => f.local);
        const want = sc.args.includes('--observability=false') ? [8080, 8233] : [8080, 8233, 3000, 16686, 9090];
        for (const p of want) assert.ok(locals.includes(p), `expected a port-forward on localhost:${p}; got ${locals.join(', ')}`);
      });

      it('pins every upstream chart and uses values files whose header names the same chart and version', () => {
        const repos = new Map(ev().helm_repos.map((r) => [r.name, r.url]));
        for (const h of ev().helm_resources) {
          const vi = h.flags.indexOf('--version');
          assert.ok(vi >= 0, `${h.name}: no --version flag (flags: ${h.flags.join(' ')})`);
          const version = h.flags[vi + 1] ?? '';
          assert.match(version, /^\d+\.\d+\.\d+$/, `${h.name}: version ${version} is not an exact semver`);
          const fi = h.flags.indexOf('--values');
          assert.ok(fi >= 0, `${h.name}: no --values file`);
          const file = h.flags[fi + 1]!;
          readYaml(file);
          const header = valuesHeader(file);
          assert.equal(header.chart, h.chart, `${file} names chart ${header.chart}, the Tiltfile installs ${h.chart}`);
          assert.equal(
            header.version,
            version,
            `${file} was checked against ${header.chart} ${header.version}, the Tiltfile pins ${version}`,
          );
          const repo = h.chart.split('/')[0]!;
          assert.equal(repos.get(repo), header.repo, `${h.name}: helm_repo ${repo} is ${repos.get(repo)}, ${file} says ${header.repo}`);
        }
        for (const call of ev().helm) for (const v of call.values) readYaml(v);
      });

      it('offers manual load-test buttons that apply existing TestRuns', () => {
        const byName = new Map(ev().local_resources.map((r) => [r.name, r]));
        for (const s of ['smoke', 'steady', 'ramp']) {
          const r = byName.get(`k6-${s}`);
          assert.ok(r, `expected a k6-${s} button`);
          assert.equal(r.auto_init, false, `k6-${s} must not run on tilt up`);
          assert.equal(r.trigger_mode, 'manual', `k6-${s} must be manual`);
          const file = `loadtest/k8s/testrun-${s}.yaml`;
          assert.ok(cmdText(r.cmd).includes(file), `k6-${s} should apply ${file}: ${cmdText(r.cmd)}`);
          assert.ok(existsSync(path.join(ROOT, file)), `${file} should exist: the k6-${s} button applies it`);
          const docs = yamlDocs(readFileSync(path.join(ROOT, file), 'utf8'), file) as K8sObject[];
          assert.ok(
            docs.some((d) => d.kind === 'TestRun'),
            `${file} should hold a k6-operator TestRun`,
          );
        }
        // The experiment reads Prometheus, so the button exists only with the observability stack.
        const scale = byName.get('scale-experiment');
        if (sc.args.includes('--observability=false')) assert.equal(scale, undefined, 'no scale-experiment button without Prometheus');
        else {
          assert.ok(scale && scale.auto_init === false && scale.trigger_mode === 'manual', 'expected a manual scale-experiment button');
          assert.match(cmdText(scale.cmd), /npm run scale -- --mode k8s/);
        }
      });
    });
  }

  it('passes the flags through to the chart values', () => {
    const ev = evaluate(['--autoscaling=keda', '--worker-min=2', '--worker-max=8', '--observability=false']);
    const hpa = ev.objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'greeter-worker');
    const so = ev.objects.find((o) => o.kind === 'ScaledObject' && o.metadata.name === 'greeter-worker');
    assert.equal(hpa, undefined, 'with keda the chart should render no worker HPA (KEDA owns it)');
    assert.ok(so, 'with keda the chart should render a ScaledObject for the worker');
    assert.equal(dig(so, ['spec', 'minReplicaCount']), 2);
    assert.equal(dig(so, ['spec', 'maxReplicaCount']), 8);
    assert.ok(!ev.objects.some((o) => o.kind === 'ServiceMonitor'), 'without observability nothing may need the Prometheus Operator CRDs');
    assert.ok(!ev.helm_resources.some((h) => h.name === 'kube-prometheus-stack'), 'observability=false should skip kube-prometheus-stack');
  });

  it('rejects flags it does not define and values it does not accept', () => {
    assert.throws(() => evaluate(['--autoscaling=memory']), /--autoscaling must be cpu, slots or keda/);
    assert.throws(() => evaluate(['--no-such-flag=1']), /unknown Tilt arg --no-such-flag/);
  });
});

describe('k8s/ values and manifests', () => {
  const valuesFiles = readdirSync(path.join(ROOT, 'k8s/values')).filter((f) => f.endsWith('.yaml'));

  it('gives every upstream values file a header naming chart, repo and exact version, and the Tiltfile pins that version', () => {
    const pinned = new Map<string, string>();
    for (const ev of [evaluate([]), evaluate(['--autoscaling=keda', '--temporal=chart'])]) {
      for (const h of ev.helm_resources) pinned.set(h.chart, h.flags[h.flags.indexOf('--version') + 1]!);
    }
    assert.ok(valuesFiles.length >= 7, `expected the upstream values files, found ${valuesFiles.join(', ')}`);
    for (const f of valuesFiles) {
      const rel = `k8s/values/${f}`;
      readYaml(rel);
      const h = valuesHeader(rel);
      assert.match(h.version, /^\d+\.\d+\.\d+$/, `${rel}: version ${h.version} is not exact`);
      assert.equal(
        pinned.get(h.chart),
        h.version,
        `${rel}: header pins ${h.chart} ${h.version}, the Tiltfile installs ${pinned.get(h.chart) ?? 'nothing'}`,
      );
    }
  });

  it('keeps secrets out of values: Grafana and PostgreSQL passwords come from existing Secrets', () => {
    const kps = readYaml('k8s/values/kube-prometheus-stack.yaml');
    assert.equal(dig(kps, ['grafana', 'adminPassword']), undefined, 'grafana.adminPassword must not be set');
    assert.equal(dig(kps, ['grafana', 'admin', 'existingSecret']), 'grafana-admin');
    const temporal = readYaml('k8s/values/temporal.yaml');
    for (const store of ['default', 'visibility']) {
      const sql = dig(temporal, ['server', 'config', 'persistence', 'datastores', store, 'sql']) as Obj;
      assert.equal(sql['password'], undefined, `temporal ${store} store must not carry a password`);
      assert.equal(sql['existingSecret'], 'temporal-postgres');
    }
  });

  it('configures Prometheus for exemplars, remote write and cluster-wide monitor selection', () => {
    const spec = dig(readYaml('k8s/values/kube-prometheus-stack.yaml'), ['prometheus', 'prometheusSpec']) as Obj;
    assert.deepEqual(spec['enableFeatures'], ['exemplar-storage']);
    assert.equal(spec['enableRemoteWriteReceiver'], true);
    assert.equal(spec['serviceMonitorSelectorNilUsesHelmValues'], false);
    assert.equal(spec['podMonitorSelectorNilUsesHelmValues'], false);
    const sidecar = dig(readYaml('k8s/values/kube-prometheus-stack.yaml'), ['grafana', 'sidecar']) as Obj;
    assert.deepEqual(
      [dig(sidecar, ['dashboards', 'label']), dig(sidecar, ['dashboards', 'labelValue']), dig(sidecar, ['dashboards', 'searchNamespace'])],
      ['grafana_dashboard', '1', 'ALL'],
    );
    assert.deepEqual([dig(sidecar, ['datasources', 'label']), dig(sidecar, ['datasources', 'labelValue'])], ['grafana_datasource', '1']);
    const ms = readYaml('k8s/values/metrics-server.yaml');
    assert.ok((ms['args'] as string[]).includes('--kubelet-insecure-tls'), 'metrics-server on kind needs --kubelet-insecure-tls');
  });

  const promql = readFileSync(path.join(ROOT, 'k8s/queries/slot-utilization.promql'), 'utf8');
  const squash = (s: string): string => s.replace(/\s+/g, '');
  const MATCHERS = /\{namespace="default",\s*task_queue="greeting-tasks"\}/g;

  it('serves greeter_worker_slot_utilization with exactly the slot-utilization query', () => {
    const rules = dig(readYaml('k8s/values/prometheus-adapter.yaml'), ['rules', 'external']) as Obj[];
    const rule = rules.find((r) => dig(r, ['name', 'as']) === 'greeter_worker_slot_utilization');
    assert.ok(rule, 'prometheus-adapter should define the external metric greeter_worker_slot_utilization');
    assert.equal(
      dig(rule, ['resources', 'namespaced']),
      false,
      'the series carry the Temporal namespace, so the adapter must not add the HPA namespace',
    );
    assert.equal(
      (promql.match(MATCHERS) ?? []).length,
      3,
      'the query file should match namespace and task_queue in each of its three selectors',
    );
    const expected = promql.replace(MATCHERS, '{<<.LabelMatchers>>}');
    assert.equal(
      squash(String(rule['metricsQuery'])),
      squash(expected),
      'metricsQuery should be the .promql file with its matchers replaced by <<.LabelMatchers>>',
    );
  });

  it('makes the worker HPA select the same namespace and task queue the query file does', () => {
    const ev = evaluate(['--autoscaling=slots']);
    const hpa = ev.objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'greeter-worker');
    assert.ok(hpa, 'slots mode should render a worker HPA');
    const metrics = (dig(hpa, ['spec', 'metrics']) as Obj[]) ?? [];
    const ext = metrics.find((m) => dig(m, ['external', 'metric', 'name']) === 'greeter_worker_slot_utilization');
    assert.ok(ext, 'the HPA should use the external metric greeter_worker_slot_utilization');
    assert.equal(String(dig(ext, ['external', 'target', 'value'])), '0.7');
    const labels = (dig(ext, ['external', 'metric', 'selector', 'matchLabels']) ?? {}) as Record<string, string>;
    // What prometheus-adapter substitutes for <<.LabelMatchers>> (labels in sorted order).
    const matchers = Object.keys(labels)
      .sort()
      .map((k) => `${k}="${labels[k]}"`)
      .join(',');
    const rule = (dig(readYaml('k8s/values/prometheus-adapter.yaml'), ['rules', 'external']) as Obj[])[0]!;
    const effective = String(rule['metricsQuery']).replaceAll('<<.LabelMatchers>>', matchers);
    assert.equal(
      squash(effective),
      squash(promql),
      `the HPA's selector ${JSON.stringify(labels)} should turn the adapter rule into the .promql query`,
    );
  });

  it('serves greeter_task_queue_backlog with exactly the backlog query, and the HPA takes it per worker', () => {
    const backlog = readFileSync(path.join(ROOT, 'k8s/queries/task-queue-backlog.promql'), 'utf8');
    // The server's Prometheus reporter writes greeting-tasks as greeting_tasks.
    const BACKLOG_MATCHERS = /\{namespace="default",\s*taskqueue="greeting_tasks"\}/g;
    assert.equal((backlog.match(BACKLOG_MATCHERS) ?? []).length, 1, 'the backlog query should match namespace and taskqueue once');
    const rules = dig(readYaml('k8s/values/prometheus-adapter.yaml'), ['rules', 'external']) as Obj[];
    const rule = rules.find((r) => dig(r, ['name', 'as']) === 'greeter_task_queue_backlog');
    assert.ok(rule, 'prometheus-adapter should define the external metric greeter_task_queue_backlog');
    assert.equal(dig(rule, ['resources', 'namespaced']), false);

    const ev = evaluate(['--autoscaling=slots']);
    const hpa = ev.objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'greeter-worker');
    const metrics = (dig(hpa, ['spec', 'metrics']) as Obj[]) ?? [];
    const ext = metrics.find((m) => dig(m, ['external', 'metric', 'name']) === 'greeter_task_queue_backlog');
    assert.ok(ext, 'slots mode should make the HPA scale on the backlog too (the larger of the two wins)');
    assert.equal(dig(ext, ['external', 'target', 'type']), 'AverageValue', 'backlog is a per-worker target');
    const labels = (dig(ext, ['external', 'metric', 'selector', 'matchLabels']) ?? {}) as Record<string, string>;
    const matchers = Object.keys(labels)
      .sort()
      .map((k) => `${k}="${labels[k]}"`)
      .join(',');
    assert.equal(
      squash(String(rule['metricsQuery']).replaceAll('<<.LabelMatchers>>', matchers)),
      squash(backlog),
      `the HPA's selector ${JSON.stringify(labels)} should turn the adapter rule into the .promql query`,
    );
  });

  it("pins KEDA at 2.20 or newer and sets the temporal scaler's queueTypes in keda mode", () => {
    const ev = evaluate(['--autoscaling=keda']);
    const keda = ev.helm_resources.find((h) => h.chart.endsWith('/keda'));
    assert.ok(keda, 'keda mode should install the KEDA chart');
    const version = keda.flags[keda.flags.indexOf('--version') + 1] ?? '';
    const [major, minor] = version.split('.').map(Number);
    assert.ok((major ?? 0) > 2 || ((major ?? 0) === 2 && (minor ?? 0) >= 20), `KEDA ${version}: greeter needs 2.20 or newer`);
    const so = ev.objects.find((o) => o.kind === 'ScaledObject' && o.metadata.name === 'greeter-worker');
    const trigger = ((dig(so, ['spec', 'triggers']) as Obj[]) ?? []).find((t) => t['type'] === 'temporal');
    assert.equal(dig(trigger, ['metadata', 'queueTypes']), 'workflow,activity', 'the scaler counts the backlog of both queue types');
  });

  it('ships a Jaeger v2 config that Jaeger itself accepts, reachable where the collector sends traces', () => {
    const docs = yamlDocs(readFileSync(path.join(ROOT, 'k8s/jaeger/jaeger.yaml'), 'utf8'), 'k8s/jaeger/jaeger.yaml') as K8sObject[];
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    assert.ok(cm?.data?.['config.yaml'], 'k8s/jaeger/jaeger.yaml should carry the Jaeger config in a ConfigMap');
    const dir = mkdtempSync(path.join(tmpdir(), 'jaeger-'));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, cm.data['config.yaml']);
    try {
      execFileSync('jaeger', ['validate', `--config=file:${file}`], { stdio: 'pipe' });
    } catch (err) {
      const e = err as { stderr?: Buffer; code?: string };
      assert.fail(
        e.code === 'ENOENT'
          ? 'jaeger is not on PATH (scripts/bootstrap.sh installs it)'
          : `jaeger validate rejected the config:\n${e.stderr?.toString()}`,
      );
    }
    const dep = docs.find((d) => d.kind === 'Deployment');
    assert.match(containersOf(dep!)[0]!.image, /^jaegertracing\/jaeger:2\.\d+\.\d+$/, 'Jaeger v2 image pinned to an exact version');
    const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'jaeger');
    const ports = ((dig(svc, ['spec', 'ports']) as Array<{ port: number }>) ?? []).map((p) => p.port);
    for (const p of [4317, 4318, 16686]) assert.ok(ports.includes(p), `the jaeger Service should serve ${p}; has ${ports.join(', ')}`);
    const otel = readYaml('k8s/values/opentelemetry-collector.yaml');
    assert.equal(dig(otel, ['config', 'exporters', 'otlp_grpc/jaeger', 'endpoint']), 'jaeger.observability.svc:4317');
    assert.equal(otel['mode'], 'deployment');
    assert.equal(dig(otel, ['presets', 'kubernetesAttributes', 'enabled']), true, 'the collector should add k8s attributes');
  });
});

describe('README Kubernetes section', () => {
  // The section between the kubernetes markers of README.md.
  const whole = existsSync(README) ? readFileSync(README, 'utf8') : '';
  const text = /<!-- kubernetes:start[^>]*-->([\s\S]*)<!-- kubernetes:end -->/.exec(whole)?.[1] ?? '';

  it('exists', () => assert.ok(text.length > 0, `${path.relative(ROOT, README)} should exist`));

  it('documents the same port-forwards the Tiltfile sets up', () => {
    const fw = forwards(evaluate([]));
    for (const f of fw) assert.ok(text.includes(`localhost:${f.local}`), `README should mention localhost:${f.local} (${f.detail})`);
    for (const m of text.matchAll(/localhost:(\d+)/g)) {
      assert.ok(
        fw.some((f) => f.local === Number(m[1])),
        `README mentions localhost:${m[1]}, which Tilt does not forward`,
      );
    }
  });

  it('names only Tilt flags the Tiltfile defines, and every flag it defines', () => {
    const defs = Object.keys(evaluate([]).config.definitions);
    for (const d of defs) assert.ok(text.includes(`--${d}`), `README should document --${d}`);
    for (const m of text.matchAll(/tilt up -- ([^\n`]+)/g)) {
      for (const flag of m[1]!.matchAll(/--([a-z-]+)/g))
        assert.ok(defs.includes(flag[1]!), `README uses tilt flag --${flag[1]}, the Tiltfile defines ${defs.join(', ')}`);
    }
  });

  it('gives commands that match the chart and the repository', () => {
    for (const cmd of ['tilt up', 'tilt down', 'kind delete cluster', 'kind load docker-image'])
      assert.ok(text.includes(cmd), `README should show \`${cmd}\``);
    const installs = [...text.matchAll(/helm (?:install|upgrade --install) greeter charts\/greeter ([^\n`]+)/g)];
    assert.ok(installs.length >= 2, 'README should show helm install for kind and for a cloud cluster');
    for (const m of installs) {
      assert.match(m[1]!, /-n greeter/, `helm install should target namespace greeter: ${m[0]}`);
      for (const f of m[1]!.matchAll(/-f (\S+)/g))
        assert.ok(existsSync(path.join(ROOT, f[1]!)), `README's ${m[0]} uses ${f[1]}, which does not exist`);
    }
    for (const m of text.matchAll(/(?<![\w/])(k8s\/[\w./-]+\.(?:yaml|promql|md))/g))
      assert.ok(existsSync(path.join(ROOT, m[1]!)), `README refers to ${m[1]}, which does not exist`);
  });
});
