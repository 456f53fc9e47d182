/**
 * Reminders and the escalation ladder, end to end on a seconds-scale policy: the real worker's
 * timers, the real SMTP server, each step once, to the stored contacts it names.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { formatDateRu } from '../../domain/deadline';
import { DEFAULT_POLICY } from '../../domain/policy';
import { assignmentWorkflowId } from '../../domain/ids';
import { createPlanningActivities } from '../../workers/activities/planning';
import { loadCalendar } from '../../store/calendar';
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;
let smtp: SmtpCatcher;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  smtp = await startSmtpCatcher();
  h = await startHarness('ladder', { env: { SMTP_URL: smtp.url } });
  tokens = await h.seedUsers();
});
afterAll(async () => {
  await h?.stop();
  await smtp?.stop();
});

interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  at: number;
}

/** Every caught email about the given recommendation (its text is unique to the test). */
async function mailAbout(marker: string): Promise<Mail[]> {
  const parsed: Array<[ParsedMail, (typeof smtp.messages)[number]]> = await Promise.all(
    smtp.messages.map(async (m) => [await simpleParser(m.raw), m] as [ParsedMail, typeof m]),
  );
  return parsed
    .filter(([p]) => (p.text ?? '').includes(marker))
    .map(([p, m]) => ({ to: [...m.to].sort(), subject: p.subject ?? '', text: p.text ?? '', html: typeof p.html === 'string' ? p.html : '', at: m.receivedAt.getTime() }));
}

async function createAndIssue(marker: string, due: Date, policy: unknown, assignees = ['org-a']) {
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: {
      source: { kind: 'protocol', number: '5', date: '2022-05-31' },
      text: `Провести анализ вовлечённости обучающихся (${marker})`,
      assignees,
      deadline: { due: due.toISOString() },
      policy,
    },
  });
  expect(created.status).toBe(201);
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  expect(issued.status).toBe(200);
  return { recommendationId: created.body.id as string, assignmentId: issued.body.assignments[0].id as string };
}

const count = (mails: Mail[], prefix: string) => mails.filter((m) => m.subject.startsWith(prefix)).length;

