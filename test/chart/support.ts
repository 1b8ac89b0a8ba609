// Shared helpers for the chart and image tests: rendering the chart with helm, parsing the
// objects, the offline kubeconform schemas, and starting/stopping local processes.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

import { Proc as DevProc, ROOT, waitForHttp } from '@greeter/scripts/devstack';

export { ROOT };
export const CHART = path.join(ROOT, 'charts', 'greeter');
export const GOLDEN_DIR = path.join(CHART, 'tests', 'golden');
export const RELEASE = 'greeter';
export const NAMESPACE = 'greeter';
export const KUBE_VERSION = '1.33.0';
/**
 * Golden files leave the dashboard ConfigMaps out: their JSON is owned and reviewed in
 * dashboards/, and would make every dashboard edit a chart diff. The policy test covers
 * that each dashboards/*.json becomes a ConfigMap unchanged.
 */
export const GOLDEN_SET = ['grafana.dashboards.enabled=false'];
/**
 * The CRD APIs of a cluster with the Prometheus Operator and Gateway API installed, as
 * `helm install` would see them. `helm template` sees none of a cluster's CRDs: without these
 * the chart leaves its monitors out (see NO_CRDS for that case).
 */
export const CLUSTER_APIS = [
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
  'gateway.networking.k8s.io/v1/HTTPRoute',
];
/** Offline JSON schemas for CRDs that scripts/k8s-schemas.sh does not provide (Gateway API). */
export const EXTRA_SCHEMAS = path.join(ROOT, 'test', 'chart', 'fixtures', 'schemas');

/** A values profile: "default" (values.yaml only) or one of charts/greeter/ci/*-values.yaml. */
export interface Profile {
  name: string;
  file: string | undefined;
}

export function profiles(): Profile[] {
  const ci = readdirSync(path.join(CHART, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => ({ name: f.replace(/-values\.yaml$/, ''), file: path.join(CHART, 'ci', f) }));
  return [{ name: 'default', file: undefined }, ...ci];
}

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, never throwing on a non-zero exit, so tests can assert on status and output. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  try {
    const stdout = execFileSync(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      input: opts.input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string; stderr?: string; message: string };
    return { status: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

export function helmTemplateArgs(
  valuesFiles: readonly string[],
  set: readonly string[] = [],
  apis: readonly string[] = CLUSTER_APIS,
): string[] {
  return [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    ...apis.flatMap((a) => ['--api-versions', a]),
    ...valuesFiles.flatMap((f) => ['-f', f]),
    ...set.flatMap((s) => ['--set', s]),
  ];
}

/**
 * `helm template` output for a profile (plus extra values files / --set), failing loudly; by
 * default as on a cluster with the CLUSTER_APIS, `apis: []` for a fresh cluster.
 */
export function render(profile: Profile, extra: { files?: string[]; set?: string[]; apis?: readonly string[] } = {}): string {
  const files = [...(profile.file ? [profile.file] : []), ...(extra.files ?? [])];
  const r = run('helm', helmTemplateArgs(files, extra.set, extra.apis));
  if (r.status !== 0) throw new Error(`helm template (${profile.name}) failed with ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

// Just the parts of Kubernetes objects the tests read.
export interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: Record<string, unknown>; secret?: { secretName: string } }[];
}
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export function parseObjects(manifest: string): K8sObject[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object' && typeof o.kind === 'string');
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function mustFind(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = find(objects, kind, name);
  if (!o)
    throw new Error(
      `expected ${kind}/${name} in the rendered chart; found ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
    );
  return o;
}

/** The pod template of a workload, or the Pod's own spec and metadata. */
export function podOf(o: K8sObject): PodTemplate | undefined {
  if (o.kind === 'Pod')
    return { metadata: { labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {} }, spec: o.spec as unknown as PodSpec };
  const t = o.spec?.template as PodTemplate | undefined;
  return t && t.spec ? t : undefined;
}

export function envOf(c: Container): Map<string, EnvVar> {
  return new Map((c.env ?? []).map((e) => [e.name, e]));
}

/** Installs (or finds) the offline Kubernetes + CRD schemas via scripts/k8s-schemas.sh. */
export function schemaDir(): string {
  const r = run('bash', [path.join(ROOT, 'scripts', 'k8s-schemas.sh')]);
  const dir = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(dir)) throw new Error(`scripts/k8s-schemas.sh failed (${r.status}):\n${r.stderr}`);
  return dir;
}

export function kubeconformArgs(dir: string): string[] {
  return [
    '-strict',
    '-summary',
    '-output',
    'json',
    '-kubernetes-version',
    KUBE_VERSION,
    '-schema-location',
    `${dir}/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    '-schema-location',
    `${dir}/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
    '-schema-location',
    `${EXTRA_SCHEMAS}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
    '-',
  ];
}

/** A child process with its output kept for failure messages (the dev-stack Proc). */
export type Proc = DevProc;

export function start(name: string, cmd: string, args: readonly string[], opts: { cwd?: string; env: NodeJS.ProcessEnv }): Proc {
  const p = new DevProc({ name, cmd, args, baseEnv: opts.env, cwd: opts.cwd ?? ROOT });
  p.start();
  return p;
}

export { waitForHttp };

/** SIGTERM and wait; returns the exit code (SIGKILL after the deadline). */
export async function stop(proc: Proc, graceMs = 30_000): Promise<number | null> {
  return (await proc.stop(graceMs)) ?? null;
}

export function temporalDevArgs(ports: { grpc: number; ui: number; metrics: number; http: number }, dbFile: string): string[] {
  return [
    'server',
    'start-dev',
    '--ip=127.0.0.1',
    `--port=${ports.grpc}`,
    `--http-port=${ports.http}`,
    `--ui-port=${ports.ui}`,
    `--metrics-port=${ports.metrics}`,
    `--db-filename=${dbFile}`,
    '--headless',
  ];
}

/** Reads the process env for children, without inherited greeter/OTEL settings that would change behaviour. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(OTEL_|TEMPORAL_|WORKER_|STARTER_|TRANSLATOR_|K8S_)/.test(k) ||
      ['HOST', 'PORT', 'LOG_LEVEL', 'NODE_OPTIONS', 'SHUTDOWN_GRACE_MS', 'SHUTDOWN_DELAY_MS'].includes(k)
    )
      continue;
    env[k] = v;
  }
  return env;
}

/**
 * NOTES.txt as `helm install` would print it for the values files (helm renders NOTES only on
 * install, which needs a cluster): rendered through tpl from a copy of the chart.
 */
export function renderNotes(valuesFiles: readonly string[], apis: readonly string[] = CLUSTER_APIS): string {
  const tmp = mkdtempSync(path.join(tmpdir(), 'greeter-notes-'));
  try {
    const chart = path.join(tmp, 'greeter');
    cpSync(CHART, chart, { recursive: true });
    cpSync(path.join(chart, 'templates', 'NOTES.txt'), path.join(chart, 'notes-probe.txt'));
    writeFileSync(
      path.join(chart, 'templates', 'zz-notes-probe.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-probe\ndata:\n  notes: {{ tpl (.Files.Get "notes-probe.txt") . | quote }}\n',
    );
    const args = helmTemplateArgs(valuesFiles, [], apis).map((a) => (a === CHART ? chart : a));
    const r = run('helm', [...args, '--show-only', 'templates/zz-notes-probe.yaml']);
    if (r.status !== 0) throw new Error(`helm template of NOTES.txt failed: ${r.stderr}`);
    return mustFind(parseObjects(r.stdout), 'ConfigMap', 'notes-probe').data?.notes ?? '';
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
