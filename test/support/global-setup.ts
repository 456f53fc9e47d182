/**
 * Starts the real services once for the whole run, on free ports: the Temporal dev server (in
 * memory) and FerretDB (SQLite in a temp dir), and bundles the workflow code once for every
 * worker the tests start. Test files read where they are from KONTROL_TEST_STACK.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startFerretDb } from '../../stack/ferretdb';
import { startSmtpCatcher } from '../../stack/smtp-catcher';
import { startTemporalDevServer } from '../../stack/temporal';
import { STACK_ENV, type StackInfo } from './stack-info';

export default async function globalSetup(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kontrol-test-stack-'));
  const [temporal, ferret, bundle, smtp] = await Promise.all([
    startTemporalDevServer({ ui: false, logFile: path.join(dir, 'temporal.log') }),
    startFerretDb({ dataDir: path.join(dir, 'ferretdb'), logFile: path.join(dir, 'ferretdb.log') }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger }),
    // A real SMTP server that accepts everything the workers send; tests that read mail start their own.
    startSmtpCatcher(),
  ]);
  const workflowBundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);
  const info: StackInfo = { temporalAddress: temporal.address, mongoUri: ferret.uri.replace(/\/$/, ''), smtpUrl: smtp.url, workflowBundlePath, dir };
  process.env[STACK_ENV] = JSON.stringify(info);
  (globalThis as Record<string, unknown>).__kontrolStack = { temporal, ferret, smtp, dir };
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
