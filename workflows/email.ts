/**
 * Email workflows besides the assignments' own: an administrator's resend of one email from the
 * delivery log, and the delivery lane that tries failed emails again.
 *
 * The API process has no SMTP transport, so a resend asks a worker through a small workflow whose
 * id is per request (`email-resend/<key>/<unique>`): two clicks are two resends, each audited by
 * the API.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ActorRef } from '../domain/assignment';
import type { ResendResult, createEmailActivities } from '../workers/activities/email';

const { redeliverDueEmails } = proxyActivities<ReturnType<typeof createEmailActivities>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  // One try per run: the schedule's next run, seconds later, is the retry, so a stuck run never
  // holds the lane for long.
  retry: { maximumAttempts: 1 },
});

const { resendEmail } = proxyActivities<ReturnType<typeof createEmailActivities>>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  // Someone is waiting on the first attempts, so they come quickly; while SMTP stays down they slow
  // down, and after a day the resend gives up: the log keeps the last error, and the admin can ask again.
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export interface ResendEmailInput {
  /** The outbox key, e.g. `a1.tomsk.1:returned:v4`. */
  key: string;
  requestedBy: ActorRef;
  /** The email had been sent when the admin asked: send it once more rather than deliver it. */
  again: boolean;
}

export interface ResendEmailOutput {
  key: string;
  result: ResendResult;
}

export async function resendEmailWorkflow(input: ResendEmailInput): Promise<ResendEmailOutput> {
  const result = await resendEmail({ key: input.key, again: input.again });
  return { key: input.key, result };
}

/** The delivery lane, started by a schedule (workers/schedules.ts): every failed email whose time has come. */
export async function redeliverEmailsWorkflow(): Promise<Awaited<ReturnType<typeof redeliverDueEmails>>> {
  return redeliverDueEmails({});
}
