/**
 * Recurring recommendations end to end on a seconds-scale recurrence: one assignment per cycle
 * with its own state, the recommendation's process continuing as new at each cycle so its history
 * stays short, and a withdrawal that stops the cycles to come and closes the open ones.
 */
import { recommendationWorkflowId } from '../../domain/ids';
import { recommendationProgressQuery } from '../../workflows/definitions';
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  h = await startHarness('cycles');
  tokens = await h.seedUsers();
});
afterAll(() => h?.stop());

const QUIET = { remindBefore: [], escalateAfter: [] };

async function assignmentsOf(recommendationId: string) {
  const res = await h.request('GET', `/api/assignments?recommendation=${recommendationId}&limit=500`, { token: tokens.curator });
  expect(res.status).toBe(200);
  return res.body.items as Array<{ id: string; organization: string; cycle: number; period: string | null; status: string; due: string }>;
}

describe('recurring recommendations', () => {
  it('issues each cycle as it appears, each with its own state, and stops at withdrawal', async () => {
    const firstDue = new Date(Date.now() + 6_000);
    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: {
        source: { kind: 'protocol', number: '5', date: '2022-05-31' },
        text: 'Ежецикловый отчёт о повышении квалификации педагогических команд',
        assignees: ['org-a', 'org-b'],
        deadline: { due: firstDue.toISOString(), recurrence: { frequency: 'interval', every: 'PT10S', leadTime: 'PT10S' } },
        policy: QUIET,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.recurrence).toEqual({ frequency: 'interval', every: 'PT10S', leadTime: 'PT10S', monthEnd: false });
    const id = created.body.id as string;

    const issued = await h.request('POST', `/api/recommendations/${id}/issue`, { token: tokens.curator });
    expect(issued.status).toBe(200);
    expect(issued.body.assignments.map((a: { cycle: number; period: string }) => [a.cycle, a.period])).toEqual([
      [1, 'цикл 1'],
      [1, 'цикл 1'],
    ]);

    // Cycle 1 for org-a is done and accepted before cycle 2 appears (at the first deadline).
    const first = issued.body.assignments.find((a: { organization: string }) => a.organization === 'org-a').id;
    await eventually(async () => ((await h.request('GET', `/api/assignments/${first}`, { token: tokens.curator })).body.history?.length ? true : undefined));
    const form = new FormData();
    form.append('comment', 'Отчёт за первый цикл');
    expect((await h.request('POST', `/api/assignments/${first}/submissions`, { token: tokens.executor, form })).status).toBe(200);
    expect((await h.request('POST', `/api/assignments/${first}/review`, { token: tokens.curator, json: { decision: 'accept' } })).status).toBe(200);

    // Cycles 2 and 3 appear by themselves, 10 s apart, each a deadline 10 s after the one before.
    const rows = await eventually(async () => {
      const all = await assignmentsOf(id);
      return all.some((a) => a.cycle === 3) && all.length === 6 ? all : undefined;
    }, 45_000, 'the third cycle');
    const byCycle = (k: number) => rows.filter((a) => a.cycle === k);
    expect(byCycle(2).map((a) => a.period)).toEqual(['цикл 2', 'цикл 2']);
    expect(Date.parse(byCycle(2)[0].due) - Date.parse(byCycle(1)[0].due)).toBe(10_000);
    expect(Date.parse(byCycle(3)[0].due) - Date.parse(byCycle(2)[0].due)).toBe(10_000);
    // Each cycle has its own state: org-a's first is accepted, its second still waits for a report.
    expect(rows.find((a) => a.cycle === 1 && a.organization === 'org-a')!.status).toBe('accepted');
    expect(rows.find((a) => a.cycle === 2 && a.organization === 'org-a')!.status).toBe('issued');

    // The executor sees its own organisation's cycles only, and can filter by cycle.
    const mine = await h.request('GET', `/api/assignments?recommendation=${id}&cycle=2`, { token: tokens.executor });
    expect(mine.body.items.map((a: { organization: string; cycle: number }) => [a.organization, a.cycle])).toEqual([['org-a', 2]]);

    // One run per cycle: the process continued as new, and the current run's history is short.
    const handle = h.api.temporal.workflow.getHandle(recommendationWorkflowId(id));
    const runs = await eventually(async () => {
      const found: string[] = [];
      for await (const run of h.api.temporal.workflow.list({ query: `WorkflowId = '${recommendationWorkflowId(id)}'` })) found.push(run.runId);
      return found.length >= 3 ? found : undefined;
    }, 20_000, 'a run per cycle');
    expect(new Set(runs).size).toBe(runs.length);
    expect((await handle.describe()).historyLength).toBeLessThan(40);
    // The next cycle is planned once the run has issued its own (and sent its emails).
    const progress = await eventually(async () => {
      const now = await handle.query(recommendationProgressQuery);
      return now.nextCycle ? now : undefined;
    }, 20_000, 'the next cycle planned');
    expect(progress.cycle?.cycle).toBeGreaterThanOrEqual(3);
    expect(progress.nextCycle?.cycle).toBe(progress.cycle!.cycle + 1);

    const card = await h.request('GET', `/api/recommendations/${id}`, { token: tokens.curator });
    expect(card.body.cycles.next.cycle).toBe(card.body.cycles.current.cycle + 1);
    // Per-cycle counts, the latest first: the first cycle has org-a's accepted report.
    const issuedCycles = card.body.cycles.issued as Array<{ cycle: number; period: string; counts: { total: number; accepted: number } }>;
    expect(issuedCycles.map((c) => c.cycle)).toEqual([...issuedCycles.map((c) => c.cycle)].sort((a, b) => b - a));
    expect(issuedCycles.at(-1)).toMatchObject({ cycle: 1, period: 'цикл 1', counts: { total: 2, accepted: 1 } });

    // Withdrawal: every open assignment of every cycle closes; no cycle appears after it.
    const withdrawn = await h.request('POST', `/api/recommendations/${id}/withdraw`, { token: tokens.curator, json: { reason: 'Мероприятие завершено' } });
    expect(withdrawn.status).toBe(200);
    const closed = await eventually(async () => {
      const all = await assignmentsOf(id);
      return all.every((a) => a.status === 'accepted' || a.status === 'withdrawn') ? all : undefined;
    }, 30_000, 'every open cycle withdrawn');
    const cyclesAtWithdrawal = Math.max(...closed.map((a) => a.cycle));
    expect(closed.filter((a) => a.status === 'accepted').map((a) => [a.organization, a.cycle])).toEqual([['org-a', 1]]);
    expect((await handle.result()).status).toBe('withdrawn');

    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const after = await assignmentsOf(id);
    expect(Math.max(...after.map((a) => a.cycle))).toBe(cyclesAtWithdrawal);
    expect(after).toHaveLength(closed.length);
  });

  it('refuses recurrences that cannot work, in Russian', async () => {
    const base = {
      source: { kind: 'letter', number: '766', date: '2022-08-26' },
      text: 'Повторяющаяся рекомендация',
      assignees: ['org-a'],
    };
    const cases: Array<[unknown, string]> = [
      [{ due: '2023-09-30T12:00:00+07:00', recurrence: { frequency: 'yearly' } }, 'для ежегодного, ежеквартального и ежемесячного срока укажите дату ГГГГ-ММ-ДД'],
      [{ due: '2023-09-30', recurrence: { frequency: 'monthly', leadTime: 'P45D' } }, 'упреждение не может быть больше периода повторения'],
      [{ due: '2026-12-01T00:00:00Z', recurrence: { frequency: 'interval', every: 'PT1S' } }, 'интервал повторения — не меньше 10 секунд'],
    ];
    for (const [deadline, message] of cases) {
      const res = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: { ...base, deadline } });
      expect(res.status).toBe(400);
      // The message, or the field's message in the details when the schema caught it.
      expect(JSON.stringify(res.body.error)).toContain(message);
    }
    const unknownFrequency = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: { ...base, deadline: { due: '2023-09-30', recurrence: { frequency: 'weekly' } } },
    });
    expect(unknownFrequency.status).toBe(400);
    expect(unknownFrequency.body.error.details[0].path).toBe('body.deadline.recurrence.frequency');
  });
});
