/**
 * `npm run chaos`: a whole node as `npm start` runs it (PostgreSQL, the Temporal server, FerretDB on
 * PostgreSQL, the mail service, the worker, the API), driven through its API by a scenario of
 * several hundred assignments (submissions with files, returns, acceptances, extensions and
 * withdrawals) while a random one of worker, API, Temporal server, FerretDB and PostgreSQL is
 * SIGKILLed every few seconds and the supervisor starts it again. Then it checks what must hold
 * and prints one JSON line:
 *   kills          services killed, and by name;
 *   lost           transitions acknowledged to the client (2xx) that the assignment does not show;
 *   doubled        assignments with more than one `issued` entry, and emails (by their Message-ID,
 *                  derived from the outbox key) that reached the SMTP sink more than once, except
 *                  those SMTP cannot prevent: the worker SIGKILLed after the relay kept the message
 *                  and before the outbox recorded it (counted as doubled_emails_at_worker_kill);
 *   mismatched     assignments whose read model differs from the state the workflow answers;
 *   bad_files      evidence files whose bytes do not match their SHA-256 (or the bytes sent);
 *   server_errors  API answers 5xx other than 503 (503 is the answer during an outage).
 * Exits non-zero when any of lost, doubled, mismatched, bad_files or server_errors is not 0.
 *   CHAOS_RECOMMENDATIONS  recommendations issued to every municipality (default 15, 20 each)
 *   CHAOS_MIN_KILLS        kills at least (default 24)
 *   CHAOS_SEED             the random choices (default fixed)
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { seededRandom } from '../../bench/lib/random';
import { assignmentWorkflowId } from '../../domain/ids';
import { DEMO_DOMAIN } from '../../seed/demo';
import { MUNICIPAL_AUTHORITIES_GROUP, MUNICIPALITIES } from '../../seed/organizations';
import { assignmentStateQuery } from '../../workflows/definitions';
import { NODE_ADMIN, NODE_DEMO_PASSWORD, nodeTempDir, removeDir, startTestNode, type TestNode } from '../support/node-client';

const RECOMMENDATIONS = Number(process.env.CHAOS_RECOMMENDATIONS || 15);
const MIN_KILLS = Number(process.env.CHAOS_MIN_KILLS || 24);
const VICTIMS = ['worker', 'api', 'temporal', 'ferretdb', 'postgres'] as const;
/** How long one call may keep retrying through outages before the run gives up on it. */
const CALL_BUDGET_MS = 300_000;

const log = (line: string) => process.stderr.write(`chaos ${new Date().toISOString().slice(11, 19)} ${line}\n`);

const rand = seededRandom(Number(process.env.CHAOS_SEED || 20261204));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  body: any;
  /** The call was sent more than once: a 409 may mean an earlier attempt did it. */
  retried: boolean;
}

interface Ack {
  assignment: string;
  type: 'submitted' | 'returned' | 'accepted' | 'extension-requested' | 'extension-approved' | 'extension-rejected';
  evidenceId?: string;
  sha256?: string;
}

const counters = { serverErrors: 0, outageRetries: 0, calls: 0 };
const serverErrorSamples: string[] = [];

/**
 * One API call through outages: a refused connection, a timeout or a 503 is retried after a
 * second; any other 5xx is counted as a server error and retried too.
 */
