// The configuration reader every service starts with: typed readers that collect every bad
// variable, and the Temporal client configuration read through @temporalio/envconfig
// (standard TEMPORAL_* variables over temporal.toml profiles).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigErrors, type EnvReader, loadConfig, readCommon, requireFiles, type Env } from '../src/config';
import { readTemporal, temporalConnectionOptions, temporalFiles, type TemporalConfig } from '../src/temporal';

/** The messages of a failed loadConfig, or [] when it passed. */
function problems(read: (r: EnvReader) => unknown, env: Env): string[] {
  try {
    loadConfig(read, env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigErrors, `expected ConfigErrors, got ${String(err)}`);
    return err.errors.map((e) => e.message);
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'greeter-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
// No HOME: the default ~/.config/temporalio/temporal.toml of whoever runs the tests stays out.
const temporal = (env: Env): TemporalConfig => loadConfig((r) => readTemporal(r), env);

describe('EnvReader', () => {
  test('defaults apply to unset and empty (or blank) values', () => {
    const cfg = loadConfig((r) => readCommon(r, 1234), { PORT: '', LOG_LEVEL: '   ' });
    assert.deepEqual(cfg, { host: '127.0.0.1', port: 1234, logLevel: 'info', shutdownGraceMs: 10_000 });
  });

  test('typed values are parsed', () => {
    const env = { I: '-5', F: '0.25', B: 'off', O: 'b', P: '8080', H: '[::1]:7233', U: 'https://x.example/', S: ' s ' };
    const got = loadConfig(
      (r) => ({
        i: r.int('I', 0, { min: -10, max: 10 }),
        f: r.float('F', 0, 0, 1),
        b: r.bool('B', true),
        o: r.oneOf('O', ['a', 'b'] as const, 'a'),
        p: r.port('P', 1),
        h: r.hostPort('H', 'x:1'),
        u: r.httpUrl('U', 'http://d'),
        s: r.string('S', 'd'),
        opt: r.optionalInt('MISSING'),
      }),
      env,
    );
    assert.deepEqual(got, { i: -5, f: 0.25, b: false, o: 'b', p: 8080, h: '[::1]:7233', u: 'https://x.example', s: 's', opt: undefined });
  });

  test('every bad variable is reported at once, each named with its value and what was expected', () => {
    const got = problems(
      (r) => [
        r.int('I', 0, { min: 0, max: 9 }),
        r.float('F', 0, 0, 1),
        r.bool('B', true),
        r.oneOf('O', ['a'] as const, 'a'),
        r.port('P', 1),
        r.hostPort('H', 'x:1'),
        r.httpUrl('U', 'http://d'),
        r.requiredString('R', 'a name'),
      ],
      { I: '10', F: '1e', B: 'maybe', O: 'z', P: '65536', H: 'nohost', U: 'ftp://x' },
    );
    assert.deepEqual(got, [
      'I="10" is invalid: expected an integer from 0 to 9',
      'F="1e" is invalid: expected a number from 0 to 1',
      'B="maybe" is invalid: expected true or false',
      'O="z" is invalid: expected one of a',
      'P="65536" is invalid: expected an integer from 0 to 65535',
      'H="nohost" is invalid: expected host:port, e.g. localhost:7233',
      'U="ftp://x" is invalid: expected an http(s) URL, e.g. http://localhost:9999',
      'R is required (expected a name)',
    ]);
  });

  test('requireFiles names the variable of every missing file and accepts existing ones', () => {
    const present = file('present.txt', 'x');
    assert.doesNotThrow(() => requireFiles({ A: present, B: undefined }));
    assert.throws(
      () => requireFiles({ A: present, B: '/nonexistent/b', C: '/nonexistent/c' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigErrors);
        assert.deepEqual(
          err.errors.map((e) => e.message),
          ['B="/nonexistent/b" is invalid: expected an existing file', 'C="/nonexistent/c" is invalid: expected an existing file'],
        );
        return true;
      },
    );
  });

  test('a secret variable is named but its value never shown (key paths, API keys, inline PEM, gRPC headers)', () => {
    const canary = 'canary-4f1d2c';
    assert.throws(
      () =>
        requireFiles({
          TEMPORAL_TLS_CLIENT_KEY_PATH: `/nonexistent/${canary}/client.key`,
          TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.crt',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigErrors);
        assert.doesNotMatch(err.message, new RegExp(canary));
        assert.deepEqual(
          err.errors.map((e) => e.message),
          [
            'TEMPORAL_TLS_CLIENT_KEY_PATH is invalid (its value is not shown: it is or names a secret): expected an existing file',
            'TEMPORAL_TLS_CLIENT_CERT_PATH="/nonexistent/client.crt" is invalid: expected an existing file',
          ],
        );
        return true;
      },
    );
    for (const name of [
      'TEMPORAL_API_KEY',
      'TEMPORAL_TLS_CLIENT_KEY_DATA',
      'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
      'TEMPORAL_GRPC_META_AUTHORIZATION',
    ]) {
      const messages = problems((r) => r.reject(name, canary, 'something else'), {});
      assert.equal(messages.length, 1);
      assert.doesNotMatch(messages[0]!, new RegExp(canary), name);
      assert.match(messages[0]!, new RegExp(`^${name} is invalid`));
    }
  });
});

describe('Temporal client configuration (@temporalio/envconfig)', () => {
  test('defaults: localhost:7233, namespace default, task queue greeting-tasks, no TLS', () => {
    const t = temporal({});
    assert.equal(t.address, 'localhost:7233');
    assert.equal(t.namespace, 'default');
    assert.equal(t.taskQueue, 'greeting-tasks');
    assert.equal(t.tls, false);
    assert.deepEqual(temporalConnectionOptions(t), { address: 'localhost:7233' });
  });

  test('the standard variables: an API key turns TLS on; gRPC metadata; server name', () => {
    const t = temporal({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'secret-key',
      TEMPORAL_TLS_SERVER_NAME: 'ns.acct.tmprl.cloud',
      TEMPORAL_GRPC_META_X_TEAM: 'greeter',
    });
    assert.equal(t.namespace, 'ns.acct');
    assert.equal(t.tls, true);
    const o = temporalConnectionOptions(t);
    assert.equal(o.address, 'ns.acct.tmprl.cloud:7233');
    assert.equal(o.apiKey, 'secret-key');
    assert.deepEqual(o.metadata, { 'x-team': 'greeter' });
    assert.equal(typeof o.tls === 'object' && o.tls.serverNameOverride, 'ns.acct.tmprl.cloud');
  });

  test('mTLS files come from TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH / TEMPORAL_TLS_SERVER_CA_CERT_PATH', () => {
    const crt = file('c.pem', 'CERT');
    const key = file('k.pem', 'KEY');
    const ca = file('ca.pem', 'CA');
    const t = temporal({ TEMPORAL_TLS_CLIENT_CERT_PATH: crt, TEMPORAL_TLS_CLIENT_KEY_PATH: key, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca });
    assert.equal(t.tls, true);
    assert.deepEqual(temporalFiles(t), {
      TEMPORAL_TLS_CLIENT_CERT_PATH: crt,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    });
    const o = temporalConnectionOptions(t);
    assert.ok(typeof o.tls === 'object', `expected a TLS config, got ${JSON.stringify(o.tls)}`);
    assert.equal(Buffer.from(o.tls.clientCertPair!.crt).toString(), 'CERT');
    assert.equal(Buffer.from(o.tls.clientCertPair!.key).toString(), 'KEY');
    assert.equal(Buffer.from(o.tls.serverRootCACertificate!).toString(), 'CA');
  });

  test('a temporal.toml profile chosen by TEMPORAL_PROFILE, with the variables overriding it', () => {
    const toml = file(
      'temporal.toml',
      [
        '[profile.default]',
        'address = "default-host:7233"',
        '',
        '[profile.staging]',
        'address = "staging-host:7233"',
        'namespace = "staging"',
        'api_key = "k"',
        '',
      ].join('\n'),
    );
    const staging = temporal({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' });
    assert.deepEqual([staging.address, staging.namespace, staging.tls], ['staging-host:7233', 'staging', true]);
    assert.match(staging.source, /profile "staging" of .*temporal\.toml/);
    assert.equal(temporal({ TEMPORAL_CONFIG_FILE: toml }).address, 'default-host:7233');
    const overridden = temporal({
      TEMPORAL_CONFIG_FILE: toml,
      TEMPORAL_PROFILE: 'staging',
      TEMPORAL_NAMESPACE: 'other',
      TEMPORAL_TLS: 'false',
    });
    assert.deepEqual([overridden.address, overridden.namespace, overridden.tls], ['staging-host:7233', 'other', false]);
  });

  test('bad values are named: TLS spelling, address, profile, file, half an mTLS pair, old and unsupported names', () => {
    const toml = file('p.toml', '[profile.default]\naddress = "h:1"\n');
    const bad = file('bad.toml', '[profile.default]\nadress = "typo:1"\n');
    const cases: [Env, RegExp][] = [
      [{ TEMPORAL_TLS: 'yes' }, /^TEMPORAL_TLS="yes" is invalid: expected true, false, 1, 0$/],
      [{ TEMPORAL_ADDRESS: 'localhost' }, /^TEMPORAL_ADDRESS="localhost" is invalid: expected host:port/],
      [
        { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' },
        /^TEMPORAL_PROFILE="prod" is invalid: expected a profile defined in .*p\.toml$/,
      ],
      [{ TEMPORAL_PROFILE: 'prod' }, /^TEMPORAL_PROFILE="prod" is invalid/],
      [
        { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' },
        /^TEMPORAL_CONFIG_FILE="\/nonexistent\/temporal\.toml" is invalid: expected an existing temporal\.toml file$/,
      ],
      [{ TEMPORAL_CONFIG_FILE: bad }, /^TEMPORAL_CONFIG_FILE=".*bad\.toml" is invalid: expected a valid temporal\.toml \(.*adress/],
      [{ TEMPORAL_TLS_CLIENT_CERT_PATH: '/tmp/c.pem' }, /^TEMPORAL_TLS_CLIENT_KEY_PATH is required/],
      [{ TEMPORAL_TLS_CLIENT_KEY_PATH: '/tmp/k.pem' }, /^TEMPORAL_TLS_CLIENT_CERT_PATH is required/],
      [
        { TEMPORAL_TLS_CLIENT_CERT_PATH: '/tmp/c.pem', TEMPORAL_TLS_CLIENT_CERT_DATA: 'PEM', TEMPORAL_TLS_CLIENT_KEY_DATA: 'PEM' },
        /^TEMPORAL_TLS_CLIENT_CERT_PATH="\/tmp\/c\.pem" is invalid: expected a path or TEMPORAL_TLS_CLIENT_CERT_DATA/,
      ],
      [
        { TEMPORAL_TLS_CERT_PATH: '/tmp/c.pem' },
        /^TEMPORAL_TLS_CERT_PATH="\/tmp\/c\.pem" is invalid: expected no such variable any more: use the standard TEMPORAL_TLS_CLIENT_CERT_PATH$/,
      ],
      [{ TEMPORAL_TLS_KEY_PATH: '/tmp/k.pem' }, /use the standard TEMPORAL_TLS_CLIENT_KEY_PATH$/],
      [{ TEMPORAL_TLS_CA_PATH: '/tmp/ca.pem' }, /use the standard TEMPORAL_TLS_SERVER_CA_CERT_PATH$/],
      [
        { TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' },
        /^TEMPORAL_TLS_DISABLE_HOST_VERIFICATION="true" is invalid: expected unset: the TypeScript SDK cannot/,
      ],
      [
        { TEMPORAL_CODEC_ENDPOINT: 'http://codec' },
        /^TEMPORAL_CODEC_ENDPOINT="http:\/\/codec" is invalid: expected unset: greeter uses no remote payload codec$/,
      ],
    ];
    for (const [env, message] of cases) {
      const got = problems((r) => readTemporal(r), env);
      assert.equal(got.length, 1, `${JSON.stringify(env)}: expected one problem, got ${JSON.stringify(got)}`);
      assert.match(got[0]!, message, `${JSON.stringify(env)}`);
    }
    assert.deepEqual(
      problems((r) => readTemporal(r), { TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' }),
      [],
    );
  });

  test('all Temporal problems and the other variables are reported together', () => {
    const got = problems((r) => [readCommon(r, 1), readTemporal(r)], { PORT: 'x', TEMPORAL_TLS: 'on', TEMPORAL_TLS_CA_PATH: '/ca' });
    assert.equal(got.length, 3, JSON.stringify(got));
    for (const v of ['PORT', 'TEMPORAL_TLS=', 'TEMPORAL_TLS_CA_PATH'])
      assert.ok(
        got.some((m) => m.startsWith(v)),
        `${v} not named in ${JSON.stringify(got)}`,
      );
  });
});
