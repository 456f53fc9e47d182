/**
 * Email activities: render an assignment email from stored data, record it in the outbox under
 * its idempotency key, and send it over SMTP. A retry, a replay or a second worker finds the key
 * already sent and sends nothing. An SMTP failure is recorded with the time of the next try and
 * left to the delivery lane (redeliverDueEmails, run by a schedule every few seconds): the
 * workflow that asked for the email goes on at once, and an outage delays mail without losing
 * it or holding up deadlines and reminders. Recipients come only from stored contacts, never from
 * workflow input.
 */
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DateTime } from 'luxon';
import type { Transporter } from 'nodemailer';
import type { AssignmentEmailData, AssignmentTemplateName, EmailRenderer } from '../../notifications/render';
import type { AssignmentView, Organization, OutboxEmail, Recommendation } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import type { NewOutboxEmail } from '../../store/outbox';
import { inParallel } from '../../store/serialize';
import { FailureType } from '../../domain/errors';
import { isStoreUnavailable } from '../../store/unavailable';
import { initialState, statusRu, type AssignmentState } from '../../domain/assignment';
import { EVENT_EMAILS, eventEmailKey } from '../../workflows/definitions';
import type { Audience } from '../../domain/policy';

export type { Audience } from '../../domain/policy';

export interface NotifyAssignmentInput {
  /** Idempotency key: assignment, event and step, e.g. `a1.tomsk.1:returned:v4`. */
  key: string;
  template: AssignmentTemplateName;
  assignmentId: string;
  to: Audience[];
  details?: { comment?: string; reason?: string; until?: string; approved?: boolean; step?: number };
  /**
   * The assignment as the workflow saw it when it decided to send: the read model may still be a
   * step behind (a projection in flight), and a reminder or an escalation must describe the state
   * that caused it.
   */
  state?: Pick<AssignmentState, 'status' | 'overdue' | 'due'>;
}

/**
 * What the issuing activity already holds when it sends an 'issued' email: the row it wrote, the
 * recommendation and the organisation. The email is made from them, not read again per addressee.
 */
export interface IssuedEmailFacts {
  row: AssignmentView;
  rec: Pick<Recommendation, '_id' | 'source' | 'text' | 'createdBy'>;
  /** Null when the organisation is not in the directory: the email names the code and has no recipients. */
  org: Pick<Organization, 'name' | 'contacts'> | null;
}

/** `deferred`: not sent now; the delivery lane tries again at the entry's retryAt. */
export type DeliveryResult = 'sent' | 'already-sent' | 'no-recipients' | 'unsafe-headers' | 'rejected' | 'deferred';

export interface ResendEmailInput {
  key: string;
  /** The email was sent when the administrator asked: send it once more, rather than deliver it. */
  again: boolean;
}
export type ResendResult = DeliveryResult | 'resent';

/** A permanent condition: a typed failure Temporal does not retry. */
const missing = (message: string) => ApplicationFailure.create({ type: FailureType.NotFound, message, nonRetryable: true });

/** A line break in a header value would let stored text add headers of its own (a Bcc, say). */
const HEADER_BREAK = /[\r\n]/;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** When the lane tries a failed email again: 10 s after the first failure, doubling, at most every 30 minutes. */
export function nextTry(attemptsSoFar: number, now = new Date()): Date {
  const delay = Math.min(30 * 60_000, 10_000 * 2 ** Math.max(0, attemptsSoFar - 1));
  return new Date(now.getTime() + delay);
}

/**
 * How long an administrator's resend holds an unsent email away from the lane: a little longer
 * than its workflow waits between tries (at most 10 minutes), renewed by each; once the resend
 * gives up (after a day), the lane takes the email back within this.
 */
const RESEND_HOLD_MS = 15 * 60_000;
/**
 * SMTP connections the worker's transport keeps open (workers/worker.ts), and so how many emails
 * an issuing batch sends at once: as many as the issuing activity's starts in flight.
 */
