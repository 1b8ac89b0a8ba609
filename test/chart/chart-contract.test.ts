// Keeps the chart and the services in step: the env each container gets is exactly what the
// service reads (plus telemetry), and the ports, probe paths, metrics endpoints, dev-server
// arguments and the helm test hook work against the real compiled services and a real
// Temporal dev server started with the chart's own settings.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { INLINE_TLS_VARIABLES, RENAMED_TEMPORAL_VARIABLES, UNSUPPORTED_TEMPORAL_VARIABLES } from '@greeter/shared/temporal';
import { startTelemetry } from '@greeter/shared/telemetry';
import { freePort } from '@greeter/scripts/devstack';
import {
  cleanEnv,
  envOf,
  mustFind,
  parseObjects,
  podOf,
  profiles,
  render,
  ROOT,
  run,
  start,
  stop,
  waitForHttp,
  type Container,
  type K8sObject,
  type Proc,
  type Probe,
} from './support';

type Env = Readonly<Record<string, string | undefined>>;
type ReadConfig = (env: Env) => unknown;
const SERVICES = ['translator', 'worker', 'starter'] as const;
type Service = (typeof SERVICES)[number];

// The compiled services, loaded from the repository (the translator is not a project reference of test/).
function readConfigOf(service: Service): ReadConfig {
  const mod = require(path.join(ROOT, 'services', service, 'dist', 'src', 'config.js')) as { readConfig: ReadConfig };
  return mod.readConfig;
}

/** Every variable a function reads from the env it is given, by a recording Proxy. */
function reads(fn: (env: Env) => unknown, answer: (name: string) => string | undefined = () => undefined): Set<string> {
  const seen = new Set<string>();
  const env = new Proxy(
    {},
    {
      get(_t, k) {
        if (typeof k !== 'string') return undefined;
        seen.add(k);
        return answer(k);
      },
    },
  );
  fn(env);
  return seen;
}

// Telemetry: what startTelemetry reads itself (recorded; SDK off so nothing starts here) plus
// the standard variables the OpenTelemetry SDK reads from process.env on its own.
const SDK_VARS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_SDK_DISABLED',
];
function telemetryVars(): Set<string> {
  const r = reads(
    (env) => startTelemetry({ serviceName: 'probe', serviceVersion: '0' }, env),
    (k) => (k === 'OTEL_SDK_DISABLED' ? 'true' : undefined),
  );
  return new Set([...r, ...SDK_VARS, 'NODE_OPTIONS']);
}

// Read by the services but, on purpose, never set by the chart: greeter's old TEMPORAL_TLS_* names
// and the standard variables greeter cannot honour (read only to refuse them at start-up), inline
// PEM data (the chart mounts files from Secrets, so no secret is in values), and the temporal.toml
// profile and its default location (for the CLI and local runs; the chart sets the variables).
const NOT_FROM_THE_CHART = new Set([
  ...Object.keys(RENAMED_TEMPORAL_VARIABLES),
  ...Object.keys(UNSUPPORTED_TEMPORAL_VARIABLES),
  ...INLINE_TLS_VARIABLES,
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
  'HOME',
  'XDG_CONFIG_HOME',
]);

// Set in every profile because the defaults of the code are wrong in a cluster (or the wiring depends on them).
const ALWAYS: Record<Service, string[]> = {
  translator: ['HOST', 'PORT', 'LOG_LEVEL', 'SHUTDOWN_GRACE_MS', 'SHUTDOWN_DELAY_MS'],
  worker: [
    'HOST',
    'PORT',
    'LOG_LEVEL',
    'SHUTDOWN_GRACE_MS',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'TEMPORAL_TASK_QUEUE',
    'TRANSLATOR_URL',
    'WORKER_METRICS_PORT',
    'WORKER_MAX_CONCURRENT_ACTIVITIES',
    'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
    'WORKER_WORKFLOW_BUNDLE',
  ],
  starter: [
    'HOST',
    'PORT',
    'LOG_LEVEL',
    'SHUTDOWN_GRACE_MS',
    'SHUTDOWN_DELAY_MS',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'TEMPORAL_TASK_QUEUE',
  ],
};
const ALWAYS_TELEMETRY = [
  'NODE_OPTIONS',
  'OTEL_SERVICE_NAME',
  'K8S_POD_NAME',
  'K8S_NAMESPACE_NAME',
  'K8S_NODE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
];

function container(objs: readonly K8sObject[], service: string): Container {
  const c = podOf(mustFind(objs, 'Deployment', `greeter-${service}`))!.spec.containers.find((x) => x.name === service);
  assert.ok(c, `greeter-${service} has no container named ${service}`);
  return c;
}

