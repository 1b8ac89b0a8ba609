// Prebundles the workflow code (with the OpenTelemetry workflow interceptors) so
// production workers start without running webpack. Run by `npm run build`.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundlerPlugins } from './tracing';

export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

async function main(): Promise<void> {
  const out = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_BUNDLE_PATH;
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    plugins: bundlerPlugins(),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  process.stderr.write(`[build] workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB, ${Date.now() - started} ms)\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
