/**
 * The weekly curator digest's record of itself: one document per ISO week, so a week in which no
 * digest went out (the run failed past its deadline, or nothing ran because the node was down) is
 * visible to the next run, which tells curators and administrators instead of skipping it silently.
 * Weeks are keyed `2026-W49`: the keys sort as the weeks do.
 */
import { Schema, type Model } from 'mongoose';

export type DigestRunStatus = 'running' | 'sent' | 'missed';

export interface DigestRun {
  /** The ISO week of the day the schedule fired, e.g. `2026-W49`. */
  _id: string;
  /** First and last instant of the seven days the digest covers. */
  weekStart: Date;
  weekEnd: Date;
  /** `running` until the digests are recorded (`sent`), or until the run gives up (`missed`). */
  status: DigestRunStatus;
  attempts: number;
  startedAt: Date;
  finishedAt?: Date;
  curators?: number;
  sent?: number;
  skipped?: number;
  /** Earlier weeks without a digest that this run told curators about. */
  reportedMissed?: string[];
  /** The last attempt's error while running; why the week was missed once it was. */
  lastError?: string;
  reason?: string;
}

/** One week the digest covers: its key and the seven days. */
export interface DigestWeek {
  week: string;
  weekStart: Date;
  weekEnd: Date;
}

export const digestRunSchema = new Schema<DigestRun>(
  {
    _id: { type: String, required: true },
    weekStart: { type: Date, required: true },
    weekEnd: { type: Date, required: true },
    status: { type: String, required: true, enum: ['running', 'sent', 'missed'] },
    attempts: { type: Number, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: Date,
    curators: Number,
    sent: Number,
    skipped: Number,
    reportedMissed: [String],
    lastError: String,
    reason: String,
  },
  { versionKey: false },
);

const clip = (text: string) => text.slice(0, 2000);

/**
 * Runs are one at a time (the schedule skips overlaps) and one per week: plain reads and writes
 * suffice, and the collection holds some fifty documents a year.
 */
export function createDigestRuns(model: Model<DigestRun>) {
  return {
    get: (week: string) => model.findById(week).lean(),
    /** An attempt at the week begins; a week already sent stays sent (a run triggered again). */
    async begin({ week, weekStart, weekEnd }: DigestWeek, now = new Date()): Promise<void> {
      const existing = await model.findById(week).lean();
      if (!existing) {
        await model.create({ _id: week, weekStart, weekEnd, status: 'running', attempts: 1, startedAt: now });
        return;
      }
      await model.updateOne({ _id: week }, { $inc: { attempts: 1 }, ...(existing.status === 'sent' ? {} : { $set: { status: 'running' } }) });
    },
    /** An attempt failed and will be retried. */
    async attemptFailed(week: string, error: string): Promise<void> {
      await model.updateOne({ _id: week }, { $set: { lastError: clip(error) } });
    },
    async sent(week: string, counts: { curators: number; sent: number; skipped: number }, reportedMissed: string[], now = new Date()): Promise<void> {
      await model.updateOne({ _id: week }, { $set: { status: 'sent', finishedAt: now, ...counts, reportedMissed }, $unset: { lastError: 1, reason: 1 } });
    },
    /**
     * Records weeks as missed, with why; a week sent meanwhile stays sent. Returns the weeks it
     * recorded (those not already missed), for the caller to report once.
     */
    async missed(weeks: DigestWeek[], reason: string, now = new Date()): Promise<DigestWeek[]> {
      const recorded: DigestWeek[] = [];
      for (const w of weeks) {
        const existing = await model.findById(w.week).lean();
        if (existing?.status === 'sent' || existing?.status === 'missed') continue;
        if (existing) await model.updateOne({ _id: w.week }, { $set: { status: 'missed', finishedAt: now, reason: clip(reason) } });
        else await model.create({ _id: w.week, weekStart: w.weekStart, weekEnd: w.weekEnd, status: 'missed', attempts: 0, startedAt: now, finishedAt: now, reason: clip(reason) });
        recorded.push(w);
      }
      return recorded;
    },
    /** The latest week before `week` whose digests went out. */
    lastSentBefore: (week: string) => model.findOne({ status: 'sent', _id: { $lt: week } }).sort({ _id: -1 }).lean(),
    /** Weeks before `week` (and after `after`, if given) recorded but never sent, oldest first. */
    unsentBetween: (week: string, after?: string) =>
      model
        .find({ status: { $ne: 'sent' }, _id: after ? { $lt: week, $gt: after } : { $lt: week } })
        .sort({ _id: 1 })
        .lean(),
    /** The latest weeks, newest first: what an administrator looks at. */
    latest: (limit: number) => model.find().sort({ _id: -1 }).limit(limit).lean(),
  };
}

export type DigestRuns = ReturnType<typeof createDigestRuns>;
