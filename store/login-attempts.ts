/**
 * Login attempts, one document each, shared by every process and both ways in (the JSON API and
 * the pages): the rate limit on guessing passwords holds however many API processes run. Each
 * attempt is an insert and the count is read back, rather than a counter raised with $inc, which
 * FerretDB performs as a read and a write: two attempts at once could both read 4 and write 5.
 */
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';

export interface LoginAttempt {
  _id: string;
  /** Whom the limit counts: the client's address, as the rate limiter keys it. */
  key: string;
  at: Date;
}

export const loginAttemptSchema = new Schema<LoginAttempt>({ _id: { type: String, required: true }, key: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });
loginAttemptSchema.index({ key: 1 });

/** How often attempts of every key that have left their window are deleted. */
const SWEEP_MS = 10 * 60_000;

export function createLoginAttempts(model: Model<LoginAttempt>) {
  let sweptAt = Date.now();
  return {
    /**
     * Records one attempt; returns the key's attempts within the window (this one included) and
     * when the oldest leaves it. Attempts beyond the limit are answered, not stored: a key holds at
     * most `limit` documents, however hard it is hammered, and is let in again as they age out.
     */
    async record(key: string, windowMs: number, limit: number, now = new Date()): Promise<{ count: number; resetTime: Date }> {
      const since = now.getTime() - windowMs;
      const attempts = await model.find({ key }, { at: 1 }).lean();
      const live = attempts.map((a) => a.at.getTime()).filter((at) => at > since);
      if (live.length < attempts.length) await model.deleteMany({ key, at: { $lte: new Date(since) } });
      if (live.length < limit) await model.create({ _id: randomUUID(), key, at: now });
      if (now.getTime() - sweptAt > SWEEP_MS) {
        sweptAt = now.getTime();
        await model.deleteMany({ at: { $lte: new Date(since) } });
      }
      const oldest = live.length > 0 ? Math.min(...live) : now.getTime();
      return { count: live.length + 1, resetTime: new Date(oldest + windowMs) };
    },
    /** Takes back the key's latest attempt. */
    async forgetLatest(key: string): Promise<void> {
      const attempts = await model.find({ key }, { at: 1 }).lean();
      const latest = attempts.sort((a, b) => b.at.getTime() - a.at.getTime())[0];
      if (latest) await model.deleteOne({ _id: latest._id });
    },
    async forget(key: string): Promise<void> {
      await model.deleteMany({ key });
    },
  };
}

export type LoginAttempts = ReturnType<typeof createLoginAttempts>;
