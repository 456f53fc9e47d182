/**
 * The delivery log read by slices (store/outbox.ts), against the real store: page by page, with
 * every filter, it gives exactly the emails a plain query sorted newest first gives, with the same
 * total; before its periods are closed, after, and after states change. Emails of the version
 * before (bodies inside, no slice) are moved by the migration and read the same.
 */
import { MIGRATIONS, migrate } from '../../store/migrations';
import { createRepositories } from '../../store/repositories';
import { partOf, secondOf, sliceOf, type OutboxFilter, type OutboxSummary } from '../../store/outbox';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('delivery-log', { worker: false });
});
afterAll(() => h?.stop());

const MINUTE = 60_000;
const TEMPLATES = ['assignment-issued', 'evidence-submitted', 'assignment-reminder'];
const STATUSES = ['sent', 'sent', 'sent', 'failed', 'pending'] as const;

/** Where the burst begins: the start of the first two-minute slice after the spread emails. */
const burstStart = (start: number, count: number) => Math.ceil((start + count * 17 * MINUTE) / (2 * MINUTE)) * 2 * MINUTE;

/**
 * Emails as the store keeps them, straight into the collections: spread over days and slices,
 * bursts included. The last third carries its second (as recorded now), the third before it its
 * ten-second part (as before seconds), the first third neither (as before parts); the last `burst`
 * fill one slice, 0.8 s apart, across all its seconds. Keys are `prefix` and a number.
 */
async function seed(count: number, start: number, burst = 0, prefix = 'e'): Promise<void> {
  const { models } = h.api.db;
  const emails = [];
  const bodies = [];
  for (let i = 0; i < count + burst; i++) {
    // Every seventh email shares the previous one's instant (a burst), the rest spread over ~3 days.
    const at =
      i >= count ? new Date(burstStart(start, count) + (i - count) * 800) : new Date(start + (i % 7 === 0 ? (i - 1) * 17 : i * 17) * MINUTE);
    const key = `${prefix}${String(i).padStart(4, '0')}`;
    const assignmentId = i % 4 === 0 ? null : `rec.org-${i % 5}.1`;
    emails.push({
      _id: key,
      template: TEMPLATES[i % 3],
      to: ['coordinator@org.test'],
      subject: `Письмо ${i}`,
      status: STATUSES[i % 5],
      attempts: 1,
      context: assignmentId ? { assignmentId } : {},
      assignmentId,
      slice: sliceOf(at),
      ...(i >= (2 * count) / 3 ? { second: secondOf(at) } : i >= count / 3 ? { part: partOf(at) } : {}),
      createdAt: at,
      updatedAt: at,
    });
    bodies.push({ _id: key, html: `<p>${i}</p>`, text: `${i}` });
  }
  await models.outbox.collection.insertMany(emails as never[]);
  await models.outboxBodies.collection.insertMany(bodies as never[]);
  const slices = [...new Set(emails.map((e) => e.slice))];
  await models.outboxSlices.collection.insertMany(slices.map((s) => ({ _id: s, day: s.slice(0, 10), closed: false })) as never[]);
  await models.outboxDays.collection.insertMany([...new Set(slices.map((s) => s.slice(0, 10)))].map((d) => ({ _id: d, closed: false })) as never[]);
  // Written around the repository: its processes read the days anew.
  await h.api.db.repos.outbox.daysChanged();
}

/** What a plain query gives: every matching email, newest first (ties by key, descending). */
async function expected(filter: OutboxFilter): Promise<string[]> {
  const query: Record<string, unknown> = {};
  if (filter.status) query.status = filter.status;
  if (filter.template) query.template = filter.template;
  if (filter.assignmentId) query.assignmentId = filter.assignmentId;
  const all = await h.api.db.models.outbox.find(query, { _id: 1, createdAt: 1 }).lean();
  return all.sort((a, b) => b.createdAt!.getTime() - a.createdAt!.getTime() || (a._id < b._id ? 1 : -1)).map((e) => e._id);
}

const FILTERS: OutboxFilter[] = [
  {},
  { status: 'sent' },
  { status: 'failed' },
  { status: 'pending' },
  { template: 'evidence-submitted' },
  { template: 'assignment-reminder', status: 'sent' },
  { assignmentId: 'rec.org-2.1' },
  { assignmentId: 'rec.org-2.1', status: 'sent' },
];

async function checkEveryPage(label: string): Promise<void> {
  for (const filter of FILTERS) {
    const want = await expected(filter);
    for (const size of [19, 50]) {
      const got: string[] = [];
      for (let offset = 0; offset < want.length + size; offset += size) {
        const page = await h.api.db.repos.outbox.list(filter, { limit: size, offset });
        expect({ label, filter, size, offset, total: page.total }).toEqual({ label, filter, size, offset, total: want.length });
        got.push(...page.items.map((e: OutboxSummary) => e._id));
      }
      expect({ label, filter, size, got }).toEqual({ label, filter, size, got: want });
    }
  }
}

