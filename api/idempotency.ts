/**
 * Idempotency keys on requests that change something: a repeat of a request (a double click on
 * «Создать и выдать», a client that retries after its answer was lost) is answered as the first
 * one was and changes nothing. store/idempotency.ts keeps the keys.
 *
 * - The JSON API takes the key in the `Idempotency-Key` header (as Stripe's API and the IETF
 *   httpapi draft do), on every POST, PUT, PATCH and DELETE; without one a request is simply run.
 * - The pages put a fresh key in every form they show (`_idem`, the `idempotencyKey` view helper):
 *   a form sent twice carries the same key, the same form shown again a new one.
 *
 * A repeat that comes while the first request still runs waits for its answer (up to `waitMs`).
 * The same key with another request (another path or body) is refused with 422. A request that
 * is refused (4xx) or fails (5xx) gives its key back, so a corrected form can be sent again. One
 * whose process died before it answered keeps its key until the key expires: a repeat is told
 * the request is still running, and the page shown again carries a new key.
 * The middlewares on npm take the key from a header only and keep it in memory or Redis; forms
 * cannot set headers without a script, and the keys here live in the node's own store.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Idempotency, IdempotentAnswer } from '../store/idempotency';
import { AppError } from './errors';

/** Printable ASCII, 1 to 255 characters: what the header may carry and a form key is. */
const KEY = /^[\x21-\x7e]{1,255}$/;
/** Fields of a form that are not part of what it asks for. */
const NOT_THE_REQUEST = new Set(['_csrf', '_idem']);
const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface IdempotencyOptions {
  store: Idempotency;
  /** The request's key, if it carries one. */
  keyOf(req: Request): string | undefined;
  /** How long a repeat waits for the first request's answer before it is told to wait. */
  waitMs?: number;
  /** Told when an answer could not be recorded (the key then stays taken until it expires). */
  onError?(error: unknown): void;
}

/** The API's key: the `Idempotency-Key` header of a request that changes something. */
export const headerKey = (req: Request) => (CHANGES.has(req.method) ? req.get('idempotency-key') : undefined);

/** A page form's key: its `_idem` field (read once the body is, so after multer on upload forms). */
export const formKey = (req: Request) => {
  const value = (req.body as { _idem?: unknown } | undefined)?._idem;
  return typeof value === 'string' ? value : undefined;
};

/** What makes two requests the same request: method, path and query, and the body (files by name and size); the store keeps its hash. */
function requestOf(req: Request): string {
  const body = req.body && typeof req.body === 'object' ? Object.fromEntries(Object.entries(req.body as Record<string, unknown>).filter(([k]) => !NOT_THE_REQUEST.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : null;
  const files = ((req.files as Express.Multer.File[] | undefined) ?? []).map((f) => [f.originalname, f.size]);
  return JSON.stringify([req.method, req.originalUrl, body, files]);
}

function replay(req: Request, res: Response, answer: IdempotentAnswer): void {
  res.set('Idempotent-Replayed', 'true');
  if (answer.flash && req.session) req.session.flash = answer.flash;
  // A page's answer, a redirect: through res.redirect, which saves the session first (web/router.ts).
  if (answer.json === undefined && answer.location) return res.redirect(answer.status, answer.location);
  if (answer.location) res.location(answer.location);
  res.status(answer.status);
  if (answer.json !== undefined) res.type('application/json').send(answer.json);
  else res.end();
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function idempotent(options: IdempotencyOptions): RequestHandler {
  const { store, keyOf, waitMs = 15_000 } = options;
  return async (req, res, next) => {
    try {
      const key = keyOf(req);
      if (key === undefined) return next();
      if (!KEY.test(key)) throw new AppError(400, 'bad_idempotency_key', 'Ключ идемпотентности должен состоять из 1–255 латинских букв, цифр или знаков без пробелов');
      const owner = req.actor?.id ?? 'anonymous';
      const request = requestOf(req);
      let state = await store.take(owner, key, request);
      for (const until = Date.now() + waitMs; state.kind === 'running' && Date.now() < until; ) {
        await pause(150);
        state = await store.take(owner, key, request);
      }
      if (state.kind === 'other-request') throw new AppError(422, 'idempotency_key_reused', 'Этот ключ идемпотентности уже использован для другого запроса');
      if (state.kind === 'running') throw new AppError(409, 'request_in_progress', 'Этот запрос ещё выполняется: подождите немного и обновите страницу');
      if (state.kind === 'answered') return replay(req, res, state.answer);

      // This request holds the key: record its answer, or give the key back if it is refused or fails.
      let json: string | undefined;
      const sendJson = res.json.bind(res);
      res.json = (body: unknown) => {
        json = JSON.stringify(body);
        return sendJson(body);
      };
      let settled = false;
      const settle = (answered: boolean) => {
        if (settled) return;
        settled = true;
        const location = res.getHeader('location');
        const flash = req.session?.flash;
        const done = answered
          ? store.answer(owner, key, {
              status: res.statusCode,
              ...(typeof location === 'string' ? { location } : {}),
              ...(json !== undefined ? { json } : {}),
              ...(flash ? { flash } : {}),
            })
          : store.release(owner, key);
        done.catch((error: unknown) => options.onError?.(error));
      };
      // Settled when the answer is handed over, not when it is delivered: a double click cancels the
      // first request in the browser, whose work goes on and whose answer the second one replays.
      const end = res.end as (...args: unknown[]) => Response;
      res.end = function (this: Response, ...args: unknown[]) {
        settle(res.statusCode < 400);
        return end.apply(this, args);
      } as Response['end'];
      next();
    } catch (error) {
      next(error);
    }
  };
}
