// What the chart does on real clusters that the plain render checks miss: monitors only where
// the Prometheus Operator's API exists (and pods scrapable without them), monitors a stock
// kube-prometheus-stack selects, NetworkPolicy peers for an in-cluster Temporal, a KEDA trigger
// the KEDA operator can reach, and an API route whose timeout outlasts the starter's own wait.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  CLUSTER_APIS,
  envOf,
  helmTemplateArgs,
  mustFind,
  parseObjects,
  podOf,
  profiles,
  render,
  renderNotes,
  run,
  type K8sObject,
  type Profile,
} from './support';

const MONITOR_KINDS = ['ServiceMonitor', 'PodMonitor'];
/** The release name of kube-prometheus-stack in k8s/values and the Tiltfile; it selects monitors by `release`. */
const KPS_RELEASE = 'kube-prometheus-stack';

function values(p: Profile): Record<string, unknown> {
  return p.file ? ((parse(readFileSync(p.file, 'utf8')) ?? {}) as Record<string, unknown>) : {};
}
function dig(o: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), o);
}
const monitorsOn = (p: Profile): boolean =>
  dig(values(p), ['monitoring', 'serviceMonitors', 'enabled']) === true ||
  dig(values(p), ['monitoring', 'podMonitors', 'enabled']) === true;

