// Secrets never leak: a canary Temporal API key, a canary path to the mTLS client key and the
// key's own PEM never show up in any service's stdout/stderr, error bodies, probe answers,
// /metrics or the traces in Jaeger. Real paths both ways: the worker and the starter reach the
// real dev server through a TLS-terminating proxy (mTLS with certificates made by openssl,
// the API key sent as metadata) and greetings complete; pointed at the plaintext dev server
// with the same secrets, they fail to connect with a clear reason; and a key path that does
// not exist stops start-up naming the variable only.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import {
  Proc,
  devServerArgs,
  devServerReady,
  findOnPath,
  freePort,
  serviceMain,
  startService,
  waitFor,
  type RunningService,
} from '@greeter/scripts/devstack';
import { fetchTrace, newTraceparent } from '../support/jaeger';
import { eventually, logTails, postGreeting, startTestStack } from '../support/stack';

const token = randomUUID().replace(/-/g, '');
const API_KEY = `apikey-canary-${token}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'greeter-secrets-'));
// The key's directory carries the canary, so any echo of the path (or part of it) is caught.
const KEY_DIR_NAME = `keypath-canary-${token}`;
const keyDir = path.join(dir, KEY_DIR_NAME);
const KEY_PATH = path.join(keyDir, 'client.key');

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all EC P-256. */
function makeCertificates(): void {
  if (!findOnPath('openssl')) throw new Error('openssl is not on PATH (scripts/bootstrap.sh installs the Debian package)');
  mkdirSync(keyDir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=greeter test CA');
  const sign = (name: string, keyOut: string, ext: string) => {
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl('req', ...ec, '-keyout', keyOut, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    );
  };
  sign('server', 'server.key', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  sign('client', KEY_PATH, 'extendedKeyUsage=clientAuth\n');
}

/** Distinctive pieces of every secret; none may appear anywhere the services write or answer. */
function canaries(): Record<string, string> {
  const pem = readFileSync(KEY_PATH, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  return {
    'API key': API_KEY,
    'key path': KEY_PATH,
    'key path (its directory)': KEY_DIR_NAME,
    'private key (PEM)': pem.slice(8, 48),
  };
}

/** Fails naming which secret appeared where, with the surrounding text. */
function assertClean(where: string, text: string): void {
  for (const [what, value] of Object.entries(canaries())) {
    const at = text.indexOf(value);
    assert.equal(at, -1, `${what} leaked into ${where}: …${text.slice(Math.max(0, at - 200), at + value.length + 100)}…`);
  }
}

/** A TLS-terminating proxy (like an ingress in front of Temporal) that demands a client certificate from our CA. */
function tlsProxy(upstreamPort: number): Promise<{ port: number; authorized: () => number; close: () => void }> {
  let authorized = 0;
  const server = tls.createServer(
    {
      key: readFileSync(path.join(dir, 'server.key')),
      cert: readFileSync(path.join(dir, 'server.crt')),
      ca: readFileSync(path.join(dir, 'ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      if (client.authorized) authorized++;
      const upstream = net.connect(upstreamPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    },
  );
  server.on('tlsClientError', () => undefined); // handshake failures are the clients' to report
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as net.AddressInfo).port, authorized: () => authorized, close: () => server.close() }),
    );
  });
}

const secretEnv = (address: string): Record<string, string> => ({
  TEMPORAL_ADDRESS: address,
  TEMPORAL_TLS_SERVER_NAME: 'localhost',
  TEMPORAL_API_KEY: API_KEY,
  TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.crt'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: KEY_PATH,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.crt'),
  // Everything the services and Temporal Core can log.
  LOG_LEVEL: 'debug',
});

let temporal: Proc;
let temporalPort: number;
let proxy: Awaited<ReturnType<typeof tlsProxy>>;

before(async () => {
  makeCertificates();
  const bin = findOnPath('temporal');
  if (!bin) throw new Error('temporal (the Temporal CLI) is not on PATH (run scripts/bootstrap.sh)');
  temporalPort = await freePort();
  temporal = new Proc({
    name: 'temporal',
    cmd: bin,
    args: devServerArgs({ port: temporalPort, uiPort: await freePort(), metricsPort: await freePort() }),
    logDir: dir,
  });
  temporal.start();
  await waitFor('temporal dev server', () => devServerReady(bin, `127.0.0.1:${temporalPort}`), 60_000, temporal);
  proxy = await tlsProxy(temporalPort);
});
after(async () => {
  proxy?.close();
  await temporal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('with TLS, mTLS and an API key, greetings work and no secret leaks', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let api: string;
  before(async () => {
    const env = secretEnv(`127.0.0.1:${proxy.port}`);
    stack = await startTestStack('secrets', {
      workers: 1,
      jaeger: true,
      temporalAddress: `127.0.0.1:${proxy.port}`,
      workerEnv: env,
      starterEnv: env,
    });
    api = `http://127.0.0.1:${stack.ports.starter}`;
  });
  after(async () => {
    await stack?.stop();
  });

  test('greetings complete through the TLS proxy, with client certificates', async () => {
    const r = await postGreeting(api, { name: 'Secreta' });
    assert.equal(r.status, 200, `${JSON.stringify(r.body)}\n${logTails(stack.runDir)}`);
    assert.equal(r.body.result, '¡Hola, Secreta!\n¡Adiós, Secreta!');
    assert.ok(
      proxy.authorized() >= 2,
      `the worker and the starter connected with client certificates (${proxy.authorized()} authorized connections)`,
    );
  });

  test('error bodies, probes, /metrics, traces and logs carry no secret', async () => {
    const bodies: [string, Promise<Response>][] = [
      ['400', fetch(`${api}/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' })],
      ['413', fetch(`${api}/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(20_000) })],
      ['415', fetch(`${api}/greetings`, { method: 'POST', body: 'name=x' })],
      ['404', fetch(`${api}/nowhere`)],
      ['405', fetch(`${api}/greetings`)],
    ];
    for (const [what, res] of bodies) assertClean(`the starter's ${what} body`, await (await res).text());
    const workflowId = `secret-${token}`;
    assert.equal((await postGreeting(api, { name: 'Uno', workflowId })).status, 200);
    const conflict = await postGreeting(api, { name: 'Otro', workflowId });
    assert.equal(conflict.status, 409);
    assertClean("the starter's 409 body", JSON.stringify(conflict.body));

    const w = stack.ports.worker(0);
    const endpoints = {
      'starter /metrics': `${api}/metrics`,
      'starter /readyz': `${api}/readyz`,
      'starter /healthz': `${api}/healthz`,
      'worker /metrics': `http://127.0.0.1:${w.http}/metrics`,
      'worker /readyz': `http://127.0.0.1:${w.http}/readyz`,
      'worker Temporal Core /metrics': `http://127.0.0.1:${w.metrics}/metrics`,
      'translator /metrics': `http://127.0.0.1:${stack.ports.translator}/metrics`,
    };
    for (const [what, url] of Object.entries(endpoints)) {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${what}: ${res.status}`);
      assertClean(what, await res.text());
    }

    // One traced greeting read back whole, then every trace Jaeger holds for each service.
    const tp = newTraceparent();
    assert.equal((await postGreeting(api, { name: 'Rastro' }, { headers: { traceparent: tp.header } })).status, 200);
    const query = `http://127.0.0.1:${stack.ports.jaegerQuery}`;
    const trace = await fetchTrace(query, tp.traceId, 14, () => logTails(stack.runDir));
    assertClean(`trace ${tp.traceId}`, JSON.stringify(trace));
    for (const service of ['starter', 'worker', 'translator']) {
      const res = await fetch(`${query}/api/traces?service=${service}&limit=1000&lookback=1h`);
      const text = await res.text();
      assert.ok(res.ok && text.includes(tp.traceId), `Jaeger's traces of ${service} (${res.status}) include ${tp.traceId}`);
      assertClean(`Jaeger's traces of ${service}`, text);
    }

    for (const f of readdirSync(stack.runDir).filter((f) => f.endsWith('.log'))) {
      assertClean(`${f} (stdout and stderr)`, readFileSync(path.join(stack.runDir, f), 'utf8'));
    }
  });
});

