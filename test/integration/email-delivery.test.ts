/**
 * Email delivery against a real SMTP server (the in-process catcher): once per key, to stored
 * contacts only, and an outage that delays mail without losing it.
 */
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { createEmailRenderer } from '../../notifications/render';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { createEmailActivities, nextTry } from '../../workers/activities/email';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
let smtp: SmtpCatcher;
let email: ReturnType<typeof createEmailActivities>;
let assignmentId: string;
let curatorToken: string;

beforeAll(async () => {
  // No worker: its delivery lane would send this file's failed emails through the suite's SMTP.
  h = await startHarness('email', { worker: false });
  const tokens = await h.seedUsers();
  curatorToken = tokens.curator;
  smtp = await startSmtpCatcher({ unknownRecipients: /^gone@/ });
  email = createEmailActivities({
    repos: h.api.db.repos,
    renderer: createEmailRenderer({ timezone: 'Asia/Tomsk', authority: 'ОГБУ «РЦРО»' }),
    timezone: 'Asia/Tomsk',
    // No retries inside nodemailer: retrying is the delivery lane's job, and the test must see the failure.
    transport: nodemailer.createTransport({ url: smtp.url, pool: false } as never),
    from: 'Kontrol <kontrol@kontrol.test>',
    baseUrl: 'https://kontrol.example.test',
  });
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: {
      source: { kind: 'protocol', number: '5', date: '2022-05-31' },
      text: 'Провести анализ <b>вовлеченности</b> обучающихся',
      assignees: ['org-a'],
      deadline: { due: '2099-09-30' },
    },
  });
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  assignmentId = issued.body.assignments[0].id;
});
afterAll(async () => {
  await smtp?.stop();
  await h?.stop();
});
beforeEach(() => smtp.clear());

/** What the issuing batch holds for each assignment, and makes its email from. */
async function factsOf(ids: string[]) {
  const { repos } = h.api.db;
  return Promise.all(
    ids.map(async (id) => {
      const row = (await repos.assignments.get(id))!;
      return { row, rec: (await repos.recommendations.get(row.recommendationId))!, org: await repos.organizations.get(row.organization) };
    }),
  );
}

/** A new recommendation issued to the given organisations; its assignments' ids. */
async function issueTo(assignees: string[], text: string): Promise<string[]> {
  const created = await h.request('POST', '/api/recommendations', {
    token: curatorToken,
    json: { source: { kind: 'protocol', number: '5', date: '2022-05-31' }, text, assignees, deadline: { due: '2099-09-30' } },
  });
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: curatorToken });
  return issued.body.assignments.map((a: { id: string }) => a.id);
}

