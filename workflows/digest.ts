/**
 * The weekly curator digest, started by a Temporal Schedule (see workers/schedules.ts). The
 * activity is idempotent per curator and week, so a retry or a manual trigger sends nothing twice.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createDigestActivities } from '../workers/activities/digest';

const { sendCuratorDigests } = proxyActivities<ReturnType<typeof createDigestActivities>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

export async function curatorDigestWorkflow(): Promise<Awaited<ReturnType<typeof sendCuratorDigests>>> {
  return sendCuratorDigests({ at: workflowInfo().startTime.toISOString() });
}
