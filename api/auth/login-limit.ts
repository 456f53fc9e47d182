/**
 * The limit on login attempts, one for the JSON API and the pages alike: both count into the same
 * stored attempts (store/login-attempts.ts), so neither way in gives a guesser a second allowance,
 * and every API process sees the same count.
 */
import type { RequestHandler } from 'express';
import { rateLimit, type Options, type Store } from 'express-rate-limit';
import type { LoginAttempts } from '../../store/login-attempts';

export function loginLimiter({
  attempts,
  rate,
  handler,
}: {
  attempts: LoginAttempts;
  rate: { limit: number; windowSeconds: number };
  /** Answers a client over the limit (JSON or a page). */
  handler: Options['handler'];
}): RequestHandler {
  const windowMs = rate.windowSeconds * 1000;
  const store: Store = {
    increment: (key) => attempts.record(key, windowMs, rate.limit).then(({ count, resetTime }) => ({ totalHits: count, resetTime })),
    decrement: (key) => attempts.forgetLatest(key),
    resetKey: (key) => attempts.forget(key),
  };
  return rateLimit({
    windowMs,
    limit: rate.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store,
    // Failed and successful attempts both count: the limit is on guessing, per address.
    handler,
  });
}
