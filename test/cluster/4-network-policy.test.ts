// NetworkPolicies enforced for real (the local cluster runs kube-router's policy controller): a pod
// outside the allowed peers cannot open a connection to the translator, the starter, the worker's
// metrics ports or Temporal; an allowed API client reaches the starter and nothing else; a greeter
// pod cannot leave its egress rules; and meanwhile greetings and Prometheus scraping keep working.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postGreeting } from '../support/stack';
import { promApi, type ScrapeTarget } from '../support/prometheus';
import { isReady, kubectl, kubectlJson, NS, pods, RELEASE, serviceUrl, stopForwards, until } from './support';

const PROBE_NS = 'default';
const API_CLIENT_LABEL = 'greeter.io/api-client';

type Outcome = 'reached' | 'refused' | 'timeout' | `error ${string}`;

/** A TCP connect from inside a pod (node is in every greeter image): what the policy let through. */
const CONNECT = `const [host, port] = process.argv.slice(1);
const s = require('net').connect({ host, port: Number(port), timeout: 4000 });
s.on('connect', () => { console.log('reached'); s.destroy(); });
s.on('timeout', () => { console.log('timeout'); s.destroy(); });
s.on('error', (e) => console.log(e.code === 'ECONNREFUSED' ? 'refused' : 'error ' + e.code));`;

function connectFrom(ns: string, pod: string, host: string, port: number): Outcome {
  return kubectl('-n', ns, 'exec', pod, '--', 'node', '-e', CONNECT, host, String(port)) as Outcome;
}

/** The same connect from this host (an operator peer on the local cluster). */
function connectHere(host: string, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 4000 });
    s.on('connect', () => (s.destroy(), resolve('reached')));
    s.on('timeout', () => (s.destroy(), resolve('timeout')));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code}`));
  });
}

interface Target {
  what: string;
  ip: string;
  port: number;
}

/** Every port of every greeter pod that a policy guards, by pod IP (Services add nothing a policy sees). */
function targets(): Target[] {
  const list = kubectlJson<{
    items: Array<{
      metadata: { labels: Record<string, string>; deletionTimestamp?: string };
      spec: { containers: Array<{ ports?: Array<{ name?: string; containerPort: number }> }> };
      status: { podIP?: string };
    }>;
  }>('-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/instance=${RELEASE}`);
  const out: Target[] = [];
  const seen = new Set<string>();
  for (const p of list.items) {
    const component = p.metadata.labels['app.kubernetes.io/component'] ?? '?';
    if (p.metadata.deletionTimestamp || !p.status.podIP || seen.has(component)) continue;
    seen.add(component);
    for (const port of p.spec.containers.flatMap((c) => c.ports ?? [])) {
      out.push({ what: `${component}:${port.name ?? port.containerPort}`, ip: p.status.podIP, port: port.containerPort });
    }
  }
  return out;
}

function runProbePod(name: string, image: string, labels: Record<string, string>): void {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: PROBE_NS, labels: { 'app.kubernetes.io/name': 'greeter-netpol-probe', ...labels } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
        },
      ],
    },
  };
  execFileSync('kubectl', ['apply', '-f', '-'], { input: JSON.stringify(pod), stdio: ['pipe', 'ignore', 'pipe'] });
}

const blocked = (o: Outcome) => o === 'timeout' || o === 'refused';

