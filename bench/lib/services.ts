/**
 * The services the benchmark runs against: those the environment names (TEMPORAL_ADDRESS,
 * MONGODB_URI) or, for each one not named, a local stand-in started from stack/ in a temp dir.
 */
import path from 'node:path';
import { startFerretDb } from '../../stack/ferretdb';
import { startTemporalDevServer } from '../../stack/temporal';
import { log } from './util';

export interface BenchServices {
  temporalAddress: string;
  temporal: 'dev-server' | 'external';
  /** The server's URI with the benchmark's own database. */
  mongoUri: string;
  mongo: 'ferretdb-sqlite' | 'external';
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

export async function startServices(dir: string, database: string, env: NodeJS.ProcessEnv = process.env): Promise<BenchServices> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log(`stopping a service failed: ${String(e)}`));
  };
  const externalTemporal = env.TEMPORAL_ADDRESS || undefined;
  const externalMongo = env.MONGODB_URI || undefined;

  // Both at once: together they take as long as the slower of the two.
  const [temporal, ferret] = await Promise.allSettled([
    externalTemporal ? undefined : startTemporalDevServer({ ui: false, logFile: path.join(dir, 'temporal.log') }),
    externalMongo ? undefined : startFerretDb({ dataDir: path.join(dir, 'ferretdb'), logFile: path.join(dir, 'ferretdb.log') }),
  ]);
  if (temporal.status === 'fulfilled' && temporal.value) stops.push(temporal.value.stop);
  if (ferret.status === 'fulfilled' && ferret.value) stops.push(ferret.value.stop);
  const failed = [temporal, ferret].find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }

  const temporalAddress = externalTemporal ?? (temporal.status === 'fulfilled' ? temporal.value!.address : '');
  const mongoUri = externalMongo
    ? withDatabase(externalMongo, database)
    : (ferret as PromiseFulfilledResult<Awaited<ReturnType<typeof startFerretDb>>>).value.databaseUri(database);
  log(`temporal: ${externalTemporal ? `external at ${temporalAddress}` : `dev server (in memory) at ${temporalAddress}`}`);
  log(`mongo: ${externalMongo ? 'external (MONGODB_URI)' : 'FerretDB on SQLite'}, database ${database}`);
  return {
    temporalAddress,
    temporal: externalTemporal ? 'external' : 'dev-server',
    mongoUri,
    mongo: externalMongo ? 'external' : 'ferretdb-sqlite',
    stop,
  };
}
