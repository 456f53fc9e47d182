/**
 * Issuing at scale: 150 addressees (over one write chunk and one start batch), issued three times,
 * twice at once. Every assignment starts once, and the recommendation workflow's history grows with
 * the number of batches, not of addressees — what keeps 2,300 addressees inside Temporal's limits.
 */
import { eventually, startHarness, type Harness } from '../support/harness';

const N = 150;
const BATCH = 25;
const ORGS = Array.from({ length: N }, (_, i) => `org-s${String(i).padStart(3, '0')}`);
let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  h = await startHarness('scale', { env: { ISSUE_BATCH_SIZE: String(BATCH) } });
  tokens = await h.seedUsers();
  await h.api.db.models.organizations.insertMany(
    ORGS.map((code) => ({ _id: code, name: code, kind: 'municipality', groups: [], contacts: { coordinator: [], head: [] } })),
  );
});
afterAll(() => h?.stop());

it('starts every assignment exactly once however often it is issued, with a history bounded by batches', async () => {
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: { source: { kind: 'letter', number: '9', date: '2024-02-01' }, text: 'Рекомендация всем адресатам', assignees: ORGS, deadline: { due: '2099-01-31' } },
  });
  const id = created.body.id as string;
  const first = await h.request('POST', `/api/recommendations/${id}/issue`, { token: tokens.curator });
  expect(first.status).toBe(200);
  expect(first.body.assignments).toHaveLength(N);
  // Re-issuing while rows exist (a write that FerretDB once deadlocked on) and twice at once.
  const again = await Promise.all([1, 2].map(() => h.request('POST', `/api/recommendations/${id}/issue`, { token: tokens.curator })));
  for (const res of again) {
    expect(res.status).toBe(200);
    expect(res.body.assignments).toEqual(first.body.assignments);
  }

  const audit = h.api.db.models.audit;
  await eventually(async () => ((await audit.countDocuments({ action: 'issued', 'entity.id': { $regex: `^${id}\\.` } })) === N ? true : undefined), 120_000, 'all issued');
  expect((await h.request('GET', `/api/assignments?recommendation=${id}&limit=1`, { token: tokens.curator })).body.total).toBe(N);

  const description = await h.api.temporal.workflow.getHandle(`recommendation/${id}`).describe();
  const batches = Math.ceil(N / BATCH);
  // A few events per batch activity plus the start; nowhere near one event per addressee.
  expect(description.historyLength).toBeLessThanOrEqual(10 + 6 * batches);
  expect(description.historyLength).toBeLessThan(N);
});

it('keeps a recommendation to 1,000 addressees, which an index on the addressee array would refuse', async () => {
  const many = Array.from({ length: 1000 }, (_, i) => `org-m${String(i).padStart(4, '0')}-${'x'.repeat(20)}`);
  for (let i = 0; i < many.length; i += 250) {
    await h.api.db.models.organizations.insertMany(
      many.slice(i, i + 250).map((code) => ({ _id: code, name: code, kind: 'municipality', groups: [], contacts: { coordinator: [], head: [] } })),
    );
  }
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: { source: { kind: 'letter', number: '10', date: '2024-02-01' }, text: 'Тысяча адресатов', assignees: many, deadline: { due: '2099-01-31' } },
  });
  expect(created.status).toBe(201);
  const read = await h.request('GET', `/api/recommendations/${created.body.id}`, { token: tokens.curator });
  expect(read.body.assignees).toHaveLength(1000);
});
