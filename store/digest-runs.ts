/**
 * The weekly curator digest's record of itself: one document per ISO week, so a week in which no
 * digest went out (the run failed past its deadline, or nothing ran because the node was down) is
 * visible to the next run, which tells curators and administrators instead of skipping it silently.
 * Weeks are keyed `2026-W49`: the keys sort as the weeks do.
 */
import { Schema, type Model } from 'mongoose';
import { insertOnce } from './duplicate-key';

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
 * One run at a time as scheduled, but a run triggered by hand may start beside one still retrying:
 * a week's document is created by an upsert that tolerates the other's, then changed by updates.
 */
export function createDigestRuns(model: Model<DigestRun>) {
  const ensure = ({ week, weekStart, weekEnd }: DigestWeek, status: DigestRunStatus, now: Date) =>
    insertOnce(model, week, { weekStart, weekEnd, status, attempts: 0, startedAt: now });

  return {
    get: (week: string) => model.findById(week).lean(),
    /** An attempt at the week begins; a week already sent stays sent (a run triggered again). */
    async begin(w: DigestWeek, now = new Date()): Promise<void> {
      await ensure(w, 'running', now);
      await model.updateOne({ _id: w.week }, { $inc: { attempts: 1 } });
      await model.updateOne({ _id: w.week, status: 'missed' }, { $set: { status: 'running' } });
    },
    /** An attempt failed and will be retried. */
    async attemptFailed(week: string, error: string): Promise<void> {
      await model.updateOne({ _id: week }, { $set: { lastError: clip(error) } });
    },
    async sent(week: string, counts: { curators: number; sent: number; skipped: number }, reportedMissed: string[], now = new Date()): Promise<void> {
      await model.updateOne({ _id: week }, { $set: { status: 'sent', finishedAt: now, ...counts, reportedMissed }, $unset: { lastError: 1, reason: 1 } });
    },
    /** Of these weeks, those nobody recorded as sent or as missed: what is still to be reported. */
    async unreported(weeks: DigestWeek[]): Promise<DigestWeek[]> {
      const out: DigestWeek[] = [];
      for (const w of weeks) {
        const status = (await model.findById(w.week, { status: 1 }).lean())?.status;
        if (status !== 'sent' && status !== 'missed') out.push(w);
      }
      return out;
    },
    /** Records weeks as missed, with why; a week sent meanwhile stays sent. */
    async missed(weeks: DigestWeek[], reason: string, now = new Date()): Promise<void> {
      for (const w of weeks) {
        await ensure(w, 'missed', now);
        await model.updateOne({ _id: w.week, status: { $ne: 'sent' } }, { $set: { status: 'missed', finishedAt: now, reason: clip(reason) } });
      }
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
