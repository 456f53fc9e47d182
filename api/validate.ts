/**
 * One middleware applies a route's zod schemas to params, query and body; handlers then read
 * parsed, typed values from req. Unknown query and body fields are rejected, not ignored: route
 * schemas are strict objects, because a misspelt field silently dropped reads as accepted.
 */
import type { RequestHandler } from 'express';
import type { ParamsDictionary } from 'express-serve-static-core';
import { z } from 'zod';
import { pluralRu } from '../domain/russian';
import { validationError } from './errors';
import { russianErrors } from './russian-errors';

interface Schemas<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params?: P;
  query?: Q;
  body?: B;
}

export { russianErrors } from './russian-errors';

export function validate<
  P extends z.ZodType = z.ZodType<ParamsDictionary>,
  Q extends z.ZodType = z.ZodType<unknown>,
  B extends z.ZodType = z.ZodType<unknown>,
>(schemas: Schemas<P, Q, B>): RequestHandler<z.infer<P>, unknown, z.infer<B>, z.infer<Q>> {
  return (req, _res, next) => {
    const issues: z.core.$ZodIssue[] = [];
    const parse = <S extends z.ZodType>(schema: S | undefined, value: unknown, where: string) => {
      if (!schema) return value;
      const result = schema.safeParse(withoutNul(value ?? {}), { error: russianErrors });
      if (result.success) return result.data;
      for (const issue of result.error.issues) issues.push({ ...issue, path: [where, ...issue.path] });
      return value;
    };
    const params = parse(schemas.params, req.params, 'params');
    const query = parse(schemas.query, req.query, 'query');
    const body = parse(schemas.body, req.body, 'body');
    if (issues.length > 0) return next(validationError(new z.ZodError(issues)));
    req.params = params as z.infer<P>;
    // Express 5 exposes req.query as a getter; shadow it with the parsed value.
    Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true, enumerable: true });
    req.body = body as z.infer<B>;
    next();
  };
}

/**
 * A calendar date YYYY-MM-DD that exists (no 2024-02-30, no 0000-00-00), from 1900 to 9999: every
 * date a person types into the API, checked here once so that no route meets an invalid Date. The
 * document says the same: `format: date` with the pattern of the years taken.
 */
const ISO_DATE_PATTERN = /^(?:19\d\d|[2-9]\d{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;
const isRealDate = (d: string) => {
  const time = Date.parse(`${d.slice(0, 10)}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(d.slice(0, 10));
};
export const isoDate = z
  .string()
  .regex(ISO_DATE_PATTERN, 'дата в виде ГГГГ-ММ-ДД, год не раньше 1900')
  .refine(isRealDate, 'нет такой даты')
  .meta({ format: 'date' });

/**
 * A deadline as the API takes one: a date (the end of that day in the authority's zone) or a
 * date-time with seconds and an offset, from 1900 to LAST_DEADLINE_YEAR (2100). The document
 * gives both forms with their patterns.
 */
const DEADLINE_DAY = '(?:19\\d\\d|20\\d\\d|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])';
const DEADLINE_DATE = new RegExp(`^${DEADLINE_DAY}$`);
const DEADLINE_DATE_TIME = new RegExp(`^${DEADLINE_DAY}T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,3})?(?:Z|[+-](?:0\\d|1[0-4]):[0-5]\\d)$`);
/** A deadline given as a date only (the calendar's "where does this date fall" question). */
export const deadlineDate = z
  .string()
  .regex(DEADLINE_DATE, 'дата в виде ГГГГ-ММ-ДД, год от 1900 до 2100')
  .refine(isRealDate, 'нет такой даты')
  .meta({ format: 'date' });
export const deadlineInput = (message: string) =>
  z
    .string()
    .refine((d) => (DEADLINE_DATE.test(d) || DEADLINE_DATE_TIME.test(d)) && isRealDate(d), message)
    .meta({
      anyOf: [
        { format: 'date', pattern: DEADLINE_DATE.source },
        { format: 'date-time', pattern: DEADLINE_DATE_TIME.source },
      ],
    });

/**
 * Text a person writes: trimmed, with at least `min` characters left after trimming. The document
 * carries the same rule as a pattern (a string is taken as it is sent, spaces around it included,
 * up to `max`), so what it promises and what is accepted are one rule.
 */
export function text({ min = 0, max, message }: { min?: number; max: number; message?: string }) {
  const base = z.string().max(max);
  if (min === 0) return base.trim();
  const pattern = min === 1 ? /\S/ : new RegExp(`^\\s*\\S[\\s\\S]{${min - 2},}\\S\\s*$`);
  return base.regex(pattern, message ?? `не меньше ${min} ${pluralRu(min, ['знака', 'знаков', 'знаков'])}`).trim();
}

/** Query strings arrive as text; these read them as the types the routes mean. */
export const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');
export const MAX_OFFSET = 1_000_000;
/** A whole number in a query string: digits only (not "", not "1e3"), within the bounds. */
export const queryInt = ({ min, max }: { min: number; max: number }) =>
  z.preprocess((v) => (typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : v), z.number().int().min(min).max(max));
export const pagination = {
  limit: queryInt({ min: 1, max: 500 }).default(50),
  offset: queryInt({ min: 0, max: MAX_OFFSET }).default(0),
};

/**
 * NUL cannot be stored as text by PostgreSQL (FerretDB's backend), and means nothing in a name or a
 * comment: every NUL a client sends becomes U+FFFD, the character for "unreadable", so the rest of
 * what was written is kept and the lengths the schemas check stay what the client sent.
 */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)])) as T;
  }
  return value;
}
