/**
 * The Temporal server built from go.temporal.io/server, persistence and visibility both in
 * PostgreSQL, as a child process: its schema created and upgraded by temporal-sql-tool, its config
 * written from our settings, the namespace registered once it serves.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import { freePort, freePortInRange } from './ports';
import { spawnProcess, waitForPort, type ManagedProcess } from './processes';
import { waitForTemporal } from './temporal-probe';
import type { Postgres } from './postgres';
import { temporalSchemaDir, temporalServerBinary, temporalSqlToolBinary } from './tools';

const HOST = '127.0.0.1';
export const TEMPORAL_DATABASES = { main: 'temporal', visibility: 'temporal_visibility' } as const;

/** The server's listeners: the frontend, and each service's gRPC and membership ports. */
export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** The ports a Temporal server uses by default, so tools and docs that assume them work. */
export const STANDARD_TEMPORAL_PORTS: TemporalServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
};

export interface TemporalServerOptions {
  /** Holds the generated config (config/) and nothing else: the state is in PostgreSQL. */
  dir: string;
  postgres: Pick<Postgres, 'host' | 'port' | 'user' | 'password' | 'ensureDatabase'>;
  /** Free ones when omitted. */
  ports?: TemporalServerPorts;
  /**
   * Fixed when the cluster is created: changing it later needs a new database. Four lets the
   * history service work on several assignments at once on a small machine.
   */
  numHistoryShards?: number;
  namespace?: string;
  /** How long closed workflow histories are kept (days). */
  retentionDays?: number;
  logFile?: string;
  inheritOutput?: boolean;
  readyTimeoutMs?: number;
}

export interface TemporalServer {
  address: string;
  port: number;
  namespace: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

function sqlTool(postgres: TemporalServerOptions['postgres'], database: string, args: string[]): void {
  const result = spawnSync(
    temporalSqlToolBinary(),
    ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user, '--db', database, ...args],
    // The password goes through the environment, not the command line that `ps` shows.
    { encoding: 'utf8', env: { ...process.env, SQL_PASSWORD: postgres.password } },
  );
  if (result.status !== 0) {
    throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed: ${(result.stderr || result.stdout || result.error?.message || '').trim()}`);
  }
}

/**
 * Creates both databases and their schema when they are new, and applies any newer schema
 * version the server ships: run before every start, it does nothing when all is current.
 */
export function prepareTemporalSchema(postgres: TemporalServerOptions['postgres']): void {
  const schema = temporalSchemaDir();
  for (const [database, versioned] of [
    [TEMPORAL_DATABASES.main, path.join(schema, 'temporal', 'versioned')],
    [TEMPORAL_DATABASES.visibility, path.join(schema, 'visibility', 'versioned')],
  ] as const) {
    postgres.ensureDatabase(database);
    // setup-schema -v 0.0 only creates the version table; it is refused when that exists.
    try {
      sqlTool(postgres, database, ['setup-schema', '-v', '0.0']);
    } catch (error) {
      if (!/already exists/i.test(String(error))) throw error;
    }
    sqlTool(postgres, database, ['update-schema', '-d', versioned]);
  }
}

/** Membership ports are stored in a smallint column: they must stay below 32768. */
export function freeTemporalPort(key: keyof TemporalServerPorts): Promise<number> {
  return key.endsWith('Membership') ? freePortInRange(20_000, 32_000, HOST) : freePort(HOST);
}

async function allocatePorts(): Promise<TemporalServerPorts> {
  const ports = {} as TemporalServerPorts;
  const taken = new Set<number>();
  for (const key of Object.keys(STANDARD_TEMPORAL_PORTS) as Array<keyof TemporalServerPorts>) {
    let port: number;
    do port = await freeTemporalPort(key);
    while (taken.has(port));
    taken.add(port);
    ports[key] = port;
  }
  return ports;
}

function serverConfig(options: TemporalServerOptions, ports: TemporalServerPorts, dynamicConfigFile: string): string {
  const { postgres } = options;
  const store = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: HOST, ...(httpPort ? { httpPort } : {}) },
  });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: options.numHistoryShards ?? 4,
      datastores: {
        'postgres-default': store(TEMPORAL_DATABASES.main, 20),
        'postgres-visibility': store(TEMPORAL_DATABASES.visibility, 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: HOST } },
    services: {
      frontend: service(ports.frontend, ports.frontendMembership, ports.frontendHttp),
      history: service(ports.history, ports.historyMembership),
      matching: service(ports.matching, ports.matchingMembership),
      worker: service(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `${HOST}:${ports.frontend}`, httpAddress: `${HOST}:${ports.frontendHttp}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    publicClient: { hostPort: `${HOST}:${ports.frontend}` },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '60s' },
  };
  // YAML is a superset of JSON: the server reads this as it is.
  return JSON.stringify(config, null, 2);
}

