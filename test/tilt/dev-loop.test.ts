// The Tilt dev loop as a user meets it: which cluster it deploys to, whether Live Update's compile
// fits in the pods, whether the port-forwards survive pod restarts, whether the load-test and
// scale-experiment buttons can work, and whether the README describes the same thing.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  ROOT,
  cmdText,
  containersOf,
  dig,
  evaluate,
  readmeKubernetesSection,
  readYaml,
  yamlDocs,
  type Evaluation,
  type K8sObject,
} from './support';

const SCENARIOS: string[][] = [
  [],
  ['--observability=false', '--autoscaling=cpu'],
  ['--autoscaling=keda', '--worker-min=2', '--worker-max=8'],
  ['--temporal=chart'],
];
const evaluations = new Map<string, Evaluation>();
function ev(args: string[]): Evaluation {
  const key = args.join(' ');
  let e = evaluations.get(key);
  if (!e) evaluations.set(key, (e = evaluate(args)));
  return e;
}

function mib(q: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  assert.ok(m, `memory quantity ${q}: expected Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}
const heapFlag = (s: string): number | undefined => {
  const m = /--max-old-space-size=(\d+)/.exec(s);
  return m ? Number(m[1]) : undefined;
};

describe('Tilt dev loop', () => {
  it('refuses every kube context but kind-greeter (Tilt itself allows any local cluster)', () => {
    assert.throws(
      () => evaluate([], { context: 'docker-desktop' }),
      /kind-greeter/,
      'with the context docker-desktop the Tiltfile must fail() naming kind-greeter, not deploy there',
    );
    assert.doesNotThrow(() => evaluate([], { context: 'kind-greeter' }));
    const readme = readmeKubernetesSection();
    assert.doesNotMatch(readme, /Tilt only talks to the context/, 'the README claimed a restriction Tilt does not make');
  });

  for (const args of SCENARIOS) {
    const title = args.join(' ') || '(no flags)';

    it(`tilt up -- ${title}: Live Update's compiler has its own heap and the dev pods room for it`, () => {
      const e = ev(args);
      for (const svc of ['translator', 'worker', 'starter']) {
        const build = e.docker_builds.find((b) => b.ref === `greeter-${svc}` && b.with_restart);
        assert.ok(build, `expected docker_build_with_restart(greeter-${svc})`);
        const runs = build.live_update.filter((s) => s.type === 'run').map((s) => cmdText(s.cmd ?? ''));
        assert.ok(runs.length > 0, `greeter-${svc}: no run() step`);
        const dep = e.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `greeter-${svc}`)!;
        const c = containersOf(dep)[0] as unknown as {
          env: Array<{ name: string; value?: string }>;
          resources: { limits: { memory: string } };
        };
        const appHeap = heapFlag(c.env.find((x) => x.name === 'NODE_OPTIONS')?.value ?? '');
        assert.ok(appHeap, `greeter-${svc}: NODE_OPTIONS should size the service heap`);
        for (const cmd of runs) {
          // run() executes in the container, whose NODE_OPTIONS is the service's production heap flag.
          const compileHeap = heapFlag(cmd) ?? appHeap;
          assert.ok(
            compileHeap >= 1024,
            `greeter-${svc}: \`${cmd}\` runs tsc with a ${compileHeap} MB heap (the service's production flag); tsc -b needs its own, >= 1024 MB`,
          );
          const limit = mib(c.resources.limits.memory);
          assert.ok(
            limit >= appHeap + compileHeap + 256,
            `greeter-${svc}: memory limit ${c.resources.limits.memory} cannot hold the service (${appHeap} MB heap) and tsc (${compileHeap} MB) at once: OOM kill on the first edit`,
          );
        }
      }
    });

    it(`tilt up -- ${title}: UI port-forwards reconnect when the pod behind the Service is replaced`, () => {
      const forwards = ev(args).local_resources.filter((l) => /kubectl .*port-forward/.test(cmdText(l.serve_cmd)));
      assert.ok(forwards.length > 0 || args.includes('--observability=false'), 'expected kubectl port-forward resources');
      for (const l of forwards) {
        const cmd = cmdText(l.serve_cmd);
        assert.match(
          cmd,
          /^(while|until) .*; do .*kubectl .*port-forward .*; done$/,
          `${l.name}: \`${cmd}\` exits for good when the pod is replaced (kubectl port-forward binds one pod)`,
        );
      }
    });

    it(`tilt up -- ${title}: each k6 button creates the scripts ConfigMap its TestRun mounts, and keeps the runner logs`, () => {
      const readme = readmeKubernetesSection();
      for (const s of ['smoke', 'steady', 'ramp']) {
        const button = ev(args).local_resources.find((l) => l.name === `k6-${s}`)!;
        const steps = cmdText(button.cmd)
          .split('&&')
          .map((x) => x.trim());
        const file = `loadtest/k8s/testrun-${s}.yaml`;
        const testrun = (yamlDocs(readFileSync(path.join(ROOT, file), 'utf8'), file) as K8sObject[]).find((d) => d.kind === 'TestRun')!;
        const cm = String(dig(testrun, ['spec', 'script', 'configMap', 'name']));
        const ns = testrun.metadata.namespace ?? 'default';
        const applyTestRun = steps.findIndex((x) => x.startsWith('kubectl apply') && x.includes(file));
        const creates = steps.findIndex((x, i) => {
          const k = /^kubectl apply -k (\S+)$/.exec(x);
          if (!k || i > applyTestRun) return false;
          const kz = readYaml(path.join(k[1]!, 'kustomization.yaml'));
          const gens = (kz['configMapGenerator'] as Array<{ name: string }> | undefined) ?? [];
          return (
            kz['namespace'] === ns && dig(kz, ['generatorOptions', 'disableNameSuffixHash']) === true && gens.some((g) => g.name === cm)
          );
        });
        assert.ok(
          creates >= 0,
          `k6-${s}: \`${cmdText(button.cmd)}\` never creates ConfigMap ${ns}/${cm} before applying ${file}: its pods would hang in ContainerCreating`,
        );
        if (/kubectl .*logs/.test(readme))
          assert.notEqual(
            dig(testrun, ['spec', 'cleanup']),
            'post',
            `${file}: cleanup: post deletes the runner pods, so the README's kubectl logs step finds nothing`,
          );
      }
    });

    it(`tilt up -- ${title}: the scale-experiment button passes what --mode k8s needs and does not fight the autoscaler`, () => {
      const button = ev(args).local_resources.find((l) => l.name === 'scale-experiment');
      if (!button) {
        assert.ok(args.includes('--observability=false'), 'the scale experiment reads Prometheus: expected its button with observability');
        return;
      }
      const cmd = cmdText(button.cmd);
      // The options scale.ts insists on in k8s mode (its `--mode k8s needs ...` check).
      const src = readFileSync(path.join(ROOT, 'loadtest/src/scale.ts'), 'utf8');
      const check = /values\.mode === 'k8s'\)\s*\{\s*if \(([^)]*)\)\s*throw/.exec(src);
      assert.ok(check, 'loadtest/src/scale.ts: could not find the k8s-mode option check');
      const required = [...check[1]!.matchAll(/values\.(\w+)/g)].map((m) => m[1]!);
      assert.ok(required.length >= 3, `expected --url, --prometheus and --rate, found ${required.join(', ')}`);
      for (const opt of required) assert.match(cmd, new RegExp(`--${opt} \\S+`), `scale-experiment: \`${cmd}\` lacks --${opt}`);
      const url = (opt: string): number => Number(/localhost:(\d+)/.exec(new RegExp(`--${opt} (\\S+)`).exec(cmd)![1]!)?.[1]);
      const fwd = ev(args).k8s_resources.find((r) => r.workload === 'greeter-starter')!.port_forwards as Array<{ local_port: number }>;
      assert.ok(
        fwd.some((f) => f.local_port === url('url')),
        `--url should be the starter's Tilt port-forward (${fwd.map((f) => f.local_port).join(', ')})`,
      );
      assert.ok(
        ev(args).local_resources.some((l) => l.name === 'prometheus-ui' && cmdText(l.serve_cmd).includes(`${url('prometheus')}:`)),
        "--prometheus should be Tilt's Prometheus port-forward",
      );
      const autoscaled = ev(args).objects.some(
        (o) => ['HorizontalPodAutoscaler', 'ScaledObject'].includes(o.kind) && o.metadata.name === 'greeter-worker',
      );
      if (autoscaled)
        assert.match(
          cmd,
          /--hpa\b/,
          'the worker autoscaler is always on under Tilt: without --hpa the experiment `kubectl scale`s and the HPA undoes it',
        );
    });
  }

  it('keeps the monitors of the greeter chart for Tilt, which renders with helm template', () => {
    const e = ev([]);
    assert.ok(
      e.objects.some((o) => o.kind === 'ServiceMonitor'),
      'with observability Tilt installs kube-prometheus-stack (and its CRDs) first: the monitors must render',
    );
    const r = e.k8s_resources.find((x) => x.new_name === 'greeter-monitoring')!;
    assert.ok(r.resource_deps.includes('kube-prometheus-stack'), 'greeter-monitoring must wait for the CRDs');
  });

  it("lists every Tilt label in the README's label list", () => {
    const labels = new Set<string>();
    for (const args of SCENARIOS) {
      const e = ev(args);
      for (const r of [...e.k8s_resources, ...e.local_resources, ...e.helm_resources, ...e.helm_repos] as Array<{ labels?: string[] }>)
        for (const l of r.labels ?? []) labels.add(l);
    }
    const sentence = /groups resources by label: ([^.]+)\./.exec(readmeKubernetesSection().replace(/\s+/g, ' '));
    assert.ok(sentence, 'the README should say which labels the Tilt UI groups by');
    const listed = new Set([...sentence[1]!.matchAll(/`([\w-]+)`/g)].map((m) => m[1]!));
    assert.deepEqual([...listed].sort(), [...labels].sort(), 'README label list vs labels the Tiltfile sets');
  });
});
