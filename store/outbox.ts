/**
 * The outbox: every email Kontrol sends, recorded under its idempotency key before it is sent,
 * and the delivery log administrators read, newest first.
 *
 * Shaped for FerretDB, which pushes only equality filters down and decodes every match of a sort
 * or a skip (about 150 µs a document; the log of 20,000 emails took 4–7 s a page):
 * - The bodies live in `outbox_bodies`, read by key when an email is sent or shown; the log's
 *   documents stay small.
 * - Each email is in a two-minute slice of the day it was recorded (`2026-12-04T17:25`, UTC). A
 *   slice and its day each have a document (`outbox_slices`, `outbox_days`), made before the
 *   email's, so every email's slice is known. Emails are only ever added, and always to the
 *   current slice, so once a slice is over (with a margin for clocks) its counts never change: the
 *   worker closes it (`closeFinished`) by counting it once, and a day once all its slices are
 *   closed. A page of the log then reads the days, the slices of the day it falls in, and the
 *   emails of the one or two slices it covers, each by equality. A slice is counted per second
 *   too, so a page in a burst (issuing 2,300 emails at 46 a second fills a slice with 2,300)
 *   reads the seconds it covers, not the whole slice (nor, as before, ten seconds of 460 emails).
 *   While a slice is open, the worker counts each of its seconds a few seconds after it ends
 *   (`running`), so a page right after a burst reads whole only the last few seconds.
 * - The states change, though: the few emails not sent (failed, pending) are read by state, and a
 *   page of sent emails counts a slice as its emails less its unsent ones.
 * - One assignment's emails are read by `assignmentId`, a top-level copy of the context's.
 *
 * The same code runs on MongoDB, where it is simply correct.
 */
import { Schema, type Connection } from 'mongoose';
import { insertNew, insertOnce } from './duplicate-key';
import type { Models } from './models';
import { versionedCache } from './versioned-cache';

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxEmail {
  _id: string;
  template: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  status: OutboxStatus;
  attempts: number;
  lastError?: string;
  /**
   * A failed email the delivery lane tries again from this instant; absent or null when no retry
   * would help (a 5xx reply, no recipients), or while an administrator's resend holds it.
   */
  retryAt?: Date | null;
  /** Who claimed it until retryAt: the delivery lane or an administrator's resend. */
  claimedBy?: 'lane' | 'resend' | null;
  messageId?: string;
  sentAt?: Date;
  /** Sent again on an administrator's request after it had been sent; absent before the first. */
  resends?: number;
  lastResentAt?: Date;
  context: { assignmentId?: string; recommendationId?: string; event?: string };
  createdAt?: Date;
  updatedAt?: Date;
}

/** An email in the log: everything but the bodies. */
export type OutboxSummary = Omit<OutboxEmail, 'html' | 'text'>;

/** What the log's documents hold beside the summary. */
interface StoredOutboxEmail extends OutboxSummary {
  /** The two-minute slice it was recorded in. */
  slice: string;
  /** Which second of its slice (0–119); absent on emails recorded before seconds. */
  second?: number;
  /** Which ten seconds of its slice (0–11): emails recorded before seconds, after parts. */
  part?: number;
  /** context.assignmentId at the top level, where FerretDB filters on it; null for emails about no assignment. */
  assignmentId: string | null;
  /** Written before the bodies moved to outbox_bodies; taken out by the migration. */
  html?: string;
  text?: string;
}

interface OutboxBody {
  _id: string;
  html: string;
  text: string;
}

/** How many emails a finished slice or day holds, in all and per template. */
interface PeriodCounts {
  total: number;
  templates: Record<string, number>;
  /** A slice's counts per second of it; absent when some email has no second (recorded before seconds). */
  seconds?: Record<string, PeriodCounts>;
  /** A slice's counts per ten-second part, when every email has one (recorded after parts, before seconds). */
  parts?: Record<string, PeriodCounts>;
}

interface OutboxSlice {
  _id: string;
  day: string;
  closed: boolean;
  counts?: PeriodCounts;
  /**
   * While the slice is open: its seconds up to `through` counted (each once it is over by
   * COUNT_SECOND_AFTER_MS), so a page reads only the seconds after it whole. A second absent from
   * `seconds` holds no email. Dropped when the slice is closed or found to hold other than this says.
   */
  running?: { through: number; seconds: Record<string, PeriodCounts> };
}