export const SMTP_CONNECTIONS = 8;
/** How long the lane's claim on one email lasts: longer than one send can take (SMTP timeouts in workers/worker.ts). */
const LANE_CLAIM_MS = 2 * 60_000;
/** How long recording a send waits out a store outage, outside an activity (tests calling directly). */
const RECORD_SENT_MS = 30_000;
/** How long one run of the lane sends before it leaves the rest to the next run (its activity times out at 10 minutes). */
const LANE_BUDGET_MS = 4 * 60_000;

/**
 * An SMTP 5xx reply is the server's final word (no such mailbox, say): retrying would repeat it
 * forever and hold up what waits on the email. It is recorded as failed for an administrator to
 * fix the contact and resend; 4xx replies and lost connections are retried.
 */
export function isPermanentSmtpError(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** The running activity's context; undefined outside one (direct calls in tests). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Whether the activity running this was cancelled (its run timed out or was cut off); false outside one. */
const laneCancelled = (): boolean => activityContext()?.cancellationSignal.aborted ?? false;

/**
 * Heartbeats while `work` runs inside an activity, so a worker killed mid-send is noticed within
 * the heartbeat timeout and the email retried elsewhere, instead of after the whole send timeout.
 * Outside an activity (direct calls in tests) it just runs `work`.
 */
async function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  const context = activityContext();
  if (!context) return work();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), 1_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export function createEmailActivities({
  repos,
  renderer,
  transport,
  from,
  baseUrl,
  timezone,
}: {
  repos: Repositories;
  renderer: EmailRenderer;
  transport: Transporter;
  from: string;
  baseUrl: string;
  timezone: string;
}) {
  /** Whole calendar days from today to the day of `instant` in the authority's zone (negative when past). */
  const daysUntil = (instant: Date) => {
    const day = (d: Date) => DateTime.fromJSDate(d, { zone: timezone }).startOf('day');
    return Math.round(day(instant).diff(day(new Date()), 'days').days);
  };

  /**
   * Who an email to these audiences goes to. The coordinators are the organisation's stored
   * addresses and its active executors (people who act for it get what is sent to it).
   */
  async function recipients(audience: Audience[], org: Pick<Organization, 'contacts'> | null, executors: readonly string[], curatorEmail?: string): Promise<string[]> {
    const out = new Set<string>();
    for (const who of audience) {
      if (who === 'coordinator') {
        org?.contacts.coordinator.forEach((e) => out.add(e));
        executors.forEach((e) => out.add(e));
      }
      if (who === 'head') org?.contacts.head.forEach((e) => out.add(e));
      if (who === 'curator' && curatorEmail) out.add(curatorEmail);
      if (who === 'observers') (await repos.users.list({ role: 'observer' })).filter((u) => u.active).forEach((u) => out.add(u.email));
    }
    return [...out].sort();
  }

  /**
   * Why a recorded email must not go out at all: no retry would change it. Subjects are folded when
   * rendered and addresses checked when entered; this is the last gate before the headers are written.
   */
  function refusal(entry: OutboxEmail): { result: 'no-recipients' | 'unsafe-headers'; error: string } | undefined {
    if (!entry.to?.length) return { result: 'no-recipients', error: 'no recipients in the stored contacts' };
    if (HEADER_BREAK.test(entry.subject) || entry.to.some((address) => HEADER_BREAK.test(address)))
      return { result: 'unsafe-headers', error: 'refused: a line break (CR/LF) in the subject or a recipient address would inject mail headers' };
    return undefined;
  }

  /** Sends the email as recorded; returns the Message-ID. */
  async function send(entry: OutboxEmail): Promise<string> {
    const info = await transport.sendMail({
      from,
      to: entry.to,
      subject: entry.subject,
      html: entry.html,
      text: entry.text,
      // Stable per key, so a receiving server or a person can tell a rare resend is the same mail.
      messageId: `<${createHash('sha256').update(entry._id).digest('hex').slice(0, 32)}@kontrol>`,
    });
    return info.messageId;
  }

  /**
   * Sends a recorded email unless it was sent already. A failure is recorded, with the time the
   * lane tries again unless no retry would help, and answered `deferred`; it is never thrown.
   * `held`: an administrator's resend, which the lane leaves alone meanwhile; its failures are
   * thrown for its workflow to retry.
   */
  async function deliver(key: string, options: { held?: boolean; lane?: boolean; recorded?: OutboxEmail } = {}): Promise<DeliveryResult> {
    // An email this call has just recorded is as written: not read back.
    const entry = options.recorded ?? (await repos.outbox.get(key));
    if (!entry) throw ApplicationFailure.create({ type: FailureType.NotFound, message: `Письма ${key} нет в журнале`, nonRetryable: true });
    if (entry.status === 'sent') return 'already-sent';
    // Not yet due, or claimed by another sender: whoever holds it sends it. An administrator's
    // resend goes ahead of the wait (they asked now), never ahead of the lane in mid-send.
    if (entry.retryAt && entry.retryAt.getTime() > Date.now() && (!options.held || entry.claimedBy === 'lane')) return 'deferred';
    // The lane and a resend may find the same failed email: each claims it first, and the one
    // that loses the claim leaves it to the other.
    if (options.held || options.lane) {
      const until = new Date(Date.now() + (options.held ? RESEND_HOLD_MS : LANE_CLAIM_MS));
      if (!(await repos.outbox.claim(key, entry.retryAt ?? null, until, options.held ? 'resend' : 'lane'))) return 'deferred';
    }
    const refused = refusal(entry);
    if (refused) {
      await repos.outbox.markFailed(key, refused.error, null);
      return refused.result;
    }
    let messageId: string;
    try {
      messageId = await send(entry);
    } catch (error) {
      if (isPermanentSmtpError(error)) {
        await repos.outbox.markFailed(key, errorText(error), null);
        return 'rejected';
      }
      await repos.outbox.markFailed(key, errorText(error), options.held ? new Date(Date.now() + RESEND_HOLD_MS) : nextTry(entry.attempts + 1));
      if (options.held) throw error;
      return 'deferred';
    }
    await recordSent(key, messageId);
    return 'sent';
  }

  /**
   * Records a send the relay accepted. The email is out: a failure to record it must not make it
   * look unsent, or it would be sent again. While the store is out (FerretDB or PostgreSQL
   * restarting) this waits and writes again, heartbeating, until just before the activity's own
   * timeout (RECORD_SENT_MS outside an activity); only a worker
   * that dies meanwhile leaves the window in which a retry sends a second copy (same Message-ID).
   */
  async function recordSent(key: string, messageId: string, as: 'sent' | 'resent' = 'sent'): Promise<void> {
    const context = activityContext();
    // Until shortly before the activity's own timeout: past it, the retry would send again anyway.
    const giveUpAt = context
      ? context.info.currentAttemptScheduledTimestampMs + context.info.startToCloseTimeoutMs - 5_000
      : Date.now() + RECORD_SENT_MS;
    for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        return await (as === 'sent' ? repos.outbox.markSent(key, messageId) : repos.outbox.markResent(key, messageId));
      } catch (error) {
        if (!isStoreUnavailable(error) || Date.now() + wait > giveUpAt) throw error;
        context?.heartbeat();
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /**
   * The delivery lane: tries every unsent email whose time has come, one after another. Run by a
   * schedule (workers/schedules.ts), one run at a time; an email that fails again waits longer.
   */
  async function redeliverDueEmails({ limit = 200 }: { limit?: number } = {}): Promise<Record<DeliveryResult, number>> {
    const counts: Record<DeliveryResult, number> = { sent: 0, 'already-sent': 0, 'no-recipients': 0, 'unsafe-headers': 0, rejected: 0, deferred: 0 };
    const started = Date.now();
    for (const { _id } of await repos.outbox.due(new Date(), limit)) {
      // Well inside the activity's timeout, and never past a cancellation: a run cut off would
      // leave a second lane sending beside the next one.
      if (Date.now() - started > LANE_BUDGET_MS || laneCancelled()) break;
      counts[await deliver(_id, { lane: true })]++;
      activityContext()?.heartbeat();
    }
    return counts;
  }

  /**
   * An administrator's resend. An email that was sent when they asked goes out once more and is
   * counted; any other is delivered while held away from the lane, so the two never both send it.
   * Failures are recorded and thrown for Temporal to retry.
   */
  async function resendEmail({ key, again }: ResendEmailInput): Promise<ResendResult> {
    const entry = await repos.outbox.get(key);
    if (!entry) throw ApplicationFailure.create({ type: FailureType.NotFound, message: `Письма ${key} нет в журнале`, nonRetryable: true });
    if (!again || entry.status !== 'sent') return deliver(key, { held: true });
    const refused = refusal(entry);
    if (refused) {
      await repos.outbox.markResendFailed(key, refused.error);
      return refused.result;
    }
    let messageId: string;
    try {
      messageId = await send(entry);
    } catch (error) {
      await repos.outbox.markResendFailed(key, errorText(error));
      throw error;
    }
    await recordSent(key, messageId, 'resent');
    return 'resent';
  }

  return {
    notifyAssignment: (input: NotifyAssignmentInput) => withHeartbeat(() => notifyAssignment(input)),
    /** Not an activity: the issuing activity's (see `notifyIssued` below). */
    notifyIssued: (batch: IssuedEmailFacts[], options: { deliver: boolean }) => withHeartbeat(() => notifyIssued(batch, options)),
    deliver: (key: string) => deliver(key),
    redeliverDueEmails,
    resendEmail: (input: ResendEmailInput) => withHeartbeat(() => resendEmail(input)),
  };

  /**
   * The 'issued' emails of an issuing batch (`issuerNotifies`): the same keys, template and
   * recipients the runs would use, made from what the batch holds, not read per addressee. They
   * are recorded together (two writes for the batch, not two per email) and sent over the pooled
   * connections, each send recorded as it is accepted (one update each: see README on FerretDB
   * and bulk updates). After one send fails, the rest are left to the delivery lane, due now, so
   * a dead SMTP server does not hold up the batch; with `deliver` false all are. An email recorded
   * before (a batch tried again) is sent only if it never was. Says what became of each, by
   * assignment.
   */
  async function notifyIssued(batch: IssuedEmailFacts[], options: { deliver: boolean }): Promise<Map<string, DeliveryResult>> {
    const { template, to } = EVENT_EMAILS.issued!;
    // Once for the batch: every addressee's executors.
    const executors = await repos.users.executorsByOrganization();
    const emails = await Promise.all(
      batch.map((facts) => {
        const due = facts.row.due.toISOString();
        const input: NotifyAssignmentInput = { key: eventEmailKey(facts.row._id, 'issued', initialState(due).version), template, assignmentId: facts.row._id, to, details: { approved: false } };
        return composeAssignmentEmail(input, facts.row, facts.rec, facts.org, executors.get(facts.row.organization) ?? []);
      }),
    );
    const results = new Map<string, DeliveryResult>();
    const fresh = await repos.outbox.recordMany(emails, options.deliver ? {} : { retryAt: new Date() });
    const recordedNow = new Set(fresh.map((e) => e._id));
    // Recorded before this call (a batch tried again, or a run that an action started): delivered
    // as any recorded email is, which sends none twice.
    await inParallel(
      emails.filter((e) => !recordedNow.has(e._id)),
      SMTP_CONNECTIONS,
      async (email) => {
        const result = options.deliver
          ? await deliver(email._id)
          : (await repos.outbox.summary(email._id))?.status === 'sent'
            ? 'already-sent'
            : await leaveToLane(email._id);
        results.set(email.context.assignmentId!, result);
      },
    );
    if (!options.deliver) {
      for (const email of fresh) results.set(email.context.assignmentId!, 'deferred');
      return results;
    }
    let failing = false;
    await inParallel(fresh, SMTP_CONNECTIONS, async (email) => {
      const result = failing ? await leaveToLane(email._id) : await deliver(email._id, { recorded: email });
      if (result === 'deferred') failing = true;
      results.set(email.context.assignmentId!, result);
    });
    return results;
  }

  /** A recorded email the batch does not send: the lane's, due now. */
  async function leaveToLane(key: string): Promise<DeliveryResult> {
    await repos.outbox.holdUntil(key, new Date());
    return 'deferred';
  }

  async function notifyAssignment(input: NotifyAssignmentInput): Promise<DeliveryResult> {
    const recorded = await recordAssignmentEmail(input);
    if (recorded === 'sent') return 'already-sent';
    return deliver(input.key, recorded === 'there' ? {} : { recorded });
  }

  /** Records the email unless it is there: 'sent' when it was sent already, 'there' when it was recorded before, else the email as now recorded. */
  async function recordAssignmentEmail(input: NotifyAssignmentInput): Promise<'sent' | 'there' | OutboxEmail> {
    const earlier = async () => {
      const existing = await repos.outbox.summary(input.key);
      return existing?.status === 'sent' ? 'sent' : existing ? 'there' : undefined;
    };
    // Looked up first: an email recorded already is not made again.
    const there = await earlier();
    if (there) return there;
    const view = await repos.assignments.get(input.assignmentId);
    // Never retried: no retry brings back a row or a recommendation that is not there.
    if (!view) throw missing(`assignment ${input.assignmentId} is missing from the read model`);
    const [rec, org, executors] = await Promise.all([
      repos.recommendations.cached(view.recommendationId),
      repos.organizations.get(view.organization),
      repos.users.executorsByOrganization(),
    ]);
    if (!rec) throw missing(`recommendation ${view.recommendationId} is missing from the registry`);
    // Recorded meanwhile: the first record stands.
    return (await repos.outbox.recordIfNew(await composeAssignmentEmail(input, view, rec, org, executors.get(view.organization) ?? []))) ?? (await earlier()) ?? 'there';
  }

  /** The email about an assignment, rendered from its row, its recommendation, its organisation's contacts and executors. */
  async function composeAssignmentEmail(
    input: NotifyAssignmentInput,
    view: AssignmentView,
    rec: Pick<Recommendation, '_id' | 'source' | 'text' | 'createdBy'>,
    org: Pick<Organization, 'name' | 'contacts'> | null,
    executors: readonly string[],
  ): Promise<NewOutboxEmail> {
    const seen = input.state ?? { status: view.status, overdue: view.overdue, due: view.due.toISOString() };
    const due = new Date(seen.due);
    const data: AssignmentEmailData = {
      organization: org?.name ?? view.organization,
      source: rec.source,
      text: rec.text,
      due: due.toISOString(),
      period: view.period ?? '',
      link: `${baseUrl}/assignments/${encodeURIComponent(view._id)}`,
      comment: input.details?.comment ?? '',
      reason: input.details?.reason ?? '',
      until: input.details?.until ?? '',
      approved: input.details?.approved ?? false,
      daysLeft: Math.max(0, daysUntil(due)),
      daysOverdue: Math.max(0, -daysUntil(due)),
      step: input.details?.step ?? 0,
      status: seen.overdue && seen.status !== 'submitted' ? `${statusRu(seen.status)}, просрочено` : statusRu(seen.status),
    };
    const rendered = renderer.render(input.template, data);
    return {
      _id: input.key,
      template: input.template,
      to: await recipients(input.to, org, executors, rec.createdBy?.email),
      ...rendered,
      context: { assignmentId: view._id, recommendationId: rec._id, event: input.template },
    };
  }
}
