/**
 * The assignment process emails the right people at each step, through the real worker and a real
 * SMTP server, once per event.
 */
import { simpleParser } from 'mailparser';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
let smtp: SmtpCatcher;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  smtp = await startSmtpCatcher();
  h = await startHarness('event-emails', { env: { SMTP_URL: smtp.url, BASE_URL: 'https://kontrol.example.test' } });
  tokens = await h.seedUsers();
});
afterAll(async () => {
  await h?.stop();
  await smtp?.stop();
});

async function subjectOf(to: string, prefix: string) {
  const all = await Promise.all(smtp.messages.filter((m) => m.to.includes(to)).map((m) => simpleParser(m.raw)));
  return all.filter((p) => p.subject?.startsWith(prefix));
}

async function waitForSubject(to: string, prefix: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = await subjectOf(to, prefix);
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`no email "${prefix}…" to ${to}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('emails the coordinator on issue and return, the curator on submission, each once', async () => {
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: {
      source: { kind: 'letter', number: '766', date: '2022-08-26' },
      text: 'Сформировать муниципальные педагогические команды учителей-предметников',
      assignees: ['org-a'],
      deadline: { due: '2099-09-30' },
    },
  });
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  const id = issued.body.assignments[0].id as string;

  const [issuedMail] = await waitForSubject('coordinator@org-a.test', 'Новое поручение');
  expect(issuedMail.subject).toBe('Новое поручение: срок 30.09.2099 — письмо от 26.08.2022 № 766');
  expect(issuedMail.text).toContain(`https://kontrol.example.test/assignments/${id}`);

  const form = new FormData();
  form.append('comment', 'Команды сформированы');
  expect((await h.request('POST', `/api/assignments/${id}/submissions`, { token: tokens.executor, form })).status).toBe(200);
  const [submittedMail] = await waitForSubject('curator@kontrol.test', 'Отчёт на проверку');
  expect(submittedMail.text).toContain('Команды сформированы');

  expect(
    (await h.request('POST', `/api/assignments/${id}/review`, { token: tokens.curator, json: { decision: 'return', comment: 'Приложите приказ <о командах>' } })).status,
  ).toBe(200);
  const [returnedMail] = await waitForSubject('coordinator@org-a.test', 'Отчёт возвращён');
  expect(returnedMail.html).toContain('Приложите приказ &lt;о командах&gt;');

  // Nothing twice: wait a moment for stragglers, then count.
  await new Promise((r) => setTimeout(r, 1500));
  const subjects = (await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)))).map((p) => p.subject);
  expect(subjects.filter((s) => s?.startsWith('Новое поручение'))).toHaveLength(1);
  expect(subjects.filter((s) => s?.startsWith('Отчёт на проверку'))).toHaveLength(1);
  expect(subjects.filter((s) => s?.startsWith('Отчёт возвращён'))).toHaveLength(1);
  expect(await h.api.db.models.outbox.countDocuments({ status: 'sent' })).toBe(3);
});
