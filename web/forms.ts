/** Small pieces every page module uses: async handlers, form values, Russian names of choices. */
import type { Request, RequestHandler, Response } from 'express';
import type { NotificationPolicy } from '../domain/policy';
import { PolicySchema } from '../api/policy/schema';
import { formKey, idempotent } from '../api/idempotency';
import type { Repositories } from '../store/repositories';
import { russianErrors } from '../api/validate';

/** An async page handler whose errors reach the pages' error handler. */
export const page =
  (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req, res, next) =>
    void fn(req, res).catch(next);

/**
 * A form sent twice (a double click, a reload that sends it again) acts once: put after the
 * route's sign-in, role and CSRF checks (after multer on upload forms), it answers a repeat of
 * the form's `_idem` key as the first request was answered (api/idempotency.ts).
 */
export const formOnce = (repos: Pick<Repositories, 'idempotency'>): RequestHandler => idempotent({ store: repos.idempotency, keyOf: formKey });

/** A form field that may come once, several times (checkboxes) or not at all, as a list. */
export const asArray = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : value === undefined || value === '' ? [] : [String(value)];

export const FREQUENCY_RU: Record<string, string> = { yearly: 'ежегодно', quarterly: 'ежеквартально', monthly: 'ежемесячно', interval: 'с интервалом' };

/** A notification policy typed as JSON, checked as the API checks it; errors are sentences to show. */
export function readPolicyJson(text: string): { policy: NotificationPolicy } | { errors: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { errors: ['Политика: это не JSON — проверьте скобки и кавычки'] };
  }
  const parsed = PolicySchema.safeParse(value, { error: russianErrors });
  if (parsed.success) return { policy: parsed.data };
  return { errors: parsed.error.issues.map((i) => `Политика${i.path.length ? `, ${i.path.join('.')}` : ''}: ${i.message}`) };
}