interface OutboxDay {
  _id: string;
  closed: boolean;
  counts?: PeriodCounts;
}

/** Part of a slice as a page walks it: counted (read when the page covers it), or read already. */
type SlicePart = { period: string; counts: PeriodCounts; query: Record<string, unknown> } | { emails: StoredOutboxEmail[] };

export interface OutboxFilter {
  status?: OutboxStatus;
  template?: string;
  assignmentId?: string;
}

/**
 * Short, so the emails of a burst (issuing to 2,300 addressees takes minutes) are soon in closed
 * slices and a page reads only the slice it covers; a day has at most 720.
 */
const SLICE_MINUTES = 2;
/**
 * A slice is closed this long after it ended: longer than the node's processes' clocks differ
 * (one machine). An email whose write stalls longer reopens its slice (record, list).
 */
const CLOSE_AFTER_MS = 60_000;
/**
 * A second of an open slice is counted this long after it ended: longer than an email's write
 * takes (a few milliseconds; seconds under a stall). A write that takes longer than half of it
 * looks whether its second was counted meanwhile, and if so has it counted anew (record); a page
 * that finds a second holding other than its count does the same (list); and the slice is
 * counted afresh, whole, when it is closed.
 */
const COUNT_SECOND_AFTER_MS = 5_000;
/** More uncounted seconds than this (the worker is behind, or down) and a page reads the slice whole. */
const MAX_UNCOUNTED_SECONDS = 20;

