/**
 * The reference workload: the least an assignment has to do, on the same server and database as
 * the app. One workflow task, in which a local activity writes one row to MongoDB (the app writes
 * its projection there), then a durable timer far ahead keeps the workflow open, as an
 * assignment's deadline does. It counts as issued when its row is written.
 */
import { proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { createReferenceActivities } from '../lib/reference';

const { writeReferenceRow } = proxyLocalActivities<ReturnType<typeof createReferenceActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function referenceWorkflow(input: { id: string; run: string }): Promise<void> {
  await writeReferenceRow(input);
  // Open for about ten years, like an assignment waiting for its deadline.
  await sleep('3650 days');
}
