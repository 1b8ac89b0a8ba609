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
    // With reuseV8Context every workflow gets a fresh module cache, so each new workflow
    // evaluates every module of the bundle again. Scope hoisting merges the ES modules
    // (OpenTelemetry's API and core, most of them) into a few, which the workers bench measured
    // as less CPU per greeting; tree shaking drops exports nothing uses.
    webpackConfigHook: (config) => ({
      ...config,
      optimization: {
        ...config.optimization,
        concatenateModules: true,
        usedExports: true,
        providedExports: true,
        sideEffects: true,
        innerGraph: true,
      },
    }),
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
