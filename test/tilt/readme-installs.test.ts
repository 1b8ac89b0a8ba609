// The README's hand-install commands, rendered: each `helm install greeter ...` line goes through
// `helm template` with the same -n/-f/--set, and its Temporal address must be a Temporal the
// README installs (or the chart's own dev server, or Temporal Cloud) with matching TLS settings.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ROOT, dig, readYaml, readmeKubernetesSection } from './support';

interface Install {
  line: string;
  env: Map<string, string>;
}

/** `helm install greeter charts/greeter ARGS` -> the worker's env as `helm template` renders it. */
function renderInstall(line: string, args: string): Install {
  const argv = args.trim().split(/\s+/);
  const keep: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (['-n', '--namespace', '-f', '--values', '--set', '--version'].includes(a)) keep.push(a, argv[++i]!);
    else if (a.startsWith('--set=') || a.startsWith('-f=')) keep.push(a);
  }
  const out = execFileSync('helm', ['template', 'greeter', 'charts/greeter', '--kube-version', '1.33.0', ...keep], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const worker = parseAllDocuments(out)
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .find((o) => o?.kind === 'Deployment' && o.metadata?.name === 'greeter-worker');
  const env = (dig(worker, ['spec', 'template', 'spec', 'containers', '0', 'env']) as Array<{ name: string; value?: string }>) ?? [];
  return { line, env: new Map(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])) };
}

describe("README's hand installs", () => {
  const text = readmeKubernetesSection();
  const installs = [...text.matchAll(/helm install greeter charts\/greeter ([^\n`]+)/g)].map((m) => renderInstall(m[0], m[1]!));
  const temporals = [...text.matchAll(/helm install temporal temporal\/temporal ([^\n`]+)/g)].map((m) => {
    const ns = /(?:-n|--namespace) (\S+)/.exec(m[1]!)?.[1] ?? 'default';
    const file = /(?:-f|--values) (\S+)/.exec(m[1]!)?.[1];
    const values = file ? readYaml(file) : {};
    return { line: m[0], ns, tls: dig(values, ['server', 'config', 'tls']) !== undefined };
  });

  it('shows installs of greeter and of the Temporal chart (nothing to check otherwise)', () => {
    assert.ok(installs.length >= 2, `found ${installs.length} greeter installs`);
    assert.ok(temporals.length >= 1, 'found no `helm install temporal temporal/temporal` line');
  });

  it('points greeter at every Temporal it installs, at that namespace and with its TLS setting', () => {
    for (const t of temporals) {
      const matching = installs.filter((i) => (i.env.get('TEMPORAL_ADDRESS') ?? '').startsWith(`temporal-frontend.${t.ns}.svc:`));
      assert.ok(
        matching.length > 0,
        `\`${t.line}\` puts Temporal in namespace ${t.ns}, but no greeter install uses temporal-frontend.${t.ns}.svc (they use ${installs
          .map((i) => i.env.get('TEMPORAL_ADDRESS'))
          .join(', ')})`,
      );
      for (const i of matching)
        assert.equal(
          i.env.get('TEMPORAL_TLS') === 'true',
          t.tls,
          `\`${i.line}\` uses TLS=${i.env.get('TEMPORAL_TLS')}, the Temporal of \`${t.line}\` ${t.tls ? 'serves' : 'does not serve'} TLS`,
        );
    }
  });

  it('for a greeter install against a self-hosted Temporal the README does not install, says what to provide', () => {
    for (const i of installs) {
      const address = i.env.get('TEMPORAL_ADDRESS') ?? '';
      const ns = /^temporal-frontend\.([^.]+)\.svc:/.exec(address)?.[1];
      if (!ns || temporals.some((t) => t.ns === ns)) continue;
      assert.ok(
        new RegExp(`namespace\\s+\`${ns}\``).test(text),
        `\`${i.line}\` expects Temporal in namespace ${ns}: the README should say so`,
      );
      const ca = i.env.get('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
      if (ca) {
        const secret = readCaSecret(i.line);
        assert.ok(
          secret && text.includes(`create secret generic ${secret}`),
          `\`${i.line}\` mounts the CA Secret ${secret ?? '?'}: the README should show how to create it`,
        );
      }
    }
  });
});

/** Name of temporal.external.caSecret in the -f file of an install line. */
function readCaSecret(line: string): string | undefined {
  const file = /-f (\S+)/.exec(line)?.[1];
  return file ? (dig(readYaml(file), ['temporal', 'external', 'caSecret', 'name']) as string | undefined) : undefined;
}
