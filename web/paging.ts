/** Pages of a long list on the web pages: `?page=N` and the links to the neighbours. */
import type { Request } from 'express';

export const PAGE_SIZE = 50;

/** `?page=N` (from 1) of a list; `param` names it where a page has two lists. */
export function pageOf(req: Request, param = 'page'): { page: number; offset: number } {
  const page = Math.min(Math.max(Number.parseInt(String(req.query[param] ?? '1'), 10) || 1, 1), 10_000);
  return { page, offset: (page - 1) * PAGE_SIZE };
}

/** Links to the previous and next pages of a list, keeping its other query parameters. */
export function pager(req: Request, { page }: { page: number }, total: number, param = 'page') {
  const link = (n: number) => {
    const query = new URLSearchParams(req.query as Record<string, string>);
    query.set(param, String(n));
    return `${req.path}?${query.toString()}`;
  };
  return { prev: page > 1 ? link(page - 1) : null, next: page * PAGE_SIZE < total ? link(page + 1) : null, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) };
}