/** The slice an instant falls in: `2026-12-04T17:25` covers 17:50–17:52 UTC. Keys sort as time does. */
export function sliceOf(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 13)}:${String(Math.floor(at.getUTCMinutes() / SLICE_MINUTES)).padStart(2, '0')}`;
}

/** The second of its slice an instant falls in: 0 to 119. */
export function secondOf(at: Date): number {
  return Math.floor((at.getTime() % (SLICE_MINUTES * 60_000)) / 1000);
}

/** The ten seconds of its slice an instant falls in (0 to 11): what emails recorded before seconds carry. */
export function partOf(at: Date): number {
  return Math.floor(secondOf(at) / 10);
}

/** The divisions a slice's emails are counted in and read by, finest first. */
const DIVISIONS = [
  { field: 'second', counts: 'seconds' },
  { field: 'part', counts: 'parts' },
] as const;

/** When a slice ends. */
function sliceEnd(slice: string): number {
  const [hour, tenth] = slice.split(':');
  return Date.parse(`${hour}:00:00.000Z`) + (Number(tenth) + 1) * SLICE_MINUTES * 60_000;
}

/** When a second of a slice ends. */
const secondEnd = (slice: string, second: number) => sliceEnd(slice) - (SLICE_MINUTES * 60 - second - 1) * 1000;

const dayEnd = (day: string) => Date.parse(`${day}T00:00:00.000Z`) + 86_400_000;

const outboxSchema = new Schema<StoredOutboxEmail>(
  {
    _id: { type: String, required: true },
    template: { type: String, required: true },
    to: { type: [String], default: [] },
    subject: { type: String, required: true },
    status: { type: String, required: true, default: 'pending' },
    attempts: { type: Number, default: 0 },
    lastError: String,
    retryAt: Date,
    claimedBy: String,
    messageId: String,
    sentAt: Date,
    resends: Number,
    lastResentAt: Date,
    context: { assignmentId: String, recommendationId: String, event: String },
    slice: { type: String, required: true },
    second: Number,
    part: Number,
    assignmentId: { type: String, default: null },
    html: String,
    text: String,
  },
  { timestamps: true, versionKey: false },
);
// Single fields, each read by equality (on FerretDB each gets a GIN twin: stack/ferretdb-indexes.ts).
outboxSchema.index({ slice: 1 });
outboxSchema.index({ status: 1 });
outboxSchema.index({ assignmentId: 1 });

const bodySchema = new Schema<OutboxBody>({ _id: { type: String, required: true }, html: { type: String, required: true }, text: { type: String, required: true } }, { versionKey: false });

const countsSchema = { total: Number, templates: { type: Schema.Types.Mixed }, seconds: { type: Schema.Types.Mixed }, parts: { type: Schema.Types.Mixed } };
const sliceSchema = new Schema<OutboxSlice>(
  {
    _id: { type: String, required: true },
    day: { type: String, required: true },
    closed: { type: Boolean, required: true },
    counts: countsSchema,
    running: { through: Number, seconds: { type: Schema.Types.Mixed } },
  },
  { versionKey: false },
);
sliceSchema.index({ day: 1 });
sliceSchema.index({ closed: 1 });
const daySchema = new Schema<OutboxDay>({ _id: { type: String, required: true }, closed: { type: Boolean, required: true }, counts: countsSchema }, { versionKey: false });

export function registerOutboxModels(connection: Connection) {
  return {
    outbox: connection.model<StoredOutboxEmail>('OutboxEmail', outboxSchema, 'outbox'),
    outboxBodies: connection.model<OutboxBody>('OutboxBody', bodySchema, 'outbox_bodies'),
    outboxSlices: connection.model<OutboxSlice>('OutboxSlice', sliceSchema, 'outbox_slices'),
    outboxDays: connection.model<OutboxDay>('OutboxDay', daySchema, 'outbox_days'),
  };
}

export type OutboxModels = ReturnType<typeof registerOutboxModels>;

/** The log's fields: no bodies. */
const SUMMARY = { html: 0, text: 0 } as const;

const newestFirst = (a: OutboxSummary, b: OutboxSummary) =>
  (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);

function countPeriod(emails: Array<Pick<OutboxSummary, 'template'>>): PeriodCounts {
  const templates: Record<string, number> = {};
  for (const e of emails) templates[e.template] = (templates[e.template] ?? 0) + 1;
  return { total: emails.length, templates };
}

/** A slice's counts, with those of each division (second, part) that every one of its emails has. */
function countSlice(emails: Array<Pick<StoredOutboxEmail, 'template' | 'second' | 'part'>>): PeriodCounts {
  const counts = countPeriod(emails);
  if (emails.length === 0) return counts;
  for (const { field, counts: key } of DIVISIONS) {
    if (emails.some((e) => typeof e[field] !== 'number')) continue;
    const by = new Map<number, Array<Pick<StoredOutboxEmail, 'template'>>>();
    for (const e of emails) by.set(e[field]!, [...(by.get(e[field]!) ?? []), e]);
    counts[key] = Object.fromEntries([...by].map(([n, its]) => [String(n), countPeriod(its)]));
  }
  return counts;
}

function addCounts(into: PeriodCounts, add: PeriodCounts): void {
  into.total += add.total;
  for (const [name, n] of Object.entries(add.templates)) into.templates[name] = (into.templates[name] ?? 0) + n;
}

/** An email as its sender makes it, before the log's bookkeeping. */
export type NewOutboxEmail = Omit<OutboxEmail, 'status' | 'attempts' | 'createdAt' | 'updatedAt'>;

/** The version of the log's days (see `dayIndex` below); whoever writes day documents directly changes it. */
export const OUTBOX_DAYS_VERSION = 'outbox-days:version';

export function createOutbox(models: OutboxModels, settings: Models['settings']) {
  const { outbox, outboxBodies: bodies, outboxSlices: slices, outboxDays: days } = models;
  /** Slices this process has made sure of: one write per slice, not per email. */
  const known = new Set<string>();
  /**
   * Every day of the log, newest first, kept in this process (store/versioned-cache.ts): a day's
   * document changes only when it is made, closed or opened again, and each of those changes the
   * version. A page read all of them (two years of days: 100 ms on FerretDB).
   */
  const dayIndex = versionedCache(settings, OUTBOX_DAYS_VERSION, async () => (await days.find().lean()).sort((a, b) => (a._id < b._id ? 1 : -1)));

  async function ensureSlice(slice: string): Promise<void> {
    if (known.has(slice)) return;
    const day = slice.slice(0, 10);
    if (await insertOnce(days, day, { closed: false })) await dayIndex.changed();
    await insertOnce(slices, slice, { day, closed: false });
    if (known.size > 1000) known.clear();
    known.add(slice);
  }

  /** The emails of a slice as the log shows them. */
  const sliceEmails = (slice: string) => outbox.find({ slice }, SUMMARY).lean<StoredOutboxEmail[]>();

  /**
   * A slice (and its day) found to hold other than its counts say, which an email recorded late
   * (a stall past the closing margin) would cause: opened again, for the closer to count anew.
   */
  async function reopen(slice: string): Promise<void> {
    await slices.updateOne({ _id: slice }, { $set: { closed: false }, $unset: { counts: 1, running: 1 } });
    await days.updateOne({ _id: slice.slice(0, 10) }, { $set: { closed: false }, $unset: { counts: 1 } });
    await dayIndex.changed();
  }

  const unsent = async (): Promise<StoredOutboxEmail[]> => {
    const [failed, pending] = await Promise.all([outbox.find({ status: 'failed' }, SUMMARY).lean<StoredOutboxEmail[]>(), outbox.find({ status: 'pending' }, SUMMARY).lean<StoredOutboxEmail[]>()]);
    return [...failed, ...pending];
  };

  /**
   * A slice's emails in parts, newest first, each either counted (read by equality when a page
   * covers it) or read already: a closed slice's seconds (or ten-second parts, or the slice whole)
   * by its counts; an open slice's seconds counted so far by its running counts, after those it
   * has not counted yet, read one by one; or, when it has none or too many of those, the slice whole.
   */
  async function partsOf(slice: OutboxSlice, now: Date): Promise<SlicePart[]> {
    if (slice.closed && slice.counts) {
      const division = DIVISIONS.find(({ counts: key }) => slice.counts![key]);
      if (!division) return [{ period: slice._id, counts: slice.counts, query: { slice: slice._id } }];
      return countedParts(slice._id, division.field, slice.counts[division.counts]!);
    }
    const running = slice.running;
    const last = now.getTime() >= sliceEnd(slice._id) ? SLICE_MINUTES * 60 - 1 : Math.min(SLICE_MINUTES * 60 - 1, secondOf(now) + 1);
    const uncounted = running ? Array.from({ length: Math.max(0, last - running.through) }, (_, k) => last - k) : [];
    if (!running || uncounted.length > MAX_UNCOUNTED_SECONDS) return [{ emails: await sliceEmails(slice._id) }];
    const recent = await Promise.all(uncounted.map((second) => outbox.find({ slice: slice._id, second }, SUMMARY).lean<StoredOutboxEmail[]>()));
    return [...recent.map((emails) => ({ emails })), ...countedParts(slice._id, 'second', running.seconds)];
  }

  /**
   * Counts an open slice's seconds that are over by the margin and not counted yet, each read by
   * equality (a few emails each, even in a burst); returns how many it counted.
   */
  async function countSeconds(slice: OutboxSlice, now: Date): Promise<number> {
    const last = Math.min(SLICE_MINUTES * 60 - 1, Math.floor((now.getTime() - COUNT_SECOND_AFTER_MS - (sliceEnd(slice._id) - SLICE_MINUTES * 60_000)) / 1000) - 1);
    const first = (slice.running?.through ?? -1) + 1;
    if (last < first) return 0;
    const seconds = { ...slice.running?.seconds };
    const todo = Array.from({ length: last - first + 1 }, (_, k) => first + k);
    // A few at a time: a worker catching up after a pause must not take every connection.
    for (let i = 0; i < todo.length; i += 4) {
      const read = await Promise.all(todo.slice(i, i + 4).map((second) => outbox.find({ slice: slice._id, second }, { template: 1 }).lean()));
      read.forEach((emails, k) => {
        if (emails.length > 0) seconds[String(todo[i + k])] = countPeriod(emails);
      });
    }
    // Not onto a slice closed meanwhile.
    await slices.updateOne({ _id: slice._id, closed: false }, { $set: { running: { through: last, seconds } } });
    return todo.length;
  }

  const countedParts = (slice: string, field: 'second' | 'part', counts: Record<string, PeriodCounts>): SlicePart[] =>
    Object.entries(counts)
      .sort(([a], [b]) => Number(b) - Number(a))
      .map(([n, its]) => ({ period: `${slice}#${field}${n}`, counts: its, query: { slice, [field]: Number(n) } }));

  const repository = {
    /** After day documents were written around this repository (the benchmark's seed): read anew. */
    daysChanged: () => dayIndex.changed(),
    /** The email as the log shows it, without its bodies: enough to know its state. */
    summary: (key: string) => outbox.findById(key, SUMMARY).lean<OutboxSummary>(),
    /** The email with its bodies. */
    async get(key: string): Promise<OutboxEmail | null> {
      const email = await outbox.findById(key).lean<StoredOutboxEmail>();
      if (!email) return null;
      const { slice: _slice, second: _second, part: _part, assignmentId: _assignmentId, ...rest } = email;
      // Recorded before the bodies moved, and not migrated yet.
      if (typeof rest.html === 'string') return { ...rest, text: rest.text ?? '' } as OutboxEmail;
      const body = await bodies.findById(key).lean();
      return { ...rest, html: body?.html ?? '', text: body?.text ?? '' };
    },
    /** Records the email once; a second call with the same key keeps the first content and returns it. */
    async record(entry: NewOutboxEmail): Promise<OutboxEmail> {
      return (await repository.recordIfNew(entry)) ?? (await repository.get(entry._id))!;
    },
    /** Records the email unless its key is there already: the email as written, or null. */
    async recordIfNew(entry: NewOutboxEmail): Promise<OutboxEmail | null> {
      const [recorded] = await repository.recordMany([entry]);
      return recorded ?? null;
    },
    /**
     * Records, together, each email whose key is not there yet (a batch's: two writes, not two
     * per email); returns those it recorded, as written. `retryAt`: when the lane may send them
     * (absent: they are being sent now, and the lane takes them only once they look stale).
     */
    async recordMany(entries: NewOutboxEmail[], options: { retryAt?: Date } = {}): Promise<OutboxEmail[]> {
      if (entries.length === 0) return [];
      const now = new Date();
      const slice = sliceOf(now);
      const second = secondOf(now);
      const retry = options.retryAt ? { retryAt: options.retryAt } : {};
      // Slice first, then the bodies, then the emails: whatever the log lists has both.
      await ensureSlice(slice);
      await insertNew(bodies, entries.map(({ _id, html, text }) => ({ _id, html, text })));
      const inserted = await insertNew(
        outbox,
        entries.map(({ html: _html, text: _text, ...summary }) => ({
          ...summary,
          status: 'pending',
          attempts: 0,
          ...retry,
          slice,
          second,
          assignmentId: summary.context.assignmentId ?? null,
          // The slice's instant, not a later one of mongoose's.
          createdAt: now,
          updatedAt: now,
        })),
      );
      // Closed or its second counted meanwhile (this write stalled past a margin): counted again.
      // Nothing counts a second before its end and the margin, nor closes a slice before its end
      // and the larger margin, so a write done well before that need not look.
      if (inserted.size > 0 && Date.now() > secondEnd(slice, second) + COUNT_SECOND_AFTER_MS / 2) {
        const [s, d] = await Promise.all([slices.findById(slice, { closed: 1, running: 1 }).lean(), days.findById(slice.slice(0, 10), { closed: 1 }).lean()]);
        if (s?.closed || d?.closed || (s?.running?.through ?? -1) >= second) await reopen(slice);
      }
      // As written: no need to read them back.
      return entries.filter((e) => inserted.has(e._id)).map((e) => ({ ...e, status: 'pending' as const, attempts: 0, ...retry, createdAt: now, updatedAt: now }));
    },
    async markSent(key: string, messageId: string): Promise<void> {
      await outbox.updateOne({ _id: key }, { $set: { status: 'sent', messageId, sentAt: new Date() }, $inc: { attempts: 1 }, $unset: { lastError: 1, retryAt: 1, claimedBy: 1 } });
    },
    /** A failed attempt: tried again from `retryAt` by the delivery lane, or never (null). */
    async markFailed(key: string, error: string, retryAt: Date | null): Promise<void> {
      await outbox.updateOne({ _id: key, status: { $ne: 'sent' } }, { $set: { status: 'failed', lastError: error.slice(0, 2000), retryAt, claimedBy: null }, $inc: { attempts: 1 } });
    },
    /** Sets when the lane may next try an unsent email. */
    async holdUntil(key: string, retryAt: Date): Promise<void> {
      await outbox.updateOne({ _id: key, status: { $ne: 'sent' } }, { $set: { retryAt } });
    },
    /**
     * Claims an unsent email for one sender until `until`: succeeds only if its retryAt is still
     * the one the sender read, so of two senders that read the same entry one claims it and the
     * other backs off (a compare-and-set: atomic on MongoDB; on FerretDB, whose updates are a read
     * and a write, two claims in the same instant could both succeed).
     */
    async claim(key: string, seen: Date | null, until: Date, by: 'lane' | 'resend'): Promise<boolean> {
      const result = await outbox.updateOne({ _id: key, status: { $ne: 'sent' }, retryAt: seen }, { $set: { retryAt: until, claimedBy: by } });
      return result.modifiedCount === 1;
    },
    /**
     * Unsent emails due for another try, earliest first: failed ones whose retryAt has come, and
     * pending ones recorded over `staleMs` ago whose first attempt never finished. Read by status
     * (an equality FerretDB pushes down; few emails are ever unsent), the rest sifted here.
     */
    async due(now: Date, limit: number, staleMs = 5 * 60_000): Promise<Array<Pick<OutboxEmail, '_id' | 'retryAt'>>> {
      const [failed, pending] = await Promise.all([
        // Not those no retry would help (retryAt null), which stay failed until an administrator acts.
        outbox.find({ status: 'failed', retryAt: { $ne: null } }, { _id: 1, retryAt: 1 }).lean(),
        outbox.find({ status: 'pending' }, { _id: 1, createdAt: 1, retryAt: 1 }).lean(),
      ]);
      const dueFailed = failed.filter((e) => e.retryAt && e.retryAt <= now);
      // A pending one whose first sender died: its claim has lapsed, or it never had one.
      const stalePending = pending
        .filter((e) => (e.retryAt ? e.retryAt <= now : Boolean(e.createdAt && e.createdAt.getTime() <= now.getTime() - staleMs)))
        .map((e) => ({ _id: e._id, retryAt: e.retryAt ?? e.createdAt }));
      return [...dueFailed, ...stalePending].sort((a, b) => a.retryAt!.getTime() - b.retryAt!.getTime()).slice(0, limit);
    },
    /** An administrator's resend of an email sent before: counted, and the entry stays sent. */
    async markResent(key: string, messageId: string): Promise<void> {
      await outbox.updateOne({ _id: key }, { $set: { messageId, lastResentAt: new Date() }, $inc: { resends: 1, attempts: 1 }, $unset: { lastError: 1 } });
    },
    /** A failed resend of a sent email: the log shows the error, and the email stays sent (it was, once). */
    async markResendFailed(key: string, error: string): Promise<void> {
      await outbox.updateOne({ _id: key }, { $set: { lastError: error.slice(0, 2000) }, $inc: { attempts: 1 } });
    },

    /** The delivery log, newest first, without the bodies. */
    async list(filter: OutboxFilter, page: { limit: number; offset: number }): Promise<{ items: OutboxSummary[]; total: number }> {
      const matches = (e: StoredOutboxEmail) =>
        (!filter.status || e.status === filter.status) && (!filter.template || e.template === filter.template) && (!filter.assignmentId || e.assignmentId === filter.assignmentId);
      const strip = ({ slice: _slice, second: _second, part: _part, assignmentId: _assignmentId, html: _html, text: _text, ...summary }: StoredOutboxEmail): OutboxSummary =>
        summary;

      // Few emails: read them all and sort here.
      const few = filter.assignmentId
        ? await outbox.find({ assignmentId: filter.assignmentId }, SUMMARY).lean<StoredOutboxEmail[]>()
        : filter.status === 'failed' || filter.status === 'pending'
          ? await outbox.find({ status: filter.status }, SUMMARY).lean<StoredOutboxEmail[]>()
          : undefined;
      if (few) {
        const all = few.filter(matches).sort(newestFirst);
        return { items: all.slice(page.offset, page.offset + page.limit).map(strip), total: all.length };
      }

      // Many: walk the days and slices newest first, counting from their closed counts, and read
      // the emails of the slices the page covers. Sent emails are a slice's emails less its unsent ones.
      const notSent = filter.status === 'sent' ? (await unsent()).filter((e) => !filter.template || e.template === filter.template) : [];
      const unsentPer = new Map<string, number>();
      for (const e of notSent) {
        // Per division, slice and day (a slice's key begins with its day's).
        if (!e.slice) continue;
        const divisions = DIVISIONS.flatMap(({ field }) => (typeof e[field] === 'number' ? [`${e.slice}#${field}${e[field]}`] : []));
        const periods = [e.slice, e.slice.slice(0, 10), ...divisions];
        for (const period of periods) unsentPer.set(period, (unsentPer.get(period) ?? 0) + 1);
      }
      const unsentIn = (period: string) => unsentPer.get(period) ?? 0;
      const counted = (counts: PeriodCounts, period: string) => (filter.template ? (counts.templates[filter.template] ?? 0) : counts.total) - unsentIn(period);

      const items: OutboxSummary[] = [];
      let position = 0;
      const wanted = (count: number) => count > 0 && items.length < page.limit && position + count > page.offset;
      /** Takes the page's share of a part's emails (those matching, newest first). */
      const take = (emails: StoredOutboxEmail[]) => {
        const from = Math.max(0, page.offset - position);
        items.push(...emails.sort(newestFirst).slice(from, from + page.limit - items.length).map(strip));
      };
      const now = new Date();
      for (const day of await dayIndex.get()) {
        if (day.closed && day.counts) {
          const count = counted(day.counts, day._id);
          if (!wanted(count)) {
            position += count;
            continue;
          }
        }
        const daySlices = (await slices.find({ day: day._id }).lean()).sort((a, b) => (a._id < b._id ? 1 : -1));
        for (const slice of daySlices) {
          // The parts read already, as the filter keeps them (once: counted, then taken from).
          const parts = (await partsOf(slice, now)).map((part) => ('emails' in part ? { emails: part.emails.filter(matches) } : part));
          const count = parts.reduce((sum, part) => sum + ('emails' in part ? part.emails.length : counted(part.counts, part.period)), 0);
          if (!wanted(count)) {
            position += count;
            continue;
          }
          for (const part of parts) {
            if ('emails' in part) {
              if (wanted(part.emails.length)) take(part.emails);
              position += part.emails.length;
              continue;
            }
            const inPart = counted(part.counts, part.period);
            if (!wanted(inPart)) {
              position += inPart;
              continue;
            }
            const all = await outbox.find(part.query, SUMMARY).lean<StoredOutboxEmail[]>();
            // Other than counted: an email landed late; the slice is counted anew.
            if (all.length !== part.counts.total) await reopen(slice._id);
            take(all.filter(matches));
            position += inPart;
          }
        }
      }
      return { items, total: position };
    },

    /**
     * Counts the slices that are over and the days whose slices all are: their counts never change
     * again. Counts, too, the seconds of the open slices that are over (their running counts). Run
     * by the worker every few seconds (workers/outbox-closer.ts); idempotent, so two at once only do
     * the same work twice.
     */
    async closeFinished(now = new Date()): Promise<{ slices: number; days: number; seconds: number }> {
      const open = await slices.find({ closed: false }).lean();
      let closedSlices = 0;
      let countedSeconds = 0;
      for (const slice of open) {
        if (sliceEnd(slice._id) > now.getTime() - CLOSE_AFTER_MS) {
          countedSeconds += await countSeconds(slice, now);
          continue;
        }
        const counts = countSlice(await outbox.find({ slice: slice._id }, { template: 1, second: 1, part: 1 }).lean());
        await slices.updateOne({ _id: slice._id }, { $set: { closed: true, counts }, $unset: { running: 1 } });
        closedSlices += 1;
      }
      let closedDays = 0;
      const openDays = await days.find({ closed: false }).lean();
      for (const day of openDays) {
        // Not before its last slice could have closed.
        if (dayEnd(day._id) > now.getTime() - CLOSE_AFTER_MS) continue;
        const its = await slices.find({ day: day._id }).lean();
        if (its.some((s) => !s.closed || !s.counts)) continue;
        const counts: PeriodCounts = { total: 0, templates: {} };
        for (const s of its) addCounts(counts, s.counts!);
        await days.updateOne({ _id: day._id }, { $set: { closed: true, counts } });
        closedDays += 1;
      }
      if (closedDays > 0) await dayIndex.changed();
      return { slices: closedSlices, days: closedDays, seconds: countedSeconds };
    },
    /** Slices and days that are over but not closed yet: what the benchmark waits for. */
    async closeable(now = new Date()): Promise<number> {
      const [openSlices, openDays] = await Promise.all([slices.find({ closed: false }, { _id: 1 }).lean(), days.find({ closed: false }, { _id: 1 }).lean()]);
      const cutoff = now.getTime() - CLOSE_AFTER_MS;
      return openSlices.filter((s) => sliceEnd(s._id) <= cutoff).length + openDays.filter((d) => dayEnd(d._id) <= cutoff).length;
    },
  };
  return repository;
}

export type Outbox = ReturnType<typeof createOutbox>;
