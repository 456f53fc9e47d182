/**
 * Starts the real services once for the whole run, on free ports, and bundles the workflow code
 * once for every worker the tests start. Test files read where they are from KONTROL_TEST_STACK.
 *
 * Two profiles (KONTROL_TEST_PROFILE):
 * - `production` (the default, what `npm test` and CI run): a throwaway PostgreSQL cluster, the
 *   Temporal server on it (persistence and visibility), FerretDB on PostgreSQL: the services of a
 *   node as `npm start` runs them.
 * - `dev`: the Temporal CLI's dev server in memory and FerretDB on SQLite, quicker to start, for
 *   a fast loop while writing a test.
 * The SMTP server is a real one in this process either way.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startFerretDb } from '../../stack/ferretdb';
import { prepareFerretDbDatabase } from '../../stack/ferretdb-indexes';
import { startPostgres } from '../../stack/postgres';
import { startSmtpCatcher } from '../../stack/smtp-catcher';
import { startTemporalDevServer } from '../../stack/temporal';
import { startTemporalServer } from '../../stack/temporal-server';
import { STACK_ENV, type StackInfo } from './stack-info';

export type TestProfile = 'production' | 'dev';

interface Stoppable {
  stop(): Promise<void>;
}

async function startProduction(dir: string): Promise<{ temporalAddress: string; mongoUri: string; services: Stoppable[] }> {
  const postgres = await startPostgres({
    clusterDir: path.join(dir, 'postgres'),
    passwordFile: path.join(dir, 'postgres-password'),
    durable: false,
    logFile: path.join(dir, 'postgres.log'),
  });
  try {
    prepareFerretDbDatabase(postgres, 'ferretdb');
    const [temporal, ferret] = await Promise.allSettled([
      startTemporalServer({ dir: path.join(dir, 'temporal'), postgres, logFile: path.join(dir, 'temporal.log') }),
      startFerretDb({ dataDir: path.join(dir, 'ferretdb'), postgresqlUrl: postgres.url('ferretdb'), logFile: path.join(dir, 'ferretdb.log') }),
    ]);
    if (temporal.status === 'rejected' || ferret.status === 'rejected') {
      // Whichever did start must not outlive the failed setup.
      for (const started of [temporal, ferret]) if (started.status === 'fulfilled') await started.value.stop();
      throw temporal.status === 'rejected' ? temporal.reason : (ferret as PromiseRejectedResult).reason;
    }
    // Stopped in this order: the clients of PostgreSQL before PostgreSQL.
    return { temporalAddress: temporal.value.address, mongoUri: ferret.value.uri, services: [temporal.value, ferret.value, postgres] };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}

async function startDev(dir: string): Promise<{ temporalAddress: string; mongoUri: string; services: Stoppable[] }> {
  const [temporal, ferret] = await Promise.all([
    startTemporalDevServer({ ui: false, logFile: path.join(dir, 'temporal.log') }),
    startFerretDb({ dataDir: path.join(dir, 'ferretdb'), logFile: path.join(dir, 'ferretdb.log') }),
  ]);
  return { temporalAddress: temporal.address, mongoUri: ferret.uri, services: [temporal, ferret] };
}

export default async function globalSetup(): Promise<void> {
  const profile = (process.env.KONTROL_TEST_PROFILE || 'production') as TestProfile;
  if (profile !== 'production' && profile !== 'dev') throw new Error(`KONTROL_TEST_PROFILE must be production or dev, not ${profile}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kontrol-test-stack-'));
  // PostgreSQL runs as its own user when we are root: it must be able to enter this directory.
  await chmod(dir, 0o755);
  const [stack, bundle, smtp] = await Promise.all([
    profile === 'production' ? startProduction(dir) : startDev(dir),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger }),
    // A real SMTP server that accepts everything the workers send; tests that read mail start their own.
    startSmtpCatcher(),
  ]);
  const workflowBundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);
  const info: StackInfo = {
    profile,
    temporalAddress: stack.temporalAddress,
    mongoUri: stack.mongoUri.replace(/\/$/, ''),
    smtpUrl: smtp.url,
    workflowBundlePath,
    dir,
  };
  process.env[STACK_ENV] = JSON.stringify(info);
  (globalThis as Record<string, unknown>).__kontrolStack = { services: [...stack.services, smtp], dir };
  console.log(`\nkontrol test stack (${profile}): temporal ${stack.temporalAddress}, mongodb ${stack.mongoUri}`);
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
