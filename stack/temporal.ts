/**
 * A Temporal dev server (the Temporal CLI's `server start-dev`, SQLite-backed) as a child process.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, withFreePort } from './ports';
import { spawnProcess, waitForPort, type ManagedProcess } from './processes';
import { waitForTemporal } from './temporal-probe';
import { temporalBinary } from './tools';

const HOST = '127.0.0.1';
const NAMESPACE = 'default';

export interface TemporalDevServerOptions {
  /** Keep state in <dataDir>/temporal.db across restarts; in memory when omitted. */
  dataDir?: string;
  /** gRPC frontend port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted and the UI is enabled. */
  uiPort?: number;
  /** Serve the Web UI; defaults to true when uiPort is given, false otherwise. */
  ui?: boolean;
  /** Append the server's output here; kept in memory (for error messages) when omitted. */
  logFile?: string;
  /** Print the server's output to our terminal instead; takes precedence over logFile. */
  inheritOutput?: boolean;
  /** How long to wait for the `default` namespace to be served (default 60 s). */
  readyTimeoutMs?: number;
}

export interface TemporalDevServer {
  /** host:port for Connection.connect / NativeConnection.connect. */
  address: string;
  port: number;
  namespace: typeof NAMESPACE;
  uiUrl?: string;
  /** Resolves once the server has exited; safe to call repeatedly. */
  stop(): Promise<void>;
}

/** Resolves once the server answers describeNamespace for `default`, not merely opens its port. */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const binary = temporalBinary();
  const ui = options.ui ?? options.uiPort !== undefined;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });

  return withFreePort(options.port, async (port) => {
    const uiPort = ui ? (options.uiPort ?? (await freePort(HOST))) : undefined;
    // No --http-port/--metrics-port: the CLI picks free ones itself, which avoids two more
    // races between freePort() and the bind; nothing here uses either endpoint.
    const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port), '--log-level', 'warn'];
    args.push('--namespace', NAMESPACE);
    // One task-queue partition: with the default several, a workflow task can wait seconds on a
    // partition no poller is on, which a single-process dev server gains nothing from.
    args.push('--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1');
    args.push('--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1');
    args.push(...(uiPort !== undefined ? ['--ui-port', String(uiPort)] : ['--headless']));
    if (options.dataDir) args.push('--db-filename', path.join(options.dataDir, 'temporal.db'));

    const server = spawnProcess({
      name: 'temporal',
      command: binary,
      args,
      logFile: options.logFile,
      inheritOutput: options.inheritOutput,
    });
    const address = `${HOST}:${port}`;
    try {
      const deadline = Date.now() + readyTimeoutMs;
      await waitForPort(HOST, port, { timeoutMs: readyTimeoutMs, process: server });
      await waitForDefaultNamespace(address, server, Math.max(1, deadline - Date.now()));
      if (uiPort !== undefined) {
        await waitForPort(HOST, uiPort, { timeoutMs: Math.max(1, deadline - Date.now()), process: server });
      }
    } catch (error) {
      await server.stop();
      throw error;
    }
    return {
      address,
      port,
      namespace: NAMESPACE,
      uiUrl: uiPort !== undefined ? `http://${HOST}:${uiPort}` : undefined,
      stop: () => server.stop(),
    };
  });
}

function waitForDefaultNamespace(address: string, server: ManagedProcess, timeoutMs: number): Promise<void> {
  return waitForTemporal(
    { address, what: `temporal at ${address} to serve the "${NAMESPACE}" namespace`, timeoutMs, process: server },
    (connection) => connection.workflowService.describeNamespace({ namespace: NAMESPACE }),
  );
}