async function call(node: TestNode, method: string, url: string, options: { token?: string; json?: unknown; form?: () => FormData } = {}): Promise<Answer> {
  const started = Date.now();
  let attempts = 0;
  for (;;) {
    attempts += 1;
    counters.calls += 1;
    try {
      const headers: Record<string, string> = {};
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(node.node.apiUrl + url, {
        method,
        headers,
        body: options.json !== undefined ? JSON.stringify(options.json) : options.form?.(),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      const body = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
      if (response.status < 500) return { status: response.status, body, retried: attempts > 1 };
      if (response.status === 503) counters.outageRetries += 1;
      else {
        counters.serverErrors += 1;
        if (serverErrorSamples.length < 10) serverErrorSamples.push(`${response.status} ${method} ${url}: ${text.slice(0, 200)}`);
      }
    } catch {
      counters.outageRetries += 1;
    }
    if (Date.now() - started > CALL_BUDGET_MS) throw new Error(`${method} ${url} did not succeed in ${CALL_BUDGET_MS / 1000} s`);
    await sleep(1_000);
  }
}

async function login(node: TestNode, email: string, password: string): Promise<string> {
  const answer = await call(node, 'POST', '/api/auth/login', { json: { email, password } });
  if (answer.status !== 200) throw new Error(`login ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.token as string;
}

async function listAll(node: TestNode, token: string, query: string): Promise<any[]> {
  const items: any[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await call(node, 'GET', `/api/assignments?${query}&limit=500&offset=${offset}`, { token });
    if (page.status !== 200) throw new Error(`list: ${page.status} ${JSON.stringify(page.body)}`);
    items.push(...page.body.items);
    if (page.body.items.length < 500) return items;
  }
}

/** Runs `work` over `items`, `parallel` at a time. */
async function pool<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function main() {
  const started = Date.now();
  // Every executor of the scenario logs in from this one address: more than the default ten a window.
  process.env.LOGIN_RATE_LIMIT = '1000';
  const temp = await nodeTempDir('chaos');
  log(`starting a node in ${temp}`);
  const node = await startTestNode(path.join(temp, 'data'), { backoff: { initialMs: 200, maxMs: 2_000 } });
  let failed = true;
  try {
    await node.waitReady();
    const admin = await login(node, NODE_ADMIN.email, NODE_ADMIN.password);
    const curator = await login(node, `curator@${DEMO_DOMAIN}`, NODE_DEMO_PASSWORD);

    // An executor in every municipality, to act for it.
    const executors = new Map<string, string>();
    for (const { code } of MUNICIPALITIES) {
      const email = `chaos.${code}@chaos.test`;
      const created = await call(node, 'POST', '/api/users', {
        token: admin,
        json: { email, name: `Исполнитель ${code}`, password: 'chaos-password', role: 'executor', organization: code },
      });
      if (created.status !== 201 && created.status !== 409) throw new Error(`user ${email}: ${created.status} ${JSON.stringify(created.body)}`);
      executors.set(code, await login(node, email, 'chaos-password'));
    }

    // The recommendations, issued before the kills begin.
    const recommendations: string[] = [];
    for (let i = 1; i <= RECOMMENDATIONS; i++) {
      const created = await call(node, 'POST', '/api/recommendations', {
        token: curator,
        json: {
          source: { kind: 'letter', number: `ch-${i}`, date: '2026-11-20' },
          text: `Представить отчёт о проведённой работе (проверка устойчивости, № ${i})`,
          groups: [MUNICIPAL_AUTHORITIES_GROUP],
          deadline: { due: '2099-06-30' },
          policy: { remindBefore: [], escalateAfter: [] },
        },
      });
      if (created.status !== 201) throw new Error(`recommendation ${i}: ${created.status} ${JSON.stringify(created.body)}`);
      const issued = await call(node, 'POST', `/api/recommendations/${created.body.id}/issue`, { token: curator });
      if (issued.status !== 200) throw new Error(`issue ${created.body.id}: ${issued.status} ${JSON.stringify(issued.body)}`);
      recommendations.push(created.body.id);
    }
    const ours = new Set(recommendations);
    const expected = RECOMMENDATIONS * MUNICIPALITIES.length;
    let assignments: any[] = [];
    for (let i = 0; i < 120 && assignments.length < expected; i++) {
      assignments = (await listAll(node, curator, '')).filter((a) => ours.has(a.recommendationId));
      if (assignments.length < expected) await sleep(1_000);
    }
    if (assignments.length < expected) throw new Error(`only ${assignments.length} of ${expected} assignments were issued`);
    log(`${assignments.length} assignments issued; the kills begin`);

    // The kills, until the scenario is done and there were enough of them.
    const kills: Record<string, number> = {};
    const workerKills: number[] = [];
    let killCount = 0;
    let scenarioDone = false;
    const killer = (async () => {
      while (!scenarioDone || killCount < MIN_KILLS) {
        await sleep(3_000 + rand() * 3_000);
        const name = VICTIMS[Math.floor(rand() * VICTIMS.length)];
        const service = node.node.supervisor.status().services.find((s) => s.name === name);
        if (service?.state !== 'running' || !service.pid) continue;
        try {
          process.kill(service.pid, 'SIGKILL');
        } catch {
          continue;
        }
        killCount += 1;
        kills[name] = (kills[name] ?? 0) + 1;
        if (name === 'worker') workerKills.push(Date.now());
        log(`kill ${killCount}: ${name} (pid ${service.pid})`);
      }
    })();

    // The scenario: each assignment takes one path, chosen by the seeded generator.
    const acks: Ack[] = [];
    const sent = new Map<string, Buffer>();
    const withdrawnLater = new Set(recommendations.slice(0, 2));
    const submit = async (a: any, token: string) => {
      const content = Buffer.from(`Отчёт ${a.id} ${rand().toString(36)}\n`.repeat(1 + Math.floor(rand() * 50)));
      const answer = await call(node, 'POST', `/api/assignments/${a.id}/submissions`, {
        token,
        form: () => {
          const form = new FormData();
          form.append('comment', `Отчёт об исполнении (${a.organization})`);
          form.append('files', new Blob([content], { type: 'text/plain' }), 'otchet.txt');
          return form;
        },
      });
      if (answer.status !== 200) return false;
      const sha256 = createHash('sha256').update(content).digest('hex');
      sent.set(answer.body.evidenceId, content);
      acks.push({ assignment: a.id, type: 'submitted', evidenceId: answer.body.evidenceId, sha256 });
      return true;
    };
    const review = async (a: any, decision: 'accept' | 'return') => {
      const answer = await call(node, 'POST', `/api/assignments/${a.id}/review`, {
        token: curator,
        json: decision === 'accept' ? { decision } : { decision, comment: 'Дополните отчёт таблицей показателей' },
      });
      if (answer.status === 200) acks.push({ assignment: a.id, type: decision === 'accept' ? 'accepted' : 'returned' });
      return answer.status === 200;
    };
    let done = 0;
    await pool(assignments, 4, async (a) => {
      if (++done % 50 === 0) log(`scenario: ${done} of ${assignments.length} assignments under way, ${acks.length} acknowledged`);
      const token = executors.get(a.organization)!;
      const withExtension = rand() < 0.2;
      if (withExtension) {
        const asked = await call(node, 'POST', `/api/assignments/${a.id}/extension-requests`, {
          token,
          json: { until: '2099-09-30', reason: 'Нужно больше времени на сбор данных' },
        });
        if (asked.status !== 200) return;
        acks.push({ assignment: a.id, type: 'extension-requested' });
        const approve = rand() < 0.6;
        const decided = await call(node, 'POST', `/api/assignments/${a.id}/extension-requests/decision`, {
          token: curator,
          json: approve ? { approve } : { approve, comment: 'Срок не продлевается' },
        });
        if (decided.status === 200) acks.push({ assignment: a.id, type: approve ? 'extension-approved' : 'extension-rejected' });
      }
      if (!(await submit(a, token))) return;
      const next = rand();
      if (next < 0.3) {
        if ((await review(a, 'return')) && (await submit(a, token))) await review(a, 'accept');
      } else if (next < 0.8) await review(a, 'accept');
    });
    // Two recommendations withdrawn at the end: their open assignments close as withdrawn.
    // The withdrawal closes what is still open; an assignment accepted before it stays accepted.
    const withdrawn = new Set<string>();
    for (const id of withdrawnLater) {
      const answer = await call(node, 'POST', `/api/recommendations/${id}/withdraw`, { token: curator, json: { reason: 'Отозвано при проверке устойчивости' } });
      if (answer.status === 200) withdrawn.add(id);
    }
    scenarioDone = true;
    log(`scenario done: ${acks.length} acknowledged transitions; waiting for the kills to reach ${MIN_KILLS}`);
    await killer;

    // Settled: ready, and every assignment's read model equal to its workflow's state.
    await node.waitReady('the node to be ready after the kills');
    const connection = await Connection.connect({ address: node.node.temporalAddress });
    const temporal = new Client({ connection });
    const stateOf = async (a: any) => {
      const handle = temporal.workflow.getHandle(assignmentWorkflowId({ recommendationId: a.recommendationId, organization: a.organization, cycle: a.cycle }));
      for (let attempt = 0; ; attempt++) {
        try {
          return await handle.query(assignmentStateQuery);
        } catch (error) {
          if (attempt >= 20) throw error;
          await sleep(1_000);
        }
      }
    };
    const details = new Map<string, any>();
    const mismatched = new Set<string>();
    const lostWithdrawals: string[] = [];
    const settleBy = Date.now() + 180_000;
    let pending = assignments;
    while (pending.length > 0) {
      const still: any[] = [];
      await pool(pending, 4, async (a) => {
        const [detail, state] = await Promise.all([call(node, 'GET', `/api/assignments/${a.id}`, { token: curator }), stateOf(a)]);
        details.set(a.id, detail.body);
        const view = detail.body;
        const same = view.status === state.status && view.submissions === state.submissions && view.returns === state.returns && Date.parse(view.due) === Date.parse(state.due);
        const closedIfWithdrawn = !withdrawn.has(a.recommendationId) || ['withdrawn', 'accepted'].includes(view.status);
        if (!same || !closedIfWithdrawn) still.push(a);
      });
      pending = still;
      if (pending.length === 0 || Date.now() > settleBy) break;
      await sleep(2_000);
    }
    for (const a of pending) {
      const view = details.get(a.id);
      if (withdrawn.has(a.recommendationId) && !['withdrawn', 'accepted'].includes(view.status)) lostWithdrawals.push(a.id);
      else mismatched.add(a.id);
    }

    // Acknowledged transitions, each present; one `issued` entry each; the files as sent.
    let lost = lostWithdrawals.length;
    const lostSamples: string[] = lostWithdrawals.slice(0, 5).map((id) => `${id}: its recommendation was withdrawn, the assignment is still open`);
    const byAssignment = new Map<string, Ack[]>();
    for (const ack of acks) byAssignment.set(ack.assignment, [...(byAssignment.get(ack.assignment) ?? []), ack]);
    let doubledIssued = 0;
    let badFiles = 0;
    for (const a of assignments) {
      const detail = details.get(a.id);
      const history: { type: string }[] = detail.history;
      if (history.filter((e) => e.type === 'issued').length !== 1) doubledIssued += 1;
      const mine = byAssignment.get(a.id) ?? [];
      for (const type of new Set(mine.map((m) => m.type))) {
        const acked = mine.filter((m) => m.type === type).length;
        const shown = history.filter((e) => e.type === type).length;
        if (shown < acked) {
          lost += acked - shown;
          if (lostSamples.length < 10) lostSamples.push(`${a.id}: ${type} acknowledged ${acked}, shown ${shown}`);
        }
      }
      for (const ack of mine.filter((m) => m.evidenceId)) {
        const evidence = detail.evidence.find((e: { id: string }) => e.id === ack.evidenceId);
        if (!evidence) {
          lost += 1;
          if (lostSamples.length < 10) lostSamples.push(`${a.id}: evidence ${ack.evidenceId} missing`);
          continue;
        }
        for (const file of evidence.files) {
          const download = await fetch(node.node.apiUrl + file.url.replace(/^https?:\/\/[^/]+/, ''), { headers: { authorization: `Bearer ${curator}` } });
          const bytes = Buffer.from(await download.arrayBuffer());
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          if (download.status !== 200 || sha256 !== file.sha256 || sha256 !== ack.sha256 || !bytes.equals(sent.get(ack.evidenceId!)!)) badFiles += 1;
        }
      }
    }

    // Emails that reached the sink twice, by Message-ID (one per outbox key).
    const mailDir = path.join(node.dataDir, 'mail');
    // The mail service names each file by the time it kept the message (2026-12-04T15-44-19-359Z-206.eml).
    const receivedAt = (file: string) => Date.parse(file.slice(0, 24).replace(/^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/, '$1:$2:$3.$4Z'));
    const copies = new Map<string, number[]>();
    for (const file of readdirSync(mailDir).filter((f) => f.endsWith('.eml'))) {
      const head = readFileSync(path.join(mailDir, file), 'utf8').split(/\r?\n\r?\n/)[0];
      const id = /^Message-ID:\s*(<[^>]+>)/im.exec(head)?.[1];
      if (id) copies.set(id, [...(copies.get(id) ?? []), receivedAt(file)]);
    }
    // A second copy is what SMTP allows when the worker dies after the relay kept the message and
    // before the outbox recorded it (at least once; one Message-ID). Any other is a fault.
    const doubles = [...copies.values()].filter((times) => times.length > 1);
    const atWorkerKill = doubles.filter((times) => workerKills.some((kill) => kill >= Math.min(...times) - 1_000 && kill <= Math.min(...times) + 5_000));
    const doubledEmails = doubles.length - atWorkerKill.length;

    const result = {
      kills: killCount,
      kills_by_service: kills,
      assignments: assignments.length,
      acknowledged: acks.length + withdrawn.size,
      lost,
      doubled: doubledIssued + doubledEmails,
      doubled_issued: doubledIssued,
      doubled_emails: doubledEmails,
      doubled_emails_at_worker_kill: atWorkerKill.length,
      emails: copies.size,
      mismatched: mismatched.size,
      bad_files: badFiles,
      server_errors: counters.serverErrors,
      outage_retries: counters.outageRetries,
      calls: counters.calls,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(JSON.stringify(result));
    for (const line of [...lostSamples, ...serverErrorSamples, ...[...mismatched].slice(0, 10).map((id) => `mismatched: ${id}`)]) log(line);
    failed = result.lost + result.doubled + result.mismatched + result.bad_files + result.server_errors > 0;
    await connection.close();
  } finally {
    await node.stop();
    if (!failed) await removeDir(temp);
    else log(`the node's data and logs are kept in ${temp}`);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
