/**
 * The tallier: the one writer of the read model's summaries (store/tallies.ts), run beside the
 * worker. It holds a lease, readies the summaries (finishing a pass a stopped tallier left, or
 * rebuilding them), then counts changed rows as they come: at once while there are any, else every
 * IDLE_MS.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../config/logger';
import type { Tallies } from '../store/tallies';

const IDLE_MS = 300;
const LEASE_MS = 30_000;
const RETRY_MS = 5_000;

export interface RunningTallier {
  /** Resolves once the summaries are ready (or another tallier holds the lease). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function startTallier(tallies: Tallies, logger: Logger): RunningTallier {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let stopping = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const loop = (async () => {
    let prepared = false;
    let leaseAt = 0;
    while (!stopping) {
      try {
        if (Date.now() - leaseAt > LEASE_MS / 3) {
          if (!(await tallies.lease(owner, LEASE_MS))) {
            prepared = false;
            markReady();
            await sleep(RETRY_MS);
            continue;
          }
          leaseAt = Date.now();
        }
        if (!prepared) {
          const started = Date.now();
          if (await tallies.prepare()) logger.info({ ms: Date.now() - started }, 'summaries: rebuilding from the rows');
          prepared = true;
          markReady();
        }
        const counted = await tallies.pass();
        if (counted === 0) await sleep(IDLE_MS);
      } catch (error) {
        logger.warn({ err: error }, 'summaries: a pass failed; trying again');
        markReady();
        await sleep(RETRY_MS);
      }
    }
    await tallies.release(owner).catch(() => undefined);
  })();

  return {
    ready,
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}