/**
 * One node, one task-queue partition: with the default four, a task can wait on a partition no
 * poller happens to be on, and one node gains nothing from spreading the queue.
 */
const DYNAMIC_CONFIG = `# Written by Kontrol at every start (stack/temporal-server.ts); edit there.
matching.numTaskqueueReadPartitions:
  - value: 1
matching.numTaskqueueWritePartitions:
  - value: 1
`;

/** Resolves once the namespace is registered and served, not merely once the port opens. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const binary = temporalServerBinary();
  const namespace = options.namespace ?? 'default';
  prepareTemporalSchema(options.postgres);

  const configDir = path.join(path.resolve(options.dir), 'config');
  mkdirSync(configDir, { recursive: true });
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig.yaml');
  writeFileSync(dynamicConfigFile, DYNAMIC_CONFIG);

  for (let attempt = 1; ; attempt++) {
    const ports = options.ports ?? (await allocatePorts());
    // The config holds the database password: readable by us alone.
    const configFile = path.join(configDir, 'kontrol.yaml');
    writeFileSync(configFile, serverConfig(options, ports, dynamicConfigFile), { mode: 0o600 });
    // The mode of an existing file is not changed by writing it.
    chmodSync(configFile, 0o600);
    const server = spawnProcess({
      name: 'temporal',
      command: binary,
      args: ['--root', path.resolve(options.dir), '--config', 'config', '--env', 'kontrol', '--allow-no-auth', 'start'],
      logFile: options.logFile,
      inheritOutput: options.inheritOutput,
    });
    const address = `${HOST}:${ports.frontend}`;
    try {
      const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
      const deadline = Date.now() + readyTimeoutMs;
      await waitForPort(HOST, ports.frontend, { timeoutMs: readyTimeoutMs, process: server });
      await ensureNamespace(address, namespace, options.retentionDays ?? 30, server, Math.max(1, deadline - Date.now()));
      return { address, port: ports.frontend, namespace, process: server, stop: () => server.stop(15_000) };
    } catch (error) {
      await server.stop();
      // Free ports picked by us can be taken by someone else before the server binds them.
      if (!options.ports && attempt < 3 && /address already in use/i.test(String(error))) continue;
      throw error;
    }
  }
}

function ensureNamespace(address: string, namespace: string, retentionDays: number, server: ManagedProcess, timeoutMs: number): Promise<void> {
  return waitForTemporal(
    { address, what: `temporal at ${address} to serve the "${namespace}" namespace`, timeoutMs, intervalMs: 250, process: server, stepMs: 1000 },
    async (c) => {
      try {
        await c.workflowService.describeNamespace({ namespace });
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== 5 /* NOT_FOUND */) throw error;
      }
      try {
        await c.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`) });
      } catch (error) {
        if ((error as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw error;
      }
      // describeNamespace reads the database; starting workflows needs the frontend's namespace
      // cache to have it too (it refreshes every few seconds), which a task queue call shows.
      await c.workflowService.describeNamespace({ namespace });
      await c.workflowService.describeTaskQueue({ namespace, taskQueue: { name: 'kontrol-readiness-probe' } });
    },
  );
}
