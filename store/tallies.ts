/**
 * Summaries of the assignments' read model: counts per organisation, per recommendation, per cycle
 * of a recurring recommendation, and per organisation and recommendation per day of issue (the
 * report's periods). Dashboards, reports, cards and menus read these instead of grouping rows:
 * on FerretDB a `$group` decodes every row (125 s at 20,000 assignments, measured).
 *
 * They also place every row in a list bucket: its due day and one of a few slices of that day
 * (`2027-03-01#5`), counted per state and overdue flag, over every row and within each list scope
 * (one recommendation per cycle, one organisation, one cycle number). A list reads a page as the
 * rows of the few buckets it covers, found from these counts, instead of sorting every matching
 * row: on FerretDB a sort or a skip decodes every match first (about 150 µs a row).
 *
 * One writer keeps them, the tallier in the worker, and it follows the rows:
 * - Every write that may change what a row counts as marks the row `tallyDirty` in the same
 *   write; the row also keeps `tallied`, what the summaries count it as now (its counters and its
 *   bucket), and `listBucket`, the bucket they count it in (and `listMonth`, that bucket's month).
 * - A pass reads the dirty rows and works out the net change of each summary. It first stores
 *   that change as a batch, then applies it to each summary document (a document records the last
 *   batch it has, so applying again is a no-op), then marks the rows counted, then drops the batch.
 *   A pass cut off anywhere is finished from its batch when the tallier next starts; nothing is
 *   counted twice or lost.
 * - Counts are applied by rewriting whole documents, not by `$inc`: FerretDB runs an update as a
 *   read and a write, so increments from several writers are lost (200 concurrent `$inc` left 36).
 *   A single writer avoids that on every store. Rows are marked through the repositories' queue
 *   per row, the same one the projection writes through.
 * - When the summaries' format or the time zone of their days changes, they are rebuilt: every row
 *   is marked dirty and counted again.
 *
 * Readers see the counts a moment (one pass) after the rows.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import {
  addCounters,
  countersFromSignature,
  countersOf,
  signatureOf,
  sumInto,
  zeroCounts,
  type Counts,
  type TallyCounter,
} from '../domain/tally';
import { ASSIGNMENT_STATUSES, type AssignmentStatus } from '../domain/assignment';
import type { AssignmentView, Models } from './models';
import { inParallel } from './serialize';

/** Raised when the documents' layout changes (or what rows are marked with): they are rebuilt from the rows. */
const FORMAT = 6;
const META = 'meta';
const BY_ORGANIZATION = 'org';
const BY_RECOMMENDATION = 'rec';
const cyclesDoc = (recommendationId: string) => `cycles:${recommendationId}`;
const monthDoc = (month: string) => `month:${month}`;
const dueDoc = (month: string) => `due:${month}`;
/** A list scope's buckets: one document per recommendation (by cycle), organisation and cycle number. */
const recDueDoc = (recommendationId: string) => `recdue:${recommendationId}`;
/**
 * Organisations' buckets in a few shared documents, not one each: a pass that counts the 2,300 rows
 * of one recommendation then rewrites 64 documents, not 2,300.
 */
const ORG_SHARDS = 64;
const orgDueDoc = (organization: string) => `orgdue:${hashOf(organization) % ORG_SHARDS}`;
const cycleDueDoc = (cycle: number) => `cycdue:${cycle}`;
const EXT_DUE = 'extdue';
/** Slices of a due day: a day one recommendation gave 2,300 addressees is read 150 rows at a time. */
const DAY_SLICES = 16;
/** Slices of a submission day in the review queue: three hours each. */
const REVIEW_SLICES = 8;
/** Report periods whose sums a process keeps (see issuedBetween). */
const LAST_PERIODS = 20;
/** List scopes whose parsed counts a process keeps (see sameAsLastRead). */
const LAST_READ_SCOPES = 500;
const BUCKET_TOKEN = 'b=';
/** A submitted row's place in the review queue: the day its evidence came, and the three hours of that day. */
const REVIEW_TOKEN = 'r=';
const reviewDoc = (month: string) => `review:${month}`;
const kindOf = (doc: string) => doc.split(':')[0];
const LEASE = 'tallier';
/** Changes as each phase of a pass begins (see nextPhase). */
const PHASE = 'phase';
/** Rows marked counted at once. */
const MARK_CONCURRENCY = 8;

