/** Small helpers shared by the benchmark: logging to stderr, bounded concurrency, polling. */
import { performance } from 'node:perf_hooks';

const began = performance.now();

/** Progress goes to stderr: stdout carries nothing but the one result line. */
export function log(message: string): void {
  process.stderr.write(`[bench +${((performance.now() - began) / 1000).toFixed(1)}s] ${message}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs fn over items with at most `limit` calls in flight, the same lane scheme the app's issuing
 * activity uses, so the baseline starts workflows exactly as concurrently as the app does.
 */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index], index);
    }
  });
  await Promise.all(lanes);
}

export interface PollOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Called before every attempt; throws to abort early (e.g. the worker process died). */
  guard?: () => void;
  /** Called at most every progressEveryMs with the last value seen. */
  progress?: (value: number) => void;
  progressEveryMs?: number;
}

/** Polls count() until it reaches target; fails with `what` and the last value on timeout. */
export async function waitForCount(count: () => Promise<number>, target: number, options: PollOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const every = options.progressEveryMs ?? 5_000;
  let lastProgress = Date.now();
  let value = -1;
  for (;;) {
    options.guard?.();
    value = await count();
    if (value >= target) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what} (${value}/${target})`);
    if (options.progress && Date.now() - lastProgress >= every) {
      lastProgress = Date.now();
      options.progress(value);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Rejects with `what` if the promise has not settled within ms: a service that stops answering must fail the run, not hang it. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
