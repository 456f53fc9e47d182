/**
 * The administrator's view of email, through the real API, worker and SMTP server: every template
 * previewed with its sample, and the delivery log (the outbox) listed, read and resent.
 */
import { simpleParser } from 'mailparser';
import { RESEND_WAIT_MS } from '../../api/outbox/router';
import { PREVIEW_CSP } from '../../api/templates/router';
import { TEMPLATE_NAMES } from '../../notifications/render';
import { emailSamples } from '../../notifications/samples';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { eventually, startHarness, type Harness } from '../support/harness';

const BASE_URL = 'https://kontrol.example.test';
const CYRILLIC = /[А-Яа-яЁё]/;

let h: Harness;
let smtp: SmtpCatcher;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  smtp = await startSmtpCatcher();
  h = await startHarness('admin-mail', { env: { SMTP_URL: smtp.url, BASE_URL } });
  tokens = await h.seedUsers();
});
afterAll(async () => {
  await h?.stop();
  await smtp?.stop();
});

const asAdmin = (method: string, url: string) => h.request(method, url, { token: tokens.admin });
const outboxUrl = (key: string) => `/api/outbox/${encodeURIComponent(key)}`;

/** Issues a recommendation and returns its one assignment's id. */
async function issue(text: string, organization: string): Promise<string> {
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: { source: { kind: 'protocol', number: '5', date: '2022-05-31' }, text, assignees: [organization], deadline: { due: '2099-09-30' } },
  });
  expect(created.status).toBe(201);
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  expect(issued.status).toBe(200);
  return issued.body.assignments[0].id;
}

/** The log's entry for one assignment's email from one template, once it is in the given state. */
async function entryOf(assignmentId: string, template: string, status: string) {
  return eventually(async () => {
    const res = await asAdmin('GET', `/api/outbox?assignmentId=${assignmentId}&template=${template}`);
    const [item] = res.body.items;
    return item?.status === status ? item : undefined;
  }, 20_000, `${template} email of ${assignmentId} ${status}`);
}

async function caughtWith(messageId: string) {
  const parsed = await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)));
  return parsed.filter((p) => p.messageId === messageId);
}

describe('email templates', () => {
  it('are listed, every one, with what it is for and its subject rendered from the sample', async () => {
    const res = await asAdmin('GET', '/api/templates');
    expect(res.status).toBe(200);
    expect(res.body.items.map((t: { name: string }) => t.name)).toEqual([...TEMPLATE_NAMES]);
    expect(res.body.total).toBe(TEMPLATE_NAMES.length);
    for (const item of res.body.items) {
      expect({ name: item.name, subject: item.subject }).toEqual({ name: item.name, subject: expect.stringMatching(CYRILLIC) });
      expect({ name: item.name, description: item.description }).toEqual({ name: item.name, description: expect.stringMatching(CYRILLIC) });
    }
  });

  it.each(TEMPLATE_NAMES)('preview %s as JSON, as sandboxed HTML and as plain text', async (name) => {
    const json = await asAdmin('GET', `/api/templates/${name}/preview`);
    expect(json.status).toBe(200);
    expect(json.body).toEqual({ name, subject: expect.stringMatching(CYRILLIC), html: expect.stringMatching(/^<!doctype html>/), text: expect.any(String) });
    expect(json.body.text).toContain(emailSamples(BASE_URL)[name].data.link);

    const html = await asAdmin('GET', `/api/templates/${name}/preview?part=html`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toBe(PREVIEW_CSP);
    expect(PREVIEW_CSP).toMatch(/^sandbox; default-src 'none'; style-src 'unsafe-inline'/);
    expect(html.body).toBe(json.body.html);

    const text = await asAdmin('GET', `/api/templates/${name}/preview?part=text`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.body).toBe(json.body.text);
  });

  it('answer 404 in Russian for a template that does not exist, and 400 for an unknown part', async () => {
    const missing = await asAdmin('GET', '/api/templates/no-such-template/preview');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'not_found', message: 'Шаблона письма «no-such-template» нет' });
    expect((await asAdmin('GET', '/api/templates/assignment-issued/preview?part=pdf')).status).toBe(400);
  });
});

