/**
 * The core journey through the real API, Temporal and FerretDB: issue to three organisations,
 * submit with a file, return, resubmit, accept; lists, detail, history and download agree.
 */
import { createHash } from 'node:crypto';
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  h = await startHarness('flow');
  tokens = await h.seedUsers();
});
afterAll(() => h?.stop());

const recommendation = (overrides: Record<string, unknown> = {}) => ({
  source: { kind: 'protocol', number: '5', date: '2022-05-31', title: 'Протокол заседания Коллегии' },
  text: 'Провести анализ вовлеченности обучающихся в высокорейтинговые мероприятия',
  assignees: ['org-a', 'org-b', 'org-c'],
  deadline: { due: '2099-09-30' },
  ...overrides,
});

async function issued(overrides: Record<string, unknown> = {}) {
  const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation(overrides) });
  expect(created.status).toBe(201);
  const issue = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  expect(issue.status).toBe(200);
  return issue.body as { id: string; status: string; assignments: Array<{ id: string; organization: string; due: string }> };
}

/**
 * The assignment once its history has an entry of this type and its state has caught up with its
 * latest entry: the projection writes the history entry first and the row after
 * (workers/activities/projection.ts).
 */
async function waitForHistory(id: string, type: string, token = tokens.curator) {
  return eventually(async () => {
    const res = await h.request('GET', `/api/assignments/${id}`, { token });
    const history = (res.body.history ?? []) as Array<{ type: string; status?: string; overdue?: boolean }>;
    const latest = history.at(-1);
    const caughtUp = latest !== undefined && (latest.status === undefined || latest.status === res.body.status) && (latest.overdue === undefined || latest.overdue === res.body.overdue);
    return caughtUp && history.some((e) => e.type === type) ? res.body : undefined;
  }, 20_000, `${type} in the history of ${id}`);
}

