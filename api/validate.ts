/**
 * One middleware applies a route's zod schemas to params, query and body; handlers then read
 * parsed, typed values from req. Unknown query and body fields are rejected, not ignored: route
 * schemas are strict objects, because a misspelt field silently dropped reads as accepted.
 */
import type { RequestHandler } from 'express';
import type { ParamsDictionary } from 'express-serve-static-core';
import { z } from 'zod';
import { validationError } from './errors';

interface Schemas<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params?: P;
  query?: Q;
  body?: B;
}

/** Zod's own messages, for checks that carry none of ours, in Russian like every message the API sends. */
export const russianErrors = z.locales.ru().localeError;

export function validate<
  P extends z.ZodType = z.ZodType<ParamsDictionary>,
  Q extends z.ZodType = z.ZodType<unknown>,
  B extends z.ZodType = z.ZodType<unknown>,
>(schemas: Schemas<P, Q, B>): RequestHandler<z.infer<P>, unknown, z.infer<B>, z.infer<Q>> {
  return (req, _res, next) => {
    const issues: z.core.$ZodIssue[] = [];
    const parse = <S extends z.ZodType>(schema: S | undefined, value: unknown, where: string) => {
      if (!schema) return value;
      const result = schema.safeParse(value ?? {}, { error: russianErrors });
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

/** Query strings arrive as text; these read them as the types the routes mean. */
/**
 * A calendar date YYYY-MM-DD that exists (no 2024-02-30, no 0000-00-00), from 1900 to 9999: every
 * date a person types into the API, checked here once so that no route meets an invalid Date.
 */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'дата в виде ГГГГ-ММ-ДД')
  .refine((d) => {
    const time = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(time) && d >= '1900-01-01' && new Date(time).toISOString().startsWith(d);
  }, 'нет такой даты');

export const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');
export const pagination = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};
