// Refreshes charts/greeter/tests/golden/<profile>.yaml from `helm template` (npm run chart:golden).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GOLDEN_DIR, GOLDEN_SET, profiles, render, ROOT } from './support';

mkdirSync(GOLDEN_DIR, { recursive: true });
const wanted = new Set<string>();
for (const p of profiles()) {
  const file = path.join(GOLDEN_DIR, `${p.name}.yaml`);
  writeFileSync(file, render(p, { set: GOLDEN_SET }));
  wanted.add(path.basename(file));
  process.stdout.write(`[chart:golden] ${path.relative(ROOT, file)}\n`);
}
// Profiles that no longer exist leave no stale golden file behind.
for (const f of readdirSync(GOLDEN_DIR)) {
  if (f.endsWith('.yaml') && !wanted.has(f)) {
    rmSync(path.join(GOLDEN_DIR, f));
    process.stdout.write(`[chart:golden] removed stale ${f}\n`);
  }
}