describe('a recommendation issued to three organisations', () => {
  it('creates a draft, then issues one assignment per organisation, the same ones when issued again', async () => {
    const created = await h.request('POST', '/api/recommendations', { token: tokens.curator, json: recommendation() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), status: 'draft' });

    const first = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('issued');
    expect(first.body.assignments.map((a: { organization: string }) => a.organization).sort()).toEqual(['org-a', 'org-b', 'org-c']);
    // The end of 30.09.2099 in Asia/Tomsk.
    expect(first.body.assignments[0].due).toBe('2099-09-30T16:59:59.999Z');

    const again = await Promise.all([
      h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator }),
      h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator }),
    ]);
    for (const res of again) expect(res.body.assignments).toEqual(first.body.assignments);

    const list = await h.request('GET', `/api/assignments?recommendation=${created.body.id}`, { token: tokens.curator });
    expect(list.body.total).toBe(3);

    // Exactly one workflow per assignment, however often it was issued.
    for (const a of first.body.assignments) await waitForHistory(a.id, 'issued');
    const detail = await h.request('GET', `/api/assignments/${first.body.assignments[0].id}`, { token: tokens.curator });
    expect(detail.body.history.filter((e: { type: string }) => e.type === 'issued')).toHaveLength(1);
  });

  it('walks submit → return → resubmit → accept, and the list, detail, history and download agree', async () => {
    const rec = await issued();
    const mine = rec.assignments.find((a) => a.organization === 'org-a')!;
    await waitForHistory(mine.id, 'issued');

    const content = Buffer.from('Отчёт об исполнении: проведён анализ, приказ № 12');
    const form = new FormData();
    form.append('comment', 'Анализ проведён, приказ прилагается');
    form.append('files', new Blob([content], { type: 'text/plain' }), 'Отчёт № 1.txt');
    const submitted = await h.request('POST', `/api/assignments/${mine.id}/submissions`, { token: tokens.executor, form });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ id: mine.id, status: 'submitted', submissions: 1 });

    const returned = await h.request('POST', `/api/assignments/${mine.id}/review`, {
      token: tokens.curator,
      json: { decision: 'return', comment: 'Приложите приказ полностью' },
    });
    expect(returned.status).toBe(200);
    expect(returned.body).toMatchObject({ status: 'returned', returns: 1 });

    const form2 = new FormData();
    form2.append('comment', 'Приказ приложен полностью');
    form2.append('files', new Blob([Buffer.from('%PDF-1.4 приказ')], { type: 'application/pdf' }), 'prikaz.pdf');
    form2.append('files', new Blob([Buffer.from('a;b\n1;2')], { type: 'text/csv' }), 'table.csv');
    const resubmitted = await h.request('POST', `/api/assignments/${mine.id}/submissions`, { token: tokens.executor, form: form2 });
    expect(resubmitted.status).toBe(200);
    expect(resubmitted.body).toMatchObject({ status: 'submitted', submissions: 2 });

    const accepted = await h.request('POST', `/api/assignments/${mine.id}/review`, { token: tokens.curator, json: { decision: 'accept' } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', acceptedLate: false, overdue: false });

    const detail = await h.request('GET', `/api/assignments/${mine.id}`, { token: tokens.executor });
    expect(detail.status).toBe(200);
    expect(detail.body.history.map((e: { type: string }) => e.type)).toEqual(['issued', 'submitted', 'returned', 'submitted', 'accepted']);
    expect(detail.body.history[2]).toMatchObject({ actor: 'curator@kontrol.test', comment: 'Приложите приказ полностью' });
    expect(detail.body.evidence).toHaveLength(2);
    expect(detail.body.evidence[0].review).toMatchObject({ decision: 'return', comment: 'Приложите приказ полностью' });
    expect(detail.body.evidence[1].review).toMatchObject({ decision: 'accept' });
    const file = detail.body.evidence[0].files[0];
    expect(file).toMatchObject({ name: 'Отчёт № 1.txt', size: content.length, sha256: createHash('sha256').update(content).digest('hex') });

    const download = await h.request('GET', file.url, { token: tokens.executor });
    expect(download.status).toBe(200);
    expect(download.raw.equals(content)).toBe(true);
    expect(download.headers.get('content-disposition')).toContain("filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82");

    const list = await h.request('GET', `/api/assignments?recommendation=${rec.id}&status=accepted`, { token: tokens.curator });
    expect(list.body.items.map((a: { id: string }) => a.id)).toEqual([mine.id]);
    // The card's counts come from the summaries, which follow the rows within a pass.
    const counts = await eventually(async () => {
      const res = await h.request('GET', `/api/recommendations/${rec.id}`, { token: tokens.curator });
      return res.body.counts.accepted === 1 ? res.body.counts : undefined;
    });
    expect(counts).toMatchObject({ total: 3, accepted: 1, issued: 2 });

    // Another organisation's executor cannot tell the assignment or its file exist.
    expect((await h.request('GET', `/api/assignments/${mine.id}`, { token: tokens.otherExecutor })).status).toBe(404);
    expect((await h.request('GET', file.url, { token: tokens.otherExecutor })).status).toBe(404);
  });

  it('refuses illegal transitions with 409 and a Russian reason, changing nothing', async () => {
    const rec = await issued();
    const mine = rec.assignments.find((a) => a.organization === 'org-a')!;
    await waitForHistory(mine.id, 'issued');
    const review = await h.request('POST', `/api/assignments/${mine.id}/review`, { token: tokens.curator, json: { decision: 'accept' } });
    expect(review.status).toBe(409);
    expect(review.body.error.message).toMatch(/Проверять нечего/);
    const detail = await h.request('GET', `/api/assignments/${mine.id}`, { token: tokens.curator });
    expect(detail.body.status).toBe('issued');
    expect(detail.body.history).toHaveLength(1);
  });

  it('marks an assignment overdue when its deadline passes without evidence', async () => {
    const due = new Date(Date.now() + 4000).toISOString();
    const rec = await issued({ assignees: ['org-a'], deadline: { due } });
    const id = rec.assignments[0].id;
    const overdue = await eventually(async () => {
      const res = await h.request('GET', `/api/assignments?overdue=true&recommendation=${rec.id}`, { token: tokens.executor });
      return res.body.total === 1 ? res.body.items[0] : undefined;
    }, 30_000, 'overdue');
    expect(overdue).toMatchObject({ id, overdue: true, status: 'issued' });
    const detail = await waitForHistory(id, 'overdue', tokens.executor);
    expect(detail.history.at(-1)).toMatchObject({ type: 'overdue', actor: 'system' });
  });

  it('makes an assignment issued after its deadline overdue at once', async () => {
    const rec = await issued({ assignees: ['org-b'], deadline: { due: '2022-09-30' } });
    const detail = await waitForHistory(rec.assignments[0].id, 'overdue');
    expect(detail).toMatchObject({ status: 'issued', overdue: true, due: '2022-09-30T16:59:59.999Z' });
    expect(detail.history.map((e: { type: string }) => e.type)).toEqual(['issued', 'overdue']);
  });

  it('moves the deadline when an extension is approved, and clears overdue', async () => {
    const due = new Date(Date.now() + 3000).toISOString();
    const rec = await issued({ assignees: ['org-a'], deadline: { due } });
    const id = rec.assignments[0].id;
    await waitForHistory(id, 'overdue', tokens.executor);

    const request = await h.request('POST', `/api/assignments/${id}/extension-requests`, {
      token: tokens.executor,
      json: { until: '2099-12-31', reason: 'Ждём решения учредителя' },
    });
    expect(request.status).toBe(200);
    expect(request.body.extension).toMatchObject({ reason: 'Ждём решения учредителя', requestedBy: 'executor@org-a.test' });
    const twice = await h.request('POST', `/api/assignments/${id}/extension-requests`, {
      token: tokens.executor,
      json: { until: '2099-12-31', reason: 'Ещё раз' },
    });
    expect(twice.status).toBe(409);

    const decision = await h.request('POST', `/api/assignments/${id}/extension-requests/decision`, {
      token: tokens.curator,
      json: { approve: true, comment: 'Согласовано' },
    });
    expect(decision.status).toBe(200);
    expect(decision.body).toMatchObject({ due: '2099-12-31T16:59:59.999Z', originalDue: due, overdue: false, extension: null });
  });

  it('withdraws every open assignment when the recommendation is withdrawn, leaving accepted ones alone', async () => {
    const rec = await issued();
    const a = rec.assignments.find((x) => x.organization === 'org-a')!;
    await waitForHistory(a.id, 'issued');
    const form = new FormData();
    form.append('comment', 'Готово');
    expect((await h.request('POST', `/api/assignments/${a.id}/submissions`, { token: tokens.executor, form })).status).toBe(200);
    expect((await h.request('POST', `/api/assignments/${a.id}/review`, { token: tokens.curator, json: { decision: 'accept' } })).status).toBe(200);

    const withdrawn = await h.request('POST', `/api/recommendations/${rec.id}/withdraw`, { token: tokens.curator, json: { reason: 'Утратило актуальность' } });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ status: 'withdrawn', withdrawal: { reason: 'Утратило актуальность' } });

    const counts = await eventually(async () => {
      const res = await h.request('GET', `/api/recommendations/${rec.id}`, { token: tokens.curator });
      return res.body.counts.withdrawn === 2 ? res.body.counts : undefined;
    }, 20_000, 'withdrawal of the open assignments');
    expect(counts).toMatchObject({ total: 3, accepted: 1, withdrawn: 2 });
    // The recommendation's process ends once it has been through every addressee.
    await expect(h.api.temporal.workflow.getHandle(`recommendation/${rec.id}`).result()).resolves.toMatchObject({ status: 'withdrawn', withdrawn: 2 });
    const again = await h.request('POST', `/api/recommendations/${rec.id}/withdraw`, { token: tokens.curator, json: { reason: 'Ещё раз' } });
    expect(again.status).toBe(409);
    const reissue = await h.request('POST', `/api/recommendations/${rec.id}/issue`, { token: tokens.curator });
    expect(reissue.status).toBe(409);
  });
});
