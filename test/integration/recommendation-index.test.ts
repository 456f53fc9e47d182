/**
 * The recommendations a process keeps (store/versioned-cache.ts, `recommendationIndex` in
 * store/repositories.ts), against the real store: lists and cached reads follow every write made
 * through any process's repositories at once, a write made around them only once it is announced,
 * and a recommendation the index lacks is read from the store, never taken as missing.
 */
import { createRepositories } from '../../store/repositories';
import { versionedCache } from '../../store/versioned-cache';
import type { Recommendation } from '../../store/models';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('recommendation-index', { worker: false });
});
afterAll(() => h?.stop());

const page = { limit: 50, offset: 0 };

function recommendation(id: string, assignees: string[], createdAt: Date): Recommendation {
  return {
    _id: id,
    source: { id: `src-${id}`, kind: 'letter', issuer: 'РЦРО', number: id, date: '2026-01-01', title: '' },
    text: `Рекомендация ${id}`,
    assignees,
    deadline: { due: new Date('2099-01-31T16:59:59Z'), input: '2099-01-31' },
    status: 'draft',
    createdBy: { id: 'curator', email: 'curator@test', role: 'curator' },
    createdAt,
  } as Recommendation;
}

it('lists and reads what any process wrote, the moment it is written', async () => {
  const { models, repos } = h.api.db;
  // A second process's repositories over the same store: the worker beside the API.
  const other = createRepositories(models, { timezone: 'Asia/Tomsk' });
  await repos.recommendations.create(recommendation('idx-a', ['org-1', 'org-2'], new Date('2026-01-01')));
  await repos.recommendations.create(recommendation('idx-b', ['org-2'], new Date('2026-02-01')));
  const ids = async (filter: Parameters<typeof repos.recommendations.list>[0]) => (await other.recommendations.list(filter, page)).items.map((r) => r._id);
  expect(await ids({})).toEqual(['idx-b', 'idx-a']);
  // Drafts are not an addressee's business.
  expect(await ids({ assignee: 'org-1', excludeDrafts: true })).toEqual([]);

  await repos.recommendations.markIssued('idx-a', { id: 'curator', name: 'Куратор' } as never);
  expect(await ids({ assignee: 'org-1', excludeDrafts: true })).toEqual(['idx-a']);
  expect(await ids({ assignee: 'org-2', excludeDrafts: true })).toEqual(['idx-a']);
  expect(await ids({ status: 'draft' })).toEqual(['idx-b']);
  expect((await other.recommendations.cached('idx-a'))?.status).toBe('issued');

  await other.recommendations.markWithdrawn('idx-a', { reason: 'Отозвана', by: { kind: 'user', id: 'c', name: 'Куратор' } } as never, new Date());
  expect((await repos.recommendations.cached('idx-a'))?.status).toBe('withdrawn');
  expect((await repos.recommendations.list({ status: 'issued' }, page)).total).toBe(0);
  expect((await repos.recommendations.cachedMany(['idx-b', 'nope', 'idx-a'])).map((r) => r?._id ?? null)).toEqual(['idx-b', null, 'idx-a']);
});

it('keeps what it read until a write around the repositories is announced, and reads what it lacks from the store', async () => {
  const { models, repos } = h.api.db;
  await repos.recommendations.create(recommendation('idx-c', ['org-3'], new Date('2026-03-01')));
  expect((await repos.recommendations.cached('idx-c'))?.text).toBe('Рекомендация idx-c');
  // Written straight into the collection: the kept copy stands (it is a copy, not a read per call)…
  await models.recommendations.updateOne({ _id: 'idx-c' }, { $set: { text: 'Исправленный текст' } });
  expect((await repos.recommendations.cached('idx-c'))?.text).toBe('Рекомендация idx-c');
  expect((await repos.recommendations.get('idx-c'))?.text).toBe('Исправленный текст');
  // …until the write is announced.
  await repos.recommendations.changed();
  expect((await repos.recommendations.cached('idx-c'))?.text).toBe('Исправленный текст');

  // Inserted around the repositories and not announced: not listed, but found when asked for by id.
  await models.recommendations.collection.insertOne({ ...recommendation('idx-d', ['org-3'], new Date('2026-04-01')) } as never);
  expect((await repos.recommendations.list({}, page)).items.map((r) => r._id)).not.toContain('idx-d');
  expect((await repos.recommendations.cached('idx-d'))?._id).toBe('idx-d');
});

it('takes first writes at once: the version document is made by one and changed by the others', async () => {
  const { models } = h.api.db;
  // A fresh store where organisations are created in parallel (the benchmark's first seconds):
  // every write announces a change of a version document nobody has made yet.
  for (let round = 0; round < 10; round++) {
    const cache = versionedCache(models.settings, `test:first-writes:${round}:${Date.now()}`, async () => `computed ${round}`);
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => cache.changed()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await expect(cache.get()).resolves.toBe(`computed ${round}`);
  }
});
