/**
 * Projections of one assignment that arrive at once, out of order, leave the newest state: the
 * embedded store (FerretDB) does not apply an update atomically, so the repository queues the
 * writes of one row (store/serialize.ts). Without the queue this test ends on an older version.
 */
import type { AssignmentState } from '../../domain/assignment';
import { startHarness, type Harness } from '../support/harness';
import { readStackInfo } from '../support/stack-info';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('rm-concurrency', { worker: false });
});
afterAll(() => h?.stop());

function state(version: number): AssignmentState {
  const due = '2099-01-01T00:00:00.000Z';
  return {
    status: version % 2 ? 'submitted' : 'returned',
    overdue: false,
    due,
    originalDue: due,
    acceptedLate: null,
    extension: null,
    lastSubmission: null,
    submissions: version,
    returns: 0,
    version,
  } as unknown as AssignmentState;
}

// FerretDB on SQLite (the dev profile) serialises writes itself, so only PostgreSQL shows the race.
const onPostgres = readStackInfo().profile === 'production' ? it : it.skip;

onPostgres('keeps the newest of 100 versioned projections written at once in random order, for each of 5 rows', async () => {
  const repos = h.api.db.repos;
  const rows = ['a', 'b', 'c', 'd', 'e'].map((org) => ({ id: `rec-c.${org}.1`, key: { recommendationId: 'rec-c', organization: org, cycle: 1 } }));
  const writes = rows.flatMap((row) => Array.from({ length: 100 }, (_, i) => ({ row, version: i + 1 }))).sort(() => Math.random() - 0.5);
  await Promise.all(writes.map(({ row, version }) => repos.assignments.project(row.id, row.key, state(version))));
  for (const row of rows) expect(await repos.assignments.get(row.id)).toMatchObject({ version: 100, submissions: 100, status: 'returned' });
});
