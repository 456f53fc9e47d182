/**
 * Closes the delivery log's finished slices and days (store/outbox.ts): counts them once, so a
 * page of the log reads counts instead of emails. Counts the open slices' finished seconds too,
 * every two seconds, so a page right after a burst reads the few seconds not counted yet instead
 * of the whole slice. Idempotent, so several workers may run it at once; a pass the store refuses
 * is tried again at the next.
 */
import type { Logger } from '../config/logger';
import type { Outbox } from '../store/outbox';

/** A pass finds nothing open to do in two small reads; one with a burst's seconds, a few more. */
const EVERY_MS = 2_000;

export function startOutboxCloser(outbox: Outbox, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const pass = () => {
    // One pass at a time: a slow one is not joined by the next.
    if (running) return;
    running = outbox
      .closeFinished()
      .then((closed) => {
        if (closed.slices + closed.days > 0) logger.debug(closed, 'delivery log: periods closed');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'delivery log: closing periods failed; trying again'))
      .finally(() => (running = undefined));
  };
  pass();
  const timer = setInterval(pass, EVERY_MS);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
