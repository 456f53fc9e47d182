/**
 * The reference workload's activity (see bench/workflows/reference.ts) and its run: N reference
 * workflows started as the baseline's are, each counted done when its local activity has written
 * its row to MongoDB. The activity runs in this process, so it notes the moment itself.
 */
import type { Client } from '@temporalio/client';
import type { mongo } from 'mongoose';
import { referenceWorkflow } from '../workflows/reference';
import { inParallel } from './util';

export interface ReferenceRow {
  _id: string;
  run: string;
  at: Date;
}

export function createReferenceActivities({ rows, written }: { rows: mongo.Collection<ReferenceRow>; written: (id: string) => void }) {
  return {
    async writeReferenceRow({ id, run }: { id: string; run: string }): Promise<void> {
      try {
        await rows.insertOne({ _id: id, run, at: new Date() });
      } catch (error) {
        // A retry after a write that did land: the row is there, which is all that counts.
        if ((error as { code?: number }).code !== 11000) throw error;
      }
      written(id);
    },
  };
}

/** Who is waiting for which row: the activity calls `written`, the run awaits `wait`. */
export class ReferenceTracker {
  private readonly waiting = new Map<string, () => void>();
  /** Epoch ms at which each row was written, by id. */
  readonly writtenAt = new Map<string, number>();

  written = (id: string): void => {
    if (!this.writtenAt.has(id)) this.writtenAt.set(id, Date.now());
    this.waiting.get(id)?.();
  };

  wait(id: string): Promise<void> {
    if (this.writtenAt.has(id)) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
}

/**
 * Starts `count` reference workflows with `concurrency` starts in flight and waits until every
 * row is written. Returns the epoch ms of the first start and each row's write, in start order.
 */
export async function runReference(
  client: Client,
  tracker: ReferenceTracker,
  { taskQueue, count, label, concurrency, timeoutMs }: { taskQueue: string; count: number; label: string; concurrency: number; timeoutMs: number },
): Promise<{ startedAt: number; doneAt: number[]; workflowIds: string[] }> {
  const ids = Array.from({ length: count }, (_, i) => `bench-reference/${label}/${i}`);
  const rows = ids.map((id) => tracker.wait(id));
  const startedAt = Date.now();
  await inParallel(ids, concurrency, async (workflowId) => {
    await client.workflow.start(referenceWorkflow, { taskQueue, workflowId, args: [{ id: workflowId, run: label }] });
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    Promise.all(rows).then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) throw new Error(`reference: ${ids.filter((id) => !tracker.writtenAt.has(id)).length} of ${count} rows not written within ${timeoutMs} ms`);
  return { startedAt, doneAt: ids.map((id) => tracker.writtenAt.get(id)!), workflowIds: ids };
}
