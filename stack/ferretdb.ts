/**
 * FerretDB as a child process: a MongoDB wire-protocol server on PostgreSQL (a node's store: each
 * MongoDB database a PostgreSQL schema) or on SQLite (one file per database in dataDir; a fast
 * throwaway store for tests that say so).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
// The driver mongoose itself uses, rather than the transitive `mongodb` package, which is not a
// dependency of ours and might not stay hoisted.
import { mongo } from 'mongoose';
import { withFreePort } from './ports';
import { spawnProcess, waitUntil, type ManagedProcess } from './processes';
import { ferretDbBinary } from './tools';

const HOST = '127.0.0.1';

export interface FerretDbOptions {
  /** Holds FerretDB's state (and the SQLite files on that backend); created if missing. */
  dataDir: string;
  /** postgres://… of an existing database: the PostgreSQL backend. SQLite in dataDir when omitted. */
  postgresqlUrl?: string;
  /** A free one when omitted. */
  port?: number;
  /** Append FerretDB's output here; kept in memory (for error messages) when omitted. */
  logFile?: string;
  /** Print FerretDB's output to our terminal instead; takes precedence over logFile. */
  inheritOutput?: boolean;
  /** How long to wait for FerretDB to answer a ping (default 30 s). */
  readyTimeoutMs?: number;
}

export interface FerretDb {
  /**
   * `mongodb://127.0.0.1:<port>/`, deliberately without a database: append one
   * (`${uri}kontrol`, or databaseUri('kontrol')) or pass mongoose's `dbName` option.
   */
  uri: string;
  port: number;
  /** The uri with a database name, e.g. databaseUri('kontrol-test-1'). */
  databaseUri(database: string): string;
  process: ManagedProcess;
  /** Resolves once FerretDB has exited; safe to call repeatedly. */
  stop(): Promise<void>;
}

/** Resolves once FerretDB answers a ping over the MongoDB protocol. */
export async function startFerretDb(options: FerretDbOptions): Promise<FerretDb> {
  const binary = ferretDbBinary();
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });

  return withFreePort(options.port, async (port) => {
    const server = spawnProcess({
      name: 'ferretdb',
      command: binary,
      args: [
        ...(options.postgresqlUrl
          ? ['--handler=postgresql']
          : // FerretDB treats the URL as a directory only with the trailing slash.
            ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`]),
        `--state-dir=${dataDir}`,
        `--listen-addr=${HOST}:${port}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=WARN',
      ],
      // The URL carries the database password: through the environment, not `ps`.
      env: options.postgresqlUrl ? { ...process.env, FERRETDB_POSTGRESQL_URL: options.postgresqlUrl } : undefined,
      logFile: options.logFile,
      inheritOutput: options.inheritOutput,
    });
    const uri = `mongodb://${HOST}:${port}/`;
    try {
      // No TCP probe first: FerretDB logs a warning for every connection that closes without
      // speaking the protocol. A driver client only retries a refused connection after its
      // 500 ms heartbeat, so short attempts with fresh clients get through sooner; they lengthen
      // in case the machine is just slow.
      let attempt = 0;
      await waitUntil(() => ping(uri, Math.min(100 * ++attempt, 2_000)), {
        what: `ferretdb at ${HOST}:${port} to answer a ping`,
        timeoutMs: options.readyTimeoutMs ?? 30_000,
        intervalMs: 50,
        process: server,
      });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return {
      uri,
      port,
      databaseUri: (database) => `${uri}${encodeURIComponent(database)}`,
      process: server,
      stop: () => server.stop(),
    };
  });
}

async function ping(uri: string, timeoutMs: number): Promise<void> {
  const client = new mongo.MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}
