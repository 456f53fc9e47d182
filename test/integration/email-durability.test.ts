/**
 * Email delivery through failures, end to end: a worker process SIGKILLed in the middle of an SMTP
 * transaction, and an SMTP server that refuses for a while. Neither loses an email nor sends it twice.
 */
import type { ChildProcess } from 'node:child_process';
import { simpleParser } from 'mailparser';
import { assignmentWorkflowId, recommendationWorkflowId } from '../../domain/ids';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { eventually, startHarness, type Harness } from '../support/harness';
import { kill, spawnWorker, waitForPoller } from '../support/worker-process';

let h: Harness;
let smtp: SmtpCatcher;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  smtp = await startSmtpCatcher();
  h = await startHarness('email-durability', { worker: false, env: { SMTP_URL: smtp.url } });
  tokens = await h.seedUsers();
}, 60_000);
afterAll(async () => {
  await Promise.all(children.map(kill));
  await h?.stop();
  await smtp?.stop();
});

async function issue(marker: string) {
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: {
      source: { kind: 'protocol', number: '5', date: '2022-05-31' },
      text: `Провести анализ вовлечённости (${marker})`,
      assignees: ['org-a'],
      deadline: { due: '2099-09-30' },
      policy: { remindBefore: [], escalateAfter: [] },
    },
  });
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  expect(issued.status).toBe(200);
  return { recommendationId: created.body.id as string, assignmentId: issued.body.assignments[0].id as string };
}

const caught = async (marker: string) =>
  (await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)))).filter((p) => (p.text ?? '').includes(marker));

/**
 * Attempts of the activity that sends the 'issued' email: the issuing batch, in the
 * recommendation workflow's history (the assignment's run leaves that email to it: issuerNotifies).
 */
async function emailAttempts(recommendationId: string): Promise<number[]> {
  const handle = h.api.temporal.workflow.getHandle(recommendationWorkflowId(recommendationId));
  const history = await handle.fetchHistory();
  const scheduled = new Set(
    (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startAssignmentBatch')
      .map((e) => String(e.eventId)),
  );
  return (history.events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
}

it('a worker killed mid-send: another worker sends the email, once', async () => {
  let worker = spawnWorker(h, children);
  await waitForPoller(h);

  smtp.setHolding(true);
  const { recommendationId, assignmentId } = await issue('убит-при-отправке');
  // The worker has opened the SMTP transaction and waits for the server's answer to MAIL FROM.
  await eventually(async () => (smtp.held > 0 ? true : undefined), 30_000, 'a held SMTP transaction');
  await kill(worker);
  smtp.setHolding(false);
  expect(await caught('убит-при-отправке')).toHaveLength(0);

  worker = spawnWorker(h, children);
  await eventually(async () => ((await caught('убит-при-отправке')).length > 0 ? true : undefined), 60_000, 'the email after the restart');
  // Stragglers would arrive by now.
  await new Promise((r) => setTimeout(r, 3_000));
  const mails = await caught('убит-при-отправке');
  expect(mails).toHaveLength(1);
  expect(mails[0].subject).toMatch(/^Новое поручение/);
  const entry = await h.api.db.repos.outbox.get(`${assignmentId}:issued:v1`);
  expect(entry).toMatchObject({ status: 'sent', to: ['coordinator@org-a.test', 'executor@org-a.test'] });
  // The activity really was cut off and retried: its completed run was not its first attempt.
  expect(Math.max(...(await emailAttempts(recommendationId)))).toBeGreaterThanOrEqual(2);
  await kill(worker);
}, 120_000);

it('a worker killed after the relay accepted but before markSent: sent again, recognisably the same email', async () => {
  let worker = spawnWorker(h, children);
  await waitForPoller(h);

  // The relay keeps the message and, before its 250 reaches the worker, the worker is frozen: the
  // relay has it, the outbox does not know. Then the worker is killed.
  let frozen = false;
  // The issuing email is the only one this worker sends.
  smtp.onAccept(() => {
    if (frozen) return;
    frozen = true;
    process.kill(worker.pid!, 'SIGSTOP');
  });
  const { assignmentId } = await issue('убит-после-приёма');
  await eventually(async () => (frozen ? true : undefined), 30_000, 'the relay to accept the email');
  await kill(worker);
  smtp.onAccept(undefined);
  const key = `${assignmentId}:issued:v1`;
  expect(await h.api.db.repos.outbox.get(key)).not.toMatchObject({ status: 'sent' });

  // A new worker retries the activity, which sends again: at least once, as the README says.
  worker = spawnWorker(h, children);
  await eventually(async () => ((await h.api.db.repos.outbox.get(key))?.status === 'sent' ? true : undefined), 60_000, 'the outbox to record the send');
  await new Promise((r) => setTimeout(r, 3_000));
  const mails = await caught('убит-после-приёма');
  // Two deliveries of one email: the relay got it twice, with one Message-ID derived from the
  // outbox key, by which a mail client or a relay recognises the second as a duplicate.
  expect(mails).toHaveLength(2);
  expect(new Set(mails.map((m) => m.messageId)).size).toBe(1);
  expect((await h.api.db.repos.outbox.get(key))?.messageId).toBe(mails[0].messageId);
  await kill(worker);
}, 120_000);

it('an SMTP server that refuses for a while: the log shows the failure, the email goes out once it accepts', async () => {
  spawnWorker(h, children);
  await waitForPoller(h);
  smtp.setRefusing(true);
  const { assignmentId } = await issue('отказ-smtp');
  const key = `${assignmentId}:issued:v1`;
  try {
    const failed = await eventually(async () => {
      const entry = await h.api.db.repos.outbox.get(key);
      return entry?.status === 'failed' ? entry : undefined;
    }, 30_000, 'the refused attempt in the outbox');
    expect(failed.lastError).toMatch(/451/);
    expect(await caught('отказ-smtp')).toHaveLength(0);
    // Nothing waits on SMTP: the issuing finished, the assignment's run has no activity pending,
    // and the retries are the delivery lane's.
    const handle = h.api.temporal.workflow.getHandle(assignmentWorkflowId({ recommendationId: (await h.api.db.repos.assignments.get(assignmentId))!.recommendationId, organization: 'org-a', cycle: 1 }));
    await eventually(async () => ((await handle.describe()).raw.pendingActivities?.length === 0 ? true : undefined), 20_000, 'no pending email activity');
    const issuing = h.api.temporal.workflow.getHandle(recommendationWorkflowId((await h.api.db.repos.assignments.get(assignmentId))!.recommendationId));
    await eventually(async () => ((await issuing.describe()).status.name === 'COMPLETED' ? true : undefined), 20_000, 'the issuing run to end');
  } finally {
    smtp.setRefusing(false);
  }
  // The delivery lane tries again (10 s after the failure, on its next run): the email arrives without anyone resending it.
  await eventually(async () => ((await caught('отказ-smtp')).length > 0 ? true : undefined), 60_000, 'the email once SMTP accepts');
  await new Promise((r) => setTimeout(r, 2_000));
  expect(await caught('отказ-smtp')).toHaveLength(1);
  const entry = await h.api.db.repos.outbox.get(key);
  expect(entry?.status).toBe('sent');
  expect(entry?.attempts).toBeGreaterThanOrEqual(2);
}, 120_000);