type Partial_ = Partial<Counts>;
/** A list bucket's counts, per class (`issued:1`: issued and overdue). */
type ClassCounts = Record<string, number>;
/** A summary document's content: nested tables whose leaves are counts. */
type Table = { [key: string]: Table | Partial_ };

export interface CycleCounts {
  cycle: number;
  period: string | null;
  counts: Counts;
}

interface Delta {
  doc: string;
  path: string[];
  counts: Partial_ | ClassCounts;
}

type Queue = <T>(key: string, work: () => Promise<T>) => Promise<T>;

const ROW_FIELDS = {
  _id: 1,
  recommendationId: 1,
  organization: 1,
  cycle: 1,
  period: 1,
  status: 1,
  overdue: 1,
  acceptedLate: 1,
  returns: 1,
  extension: 1,
  due: 1,
  version: 1,
  tallied: 1,
  createdAt: 1,
  lastSubmittedAt: 1,
} as const;

type Row = Pick<AssignmentView, keyof typeof ROW_FIELDS & keyof AssignmentView>;

function parse(data: string | undefined): Table {
  return data ? (JSON.parse(data) as Table) : {};
}

/** Adds counts at a path of a table, creating what is missing and dropping what falls to zero. */
function applyAt(table: Table, path: string[], counts: Partial_ | ClassCounts): void {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    const leaf = (table[head] as Record<string, number> | undefined) ?? {};
    for (const [c, n] of Object.entries(counts) as Array<[string, number]>) {
      const next = (leaf[c] ?? 0) + n;
      if (next === 0) delete leaf[c];
      else leaf[c] = next;
    }
    if (Object.keys(leaf).length === 0) delete table[head];
    else table[head] = leaf;
    return;
  }
  const child = (table[head] as Table | undefined) ?? {};
  applyAt(child, rest, counts);
  if (Object.keys(child).length === 0) delete table[head];
  else table[head] = child;
}

function full(counts: Partial_ | undefined): Counts {
  return sumInto(zeroCounts(), counts);
}

/**
 * Items in the list order of their buckets: by due day, then by slice (numerically; `2026-12-04#10`
 * after `2026-12-04#9`). Each key is taken apart once: the whole read model's lists have
 * thousands of buckets, and a comparison that split both keys made sorting them a tenth of the
 * API's time.
 */
export function inBucketOrder<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const keyed = items.map((item) => {
    const key = keyOf(item);
    const hash = key.indexOf('#');
    return { item, day: hash < 0 ? key : key.slice(0, hash), slice: hash < 0 ? 0 : Number(key.slice(hash + 1)) };
  });
  keyed.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.slice - b.slice));
  return keyed.map((k) => k.item);
}

/** FNV-1a: a stable number for a string. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A stable slice of the day for a row id. */
const sliceOf = (id: string) => hashOf(id) % DAY_SLICES;

/** The bucket a row's `tallied` signature records, if any. */
function bucketFromSignature(signature: string | null | undefined): string | null {
  return tokenOf(signature, BUCKET_TOKEN);
}

/** The review bucket a row's `tallied` signature records: only a submitted row has one. */
export function reviewBucketFromSignature(signature: string | null | undefined): string | null {
  return tokenOf(signature, REVIEW_TOKEN);
}

function tokenOf(signature: string | null | undefined, prefix: string): string | null {
  const token = signature?.split(',').find((t) => t.startsWith(prefix));
  return token ? token.slice(prefix.length) : null;
}

