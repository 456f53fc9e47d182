/**
 * The weekly curator digest, started by a Temporal Schedule (see workers/schedules.ts). The
 * activity is idempotent per curator and week, so a retry or a manual trigger sends nothing twice.
 *
 * Since `digest-deadline-v1` a run has a deadline: it retries until then, and a run that cannot
 * finish by it records the week as missed and tells the administrators before it ends failed. The
 * next week's digest tells each curator which earlier digests they did not get.
 */
import { RetryState, SearchAttributeType, defineSearchAttributeKey, type Duration } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, TimeoutFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../domain/errors';
import type { DigestRunResult, createDigestActivities } from '../workers/activities/digest';

type DigestActivities = ReturnType<typeof createDigestActivities>;

const RETRY = { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' } as const;

const { sendCuratorDigests } = proxyActivities<DigestActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: RETRY,
});

/**
 * How long a run keeps trying before the week counts as missed: long enough to ride out a
 * restart or an outage of the morning, well inside the schedule's one-day run timeout, so the
 * report below always has time to go out.
 */
export const DIGEST_DEADLINE: Duration = '12 hours';

export interface CuratorDigestInput {
  /** The run's deadline; the schedule gives none (DIGEST_DEADLINE). Tests shorten it. */
  deadline?: Duration;
}

/** Set by the schedule on each run it starts: the time it was due, before any catch-up delay. */
const SCHEDULED_AT = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export async function curatorDigestWorkflow(input: CuratorDigestInput = {}): Promise<DigestRunResult> {
  if (!patched('digest-deadline-v1')) return sendCuratorDigests({ at: workflowInfo().startTime.toISOString() });
  // The week is the one the run was due in: a run caught up after midnight still covers it.
  const at = (workflowInfo().typedSearchAttributes.get(SCHEDULED_AT) ?? workflowInfo().startTime).toISOString();

  const { sendCuratorDigests: sendWithDeadline } = proxyActivities<DigestActivities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    scheduleToCloseTimeout: input.deadline ?? DIGEST_DEADLINE,
    retry: RETRY,
  });
  const { reportMissedDigest } = proxyActivities<DigestActivities>({
    startToCloseTimeout: '5 minutes',
    // The store may still be down: keep trying for hours, still inside the run's day.
    scheduleToCloseTimeout: '6 hours',
    retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
  });
  try {
    return await sendWithDeadline({ at });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    // Past the deadline the server either times the attempt out or, when the next retry would
    // start after it, ends with the last attempt's error and the retry state TIMEOUT.
    const timedOut = error.retryState === RetryState.TIMEOUT || error.cause instanceof TimeoutFailure;
    const message = messages(error.cause).join(': ');
    await reportMissedDigest({ at, timedOut, message });
    throw ApplicationFailure.create({ type: FailureType.DigestMissed, message: `Сводка за неделю не разослана: ${message}`, nonRetryable: true, cause: error });
  }
}

/** The messages along a failure's causes, outermost first: a timeout's cause is the last attempt's error. */
function messages(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error; e instanceof Error && out.length < 4; e = e.cause) if (e.message) out.push(e.message);
  return out;
}
