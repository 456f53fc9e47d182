/**
 * The lists (every organisation's assignments, one recommendation's, one organisation's, one
 * cycle's) read through the summaries' list buckets (store/tallies.ts, bucketList in
 * store/repositories.ts), against the real store: page by page they give exactly the rows a plain
 * query finds, each once, overdue first and then by due day, with the total the plain count
 * gives; they follow rows whose deadline or state changes, counted yet or not.
 */
import type { AssignmentState } from '../../domain/assignment';
import type { AssignmentFilter } from '../../store/repositories';
import type { AssignmentView } from '../../store/models';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('long-lists', { worker: false });
});
afterAll(() => h?.stop());

const DAY = 86_400_000;
const BASE = Date.UTC(2030, 0, 1, 20, 59, 59);

function state(version: number, pick: Partial<AssignmentState>): AssignmentState {
  const due = new Date(BASE).toISOString();
  return { status: 'issued', overdue: false, due, originalDue: due, acceptedLate: null, extension: null, lastSubmission: null, submissions: 0, returns: 0, version, ...pick } as AssignmentState;
}

async function drain(): Promise<void> {
  while ((await h.api.db.repos.tallies.pass(13)) > 0);
}

/** Every page of a list, `size` rows at a time, and the totals each page reported. */
async function allPages(filter: AssignmentFilter, size: number): Promise<{ rows: AssignmentView[]; totals: number[] }> {
  const rows: AssignmentView[] = [];
  const totals: number[] = [];
  for (let offset = 0; ; offset += size) {
    const page = await h.api.db.repos.assignments.list(filter, { limit: size, offset });
    totals.push(page.total);
    rows.push(...page.items);
    if (page.items.length < size) break;
  }
  return { rows, totals };
}

async function expectListsMatchRows(filters: AssignmentFilter[]): Promise<void> {
  const { models } = h.api.db;
  for (const filter of filters) {
    const query: Record<string, unknown> = {};
    if (filter.organization) query.organization = filter.organization;
    if (filter.recommendationId) query.recommendationId = filter.recommendationId;
    if (filter.cycle !== undefined) query.cycle = filter.cycle;
    if (filter.status) query.status = filter.status;
    if (filter.overdue !== undefined) query.overdue = filter.overdue;
    const expected = (await models.assignments.find(query, { _id: 1 }).lean()).map((r) => r._id).sort();
    for (const size of [7, 50]) {
      const { rows, totals } = await allPages(filter, size);
      const ids = rows.map((r) => r._id);
      expect({ filter, size, ids: [...ids].sort() }).toEqual({ filter, size, ids: expected });
      expect(new Set(totals)).toEqual(new Set([expected.length]));
      // Overdue first, then by due day within each part.
      const firstNotOverdue = rows.findIndex((r) => !r.overdue);
      if (firstNotOverdue >= 0) expect(rows.slice(firstNotOverdue).every((r) => !r.overdue)).toBe(true);
      for (const part of [rows.filter((r) => r.overdue), rows.filter((r) => !r.overdue)]) {
        const days = part.map((r) => r.due.toISOString().slice(0, 10));
        expect(days).toEqual([...days].sort());
      }
    }
  }
}

/** The extension requests, page by page: exactly the rows flagged as asking, overdue first, then by due day. */
async function expectExtensionRequestsMatchRows(): Promise<void> {
  const expected = (await h.api.db.models.assignments.find({ extensionPending: true }, { _id: 1 }).lean()).map((r) => r._id).sort();
  expect(expected.length).toBeGreaterThan(5);
  for (const size of [4, 50]) {
    const rows: AssignmentView[] = [];
    const totals = new Set<number>();
    for (let offset = 0; ; offset += size) {
      const page = await h.api.db.repos.assignments.pendingExtensions({ limit: size, offset });
      totals.add(page.total);
      rows.push(...page.items);
      if (page.items.length < size) break;
    }
    expect({ size, ids: rows.map((r) => r._id).sort(), totals: [...totals] }).toEqual({ size, ids: expected, totals: [expected.length] });
    const keys = rows.map((r) => `${r.overdue ? 0 : 1}${r.due.toISOString().slice(0, 10)}`);
    expect(keys).toEqual([...keys].sort());
  }
}