/** A row's list class: its state and whether it is overdue (`issued:1`). */
function classOf(counters: readonly TallyCounter[]): string {
  const status = ASSIGNMENT_STATUSES.find((s) => counters.includes(s));
  return `${status}:${counters.includes('overdue') ? 1 : 0}`;
}

/** One bucket of the long lists with its counts per class, in list order (due day, slice). */
export interface ListBucket {
  bucket: string;
  classes: ClassCounts;
}

/** Which rows a long list shows: any state or one, overdue or not or either. */
export interface ListFilter {
  status?: AssignmentStatus;
  statuses?: readonly AssignmentStatus[];
  overdue?: boolean;
}

/**
 * Which rows a list covers: every organisation's, one recommendation's (perhaps of one cycle),
 * one organisation's, or those of one cycle number. Each has its own bucket counts.
 */
export type ListScope =
  | { kind: 'all' }
  | { kind: 'rec'; recommendationId: string; cycle?: number }
  | { kind: 'org'; organization: string }
  | { kind: 'cycle'; cycle: number }
  /** Open rows whose addressee asked for a new deadline: unlike the others, rows come and go. */
  | { kind: 'ext' };

/**
 * A scope's buckets in list order, and which counting batch each bucket's document has taken
 * last: a row still marked dirty may already be counted where a pending batch put it.
 */
export interface ScopeCounts {
  buckets: ListBucket[];
  batchOf(bucket: string): string | null;
  /** Every batch some document of the scope took last. */
  batches: string[];
  /** Where this scope counts a row of this signature: its bucket and class; null if it does not. */
  placeOf(signature: string | null | undefined): { bucket: string; cls: string } | null;
}

/** Where a `tallied` signature counts a row in the lists: its bucket and its class, if counted. */
function listPlaceOf(signature: string | null | undefined): { bucket: string; cls: string } | null {
  const bucket = bucketFromSignature(signature);
  return bucket ? { bucket, cls: classOf(countersFromSignature(signature)) } : null;
}

/** Whether a signature counts its row among the open extension requests. */
const asksExtension = (signature: string | null | undefined) => countersFromSignature(signature).includes('extensionPending');

/** How many rows of a bucket a list shows among those overdue (or not). */
export function countIn(bucket: ListBucket, filter: ListFilter, overdue: boolean): number {
  let n = 0;
  for (const [cls, count] of Object.entries(bucket.classes)) {
    const [status, flag] = cls.split(':');
    if ((flag === '1') !== overdue) continue;
    if (filter.status && status !== filter.status) continue;
    if (filter.statuses && !filter.statuses.includes(status as AssignmentStatus)) continue;
    // A moment's disagreement between a row and its counts never makes a bucket owe rows.
    n += Math.max(count, 0);
  }
  return n;
}

/** Adds one bucket table's class counts into another (in place). */
function mergeBuckets(into: Record<string, ClassCounts>, from: Record<string, ClassCounts>): void {
  for (const [bucket, classes] of Object.entries(from)) {
    const target = (into[bucket] ??= {});
    for (const [cls, n] of Object.entries(classes)) target[cls] = (target[cls] ?? 0) + n;
  }
}

