/**
 * Whole nodes for the stack tests: a node as `npm start` runs it, in a temporary DATA_DIR on free
 * ports, and a small HTTP client for its API.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freeNodePorts, startNode, type KontrolNode, type NodePorts } from '../../stack/node';
import { eventually } from './harness';

export const NODE_ADMIN = { email: 'admin@node.test', password: 'node-test-admin' };
export const NODE_DEMO_PASSWORD = 'node-test-demo';

export interface TestNode {
  node: KontrolNode;
  ports: NodePorts;
  dataDir: string;
  /** The node's log lines (the supervisor's, in Russian). */
  lines: string[];
  call<T = any>(method: string, url: string, options?: { token?: string; json?: unknown; form?: FormData }): Promise<{ status: number; body: T }>;
  login(email: string, password?: string): Promise<string>;
  waitReady(what?: string): Promise<void>;
  stop(): Promise<void>;
}

/** A temporary directory PostgreSQL's own user can enter (the tests may run as root). */
export async function nodeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kontrol-${prefix}-`));
  await chmod(dir, 0o755);
  return dir;
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export async function startTestNode(dataDir: string, options: { backoff?: { initialMs?: number; maxMs?: number }; demo?: boolean } = {}): Promise<TestNode> {
  const lines: string[] = [];
  const ports = await freeNodePorts();
  const node = await startNode({
    dataDir,
    ports,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: NODE_ADMIN.email,
      ADMIN_PASSWORD: NODE_ADMIN.password,
      DEMO_DATA: options.demo === false ? 'false' : 'true',
      DEMO_PASSWORD: NODE_DEMO_PASSWORD,
    },
    log: (line) => lines.push(line),
    ui: true,
    backoff: options.backoff,
  });
  const call: TestNode['call'] = async (method, url, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(node.apiUrl + url, {
      method,
      headers,
      body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.form,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    return { status: response.status, body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
  // The API seeds the demo users just after it starts listening: a first login may come early.
  const login = (email: string, password = NODE_DEMO_PASSWORD) =>
    eventually(
      async () => {
        const res = await call('POST', '/api/auth/login', { json: { email, password } });
        if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.token as string;
      },
      60_000,
      `login as ${email}`,
    );
  const waitReady = async (what = 'the node to be ready') => {
    await eventually(async () => ((await call('GET', '/readyz').catch(() => undefined))?.status === 200 ? true : undefined), 180_000, what);
  };
  return { node, ports, dataDir, lines, call, login, waitReady, stop: () => node.stop() };
}

export interface AssignmentsSnapshot {
  assignments: Array<{ id: string; status: string; organization: string }>;
  recommendations: number;
}

/** Every assignment the token sees, sorted by id, and the number of recommendations. */
export async function snapshotAssignments(n: TestNode, token: string): Promise<AssignmentsSnapshot> {
  const assignments: AssignmentsSnapshot['assignments'] = [];
  for (let page = 0; ; page++) {
    const res = await n.call('GET', `/api/assignments?limit=100&offset=${page * 100}`, { token });
    if (res.status !== 200) throw new Error(`list: ${res.status}`);
    assignments.push(...res.body.items.map((a: AssignmentsSnapshot['assignments'][number]) => ({ id: a.id, status: a.status, organization: a.organization })));
    if (assignments.length >= res.body.total || res.body.items.length === 0) break;
  }
  const recs = await n.call('GET', '/api/recommendations?limit=100', { token });
  return { assignments: assignments.sort((a, b) => a.id.localeCompare(b.id)), recommendations: recs.body.total };
}

/** A snapshot once the demo's background issuing has settled: the same twice, two seconds apart. */
export async function settledSnapshot(n: TestNode, token: string, atLeast: number): Promise<AssignmentsSnapshot> {
  let previous = '';
  return eventually(
    async () => {
      const snapshot = await snapshotAssignments(n, token);
      const key = JSON.stringify(snapshot);
      const settled = snapshot.assignments.length >= atLeast && key === previous;
      previous = key;
      if (!settled) await new Promise((r) => setTimeout(r, 2_000));
      return settled ? snapshot : undefined;
    },
    180_000,
    `at least ${atLeast} assignments, settled`,
  );
}