it('pages every organisation\'s rows through the buckets, exactly and in order', async () => {
  const { repos } = h.api.db;
  expect(await repos.tallies.prepare()).toBe(true);
  const orgs = Array.from({ length: 30 }, (_, i) => `org-${String(i).padStart(2, '0')}`);
  // Six recommendations due on three days: buckets of one day hold several recommendations.
  for (let r = 0; r < 6; r++) {
    const due = new Date(BASE + (r % 3) * DAY);
    await repos.assignments.ensureIssued({ _id: `rec-${r}`, deadline: { due, input: due.toISOString().slice(0, 10) } }, orgs.slice(0, 20 + r));
  }
  // Not counted yet, and listed all the same.
  expect(await repos.tallies.pending()).toBe(20 * 6 + 15);
  expect((await repos.assignments.list({}, { limit: 50, offset: 0 })).total).toBe(20 * 6 + 15);
  await expectListsMatchRows([{}, { recommendationId: 'rec-5' }, { organization: 'org-03' }, { cycle: 1 }]);
  await drain();
  expect((await repos.assignments.list({}, { limit: 50, offset: 0 })).total).toBe(20 * 6 + 15);

  // States, overdue flags and moved deadlines, some changing twice before they are counted.
  const statuses = ['issued', 'submitted', 'returned', 'accepted', 'withdrawn'] as const;
  let version = 1;
  for (let round = 0; round < 3; round++) {
    version++;
    for (let r = 0; r < 6; r++) {
      for (const [i, org] of orgs.slice(0, 20 + r).entries()) {
        if ((i + r + round) % 3 !== 0) continue;
        const status = statuses[(i + round) % statuses.length];
        const due = new Date(BASE + ((i + round) % 5) * DAY).toISOString();
        // Some ask for a new deadline, and stop asking in a later round.
        const extension = (i + round) % 4 === 1 ? { until: '2030-03-01', reason: 'Подрядчик', requestedAt: new Date(BASE).toISOString(), requestedBy: { kind: 'user', id: 'u', name: 'Исполнитель' } } : null;
        await repos.assignments.project(
          `rec-${r}.${org}.1`,
          { recommendationId: `rec-${r}`, organization: org, cycle: 1 },
          state(version, { status, due, overdue: (i + r) % 4 === 0 && status !== 'accepted', extension } as never),
        );
      }
    }
    if (round !== 1) await drain();
    // Half counted: some rows moved since their last pass, some never counted in their new state.
    else {
      await expectListsMatchRows([{}, { status: 'issued' }, { overdue: true }, { recommendationId: 'rec-2' }, { organization: 'org-01', overdue: false }]);
      await expectExtensionRequestsMatchRows();
    }
  }
  await expectExtensionRequestsMatchRows();
  await drain();
  await expectListsMatchRows([
    {},
    { status: 'issued' },
    { status: 'accepted' },
    { overdue: true },
    { overdue: false },
    { status: 'submitted', overdue: true },
    { recommendationId: 'rec-4' },
    { recommendationId: 'rec-4', cycle: 1, status: 'issued' },
    { organization: 'org-07' },
    { organization: 'org-07', status: 'withdrawn' },
    { cycle: 1, overdue: true },
    { recommendationId: 'rec-1', organization: 'org-02' },
  ]);

  // A narrow scope whose rows are few in a month reads the month at once, not bucket by bucket;
  // the whole read model's lists read by bucket.
  const reads = async (filter: AssignmentFilter) => {
    const queries: Array<Record<string, unknown>> = [];
    h.api.db.connection.set('debug', (collection: string, method: string, query: Record<string, unknown>) => {
      if (collection === 'assignments' && method === 'find') queries.push(query);
    });
    try {
      const page = await repos.assignments.list(filter, { limit: 50, offset: 0 });
      return { rows: page.items.length, byMonth: queries.filter((q) => 'listMonth' in q).length, byBucket: queries.filter((q) => 'listBucket' in q).length };
    } finally {
      h.api.db.connection.set('debug', false);
    }
  };
  const rec = await reads({ recommendationId: 'rec-4' });
  expect(rec).toMatchObject({ rows: 24, byBucket: 0 });
  expect(rec.byMonth).toBeGreaterThanOrEqual(1);
  expect(rec.byMonth).toBeLessThanOrEqual(2);
  const all = await reads({});
  expect(all).toMatchObject({ rows: 50, byMonth: 0 });
  expect(all.byBucket).toBeGreaterThan(2);
});

it('lists what the rebuilt summaries count after they are dropped', async () => {
  const { repos, models } = h.api.db;
  await models.tallies.deleteMany({});
  expect(await repos.tallies.prepare()).toBe(true);
  // While the tallier counts every row again, pass after pass, the lists' totals hold throughout:
  // a row is counted where its counts have it, half-applied batches included, never twice.
  const expected = {
    all: await models.assignments.countDocuments({}),
    rec: await models.assignments.countDocuments({ recommendationId: 'rec-3' }),
    org: await models.assignments.countDocuments({ organization: 'org-05', overdue: true }),
  };
  let counting = true;
  const seen: Array<typeof expected> = [];
  const tally = (async () => {
    while ((await repos.tallies.pass(11)) > 0);
    counting = false;
  })();
  while (counting) {
    seen.push({
      all: (await repos.assignments.list({}, { limit: 5, offset: 0 })).total,
      rec: (await repos.assignments.list({ recommendationId: 'rec-3' }, { limit: 5, offset: 0 })).total,
      org: (await repos.assignments.list({ organization: 'org-05', overdue: true }, { limit: 5, offset: 0 })).total,
    });
  }
  await tally;
  expect(seen.length).toBeGreaterThan(3);
  expect({ expected, wrong: seen.filter((s) => JSON.stringify(s) !== JSON.stringify(expected)).map((s) => `${s.all}/${s.rec}/${s.org}`) }).toEqual({ expected, wrong: [] });
  await expectListsMatchRows([{}, { overdue: true }, { recommendationId: 'rec-0' }]);
});

