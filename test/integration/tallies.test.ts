/**
 * The read model's summaries (store/tallies.ts) against the real store: after any mix of
 * projections, passes and a pass cut off halfway, the counts equal what the rows say.
 */
import type { AssignmentState } from '../../domain/assignment';
import { countersOf, zeroCounts, type Counts } from '../../domain/tally';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('tallies', { worker: false });
});
afterAll(() => h?.stop());

const STATES: Array<Partial<AssignmentState>> = [
  { status: 'issued', overdue: false },
  { status: 'issued', overdue: true },
  { status: 'submitted', overdue: true },
  { status: 'returned', overdue: true, returns: 1 },
  { status: 'accepted', overdue: false, acceptedLate: false },
  { status: 'accepted', overdue: true, acceptedLate: true, returns: 1 },
  { status: 'withdrawn', overdue: false },
];

function state(version: number, pick: Partial<AssignmentState>): AssignmentState {
  const due = '2099-01-01T00:00:00.000Z';
  return { status: 'issued', overdue: false, due, originalDue: due, acceptedLate: null, extension: null, lastSubmission: null, submissions: 0, returns: 0, version, ...pick } as AssignmentState;
}

/** What the rows themselves say, per organisation: the figure the summaries must show. */
async function countedFromRows(): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  for (const row of await h.api.db.models.assignments.find().lean()) {
    const counts = out.get(row.organization) ?? zeroCounts();
    for (const c of countersOf(row)) counts[c] += 1;
    out.set(row.organization, counts);
  }
  return out;
}

async function drain(): Promise<void> {
  while ((await h.api.db.repos.tallies.pass(7)) > 0);
}

it('counts what the rows say after projections interleaved with passes, and a pass cut off is finished once', async () => {
  const { repos, models } = h.api.db;
  expect(await repos.tallies.prepare()).toBe(true);
  const rec = { _id: 'rec-t', deadline: { due: new Date('2099-01-01'), input: '2099-01-01' } };
  const orgs = ['a', 'b', 'c', 'd', 'e', 'f'];
  await repos.assignments.ensureIssued(rec, orgs);
  await drain();
  expect((await repos.tallies.byOrganization()).get('a')).toMatchObject({ total: 1, issued: 1 });

  // Random changes, some rows changing again before they are counted.
  for (let version = 1; version <= 12; version++) {
    await Promise.all(
      orgs.map((org, i) => repos.assignments.project(`rec-t.${org}.1`, { recommendationId: 'rec-t', organization: org, cycle: 1 }, state(version, STATES[(version + i) % STATES.length]))),
    );
    if (version % 3 === 0) await repos.tallies.pass(4);
  }
  // A pass cut off after its batch was written and applied to one document only.
  const dirty = await models.assignments.countDocuments({ tallyDirty: true });
  expect(dirty).toBeGreaterThan(0);
  await repos.tallies.pass();
  await drain();
  expect(await repos.tallies.byOrganization()).toEqual(await countedFromRows());

  const before = await repos.tallies.byOrganization();
  // Replay the last batch against documents that already have it: nothing may change.
  await repos.assignments.project('rec-t.a.1', { recommendationId: 'rec-t', organization: 'a', cycle: 1 }, state(20, { status: 'submitted', overdue: false }));
  const [row] = await models.assignments.find({ _id: 'rec-t.a.1' }).lean();
  const batch = { _id: 'cut-off', deltas: JSON.stringify([{ doc: 'org', path: ['a'], counts: { submitted: 1, issued: -1 } }]), rows: JSON.stringify([[row._id, row.version, 'total,submitted']]) };
  // Stored and applied to 'org' as a pass would before a crash; the rows not yet marked.
  await models.tallyBatches.create(batch);
  const org = await models.tallies.findById('org').lean();
  const table = JSON.parse(org!.data);
  table.a.submitted = (table.a.submitted ?? 0) + 1;
  table.a.issued -= 1;
  if (table.a.issued === 0) delete table.a.issued;
  await models.tallies.updateOne({ _id: 'org' }, { $set: { data: JSON.stringify(table), batch: 'cut-off' } });
  // Starting again finishes it without applying it twice.
  expect(await repos.tallies.prepare()).toBe(false);
  expect(await models.tallyBatches.countDocuments()).toBe(0);
  expect((await repos.tallies.byOrganization()).get('a')!.submitted).toBe(before.get('a')!.submitted + 1);
});

it('rebuilds from the rows when the summaries are missing, and reads periods by day of issue', async () => {
  const { repos, models } = h.api.db;
  await models.tallies.deleteMany({});
  expect(await repos.tallies.prepare()).toBe(true);
  await drain();
  expect(await repos.tallies.byOrganization()).toEqual(await countedFromRows());
  const all = await repos.tallies.issuedBetween('2000-01-01', '2999-12-31');
  expect(all.org).toEqual(await countedFromRows());
  expect((await repos.tallies.issuedBetween('2000-01-01', '2001-01-01')).org.size).toBe(0);
  expect([...all.rec.keys()]).toEqual(['rec-t']);
  // The discipline rows of the dashboard add up to the rows, all time and over a period alike.
  for (const period of [undefined, { from: '2000-01-01', to: '2999-12-31' }]) {
    const { byOrganization, byRecommendation } = await repos.assignments.discipline(period);
    expect(byOrganization.reduce((n, r) => n + r.total, 0)).toBe(6);
    expect(byRecommendation.map((r) => [r.key, r.total])).toEqual([['rec-t', 6]]);
  }
  // The sums of a period are kept while the months are as they were, and follow a change.
  const submittedIn = async () => (await repos.tallies.issuedBetween('2000-01-01', '2999-12-31')).org.get('b')?.submitted ?? 0;
  const submittedBefore = await submittedIn();
  expect(await submittedIn()).toBe(submittedBefore);
  await repos.assignments.project('rec-t.b.1', { recommendationId: 'rec-t', organization: 'b', cycle: 1 }, state(30, { status: 'submitted', overdue: false }));
  await drain();
  const submittedNow = (await countedFromRows()).get('b')!.submitted;
  expect(submittedNow).not.toBe(submittedBefore);
  expect(await submittedIn()).toBe(submittedNow);
});
