/**
 * Build step of `npm run build`: bundles the compiled workflow code (dist/workflows) into
 * dist/workflow-bundle.js, which the worker loads instead of running webpack at every start.
 * `node dist/scripts/bundle-workflows.js [out]`; under tsx it bundles the sources and needs `out`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { builtBundlePath } from '../workers/workflow-source';

async function main(): Promise<void> {
  const out = process.argv[2] ?? builtBundlePath(__filename);
  if (!out) throw new Error('usage: tsx scripts/bundle-workflows.ts <out.js> (run from dist/, the output goes beside the compiled code)');
  const started = Date.now();
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    // webpack's compilation report is noise in a build log; its warnings and errors are not.
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => console.warn(message),
      error: (message: string) => console.error(message),
    },
  });
  await writeFile(out, bundle.code);
  const kb = Math.round(Buffer.byteLength(bundle.code) / 1024);
  console.log(`workflow bundle: ${path.relative(process.cwd(), path.resolve(out))} (${kb} KB, ${Date.now() - started} ms)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