describe('email delivery', () => {
  it('sends an assignment email to the organisation’s stored coordinators and its executors, rendered in Russian', async () => {
    const key = `${assignmentId}:issued:test-1`;
    await expect(email.notifyAssignment({ key, template: 'assignment-issued', assignmentId, to: ['coordinator'] })).resolves.toBe('sent');
    expect(smtp.messages).toHaveLength(1);
    const [message] = smtp.messages;
    expect(message.to).toEqual(['coordinator@org-a.test', 'executor@org-a.test']);
    const parsed = await simpleParser(message.raw);
    expect(parsed.subject).toBe('Новое поручение: срок 30.09.2099 — протокол от 31.05.2022 № 5');
    expect(parsed.html).toContain('&lt;b&gt;вовлеченности&lt;/b&gt;');
    expect(parsed.text).toContain(`https://kontrol.example.test/assignments/${assignmentId}`);
    expect(await h.api.db.repos.outbox.get(key)).toMatchObject({ status: 'sent', attempts: 1, to: ['coordinator@org-a.test', 'executor@org-a.test'] });
  });

  it('sends to an organisation’s executors as to its coordinators, and no longer once their access is closed', async () => {
    const { repos } = h.api.db;
    const executor = (await repos.users.findByEmail('executor@org-a.test'))!;
    await repos.users.update(executor._id, { active: false });
    try {
      await expect(email.notifyAssignment({ key: `${assignmentId}:issued:closed`, template: 'assignment-issued', assignmentId, to: ['coordinator'] })).resolves.toBe('sent');
      expect(smtp.messages.map((m) => m.to)).toEqual([['coordinator@org-a.test']]);
    } finally {
      await repos.users.update(executor._id, { active: true });
    }
    await expect(email.notifyAssignment({ key: `${assignmentId}:issued:open`, template: 'assignment-issued', assignmentId, to: ['coordinator'] })).resolves.toBe('sent');
    expect(smtp.messages.map((m) => m.to)).toEqual([['coordinator@org-a.test'], ['coordinator@org-a.test', 'executor@org-a.test']]);
  });

  it('never sends the same key twice, however often the activity runs', async () => {
    const key = `${assignmentId}:returned:test-2`;
    const input = { key, template: 'evidence-returned' as const, assignmentId, to: ['coordinator' as const, 'head' as const], details: { comment: 'Нет приказа' } };
    await expect(email.notifyAssignment(input)).resolves.toBe('sent');
    await expect(email.notifyAssignment(input)).resolves.toBe('already-sent');
    await expect(email.deliver(key)).resolves.toBe('already-sent');
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0].to).toEqual(['coordinator@org-a.test', 'executor@org-a.test', 'head@org-a.test']);
  });

  it('records a refused send without failing, and the delivery lane sends it once its time has come', async () => {
    const key = `${assignmentId}:issued:test-3`;
    const input = { key, template: 'assignment-issued' as const, assignmentId, to: ['coordinator' as const] };
    smtp.setRefusing(true);
    try {
      // The workflow's activity completes: nothing waits on SMTP.
      await expect(email.notifyAssignment(input)).resolves.toBe('deferred');
      const failed = await h.api.db.repos.outbox.get(key);
      expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringMatching(/451/) });
      expect(failed!.retryAt!.getTime() - Date.now()).toBeGreaterThan(5_000);
      // Before its time, neither another attempt nor the lane tries it.
      await expect(email.notifyAssignment(input)).resolves.toBe('deferred');
      expect(await email.redeliverDueEmails()).toMatchObject({ sent: 0, deferred: 0 });
      expect(await h.api.db.repos.outbox.get(key)).toMatchObject({ attempts: 1 });
    } finally {
      smtp.setRefusing(false);
    }
    await h.api.db.repos.outbox.holdUntil(key, new Date(Date.now() - 1_000));
    expect(await email.redeliverDueEmails()).toMatchObject({ sent: 1 });
    expect(smtp.messages).toHaveLength(1);
    expect(await h.api.db.repos.outbox.get(key)).toMatchObject({ status: 'sent', attempts: 2 });
    expect((await h.api.db.repos.outbox.get(key))!.retryAt).toBeUndefined();
  });

  it('records an issue email without sending it when the issuing batch says so, and the lane sends it on its next run', async () => {
    const facts = await factsOf([assignmentId]);
    // The key the assignment's run would use for its 'issued' email: the two are one email.
    const key = `${assignmentId}:issued:v1`;
    expect(await email.notifyIssued(facts, { deliver: false })).toEqual(new Map([[assignmentId, 'deferred']]));
    const recorded = await h.api.db.repos.outbox.get(key);
    expect(recorded).toMatchObject({
      status: 'pending',
      attempts: 0,
      template: 'assignment-issued',
      to: ['coordinator@org-a.test', 'executor@org-a.test'],
      subject: 'Новое поручение: срок 30.09.2099 — протокол от 31.05.2022 № 5',
      text: expect.stringContaining(`https://kontrol.example.test/assignments/${assignmentId}`),
      context: { assignmentId, recommendationId: facts[0].rec._id, event: 'assignment-issued' },
    });
    // Due now: the lane's next run takes it.
    expect(recorded!.retryAt!.getTime()).toBeLessThanOrEqual(Date.now());
    // A batch tried again: the email is there, and nothing is recorded or sent twice.
    expect(await email.notifyIssued(facts, { deliver: false })).toEqual(new Map([[assignmentId, 'deferred']]));
    expect(smtp.messages).toHaveLength(0);
    expect(await email.redeliverDueEmails()).toMatchObject({ sent: 1 });
    expect(smtp.messages).toHaveLength(1);
    expect((await simpleParser(smtp.messages[0].raw)).subject).toMatch(/^Новое поручение/);
    expect(await email.notifyIssued(facts, { deliver: true })).toEqual(new Map([[assignmentId, 'already-sent']]));
    await expect(email.notifyAssignment({ key, template: 'assignment-issued', assignmentId, to: ['coordinator'] })).resolves.toBe('already-sent');
    expect(smtp.messages).toHaveLength(1);
  });

  it('sends a batch of issue emails together, each to its own organisation, and records every send', async () => {
    const ids = await issueTo(['org-a', 'org-b', 'org-c'], 'Пакет писем');
    const results = await email.notifyIssued(await factsOf(ids), { deliver: true });
    expect(results).toEqual(new Map(ids.map((id) => [id, 'sent'])));
    expect(smtp.messages.map((m) => m.to).sort()).toEqual([['coordinator@org-a.test', 'executor@org-a.test'], ['coordinator@org-b.test', 'executor@org-b.test'], ['coordinator@org-c.test']]);
    for (const id of ids) {
      expect(await h.api.db.repos.outbox.get(`${id}:issued:v1`)).toMatchObject({ status: 'sent', attempts: 1, messageId: expect.stringMatching(/@kontrol>$/) });
    }
    // The batch tried again after its sends were recorded: nothing goes out twice.
    expect(await email.notifyIssued(await factsOf(ids), { deliver: true })).toEqual(new Map(ids.map((id) => [id, 'already-sent'])));
    expect(smtp.messages).toHaveLength(3);
  });

  it('leaves a batch’s emails to the delivery lane when the SMTP server refuses them, and loses none', async () => {
    const ids = await issueTo(['org-a', 'org-b', 'org-c'], 'Пакет при сбое почты');
    smtp.setRefusing(true);
    try {
      expect(await email.notifyIssued(await factsOf(ids), { deliver: true })).toEqual(new Map(ids.map((id) => [id, 'deferred'])));
    } finally {
      smtp.setRefusing(false);
    }
    expect(smtp.messages).toHaveLength(0);
    for (const id of ids) {
      const entry = (await h.api.db.repos.outbox.get(`${id}:issued:v1`))!;
      expect(entry.status).not.toBe('sent');
      expect(entry.retryAt).toBeInstanceOf(Date);
      await h.api.db.repos.outbox.holdUntil(entry._id, new Date(Date.now() - 1_000));
    }
    expect(await email.redeliverDueEmails()).toMatchObject({ sent: 3 });
    expect(smtp.messages.map((m) => m.to).sort()).toEqual([['coordinator@org-a.test', 'executor@org-a.test'], ['coordinator@org-b.test', 'executor@org-b.test'], ['coordinator@org-c.test']]);
  });

  it('lets one sender at a time claim a failed email: the lane and a resend never both send it', async () => {
    const key = `${assignmentId}:issued:test-claim`;
    smtp.setRefusing(true);
    try {
      await expect(email.notifyAssignment({ key, template: 'assignment-issued', assignmentId, to: ['coordinator'] })).resolves.toBe('deferred');
    } finally {
      smtp.setRefusing(false);
    }
    const outbox = h.api.db.repos.outbox;
    await outbox.holdUntil(key, new Date(Date.now() - 1_000));
    const seen = (await outbox.get(key))!.retryAt!;
    // Two senders that read the same entry: the first claim wins, the second finds it changed.
    expect(await outbox.claim(key, seen, new Date(Date.now() + 60_000), 'lane')).toBe(true);
    expect(await outbox.claim(key, seen, new Date(Date.now() + 60_000), 'resend')).toBe(false);
    // While the lane holds it, neither a resend nor another run of the lane sends it.
    await expect(email.resendEmail({ key, again: false })).resolves.toBe('deferred');
    expect(await email.redeliverDueEmails()).toMatchObject({ sent: 0 });
    expect(smtp.messages).toHaveLength(0);
    expect(await outbox.get(key)).toMatchObject({ status: 'failed', claimedBy: 'lane' });
  });

  it('waits longer after every failure, up to half an hour', () => {
    const now = new Date('2026-12-04T09:00:00Z');
    const delays = [1, 2, 3, 4, 8, 20].map((attempts) => (nextTry(attempts, now).getTime() - now.getTime()) / 1000);
    expect(delays).toEqual([10, 20, 40, 80, 1280, 1800]);
  });

  it('records a permanent refusal (550) as failed without retrying it forever', async () => {
    await h.api.db.repos.organizations.update('org-a', { contacts: { coordinator: ['coordinator@org-a.test'], head: ['gone@org-a.test'] } });
    const key = `${assignmentId}:escalation:test-5`;
    await expect(email.notifyAssignment({ key, template: 'assignment-escalated', assignmentId, to: ['head'] })).resolves.toBe('rejected');
    expect(smtp.messages).toHaveLength(0);
    expect(await h.api.db.repos.outbox.get(key)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/550/), retryAt: null });
    // No retry would change a 550: the lane leaves it for an administrator.
    expect(await email.redeliverDueEmails()).toMatchObject({ rejected: 0, sent: 0 });
  });

  it('fails for good, typed and not retried, for an assignment that is not in the read model', async () => {
    const failure = await email.notifyAssignment({ key: 'nowhere:issued:v1', template: 'assignment-issued', assignmentId: 'AAAAAAAAAAAA.nowhere.1', to: ['coordinator'] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'NotFound', nonRetryable: true });
    expect(await h.api.db.repos.outbox.get('nowhere:issued:v1')).toBeNull();
  });

  it('sends nothing and says so when the organisation has no stored contact of that kind', async () => {
    await h.api.db.repos.organizations.update('org-a', { contacts: { coordinator: ['coordinator@org-a.test'], head: [] } });
    const key = `${assignmentId}:escalation:test-4`;
    await expect(email.notifyAssignment({ key, template: 'assignment-issued', assignmentId, to: ['head'] })).resolves.toBe('no-recipients');
    expect(smtp.messages).toHaveLength(0);
    expect(await h.api.db.repos.outbox.get(key)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/no recipients/) });
  });
});
