/**
 * Page sessions: a cookie holding only a random session id (HttpOnly, SameSite=Lax, Secure behind
 * https), the session itself in MongoDB, so logging out ends it on the server and every API process
 * sees the same sessions. The JSON API keeps its Bearer tokens and never reads this cookie.
 *
 * CSRF: every state-changing page request carries the session's synchroniser token (a hidden
 * `_csrf` field, or the `x-csrf-token` header from the upload script).
 */
import type { RequestHandler } from 'express';
import session from 'express-session';
import MongoStore from 'connect-mongo';
import { csrfSync } from 'csrf-sync';
import type mongoose from 'mongoose';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** One message shown on the next page: what the last action did, or why it was refused. */
    flash?: { kind: 'ok' | 'error'; text: string };
  }
}

export const SESSION_COOKIE = 'kontrol.sid';

export function sessionMiddleware({
  connection,
  secret,
  secure,
  ttlSeconds,
  sweepMinutes = 10,
}: {
  connection: mongoose.Connection;
  secret: string;
  secure: boolean;
  ttlSeconds: number;
  /** How often each API process deletes the sessions that have expired. */
  sweepMinutes?: number;
}): RequestHandler {
  return session({
    name: SESSION_COOKIE,
    secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: ttlSeconds * 1000 },
    store: MongoStore.create({
      client: connection.getClient() as never,
      dbName: connection.db?.databaseName,
      collectionName: 'sessions',
      ttl: ttlSeconds,
      // Expired sessions are never read back (the store checks `expires`), and they are deleted
      // every few minutes, so the collection holds the live ones only. A sweep rather than a TTL
      // index: FerretDB does not expire documents by index.
      autoRemove: 'interval',
      autoRemoveInterval: sweepMinutes,
      stringify: false,
    }),
  });
}

export const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const header = req.headers['x-csrf-token'];
    if (typeof header === 'string') return header;
    const body = req.body as { _csrf?: unknown } | undefined;
    return typeof body?._csrf === 'string' ? body._csrf : undefined;
  },
  errorConfig: { statusCode: 403, message: 'Форма устарела: обновите страницу и повторите', code: 'csrf' },
});
