// A small Dockerfile reader and a stage "materializer" for offline image tests: it rebuilds a
// runtime stage's file system from the Dockerfile's own COPY/RUN lines (no Docker engine here),
// so the test cannot drift from what the Dockerfile really copies.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Instruction {
  op: string;
  args: string;
  line: number;
}
export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}
export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
  /** First-line parser directives, e.g. { syntax: 'docker/dockerfile:1.7' }. */
  directives: Record<string, string>;
}

export function parseDockerfile(text: string): Dockerfile {
  const directives: Record<string, string> = {};
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  const lines = text.split('\n');
  let inDirectives = true;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    const d = /^#\s*(\w+)\s*=\s*(\S+)\s*$/.exec(line);
    if (inDirectives && d) {
      directives[d[1]!.toLowerCase()] = d[2]!;
      continue;
    }
    inDirectives = false;
    if (/^\s*(#|$)/.test(line)) continue;
    // Continuation lines (comments inside a continued instruction are dropped, as Docker does).
    while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      line = line.trimEnd().slice(0, -1) + ' ';
      i++;
      if (!/^\s*#/.test(lines[i]!)) line += lines[i]!.trim();
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot parse ${JSON.stringify(line)}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!f) throw new Error(`Dockerfile line ${start + 1}: bad FROM ${args}`);
      const image = f[1]!.replace(/\$\{?(\w+)\}?/g, (_m, v: string) => globalArgs[v] ?? `\${${v}}`);
      stages.push({ name: f[2] ?? String(stages.length), from: image, instructions: [] });
    } else if (stages.length === 0) {
      if (op !== 'ARG') throw new Error(`Dockerfile line ${start + 1}: only ARG may precede FROM`);
      const [k, v = ''] = args.split('=');
      globalArgs[k!] = v;
    } else {
      stages.at(-1)!.instructions.push({ op, args, line: start + 1 });
    }
  }
  return { globalArgs, stages, directives };
}

export function stage(df: Dockerfile, name: string): Stage {
  const s = df.stages.find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage ${name}; stages: ${df.stages.map((x) => x.name).join(', ')}`);
  return s;
}

/** The stage and its ancestors (FROM <stage>), base first. */
export function chain(df: Dockerfile, name: string): Stage[] {
  const out: Stage[] = [];
  for (let s: Stage | undefined = stage(df, name); s; s = df.stages.find((x) => x.name === s.from)) out.unshift(s);
  return out;
}

/** ENV of a stage including inherited ones (KEY=VALUE forms). */
export function envOfStage(df: Dockerfile, name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of chain(df, name)) {
    for (const ins of s.instructions.filter((x) => x.op === 'ENV')) {
      for (const m of ins.args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) env[m[1]!] = m[3] ?? m[2]!;
    }
  }
  return env;
}

export function last(df: Dockerfile, name: string, op: string): Instruction | undefined {
  return chain(df, name)
    .flatMap((s) => s.instructions)
    .filter((x) => x.op === op)
    .at(-1);
}

export function workdirOf(df: Dockerfile, name: string): string {
  let wd = '/';
  for (const s of chain(df, name))
    for (const ins of s.instructions.filter((x) => x.op === 'WORKDIR')) wd = path.posix.resolve(wd, ins.args);
  return wd;
}

export interface CopyLine {
  from: string | undefined;
  sources: string[];
  dest: string;
  line: number;
}

export function copyLines(s: Stage): CopyLine[] {
  return s.instructions
    .filter((x) => x.op === 'COPY' || x.op === 'ADD')
    .map((ins) => {
      const parts = ins.args.split(/\s+/);
      const flags = parts.filter((p) => p.startsWith('--'));
      const rest = parts.filter((p) => !p.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      return { from, sources: rest.slice(0, -1), dest: rest.at(-1)!, line: ins.line };
    });
}

export interface MaterializeOptions {
  /** Repository root: the build context. */
  context: string;
  /** Where stage file systems are created. */
  scratch: string;
  /** Stage that is satisfied by the already built repository instead of being executed (tsc + bundle). */
  prebuiltStage: string;
  /** Paths (relative, posix) excluded when copying out of the prebuilt stage, as .dockerignore would exclude them from its context. */
  prebuiltExcludes: RegExp;
}

/**
 * Recreates a stage's file system under scratch/<stage>: COPY from the context or other
 * stages, WORKDIR, and RUN npm ci (executed for real, from the local npm cache first).
 * Returns the stage's root directory.
 */
export function materialize(df: Dockerfile, name: string, opts: MaterializeOptions, done = new Map<string, string>()): string {
  const cached = done.get(name);
  if (cached) return cached;
  const s = stage(df, name);
  const root = path.join(opts.scratch, name);
  mkdirSync(root, { recursive: true });
  if (df.stages.some((x) => x.name === s.from))
    cpSync(materialize(df, s.from, opts, done), root, { recursive: true, verbatimSymlinks: true });
  let wd = df.stages.some((x) => x.name === s.from) ? workdirOf(df, s.from) : '/';
  const inRoot = (p: string) => path.join(root, p);
  for (const ins of s.instructions) {
    if (ins.op === 'WORKDIR') {
      wd = path.posix.resolve(wd, ins.args);
      mkdirSync(inRoot(wd), { recursive: true });
    } else if (ins.op === 'COPY') {
      const c = copyLines({ ...s, instructions: [ins] })[0]!;
      const dest = path.posix.resolve(wd, c.dest);
      for (const src of c.sources) {
        let from: string;
        let filter: ((p: string) => boolean) | undefined;
        if (c.from === undefined) from = path.join(opts.context, src);
        else if (c.from === opts.prebuiltStage) {
          const buildWd = workdirOf(df, opts.prebuiltStage);
          const rel = path.posix.relative(buildWd, src);
          if (rel.startsWith('..'))
            throw new Error(`line ${ins.line}: ${src} is outside the ${opts.prebuiltStage} stage's WORKDIR ${buildWd}`);
          from = path.join(opts.context, rel);
          filter = (p) => !opts.prebuiltExcludes.test(path.relative(opts.context, p).split(path.sep).join('/'));
        } else from = path.join(materialize(df, c.from, opts, done), src);
        if (!existsSync(from)) throw new Error(`line ${ins.line}: COPY source ${src} does not exist (${from})`);
        // Docker: a directory's contents go into dest; a file goes into dest/ when dest ends with /.
        const isDir = statSync(from).isDirectory();
        const target = !isDir && c.dest.endsWith('/') ? path.join(inRoot(dest), path.basename(src)) : inRoot(dest);
        mkdirSync(isDir ? target : path.dirname(target), { recursive: true });
        // Between materialized stages, hard links: node_modules is hundreds of MB and never modified afterwards.
        if (isDir && c.from !== undefined && c.from !== opts.prebuiltStage) execFileSync('cp', ['-a', '--link', `${from}/.`, target]);
        else cpSync(from, target, { recursive: true, verbatimSymlinks: true, ...(filter && { filter }) });
      }
    } else if (ins.op === 'RUN') {
      if (name === opts.prebuiltStage) continue;
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--mount='));
      if (words[0] !== 'npm' || words[1] !== 'ci')
        throw new Error(`line ${ins.line}: the offline image test can only execute RUN npm ci ..., not ${ins.args}`);
      execFileSync('npm', [...words.slice(1), '--prefer-offline', '--loglevel=error'], {
        cwd: inRoot(wd),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } else if (ins.op === 'ADD') {
      throw new Error(`line ${ins.line}: ADD is not supported (use COPY)`);
    }
  }
  done.set(name, root);
  return root;
}
