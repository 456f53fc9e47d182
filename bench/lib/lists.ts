/**
 * Latency of every list and page route, each as the role that uses it: JSON API calls with a
 * Bearer token, pages with a cookie session opened through the login form (with its CSRF token),
 * as a browser would. Routes are sampled round-robin, so a busy moment of the machine falls on
 * all of them alike; a slow route gets fewer samples (a time budget each, and one in all past a
 * threshold) rather than stretching the run. A route that fails (the API answers 500 when a
 * database call outlasts its 60 s socket timeout) is reported with its error and the time it
 * took, not sampled again, and does not stop the run.
 */
import { performance } from 'node:perf_hooks';
import { round, summarize, type LatencySummary } from './stats';

export interface Route {
  /** How it is reported: `GET /api/assignments?status=submitted (curator)`. */
  name: string;
  path: string;
  /** A Bearer token (API) or a session cookie (pages). */
  auth: { token: string } | { cookie: string };
}

/** Logs in through the page form as a browser does; returns the session cookie. */
export async function pageSession(baseUrl: string, email: string, password: string): Promise<string> {
  const form = await fetch(`${baseUrl}/login`, { redirect: 'manual' });
  const first = (form.headers.get('set-cookie') ?? '').split(';')[0];
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!first || !csrf) throw new Error(`login page for ${email}: no session cookie or CSRF token (HTTP ${form.status})`);
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: first, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
  });
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`page login ${email}: HTTP ${res.status}`);
  return (res.headers.get('set-cookie') ?? first).split(';')[0];
}

/** The API gives up on a database call after 60 s (socketTimeoutMS in store/db.ts): wait longer than that for its answer. */
const REQUEST_TIMEOUT_MS = 90_000;

/** One request, timed to the last byte of the body; `error` says why when the answer is not a 200. */
export async function timedGet(baseUrl: string, route: Route): Promise<{ ms: number; bytes: number; error?: string }> {
  const headers: Record<string, string> = 'token' in route.auth ? { authorization: `Bearer ${route.auth.token}` } : { cookie: route.auth.cookie, accept: 'text/html' };
  const started = performance.now();
  try {
    const res = await fetch(baseUrl + route.path, { headers, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = await res.arrayBuffer();
    const ms = performance.now() - started;
    if (res.status === 200) return { ms, bytes: body.byteLength };
    const text = Buffer.from(body).toString('utf8');
    const message = /<p[^>]*>([^<]{1,200})<\/p>/.exec(text)?.[1] ?? text.slice(0, 200);
    return { ms, bytes: body.byteLength, error: `HTTP ${res.status}: ${message.trim()}` };
  } catch (error) {
    const ms = performance.now() - started;
    return { ms, bytes: 0, error: error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS} ms` : String(error) };
  }
}

export interface RouteLatency extends LatencySummary {
  max: number;
  kb: number;
  /** Set when a request of this route failed (a 500 after the database timed out, say); sampling it stopped there. */
  error?: string;
  /** Database calls one request made (the median over the samples), when the plan counts them. */
  dbCalls?: number;
}

export interface ListLatencies {
  byRoute: Record<string, RouteLatency>;
  seconds: number;
}

export interface SamplingPlan {
  /** Samples a fast route gets at most. */
  maxSamples: number;
  /** Samples every route gets at least, time allowing. */
  minSamples: number;
  /** Time per route after which a route with minSamples stops. */
  budgetMs: number;
  /** A route whose first request takes longer is sampled once: its figure is clear, and more would stretch the run. */
  onceAboveMs: number;
  /** After this, every slow route (first request over a second) with one sample stops. */
  totalBudgetMs: number;
  progress?: (message: string) => void;
  /**
   * How many database calls the API has made so far (a counter it keeps). Requests are sequential,
   * so its growth over one request is that request's calls: a figure no busy machine changes.
   */
  dbCalls?: () => number;
}

/**
 * The first request of each route warms it up (first compilation of the view, first plan of the
 * query) and is not counted, unless it took over a second: then warming up is a rounding error
 * and the sample too dear to throw away. Then the quick routes (first request under a second) are
 * sampled round-robin until each has its samples, then the slow ones, round-robin, until each has
 * minSamples or the total budget (counted from the start, warm-up included) is spent: taken
 * together, a slow route would leave the quick ones a sample or two each.
 */
export async function measureRoutes(baseUrl: string, routes: Route[], plan: SamplingPlan): Promise<ListLatencies> {
  const started = performance.now();
  const samples = new Map<string, number[]>(routes.map((r) => [r.name, []]));
  const spent = new Map<string, number>(routes.map((r) => [r.name, 0]));
  const bytes = new Map<string, number>();
  const errors = new Map<string, string>();
  const firstMs = new Map<string, number>();
  const calls = new Map<string, number[]>(routes.map((r) => [r.name, []]));
  const get = async (route: Route) => {
    const before = plan.dbCalls?.() ?? 0;
    const result = await timedGet(baseUrl, route);
    calls.get(route.name)!.push((plan.dbCalls?.() ?? 0) - before);
    return result;
  };
  const record = (route: Route, result: { ms: number; error?: string }) => {
    samples.get(route.name)!.push(result.ms);
    spent.set(route.name, spent.get(route.name)! + result.ms);
    if (result.error) {
      errors.set(route.name, result.error);
      plan.progress?.(`lists: ${route.name} failed after ${Math.round(result.ms)} ms: ${result.error}`);
    }
  };
  for (const route of routes) {
    const first = await get(route);
    bytes.set(route.name, first.bytes);
    firstMs.set(route.name, first.ms);
    if (first.ms > 1_000 || first.error) record(route, first);
  }
  const quick = routes.filter((r) => firstMs.get(r.name)! <= 1_000);
  const slow = routes.filter((r) => firstMs.get(r.name)! > 1_000);
  const done = (route: Route) => {
    const n = samples.get(route.name)!.length;
    if (errors.has(route.name) || n >= plan.maxSamples || (firstMs.get(route.name)! > plan.onceAboveMs && n >= 1)) return true;
    // The quick ones always get theirs (a second at most each past their budget).
    if (slow.includes(route) && n >= 1 && performance.now() - started > plan.totalBudgetMs) return true;
    return n >= plan.minSamples && spent.get(route.name)! >= plan.budgetMs;
  };
  for (const group of [quick, slow]) {
    for (let round = 1; group.some((r) => !done(r)); round++) {
      for (const route of group) if (!done(route)) record(route, await get(route));
      if (round % 20 === 0) plan.progress?.(`lists: round ${round}, ${group.filter((r) => !done(r)).length} routes still sampling`);
    }
  }
  const byRoute: Record<string, RouteLatency> = {};
  for (const route of routes) {
    const list = samples.get(route.name)!;
    const error = errors.get(route.name);
    const dbCalls = plan.dbCalls ? summarize(calls.get(route.name)!).p50 : undefined;
    byRoute[route.name] = {
      ...summarize(list),
      max: round(Math.max(...list), 1),
      kb: round(bytes.get(route.name)! / 1024, 1),
      ...(error ? { error } : {}),
      ...(dbCalls === undefined ? {} : { dbCalls }),
    };
  }
  return { byRoute, seconds: (performance.now() - started) / 1000 };
}

/** The worst route's p99: every route has to meet a target for it to be met. */
export function worstOf(byRoute: Record<string, RouteLatency>): { p99: number; route: string } {
  const [route, latency] = Object.entries(byRoute).reduce((a, b) => (b[1].p99 > a[1].p99 ? b : a));
  return { p99: latency.p99, route };
}
