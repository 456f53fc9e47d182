/**
 * The weekly curator digest: a real Temporal Schedule, triggered by hand here, runs the digest
 * workflow on the real worker, which mails each curator their week through the real SMTP server.
 * Weeks without a digest are reported: a run past its deadline (a worker of this file's own whose
 * store fails) and weeks nothing ran (the activity run for a later week).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DateTime } from 'luxon';
import { simpleParser } from 'mailparser';
import { FailureType } from '../../domain/errors';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { MISSED_REASONS, type DigestRunResult } from '../../workers/activities/digest';
import { digestScheduleId } from '../../workers/schedules';
import { digestActivities, runDigestPastDeadline } from '../support/digest';
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;
let smtp: SmtpCatcher;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  smtp = await startSmtpCatcher({ unknownRecipients: /^gone-/ });
  h = await startHarness('digest', { env: { SMTP_URL: smtp.url, BASE_URL: 'https://kontrol.example.test', TRUST_PROXY: 'loopback' } });
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

const mails = (to: string, subject: RegExp) =>
  Promise.all(smtp.messages.filter((m) => m.to.includes(to)).map((m) => simpleParser(m.raw))).then((all) => all.filter((p) => subject.test(p.subject ?? '')));
const digests = (to: string) => mails(to, /^Сводка за неделю/);
const missedNotices = () => mails('admin@kontrol.test', /^Сводка кураторам/);

const weekKey = (at: Date) => DateTime.fromJSDate(at, { zone: h.config.TIMEZONE }).toFormat("kkkk-'W'WW");
const dayRu = (at: Date) => DateTime.fromJSDate(at, { zone: h.config.TIMEZONE }).toFormat('dd.MM.yyyy');

it('records a week whose run cannot finish by its deadline as missed, and tells the administrators', async () => {
  const startedAt = new Date();
  const { failure } = await runDigestPastDeadline(h, smtp.url);
  const repos = h.api.db.repos;

  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(FailureType.DigestMissed);

  const run = await repos.digestRuns.get(weekKey(startedAt));
  expect(run).toMatchObject({ status: 'missed' });
  expect(run!.reason).toBe(`${MISSED_REASONS.timedOut} Последняя ошибка: хранилище недоступно`);
  const [notice] = await eventually(async () => {
    const found = await missedNotices();
    return found.length > 0 ? found : undefined;
  }, 20_000, 'the notice to the administrators');
  expect(notice.subject).toBe(`Сводка кураторам за неделю ${dayRu(startedAt)}–${dayRu(new Date(startedAt.getTime() + 6 * 86_400_000))} не разослана`);
  expect(notice.text).toContain('Причина: Рассылка не уложилась в отведённое ей время. Последняя ошибка: хранилище недоступно');
  expect(notice.text).toContain('Сводку успели получить 0 из 2 кураторов');
  expect(notice.text).toContain(`${h.config.baseUrl}/admin/outbox`);
}, 60_000);

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
  // The week the first test recorded as missed went out after all: it counts as sent.
  expect(await h.api.db.repos.digestRuns.get(weekKey(new Date()))).toMatchObject({ status: 'sent', sent: 1, reportedMissed: [] });
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

it('tells each curator which digests they did not get, and the administrators about weeks nothing ran, once', async () => {
  // Two weeks on: the week between had no run at all (the node was down).
  const env = new MockActivityEnvironment();
  const { sendCuratorDigests } = digestActivities(h, smtp.url);
  const now = Date.now();
  const [skippedWeek, later, latest] = [7, 14, 21].map((days) => new Date(now + days * 86_400_000));
  const before = (await missedNotices()).length;

  const result = (await env.run(sendCuratorDigests, { at: later.toISOString() })) as DigestRunResult;
  expect(result.sent).toBeGreaterThanOrEqual(1);
  const week = weekKey(skippedWeek);
  expect(await h.api.db.repos.digestRuns.get(week)).toMatchObject({ status: 'missed', reason: MISSED_REASONS.notRun });
  expect(await h.api.db.repos.digestRuns.get(weekKey(later))).toMatchObject({ status: 'sent', reportedMissed: [week] });

  const skippedRange = `${dayRu(skippedWeek)}–${dayRu(new Date(skippedWeek.getTime() + 6 * 86_400_000))}`;
  const curatorNotice = `Из-за сбоя вы не получили сводку за неделю ${skippedRange}.`;
  const withNotice = await eventually(async () => {
    const found = (await digests('curator@kontrol.test')).filter((d) => d.text?.includes(curatorNotice));
    return found.length > 0 ? found : undefined;
  }, 20_000, 'the curator’s digest naming the missed week');
  expect(withNotice).toHaveLength(1);
  expect(withNotice[0].html).toContain(curatorNotice);
  const notices = await eventually(async () => {
    const found = await missedNotices();
    return found.length > before ? found : undefined;
  }, 20_000, 'the notice to the administrators');
  expect(notices.at(-1)!.subject).toBe(`Сводка кураторам за неделю ${skippedRange} не разослана`);
  expect(notices.at(-1)!.text).toContain(`Причина: ${MISSED_REASONS.notRun}`);

  // The week after: nothing was missed since, so nobody hears of it again.
  await env.run(sendCuratorDigests, { at: latest.toISOString() });
  const curator = (await h.api.db.repos.users.list({ role: 'curator' })).find((u) => u.email === 'curator@kontrol.test')!;
  const latestKey = `digest:${curator._id}:${weekKey(latest)}`;
  const entry = await h.api.db.repos.outbox.get(latestKey);
  expect(entry?.text).toContain('Сводка по вашим рекомендациям');
  expect(entry?.text).not.toContain('Из-за сбоя');
  expect(await h.api.db.repos.digestRuns.get(weekKey(latest))).toMatchObject({ status: 'sent', reportedMissed: [] });
  expect(await missedNotices()).toHaveLength(notices.length);

  // The administrator's email log shows each week: the missed one with why, the later ones sent.
  const page = await fetch(`${h.api.url}/admin/outbox`, { headers: { cookie: await h.pageCookie('admin@kontrol.test') } });
  expect(page.status).toBe(200);
  const html = await page.text();
  const row = (start: Date) => new RegExp(`<tr[^>]*>\\s*<td data-label="Неделя">${dayRu(start)}–[^<]*</td>\\s*<td data-label="Состояние">([^<]*)</td>`);
  expect(row(skippedWeek).exec(html)?.[1]).toBe('не разослана');
  expect(row(later).exec(html)?.[1]).toBe('разослана');
  expect(html).toContain(MISSED_REASONS.notRun);
}, 60_000);