it('pages exactly as a plain sorted query, before and after its periods are closed and as states change', async () => {
  const start = Date.UTC(2026, 10, 1, 21, 3);
  await seed(200, start, 150);
  const { repos, models } = h.api.db;

  await checkEveryPage('open');
  const closed = await repos.outbox.closeFinished(new Date(start + 30 * 86_400_000));
  expect(closed.slices).toBe(await models.outboxSlices.countDocuments({}));
  expect(closed.days).toBe(await models.outboxDays.countDocuments({}));
  expect(await repos.outbox.closeable(new Date(start + 30 * 86_400_000))).toBe(0);
  // The burst's slice is counted per second, one of emails recorded before seconds per ten
  // seconds, and slices of emails recorded before parts are not divided.
  const burstSlice = await models.outboxSlices.findById(sliceOf(new Date(burstStart(start, 200)))).lean();
  expect(Object.keys(burstSlice?.counts?.seconds ?? {}).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 120 }, (_, k) => String(k)));
  expect(burstSlice?.counts?.total).toBe(150);
  expect(burstSlice).not.toHaveProperty('counts.parts');
  const middle = await models.outboxSlices.findById(sliceOf(new Date(start + 100 * 17 * MINUTE))).lean();
  expect(Object.keys(middle?.counts?.parts ?? {})).toHaveLength(1);
  expect(middle).not.toHaveProperty('counts.seconds');
  const early = await models.outboxSlices.findById(sliceOf(new Date(start + 17 * MINUTE))).lean();
  expect(early?.counts?.total).toBe(1);
  expect(early).not.toHaveProperty('counts.parts');
  expect(early).not.toHaveProperty('counts.seconds');
  await checkEveryPage('closed');

  // States change after the periods closed: a sent email fails, a failed one goes out.
  await repos.outbox.markFailed('e0001', 'SMTP 421', new Date());
  await repos.outbox.markSent('e0003', '<x@kontrol>');
  await checkEveryPage('changed');

  // An email that landed in a slice after it was closed (a write stalled past the margin): the
  // first page that reads the slice finds it, the slice is counted again, and the log is exact.
  const late = await models.outbox.findById('e0100').lean();
  await models.outbox.collection.insertOne({ ...late!, _id: 'late', status: 'sent' } as never);
  for (let offset = 0; offset < 260; offset += 50) await repos.outbox.list({}, { limit: 50, offset });
  expect(await models.outboxSlices.findById(late!.slice).lean()).toMatchObject({ closed: false });
  await checkEveryPage('a late email, its slice open again');
  await repos.outbox.closeFinished(new Date(start + 30 * 86_400_000));
  expect(await models.outboxSlices.findById(late!.slice).lean()).toMatchObject({ closed: true });
  await checkEveryPage('a late email, its slice counted again');

  // A new email lands in the open slice of now, first in the log, with its body kept apart; a
  // second process (the worker beside the API), which has read the log's days already, sees it too.
  const other = createRepositories(models, { timezone: 'Asia/Tomsk' });
  expect((await other.outbox.list({}, { limit: 1, offset: 0 })).items.map((e) => e._id)).not.toEqual(['fresh']);
  const fresh = await repos.outbox.record({ _id: 'fresh', template: 'assignment-issued', to: ['a@org.test'], subject: 'Новое', html: '<p>новое</p>', text: 'новое', context: { assignmentId: 'rec.org-2.1' } });
  expect(fresh).toMatchObject({ _id: 'fresh', status: 'pending', html: '<p>новое</p>', text: 'новое' });
  expect(await models.outboxSlices.findById(sliceOf(fresh.createdAt!)).lean()).toMatchObject({ closed: false });
  const stored = (await models.outbox.findById('fresh').lean()) as unknown as Record<string, unknown>;
  expect(stored).not.toHaveProperty('html');
  expect(stored).toMatchObject({ second: secondOf(fresh.createdAt!) });
  expect(stored).not.toHaveProperty('part');
  expect((await repos.outbox.list({}, { limit: 1, offset: 0 })).items.map((e) => e._id)).toEqual(['fresh']);
  expect((await other.outbox.list({}, { limit: 1, offset: 0 })).items.map((e) => e._id)).toEqual(['fresh']);
  await checkEveryPage('with a new email');
  // A period that is not over yet stays open.
  await repos.outbox.closeFinished();
  expect(await models.outboxSlices.findById(sliceOf(fresh.createdAt!)).lean()).toMatchObject({ closed: false });
});

