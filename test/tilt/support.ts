// Shared helpers of the offline Tilt checks: the evaluator (eval_tiltfile.py runs the Tiltfile
// against stand-ins for the Tilt API), its result types, YAML reading and the README section.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

import { ROOT } from '@greeter/scripts/devstack';

export { ROOT };
export const EVALUATOR = path.join(ROOT, 'test', 'tilt', 'eval_tiltfile.py');
export const README = path.join(ROOT, 'README.md');

export type Obj = Record<string, unknown>;
export interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Obj;
  data?: Record<string, string>;
}
export interface DockerBuild {
  ref: string;
  context: string;
  dockerfile: string;
  dockerfile_contents?: string;
  target: string;
  live_update: Array<{ type: string; local?: string; remote?: string; files?: string[]; cmd?: string | string[] }>;
  with_restart: boolean;
  restart_file?: string;
}
export interface PortForward {
  local_port: number;
  container_port: number;
  name: string | null;
}
export interface K8sResource {
  workload: string;
  new_name: string;
  port_forwards: Array<PortForward | number | string>;
  resource_deps: string[];
  objects: string[];
  labels: string[];
}
export interface LocalResource {
  name: string;
  cmd: string | string[];
  serve_cmd: string | string[];
  readiness_probe: Obj | null;
  links: Array<{ url: string; name: string }>;
  resource_deps: string[];
  auto_init: boolean;
  trigger_mode: string | null;
  labels: string[];
}
export interface HelmResource {
  name: string;
  chart: string;
  release_name: string;
  namespace: string;
  flags: string[];
  resource_deps: string[];
  labels: string[];
}
export interface Evaluation {
  config: { definitions: Record<string, { type: string }>; values: Record<string, unknown> };
  docker_builds: DockerBuild[];
  helm: Array<{ chart: string; name: string; namespace: string; values: string[]; set: string[] }>;
  objects: K8sObject[];
  k8s_resources: K8sResource[];
  local_resources: LocalResource[];
  helm_resources: HelmResource[];
  helm_repos: Array<{ name: string; url: string; resource_name: string; labels: string[] }>;
  warnings: string[];
}

/** Runs the Tiltfile through the evaluator with `tilt up -- ARGS` (kube context kind-greeter unless given). */
export function evaluate(tiltArgs: string[], opts: { context?: string } = {}): Evaluation {
  let out: string;
  const context = opts.context ? ['--context', opts.context] : [];
  try {
    out = execFileSync('python3', [EVALUATOR, ...context, '--', ...tiltArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    let detail = e.stderr ?? '';
    try {
      detail = (JSON.parse(e.stdout ?? '') as { error: string }).error;
    } catch {
      /* not JSON: keep stderr */
    }
    throw new Error(`Tiltfile evaluation with [${tiltArgs.join(' ')}] failed:\n${detail}`);
  }
  return JSON.parse(out) as Evaluation;
}

export function yamlDocs(text: string, where: string): unknown[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) {
    assert.equal(d.errors.length, 0, `${where}: YAML errors: ${d.errors.map((e) => e.message).join('; ')}`);
  }
  return docs.map((d) => d.toJSON() as unknown).filter((d) => d !== null && d !== undefined);
}

export function readYaml(rel: string): Obj {
  const file = path.join(ROOT, rel);
  assert.ok(existsSync(file), `${rel} should exist`);
  const [doc] = yamlDocs(readFileSync(file, 'utf8'), rel);
  return (doc ?? {}) as Obj;
}

export function dig(o: unknown, keys: string[]): unknown {
  let cur = o;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[k];
  }
  return cur;
}

/** The machine-readable header every upstream values file starts with. */
export function valuesHeader(rel: string): { chart: string; repo: string; version: string } {
  const lines = readFileSync(path.join(ROOT, rel), 'utf8').split('\n');
  const head: string[] = [];
  for (const l of lines) {
    if (!l.startsWith('#')) break;
    head.push(l);
  }
  const field = (name: string): string => {
    const m = head.map((l) => new RegExp(`^# ${name}: (\\S+)\\s*$`).exec(l)).find((x) => x !== null);
    assert.ok(m, `${rel}: the leading comment should have a "# ${name}: ..." line, got:\n${head.join('\n')}`);
    return m[1]!;
  };
  return { chart: field('chart'), repo: field('repo'), version: field('version') };
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

export interface Container {
  name: string;
  image: string;
  ports?: Array<{ containerPort: number; name?: string }>;
}
export function containersOf(o: K8sObject): Container[] {
  return (dig(o, ['spec', 'template', 'spec', 'containers']) as Container[] | undefined) ?? [];
}

export function dockerStages(dockerfile: string): string[] {
  return [...readFileSync(dockerfile, 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)\s*$/gim)].map((m) => m[1]!.toLowerCase());
}

export function cmdText(c: string | string[]): string {
  return Array.isArray(c) ? c.join(' ') : c;
}

/** The README's Kubernetes section (between the kubernetes markers), '' when missing. */
export function readmeKubernetesSection(): string {
  const whole = existsSync(README) ? readFileSync(README, 'utf8') : '';
  return /<!-- kubernetes:start[^>]*-->([\s\S]*)<!-- kubernetes:end -->/.exec(whole)?.[1] ?? '';
}
