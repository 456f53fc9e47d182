/**
 * A whole Kontrol node on one machine, as `npm start` runs it: PostgreSQL, the Temporal server
 * and its Web UI, FerretDB on PostgreSQL, the mail catcher, the worker and the API, each a
 * process of its own under one Supervisor. A service named by TEMPORAL_ADDRESS, MONGODB_URI or
 * SMTP_URL is used as it is and not started here.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { startFerretDb } from './ferretdb';
import { prepareFerretDbDatabase } from './ferretdb-indexes';
import { freePort } from './ports';
import { spawnProcess, waitForPort, waitUntil, type ManagedProcess } from './processes';
import { startPostgres, type Postgres } from './postgres';
import { Supervisor, type RunningService } from './supervisor';
import { waitForTemporal } from './temporal-probe';
import { freeTemporalPort, STANDARD_TEMPORAL_PORTS, startTemporalServer, type TemporalServerPorts } from './temporal-server';
import { startTemporalUi } from './temporal-ui';

const HOST = '127.0.0.1';
/** Bumped when the layout of DATA_DIR changes in a way an older version cannot read. */
export const DATA_FORMAT = 2;
export const FERRETDB_DATABASE = 'ferretdb';
/** The worker and the API drain for up to 30 s on SIGTERM (config/process.ts); let them. */
const APP_DRAIN_MS = 35_000;

export interface NodePorts {
  postgres: number;
  temporal: TemporalServerPorts;
  temporalUi: number;
  ferretdb: number;
  smtp: number;
  mailUi: number;
  api: number;
}

export const statusFileOf = (dataDir: string) => path.join(dataDir, 'run', 'services.json');

/** Where an authority's node listens unless told otherwise (every port on 127.0.0.1). */
export const DEFAULT_NODE_PORTS: NodePorts = {
  // Not 5432: that is where Debian's own cluster listens when the package starts one.
  postgres: 15432,
  temporal: STANDARD_TEMPORAL_PORTS,
  temporalUi: 8233,
  ferretdb: 27017,
  smtp: 1025,
  mailUi: 8025,
  api: 3000,
};

/** A free port for every listener: for tests that run a node beside others. */
export async function freeNodePorts(): Promise<NodePorts> {
  const taken = new Set<number>();
  const next = async (pick: () => Promise<number> = () => freePort(HOST)) => {
    let port: number;
    do port = await pick();
    while (taken.has(port));
    taken.add(port);
    return port;
  };
  const temporal = {} as TemporalServerPorts;
  for (const key of Object.keys(STANDARD_TEMPORAL_PORTS) as Array<keyof TemporalServerPorts>) temporal[key] = await next(() => freeTemporalPort(key));
  return { postgres: await next(), temporal, temporalUi: await next(), ferretdb: await next(), smtp: await next(), mailUi: await next(), api: await next() };
}

export class DataDirError extends Error {}

/**
 * Refuses a DATA_DIR written by the version that kept Temporal and FerretDB in SQLite: its state
 * cannot be read by this one, and the two must never be mixed. Marks a new or current one.
 */
