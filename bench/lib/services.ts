/**
 * The services the benchmark runs against: those the environment names (TEMPORAL_ADDRESS,
 * MONGODB_URI, SMTP_URL) or, for each one not named, the production profile's own started from
 * stack/ in a temp dir, as `npm start` runs them: a throwaway PostgreSQL 15 cluster, the Temporal
 * server on it (persistence and visibility), FerretDB on PostgreSQL and the mail service
 * (dist/stack/mail-main.js, a process of its own).
 */
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { startFerretDb } from '../../stack/ferretdb';
import { prepareFerretDbDatabase } from '../../stack/ferretdb-indexes';
import { freePort } from '../../stack/ports';
import { startPostgres, type Postgres } from '../../stack/postgres';
import { spawnProcess, waitForPort } from '../../stack/processes';
import { startTemporalServer } from '../../stack/temporal-server';
import { DEFAULT_TEMPORAL_SERVER_VERSION } from '../../stack/tools';
import { log } from './util';

export interface BenchServices {
  temporalAddress: string;
  /** What the result line says Temporal is. */
  temporal: string;
  /** The server's URI with the benchmark's own database. */
  mongoUri: string;
  mongo: 'ferretdb-postgresql' | 'external';
  smtpUrl: string;
  /** Whether each service is ours (and thrown away at the end) or the caller's. */
  external: { temporal: boolean; mongo: boolean };
  /** Process ids of the services started here, to read their CPU time. */
  pids: { postgres?: number; temporal?: number; ferretdb?: number; mail?: number };
  /** Stops what was started here; external services are left running. */
  stop(): Promise<void>;
}

/**
 * Puts `database` in place of the URI's database. When the URI carries credentials and no
 * authSource, the driver would authenticate against the new database instead of the one the
 * user exists in, so the original (or the driver's default, admin) is kept as authSource.
 */
export function withDatabase(uri: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/([^/?]*))(?:\/([^?]*))?(?:\?(.*))?$/.exec(uri);
  if (!match) throw new Error(`MONGODB_URI is not a mongodb:// URI the benchmark understands: ${uri.replace(/\/\/[^@/]*@/, '//***@')}`);
  const [, base, hosts, originalDb, query] = match;
  const params = new URLSearchParams(query ?? '');
  if (hosts.includes('@') && !params.has('authSource')) params.set('authSource', decodeURIComponent(originalDb || 'admin'));
  const search = params.toString();
  return `${base}/${encodeURIComponent(database)}${search ? `?${search}` : ''}`;
}

export async function startServices(dir: string, database: string, root: string, env: NodeJS.ProcessEnv = process.env): Promise<BenchServices> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch((e: unknown) => log(`stopping a service failed: ${String(e)}`));
  };
  const externalTemporal = env.TEMPORAL_ADDRESS || undefined;
  const externalMongo = env.MONGODB_URI || undefined;
  const externalSmtp = env.SMTP_URL || undefined;
  // PostgreSQL runs as its own user when we are root: it must be able to enter the temp dir.
  await chmod(dir, 0o755);

  const pids: BenchServices['pids'] = {};
  try {
    let postgres: Postgres | undefined;
    if (!externalTemporal || !externalMongo) {
      postgres = await startPostgres({
        clusterDir: path.join(dir, 'postgres'),
        passwordFile: path.join(dir, 'postgres-password'),
        // Thrown away at the end: fsync off. A node's cluster is durable, which costs its writes a
        // flush each; the figures here are therefore a little kinder than a node's.
        durable: false,
        logFile: path.join(dir, 'postgres.log'),
      });
      stops.push(() => postgres!.stop());
      pids.postgres = postgres.process.pid;
      if (!externalMongo) prepareFerretDbDatabase(postgres, 'ferretdb');
    }
    // Both at once: together they take as long as the slower of the two.
    const [temporal, ferret, smtpPort] = await Promise.allSettled([
      externalTemporal ? undefined : startTemporalServer({ dir: path.join(dir, 'temporal'), postgres: postgres!, logFile: path.join(dir, 'temporal.log') }),
      externalMongo
        ? undefined
        : startFerretDb({ dataDir: path.join(dir, 'ferretdb'), postgresqlUrl: postgres!.url('ferretdb'), logFile: path.join(dir, 'ferretdb.log') }),
      externalSmtp ? undefined : startMail(dir, root, stops, pids),
    ]);
    // Stopped before PostgreSQL (pushed after it): its clients first.
    if (temporal.status === 'fulfilled' && temporal.value) {
      stops.push(temporal.value.stop);
      pids.temporal = temporal.value.process.pid;
    }
    if (ferret.status === 'fulfilled' && ferret.value) {
      stops.push(ferret.value.stop);
      pids.ferretdb = ferret.value.process.pid;
    }
    const failed = [temporal, ferret, smtpPort].find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;

    const temporalAddress = externalTemporal ?? (temporal as PromiseFulfilledResult<{ address: string }>).value.address;
    const mongoUri = externalMongo
      ? withDatabase(externalMongo, database)
      : (ferret as PromiseFulfilledResult<Awaited<ReturnType<typeof startFerretDb>>>).value.databaseUri(database);
    const smtpUrl = externalSmtp ?? `smtp://127.0.0.1:${(smtpPort as PromiseFulfilledResult<number>).value}`;
    const temporalName = `temporal-server ${env.TEMPORAL_SERVER_VERSION || DEFAULT_TEMPORAL_SERVER_VERSION} (PostgreSQL)`;
    log(`temporal: ${externalTemporal ? `external at ${temporalAddress}` : `${temporalName} at ${temporalAddress}`}`);
    log(`mongo: ${externalMongo ? 'external (MONGODB_URI)' : 'FerretDB on PostgreSQL'}, database ${database}`);
    log(`smtp: ${externalSmtp ? 'external (SMTP_URL)' : `the mail service at ${smtpUrl}`}`);
    return {
      temporalAddress,
      temporal: externalTemporal ? 'external' : temporalName,
      mongoUri,
      mongo: externalMongo ? 'external' : 'ferretdb-postgresql',
      smtpUrl,
      external: { temporal: Boolean(externalTemporal), mongo: Boolean(externalMongo) },
      pids,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The node's mail service (SMTP catcher keeping every message on disk), from dist/ like the worker. */
async function startMail(dir: string, root: string, stops: Array<() => Promise<void>>, pids: BenchServices['pids']): Promise<number> {
  const [smtp, ui] = [await freePort(), await freePort()];
  const mail = spawnProcess({
    name: 'mail',
    command: process.execPath,
    args: ['--enable-source-maps', path.join(root, 'dist/stack/mail-main.js')],
    env: { ...process.env, MAIL_DIR: path.join(dir, 'mail'), SMTP_PORT: String(smtp), MAIL_UI_PORT: String(ui) },
    logFile: path.join(dir, 'mail.log'),
  });
  stops.push(() => mail.stop());
  pids.mail = mail.pid;
  await waitForPort('127.0.0.1', smtp, { timeoutMs: 30_000, process: mail });
  return smtp;
}
