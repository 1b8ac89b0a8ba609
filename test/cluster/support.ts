// Helpers for the cluster suite (npm run test:cluster): kubectl and helm against the current
// KUBECONFIG, Services reached from this host, the worker's replica timeline, and reports.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { auditWorkflows, startedBetween, withTemporal } from '@greeter/loadtest/audit';
import type { ReplicaSample } from '@greeter/loadtest/timeline';
import { ROOT } from '@greeter/scripts/devstack';

export { ROOT };
export const NS = 'greeter';
export const RELEASE = 'greeter';
export const WORKER = 'greeter-worker';
/** Where the suite writes its reports (the committed ones are copies of a run's). */
export const REPORT_DIR = process.env.GREETER_REPORT_DIR ?? path.join(ROOT, '.greeter', 'cluster-reports');
export const K6_OUT = path.join(REPORT_DIR, 'k6');

const execFileAsync = promisify(execFile);

export function kubectl(...args: string[]): string {
  try {
    return execFileSync('kubectl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

export async function kubectlAsync(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('kubectl', args, { encoding: 'utf8', timeout: 60_000 });
  return stdout.trim();
}

export function kubectlJson<T>(...args: string[]): T {
  return JSON.parse(kubectl(...args, '-o', 'json')) as T;
}

export function helm(...args: string[]): { status: number | null; out: string } {
  try {
    return { status: 0, out: execFileSync('helm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 }) };
  } catch (err) {
    const e = err as { status: number | null; stdout?: string; stderr?: string };
    return { status: e.status ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** `helm upgrade` of the release with its current values plus `sets` (--wait unless told not to). */
export function upgradeRelease(sets: readonly string[], wait = true): { status: number | null; out: string } {
  const args = ['upgrade', RELEASE, path.join(ROOT, 'charts', 'greeter'), '-n', NS, '--reuse-values', '--timeout', '5m'];
  return helm(...args, ...sets.flatMap((s) => ['--set', s]), ...(wait ? ['--wait'] : []));
}

/** One jsonpath of the worker Deployment, e.g. '{.spec.replicas}'. */
export function workerField(jsonpath: string): string {
  return kubectl('-n', NS, 'get', 'deployment', WORKER, '-o', `jsonpath=${jsonpath}`);
}

interface PodList {
  items: Array<{
    metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
    spec: { containers: Array<{ image: string }> };
    status: {
      phase: string;
      conditions?: Array<{ type: string; status: string }>;
      containerStatuses?: Array<{
        name: string;
        ready: boolean;
        restartCount: number;
        imageID: string;
        containerID?: string;
        state: Record<string, unknown>;
      }>;
    };
  }>;
}

export function pods(ns: string, selector?: string): PodList['items'] {
  return kubectlJson<PodList>('-n', ns, 'get', 'pods', ...(selector ? ['-l', selector] : [])).items;
}

export const isReady = (p: PodList['items'][number]) =>
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true && !p.metadata.deletionTimestamp;

const forwards: ChildProcess[] = [];

/**
 * A Service's base URL as reachable from this host. The local cluster routes the Service CIDR
 * from the host (GREETER_CLUSTER_ROUTED=1, set by scripts/test-cluster.sh), so the ClusterIP is
 * used as is; on kind or a cloud cluster a `kubectl port-forward` is started (and stopped by
 * stopForwards()).
 */
export async function serviceUrl(ns: string, name: string, port: number, scheme = 'http'): Promise<string> {
  if (process.env.GREETER_CLUSTER_ROUTED === '1') {
    const ip = kubectl('-n', ns, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}');
    return `${scheme}://${ip}:${port}`;
  }
  const child = spawn('kubectl', ['-n', ns, 'port-forward', `service/${name}`, `:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  forwards.push(child);
  const local = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`port-forward to ${ns}/${name}:${port} did not start: ${seen}`)), 20_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`port-forward to ${ns}/${name} exited ${code}: ${seen}`)));
  });
  return `${scheme}://127.0.0.1:${local}`;
}

export function stopForwards(): void {
  for (const c of forwards.splice(0)) c.kill('SIGTERM');
}

interface Deployment {
  spec: { replicas?: number };
  status: { readyReplicas?: number; updatedReplicas?: number; replicas?: number };
}
interface Hpa {
  status: {
    currentMetrics?: Array<{
      type: string;
      resource?: { name: string; current: { averageUtilization?: number } };
      external?: { metric: { name: string }; current: { value?: string; averageValue?: string } };
    }>;
  };
}

/** A Kubernetes quantity as the HPA reports External metric values ("350m", "2", "1500m"). */
export function quantity(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^(-?[0-9.]+)(m|k|M)?$/.exec(q);
  if (!m) return undefined;
  const scale = { m: 1e-3, k: 1e3, M: 1e6 }[m[2] as 'm' | 'k' | 'M'] ?? 1;
  return Number(m[1]) * scale;
}

/** Samples the worker Deployment and its HPA every `everyMs` until stopped; prints a line per sample. */
export function watchReplicas(everyMs = 5_000, log = (line: string) => console.error(line)): { stop: () => Promise<ReplicaSample[]> } {
  const samples: ReplicaSample[] = [];
  let running = true;
  const t0 = Date.now();
  const loop = (async () => {
    while (running) {
      try {
        const d = JSON.parse(await kubectlAsync('-n', NS, 'get', 'deployment', WORKER, '-o', 'json')) as Deployment;
        const h = JSON.parse(await kubectlAsync('-n', NS, 'get', 'hpa', WORKER, '-o', 'json').catch(() => '{"status":{}}')) as Hpa;
        const cpu = h.status.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current
          .averageUtilization;
        const external = (part: string) =>
          h.status.currentMetrics?.find((m) => m.type === 'External' && m.external?.metric.name.includes(part))?.external?.current;
        const slots = quantity(external('slot_utilization')?.value);
        const backlogPerWorker = quantity(external('backlog')?.averageValue);
        const s = { at: Date.now(), ready: d.status.readyReplicas ?? 0, desired: d.spec.replicas ?? 0, cpu, slots, backlogPerWorker };
        samples.push(s);
        log(
          `[cluster] t=${Math.round((s.at - t0) / 1000)}s worker pods ready ${s.ready}/${s.desired}, CPU ${cpu ?? '?'} % of request, slots ${slots ?? '?'}, backlog/worker ${backlogPerWorker ?? '?'}`,
        );
      } catch (err) {
        log(`[cluster] replica sample failed: ${String(err)}`);
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

export function writeReport(name: string, files: Record<string, string>): string[] {
  mkdirSync(REPORT_DIR, { recursive: true });
  return Object.entries(files).map(([ext, text]) => {
    const file = path.join(REPORT_DIR, `${name}.${ext}`);
    writeFileSync(file, text);
    return file;
  });
}

/**
 * Waits until `fn` returns true, polling every `everyMs` (not scripts/stack's 200 ms waitFor: each
 * probe here is a kubectl process, and the machine is busy with the load being measured).
 */
export async function until(what: string, ms: number, fn: () => boolean | Promise<boolean>, everyMs = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000}s`);
    await sleep(everyMs);
  }
}

export interface ActivityAudit {
  workflows: number;
  /** Activities that needed more than one attempt (a timeout or a failed call was retried). */
  retried: number;
  /** ActivityTaskTimedOut events (an activity that ran out of attempts by timing out). */
  timedOut: number;
  open: number;
}

/**
 * Reads the history of every GreetSomeone started in [fromMs, toMs] and counts activity
 * retries: the ActivityTaskStarted event records the attempt that completed, so attempt > 1
 * means an earlier attempt timed out or failed. This is the server's own record, not a metric.
 */
export async function auditActivities(temporalAddress: string, fromMs: number, toMs: number): Promise<ActivityAudit> {
  const { records } = await withTemporal(temporalAddress, (client) => auditWorkflows(client, { query: startedBetween(fromMs, toMs) }));
  return {
    workflows: records.length,
    retried: records.reduce((n, r) => n + r.retriedAfterTimeout + r.retriedAfterFailure, 0),
    timedOut: records.reduce((n, r) => n + r.timedOut, 0),
    open: records.filter((r) => r.status === 'RUNNING').length,
  };
}