describe('NetworkPolicies enforced on the cluster', { timeout: 300_000 }, () => {
  const OUTSIDER = 'netpol-outsider';
  const CLIENT = 'netpol-api-client';
  let all: Target[] = [];
  let starterImage = '';

  before(async () => {
    const policies = kubectl('-n', NS, 'get', 'networkpolicies', '-o', 'name').split('\n').filter(Boolean);
    assert.ok(
      policies.length >= 4,
      `the release renders its NetworkPolicies (networkPolicy.enabled; the local profile turns it on), found: ${policies.join(', ') || 'none'}`,
    );
    all = targets();
    const components = new Set(all.map((t) => t.what.split(':')[0]));
    assert.deepEqual([...components].sort(), ['starter', 'temporal', 'translator', 'worker']);
    starterImage = kubectl('-n', NS, 'get', 'deployment', `${RELEASE}-starter`, '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    runProbePod(OUTSIDER, starterImage, {});
    runProbePod(CLIENT, starterImage, { [API_CLIENT_LABEL]: 'true' });
    await until(
      'probe pods Ready',
      120_000,
      () => pods(PROBE_NS, 'app.kubernetes.io/name=greeter-netpol-probe').filter(isReady).length === 2,
    );
  });
  after(() => {
    kubectl('-n', PROBE_NS, 'delete', 'pod', OUTSIDER, CLIENT, '--ignore-not-found', '--wait=false');
    stopForwards();
  });

  it('lets a pod outside the allowed peers reach no port of the translator, the starter, the worker or Temporal', (t) => {
    const seen = all.map((x) => ({ ...x, outcome: connectFrom(PROBE_NS, OUTSIDER, x.ip, x.port) }));
    t.diagnostic(seen.map((x) => `${x.what} -> ${x.outcome}`).join(', '));
    assert.deepEqual(
      seen.filter((x) => !blocked(x.outcome)).map((x) => `${x.what} (${x.ip}:${x.port}): ${x.outcome}`),
      [],
      'an unlabelled pod in namespace default connected to these; the CNI does not enforce the policies',
    );
  });

  it('lets a labelled API client reach the starter API and nothing else', (t) => {
    const seen = all.map((x) => ({ ...x, outcome: connectFrom(PROBE_NS, CLIENT, x.ip, x.port) }));
    t.diagnostic(seen.map((x) => `${x.what} -> ${x.outcome}`).join(', '));
    assert.deepEqual(
      seen.filter((x) => x.outcome === 'reached').map((x) => x.what),
      ['starter:http'],
      `with ${API_CLIENT_LABEL}=true only the starter's http port opens`,
    );
  });

  it('answers on every one of those ports to an allowed peer (this host), so the refusals above are the policies', async (t) => {
    // The local cluster routes pod IPs from this host, which its profile names in operatorPeers.
    assert.equal(process.env.GREETER_CLUSTER_ROUTED, '1', 'this check needs pod IPs routed from this host (the local cluster)');
    const seen = await Promise.all(all.map(async (x) => ({ ...x, outcome: await connectHere(x.ip, x.port) })));
    t.diagnostic(seen.map((x) => `${x.what} -> ${x.outcome}`).join(', '));
    assert.deepEqual(
      seen.filter((x) => x.outcome !== 'reached').map((x) => `${x.what}: ${x.outcome}`),
      [],
    );
  });

  it("keeps greeter's own pods inside their egress rules: the translator reaches neither Temporal nor the starter", () => {
    const translator = pods(NS, `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=translator`).find(isReady);
    assert.ok(translator, 'a Ready translator pod');
    for (const what of ['temporal:grpc', 'starter:http']) {
      const target = all.find((x) => x.what === what);
      assert.ok(target, `target ${what}`);
      const outcome = connectFrom(NS, translator.metadata.name, target.ip, target.port);
      assert.ok(blocked(outcome), `translator -> ${what}: expected blocked, got ${outcome}`);
    }
  });

  it('keeps greetings working and every greeter pod scraped while the policies are enforced', async (t) => {
    const starter = await serviceUrl(NS, `${RELEASE}-starter`, 8080);
    for (const name of ['Ana', 'Zoë']) {
      const r = await postGreeting(starter, { name });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.result, `¡Hola, ${name}!\n¡Adiós, ${name}!`);
    }
    const prom = promApi(await serviceUrl('observability', 'prometheus', 9090));
    // A target scraped before the policies (or before the last scrape) could still say up: wait
    // for a scrape that started after this test did.
    const since = Date.now();
    let greeterTargets: ScrapeTarget[] = [];
    await until('a fresh scrape of every greeter target', 90_000, async () => {
      const r = await prom.api<{ activeTargets: ScrapeTarget[] }>('/api/v1/targets?state=active');
      greeterTargets = r.data.activeTargets.filter((x) => x.labels.kubernetes_namespace === NS);
      return greeterTargets.length > 0 && greeterTargets.every((x) => Date.parse(x.lastScrape) > since);
    });
    t.diagnostic(`${greeterTargets.length} greeter scrape targets: ${greeterTargets.map((x) => `${x.labels.job}=${x.health}`).join(', ')}`);
    // Starter, translator, Temporal and the worker's two ports.
    assert.ok(greeterTargets.length >= 5, `expected the greeter pods among Prometheus' targets, got ${greeterTargets.length}`);
    assert.deepEqual(
      greeterTargets.filter((x) => x.health !== 'up').map((x) => `${x.labels.job} ${x.scrapeUrl}: ${x.lastError}`),
      [],
      'greeter targets Prometheus cannot scrape through the policies',
    );
  });
});