export function checkDataDir(dataDir: string): void {
  const marker = path.join(dataDir, 'kontrol-node.json');
  if (existsSync(marker)) {
    const { format } = JSON.parse(readFileSync(marker, 'utf8')) as { format?: number };
    if (format !== DATA_FORMAT) {
      throw new DataDirError(
        `Каталог данных ${dataDir} записан другой версией Kontrol (формат ${String(format)}, эта версия читает формат ${DATA_FORMAT}). ` +
          'Запустите ту версию, которой он создан, или укажите другой DATA_DIR.',
      );
    }
    return;
  }
  const sqliteTemporal = path.join(dataDir, 'temporal', 'temporal.db');
  const ferretDir = path.join(dataDir, 'ferretdb');
  const sqliteFerret = existsSync(ferretDir) && readdirSync(ferretDir).some((f) => f.endsWith('.sqlite'));
  if (existsSync(sqliteTemporal) || sqliteFerret) {
    throw new DataDirError(
      [
        `Каталог данных ${dataDir} создан прежней версией Kontrol: Temporal dev server и FerretDB на SQLite.`,
        'Эта версия хранит всё в PostgreSQL и не смешивает старые данные с новыми, поэтому не запускается на нём.',
        'Что сделать:',
        `  • чтобы начать с чистого узла, переименуйте каталог (например, mv ${dataDir} ${dataDir}-sqlite) и запустите снова;`,
        '    старые данные останутся в переименованном каталоге, их можно открыть прежней версией;',
        '  • или укажите другой каталог: DATA_DIR=/путь/к/новому/каталогу npm start.',
      ].join('\n'),
    );
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(marker, JSON.stringify({ format: DATA_FORMAT, store: 'postgresql', createdAt: new Date().toISOString() }, null, 2) + '\n');
}

export interface NodeOptions {
  dataDir: string;
  ports: NodePorts;
  /** Environment of the worker and the API (their config); service addresses are added to it. */
  env: NodeJS.ProcessEnv;
  log(line: string): void;
  /** Start the Temporal Web UI (default true). */
  ui?: boolean;
  /** fsync off: for throwaway test nodes only. */
  durablePostgres?: boolean;
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** The supervisor to use: the caller's, so it can stop a node that is still starting. */
  supervisor?: Supervisor;
}

export interface KontrolNode {
  supervisor: Supervisor;
  statusFile: string;
  apiUrl: string;
  temporalAddress: string;
  mongoUri: string;
  smtpUrl: string;
  temporalUiUrl?: string;
  mailUiUrl?: string;
  postgres?: Pick<Postgres, 'host' | 'port' | 'user' | 'password'>;
  stop(): Promise<void>;
}

/** The file a Node entry point of ours runs from: the .ts under tsx, the compiled .js in dist/. */
/**
 * V8 limits for the worker. Left to itself V8 sizes the heap by the machine's memory and collects
 * late: issuing to 2,000 addressees took the worker to 552 MB RSS (`npx tsx bench/issue-and-submit.ts
 * --n=2000 --list-total=3000`). With a 256 MB old space and 2 MB semi-spaces (in the main thread
 * and the workflow thread alike) the same run peaked at 290-300 MB, issuing as fast, for about a
 * fifth more of the worker's CPU in collections. 256 MB still holds the largest thing the worker
 * reads at once: the tallier's pass over every row after a rebuild (about 1 KB a row).
 * docker-compose.yml and `npm run start:worker` pass the same.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=256', '--max-semi-space-size=2'];

function appEntry(relative: string, nodeFlags: string[] = []): { command: string; args: string[] } {
  const compiled = path.extname(__filename) === '.js';
  const file = path.join(__dirname, '..', `${relative}${compiled ? '.js' : '.ts'}`);
  return { command: process.execPath, args: [...nodeFlags, ...(compiled ? ['--enable-source-maps', file] : ['--import', 'tsx', file])] };
}

function wrap(process: ManagedProcess, stop?: () => Promise<void>): RunningService {
  return { process, stop: stop ?? (() => process.stop()) };
}

export async function startNode(options: NodeOptions): Promise<KontrolNode> {
  const { dataDir, ports, log } = options;
  checkDataDir(dataDir);
  const logs = path.join(dataDir, 'logs');
  const statusFile = statusFileOf(dataDir);
  const supervisor = options.supervisor ?? new Supervisor({ statusFile, log, backoff: options.backoff });
  const env = options.env;
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const taskQueue = env.TEMPORAL_TASK_QUEUE || 'kontrol';

  let temporalAddress = env.TEMPORAL_ADDRESS;
  let mongoUri = env.MONGODB_URI;
  let smtpUrl = env.SMTP_URL;
  let temporalUiUrl: string | undefined;
  let mailUiUrl: string | undefined;
  let postgres: Postgres | undefined;

  try {
    if (!temporalAddress || !mongoUri) {
      await supervisor.add({
        name: 'postgres',
        label: 'PostgreSQL',
        start: async () => {
          postgres = await startPostgres({
            clusterDir: path.join(dataDir, 'postgres'),
            passwordFile: path.join(dataDir, 'secrets', 'postgres-password'),
            port: ports.postgres,
            durable: options.durablePostgres,
            logFile: path.join(logs, 'postgres.log'),
          });
          return wrap(postgres.process, () => postgres!.stop());
        },
      });
    }
    const pg = () => postgres!;

    if (!temporalAddress) {
      await supervisor.add({
        name: 'temporal',
        label: 'Temporal',
        start: async () => {
          const server = await startTemporalServer({
            dir: path.join(dataDir, 'temporal'),
            postgres: pg(),
            ports: ports.temporal,
            namespace,
            logFile: path.join(logs, 'temporal.log'),
          });
          return wrap(server.process, server.stop);
        },
      });
      temporalAddress = `${HOST}:${ports.temporal.frontend}`;
      if (options.ui !== false) {
        const address = temporalAddress;
        await supervisor.add({
          name: 'temporal-ui',
          label: 'Temporal UI',
          start: async () => {
            const ui = await startTemporalUi({ dir: path.join(dataDir, 'temporal-ui'), temporalAddress: address, namespace, port: ports.temporalUi, logFile: path.join(logs, 'temporal-ui.log') });
            return wrap(ui.process, ui.stop);
          },
        });
        temporalUiUrl = `http://${HOST}:${ports.temporalUi}`;
      }
    }

    if (!mongoUri) {
      prepareFerretDbDatabase(pg(), FERRETDB_DATABASE);
      await supervisor.add({
        name: 'ferretdb',
        label: 'FerretDB',
        start: async () => {
          const ferret = await startFerretDb({
            dataDir: path.join(dataDir, 'ferretdb'),
            postgresqlUrl: pg().url(FERRETDB_DATABASE),
            port: ports.ferretdb,
            logFile: path.join(logs, 'ferretdb.log'),
          });
          return wrap(ferret.process, ferret.stop);
        },
      });
      mongoUri = `mongodb://${HOST}:${ports.ferretdb}/kontrol`;
    }

    if (!smtpUrl) {
      const mail = appEntry('stack/mail-main');
      await supervisor.add({
        name: 'smtp',
        label: 'почта (SMTP)',
        start: async () => {
          const child = spawnProcess({
            name: 'smtp',
            ...mail,
            env: { ...process.env, MAIL_DIR: path.join(dataDir, 'mail'), SMTP_PORT: String(ports.smtp), MAIL_UI_PORT: String(ports.mailUi) },
            logFile: path.join(logs, 'mail.log'),
          });
          await startedOrStop(child, () => waitForPort(HOST, ports.smtp, { timeoutMs: 30_000, process: child }));
          return wrap(child);
        },
      });
      smtpUrl = `smtp://${HOST}:${ports.smtp}`;
      mailUiUrl = `http://${HOST}:${ports.mailUi}`;
    }

    const appEnv: NodeJS.ProcessEnv = {
      ...env,
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: temporalAddress,
      MONGODB_URI: mongoUri,
      SMTP_URL: smtpUrl,
      PORT: String(ports.api),
      KONTROL_SERVICES_STATUS: statusFile,
    };
    const address = temporalAddress;
    const worker = appEntry('workers/main', WORKER_NODE_FLAGS);
    await supervisor.add({
      name: 'worker',
      label: 'обработчик задач (worker)',
      start: async () => {
        const child = spawnProcess({ name: 'worker', ...worker, env: appEnv, logFile: path.join(logs, 'worker.log') });
        await startedOrStop(child, () => waitForPoller(address, namespace, taskQueue, child));
        return wrap(child, () => child.stop(APP_DRAIN_MS));
      },
    });
    const api = appEntry('api/main');
    // Where the API listens, as seen from here: a wildcard address answers on loopback.
    const apiHost = !appEnv.HOST || appEnv.HOST === '0.0.0.0' || appEnv.HOST === '::' ? HOST : appEnv.HOST.includes(':') ? `[${appEnv.HOST}]` : appEnv.HOST;
    const apiUrl = `http://${apiHost}:${ports.api}`;
    await supervisor.add({
      name: 'api',
      label: 'API и страницы',
      start: async () => {
        const child = spawnProcess({ name: 'api', ...api, env: appEnv, logFile: path.join(logs, 'api.log') });
        await startedOrStop(child, () =>
          waitUntil(
            async () => {
              const response = await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
              if (!response.ok) throw new Error(`healthz answered ${response.status}`);
            },
            { what: `the API at ${apiUrl}`, timeoutMs: 120_000, intervalMs: 250, process: child },
          ),
        );
        return wrap(child, () => child.stop(APP_DRAIN_MS));
      },
    });

    return {
      supervisor,
      statusFile,
      apiUrl,
      temporalAddress: address,
      mongoUri,
      smtpUrl,
      temporalUiUrl,
      mailUiUrl,
      postgres,
      stop: () => supervisor.stopAll(),
    };
  } catch (error) {
    await supervisor.stopAll();
    throw error;
  }
}

async function startedOrStop(child: ManagedProcess, ready: () => Promise<unknown>): Promise<void> {
  try {
    await ready();
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/**
 * Ready once this very process polls the task queue: the SDK names its pollers `<pid>@<host>`,
 * and a poller of a worker that was killed stays listed for a minute.
 */
function waitForPoller(address: string, namespace: string, taskQueue: string, child: ManagedProcess): Promise<void> {
  return waitForTemporal(
    { address, what: `the worker (pid ${child.pid}) to poll ${taskQueue}`, timeoutMs: 180_000, intervalMs: 500, process: child, stepMs: 5_000 },
    async (connection) => {
      const response = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: proto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (!(response.pollers ?? []).some((p) => p.identity?.startsWith(`${child.pid}@`))) throw new Error('the worker does not poll yet');
    },
  );
}
