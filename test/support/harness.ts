/**
 * A real Kontrol for one test file: the API and (by default) a worker in this process, against the
 * Temporal dev server and FerretDB started by the global setup, with a database and a task queue
 * of its own so test files never see each other's data. HTTP goes over a real socket.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../config';
import { createLogger } from '../../config/logger';
import { startApi, type RunningApi } from '../../api/server';
import { createUser } from '../../api/users/router';
import { digestScheduleId, redeliveryScheduleId } from '../../workers/schedules';
import { startWorker, type RunningWorker } from '../../workers/worker';
import type { Role } from '../../domain/roles';
import { readStackInfo } from './stack-info';

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
  raw: Buffer;
}

export interface Harness {
  config: Config;
  api: RunningApi;
  worker?: RunningWorker;
  /** Environment a separately spawned worker process needs to join this harness. */
  env: Record<string, string>;
  request<T = any>(method: string, url: string, options?: { token?: string; json?: unknown; form?: FormData; headers?: Record<string, string> }): Promise<HttpResult<T>>;
  login(email: string, password?: string): Promise<string>;
  /** Signs in through the login page, as a browser does; returns the session cookie (`name=value`). */
  pageCookie(email: string, password?: string): Promise<string>;
  /** Creates an organisation and a user of each role (an executor in that organisation); returns their tokens. */
  seedUsers(): Promise<Record<'admin' | 'curator' | 'observer' | 'executor' | 'otherExecutor', string>>;
  createUser(email: string, role: Role, organization?: string): Promise<void>;
  startWorker(): Promise<RunningWorker>;
  stop(): Promise<void>;
}

export const PASSWORD = 'correct-horse-battery';

export async function startHarness(name: string, options: { worker?: boolean; env?: Record<string, string> } = {}): Promise<Harness> {
  const stack = readStackInfo();
  const suffix = randomBytes(4).toString('hex');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `kontrol-${name}-`));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${name}-${suffix}`,
    MONGODB_URI: `${stack.mongoUri}/kontrol_${name.replace(/[^a-z0-9]/gi, '_')}_${suffix}`,
    SMTP_URL: stack.smtpUrl ?? 'smtp://127.0.0.1:1',
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOGIN_RATE_LIMIT: '10000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, `test-${name}`);
  const workers: RunningWorker[] = [];
  const launchWorker = async () => {
    const w = await startWorker(config, logger, { workflowBundlePath: stack.workflowBundlePath });
    workers.push(w);
    return w;
  };
  let worker: RunningWorker | undefined;
  let api: RunningApi;
  try {
    worker = options.worker === false ? undefined : await launchWorker();
    api = await startApi(config, logger);
  } catch (error) {
    // A half-started harness must not leave a polling worker behind to keep Jest alive.
    for (const w of workers) await w.shutdown().catch(() => undefined);
    throw error;
  }

  const request: Harness['request'] = async (method, url, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | FormData | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof opts.json === 'string' ? opts.json : JSON.stringify(opts.json);
    } else if (opts.form) body = opts.form;
    const response = await fetch(api.url + url, { method, headers, body });
    const raw = Buffer.from(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    const parsed = type.includes('application/json') && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8');
    return { status: response.status, body: parsed, headers: response.headers, raw };
  };

  const login = async (email: string, password = PASSWORD) => {
    const res = await request('POST', '/api/auth/login', { json: { email, password } });
    if (res.status !== 200) throw new Error(`login ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  };

  // With an https BASE_URL the session cookie is Secure: the requests come as through the TLS proxy
  // that such a node sits behind (the harness must trust loopback as a proxy: TRUST_PROXY).
  const proxied: Record<string, string> = config.baseUrl.startsWith('https:') ? { 'x-forwarded-proto': 'https' } : {};
  const pageCookie = async (email: string, password = PASSWORD) => {
    const form = await fetch(`${api.url}/login`, { headers: proxied });
    const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0];
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const res = await fetch(`${api.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...proxied, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, email, password }).toString(),
    });
    if (res.status !== 303) throw new Error(`login ${email}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    return (res.headers.get('set-cookie') ?? cookie).split(';')[0];
  };

  const harness: Harness = {
    config,
    api,
    worker,
    env,
    request,
    login,
    pageCookie,
    async createUser(email, role, organization) {
      await createUser(api.db.repos, { email, name: `${role} ${email}`, password: PASSWORD, role, organization });
    },
    async seedUsers() {
      const repos = api.db.repos;
      for (const code of ['org-a', 'org-b', 'org-c']) {
        await repos.organizations.create({
          _id: code,
          name: `Организация ${code.toUpperCase()}`,
          kind: 'municipality',
          groups: ['municipal-education-authorities'],
          contacts: { coordinator: [`coordinator@${code}.test`], head: [`head@${code}.test`] },
        });
      }
      await repos.organizations.create({ _id: 'rcro', name: 'РЦРО', kind: 'authority', groups: [], contacts: { coordinator: [], head: [] } });
      await harness.createUser('admin@kontrol.test', 'admin');
      await harness.createUser('curator@kontrol.test', 'curator', 'rcro');
      await harness.createUser('observer@kontrol.test', 'observer');
      await harness.createUser('executor@org-a.test', 'executor', 'org-a');
      await harness.createUser('executor@org-b.test', 'executor', 'org-b');
      return {
        admin: await login('admin@kontrol.test'),
        curator: await login('curator@kontrol.test'),
        observer: await login('observer@kontrol.test'),
        executor: await login('executor@org-a.test'),
        otherExecutor: await login('executor@org-b.test'),
      };
    },
    startWorker: launchWorker,
    async stop() {
      // The schedules a worker of this harness created would go on firing on the shared server.
      for (const id of [digestScheduleId(config.TEMPORAL_TASK_QUEUE), redeliveryScheduleId(config.TEMPORAL_TASK_QUEUE)]) {
        await api.temporal.schedule.getHandle(id).delete().catch(() => undefined);
      }
      await api.close().catch(() => undefined);
      for (const w of workers) await w.shutdown().catch(() => undefined);
      // Dropping through a fresh connection: the API's is closed by now.
      const { connectDatabase } = await import('../../store/db');
      const db = await connectDatabase(config.MONGODB_URI!, { timezone: config.TIMEZONE, syncIndexes: false });
      await db.connection.dropDatabase().catch(() => undefined);
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Polls until the check returns a value other than undefined, or fails after the timeout. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
