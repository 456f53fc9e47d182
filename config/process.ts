/**
 * Process lifecycle shared by the api and worker entry points: start, log fatal errors once, and
 * on SIGTERM/SIGINT drain and close before exiting.
 */
import type { Logger } from './logger';
import { ConfigError } from './index';

export function runProcess(name: string, start: () => Promise<{ logger: Logger; stop(): Promise<void> }>): void {
  let stopping = false;
  let running: { logger: Logger; stop(): Promise<void> } | undefined;

  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    running?.logger.info({ reason }, `${name} stopping`);
    const force = setTimeout(() => process.exit(code || 1), 30_000);
    force.unref();
    try {
      await running?.stop();
    } finally {
      process.exit(code);
    }
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('unhandledRejection', (error) => {
    (running?.logger ?? console).error({ err: error }, 'unhandled rejection');
    void shutdown('unhandledRejection', 1);
  });
  // The process's state is unknown after an exception nobody caught: log it, drain what can be
  // drained and exit non-zero, so the supervisor (npm start, systemd, Docker) starts a fresh one.
  process.on('uncaughtException', (error) => {
    (running?.logger ?? console).error({ err: error }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });

  start().then(
    (r) => {
      running = r;
    },
    (error: unknown) => {
      if (error instanceof ConfigError) console.error(error.message);
      else console.error(`${name} failed to start:`, error);
      process.exit(1);
    },
  );
}