export function createTallies(models: Models, options: { queue: Queue; timezone: string }) {
  const { queue, timezone } = options;
  /** Whether the summaries were found of this code's format (see `current`). */
  let formatCurrent = false;
  /**
   * A list scope's buckets as last worked out from its documents' data, by scope: a page of the
   * same lists reads the same counts again and again, and parsing and ordering thousands of
   * buckets each time cost more than reading them. Callers do not change what it returns.
   */
  const lastRead = new Map<string, { docs: Array<{ _id: string; data?: string }>; buckets: ListBucket[] }>();
  const sameAsLastRead = (key: string, docs: Array<{ _id: string; data?: string }>, work: () => ListBucket[]): ListBucket[] => {
    const last = lastRead.get(key);
    const same = last && last.docs.length === docs.length && last.docs.every((d, i) => d._id === docs[i]._id && d.data === docs[i].data);
    if (same) return last.buckets;
    const buckets = work();
    // Bounded: one entry per scope a process lists (organisations and recommendations come and go).
    if (lastRead.size >= LAST_READ_SCOPES) lastRead.delete(lastRead.keys().next().value!);
    lastRead.set(key, { docs: docs.map(({ _id, data }) => ({ _id, data })), buckets });
    return buckets;
  };
  /** The report's sums per period as last worked out, with the month documents they came from (see issuedBetween). */
  const lastPeriods = new Map<string, { versions: string; sums: Record<'org' | 'rec', Map<string, Counts>> }>();
  const dayOf = (row: Row) => DateTime.fromJSDate(row.createdAt ?? new Date(0), { zone: timezone }).toISODate()!;
  const dayBucket = (at: Date, id: string) => `${DateTime.fromJSDate(at, { zone: timezone }).toISODate()!}#${sliceOf(id)}`;
  /** By time, not by id: the queue's buckets follow one another as the submissions did (three hours a slice). */
  const reviewBucket = (at: Date) => {
    const local = DateTime.fromJSDate(at, { zone: timezone });
    return `${local.toISODate()!}#${Math.floor(local.hour / (24 / REVIEW_SLICES))}`;
  };
  /** What a row is counted as: its counters, its list bucket and, while submitted, its review bucket. */
  const rowSignature = (row: Pick<AssignmentView, '_id' | 'due' | 'lastSubmittedAt'> & Parameters<typeof countersOf>[0]) => {
    // A submitted row always has its submission's time; one without (written by hand) waits longest.
    const review = row.status === 'submitted' ? `,${REVIEW_TOKEN}${reviewBucket(row.lastSubmittedAt ?? new Date(0))}` : '';
    return `${signatureOf(countersOf(row))},${BUCKET_TOKEN}${dayBucket(row.due, row._id)}${review}`;
  };
  /** Where a bucket's class counts live: one document per month of due days (of submission days for review). */
  const bucketPlace = (bucket: string) => ({ doc: dueDoc(bucket.slice(0, 7)), path: [bucket.slice(8)] });
  /** Every place a row's list bucket is counted: over all rows and in each scope the row is in. */
  const listPlaces = (row: Row, bucket: string, asking: boolean) => [
    bucketPlace(bucket),
    { doc: recDueDoc(row.recommendationId), path: [String(row.cycle), bucket] },
    { doc: orgDueDoc(row.organization), path: [row.organization, bucket] },
    { doc: cycleDueDoc(row.cycle), path: [bucket] },
    ...(asking ? [{ doc: EXT_DUE, path: [bucket] }] : []),
  ];
  const reviewPlace = (bucket: string) => ({ doc: reviewDoc(bucket.slice(0, 7)), path: [bucket.slice(8)] });

  /** Where a row's counts go: the same places for as long as the row lives. */
  function placesOf(row: Row): Array<{ doc: string; path: string[] }> {
    const day = dayOf(row);
    const [month, dd] = [day.slice(0, 7), day.slice(8)];
    return [
      { doc: BY_ORGANIZATION, path: [row.organization] },
      { doc: BY_RECOMMENDATION, path: [row.recommendationId] },
      { doc: cyclesDoc(row.recommendationId), path: [String(row.cycle), row.period ?? ''] },
      { doc: monthDoc(month), path: ['org', row.organization, dd] },
      { doc: monthDoc(month), path: ['rec', row.recommendationId, dd] },
    ];
  }

  /** The net change of every place the rows count in, merged. */
  function deltasOf(rows: Array<{ row: Row; from: string | null; to: string }>): Delta[] {
    const merged = new Map<string, Delta>();
    const add = (place: { doc: string; path: string[] }, change: Record<string, number>) => {
      const key = `${place.doc}\u0000${place.path.join('\u0000')}`;
      const delta = merged.get(key) ?? { ...place, counts: {} };
      const counts = delta.counts as Record<string, number>;
      for (const [c, n] of Object.entries(change)) counts[c] = (counts[c] ?? 0) + n;
      merged.set(key, delta);
    };
    for (const { row, from, to } of rows) {
      const [before, after] = [countersFromSignature(from), countersFromSignature(to)];
      const change: Partial_ = {};
      addCounters(change, before, -1);
      addCounters(change, after, 1);
      for (const c of Object.keys(change) as TallyCounter[]) if (change[c] === 0) delete change[c];
      if (Object.keys(change).length > 0) for (const place of placesOf(row)) add(place, change as Record<string, number>);
      // The review bucket: a submitted row is counted in the one of its submission day.
      const [wasReview, isReview] = [reviewBucketFromSignature(from), reviewBucketFromSignature(to)];
      if (wasReview !== isReview) {
        if (wasReview) add(reviewPlace(wasReview), { submitted: -1 });
        if (isReview) add(reviewPlace(isReview), { submitted: 1 });
      }
      // The list bucket: out of the old one (when it was counted in one), into the new one.
      const [was, is] = [bucketFromSignature(from), bucketFromSignature(to)!];
      const [wasClass, isClass] = [was ? classOf(before) : null, classOf(after)];
      const [wasAsking, isAsking] = [asksExtension(from), asksExtension(to)];
      if (was === is && wasClass === isClass && wasAsking === isAsking) continue;
      if (was) for (const place of listPlaces(row, was, wasAsking)) add(place, { [wasClass!]: -1 });
      for (const place of listPlaces(row, is, isAsking)) add(place, { [isClass]: 1 });
    }
    // Pairs that cancelled out leave zeros: dropped, so a document is not rewritten for nothing.
    return [...merged.values()].filter((d) => Object.values(d.counts).some((n) => n !== 0));
  }

  async function applyBatch(batchId: string, deltas: Delta[]): Promise<void> {
    const byDoc = new Map<string, Delta[]>();
    for (const d of deltas) {
      const list = byDoc.get(d.doc) ?? [];
      list.push(d);
      byDoc.set(d.doc, list);
    }
    for (const [doc, list] of byDoc) {
      const current = await models.tallies.findById(doc).lean();
      if (current?.batch === batchId) continue;
      const table = parse(current?.data);
      for (const d of list) applyAt(table, d.path, d.counts);
      const data = JSON.stringify(table);
      await models.tallies.updateOne({ _id: doc }, { $set: { kind: kindOf(doc), data, batch: batchId } }, { upsert: true });
    }
  }

  /** Records what each row is counted as now; a row that changed meanwhile stays dirty. */
  async function markRows(rows: Array<[string, number, string]>): Promise<void> {
    await inParallel(rows, MARK_CONCURRENCY, ([id, version, signature]) =>
      queue(id, async () => {
        // The row is listed in the bucket it is counted in, so the lists and their counts agree.
        const listBucket = bucketFromSignature(signature);
        const counted = { tallied: signature, listBucket, listMonth: listBucket?.slice(0, 7) ?? null, reviewBucket: reviewBucketFromSignature(signature) };
        // Bookkeeping, not a change of the row: its updatedAt stays the projection's.
        const done = await models.assignments.updateOne({ _id: id, version, tallyDirty: true }, { $set: { ...counted, tallyDirty: false } }, { timestamps: false });
        if (done.matchedCount === 0) await models.assignments.updateOne({ _id: id }, { $set: counted }, { timestamps: false });
      }),
    );
  }

  /**
   * Marks the start of each phase of a pass (store the batch and apply it; mark the rows; drop the
   * batch; done): a
   * list reads the mark before and after it reads counts and rows, and reads again when a phase
   * began meanwhile (see bucketList in store/repositories.ts). Within one phase, rows and counts
   * cannot disagree in a way the pending batch does not explain.
   */
  async function nextPhase(): Promise<void> {
    await models.tallies.updateOne({ _id: PHASE }, { $set: { kind: PHASE, data: randomUUID(), batch: null } }, { upsert: true });
  }

  async function finishBatch(batch: { _id: string; deltas: string; rows: string }): Promise<void> {
    await applyBatch(batch._id, JSON.parse(batch.deltas) as Delta[]);
    await nextPhase();
    await markRows(JSON.parse(batch.rows) as Array<[string, number, string]>);
    // A phase of its own: a batch gone between the reads of the counts and of the batches is then seen.
    await nextPhase();
    await models.tallyBatches.deleteOne({ _id: batch._id });
    await nextPhase();
  }

  const tallies = {
    rowSignature,
    /**
     * Readies the summaries before the first pass: finishes a batch a stopped tallier left, and
     * rebuilds everything when the format or the time zone changed (or there were none yet).
     * Returns whether it rebuilt.
     */
    async prepare(): Promise<boolean> {
      for (const batch of await models.tallyBatches.find().lean()) await finishBatch(batch);
      const meta = await models.tallies.findById(META).lean();
      const wanted = JSON.stringify({ format: FORMAT, timezone });
      if (meta?.data === wanted) return false;
      await nextPhase();
      await models.tallies.deleteMany({ _id: { $nin: [META, PHASE] } });
      await models.assignments.updateMany({}, { $set: { tallyDirty: true, tallied: null } }, { timestamps: false });
      await nextPhase();
      await models.tallies.updateOne({ _id: META }, { $set: { kind: META, data: wanted, batch: null } }, { upsert: true });
      return true;
    },

    /** Counts up to `limit` dirty rows; returns how many it took (0: all counted). */
    async pass(limit = 2_000): Promise<number> {
      // FerretDB decodes every match before a limit: read them all once, count a slice.
      const dirty = (await models.assignments.find({ tallyDirty: true }, ROW_FIELDS).lean<Row[]>()).slice(0, limit);
      if (dirty.length === 0) return 0;
      const counted = dirty.map((row) => ({ row, from: row.tallied ?? null, to: rowSignature(row) }));
      const batch = {
        _id: randomUUID(),
        deltas: JSON.stringify(deltasOf(counted)),
        rows: JSON.stringify(counted.map(({ row, to }) => [row._id, row.version, to])),
      };
      await nextPhase();
      await models.tallyBatches.create(batch);
      await finishBatch(batch);
      return dirty.length;
    },

    /**
     * Takes or renews the tallier's lease for `ms`; says whether this owner holds it. A second
     * worker's tallier waits while the first one's lease lasts (on FerretDB, whose updates are a
     * read and a write, two takes at the same instant could both succeed: run one worker there).
     */
    async lease(owner: string, ms: number): Promise<boolean> {
      const now = new Date();
      const until = new Date(now.getTime() + ms);
      const held = await models.leases.findById(LEASE).lean();
      if (held && held.owner !== owner && held.until > now) return false;
      try {
        const taken = held
          ? await models.leases.updateOne({ _id: LEASE, owner: held.owner, until: held.until }, { $set: { owner, until } })
          : await models.leases.create({ _id: LEASE, owner, until }).then(() => ({ modifiedCount: 1 }));
        return taken.modifiedCount === 1;
      } catch (error) {
        if ((error as { code?: number }).code === 11000) return false;
        throw error;
      }
    },

    /** Lets another tallier take over at once (on a clean stop). */
    async release(owner: string): Promise<void> {
      await models.leases.deleteOne({ _id: LEASE, owner });
    },

    /** Every bucket of a list scope that has rows, in list order, with the batch its document took last. */
    async listCounts(scope: ListScope): Promise<ScopeCounts> {
      if (scope.kind === 'all') {
        const docs = await models.tallies.find({ kind: 'due' }).lean();
        const batches = new Map<string, string | null>();
        for (const doc of docs) batches.set(doc._id.slice('due:'.length), doc.batch ?? null);
        const buckets = sameAsLastRead('all', docs, () => {
          const out: ListBucket[] = [];
          for (const doc of docs) {
            const month = doc._id.slice('due:'.length);
            for (const [slice, classes] of Object.entries(parse(doc.data))) out.push({ bucket: `${month}-${slice}`, classes: classes as ClassCounts });
          }
          return inBucketOrder(out, (b) => b.bucket);
        });
        return {
          buckets,
          batchOf: (bucket) => batches.get(bucket.slice(0, 7)) ?? null,
          batches: [...new Set([...batches.values()].filter((b): b is string => Boolean(b)))],
          placeOf: listPlaceOf,
        };
      }
      const id =
        scope.kind === 'rec'
          ? recDueDoc(scope.recommendationId)
          : scope.kind === 'org'
            ? orgDueDoc(scope.organization)
            : scope.kind === 'cycle'
              ? cycleDueDoc(scope.cycle)
              : EXT_DUE;
      const doc = await models.tallies.findById(id).lean();
      const memoKey = scope.kind === 'org' ? `${id}|${scope.organization}` : scope.kind === 'rec' ? `${id}|${scope.cycle ?? ''}` : id;
      const buckets = sameAsLastRead(memoKey, doc ? [doc] : [], () => {
        let table = parse(doc?.data) as Record<string, ClassCounts>;
        if (scope.kind === 'org') table = (table as unknown as Record<string, Record<string, ClassCounts>>)[scope.organization] ?? {};
        if (scope.kind === 'rec') {
          // By cycle: one cycle's, or every cycle's added up.
          const cycles = table as unknown as Record<string, Record<string, ClassCounts>>;
          table = {};
          for (const [cycle, buckets] of Object.entries(cycles)) if (scope.cycle === undefined || Number(cycle) === scope.cycle) mergeBuckets(table, buckets);
        }
        return inBucketOrder(
          Object.entries(table).map(([bucket, classes]) => ({ bucket, classes })),
          (b) => b.bucket,
        );
      });
      return {
        buckets,
        batchOf: () => doc?.batch ?? null,
        batches: doc?.batch ? [doc.batch] : [],
        placeOf: scope.kind === 'ext' ? (signature) => (asksExtension(signature) ? listPlaceOf(signature) : null) : listPlaceOf,
      };
    },

    /**
     * Whether the summaries are of this code's format, so every counted row carries what this code
     * marks rows with (listMonth): not yet while a tallier of the version before, or none, kept
     * them. Once so, so for good in this process (a format only ever moves forward).
     */
    async current(): Promise<boolean> {
      if (formatCurrent) return true;
      formatCurrent = (await models.tallies.findById(META).lean())?.data === JSON.stringify({ format: FORMAT, timezone });
      return formatCurrent;
    },

    /** Which phase of a pass the tallier is in, as a token that changes with each. */
    phase: async (): Promise<string> => (await models.tallies.findById(PHASE, { data: 1 }).lean())?.data ?? '',

    /**
     * What these counting batches, if still stored (a pass under way), count each of their rows as.
     * Read by id: normally the batch a document took last is long gone.
     */
    async batchSignatures(ids: string[]): Promise<Map<string, Map<string, string>>> {
      const out = new Map<string, Map<string, string>>();
      for (const id of ids) {
        const batch = await models.tallyBatches.findById(id, { _id: 1, rows: 1 }).lean();
        if (batch) out.set(id, new Map((JSON.parse(batch.rows) as Array<[string, number, string]>).map(([row, , signature]) => [row, signature])));
      }
      return out;
    },

    /** Every bucket of the review queue that has submitted rows, oldest submission day first, with how many. */
    async reviewBuckets(): Promise<Array<{ bucket: string; count: number }>> {
      const docs = await models.tallies.find({ kind: 'review' }).lean();
      const out: Array<{ bucket: string; count: number }> = [];
      for (const doc of docs) {
        const month = doc._id.slice('review:'.length);
        for (const [slice, counts] of Object.entries(parse(doc.data))) out.push({ bucket: `${month}-${slice}`, count: (counts as ClassCounts).submitted ?? 0 });
      }
      return inBucketOrder(
        out.filter((b) => b.count > 0),
        (b) => b.bucket,
      );
    },

    /** How many rows wait to be counted. */
    pending: () => models.assignments.countDocuments({ tallyDirty: true }),

    async byOrganization(): Promise<Map<string, Counts>> {
      const table = parse((await models.tallies.findById(BY_ORGANIZATION).lean())?.data);
      return new Map(Object.entries(table).map(([k, v]) => [k, full(v as Partial_)]));
    },

    async byRecommendation(): Promise<Map<string, Counts>> {
      const table = parse((await models.tallies.findById(BY_RECOMMENDATION).lean())?.data);
      return new Map(Object.entries(table).map(([k, v]) => [k, full(v as Partial_)]));
    },

    async forRecommendations(ids: string[]): Promise<Map<string, Counts>> {
      const all = await tallies.byRecommendation();
      return new Map(ids.map((id) => [id, all.get(id) ?? zeroCounts()]));
    },

    /** A recommendation's counts per cycle, the latest first; periods from the rows' names. */
    async cycles(recommendationId: string): Promise<CycleCounts[]> {
      const table = parse((await models.tallies.findById(cyclesDoc(recommendationId)).lean())?.data);
      return Object.entries(table)
        .map(([cycle, periods]) => {
          const names = Object.keys(periods);
          const counts = sumInto(zeroCounts(), ...(Object.values(periods) as Partial_[]));
          return { cycle: Number(cycle), period: names.find((n) => n !== '') ?? null, counts };
        })
        .sort((a, b) => b.cycle - a.cycle);
    },

    /**
     * Counts per organisation and per recommendation over the assignments issued from `from` to
     * `to` (days in the time zone, YYYY-MM-DD, inclusive): both from one read of the months.
     * Callers do not change what it returns (it may be the last call's).
     */
    async issuedBetween(from: string, to: string): Promise<Record<'org' | 'rec', Map<string, Counts>>> {
      // Every month in one read: on FerretDB a projection decodes the whole document all the
      // same, so listing the months first and then reading those in the period read them twice.
      const docs = (await models.tallies.find({ kind: 'month' }).lean())
        .map((doc) => ({ month: doc._id.slice('month:'.length), doc }))
        .filter(({ month }) => month >= from.slice(0, 7) && month <= to.slice(0, 7))
        .sort((a, b) => (a.month < b.month ? -1 : 1));
      // The same period over the same documents as last time (each written with a new batch): the
      // same sums. Parsing and adding up the months was two thirds of the report's time.
      const key = `${from}|${to}`;
      const versions = docs.map(({ doc }) => `${doc._id}@${doc.batch ?? doc.data}`).join(',');
      const last = lastPeriods.get(key);
      if (last?.versions === versions) return last.sums;
      const months = docs.map(({ month }) => month);
      const out = { org: new Map<string, Counts>(), rec: new Map<string, Counts>() };
      docs.forEach(({ doc }, i) => {
        const table = parse(doc.data);
        for (const by of ['org', 'rec'] as const) {
          const byKey = (table[by] ?? {}) as Record<string, Record<string, Partial_>>;
          for (const [key, days] of Object.entries(byKey)) {
            for (const [dd, counts] of Object.entries(days)) {
              const day = `${months[i]}-${dd}`;
              if (day < from || day > to) continue;
              out[by].set(key, sumInto(out[by].get(key) ?? zeroCounts(), counts));
            }
          }
        }
      });
      if (lastPeriods.size >= LAST_PERIODS) lastPeriods.delete(lastPeriods.keys().next().value!);
      lastPeriods.set(key, { versions, sums: out });
      return out;
    },
  };
  return tallies;
}

export type Tallies = ReturnType<typeof createTallies>;