it('keeps a scope\'s total exact and lists no row twice while its rows change state, and every row once they stop', async () => {
  const { repos, models } = h.api.db;
  await drain();
  const ids = (await models.assignments.find({ recommendationId: 'rec-4' }, { _id: 1, organization: 1 }).lean()).map((r) => ({ id: r._id, organization: r.organization }));
  expect(ids.length).toBeGreaterThan(20);
  // Rows change (and turn dirty) while the list reads, and the tallier counts them meanwhile.
  let changing = true;
  const changes = (async () => {
    for (let version = 10; version < 16; version++) {
      for (const { id, organization } of ids) {
        await repos.assignments.project(id, { recommendationId: 'rec-4', organization, cycle: 1 }, state(version, { status: version % 2 ? 'submitted' : 'returned' }));
      }
      await repos.tallies.pass(7);
    }
    changing = false;
  })();
  const seen: Array<{ total: number; twice: number }> = [];
  while (changing) {
    const { items, total } = await repos.assignments.list({ recommendationId: 'rec-4' }, { limit: 100, offset: 0 });
    seen.push({ total, twice: items.length - new Set(items.map((r) => r._id)).size });
  }
  await changes;
  expect(seen.length).toBeGreaterThan(3);
  // A row moving between buckets while a page is read may be missed by that page (read again
  // when the tallier or a projection moved anything, twice at most), never counted wrong or shown twice.
  expect(seen.filter((s) => s.total !== ids.length || s.twice > 0)).toEqual([]);
  expect((await repos.assignments.list({ recommendationId: 'rec-4' }, { limit: 100, offset: 0 })).items.map((r) => r._id).sort()).toEqual(ids.map((r) => r.id).sort());
  await drain();
  expect((await repos.assignments.list({ recommendationId: 'rec-4' }, { limit: 100, offset: 0 })).items.map((r) => r._id).sort()).toEqual(ids.map((r) => r.id).sort());
});

it('pages the review queue through its buckets: every submitted row once, the longest waiting first', async () => {
  const { repos, models } = h.api.db;
  const orgs = Array.from({ length: 40 }, (_, i) => `rq-${String(i).padStart(2, '0')}`);
  const due = new Date(BASE);
  await repos.assignments.ensureIssued({ _id: 'rec-rq', deadline: { due, input: due.toISOString().slice(0, 10) } }, orgs);
  // Submitted over five days, several an hour apart; some accepted or returned again later.
  const submittedAt = (i: number) => new Date(BASE - (i % 5) * DAY - (i % 7) * 3_600_000);
  for (const [i, org] of orgs.entries()) {
    const lastSubmission = { at: submittedAt(i).toISOString(), by: { kind: 'user', id: 'u', name: 'Исполнитель' }, comment: '', files: [] };
    await repos.assignments.project(`rec-rq.${org}.1`, { recommendationId: 'rec-rq', organization: org, cycle: 1 }, state(2, { status: 'submitted', lastSubmission } as never));
  }
  await drain();
  for (const [i, org] of orgs.entries()) {
    if (i % 6 !== 0) continue;
    await repos.assignments.project(`rec-rq.${org}.1`, { recommendationId: 'rec-rq', organization: org, cycle: 1 }, state(3, { status: i % 12 === 0 ? 'accepted' : 'returned' }));
  }
  await drain();

  const submitted = await models.assignments.find({ status: 'submitted' }).lean();
  expect(submitted.length).toBeGreaterThan(30);
  for (const size of [7, 50]) {
    const rows: AssignmentView[] = [];
    const totals = new Set<number>();
    for (let offset = 0; ; offset += size) {
      const page = await repos.assignments.reviewQueue({ limit: size, offset });
      totals.add(page.total);
      rows.push(...page.items);
      if (page.items.length < size) break;
    }
    expect({ size, totals: [...totals] }).toEqual({ size, totals: [submitted.length] });
    expect(rows.map((r) => r._id).sort()).toEqual(submitted.map((r) => r._id).sort());
    // The longest waiting first, across buckets too.
    const times = rows.map((r) => r.lastSubmittedAt?.getTime() ?? -Infinity);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  }
});
