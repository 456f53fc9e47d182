/**
 * The weekly curator digest: a real Temporal Schedule, triggered by hand here, runs the digest
 * workflow on the real worker, which mails each curator their week through the real SMTP server.
 */
import { simpleParser } from 'mailparser';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { digestScheduleId } from '../../workers/schedules';
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;
let smtp: SmtpCatcher;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  smtp = await startSmtpCatcher({ unknownRecipients: /^gone-/ });
  h = await startHarness('digest', { env: { SMTP_URL: smtp.url, BASE_URL: 'https://kontrol.example.test' } });
  tokens = await h.seedUsers();
  // A curator with nothing issued: gets no digest.
  await h.createUser('idle-curator@kontrol.test', 'curator', 'rcro');
});
afterAll(async () => {
  await h?.stop();
  await smtp?.stop();
});

async function issue(text: string, due: string, assignees: string[], token = tokens.curator) {
  const created = await h.request('POST', '/api/recommendations', {
    token,
    json: { source: { kind: 'letter', number: '766', date: '2022-08-26' }, text, assignees, deadline: { due }, policy: { remindBefore: [], escalateAfter: [] } },
  });
  expect(created.status).toBe(201);
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token });
  expect(issued.status).toBe(200);
  return issued.body.assignments as Array<{ id: string; organization: string }>;
}

const digests = async (to: string) =>
  Promise.all(smtp.messages.filter((m) => m.to.includes(to)).map((m) => simpleParser(m.raw))).then((all) =>
    all.filter((p) => p.subject?.startsWith('Сводка за неделю')),
  );

it('mails each curator what waits for review, what is overdue and what falls due this week, once a week', async () => {
  const schedule = h.api.temporal.schedule.getHandle(digestScheduleId(h.config.TEMPORAL_TASK_QUEUE));
  const description = await schedule.describe();
  expect(description.spec.timezone).toBe('Asia/Tomsk');

  const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const [late] = await issue('Провести анализ <вовлечённости> обучающихся', '2022-09-30', ['org-a']);
  const soon = await issue('Сформировать муниципальные педагогические команды', inThreeDays, ['org-a', 'org-b']);
  await issue('Подготовить отчёт к концу века', '2099-12-31', ['org-c']);
  const form = new FormData();
  form.append('comment', 'Команды сформированы');
  expect((await h.request('POST', `/api/assignments/${soon[0].id}/submissions`, { token: tokens.executor, form })).status).toBe(200);
  await eventually(async () => ((await h.api.db.models.assignments.countDocuments({ overdue: true })) === 1 ? true : undefined), 20_000, 'the overdue assignment');

  await schedule.trigger();
  const [digest] = await eventually(async () => {
    const found = await digests('curator@kontrol.test');
    return found.length > 0 ? found : undefined;
  }, 30_000, 'the digest email');

  expect(digest.subject).toMatch(/^Сводка за неделю \d{2}\.\d{2}\.\d{4}–\d{2}\.\d{2}\.\d{4}: просрочено 1, на проверке 1, срок на неделе 1$/);
  const text = digest.text ?? '';
  const section = (title: string, next?: string) => text.slice(text.indexOf(title), next ? text.indexOf(next) : undefined);
  const review = section('Ждут вашей проверки: 1', 'Просрочено:');
  const overdue = section('Просрочено: 1', 'Срок на этой неделе:');
  const dueSoon = section('Срок на этой неделе: 1');
  expect(review).toContain(`https://kontrol.example.test/assignments/${soon[0].id}`);
  expect(overdue).toContain(`https://kontrol.example.test/assignments/${late.id}`);
  expect(overdue).toContain('срок 30.09.2022');
  expect(dueSoon).toContain(`https://kontrol.example.test/assignments/${soon[1].id}`);
  expect(text).not.toContain('концу века');
  expect(digest.html).toContain('&lt;вовлечённости&gt;');

  // Triggered again in the same week: the outbox key is per curator and week, nothing goes twice.
  const completedRuns = async (n: number) =>
    eventually(async () => {
      const runs = [];
      const query = `WorkflowType = 'curatorDigestWorkflow' AND TaskQueue = '${h.config.TEMPORAL_TASK_QUEUE}' AND ExecutionStatus = 'Completed'`;
      for await (const run of h.api.temporal.workflow.list({ query })) runs.push(run);
      return runs.length >= n ? true : undefined;
    }, 30_000, `${n} completed digest runs`);
  await completedRuns(1);
  await schedule.trigger();
  await completedRuns(2);
  expect(await digests('curator@kontrol.test')).toHaveLength(1);
  expect(await digests('idle-curator@kontrol.test')).toHaveLength(0);
  expect(await h.api.db.models.outbox.countDocuments({ template: 'curator-digest' })).toBe(1);
}, 90_000);

it('goes on past a curator whose mailbox is gone, and records that digest as failed', async () => {
  // Sorted by address, the gone curator comes before the second one: the loop must not stop there.
  await h.createUser('gone-curator@kontrol.test', 'curator', 'rcro');
  await h.createUser('second-curator@kontrol.test', 'curator', 'rcro');
  await issue('Рекомендация ушедшего куратора', '2022-10-31', ['org-b'], await h.login('gone-curator@kontrol.test'));
  await issue('Рекомендация второго куратора', '2022-10-31', ['org-c'], await h.login('second-curator@kontrol.test'));
  await eventually(async () => ((await h.api.db.models.assignments.countDocuments({ overdue: true })) === 3 ? true : undefined), 20_000, 'both overdue');

  await h.api.temporal.schedule.getHandle(digestScheduleId(h.config.TEMPORAL_TASK_QUEUE)).trigger();
  await eventually(async () => ((await digests('second-curator@kontrol.test')).length === 1 ? true : undefined), 30_000, 'the second curator’s digest');
  const gone = await eventually(async () => {
    const entry = await h.api.db.models.outbox.findOne({ template: 'curator-digest', to: 'gone-curator@kontrol.test' }).lean();
    return entry?.status === 'failed' ? entry : undefined;
  }, 30_000, 'the gone curator’s digest recorded as failed');
  expect(gone.lastError).toMatch(/550/);
  expect(await digests('gone-curator@kontrol.test')).toHaveLength(0);
}, 90_000);
