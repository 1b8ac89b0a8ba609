// Where things are: the repository root, the compiled services, the run folders, and
// tools on PATH (looked up through the file system, without spawning a shell).
import { accessSync, constants, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository root (this file compiles to scripts/dist/devstack/paths.js). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

export type ServiceName = 'translator' | 'worker' | 'starter';

/** The compiled entry point of a service. */
export const serviceMain = (svc: ServiceName): string => path.join(ROOT, 'services', svc, 'dist', 'src', 'main.js');

export const WORKFLOW_BUNDLE = path.join(ROOT, 'services', 'worker', 'dist', 'workflow-bundle.js');

/** Local state of `npm start` and the load tools (git-ignored). */
export const LOCAL_DIR = path.join(ROOT, '.greeter');

/** The tools cache scripts/bootstrap.sh fills. */
export function toolsCache(): string {
  return process.env.GREETER_TOOLS_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'greeter', 'tools');
}

/** The first executable `bin` in PATH (then in `extraDirs`), or undefined. */
export function findOnPath(bin: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * A tool from PATH, else from the tools cache (<cache>/<tool>-<version>/ or its bin/, as
 * scripts/bootstrap.sh and scripts/cluster/tools.sh leave them); undefined when neither has it.
 */
export function findTool(bin: string): string | undefined {
  const cache = toolsCache();
  let entries: string[] = [];
  try {
    entries = readdirSync(cache).sort().reverse(); // newest version first
  } catch {
    /* no cache yet */
  }
  return findOnPath(
    bin,
    entries.flatMap((e) => [path.join(cache, e), path.join(cache, e, 'bin')]),
  );
}