describe('greeter chart on real clusters', () => {
  describe('Prometheus Operator monitors', () => {
    const withMonitors = profiles().filter(monitorsOn);

    test('some profiles turn monitors on (nothing to check otherwise)', () => {
      assert.ok(withMonitors.length >= 2, `expected profiles with monitors, got ${withMonitors.map((p) => p.name).join(', ')}`);
    });

    for (const p of withMonitors) {
      test(`profile ${p.name}: no monitors on a cluster without monitoring.coreos.com/v1, monitors where it exists`, () => {
        const fresh = parseObjects(render(p, { apis: [] }));
        const leaked = fresh.filter((o) => MONITOR_KINDS.includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`);
        assert.deepEqual(
          leaked,
          [],
          `a fresh cluster has no ServiceMonitor/PodMonitor CRDs: helm install would fail on ${leaked.join(', ')}`,
        );
        const operator = parseObjects(render(p, { apis: CLUSTER_APIS }));
        assert.ok(
          operator.some((o) => MONITOR_KINDS.includes(o.kind)),
          `profile ${p.name} enables monitors: with the Operator's API present they must render`,
        );
      });

      test(`profile ${p.name}: every monitor carries the release label a stock kube-prometheus-stack selects on`, () => {
        for (const o of parseObjects(render(p)).filter((x) => MONITOR_KINDS.includes(x.kind)))
          assert.equal(
            o.metadata.labels?.['release'],
            KPS_RELEASE,
            `${o.kind}/${o.metadata.name}: kube-prometheus-stack (serviceMonitorSelector/podMonitorSelector release=${KPS_RELEASE}) would ignore it`,
          );
      });
    }

    test('monitoring.assumeCRDs renders the monitors for helm template / Tilt, which cannot see the cluster', () => {
      const kind = profiles().find((p) => p.name === 'kind')!;
      const objs = parseObjects(render(kind, { apis: [], set: ['monitoring.assumeCRDs=true'] }));
      assert.ok(
        objs.some((o) => o.kind === 'ServiceMonitor'),
        'expected ServiceMonitors with monitoring.assumeCRDs=true',
      );
    });

    for (const p of profiles()) {
      test(`profile ${p.name}: pods are scrapable without monitors (prometheus.io annotations on the metrics port)`, () => {
        const objs = parseObjects(render(p, { apis: [] }));
        // component -> the container port that serves prom-client / server metrics on /metrics
        const wanted: Record<string, string> = { starter: 'http', translator: 'http', worker: 'http', temporal: 'metrics' };
        let seen = 0;
        for (const o of objs.filter((x) => x.kind === 'Deployment')) {
          const pod = podOf(o)!;
          const component = pod.metadata.labels['app.kubernetes.io/component'] ?? '';
          const portName = wanted[component];
          if (!portName) continue;
          seen++;
          const port = pod.spec.containers.flatMap((c) => c.ports ?? []).find((x) => x.name === portName);
          assert.ok(port, `${o.metadata.name}: no container port ${portName}`);
          const a = pod.metadata.annotations ?? {};
          assert.deepEqual(
            [a['prometheus.io/scrape'], a['prometheus.io/port'], a['prometheus.io/path']],
            ['true', String(port.containerPort), '/metrics'],
            `${o.metadata.name}: expected prometheus.io/scrape "true", port ${port.containerPort} (${portName}) and path /metrics, got ${JSON.stringify(a)}`,
          );
        }
        assert.ok(seen >= 3, `profile ${p.name}: expected the app Deployments, found ${seen}`);
      });
    }

    test('NOTES.txt warns when monitors are on but the cluster has no Operator API', () => {
      const kind = profiles().find((p) => p.name === 'kind')!;
      assert.match(renderNotes([kind.file!], []), /monitoring\.serviceMonitors\.enabled is true, but this cluster does not serve/);
      assert.doesNotMatch(renderNotes([kind.file!], CLUSTER_APIS), /WARNING/);
    });
  });

  describe('NetworkPolicy towards an in-cluster Temporal', () => {
    for (const p of profiles()) {
      const v = values(p);
      const found = dig(v, ['temporal', 'external', 'address']);
      const address = typeof found === 'string' ? found : '';
      const inCluster = /^[^.:]+\.([^.:]+)\.svc(\.[^:]*)?:\d+$/.exec(address);
      if (dig(v, ['networkPolicy', 'enabled']) !== true || dig(v, ['temporal', 'mode']) !== 'external' || !inCluster) continue;
      test(`profile ${p.name}: worker and starter reach ${address} by namespace/pod selectors, not by an IP range`, () => {
        const ns = inCluster[1]!;
        const objs = parseObjects(render(p));
        for (const component of ['worker', 'starter']) {
          const np = mustFind(objs, 'NetworkPolicy', `greeter-${component}`);
          type Peer = { ipBlock?: { cidr: string }; namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: unknown };
          const rules = (np.spec?.egress ?? []) as { to?: Peer[]; ports?: { port: number | string }[] }[];
          const temporal = rules.filter((r) => (r.ports ?? []).some((x) => x.port === 7233));
          assert.ok(temporal.length > 0, `${np.metadata.name}: no egress rule to port 7233`);
          const peers = temporal.flatMap((r) => r.to ?? []);
          const blocks = peers.filter((x) => x.ipBlock).map((x) => x.ipBlock!.cidr);
          assert.deepEqual(
            blocks,
            [],
            `${np.metadata.name}: an ipBlock holds only if the pod network lies inside it; got ${blocks.join(', ')}`,
          );
          assert.ok(
            peers.some((x) => x.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === ns && x.podSelector),
            `${np.metadata.name}: expected a peer selecting namespace ${ns} and the frontend pods, got ${JSON.stringify(peers)}`,
          );
        }
      });
    }

    test('mode external with neither peers nor CIDRs fails with a message naming both values', () => {
      const tmp = mkdtempSync(path.join(tmpdir(), 'greeter-np-'));
      try {
        const file = path.join(tmp, 'values.yaml');
        writeFileSync(file, 'networkPolicy:\n  enabled: true\n  temporalEgressCIDRs: []\n  temporalPeers: []\n');
        const r = run(
          'helm',
          helmTemplateArgs([file], ['temporal.mode=external', 'temporal.external.address=temporal-frontend.temporal.svc:7233']),
        );
        assert.notEqual(r.status, 0, 'expected helm template to fail');
        assert.match(r.stderr, /temporalPeers.*temporalEgressCIDRs/);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });

  describe('NetworkPolicy API clients, operator peers and DNS ports', () => {
    type Peer = { ipBlock?: { cidr: string }; podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown };
    type Rule = { from?: Peer[]; ports?: { port: number | string; protocol?: string }[] };
    const kind = (): Profile => profiles().find((p) => p.name === 'kind')!;
    const policies = (set: string[]): K8sObject[] =>
      parseObjects(render(kind(), { set: ['networkPolicy.enabled=true', ...set] })).filter((o) => o.kind === 'NetworkPolicy');
    const ingress = (np: K8sObject): Rule[] => (np.spec?.ingress ?? []) as Rule[];

    test('the starter API is open to anyone by default, and only to apiClients and the helm test pod when they are set', () => {
      const open = ingress(mustFind(policies([]), 'NetworkPolicy', 'greeter-starter'));
      assert.ok(
        open.some((r) => r.from === undefined && (r.ports ?? []).some((x) => x.port === 'http')),
        'expected an http rule without from',
      );
      const np = mustFind(
        policies(['networkPolicy.apiClients[0].podSelector.matchLabels.role=client']),
        'NetworkPolicy',
        'greeter-starter',
      );
      const rules = ingress(np);
      assert.ok(
        rules.every((r) => r.from !== undefined),
        `no rule may admit everyone once apiClients is set: ${JSON.stringify(rules)}`,
      );
      const api = rules.find((r) => r.from?.some((x) => x.podSelector?.matchLabels?.role === 'client'));
      assert.ok(api, 'a rule for the API clients');
      assert.ok(
        api.from?.some((x) => x.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'test'),
        'the helm test pod stays allowed',
      );
    });

    test('operatorPeers reach every port of every greeter pod; none by default', () => {
      const none = policies([]).flatMap(ingress);
      assert.ok(!none.some((r) => r.from?.some((x) => x.ipBlock)), 'no ipBlock peer by default');
      const withOps = policies(['networkPolicy.operatorPeers[0].ipBlock.cidr=192.0.2.10/32']).filter(
        (np) => (np.spec?.policyTypes as string[] | undefined)?.includes('Ingress') && ingress(np).length > 0,
      );
      assert.ok(withOps.length >= 4, `expected the component policies with ingress rules, got ${withOps.length}`);
      for (const np of withOps) {
        assert.ok(
          ingress(np).some((r) => r.ports === undefined && r.from?.some((x) => x.ipBlock?.cidr === '192.0.2.10/32')),
          `${np.metadata.name}: no all-ports rule for the operator peer`,
        );
      }
    });

    test('DNS egress goes to the ports the DNS pods listen on (dnsPorts), for UDP and TCP', () => {
      const deny = mustFind(policies(['networkPolicy.dnsPorts={53,1053}']), 'NetworkPolicy', 'greeter-default-deny');
      const ports = ((deny.spec?.egress ?? []) as Rule[]).flatMap((r) => r.ports ?? []).map((x) => `${x.port}/${x.protocol}`);
      assert.deepEqual(ports.sort(), ['1053/TCP', '1053/UDP', '53/TCP', '53/UDP']);
    });
  });

  describe('KEDA temporal trigger', () => {
    const kedaRenders: Array<{ title: string; profile: Profile; set: string[] }> = [
      ...profiles().map((p) => ({ title: `profile ${p.name}`, profile: p, set: [] as string[] })),
      { title: 'kind + keda', profile: profiles().find((p) => p.name === 'kind')!, set: ['worker.autoscaling.keda.enabled=true'] },
      {
        title: 'temporal-cloud (API key, TLS server name) + keda',
        profile: profiles().find((p) => p.name === 'temporal-cloud')!,
        set: ['worker.autoscaling.keda.enabled=true'],
      },
    ];
    for (const r of kedaRenders) {
      const objs = (): K8sObject[] => parseObjects(render(r.profile, { set: r.set }));
      test(`${r.title}: the KEDA operator (namespace keda) can resolve and reach the endpoint the worker uses`, (t) => {
        const so = objs().find((o) => o.kind === 'ScaledObject');
        if (!so) {
          t.skip('no ScaledObject in this render');
          return;
        }
        const trigger = (so.spec?.triggers as { type: string; metadata: Record<string, string>; authenticationRef?: unknown }[]).find(
          (x) => x.type === 'temporal',
        )!;
        const host = trigger.metadata['endpoint']!.replace(/:\d+$/, '');
        const parts = host.split('.');
        assert.ok(
          parts.length >= 2,
          `endpoint ${trigger.metadata['endpoint']}: a short Service name resolves only in its own namespace, not in keda`,
        );
        const worker = podOf(mustFind(objs(), 'Deployment', 'greeter-worker'))!.spec.containers[0]!;
        const env = envOf(worker);
        if (env.get('TEMPORAL_TLS')?.value === 'true') {
          assert.ok(trigger.authenticationRef, 'the worker talks TLS: KEDA enables TLS only with an API key or client certificate');
          const name = env.get('TEMPORAL_TLS_SERVER_NAME')?.value;
          if (name) assert.equal(trigger.metadata['tlsServerName'], name, 'KEDA should verify the same TLS server name as the worker');
        }
      });
    }

    test('KEDA with a self-hosted Temporal over server-only TLS fails with a message, not a scaler that cannot connect', () => {
      const cloud = profiles().find((p) => p.name === 'cloud')!;
      const r = run('helm', helmTemplateArgs([cloud.file!], ['worker.autoscaling.keda.enabled=true']));
      assert.notEqual(r.status, 0, 'expected helm template to refuse keda with temporal.external.tls');
      assert.match(r.stderr, /worker\.autoscaling\.keda.*TLS/);
    });
  });

  describe('the starter API behind a gateway', () => {
    /** Seconds after which the route in front of the starter gives up (Gateway API request timeout, or the Ingress controller's). */
    function routeTimeoutSeconds(objs: readonly K8sObject[]): Array<{ what: string; seconds: number; nginx: boolean }> {
      const out: Array<{ what: string; seconds: number; nginx: boolean }> = [];
      for (const o of objs) {
        if (o.kind === 'HTTPRoute') {
          for (const rule of (o.spec?.rules ?? []) as { timeouts?: { request?: string } }[]) {
            const m = /^(\d+)s$/.exec(rule.timeouts?.request ?? '');
            // Unset: implementation-specific (Envoy Gateway: 15 s).
            out.push({ what: `HTTPRoute/${o.metadata.name}`, seconds: m ? Number(m[1]) : 15, nginx: false });
          }
        } else if (o.kind === 'Ingress') {
          const nginx = typeof o.spec?.ingressClassName === 'string' && o.spec.ingressClassName.includes('nginx');
          const ann = o.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout'];
          // ingress-nginx's default proxy-read-timeout is 60 s; other controllers are unknown here.
          if (nginx) out.push({ what: `Ingress/${o.metadata.name} (nginx)`, seconds: ann ? Number(ann) : 60, nginx });
        }
      }
      return out;
    }

    for (const p of profiles()) {
      test(`profile ${p.name}: the route's timeout outlasts the starter's result wait, and ingress-nginx (retired) is not used`, () => {
        const objs = parseObjects(render(p));
        const starter = envOf(podOf(mustFind(objs, 'Deployment', 'greeter-starter'))!.spec.containers[0]!);
        const waitS =
          (Number(starter.get('STARTER_RESULT_TIMEOUT_MS')?.value) + Number(starter.get('STARTER_RPC_TIMEOUT_MS')?.value)) / 1000;
        for (const r of routeTimeoutSeconds(objs)) {
          assert.ok(!r.nginx, `${r.what}: ingress-nginx is retired upstream (no fixes since March 2026); use starter.httpRoute`);
          assert.ok(
            r.seconds > waitS,
            `${r.what} gives up after ${r.seconds} s, the starter waits up to ${waitS} s: clients would get the gateway's 504, not the API's JSON`,
          );
        }
      });
    }

    test('an nginx Ingress gets a read timeout above the starter wait', () => {
      const objs = parseObjects(render(profiles()[0]!, { set: ['starter.ingress.enabled=true', 'starter.ingress.className=nginx'] }));
      const ing = mustFind(objs, 'Ingress', 'greeter-starter');
      assert.ok(Number(ing.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout']) > 65);
    });
  });
});