describe('the notification ladder', () => {
  it('reminds before the deadline, reports the miss, escalates step by step, then repeats, each email once', async () => {
    const marker = 'лестница-1';
    const due = new Date(Date.now() + 14_000);
    const { assignmentId, recommendationId } = await createAndIssue(marker, due, {
      remindBefore: ['PT9S', 'PT5S'],
      escalateAfter: [
        { after: 'PT3S', to: 'head' },
        { after: 'PT7S', to: ['observers', 'curator'] },
      ],
      repeat: { every: 'PT3S', to: 'coordinator', times: 2 },
    });

    await eventually(async () => {
      const mails = await mailAbout(marker);
      return count(mails, 'Всё ещё просрочено') >= 2 ? mails : undefined;
    }, 60_000, 'both escalation steps and both repeats');
    // Stragglers would arrive by now: a duplicate step, or a step sent again by a later timer.
    await new Promise((r) => setTimeout(r, 4_000));
    const mails = (await mailAbout(marker)).sort((a, b) => a.at - b.at);
    const dueRu = formatDateRu(due, 'Asia/Tomsk');

    expect(mails.map((m) => [m.subject.split(':')[0], m.to])).toEqual([
      ['Новое поручение', ['coordinator@org-a.test', 'executor@org-a.test']],
      ['Напоминание', ['coordinator@org-a.test', 'executor@org-a.test']],
      ['Напоминание', ['coordinator@org-a.test', 'executor@org-a.test']],
      ['Срок истёк ' + dueRu, ['coordinator@org-a.test', 'executor@org-a.test']],
      ['Эскалация', ['head@org-a.test']],
      ['Эскалация', ['curator@kontrol.test', 'observer@kontrol.test']],
      ['Всё ещё просрочено', ['coordinator@org-a.test', 'executor@org-a.test']],
      ['Всё ещё просрочено', ['coordinator@org-a.test', 'executor@org-a.test']],
    ]);
    for (const mail of mails) {
      expect(mail.text).toContain(`Срок: ${dueRu}`);
      expect(mail.text).toContain(`/assignments/${assignmentId}`);
    }
    const [, r1, r2, overdue, e1, e2, again1, again2] = mails;
    expect(again1.text).toContain('1-е повторное напоминание');
    expect(again2.text).toContain('2-е повторное напоминание');
    expect(again2.at).toBeGreaterThanOrEqual(due.getTime() + 13_000);
    expect(r1.subject).toBe(`Напоминание: срок ${dueRu} — протокол от 31.05.2022 № 5`);
    expect(r2.text).toContain('отчёт нужно отправить до');
    expect(e1.subject).toBe(`Эскалация: просрочено поручение — Организация ORG-A, срок ${dueRu}, протокол от 31.05.2022 № 5`);
    expect(e1.text).toContain('1-й шаг');
    expect(e2.text).toContain('2-й шаг');
    // Each step at its time, give or take the worker's scheduling: reminders before the deadline,
    // escalations after their offsets.
    expect(r1.at).toBeLessThan(due.getTime());
    expect(r2.at).toBeLessThan(due.getTime());
    expect(r1.at).toBeLessThan(r2.at);
    expect(overdue.at).toBeGreaterThanOrEqual(due.getTime());
    expect(e1.at).toBeGreaterThanOrEqual(due.getTime() + 3_000);
    expect(e2.at).toBeGreaterThanOrEqual(due.getTime() + 7_000);

    // The issuing batch planned the ladder and handed it to the run: no local activity of the run's
    // own planned it again.
    const history = await h.api.temporal.workflow.getHandle(assignmentWorkflowId({ recommendationId, organization: 'org-a', cycle: 1 })).fetchHistory();
    const text = (payloads: Array<{ data?: Uint8Array | null }> | null | undefined) => (payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString()).join(' ');
    const input = JSON.parse(text(history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads));
    expect(input.chase.steps.map((step: { id: string }) => step.id)).toEqual(expect.arrayContaining(['reminder-1', 'reminder-2', 'escalation-1', 'escalation-2']));
    const markers = (history.events ?? []).flatMap((e) => (e.markerRecordedEventAttributes ? [Object.values(e.markerRecordedEventAttributes.details ?? {}).map((d) => text(d.payloads)).join(' ')] : []));
    expect({ projections: markers.some((m) => m.includes('projectAssignment')), plans: markers.filter((m) => m.includes('planNotifications')).length }).toEqual({ projections: true, plans: 0 });

    const outbox = await h.api.db.models.outbox.find({ 'context.assignmentId': assignmentId }).lean();
    expect(outbox.map((e) => e.status)).toEqual(outbox.map(() => 'sent'));
    expect(outbox.map((e) => e._id).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${assignmentId.replace(/\./g, '\\.')}:reminder-1:due-`)),
        expect.stringMatching(/:escalation-2:due-/),
      ]),
    );
  }, 90_000);

  it('holds escalation while evidence is on review, sends it when the evidence comes back late, and stops once accepted', async () => {
    const marker = 'лестница-2';
    const due = new Date(Date.now() + 6_000);
    const { assignmentId } = await createAndIssue(marker, due, {
      remindBefore: [],
      escalateAfter: [
        { after: 'PT4S', to: 'head' },
        { after: 'PT12S', to: 'observers' },
      ],
    });
    await eventually(async () => (count(await mailAbout(marker), 'Срок истёк') === 1 ? true : undefined), 30_000, 'the overdue email');

    const form = new FormData();
    form.append('comment', 'Анализ проведён, справка приложена');
    expect((await h.request('POST', `/api/assignments/${assignmentId}/submissions`, { token: tokens.executor, form })).status).toBe(200);
    // Past the first step's time while the curator has the ball: nothing to the head.
    await new Promise((r) => setTimeout(r, Math.max(0, due.getTime() + 6_000 - Date.now())));
    expect(count(await mailAbout(marker), 'Эскалация')).toBe(0);

    const returned = await h.request('POST', `/api/assignments/${assignmentId}/review`, {
      token: tokens.curator,
      json: { decision: 'return', comment: 'Нет справки' },
    });
    expect(returned.status).toBe(200);
    const escalated = await eventually(async () => {
      const found = (await mailAbout(marker)).filter((m) => m.subject.startsWith('Эскалация'));
      return found.length > 0 ? found : undefined;
    }, 20_000, 'the held escalation');
    expect(escalated.map((m) => m.to)).toEqual([['head@org-a.test']]);
    expect(escalated[0].text).toContain('Состояние: возвращено на доработку, просрочено');

    const again = new FormData();
    again.append('comment', 'Справка приложена');
    expect((await h.request('POST', `/api/assignments/${assignmentId}/submissions`, { token: tokens.executor, form: again })).status).toBe(200);
    expect((await h.request('POST', `/api/assignments/${assignmentId}/review`, { token: tokens.curator, json: { decision: 'accept' } })).status).toBe(200);
    // The second step's time passes with the assignment closed: the ladder has stopped.
    await new Promise((r) => setTimeout(r, Math.max(0, due.getTime() + 14_000 - Date.now())));
    const mails = await mailAbout(marker);
    expect(count(mails, 'Эскалация')).toBe(1);
    expect(count(mails, 'Отчёт принят')).toBe(1);
  }, 90_000);

  it('plans again for a new deadline: an approved extension gets its own reminders', async () => {
    const marker = 'лестница-3';
    const due = new Date(Date.now() + 60_000);
    const { assignmentId } = await createAndIssue(marker, due, { remindBefore: ['PT50S'], escalateAfter: [] });
    await eventually(async () => (count(await mailAbout(marker), 'Напоминание') === 1 ? true : undefined), 30_000, 'the first reminder');

    const until = new Date(Date.now() + 56_000).toISOString();
    expect((await h.request('POST', `/api/assignments/${assignmentId}/extension-requests`, { token: tokens.executor, json: { until, reason: 'Ждём данные мониторинга' } })).status).toBe(200);
    expect((await h.request('POST', `/api/assignments/${assignmentId}/extension-requests/decision`, { token: tokens.curator, json: { approve: true } })).status).toBe(200);
    // The new deadline is 56 s away, so its "50 s before" reminder is due in about 6 s.
    await eventually(async () => (count(await mailAbout(marker), 'Напоминание') === 2 ? true : undefined), 30_000, 'the reminder for the new deadline');
    const keys = (await h.api.db.models.outbox.find({ 'context.assignmentId': assignmentId, template: 'assignment-reminder' }).lean()).map((e) => e._id);
    expect(new Set(keys).size).toBe(2);
  }, 90_000);
});

describe('policies through the API', () => {
  it('copies the administrator’s default onto a recommendation created without one', async () => {
    expect((await h.request('GET', '/api/settings/notification-policy', { token: tokens.curator })).body).toEqual(DEFAULT_POLICY);
    const policy = { remindBefore: ['P7D'], escalateAfter: [{ after: { workingDays: 2 }, to: ['head', 'curator'] }] };
    const put = await h.request('PUT', '/api/settings/notification-policy', { token: tokens.admin, json: policy });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(policy);
    expect((await h.request('PUT', '/api/settings/notification-policy', { token: tokens.curator, json: policy })).status).toBe(403);

    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '766', date: '2022-08-26' }, text: 'Сформировать команды', assignees: ['org-a'], deadline: { due: '2099-09-30' } },
    });
    expect(created.body.policy).toEqual(policy);
    // The executor sees its deadline, not how it will be chased.
    const seen = await h.request('GET', `/api/recommendations/${created.body.id}`, { token: tokens.executor });
    expect(seen.status).toBe(404); // a draft is not addressed to anyone yet
  });

  it.each([
    [{ remindBefore: ['три дня'] }, /длительность ISO 8601/],
    [{ remindBefore: [{ workingDays: -2 }] }, /рабочих дней/],
    [{ escalateAfter: [{ after: 'P3D', to: 'director' }] }, /.+/],
    [{ escalateAfter: [{ after: 'P3D' }] }, /.+/],
    [{ remindBefore: [], extra: true }, /.+/],
    [{ repeat: { every: 'P0D', to: 'coordinator', times: 3 } }, /интервал повторов не может быть нулевым/],
    [{ repeat: { every: { workingDays: 0 }, to: 'coordinator', times: 3 } }, /интервал повторов не может быть нулевым/],
  ])('refuses the policy %j with 400 and a Russian message', async (policy, message) => {
    const res = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { source: { kind: 'letter', number: '766', date: '2022-08-26' }, text: 'Сформировать команды', assignees: ['org-a'], deadline: { due: '2099-09-30' }, policy },
    });
    expect(res.status).toBe(400);
    const details = JSON.stringify(res.body.error.details);
    expect(details).toMatch(/body\.policy/);
    expect(details).toMatch(message);
    expect(details).toMatch(/[а-я]/);
  });
});

describe('planning with the calendar as it stands', () => {
  it('counts working days over a year an administrator added', async () => {
    const repos = h.api.db.repos;
    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: {
        source: { kind: 'letter', number: '766', date: '2022-08-26' },
        text: 'Сформировать команды',
        assignees: ['org-a'],
        deadline: { due: '2099-06-10T23:59:59+07:00' }, // a Wednesday
        policy: { remindBefore: [{ workingDays: 1 }], escalateAfter: [] },
      },
    });
    const planner = createPlanningActivities({ repos, calendar: () => loadCalendar(repos), timezone: 'Asia/Tomsk', notifyHour: 9, rule: 'previous' });
    const input = { recommendationId: created.body.id, due: '2099-06-10T16:59:59.000Z', issuedAt: '2099-01-01T00:00:00Z', plannedAt: '2099-01-01T00:00:00Z' };
    expect((await planner.planNotifications(input)).map((s) => s.at)).toEqual(['2099-06-09T02:00:00.000Z']);

    // The administrator adds 2099 with 09.06 a day off: the reminder moves to the working day before.
    const put = await h.request('PUT', '/api/calendar/2099', { token: tokens.admin, json: { source: 'проверка', daysOff: ['2099-06-09'], workingWeekends: [] } });
    expect(put.status).toBe(200);
    expect((await planner.planNotifications(input)).map((s) => s.at)).toEqual(['2099-06-08T02:00:00.000Z']);
  });
});
