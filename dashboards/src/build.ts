// Generates the Grafana dashboard JSON (npm run dashboards): dashboards/json/*.json and the
// identical copies the chart ships as ConfigMaps (charts/greeter/dashboards/*.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { overview } from './overview';
import { ROOT } from '@greeter/scripts/devstack';
import { workerInternals } from './worker-internals';

export const DEFAULT_OUT_DIRS = [path.join(ROOT, 'dashboards', 'json'), path.join(ROOT, 'charts', 'greeter', 'dashboards')];

export interface RenderedDashboard {
  file: string;
  dashboard: dashboard.Dashboard;
  /** The file's content: two-space JSON, one trailing newline (Prettier leaves these files alone). */
  content: string;
}

export function dashboards(): Record<string, dashboard.Dashboard> {
  return {
    'greeter-overview.json': overview(),
    'greeter-worker-internals.json': workerInternals(),
  };
}

export function render(): RenderedDashboard[] {
  return Object.entries(dashboards()).map(([file, d]) => ({ file, dashboard: d, content: `${JSON.stringify(d, null, 2)}\n` }));
}

export function writeAll(dirs: string[]): string[] {
  const written: string[] = [];
  const rendered = render();
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    for (const r of rendered) {
      const file = path.join(dir, r.file);
      writeFileSync(file, r.content);
      written.push(file);
    }
  }
  return written;
}

function main(): void {
  // --out DIR (repeatable) writes elsewhere, e.g. the sync test's temporary directory.
  const { values } = parseArgs({ options: { out: { type: 'string', multiple: true } } });
  for (const f of writeAll(values.out ?? DEFAULT_OUT_DIRS)) console.log(`[dashboards] wrote ${path.relative(process.cwd(), f)}`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`[dashboards] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
