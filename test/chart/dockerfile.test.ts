// The Dockerfile, checked without a Docker engine: focused lint rules (pinned glibc base,
// numeric non-root user, exec-form CMD with node, no remote ADD, production-only deps), and
// each runtime stage rebuilt from its own COPY/RUN lines in a temp dir and started with the
// stage's ENV until /readyz answers (worker and starter against a real Temporal dev server).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { chain, copyLines, envOfStage, last, materialize, parseDockerfile, workdirOf, type Dockerfile } from './dockerfile';
import { freePort } from '@greeter/scripts/devstack';
import { CHART, cleanEnv, ROOT, start, stop, temporalDevArgs, waitForHttp, type Proc } from './support';

const SERVICES = ['translator', 'worker', 'starter'] as const;
type Service = (typeof SERVICES)[number];
const EXPOSED: Record<Service, string[]> = { translator: ['9999'], worker: ['9465', '9464'], starter: ['8080'] };
const df: Dockerfile = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));

describe('Dockerfile lint', () => {
  test('base images are pinned Debian-slim Node images at the version bootstrap installs (glibc, not Alpine)', () => {
    const bootstrap = readFileSync(path.join(ROOT, 'scripts', 'bootstrap.sh'), 'utf8');
    const nodeVersion = /^NODE_VERSION=(\S+)$/m.exec(bootstrap)?.[1];
    assert.ok(nodeVersion, 'scripts/bootstrap.sh must define NODE_VERSION');
    const bases = df.stages.filter((s) => !df.stages.some((x) => x.name === s.from)).map((s) => s.from);
    assert.ok(bases.length > 0);
    for (const image of bases) {
      assert.match(
        image,
        /^node:\d+\.\d+\.\d+-(\w+-)?slim(@sha256:[a-f0-9]{64})?$/,
        `base image ${image} must be pinned to node:<x.y.z>-slim`,
      );
      assert.doesNotMatch(image, /alpine|latest/, `${image}: Temporal's core bridge needs glibc`);
      assert.equal(
        /^node:(\d+\.\d+\.\d+)/.exec(image)?.[1],
        nodeVersion,
        `${image}: keep the image Node version equal to bootstrap's NODE_VERSION`,
      );
    }
  });

  test('no ADD (never of URLs), no curl/wget pipes, no latest tags', () => {
    for (const s of df.stages) {
      for (const ins of s.instructions) {
        assert.notEqual(ins.op, 'ADD', `line ${ins.line}: use COPY, not ADD`);
        assert.doesNotMatch(ins.args, /https?:\/\//, `line ${ins.line}: no downloads in the build`);
      }
    }
  });

  for (const svc of SERVICES) {
    test(`target ${svc}: numeric non-root USER, HOST=0.0.0.0, EXPOSE, exec-form CMD with node on the service entry point`, () => {
      const user = last(df, svc, 'USER');
      assert.ok(user, `${svc}: no USER`);
      const m = /^(\d+)(?::(\d+))?$/.exec(user.args);
      assert.ok(m, `${svc}: USER must be numeric (uid[:gid]) so runAsNonRoot can be verified, got ${user.args}`);
      assert.notEqual(Number(m[1]), 0, `${svc}: USER must not be root`);
      const env = envOfStage(df, svc);
      assert.equal(env.HOST, '0.0.0.0', `${svc}: the services bind 127.0.0.1 by default; a container must listen on all interfaces`);
      const exposed = chain(df, svc).flatMap((s) => s.instructions.filter((x) => x.op === 'EXPOSE').flatMap((x) => x.args.split(/\s+/)));
      assert.deepEqual(exposed.sort(), [...EXPOSED[svc]].sort(), `${svc}: EXPOSE`);
      const cmd = last(df, svc, 'CMD');
      assert.ok(cmd, `${svc}: no CMD`);
      const argv = JSON.parse(cmd.args) as unknown;
      assert.deepEqual(argv, ['node', `services/${svc}/dist/src/main.js`], `${svc}: CMD must be exec form with node as PID 1`);
      assert.equal(last(df, svc, 'ENTRYPOINT'), undefined, `${svc}: no ENTRYPOINT wrapper (node must receive SIGTERM)`);
      // Runtime images get production dependencies only: nothing copied from the build stage's node_modules.
      for (const s of chain(df, svc)) {
        for (const c of copyLines(s)) {
          if (c.from === 'build')
            assert.ok(
              c.sources.every((x) => /\/dist$/.test(x)),
              `line ${c.line}: copy only compiled dist from the build stage, not ${c.sources.join(' ')}`,
            );
        }
      }
    });
  }

  test('build stage: npm ci, tsc -b and the workflow prebundle; deps stages: npm ci --omit=dev for one workspace', () => {
    const build = df.stages.find((s) => s.name === 'build');
    assert.ok(build);
    const runs = build.instructions
      .filter((x) => x.op === 'RUN')
      .map((x) => x.args)
      .join('\n');
    assert.match(runs, /npm ci\b/);
    assert.match(runs, /tsc -b/);
    assert.match(runs, /build-workflow-bundle\.js/);
    for (const svc of SERVICES) {
      const from = copyLines(df.stages.find((s) => s.name === svc)!).map((c) => c.from);
      const depsStage = from.find((f) => f?.startsWith('deps-'));
      assert.ok(depsStage, `${svc}: runtime must copy its production dependencies from a deps stage`);
      const run = df.stages.find((s) => s.name === depsStage)!.instructions.find((x) => x.op === 'RUN')!.args;
      assert.match(run, /npm ci .*--omit=dev/, `${depsStage}: production install`);
      assert.match(run, new RegExp(`--workspace=services/${svc}\\b`), `${depsStage}: only the ${svc} workspace`);
    }
  });

  test('worker image: WORKER_WORKFLOW_BUNDLE points at the copied prebundle and equals the chart default', () => {
    const env = envOfStage(df, 'worker');
    const values = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as { worker: { workflowBundlePath: string } };
    assert.equal(env.WORKER_WORKFLOW_BUNDLE, values.worker.workflowBundlePath);
    assert.ok(
      env.WORKER_WORKFLOW_BUNDLE?.startsWith(`${workdirOf(df, 'worker')}/services/worker/dist/`),
      'the bundle must be inside the copied worker dist',
    );
  });

  test('.dockerignore keeps local installs and build output out of the context', () => {
    const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist']) assert.ok(ignore.includes(p), `.dockerignore must contain ${p}`);
  });
});

// ---------------------------------------------------------------------------------------------
// Runtime stages rebuilt offline and started, on ports allocated per run.
const P = { translator: 0, worker: 0, workerCore: 0, starter: 0, grpc: 0, ui: 0, metrics: 0, http: 0 };

describe('runtime images, rebuilt from the Dockerfile in a temp dir, start and serve', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'greeter-image-'));
  const roots = new Map<Service, string>();
  const procs: Proc[] = [];
  let temporal: Proc;

  before(async () => {
    for (const k of Object.keys(P) as Array<keyof typeof P>) P[k] = await freePort();
    const done = new Map<string, string>();
    for (const svc of SERVICES) {
      roots.set(
        svc,
        materialize(df, svc, { context: ROOT, scratch, prebuiltStage: 'build', prebuiltExcludes: /(^|\/)dist\/test(\/|$)/ }, done),
      );
    }
    temporal = start('temporal', 'temporal', temporalDevArgs(P, path.join(scratch, 'temporal.db')), { env: cleanEnv() });
    procs.push(temporal);
    await waitForHttp(`http://127.0.0.1:${P.metrics}/metrics`, temporal, 90_000);
  });

  after(async () => {
    for (const p of procs.reverse()) await stop(p);
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Starts the stage's CMD with its ENV (paths under WORKDIR mapped into the temp root), plus loopback overrides. */
  function startImage(svc: Service, overrides: Record<string, string>): Proc {
    const root = roots.get(svc)!;
    const wd = workdirOf(df, svc);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(envOfStage(df, svc))) env[k] = v.startsWith(`${wd}/`) ? path.join(root, v) : v;
    const argv = JSON.parse(last(df, svc, 'CMD')!.args) as string[];
    assert.equal(argv[0], 'node');
    const proc = start(`${svc} (image layout)`, process.execPath, argv.slice(1), {
      cwd: path.join(root, wd),
      env: { ...cleanEnv(), ...env, ...overrides },
    });
    procs.push(proc);
    return proc;
  }

  test('the runtime layouts hold production dependencies only', () => {
    for (const svc of SERVICES) {
      const nm = path.join(roots.get(svc)!, workdirOf(df, svc), 'node_modules');
      assert.ok(existsSync(path.join(nm, '@greeter', 'shared')), `${svc}: @greeter/shared link missing`);
      for (const dev of ['typescript', 'eslint', 'prettier', 'ajv-cli', '@temporalio/testing'])
        assert.ok(!existsSync(path.join(nm, dev)), `${svc}: dev dependency ${dev} in the runtime image`);
    }
    assert.ok(
      !existsSync(path.join(roots.get('translator')!, 'app', 'node_modules', '@temporalio')),
      'translator must not carry the Temporal SDK',
    );
  });

  test('translator image answers /readyz and translates', async () => {
    const p = startImage('translator', { HOST: '127.0.0.1', PORT: String(P.translator), LOG_LEVEL: 'warn' });
    await waitForHttp(`http://127.0.0.1:${P.translator}/readyz`, p);
    const res = await fetch(`http://127.0.0.1:${P.translator}/get-spanish-greeting?name=Maria`);
    assert.equal(await res.text(), '¡Hola, Maria!');
  });

  test('worker image starts from the prebundled workflow code and becomes ready against Temporal', async () => {
    const p = startImage('worker', {
      HOST: '127.0.0.1',
      PORT: String(P.worker),
      WORKER_METRICS_PORT: String(P.workerCore),
      TEMPORAL_ADDRESS: `127.0.0.1:${P.grpc}`,
      TRANSLATOR_URL: `http://127.0.0.1:${P.translator}`,
      LOG_LEVEL: 'warn',
    });
    await waitForHttp(`http://127.0.0.1:${P.worker}/readyz`, p, 90_000);
    assert.ok(
      existsSync(envOfStage(df, 'worker').WORKER_WORKFLOW_BUNDLE!.replace(/^\/app/, path.join(roots.get('worker')!, 'app'))),
      'bundle present in the layout',
    );
  });

  test('starter image becomes ready and a greeting goes through all three image layouts', async () => {
    const p = startImage('starter', {
      HOST: '127.0.0.1',
      PORT: String(P.starter),
      TEMPORAL_ADDRESS: `127.0.0.1:${P.grpc}`,
      LOG_LEVEL: 'warn',
    });
    await waitForHttp(`http://127.0.0.1:${P.starter}/readyz`, p, 90_000);
    const res = await fetch(`http://127.0.0.1:${P.starter}/greetings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Maria' }),
    });
    const body = (await res.json()) as { result?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.result, '¡Hola, Maria!\n¡Adiós, Maria!');
  });

  test('each image process exits 0 on SIGTERM (node is PID 1 and drains)', async () => {
    for (const p of procs.filter((x) => x !== temporal).reverse()) {
      const code = await stop(p);
      assert.equal(code, 0, `${p.name} exited ${code}:\n${p.output()}`);
    }
  });
});