it('counts an open slice by the second as its seconds end, so a page after a burst reads only the last few', async () => {
  const { repos, models } = h.api.db;
  const start = Date.UTC(2026, 9, 1, 9, 0);
  await seed(0, start, 150, 'b');
  const slice = sliceOf(new Date(start));

  // 110 s into the burst's slice: the seconds over by the margin are counted, the slice stays open.
  const counted = await repos.outbox.closeFinished(new Date(start + 110_000));
  expect(counted.seconds).toBe(105);
  const running = await models.outboxSlices.findById(slice).lean();
  expect(running).toMatchObject({ closed: false, running: { through: 104 } });
  expect(Object.values(running!.running!.seconds).reduce((sum, c) => sum + c.total, 0)).toBe(Math.ceil(105 / 0.8));
  // A pass later finds nothing new to count.
  expect((await repos.outbox.closeFinished(new Date(start + 110_000))).seconds).toBe(0);

  // A page reads the fifteen seconds not counted and those it covers, each by equality: never the slice whole.
  const find = jest.spyOn(models.outbox, 'find');
  try {
    await checkEveryPage('an open slice counted by the second');
    const whole = find.mock.calls.filter(([query]) => JSON.stringify(query) === JSON.stringify({ slice }));
    expect(whole).toHaveLength(0);
  } finally {
    find.mockRestore();
  }

  // An email that landed in a counted second late: the page that reads the second finds it, the
  // slice's running counts are dropped (it is read whole until counted again), and the log is exact.
  const inCounted = await models.outbox.findOne({ slice, second: 40 }).lean();
  await models.outbox.collection.insertOne({ ...inCounted!, _id: 'late-second', createdAt: new Date(inCounted!.createdAt!.getTime() + 1) } as never);
  const { total } = await repos.outbox.list({}, { limit: 1, offset: 0 });
  for (let offset = 0; offset < total + 50; offset += 50) await repos.outbox.list({}, { limit: 50, offset });
  expect(await models.outboxSlices.findById(slice).lean()).not.toHaveProperty('running');
  await checkEveryPage('a late email in a counted second');
  await repos.outbox.closeFinished(new Date(start + 110_000));
  expect(await models.outboxSlices.findById(slice).lean()).toMatchObject({ running: { through: 104 } });
  await checkEveryPage('counted by the second again');

  // Once the slice is closed its running counts go: the closed counts take over.
  await repos.outbox.closeFinished(new Date(start + 200_000));
  const closed = await models.outboxSlices.findById(slice).lean();
  expect(closed).toMatchObject({ closed: true, counts: { total: 151 } });
  expect(closed).not.toHaveProperty('running');
});

it('moves emails of the version before into slices, their bodies apart, once', async () => {
  const { repos, models } = h.api.db;
  const at = new Date(Date.UTC(2025, 5, 2, 8, 15));
  await models.outbox.collection.insertOne({
    _id: 'legacy:issued:v1',
    template: 'assignment-issued',
    to: ['head@org.test'],
    subject: 'Старое письмо',
    html: '<p>старое</p>',
    text: 'старое',
    status: 'sent',
    attempts: 1,
    context: { assignmentId: 'legacy.org.1' },
    createdAt: at,
    updatedAt: at,
  } as never);
  // Read before the migration: the bodies are where the version before put them.
  expect(await repos.outbox.get('legacy:issued:v1')).toMatchObject({ html: '<p>старое</p>', text: 'старое' });

  await models.migrations.deleteMany({});
  expect(await migrate(models)).toEqual(MIGRATIONS.map((m) => m.name));
  const stored = (await models.outbox.findById('legacy:issued:v1').lean()) as unknown as Record<string, unknown>;
  expect(stored).toMatchObject({ slice: sliceOf(at), assignmentId: 'legacy.org.1' });
  expect(stored).not.toHaveProperty('html');
  expect(await models.outboxBodies.findById('legacy:issued:v1').lean()).toMatchObject({ html: '<p>старое</p>', text: 'старое' });
  expect(await models.outboxSlices.findById(sliceOf(at)).lean()).toMatchObject({ day: '2025-06-02', closed: false });
  expect(await repos.outbox.get('legacy:issued:v1')).toMatchObject({ html: '<p>старое</p>', text: 'старое', status: 'sent' });
  expect((await repos.outbox.list({ assignmentId: 'legacy.org.1' }, { limit: 10, offset: 0 })).items.map((e) => e._id)).toEqual(['legacy:issued:v1']);
  await repos.outbox.closeFinished();
  await checkEveryPage('migrated');
  expect(await migrate(models)).toEqual([]);
});

it('records a batch of emails in one go: those already there keep their first content, the rest are new', async () => {
  const { repos } = h.api.db;
  const email = (id: string, text: string) => ({ _id: id, template: 'assignment-issued', to: [`${id}@org.test`], subject: `Письмо ${id}`, html: `<p>${text}</p>`, text, context: { assignmentId: `rec.${id}.1` } });
  await repos.outbox.record(email('batch-1', 'первое'));
  const recorded = await repos.outbox.recordMany([email('batch-1', 'второе'), email('batch-2', 'новое'), email('batch-3', 'новое')], { retryAt: new Date(0) });
  expect(recorded.map((e) => e._id)).toEqual(['batch-2', 'batch-3']);
  expect(await repos.outbox.get('batch-1')).toMatchObject({ text: 'первое', html: '<p>первое</p>', status: 'pending' });
  for (const id of ['batch-2', 'batch-3']) {
    expect(await repos.outbox.get(id)).toMatchObject({ text: 'новое', status: 'pending', attempts: 0, retryAt: new Date(0), to: [`${id}@org.test`] });
  }
  // The same batch again: nothing new.
  expect(await repos.outbox.recordMany([email('batch-2', 'третье'), email('batch-3', 'третье')])).toEqual([]);
  expect((await repos.outbox.get('batch-3'))!.text).toBe('новое');
});
