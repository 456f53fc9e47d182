/**
 * Requests that carried an idempotency key, and how each was answered: a repeat of one (a double
 * click, a retry after an answer was lost) is answered as the first was and changes nothing
 * (api/idempotency.ts holds the HTTP side).
 *
 * A key is taken by inserting its document: the store's unique `_id` lets exactly one of two
 * requests in the same instant have it, on MongoDB and on FerretDB alike (no read-then-write).
 * The holder records its answer when it has one; a refused or failed request gives the key back,
 * so the same form can be sent again once corrected. Keys are kept for a day.
 */
import { createHash } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import { insertOnce } from './duplicate-key';

/** What a repeat is answered with. */
export interface IdempotentAnswer {
  status: number;
  /** The redirect's target, for an answer that was one. */
  location?: string;
  /** A JSON answer's body, as sent. */
  json?: string;
  /** The message a page showed after the first request (its session's flash). */
  flash?: { kind: 'ok' | 'error'; text: string };
}

export interface IdempotentRequest {
  /** Whose key it is and the key: `<user id>:<key>`, hashed (keys are the client's text). */
  _id: string;
  /** The request the key was first used for: method, path and body, hashed. */
  fingerprint: string;
  answer: IdempotentAnswer | null;
  createdAt: Date;
}

export const idempotentRequestSchema = new Schema<IdempotentRequest>(
  {
    _id: { type: String, required: true },
    fingerprint: { type: String, required: true },
    answer: { type: Schema.Types.Mixed, default: null },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
// Swept by age (a range: on FerretDB a scan of what is at most a day of keys).
idempotentRequestSchema.index({ createdAt: 1 });

/** How long a key is remembered. */
export const KEY_TTL_MS = 24 * 3_600_000;
/** How often keys older than that are deleted. */
const SWEEP_MS = 10 * 60_000;

export type KeyState = { kind: 'new' } | { kind: 'running' } | { kind: 'answered'; answer: IdempotentAnswer } | { kind: 'other-request' };

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function createIdempotency(model: Model<IdempotentRequest>) {
  let sweptAt = 0;
  const idOf = (owner: string, key: string) => sha256(`${owner}\u0000${key}`);
  return {
    /**
     * Takes the key for this request, or says why not: it is being answered (`running`), it was
     * answered (`answered`, with the answer), or it was used for another request (`other-request`).
     */
    async take(owner: string, key: string, request: string, now = new Date()): Promise<KeyState> {
      if (now.getTime() - sweptAt > SWEEP_MS) {
        sweptAt = now.getTime();
        await model.deleteMany({ createdAt: { $lt: new Date(now.getTime() - KEY_TTL_MS) } });
      }
      const _id = idOf(owner, key);
      const fingerprint = sha256(request);
      if (await insertOnce(model, _id, { fingerprint, answer: null, createdAt: now })) return { kind: 'new' };
      const held = await model.findById(_id).lean();
      // Given back between the insert and this read: take it again.
      if (!held) return (await insertOnce(model, _id, { fingerprint, answer: null, createdAt: now })) ? { kind: 'new' } : { kind: 'running' };
      if (held.fingerprint !== fingerprint) return { kind: 'other-request' };
      return held.answer ? { kind: 'answered', answer: held.answer } : { kind: 'running' };
    },
    /** Records how the request that holds the key was answered. */
    async answer(owner: string, key: string, answer: IdempotentAnswer): Promise<void> {
      await model.updateOne({ _id: idOf(owner, key) }, { $set: { answer } });
    },
    /** Gives the key back: the request was refused or failed, and may be sent again. */
    async release(owner: string, key: string): Promise<void> {
      await model.deleteOne({ _id: idOf(owner, key), answer: null });
    },
  };
}

export type Idempotency = ReturnType<typeof createIdempotency>;
