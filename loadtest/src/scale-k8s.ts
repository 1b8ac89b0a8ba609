// The scale experiment on a real cluster (--mode k8s): scales the worker Deployment
// with kubectl (or leaves it to the HPA with --hpa), drives load at the starter, and
// reads throughput from Prometheus. Written for clusters; it cannot run on this machine.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from './driver';
import { hpaDesiredReplicas, promValue } from './prom';
import { slotUtilizationQuery } from '@greeter/scripts/devstack';
import type { ScaleStep } from './report';
import { steadyStages } from './schedule';

export interface K8sScaleOptions {
  workers: number[];
  /** The starter as reachable from here, e.g. a port-forward to greeter-starter:8080. */
  url: string;
  /** Prometheus as reachable from here, e.g. a port-forward to kube-prometheus-stack-prometheus:9090. */
  prometheusUrl: string;
  namespace: string;
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** Do not scale: let the HPA act and record the replicas it chose. */
  hpa: boolean;
}

const DEPLOYMENT = 'deployment/greeter-worker';
const THROUGHPUT = 'sum(rate(temporal_workflow_completed{namespace="default", task_queue="greeting-tasks"}[1m]))';

function kubectl(ns: string, ...args: string[]): string {
  return execFileSync('kubectl', ['-n', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function readyReplicas(ns: string): number {
  return Number(kubectl(ns, 'get', DEPLOYMENT, '-o', 'jsonpath={.status.readyReplicas}') || '0');
}

export async function runScaleK8s(o: K8sScaleOptions): Promise<ScaleStep[]> {
  const steps: ScaleStep[] = [];
  const query = slotUtilizationQuery();
  // With --hpa there is one long step; the HPA picks the replicas.
  const plan = o.hpa ? [0] : o.workers;
  for (const n of plan) {
    if (!o.hpa) {
      kubectl(o.namespace, 'scale', DEPLOYMENT, `--replicas=${n}`);
      kubectl(o.namespace, 'rollout', 'status', DEPLOYMENT, '--timeout=180s');
    }
    const load = await runLoad({
      url: o.url,
      startRate: o.rate,
      stages: steadyStages(o.rate, o.warmupMs + o.measureMs),
      warmupMs: o.warmupMs,
      maxInFlight: Math.max(50, Math.ceil(o.rate * 5)),
      requestTimeoutMs: 60_000,
      onProgress: (line) => console.error(`${line}  replicas ${readyReplicas(o.namespace)}`),
    });
    // rate(...[1m]) needs the window to sit inside the measured load.
    await sleep(1_000);
    const throughput = (await promValue(o.prometheusUrl, THROUGHPUT)) ?? 0;
    const utilization = await promValue(o.prometheusUrl, query);
    const workers = readyReplicas(o.namespace);
    steps.push({
      workers,
      offeredRate: load.offeredRate,
      throughput,
      p50: load.latencyMs.p50,
      p95: load.latencyMs.p95,
      p99: load.latencyMs.p99,
      errors: load.failed,
      dropped: load.dropped,
      ...(utilization !== undefined && { utilization, hpaDesired: hpaDesiredReplicas(workers, utilization) }),
    });
  }
  return steps;
}
