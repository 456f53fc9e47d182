/** Small pieces every page module uses: async handlers, form values, Russian names of choices. */
import type { Request, RequestHandler, Response } from 'express';

/** An async page handler whose errors reach the pages' error handler. */
export const page =
  (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req, res, next) =>
    void fn(req, res).catch(next);

/** A form field that may come once, several times (checkboxes) or not at all, as a list. */
export const asArray = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : value === undefined || value === '' ? [] : [String(value)];

export const FREQUENCY_RU: Record<string, string> = { yearly: 'ежегодно', quarterly: 'ежеквартально', monthly: 'ежемесячно', interval: 'с интервалом' };
