/** A minimal HTTP client for the API over a real socket, timing each call to the last body byte. */
import { performance } from 'node:perf_hooks';

export interface HttpResult<T = any> {
  status: number;
  body: T;
  /** From just before the request is sent to the whole response body read. */
  ms: number;
}

export interface RequestOptions {
  token?: string;
  json?: unknown;
  form?: FormData;
  /** Default 120 s: an API that stops answering fails the run instead of hanging it. */
  timeoutMs?: number;
}

export type Http = <T = any>(method: string, url: string, options?: RequestOptions) => Promise<HttpResult<T>>;

export function httpClient(baseUrl: string): Http {
  return async (method, url, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) body = options.form;
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? 120_000;
    let response: Response;
    let text: string;
    try {
      response = await fetch(baseUrl + url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') throw new Error(`${method} ${url}: no answer within ${timeoutMs} ms`);
      throw error;
    }
    const ms = performance.now() - started;
    const type = response.headers.get('content-type') ?? '';
    const parsed = type.includes('application/json') && text.length > 0 ? JSON.parse(text) : text;
    return { status: response.status, body: parsed, ms };
  };
}

/** Fails the run with the request, the status and the API's answer when the status is not the expected one. */
export function expectStatus<T>(result: HttpResult<T>, expected: number, what: string): HttpResult<T> {
  if (result.status !== expected) {
    const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
    throw new Error(`${what}: expected HTTP ${expected}, got ${result.status}: ${body.slice(0, 500)}`);
  }
  return result;
}