/** The env a container gets, as Kubernetes resolves it ($(VAR) expansion, downward API), with overrides. */
function resolveEnv(c: Container, overrides: Record<string, string | undefined>): Record<string, string> {
  const fake: Record<string, string> = {
    'metadata.name': `greeter-${c.name}-7d9f8-abcde`,
    'metadata.namespace': 'greeter',
    'spec.nodeName': 'kind-control-plane',
  };
  const out: Record<string, string> = {};
  for (const e of c.env ?? []) {
    let v: string | undefined;
    if (e.value !== undefined) v = e.value.replace(/\$\(([A-Z0-9_]+)\)/g, (m, name: string) => out[name] ?? m);
    else if (e.valueFrom?.fieldRef) v = fake[e.valueFrom.fieldRef.fieldPath];
    else if (e.valueFrom?.secretKeyRef) v = 'from-a-secret';
    if (v !== undefined) out[e.name] = v;
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

describe('chart <-> services env contract', () => {
  const telemetry = telemetryVars();

  for (const service of SERVICES) {
    test(`${service}: the chart sets only variables the service reads, always the required ones, and together the profiles cover all of them`, () => {
      const read = reads(readConfigOf(service));
      const covered = new Set<string>();
      for (const p of profiles()) {
        const c = container(parseObjects(render(p)), service);
        const names = (c.env ?? []).map((e) => e.name);
        assert.equal(new Set(names).size, names.length, `${p.name}/${service}: duplicate env names ${names.join(', ')}`);
        const unknown = names.filter((n) => (!read.has(n) || NOT_FROM_THE_CHART.has(n)) && !telemetry.has(n));
        assert.deepEqual(unknown, [], `${p.name}/${service}: the chart sets variables the service never reads`);
        const missing = [...ALWAYS[service], ...ALWAYS_TELEMETRY].filter((n) => !names.includes(n));
        assert.deepEqual(missing, [], `${p.name}/${service}: required variables not set`);
        assert.equal(
          names.at(-1),
          'OTEL_RESOURCE_ATTRIBUTES',
          `${p.name}/${service}: OTEL_RESOURCE_ATTRIBUTES must come last (it expands the K8S_* variables)`,
        );
        names.forEach((n) => covered.add(n));
        // The values the chart renders must pass the service's own validation.
        assert.doesNotThrow(() => readConfigOf(service)(resolveEnv(c, {})), `${p.name}/${service}: the rendered env fails readConfig`);
      }
      const neverSet = [...read].filter((n) => !covered.has(n) && !NOT_FROM_THE_CHART.has(n));
      assert.deepEqual(neverSet, [], `${service}: variables the service reads that no profile of the chart can set`);
    });
  }

  test('PORT and WORKER_METRICS_PORT equal the named container ports', () => {
    for (const p of profiles()) {
      const objs = parseObjects(render(p));
      for (const service of SERVICES) {
        const c = container(objs, service);
        const ports = Object.fromEntries((c.ports ?? []).map((x) => [x.name, String(x.containerPort)]));
        const env = envOf(c);
        assert.equal(env.get('PORT')?.value, ports.http, `${p.name}/${service}: PORT vs port http`);
        if (service === 'worker')
          assert.equal(env.get('WORKER_METRICS_PORT')?.value, ports['core-metrics'], `${p.name}: WORKER_METRICS_PORT vs port core-metrics`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Live: the kind profile's containers, run from the compiled repository on loopback ports.
// container port -> local port, allocated per run (so test files can run side by side)
const PORTS: Record<string, number> = {};
const CONTAINER_PORTS = ['7233', '7243', '8233', '9233', '9999', '9465', '9464', '8080'];
const local = (containerPort: number | string): number => {
  const p = PORTS[String(containerPort)];
  assert.ok(p, `no local port mapped for container port ${containerPort}`);
  return p;
};

function portOf(c: Container, ref: string | number): number {
  if (typeof ref === 'number') return ref;
  const p = c.ports?.find((x) => x.name === ref);
  assert.ok(p, `${c.name}: probe refers to unknown port ${ref}`);
  return p.containerPort;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.end(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('the chart runs the real services (kind profile, on loopback)', () => {
  const objs = parseObjects(render(profiles().find((p) => p.name === 'kind')!));
  const procs: Proc[] = [];
  const started = new Map<string, Proc>();
  const dir = mkdtempSync(path.join(tmpdir(), 'greeter-chart-live-'));

  before(async () => {
    for (const p of CONTAINER_PORTS) PORTS[p] = await freePort();
    // Temporal dev server with the chart's own arguments (loopback, local ports, a temp db).
    const t = podOf(mustFind(objs, 'Deployment', 'greeter-temporal'))!.spec.containers[0]!;
    const args = (t.args ?? []).map((a) => {
      const m = /^--(ip|port|http-port|ui-port|metrics-port|db-filename)=(.*)$/.exec(a);
      if (!m) return a;
      if (m[1] === 'ip') return '--ip=127.0.0.1';
      if (m[1] === 'db-filename') return `--db-filename=${path.join(dir, 'temporal.db')}`;
      return `--${m[1]}=${local(m[2]!)}`;
    });
    const temporal = start('temporal', 'temporal', args, { env: cleanEnv() });
    procs.push(temporal);
    started.set('temporal', temporal);
    await waitForHttp(`http://127.0.0.1:${local(9233)}/metrics`, temporal, 90_000);

    for (const service of SERVICES) {
      const c = container(objs, service);
      const env = resolveEnv(c, {
        HOST: '127.0.0.1',
        PORT: String(local(portOf(c, 'http'))),
        WORKER_METRICS_PORT: service === 'worker' ? String(local(portOf(c, 'core-metrics'))) : undefined,
        TEMPORAL_ADDRESS: service === 'translator' ? undefined : `127.0.0.1:${local(7233)}`,
        TRANSLATOR_URL: service === 'worker' ? `http://127.0.0.1:${local(9999)}` : undefined,
        WORKER_WORKFLOW_BUNDLE: service === 'worker' ? path.join(ROOT, 'services/worker/dist/workflow-bundle.js') : undefined,
        // No collector here; spans are still created (trace ids), just not exported.
        OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
        LOG_LEVEL: 'warn',
      });
      const proc = start(service, process.execPath, [path.join(ROOT, 'services', service, 'dist', 'src', 'main.js')], {
        env: { ...cleanEnv(), ...env },
      });
      procs.push(proc);
      started.set(service, proc);
      const probe = c.readinessProbe!.httpGet!;
      await waitForHttp(`http://127.0.0.1:${local(portOf(c, probe.port))}${probe.path}`, proc, 90_000);
    }
  });

  after(async () => {
    for (const p of procs.reverse()) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  });

  test('every httpGet probe of every container answers 200 on the port it names; tcpSocket probes connect', async () => {
    for (const name of ['temporal', ...SERVICES]) {
      const c = podOf(mustFind(objs, 'Deployment', `greeter-${name}`))!.spec.containers[0]!;
      for (const [kind, probe] of Object.entries<Probe | undefined>({
        startup: c.startupProbe,
        liveness: c.livenessProbe,
        readiness: c.readinessProbe,
      })) {
        assert.ok(probe, `${name}: ${kind} probe missing`);
        if (probe.httpGet) {
          const url = `http://127.0.0.1:${local(portOf(c, probe.httpGet.port))}${probe.httpGet.path}`;
          const res = await fetch(url);
          assert.equal(res.status, 200, `${name} ${kind} probe ${url} answered ${res.status}: ${await res.text()}`);
        } else if (probe.tcpSocket) {
          assert.ok(
            await tcpOpen(local(portOf(c, probe.tcpSocket.port))),
            `${name} ${kind} tcpSocket probe: port ${probe.tcpSocket.port} closed`,
          );
        } else assert.fail(`${name} ${kind} probe has neither httpGet nor tcpSocket`);
      }
    }
  });

  test('every ServiceMonitor endpoint serves Prometheus metrics; the worker core port has temporal_* series', async () => {
    const monitors = objs.filter((o) => o.kind === 'ServiceMonitor');
    assert.equal(monitors.length, 4, 'kind profile: ServiceMonitors for starter, translator, worker, temporal');
    for (const m of monitors) {
      const c = podOf(mustFind(objs, 'Deployment', m.metadata.name))!.spec.containers[0]!;
      for (const ep of m.spec?.endpoints as { port: string; path: string }[]) {
        const url = `http://127.0.0.1:${local(portOf(c, ep.port))}${ep.path}`;
        const res = await fetch(url);
        const body = await res.text();
        assert.equal(res.status, 200, `${m.metadata.name} ${ep.port}: ${url} answered ${res.status}`);
        assert.match(body, /^# (HELP|TYPE) /m, `${m.metadata.name} ${ep.port}: not Prometheus text`);
        if (ep.port === 'core-metrics')
          assert.match(body, /^temporal_/m, 'worker core-metrics port must serve Temporal Core (temporal_*) series');
      }
    }
  });

  test('the helm test hook script gets a greeting and a farewell from the real starter', () => {
    const hook = mustFind(objs, 'Pod', 'greeter-test-greeting');
    const c = podOf(hook)!.spec.containers[0]!;
    const env = resolveEnv(c, { STARTER_URL: `http://127.0.0.1:${local(8080)}/greetings` });
    const r = run(c.command![0]!, [...c.command!.slice(1), ...(c.args ?? [])], { env: { ...cleanEnv(), ...env } });
    assert.equal(r.status, 0, `helm test script failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /¡Hola, Maria!/);
  });

  test('the services exit 0 on SIGTERM (what Kubernetes sends), within the grace period', async () => {
    for (const service of [...SERVICES].reverse()) {
      const p = started.get(service)!;
      const tgps = podOf(mustFind(objs, 'Deployment', `greeter-${service}`))!.spec.terminationGracePeriodSeconds!;
      const code = await stop(p, tgps * 1000);
      assert.equal(code, 0, `${service} exited ${code} after SIGTERM:\n${p.output()}`);
    }
  });
});
