/**
 * Repositories per aggregate: the only code that knows the collections. They return plain (lean)
 * objects, and their writes are idempotent where workflows retry them.
 */
import { randomUUID } from 'node:crypto';
import type { QueryFilter } from 'mongoose';
import type { ActorRef, AssignmentState, AssignmentStatus } from '../domain/assignment';
import type { Role } from '../domain/roles';
import { FIRST_CYCLE, assignmentId } from '../domain/ids';
import { createKeyedQueue, inParallel } from './serialize';
import { countIn, createTallies, inBucketOrder, type ListScope, type ScopeCounts } from './tallies';
import { byNameRu } from '../domain/russian';
import { countersOf, disciplineOf, zeroCounts, type Counts, type Discipline } from '../domain/tally';
import type {
  AddedCalendarYear,
  AssignmentView,
  AuditEntry,
  Evidence,
  EvidenceFile,
  Models,
  Organization,
  OrganizationGroup,
  OrganizationKind,
  ProtocolImport,
  Recommendation,
  RecommendationStatus,
  SourceDocument,
  User,
} from './models';
import { auditEntityKey } from './models';
import { createDigestRuns } from './digest-runs';
import { createOutbox } from './outbox';
import { isBulkOfDuplicates, isDuplicateKey } from './duplicate-key';
import { createLoginAttempts } from './login-attempts';
import { createIdempotency } from './idempotency';
import { versionedCache } from './versioned-cache';

/** The counts a card shows: per state, and overdue (the flag, whatever the state). */
function stateCounts(c: Counts): Record<string, number> {
  return { total: c.total, issued: c.issued, submitted: c.submitted, returned: c.returned, accepted: c.accepted, withdrawn: c.withdrawn, overdue: c.overdue };
}

/** Whether a row is in the state, or one of the states, a filter names. */
const inStates = (row: Pick<AssignmentView, 'status'>, filter: Pick<AssignmentFilter, 'status' | 'statuses'>) =>
  (!filter.status || row.status === filter.status) && (!filter.statuses || filter.statuses.includes(row.status));

/** Counts a handful of rows directly (one organisation's rows of a recommendation, say). */
function countRows(rows: AssignmentView[]): Counts {
  const counts = zeroCounts();
  for (const row of rows) for (const c of countersOf(row)) counts[c] += 1;
  return counts;
}