describe('the same secrets against a server that does not speak TLS', () => {
  let starter: RunningService;
  let worker: Proc;
  let workerPort: number;
  before(async () => {
    const env = secretEnv(`127.0.0.1:${temporalPort}`);
    workerPort = await freePort();
    worker = new Proc({
      name: 'worker',
      cmd: process.execPath,
      args: [serviceMain('worker')],
      env: { ...env, OTEL_SDK_DISABLED: 'true', PORT: String(workerPort), WORKER_METRICS_PORT: String(await freePort()) },
      logDir: dir,
    });
    worker.start();
    starter = await startService('starter', { ...env, STARTER_RPC_TIMEOUT_MS: '1000' }, { logDir: dir });
  });
  after(async () => {
    await starter?.proc.stop();
    await worker?.stop();
  });

  test('the starter and the worker say they cannot connect, and name no secret', async () => {
    const ready = await fetch(`${starter.base}/readyz`);
    assert.equal(ready.status, 503);
    const readyBody = await ready.text();
    assert.match(readyBody, /Temporal unreachable at 127\.0\.0\.1:\d+: /);
    assertClean("the starter's /readyz", readyBody);
    const r = await postGreeting(starter.base, { name: 'Maria' });
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.match(String(r.body.error), /Temporal is unreachable/);
    assertClean("the starter's 503 body", JSON.stringify(r.body));

    // The worker retries its connection; wait for two failed attempts in its log.
    assert.ok(
      await eventually(() => (worker.output().match(/Temporal not reachable yet/g) ?? []).length >= 2, 30_000, 200),
      `the worker logs its failed connection attempts:\n${worker.output()}`,
    );
    const workerReady = await fetch(`http://127.0.0.1:${workerPort}/readyz`);
    assert.equal(workerReady.status, 503);
    const workerBody = await workerReady.text();
    assert.match(workerBody, /connecting to Temporal at 127\.0\.0\.1:\d+/);
    assertClean("the worker's /readyz", workerBody);
    assertClean("the worker's stdout and stderr", worker.output());
    assertClean("the starter's stdout and stderr", starter.proc.output());
  });
});

describe('a key path that does not exist', () => {
  for (const svc of ['worker', 'starter'] as const) {
    test(`${svc}: start-up stops with exit 78, naming the variable but not the path or the API key`, () => {
      const missing = path.join(keyDir, 'missing', 'client.key');
      const r = spawnSync(process.execPath, [serviceMain(svc)], {
        env: {
          PATH: process.env.PATH ?? '',
          OTEL_SDK_DISABLED: 'true',
          PORT: '0',
          ...secretEnv('127.0.0.1:1'),
          TEMPORAL_TLS_CLIENT_KEY_PATH: missing,
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(r.status, 78, `exit code; stderr: ${r.stderr}`);
      assert.match(
        r.stderr,
        /TEMPORAL_TLS_CLIENT_KEY_PATH is invalid \(its value is not shown: it is or names a secret\): expected an existing file/,
      );
      assertClean(`${svc}'s stderr`, r.stderr + r.stdout);
    });
  }
});