describe('the delivery log', () => {
  let first: string;
  let second: string;
  let keys: string[];

  beforeAll(async () => {
    // One after another, so the log's order is known: first's two emails, then second's.
    first = await issue('Провести анализ вовлеченности обучающихся в высокорейтинговых мероприятиях', 'org-a');
    await entryOf(first, 'assignment-issued', 'sent');
    const form = new FormData();
    form.append('comment', 'Анализ проведён, справка прилагается');
    expect((await h.request('POST', `/api/assignments/${first}/submissions`, { token: tokens.executor, form })).status).toBe(200);
    await entryOf(first, 'evidence-submitted', 'sent');
    second = await issue('Сформировать муниципальные педагогические команды учителей-предметников', 'org-b');
    await entryOf(second, 'assignment-issued', 'sent');
    keys = (await asAdmin('GET', '/api/outbox')).body.items.map((e: { key: string }) => e.key);
  });

  it('lists entries newest first, without their bodies, filtered and page by page', async () => {
    const all = await asAdmin('GET', '/api/outbox');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    const created = all.body.items.map((e: { createdAt: string }) => e.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    expect(all.body.items.map((e: { template: string; context: { assignmentId: string } }) => [e.template, e.context.assignmentId])).toEqual([
      ['assignment-issued', second],
      ['evidence-submitted', first],
      ['assignment-issued', first],
    ]);
    expect(all.body.items[0].to).toEqual(['coordinator@org-b.test', 'executor@org-b.test']);
    for (const item of all.body.items) {
      expect(item).toMatchObject({ status: 'sent', attempts: 1, resends: 0, lastError: null, sentAt: expect.any(String), subject: expect.stringMatching(CYRILLIC) });
      expect(item).not.toHaveProperty('html');
      expect(item).not.toHaveProperty('text');
    }

    const submitted = await asAdmin('GET', '/api/outbox?template=evidence-submitted');
    expect(submitted.body).toMatchObject({ total: 1, items: [{ to: ['curator@kontrol.test'], context: { assignmentId: first } }] });
    const ofFirst = await asAdmin('GET', `/api/outbox?assignmentId=${first}`);
    expect(ofFirst.body.items.map((e: { template: string }) => e.template)).toEqual(['evidence-submitted', 'assignment-issued']);
    expect((await asAdmin('GET', '/api/outbox?status=sent')).body.total).toBe(3);
    expect((await asAdmin('GET', '/api/outbox?status=failed')).body).toEqual({ items: [], total: 0 });

    const pages = [await asAdmin('GET', '/api/outbox?limit=2'), await asAdmin('GET', '/api/outbox?limit=2&offset=2')];
    expect(pages.map((p) => p.body.total)).toEqual([3, 3]);
    expect(pages.flatMap((p) => p.body.items.map((e: { key: string }) => e.key))).toEqual(keys);

    const wrong = await asAdmin('GET', '/api/outbox?status=lost');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toMatch(CYRILLIC);
  });

  it('shows one entry in full, its key given with ":" as is or percent-encoded', async () => {
    const { key } = await entryOf(first, 'assignment-issued', 'sent');
    expect(key).toMatch(new RegExp(`^${first}:issued:v\\d+$`));
    const plain = await asAdmin('GET', `/api/outbox/${key}`);
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({
      key,
      template: 'assignment-issued',
      status: 'sent',
      messageId: expect.stringMatching(/^<[0-9a-f]{32}@kontrol>$/),
      html: expect.stringContaining('Провести анализ вовлеченности'),
      text: expect.stringContaining(`${BASE_URL}/assignments/${first}`),
    });
    expect((await asAdmin('GET', outboxUrl(key))).body).toEqual(plain.body);

    const missing = await asAdmin('GET', outboxUrl('no.such.1:issued:v1'));
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Письмо не найдено в журнале');
    expect((await asAdmin('POST', `${outboxUrl('no.such.1:issued:v1')}/resend`)).status).toBe(404);
  });

  it('resends a sent email on request: a second copy with the same Message-ID, counted and audited', async () => {
    const { key } = await entryOf(first, 'assignment-issued', 'sent');
    const before = (await asAdmin('GET', outboxUrl(key))).body;
    expect(await caughtWith(before.messageId)).toHaveLength(1);

    const res = await asAdmin('POST', `${outboxUrl(key)}/resend`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ key, status: 'sent', resends: 1, attempts: 2, lastResentAt: expect.any(String), sentAt: before.sentAt, html: before.html });

    const copies = await caughtWith(before.messageId);
    expect(copies).toHaveLength(2);
    expect(copies[1].subject).toBe(before.subject);
    expect(copies[1].text).toBe(copies[0].text);
    expect(smtp.messages.filter((m) => m.raw.includes(before.messageId)).map((m) => m.to)).toEqual([['coordinator@org-a.test', 'executor@org-a.test'], ['coordinator@org-a.test', 'executor@org-a.test']]);

    const audit = await h.api.db.repos.audit.forEntity('email', key);
    expect(audit).toEqual([
      expect.objectContaining({ action: 'resend-requested', actor: expect.objectContaining({ email: 'admin@kontrol.test' }), details: expect.objectContaining({ status: 'sent' }) }),
    ]);
  });

  it('delivers a failed email: while SMTP refuses the request is queued and the log shows why, then it goes out', async () => {
    smtp.setRefusing(true);
    let key: string;
    try {
      const id = await issue('Провести обновление сети межмуниципальных центров по работе с одаренными детьми', 'org-c');
      const failed = await entryOf(id, 'assignment-issued', 'failed');
      key = failed.key;
      expect(failed.lastError).toMatch(/451/);

      const started = Date.now();
      const queued = await asAdmin('POST', `${outboxUrl(failed.key)}/resend`);
      expect(queued.status).toBe(202);
      expect(queued.body).toEqual({ status: 'queued', workflowId: expect.any(String) });
      expect(queued.body.workflowId.startsWith(`email-resend/${failed.key}/`)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(RESEND_WAIT_MS - 100);
      const still = (await asAdmin('GET', outboxUrl(failed.key))).body;
      expect(still).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/451/), resends: 0 });
      expect(still.attempts).toBeGreaterThan(failed.attempts);
    } finally {
      smtp.setRefusing(false);
    }

    const res = await asAdmin('POST', `${outboxUrl(key)}/resend`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ key, status: 'sent', lastError: null, resends: 0 });
    expect((await caughtWith(res.body.messageId)).length).toBeGreaterThanOrEqual(1);
    expect(smtp.messages.find((m) => m.raw.includes(res.body.messageId))?.to).toEqual(['coordinator@org-c.test']);
  });

  it('never sends an entry whose subject or recipients carry a line break into the headers', async () => {
    const repos = h.api.db.repos;
    const entry = { template: 'assignment-issued', html: '<p>Проверка</p>', text: 'Проверка', context: {} };
    await repos.outbox.record({ ...entry, _id: 'manual:crlf-to', to: ['coordinator@org-a.test\r\nBcc: spy@evil.test'], subject: 'Проверка' });
    await repos.outbox.record({ ...entry, _id: 'manual:crlf-subject', to: ['coordinator@org-a.test'], subject: 'Проверка\r\nBcc: spy@evil.test' });
    const caught = smtp.messages.length;

    for (const key of ['manual:crlf-to', 'manual:crlf-subject']) {
      const res = await asAdmin('POST', `${outboxUrl(key)}/resend`);
      expect({ key, status: res.status }).toEqual({ key, status: 200 });
      expect(res.body).toMatchObject({ key, status: 'failed', lastError: expect.stringMatching(/CR\/LF/) });
    }
    expect(smtp.messages).toHaveLength(caught);
    expect(smtp.messages.filter((m) => m.raw.includes('evil.test') || m.to.some((to) => to.includes('evil.test')))).toEqual([]);
  });
});

describe('only the admin', () => {
  const ROUTES = [
    ['GET', '/api/templates'],
    ['GET', '/api/templates/assignment-issued/preview'],
    ['GET', '/api/outbox'],
    ['GET', '/api/outbox/any.org-a.1:issued:v1'],
    ['POST', '/api/outbox/any.org-a.1:issued:v1/resend'],
  ] as const;

  it.each(ROUTES)('may call %s %s: others get 403, an anonymous caller 401', async (method, url) => {
    for (const role of ['curator', 'observer', 'executor'] as const) {
      const res = await h.request(method, url, { token: tokens[role] });
      expect({ role, status: res.status }).toEqual({ role, status: 403 });
      expect(res.body.error.message).toMatch(CYRILLIC);
    }
    expect((await h.request(method, url)).status).toBe(401);
  });
});
