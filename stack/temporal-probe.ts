/**
 * Waits until a Temporal frontend answers a call: one connection kept across attempts, short
 * attempts that lengthen in case the machine is just slow, and nothing left behind to throw later.
 */
import { Connection } from '@temporalio/client';
import { waitUntil, type ManagedProcess } from './processes';

export interface TemporalProbeOptions {
  address: string;
  /** What we wait for, in errors. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Fail as soon as this process exits. */
  process?: ManagedProcess;
  /** The first attempt's length; later ones grow by as much, up to 5 s. */
  stepMs?: number;
}

/** Calls `call` on a connection until it resolves; each call is bounded by its attempt's deadline. */
export async function waitForTemporal(options: TemporalProbeOptions, call: (connection: Connection) => Promise<unknown>): Promise<void> {
  const { address, stepMs = 500 } = options;
  let connection: Connection | undefined;
  let attempt = 0;
  let inFlight: Promise<void> | undefined;

  const probe = async (): Promise<void> => {
    attempt += 1;
    const attemptMs = Math.min(stepMs * attempt, 5_000);
    if (!connection) {
      // Connection.connect() with its steps split: a connect that fails must be closed, or its
      // gRPC channel keeps reconnecting in the background.
      const candidate = Connection.lazy({ address, connectTimeout: attemptMs });
      try {
        await candidate.ensureConnected();
      } catch (error) {
        await candidate.close();
        throw error;
      }
      connection = candidate;
    }
    const ready = connection;
    await ready.withDeadline(Date.now() + attemptMs, () => call(ready));
  };

  try {
    await waitUntil(
      () => {
        inFlight = probe();
        return inFlight;
      },
      { what: options.what, timeoutMs: options.timeoutMs, intervalMs: options.intervalMs ?? 100, process: options.process },
    );
  } finally {
    // Closing a connection while a call is in flight makes the SDK's retry timer throw "Channel
    // has been shut down" as an uncaught exception, so an attempt abandoned because the server
    // exited is allowed to run out first; its deadline bounds the wait.
    await inFlight?.catch(() => undefined);
    await connection?.close();
  }
}
