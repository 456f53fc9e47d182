/**
 * Page sessions do not pile up: each API process deletes the expired ones every few minutes (a
 * sweep, as FerretDB does not expire documents by a TTL index), and keeps the live ones.
 */
import { sessionMiddleware } from '../../web/session';
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('sessions', { worker: false });
});
afterAll(() => h?.stop());

it('deletes expired sessions and keeps live ones', async () => {
  const sessions = h.api.db.connection.collection<{ _id: string; expires: Date; session: object }>('sessions');
  const now = Date.now();
  await sessions.insertMany([
    { _id: 'expired-yesterday', expires: new Date(now - 86_400_000), session: { cookie: {} } },
    { _id: 'expired-just-now', expires: new Date(now - 1_000), session: { cookie: {} } },
    { _id: 'live', expires: new Date(now + 3_600_000), session: { cookie: {} } },
  ]);
  // The pages' own store, sweeping every 0.3 s instead of every 10 minutes.
  sessionMiddleware({ connection: h.api.db.connection, secret: 'x'.repeat(32), secure: false, ttlSeconds: 3600, sweepMinutes: 0.005 });
  const left = await eventually(async () => {
    const ids = (await sessions.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id).sort();
    return ids.includes('expired-yesterday') || ids.includes('expired-just-now') ? undefined : ids;
  }, 20_000, 'the expired sessions to be deleted');
  expect(left).toContain('live');
});
