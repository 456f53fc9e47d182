/**
 * The Temporal Web UI (github.com/temporalio/ui-server, its assets embedded) as a child process,
 * pointed at a Temporal frontend: where operators look at workflows, histories and timers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withFreePort } from './ports';
import { spawnProcess, waitUntil, type ManagedProcess } from './processes';
import { temporalUiBinary } from './tools';

const HOST = '127.0.0.1';

export interface TemporalUiOptions {
  /** Holds the generated config (config/kontrol.yaml). */
  dir: string;
  temporalAddress: string;
  namespace?: string;
  /** A free one when omitted. */
  port?: number;
  logFile?: string;
  inheritOutput?: boolean;
  readyTimeoutMs?: number;
}

export interface TemporalUi {
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startTemporalUi(options: TemporalUiOptions): Promise<TemporalUi> {
  const binary = temporalUiBinary();
  const root = path.resolve(options.dir);
  mkdirSync(path.join(root, 'config'), { recursive: true });
  return withFreePort(options.port, async (port) => {
    const config = {
      host: HOST,
      port,
      temporalGrpcAddress: options.temporalAddress,
      enableUi: true,
      defaultNamespace: options.namespace ?? 'default',
      // Served over plain http on this machine; a reverse proxy adds TLS in front of it.
      cors: { cookieInsecure: true, allowOrigins: [] },
      hideLogs: true,
    };
    writeFileSync(path.join(root, 'config', 'kontrol.yaml'), JSON.stringify(config, null, 2));
    const server = spawnProcess({
      name: 'temporal-ui',
      command: binary,
      args: ['--root', root, '--config', 'config', '--env', 'kontrol', 'start'],
      logFile: options.logFile,
      inheritOutput: options.inheritOutput,
    });
    const url = `http://${HOST}:${port}`;
    try {
      await waitUntil(
        async () => {
          const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
          if (!response.ok) throw new Error(`the UI answered ${response.status}`);
        },
        { what: `the Temporal UI at ${url}`, timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 200, process: server },
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    return { url, port, process: server, stop: () => server.stop() };
  });
}