const WRITE_CHUNK = 50;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Inserts unless a unique index already holds the key; says whether it inserted. */
async function insertUnique(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

export interface Page {
  limit: number;
  offset: number;
}

export type { OutboxFilter } from './outbox';

/** One organisation's or recommendation's assignments by outcome (see assignments.discipline). */
export interface DisciplineRow extends Discipline {
  key: string;
}

/** Which cycle a batch of assignments belongs to, and its deadline. */
export interface CycleSpec {
  cycle: number;
  due: Date;
  period?: string;
}

/** Reads by equality sent at once (buckets of a long list, organisations of a page). */
const BUCKET_READS = 6;
/**
 * What one more read costs, in rows read: on FerretDB/PostgreSQL a read of one row took 2.2 ms,
 * six at once 7.6 ms, and rows cost 0.2 ms each (600 in 125 ms; measured with the test stack).
 */
const ROWS_PER_READ = 8;
/** Up to this many organisations are read one id at a time; more in one query. */
const LOOKUPS_BY_ID = 64;

/**
 * A page of the documents an equality filter selects: read once, ordered here, counted by their
 * number. On FerretDB a sort, a skip and a count each decode every match, so sort-and-count read
 * them twice; the filters are selective (one organisation, one state), so the matches are few and
 * one read is cheaper than two. Correct on MongoDB all the same.
 */
async function pageInMemory<T>(find: () => PromiseLike<T[]>, compare: (a: T, b: T) => number, page: Page): Promise<{ items: T[]; total: number }> {
  const all = (await find()).sort(compare);
  return { items: all.slice(page.offset, page.offset + page.limit), total: all.length };
}

const byId = (a: { _id: string }, b: { _id: string }) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
const time = (d: Date | null | undefined) => d?.getTime() ?? -Infinity;

/**
 * The documents with these ids, in that order (those not there left out), each read by its id:
 * FerretDB answers `_id: {$in}` by decoding the whole collection, an id in 2-3 ms.
 */
async function eachById(model: { findById(id: string): { lean(): PromiseLike<unknown> } }, ids: string[]): Promise<unknown[]> {
  const found = new Map<string, unknown>();
  await inParallel(ids, BUCKET_READS, async (id) => {
    const doc = await model.findById(id).lean();
    if (doc) found.set(id, doc);
  });
  return ids.flatMap((id) => (found.has(id) ? [found.get(id)] : []));
}

export interface AssignmentFilter {
  organization?: string;
  cycle?: number;
  status?: AssignmentStatus;
  /** Any of these states (with `status`, both must hold): the open ones, say. */
  statuses?: readonly AssignmentStatus[];
  recommendationId?: string;
  overdue?: boolean;
}

export function createRepositories(models: Models, options: { timezone: string }) {
  // One write at a time per read-model row (see store/serialize.ts for why).
  const oneAtATime = createKeyedQueue();
  const tallies = createTallies(models, { queue: oneAtATime, timezone: options.timezone });
  /** Every organisation's code and name, in Russian alphabetical order: what pages offer to choose from (store/versioned-cache.ts). */
  const directory = versionedCache(models.settings, 'organizations:version', async () =>
    byNameRu(
      (await models.organizations.find({}, { _id: 1, name: 1 }).lean()).map((o) => ({ _id: o._id, name: o.name })).sort((a, b) => (a._id < b._id ? -1 : 1)),
      (o) => o.name,
    ),
  );
  /**
   * Every recommendation, the newest first, as this process last read them (store/versioned-cache.ts):
   * lists, the names on dashboards and reports, and the worker's planning and emails read them
   * here instead of decoding them again, one with 2,300 addressees in about 17 ms on FerretDB.
   * Shared, so read-only.
   */
  const recommendationIndex = versionedCache(models.settings, 'recommendations:version', async () => {
    const all = (await models.recommendations.find({}).lean()).sort((a, b) => time(b.createdAt) - time(a.createdAt) || byId(a, b));
    return { all, byId: new Map(all.map((r) => [r._id, r])), addressed: new Map(all.map((r) => [r._id, new Set(r.assignees)])) };
  });

  /**
   * Every organisation whole, as this process last read them all, under the directory's version:
   * an issuing batch takes its addressees' contacts from here, not one read each.
   */
  const everyOrganization = versionedCache(models.settings, 'organizations:version', async () =>
    new Map((await models.organizations.find({}).lean()).map((o) => [o._id, o as Organization])),
  );

  const organizations = {
    /** Returns false when the code is taken. */
    async create(org: Organization): Promise<boolean> {
      const created = await insertUnique(() => models.organizations.create(org));
      if (created) await directory.changed();
      return created;
    },
    async upsert(org: Organization): Promise<void> {
      const { _id, ...rest } = org;
      await models.organizations.updateOne({ _id }, { $set: rest }, { upsert: true });
      await directory.changed();
    },
    async update(code: string, patch: Partial<Omit<Organization, '_id'>>): Promise<Organization | null> {
      const updated = await models.organizations.findOneAndUpdate({ _id: code }, { $set: patch }, { returnDocument: 'after' }).lean();
      await directory.changed();
      return updated;
    },
    /** Every organisation's code and name, by name. */
    directory: (): Promise<Array<Pick<Organization, '_id' | 'name'>>> => directory.get(),
    get: (code: string) => models.organizations.findById(code).lean(),
    /** The given organisations by code, from this process's copy; one it lacks is read from the store, never taken as missing. */
    async many(codes: string[]): Promise<Map<string, Organization>> {
      const all = await everyOrganization.get();
      const found = new Map(codes.flatMap((code) => (all.has(code) ? [[code, all.get(code)!] as const] : [])));
      const lacking = [...new Set(codes.filter((code) => !found.has(code)))];
      // Each by its id while they are few: an `$in` decodes every organisation on FerretDB (~300 ms for 2,300).
      const read = lacking.length <= LOOKUPS_BY_ID ? await eachById(models.organizations, lacking) : await models.organizations.find({ _id: { $in: lacking } }).lean();
      for (const org of read as Organization[]) found.set(org._id, org);
      return found;
    },
    /** In Russian alphabetical order of their names (equal names by code). */
    async list(filter: { kind?: OrganizationKind; group?: string; codes?: string[] } = {}): Promise<Organization[]> {
      const { codes } = filter;
      // A page's organisations from this process's copy (many): reading each by id cost a round trip apiece.
      if (codes && !filter.kind && !filter.group) {
        return byNameRu(
          [...(await organizations.many(codes)).values()].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)),
          (o) => o.name,
        );
      }
      const query: QueryFilter<Organization> = {};
      if (filter.kind) query.kind = filter.kind;
      if (filter.group) query.groups = filter.group;
      if (codes) query._id = { $in: codes };
      return byNameRu(await models.organizations.find(query).sort({ _id: 1 }).lean(), (o) => o.name);
    },
    /** The subset of the given codes that exist. */
    async existing(codes: string[]): Promise<Set<string>> {
      const found = await models.organizations.find({ _id: { $in: codes } }, { _id: 1 }).lean();
      return new Set(found.map((o) => o._id));
    },
  };

  /**
   * The active executors' addresses by organisation, as this process last read them: each is a
   * recipient of the emails to its organisation's coordinators (an issuing batch asks for 2,300
   * organisations at once). Every write through `users` changes the version.
   */
  const executorIndex = versionedCache(models.settings, 'users:version', async () => {
    const byOrganization = new Map<string, string[]>();
    for (const u of await models.users.find({ role: 'executor' }, { email: 1, organization: 1, active: 1 }).lean()) {
      if (!u.active || !u.organization) continue;
      byOrganization.set(u.organization, [...(byOrganization.get(u.organization) ?? []), u.email]);
    }
    return byOrganization;
  });

  const users = {
    /** Returns false when the e-mail is taken. */
    async create(user: User): Promise<boolean> {
      const created = await insertUnique(() => models.users.create(user));
      if (created) await executorIndex.changed();
      return created;
    },
    /** Every organisation's active executors' addresses (see executorIndex). Read-only. */
    executorsByOrganization: (): Promise<Map<string, string[]>> => executorIndex.get(),
    get: (id: string) => models.users.findById(id).lean(),
    findByEmail: (email: string) => models.users.findOne({ email: email.trim().toLowerCase() }).lean(),
    /** In Russian alphabetical order of their names (equal names by address). */
    list: async (filter: { organization?: string; role?: Role } = {}) =>
      byNameRu(await models.users.find(filter, { passwordHash: 0 }).sort({ email: 1 }).lean(), (u) => u.name),
    /** Changes what is given; `organization: null` removes it. Returns the user as it is after. */
    async update(id: string, patch: Partial<Pick<User, 'name' | 'role' | 'active' | 'passwordHash'>> & { organization?: string | null }) {
      const { organization, ...rest } = patch;
      const update: { $set: Record<string, unknown>; $unset?: Record<string, 1> } = { $set: { ...rest } };
      if (organization === null) update.$unset = { organization: 1 };
      else if (organization !== undefined) update.$set.organization = organization;
      // Not findOneAndUpdate with a projection: FerretDB does not take `fields` in findAndModify.
      await models.users.updateOne({ _id: id }, update);
      await executorIndex.changed();
      return models.users.findById(id, { passwordHash: 0 }).lean();
    },
  };

  const sources = {
    /** The same document entered twice is one document. */
    async findOrCreate(doc: SourceDocument): Promise<SourceDocument> {
      const { _id, ...key } = doc;
      const natural = { kind: key.kind, issuer: key.issuer, number: key.number, date: key.date };
      try {
        const found = await models.sources.findOneAndUpdate(
          natural,
          { $setOnInsert: { _id, title: key.title } },
          { upsert: true, returnDocument: 'after' },
        ).lean();
        return found!;
      } catch (error) {
        // Two concurrent upserts of one new document: the loser reads the winner's.
        if (!isDuplicateKey(error)) throw error;
        return (await models.sources.findOne(natural).lean())!;
      }
    },
  };

  const recommendations = {
    async create(rec: Recommendation): Promise<Recommendation> {
      const created = (await models.recommendations.create(rec)).toObject() as Recommendation;
      await recommendationIndex.changed();
      return created;
    },
    /** After recommendations were written around this repository (the benchmark's seed): everyone reads them anew. */
    changed: () => recommendationIndex.changed(),
    /** The recommendation as stored now: for decisions about it. */
    get: (id: string) => models.recommendations.findById(id).lean(),
    /**
     * The recommendation as this process last read it, checked against the recommendations'
     * version (one small read): for what is shown or sent about it. Read-only.
     */
    cached: async (id: string): Promise<Recommendation | null> => (await recommendations.cachedMany([id]))[0],
    /** Several, in that order (null where there is none); as `cached`. One the index lacks is read from the store. */
    cachedMany: async (ids: string[]): Promise<Array<Recommendation | null>> => {
      const { byId } = await recommendationIndex.get();
      return Promise.all(ids.map(async (id) => byId.get(id) ?? (await models.recommendations.findById(id).lean())));
    },
    /** Every recommendation, the newest first (as `cached`). */
    all: async (): Promise<Recommendation[]> => (await recommendationIndex.get()).all,
    /** Issued recommendations a curator created: what their digest covers. */
    issuedCreatedBy: (userId: string) => models.recommendations.find({ 'createdBy.id': userId, status: 'issued' }).lean(),
    /** A page of recommendations, the newest first (as `cached`). */
    async list(filter: { status?: RecommendationStatus; assignee?: string; excludeDrafts?: boolean }, page: Page) {
      const { all, addressed } = await recommendationIndex.get();
      // Never-issued recommendations (drafts, and drafts withdrawn unissued) have no issuedAt.
      const matching = all.filter(
        (r) => (!filter.status || r.status === filter.status) && (!filter.excludeDrafts || r.issuedAt) && (!filter.assignee || addressed.get(r._id)!.has(filter.assignee)),
      );
      return { items: matching.slice(page.offset, page.offset + page.limit), total: matching.length };
    },
    /** draft → issued, once; returns the recommendation as it is afterwards. */
    async markIssued(id: string, issuedBy: Recommendation['issuedBy']): Promise<Recommendation | null> {
      await models.recommendations.updateOne(
        { _id: id, status: 'draft' },
        { $set: { status: 'issued', issuedAt: new Date(), issuedBy } },
      );
      await recommendationIndex.changed();
      return models.recommendations.findById(id).lean();
    },
    async markWithdrawn(id: string, withdrawal: NonNullable<Recommendation['withdrawal']>, at: Date): Promise<void> {
      await models.recommendations.updateOne(
        { _id: id, status: { $ne: 'withdrawn' } },
        { $set: { status: 'withdrawn', withdrawnAt: at, withdrawal } },
      );
      await recommendationIndex.changed();
    },
  };

  /**
   * A page of a list scope's assignments (every organisation's, one recommendation's, one
   * organisation's or one cycle's; perhaps of one state, overdue or not). The summaries say how
   * many rows of each class every bucket (due day and slice) of the scope holds, so the page is
   * read as the rows of the few buckets it covers, each by equality, instead of sorting every
   * matching row (on FerretDB that decodes them all: 3-13 s at 20,000). Overdue rows come first,
   * then the others, each part by due day; within a day, by slice, then deadline and id.
   *
   * Rows not counted yet (`tallyDirty`, a tallier pass behind the projections) are read by
   * equality too, taken out of the counts where they were counted and listed where they are now:
   * a list shows a row the moment it is written.
   */
  async function bucketList(scope: ListScope, filter: Pick<AssignmentFilter, 'status' | 'overdue'>, page: Page): Promise<{ items: AssignmentView[]; total: number }> {
    const inScope: QueryFilter<AssignmentView> =
      scope.kind === 'all'
        ? {}
        : scope.kind === 'org'
          ? { organization: scope.organization }
          : scope.kind === 'cycle'
            ? { cycle: scope.cycle }
            : scope.kind === 'ext'
              ? { extensionPending: true }
              : { recommendationId: scope.recommendationId, ...(scope.cycle === undefined ? {} : { cycle: scope.cycle }) };
    // A row leaves or joins the extension requests as it changes: every uncounted row may matter.
    const dirtyQuery: QueryFilter<AssignmentView> = scope.kind === 'ext' ? { tallyDirty: true } : { ...inScope, tallyDirty: true };
    // Counts, pending batches, dirty rows and the buckets' rows as of one phase of the tallier's
    // pass, with no row turned dirty meanwhile: read again (twice at most) otherwise. Within a
    // phase, a row's place in the counts is where its `tallied` says or, once its batch was
    // applied to the bucket's document, where the batch says; a row that stayed clean is where
    // it was counted, with the state it was counted in.
    for (let attempt = 0; ; attempt++) {
      const phase = await tallies.phase();
      const { result, dirtyIds } = await readPage(scope, filter, page, inScope, dirtyQuery);
      if (attempt === 2) return result;
      if ((await tallies.phase()) !== phase) continue;
      const dirtyNow = await models.assignments.find(dirtyQuery, { _id: 1 }).lean();
      if (dirtyNow.every((r) => dirtyIds.has(r._id))) return result;
    }
  }

  /** One read of a page of a list scope (see bucketList). */
  async function readPage(
    scope: ListScope,
    filter: Pick<AssignmentFilter, 'status' | 'statuses' | 'overdue'>,
    page: Page,
    inScope: QueryFilter<AssignmentView>,
    dirtyQuery: QueryFilter<AssignmentView>,
  ): Promise<{ result: { items: AssignmentView[]; total: number }; dirtyIds: Set<string> }> {
    const counts = await tallies.listCounts(scope);
    const dirty = await models.assignments.find(dirtyQuery).lean();
    const pending = dirty.length > 0 ? await tallies.batchSignatures(counts.batches) : new Map<string, Map<string, string>>();
    const classes = new Map(counts.buckets.map((b) => [b.bucket, { ...b.classes }]));
    const fresh = new Map<string, AssignmentView[]>();
    for (const row of dirty) {
      for (const was of countedPlaces(row, counts, pending)) {
        const at = classes.get(was.bucket);
        if (at) at[was.cls] = (at[was.cls] ?? 0) - 1;
      }
      if (!inStates(row, filter)) continue;
      if (filter.overdue !== undefined && row.overdue !== filter.overdue) continue;
      const now = counts.placeOf(tallies.rowSignature(row));
      if (!now) continue;
      if (!fresh.has(now.bucket)) fresh.set(now.bucket, []);
      fresh.get(now.bucket)!.push(row);
    }
    // The counted buckets come in list order; only a bucket that holds nothing but rows not counted yet needs a place.
    const order = [...fresh.keys()].every((bucket) => classes.has(bucket)) ? [...classes.keys()] : inBucketOrder([...new Set([...classes.keys(), ...fresh.keys()])], (b) => b);
    const parts = [true, false].filter((overdue) => filter.overdue === undefined || filter.overdue === overdue);
    const wanted: Array<{ bucket: string; overdue: boolean; counted: number; added: AssignmentView[]; from: number; to: number }> = [];
    let position = 0;
    for (const overdue of parts) {
      for (const bucket of order) {
        const counted = classes.has(bucket) ? countIn({ bucket, classes: classes.get(bucket)! }, filter, overdue) : 0;
        const added = fresh.get(bucket)?.filter((r) => r.overdue === overdue) ?? [];
        const n = counted + added.length;
        if (n === 0) continue;
        const [from, to] = [Math.max(page.offset - position, 0), Math.min(page.offset + page.limit - position, n)];
        if (from < to) wanted.push({ bucket, overdue, counted, added, from, to });
        position += n;
      }
    }
    const dirtyIds = new Set(dirty.map((r) => r._id));
    // The counted rows of the buckets the page covers: bucket by bucket, or, where a narrow scope
    // has few rows in a month (one organisation's, a recommendation to forty), the month's at once.
    const reads = await bucketReads(scope, filter, classes, wanted);
    const counted = new Map<number, AssignmentView[]>();
    await inParallel(reads, BUCKET_READS, async ({ where, covers }) => {
      const query: QueryFilter<AssignmentView> = { ...inScope, ...where, overdue: wanted[covers[0]].overdue };
      if (filter.status) query.status = filter.status;
      // Rows read dirty above are listed from `fresh`; several states are told apart here (a bucket holds few rows).
      const rows = (await models.assignments.find(query).lean()).filter((r) => !dirtyIds.has(r._id) && inStates(r, filter));
      for (const i of covers) counted.set(i, covers.length === 1 ? rows : rows.filter((r) => r.listBucket === wanted[i].bucket));
    });
    const pieces = wanted.map(({ added, from, to }, i) =>
      [...(counted.get(i) ?? []), ...added].sort((a, b) => a.due.getTime() - b.due.getTime() || byId(a, b)).slice(from, to),
    );
    return { result: { items: pieces.flat(), total: position }, dirtyIds };
  }

  /**
   * The reads that fetch the counted rows of a page's buckets (`covers`: indexes into `wanted`).
   * One per bucket, except where a scope other than the whole read model has few rows in a month
   * for the buckets of it the page covers (at most ROWS_PER_READ a bucket): then one read of the
   * month (`listMonth`) serves them all. Rows are marked with their month only by summaries of
   * this code's format (tallies.current).
   */
  async function bucketReads(
    scope: ListScope,
    filter: Pick<AssignmentFilter, 'status' | 'statuses' | 'overdue'>,
    classes: Map<string, Record<string, number>>,
    wanted: Array<{ bucket: string; overdue: boolean; counted: number }>,
  ): Promise<Array<{ where: QueryFilter<AssignmentView>; covers: number[] }>> {
    const byMonth = new Map<string, number[]>();
    const single: number[] = [];
    const monthly = scope.kind !== 'all' && wanted.filter((w) => w.counted > 0).length > 1 && (await tallies.current());
    const inMonth = new Map<string, number>();
    if (monthly) {
      for (const [bucket, counts] of classes) {
        for (const overdue of [true, false]) {
          const key = `${bucket.slice(0, 7)}|${overdue}`;
          inMonth.set(key, (inMonth.get(key) ?? 0) + countIn({ bucket, classes: counts }, filter, overdue));
        }
      }
    }
    wanted.forEach(({ bucket, overdue, counted }, i) => {
      if (counted === 0) return;
      if (!monthly) return void single.push(i);
      const key = `${bucket.slice(0, 7)}|${overdue}`;
      byMonth.set(key, [...(byMonth.get(key) ?? []), i]);
    });
    for (const [key, covers] of byMonth) {
      if (covers.length > 1 && inMonth.get(key)! <= covers.length * ROWS_PER_READ) continue;
      single.push(...covers);
      byMonth.delete(key);
    }
    return [
      ...[...byMonth].map(([key, covers]) => ({ where: { listMonth: key.split('|')[0] }, covers })),
      ...single.map((i) => ({ where: { listBucket: wanted[i].bucket }, covers: [i] })),
    ];
  }

  /**
   * Where the counts count a row not marked counted yet: where `tallied` says, unless a pending
   * batch (a pass under way) has already moved it in the bucket documents that took that batch.
   */
  function countedPlaces(row: AssignmentView, counts: ScopeCounts, pending: Map<string, Map<string, string>>) {
    const before = counts.placeOf(row.tallied);
    for (const [batch, signatures] of pending) {
      const signature = signatures.get(row._id);
      if (signature === undefined) continue;
      const after = counts.placeOf(signature);
      return [...(before && counts.batchOf(before.bucket) !== batch ? [before] : []), ...(after && counts.batchOf(after.bucket) === batch ? [after] : [])];
    }
    return before ? [before] : [];
  }

  /** The list scope whose buckets serve a filter; none when it narrows two ways (few rows: read whole). */
  function scopeOf(filter: AssignmentFilter): ListScope | null {
    if (filter.recommendationId) return filter.organization ? null : { kind: 'rec', recommendationId: filter.recommendationId, cycle: filter.cycle };
    if (filter.organization) return filter.cycle === undefined ? { kind: 'org', organization: filter.organization } : null;
    if (filter.cycle !== undefined) return { kind: 'cycle', cycle: filter.cycle };
    return { kind: 'all' };
  }

  const assignments = {
    /**
     * Creates the read-model rows of a recommendation's assignments for the given addressees, so
     * lists show them at once; rows that exist (perhaps already further on) are left alone.
     */
    async ensureIssued(
      rec: Pick<Recommendation, '_id' | 'deadline'>,
      organizations: string[],
      cycleSpec: CycleSpec = { cycle: FIRST_CYCLE, due: rec.deadline.due },
    ): Promise<AssignmentView[]> {
      const { cycle, due, period } = cycleSpec;
      const rows: AssignmentView[] = organizations.map((organization) => ({
        _id: assignmentId({ recommendationId: rec._id, organization, cycle }),
        recommendationId: rec._id,
        organization,
        cycle,
        ...(period ? { period } : {}),
        status: 'issued',
        overdue: false,
        due,
        originalDue: due,
        acceptedLate: null,
        extension: null,
        lastSubmittedAt: null,
        submissions: 0,
        returns: 0,
        version: 0,
      }));
      // Inserted in chunks, each row unless it exists (perhaps already further on): the unique _id
      // refuses those. Not looked up first: FerretDB answers `_id: {$in: [...]}` by decoding the
      // whole collection (1.9 s per chunk of 50 at 20,000 rows).
      for (const chunk of chunks(rows, WRITE_CHUNK)) {
        try {
          await models.assignments.insertMany(chunk, { ordered: false });
        } catch (error) {
          // A concurrent or earlier issue inserted some of them first: those rows are there, which is the point.
          if (!isDuplicateKey(error) && !isBulkOfDuplicates(error)) throw error;
        }
      }
      return rows;
    },
    /** Applies a workflow's state if it is newer than what the read model holds. */
    async project(id: string, key: Pick<AssignmentView, 'recommendationId' | 'organization' | 'cycle'>, state: AssignmentState) {
      const view: Omit<AssignmentView, '_id'> = {
        ...key,
        status: state.status,
        overdue: state.overdue,
        due: new Date(state.due),
        originalDue: new Date(state.originalDue),
        acceptedLate: state.acceptedLate,
        extension: state.extension,
        lastSubmittedAt: state.lastSubmission ? new Date(state.lastSubmission.at) : null,
        submissions: state.submissions,
        returns: state.returns,
        version: state.version,
      };
      // A write that changes what the row counts as marks it for the tallier (store/tallies.ts);
      // one that does not leaves the mark as it is (the tallier may not have counted it yet).
      const counters = countersOf(view);
      const signature = tallies.rowSignature({ ...view, _id: id });
      // A top-level flag the extension list filters on by equality (pushed down on FerretDB).
      view.extensionPending = counters.includes('extensionPending');
      try {
        await oneAtATime(id, async () => {
          const same = await models.assignments.updateOne({ _id: id, tallied: signature, version: { $lt: state.version } }, { $set: view });
          if (same.matchedCount === 0) {
            await models.assignments.updateOne({ _id: id, version: { $lt: state.version } }, { $set: { ...view, tallyDirty: true } }, { upsert: true });
          }
        });
      } catch (error) {
        // The row exists with this version or a newer one: a retry or a late, older projection.
        if (!isDuplicateKey(error)) throw error;
      }
    },
    /**
     * Withdraws a row whose workflow never started (version 0); says whether it did. It takes the
     * version of a withdrawal after issue (2), never that of a first projection (1).
     */
    async withdrawUnstarted(id: string): Promise<boolean> {
      const result = await oneAtATime(id, () => models.assignments.updateOne({ _id: id, version: 0 }, { $set: { status: 'withdrawn', version: 2, tallyDirty: true } }));
      return result.modifiedCount === 1;
    },
    get: (id: string) => models.assignments.findById(id).lean(),
    /**
     * A page of assignments, overdue first, then by due day. Read through the buckets of the
     * narrowest scope the filter names (see bucketList); one organisation's rows of one
     * recommendation or one cycle, few in any case, are read whole by equality.
     */
    async list(filter: AssignmentFilter, page: Page) {
      const scope = scopeOf(filter);
      if (scope) return bucketList(scope, filter, page);
      const query: QueryFilter<AssignmentView> = {};
      if (filter.organization) query.organization = filter.organization;
      if (filter.status) query.status = filter.status;
      if (filter.recommendationId) query.recommendationId = filter.recommendationId;
      if (filter.cycle !== undefined) query.cycle = filter.cycle;
      if (filter.overdue !== undefined) query.overdue = filter.overdue;
      return pageInMemory(async () => (await models.assignments.find(query).lean()).filter((r) => inStates(r, filter)), (a, b) => Number(b.overdue) - Number(a.overdue) || time(a.due) - time(b.due) || byId(a, b), page);
    },
    /**
     * One page of a recommendation's open rows, every cycle, in a stable order: what a withdrawal
     * has to reach. Accepted and withdrawn rows are final (the read model only trails the workflow).
     */
    async openPage(recommendationId: string, offset: number, limit: number) {
      const query: QueryFilter<AssignmentView> = { recommendationId };
      const rows = await models.assignments.find(query, { _id: 1, organization: 1, cycle: 1, status: 1, due: 1, version: 1 }).sort({ _id: 1 }).skip(offset).limit(limit).lean();
      const total = await models.assignments.countDocuments(query);
      return { rows: rows.filter((r) => r.status !== 'accepted' && r.status !== 'withdrawn'), count: rows.length, done: offset + rows.length >= total };
    },
    /**
     * The rows of these addressees in one cycle of a recommendation, in that order (those not
     * there are left out): a page of its card. The cycle's rows in one read when they are few
     * beside the page's (a recommendation to forty), else each by its id (one to 2,300 is not
     * decoded whole for a page of fifty).
     */
    async ofAddressees(rec: Pick<Recommendation, '_id' | 'assignees'>, cycle: number, organizations: string[]): Promise<AssignmentView[]> {
      if (rec.assignees.length <= organizations.length * ROWS_PER_READ) {
        const rows = await models.assignments.find({ recommendationId: rec._id, cycle }).lean();
        const byOrganization = new Map(rows.map((r) => [r.organization, r]));
        return organizations.flatMap((organization) => (byOrganization.has(organization) ? [byOrganization.get(organization)!] : []));
      }
      const ids = organizations.map((organization) => assignmentId({ recommendationId: rec._id, organization, cycle }));
      return (await eachById(models.assignments, ids)) as AssignmentView[];
    },
    forRecommendation: (recommendationId: string) =>
      models.assignments.find({ recommendationId }).sort({ organization: 1, cycle: 1 }).lean(),
    /**
     * A curator's week: open assignments of the given recommendations that wait for review, are
     * overdue, or fall due before `until`. Each list is capped at `limit`; the counts are whole.
     */
    async digest(recommendationIds: string[], now: Date, until: Date, limit: number) {
      const base: QueryFilter<AssignmentView> = { recommendationId: { $in: recommendationIds } };
      const queries: Record<'review' | 'overdue' | 'dueSoon', QueryFilter<AssignmentView>> = {
        review: { ...base, status: 'submitted' },
        overdue: { ...base, overdue: true, status: { $in: ['issued', 'returned'] } },
        dueSoon: { ...base, overdue: false, status: { $in: ['issued', 'returned'] }, due: { $gte: now, $lte: until } },
      };
      const run = async (query: QueryFilter<AssignmentView>, sort: Record<string, 1 | -1>) => {
        const [items, total] = await Promise.all([
          models.assignments.find(query).sort(sort).limit(limit).lean(),
          models.assignments.countDocuments(query),
        ]);
        return { items, total };
      };
      const [review, overdue, dueSoon] = await Promise.all([
        run(queries.review, { lastSubmittedAt: 1, _id: 1 }),
        run(queries.overdue, { due: 1, _id: 1 }),
        run(queries.dueSoon, { due: 1, _id: 1 }),
      ]);
      return { review, overdue, dueSoon };
    },
    /** Open assignments whose addressee asked for a new deadline: overdue first, then the nearest deadline (see bucketList). */
    pendingExtensions: (page: Page) => bucketList({ kind: 'ext' }, {}, page),
    /**
     * Evidence waiting for review, the longest waiting first. Read through the summaries' review
     * buckets (three hours of a submission day each, in time order), like the long lists: only the
     * buckets the page covers, each by equality, a tallier pass behind the projections.
     */
    async reviewQueue(page: Page) {
      const buckets = await tallies.reviewBuckets();
      const wanted: Array<{ bucket: string; from: number; to: number }> = [];
      let position = 0;
      for (const { bucket, count } of buckets) {
        const [from, to] = [Math.max(page.offset - position, 0), Math.min(page.offset + page.limit - position, count)];
        if (from < to) wanted.push({ bucket, from, to });
        position += count;
      }
      const pieces: AssignmentView[][] = wanted.map(() => []);
      await inParallel([...wanted.keys()], BUCKET_READS, async (i) => {
        const { bucket, from, to } = wanted[i];
        // A row accepted or returned since the last pass is no longer shown.
        const rows = await models.assignments.find({ reviewBucket: bucket, status: 'submitted' }).lean();
        pieces[i] = rows.sort((a, b) => time(a.lastSubmittedAt) - time(b.lastSubmittedAt) || byId(a, b)).slice(from, to);
      });
      return { items: pieces.flat(), total: position };
    },
    /**
     * Executive discipline per organisation and per recommendation (domain/tally.ts), over all
     * assignments or those issued from–to (days in the time zone, inclusive); from the summaries.
     */
    async discipline(period?: { from: string; to: string }): Promise<Record<'byOrganization' | 'byRecommendation', DisciplineRow[]>> {
      const [org, rec] = period
        ? await tallies.issuedBetween(period.from, period.to).then((both) => [both.org, both.rec])
        : await Promise.all([tallies.byOrganization(), tallies.byRecommendation()]);
      const rows = (counts: Map<string, Counts>) => [...counts].filter(([, c]) => c.total > 0).map(([key, c]) => ({ key, ...disciplineOf(c) }));
      return { byOrganization: rows(org), byRecommendation: rows(rec) };
    },
    /** A recurring recommendation's counts per cycle, the latest cycle first. */
    async countsByCycle(recommendationId: string, organization?: string) {
      if (!organization) {
        return (await tallies.cycles(recommendationId)).map((c) => ({ cycle: c.cycle, period: c.period, counts: stateCounts(c.counts) }));
      }
      // One organisation's rows of one recommendation: few, counted directly.
      const rows = await models.assignments.find({ recommendationId, organization }).lean();
      const cycles = new Map<number, { cycle: number; period: string | null; rows: AssignmentView[] }>();
      for (const row of rows) {
        const entry = cycles.get(row.cycle) ?? { cycle: row.cycle, period: row.period ?? null, rows: [] };
        entry.rows.push(row);
        cycles.set(row.cycle, entry);
      }
      return [...cycles.values()].map((c) => ({ cycle: c.cycle, period: c.period, counts: stateCounts(countRows(c.rows)) })).sort((a, b) => b.cycle - a.cycle);
    },
    /** Counts per state for several recommendations (a list page), each present. */
    async countsFor(recommendationIds: string[], organization?: string): Promise<Map<string, Record<string, number>>> {
      if (!organization) {
        const all = await tallies.forRecommendations(recommendationIds);
        return new Map([...all].map(([id, c]) => [id, stateCounts(c)]));
      }
      const counted = await Promise.all(
        recommendationIds.map(async (recommendationId) => [recommendationId, stateCounts(countRows(await models.assignments.find({ recommendationId, organization }).lean()))] as const),
      );
      return new Map(counted);
    },
    async countsByState(recommendationId: string, organization?: string) {
      return (await assignments.countsFor([recommendationId], organization)).get(recommendationId)!;
    },
    /** A recommendation's figures (domain/tally.ts, disciplineOf): what its card shows, as the dashboard and the report do. */
    async figures(recommendationId: string): Promise<Discipline> {
      return (await assignments.figuresFor([recommendationId])).get(recommendationId)!;
    },
    /** Several recommendations' figures, by id (as `figures`). */
    async figuresFor(recommendationIds: string[]): Promise<Map<string, Discipline>> {
      const all = await tallies.forRecommendations(recommendationIds);
      return new Map(recommendationIds.map((id) => [id, disciplineOf(all.get(id) ?? zeroCounts())]));
    },
  };

  const evidence = {
    async createPending(doc: Omit<Evidence, 'state'>): Promise<void> {
      await models.evidence.create({ ...doc, state: 'pending' });
    },
    async markRecorded(id: string): Promise<void> {
      await models.evidence.updateOne({ _id: id }, { $set: { state: 'recorded' } });
    },
    async markRefused(id: string): Promise<void> {
      await models.evidence.updateOne({ _id: id, state: 'pending' }, { $set: { state: 'refused' } });
    },
    async setReview(id: string, review: NonNullable<Evidence['review']>): Promise<void> {
      await models.evidence.updateOne({ _id: id }, { $set: { review } });
    },
    get: (id: string) => models.evidence.findById(id).lean(),
    forAssignment: (assignmentId: string, states: Evidence['state'][] = ['recorded']) =>
      models.evidence.find({ assignmentId, state: { $in: states } }).sort({ submittedAt: 1 }).lean(),
    async findFile(assignmentId: string, fileId: string): Promise<EvidenceFile | undefined> {
      const doc = await models.evidence.findOne({ assignmentId, state: 'recorded', 'files.id': fileId }).lean();
      return doc?.files.find((f) => f.id === fileId);
    },
  };

  const audit = {
    /** Idempotent: the same key is written once, however often it is retried. */
    append: async (entry: AuditEntry) => void (await insertUnique(() => models.audit.create({ ...entry, entityKey: auditEntityKey(entry.entity) }))),
    /** A one-off event from a person's request: a fresh key, no deduplication needed. */
    record: (entry: Omit<AuditEntry, '_id' | 'at'>) => {
      const entityKey = auditEntityKey(entry.entity);
      return models.audit.create({ ...entry, entityKey, _id: `${entityKey}:${randomUUID()}`, at: new Date() });
    },
    forEntity: (kind: AuditEntry['entity']['kind'], id: string) =>
      models.audit.find({ entityKey: auditEntityKey({ kind, id }) }).sort({ at: 1, _id: 1 }).lean(),
  };

  const outbox = createOutbox(models, models.settings);

  const settings = {
    async get<T>(key: string): Promise<T | undefined> {
      const doc = await models.settings.findById(key).lean();
      return doc ? (doc.value as T) : undefined;
    },
    async put(key: string, value: unknown, by: ActorRef): Promise<void> {
      await models.settings.updateOne({ _id: key }, { $set: { value, updatedBy: by } }, { upsert: true });
    },
  };

  const calendar = {
    /** The years administrators entered, by year. */
    list: () => models.calendarYears.find().sort({ _id: 1 }).lean(),
    get: (year: number) => models.calendarYears.findById(year).lean(),
    /** Creates or replaces the year; returns it as stored. */
    async put(year: number, entry: Pick<AddedCalendarYear, 'source' | 'daysOff' | 'workingWeekends'>, by: ActorRef): Promise<AddedCalendarYear> {
      const write = () =>
        models.calendarYears
          .findOneAndUpdate({ _id: year }, { $set: { ...entry, updatedBy: by } }, { upsert: true, returnDocument: 'after' })
          .lean();
      try {
        return (await write())!;
      } catch (error) {
        // Two first saves of one year at once: the loser's upsert collides, and now simply updates.
        if (!isDuplicateKey(error)) throw error;
        return (await write())!;
      }
    },
    /** Says whether there was a year to remove. */
    async remove(year: number): Promise<boolean> {
      return (await models.calendarYears.deleteOne({ _id: year })).deletedCount === 1;
    },
  };

  const groups = {
    /** In Russian alphabetical order of their names. */
    list: async () => byNameRu(await models.groups.find().sort({ _id: 1 }).lean(), (g) => g.name),
    get: (code: string) => models.groups.findById(code).lean(),
    /** Creates or replaces the group's name and phrases; returns it as stored. */
    async put(code: string, group: Pick<OrganizationGroup, 'name' | 'phrases'>, by: ActorRef): Promise<OrganizationGroup> {
      const write = () =>
        models.groups.findOneAndUpdate({ _id: code }, { $set: { ...group, updatedBy: by } }, { upsert: true, returnDocument: 'after' }).lean();
      try {
        return (await write())!;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        return (await write())!;
      }
    },
    /**
     * Makes exactly `members` the group's organisations: one small write per organisation that
     * changes (FerretDB's SQLite backend stalls on a single write matching many documents).
     */
    async setMembers(code: string, members: string[]): Promise<void> {
      const current = await models.organizations.find({ groups: code }, { _id: 1 }).lean();
      const wanted = new Set(members);
      for (const org of current) if (!wanted.has(org._id)) await models.organizations.updateOne({ _id: org._id }, { $pull: { groups: code } });
      const have = new Set(current.map((o) => o._id));
      for (const id of members) if (!have.has(id)) await models.organizations.updateOne({ _id: id }, { $addToSet: { groups: code } });
    },
    /** Removes the group and every membership in it; says whether there was one. */
    async remove(code: string): Promise<boolean> {
      await groups.setMembers(code, []);
      return (await models.groups.deleteOne({ _id: code })).deletedCount === 1;
    },
  };

  const imports = {
    create: async (doc: ProtocolImport) => (await models.imports.create(doc)).toObject() as ProtocolImport,
    get: (id: string) => models.imports.findById(id).lean(),
    async list(page: Page) {
      const [items, total] = await Promise.all([
        models.imports.find({}, { text: 0 }).sort({ createdAt: -1, _id: -1 }).skip(page.offset).limit(page.limit).lean(),
        models.imports.countDocuments({}),
      ]);
      return { items, total };
    },
    /**
     * draft → confirming, once, recording what will be created; returns the import as it is after.
     * The caller then creates whatever of the recorded list is missing: a second or resumed call
     * finds the same list and creates nothing twice.
     */
    async claim(id: string, confirmation: NonNullable<ProtocolImport['confirmation']>): Promise<ProtocolImport | null> {
      await models.imports.updateOne({ _id: id, status: 'draft' }, { $set: { status: 'confirming', confirmation } });
      return models.imports.findById(id).lean();
    },
    async markConfirmed(id: string): Promise<void> {
      await models.imports.updateOne({ _id: id }, { $set: { status: 'confirmed' } });
    },
  };

  const loginAttempts = createLoginAttempts(models.loginAttempts);
  const idempotency = createIdempotency(models.idempotentRequests);
  const digestRuns = createDigestRuns(models.digestRuns);

  return { organizations, users, sources, recommendations, assignments, tallies, evidence, audit, outbox, settings, calendar, groups, imports, loginAttempts, idempotency, digestRuns };
}

export type Repositories = ReturnType<typeof createRepositories>;
