/**
 * Benchmark (`npm run bench`, or `npx tsx bench/issue-and-submit.ts --n=50`): how fast Kontrol
 * issues one recommendation to N organisations compared with Temporal starting N empty workflows
 * on the same server, how long a submission and a list request take, and how much memory the
 * worker process needs. Progress goes to stderr; stdout gets exactly one JSON line. See README.md.
 *
 * Order of the phases (fairness): both workloads are warmed up first (workflow bundles loaded,
 * V8 and connections warm), then the baseline is measured, then the app. The app's worker process
 * runs, idle, during the baseline, and the baseline's in-process worker idles during the app
 * phase, so each phase runs next to the same background processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { startApi, type RunningApi } from '../api/server';
import { loadConfig } from '../config';
import { FIRST_CYCLE, assignmentWorkflowId, recommendationWorkflowId } from '../domain/ids';
import { spawnProcess, type ManagedProcess } from '../stack/processes';
import { expectStatus, httpClient, type Http } from './lib/http';
import { TreeMemorySampler } from './lib/proc-memory';
import { startServices } from './lib/services';
import { round, summarize, type LatencySummary } from './lib/stats';
import { issuedAuditId, watchIssued } from './lib/issued';
import { inParallel, log, waitForCount } from './lib/util';
import { trivialWorkflow } from './workflows/trivial';

const ROOT = path.resolve(__dirname, '..');
const WORKER_SCRIPT = 'workers/main.ts';
/** As many starts in flight as the app's issuing activity keeps (CONCURRENCY in workers/activities/issuing.ts). */
const START_CONCURRENCY = 8;
const PASSWORD = 'bench-password-not-secret';
const NAMESPACE = 'default';
const WARM_ORGS = 4;
const WARM_BARE = 16;
/** Below FerretDB's limit of about 100 matched documents per update command, with room to spare. */

// Stdout carries the result line and nothing else; a library printing there would break it.
console.log = console.error;
console.info = console.error;

class UsageError extends Error {}

interface Options {
  n: number;
  executors: number;
  listSamples: number;
}

const USAGE = 'usage: tsx bench/issue-and-submit.ts [--n=500] [--executors=50] [--list-samples=100]  (or BENCH_N, BENCH_EXECUTORS)';

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    const match = /^--(n|executors|list-samples)=(.*)$/.exec(arg);
    if (!match) throw new UsageError(`unknown argument "${arg}"\n${USAGE}`);
    flags.set(match[1], match[2]);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${raw}"\n${USAGE}`);
    return value;
  };
  // The API accepts at most 5000 addressees per recommendation.
  const n = int('--n', flags.get('n') ?? env.BENCH_N ?? '500', 1, 5000);
  const executors = int('--executors', flags.get('executors') ?? env.BENCH_EXECUTORS ?? String(Math.min(50, n)), 1, n);
  const listSamples = int('--list-samples', flags.get('list-samples') ?? '100', 1, 100_000);
  return { n, executors, listSamples };
}

export interface BenchResult {
  n: number;
  executors: number;
  issue_batch_size: number;
  issue_per_s: number;
  bare_start_per_s: number;
  ratio_issue_vs_bare: number;
  issue_s: number;
  bare_s: number;
  issue_request_ms: number;
  submit_ms: LatencySummary;
  list_ms: LatencySummary;
  worker_peak_rss_mb: number;
  worker_ready_rss_mb: number;
  temporal: string;
  mongo: string;
  wall_s: number;
}

/** Everything started is stopped in reverse order, on success, failure or Ctrl-C alike. */
const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
const onCleanup = (what: string, run: () => Promise<unknown>) => cleanups.push({ what, run });

async function runCleanups(): Promise<void> {
  for (const { what, run } of cleanups.splice(0).reverse()) {
    try {
      await run();
    } catch (error) {
      log(`cleanup "${what}" failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

const mb = (kb: number) => round(kb / 1024, 1);

async function login(http: Http, email: string): Promise<string> {
  const res = expectStatus(await http<{ token: string }>('POST', '/api/auth/login', { json: { email, password: PASSWORD } }), 200, `login ${email}`);
  return res.body.token;
}

/** Fails the wait at once, with the worker's last output, if the worker process has died. */
function aliveGuard(worker: ManagedProcess): () => void {
  return () => {
    const status = worker.exitStatus;
    if (status) {
      throw new Error(`the worker process exited (code ${status.code}, signal ${status.signal}); its last output:\n${worker.logTail(4_000)}`);
    }
  };
}

/**
 * The baseline: `count` trivial workflows started with START_CONCURRENCY starts in flight, the
 * results awaited as they are started (the app does not wait for one assignment before starting
 * the next either). Returns the seconds from the first start to the last completion.
 */
async function runBare(client: Client, taskQueue: string, count: number, label: string): Promise<number> {
  const ids = Array.from({ length: count }, (_, i) => `bench-bare/${label}/${i}`);
  const failures: unknown[] = [];
  const completions: Array<Promise<void>> = [];
  const started = performance.now();
  await inParallel(ids, START_CONCURRENCY, async (workflowId) => {
    const handle = await client.workflow.start(trivialWorkflow, { taskQueue, workflowId });
    // Handled at once: a rejection left for Promise.all later would count as unhandled meanwhile.
    completions.push(handle.result().then(() => undefined, (error: unknown) => void failures.push(error)));
  });
  const timeoutMs = 60_000 + 200 * count;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    Promise.all(completions).then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) throw new Error(`baseline: ${count} trivial workflows did not all complete within ${timeoutMs} ms`);
  if (failures.length > 0) throw new Error(`baseline: ${failures.length} trivial workflows failed, first: ${String(failures[0])}`);
  return (performance.now() - started) / 1000;
}

async function main(options: Options): Promise<BenchResult> {
  const wallStarted = performance.now();
  const { n, executors, listSamples } = options;
  const suffix = randomBytes(4).toString('hex');
  log(`n=${n} executors=${executors} list samples=${listSamples}, run ${suffix}`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'kontrol-bench-'));
  // BENCH_KEEP_DIR=1 keeps the services' and the worker's logs for a post-mortem.
  if (process.env.BENCH_KEEP_DIR === '1') log(`keeping ${dir}`);
  else onCleanup('temp dir', () => rm(dir, { recursive: true, force: true }));
  // The SDK's own logs to stderr, warnings and up; must precede the first NativeConnection.
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const services = await startServices(dir, `kontrol_bench_${suffix}`);
  onCleanup('services', () => services.stop());

  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TEMPORAL_TASK_QUEUE: `bench-app-${suffix}`,
    MONGODB_URI: services.mongoUri,
    JWT_SECRET: randomBytes(32).toString('hex'),
    // Every executor logs in from the same address within a minute.
    LOGIN_RATE_LIMIT: '1000000',
    ADMIN_EMAIL: 'admin@bench.kontrol.test',
    ADMIN_PASSWORD: PASSWORD,
  };
  // The caller's environment may tune the app (e.g. ISSUE_BATCH_SIZE); ours wins where both set.
  const appEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  const appConfig = loadConfig(appEnv);

  // The API in this process, logging to stderr (createLogger would write to stdout).
  const api: RunningApi = await startApi(appConfig, pino({ name: 'api', level: 'warn' }, pino.destination(2)));
  onCleanup('api', () => api.close());
  if (services.mongo === 'external') onCleanup('drop database', () => api.db.connection.dropDatabase());
  const http = httpClient(api.url);
  log(`api at ${api.url}`);

  // The worker as production runs it: its own process, through tsx.
  const worker = spawnProcess({
    name: 'worker',
    command: process.execPath,
    args: [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), WORKER_SCRIPT],
    cwd: ROOT,
    env: appEnv,
    logFile: path.join(dir, 'worker.log'),
  });
  onCleanup('worker process', async () => {
    // Longer than the worker's own 30 s forced exit, so a clean drain is never cut short.
    await worker.stop(35_000);
    const status = worker.exitStatus;
    if (status && (status.code !== 0 || status.signal)) log(`worker exited uncleanly after SIGTERM (code ${status.code}, signal ${status.signal})`);
  });
  const workerAlive = aliveGuard(worker);
  log(`worker process ${worker.pid} started`);

  // The baseline's bare worker and client, in this process, against the same Temporal server.
  const bareQueue = `bench-bare-${suffix}`;
  const nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
  onCleanup('bare worker connection', () => nativeConnection.close());
  const bareWorker = await Worker.create({
    connection: nativeConnection,
    namespace: NAMESPACE,
    taskQueue: bareQueue,
    workflowsPath: require.resolve('./workflows/trivial'),
  });
  let bareWorkerError: unknown;
  const bareRun = bareWorker.run().catch((error: unknown) => void (bareWorkerError = error));
  onCleanup('bare worker', async () => {
    if (bareWorker.getState() === 'RUNNING') bareWorker.shutdown();
    await bareRun;
  });
  const clientConnection = await Connection.connect({ address: services.temporalAddress });
  onCleanup('client connection', () => clientConnection.close());
  const client = new Client({ connection: clientConnection, namespace: NAMESPACE });
  // On a shared Temporal server nothing of ours may keep running (with timers until 2099).
  const appWorkflowIds: string[] = [];
  if (services.temporal === 'external') {
    onCleanup('terminate app workflows', () =>
      inParallel(appWorkflowIds, START_CONCURRENCY, async (id) => {
        await client.workflow.getHandle(id).terminate('benchmark finished').catch(() => undefined);
      }),
    );
  }

  await waitForCount(async () => ((await http('GET', '/readyz')).status === 200 ? 1 : 0), 1, {
    what: 'the worker to poll its task queue (/readyz)',
    timeoutMs: 180_000,
    intervalMs: 250,
    guard: workerAlive,
  });
  const memory = new TreeMemorySampler(worker.pid!);
  onCleanup('memory sampler', async () => memory.stop());
  // Before any work: the part of the peak that is the worker's start (tsx, workflow bundling).
  const readyMemory = memory.current(WORKER_SCRIPT);
  log(`worker ready: RSS ${mb(readyMemory.rssKb)} MB, peak so far ${mb(readyMemory.hwmKb)} MB`);

  // --- Organisations and users, through the API as an administrator would create them.
  const admin = await login(http, env.ADMIN_EMAIL);
  const orgs = Array.from({ length: n }, (_, i) => `bench-${String(i + 1).padStart(5, '0')}`);
  const warmOrgs = Array.from({ length: WARM_ORGS }, (_, i) => `bench-warm-${i + 1}`);
  const seeded = performance.now();
  await inParallel([...orgs, ...warmOrgs, 'bench-authority'], START_CONCURRENCY, async (code) => {
    const authority = code === 'bench-authority';
    const res = await http('POST', '/api/organizations', {
      token: admin,
      json: {
        code,
        name: authority ? 'Бенчмарк: уполномоченный орган' : `Бенчмарк: организация ${code}`,
        kind: authority ? 'authority' : 'municipality',
        groups: authority ? [] : ['bench'],
        contacts: { coordinator: [`coordinator@${code}.bench.test`], head: [`head@${code}.bench.test`] },
      },
    });
    expectStatus(res, 201, `create organisation ${code}`);
  });
  const executorOrgs = orgs.slice(0, executors);
  const users = [
    { email: 'curator@bench.kontrol.test', role: 'curator', organization: 'bench-authority' },
    ...[...executorOrgs, warmOrgs[0]].map((code) => ({ email: `executor@${code}.bench.test`, role: 'executor', organization: code })),
  ];
  // Fewer lanes: each user costs a deliberately slow password hash, on creation and on login.
  await inParallel(users, 4, async (user) => {
    const res = await http('POST', '/api/users', { token: admin, json: { ...user, name: `Бенчмарк ${user.email}`, password: PASSWORD } });
    expectStatus(res, 201, `create user ${user.email}`);
  });
  const curator = await login(http, 'curator@bench.kontrol.test');
  const executorTokens = new Map<string, string>();
  await inParallel([...executorOrgs, warmOrgs[0]], 4, async (code) => {
    executorTokens.set(code, await login(http, `executor@${code}.bench.test`));
  });
  log(`created ${orgs.length + warmOrgs.length + 1} organisations and ${users.length} users, logged in (${((performance.now() - seeded) / 1000).toFixed(1)} s)`);

  const createRecommendation = async (assignees: string[], label: string) => {
    const res = await http<{ id: string }>('POST', '/api/recommendations', {
      token: curator,
      json: {
        source: { kind: 'protocol', number: `bench-${suffix}`, date: '2024-01-15', title: 'Протокол (бенчмарк)' },
        text: `Бенчмарк (${label}): представить отчёт об исполнении рекомендации`,
        assignees,
        // Far ahead: no deadline timer fires while the benchmark runs.
        deadline: { due: '2099-12-31' },
      },
    });
    const id = expectStatus(res, 201, `create recommendation (${label})`).body.id;
    appWorkflowIds.push(recommendationWorkflowId(id), ...assignees.map((organization) => assignmentWorkflowId({ recommendationId: id, organization, cycle: FIRST_CYCLE })));
    return id;
  };
  type Issued = { assignments: Array<{ id: string; organization: string }> };
  const issue = async (id: string, label: string) =>
    expectStatus(await http<Issued>('POST', `/api/recommendations/${id}/issue`, { token: curator }), 200, `issue (${label})`);

  const submit = async (assignmentId: string, organization: string, i: number) => {
    const form = new FormData();
    form.append('comment', `Рекомендация исполнена, отчёт № ${i} прилагается`);
    // Distinct content per submission: files are stored by digest, and a repeat would skip the write.
    const content = Buffer.from(`Отчёт № ${i} организации ${organization}\n${'x'.repeat(1024)}\n${randomBytes(8).toString('hex')}\n`);
    form.append('files', new Blob([content], { type: 'text/plain' }), `otchet-${i}.txt`);
    const res = await http<{ status: string }>('POST', `/api/assignments/${assignmentId}/submissions`, { token: executorTokens.get(organization), form });
    expectStatus(res, 200, `submit ${assignmentId}`);
    if (res.body.status !== 'submitted') throw new Error(`submit ${assignmentId}: status is ${res.body.status}, expected submitted`);
    return res.ms;
  };
  const list = async () => {
    const res = expectStatus(await http<{ items: unknown[]; total: number }>('GET', '/api/assignments?limit=50', { token: curator }), 200, 'list assignments');
    if (res.body.items.length !== Math.min(50, res.body.total)) throw new Error(`list: ${res.body.items.length} items of ${res.body.total}`);
    return res.ms;
  };

  // --- Warm-up, not measured: first workflow tasks, first activities, first uploads and lists.
  await runBare(client, bareQueue, WARM_BARE, `${suffix}/warm`);
  const warmId = await createRecommendation(warmOrgs, 'warm-up');
  const warmIssue = await issue(warmId, 'warm-up');
  await watchIssued(api.db.models.audit, warmId, warmIssue.body.assignments.map((a) => a.id), 'the warm-up recommendation').wait({ timeoutMs: 60_000, guard: workerAlive });
  const warmAssignment = warmIssue.body.assignments.find((a) => a.organization === warmOrgs[0])!;
  await submit(warmAssignment.id, warmOrgs[0], 0);
  for (let i = 0; i < 3; i++) await list();
  log('warmed up');

  // --- Throughput, baseline first: N trivial workflows on a bare worker.
  log(`baseline: starting ${n} trivial workflows, ${START_CONCURRENCY} starts in flight`);
  const bareSeconds = await runBare(client, bareQueue, n, `${suffix}/measure`);
  if (bareWorkerError) throw new Error(`the baseline worker failed: ${String(bareWorkerError)}`);
  log(`baseline: ${n} completed in ${bareSeconds.toFixed(2)} s (${(n / bareSeconds).toFixed(1)}/s)`);

  // --- Throughput, the app: one recommendation to all N, from the issue request until every
  // assignment workflow has run and projected its 'issued' entry.
  workerAlive();
  const recId = await createRecommendation(orgs, 'measured');
  log(`app: issuing recommendation ${recId} to ${n} organisations`);
  const issueStarted = performance.now();
  const issued = await issue(recId, 'measured');
  const issueRequestMs = performance.now() - issueStarted;
  if (issued.body.assignments.length !== n) throw new Error(`issue returned ${issued.body.assignments.length} assignments, expected ${n}`);
  const watch = watchIssued(
    api.db.models.audit,
    recId,
    issued.body.assignments.map((a) => a.id),
    `recommendation ${recId}` + (services.mongo === 'ferretdb-sqlite' ? ' (FerretDB may be deadlocked on a large bulk update: see bench/README.md)' : ''),
  );
  const checks = await watch.wait({
    timeoutMs: 120_000 + 1_000 * n,
    guard: workerAlive,
    progress: (count) => log(`app: ${count}/${n} issued`),
  });
  const issueSeconds = (performance.now() - issueStarted) / 1000;
  log(`app: ${n} issued in ${issueSeconds.toFixed(2)} s (${(n / issueSeconds).toFixed(1)}/s; the issue request itself took ${issueRequestMs.toFixed(0)} ms)`);
  // The checks compete with the worker for the database. Their wall time is mostly queueing
  // behind the worker's writes; what they cost the database shows in a repeat on the quiet one.
  const quietCount = performance.now();
  await watch.count();
  const quietLookup = performance.now();
  await api.db.models.audit.exists({ _id: issuedAuditId(issued.body.assignments[0].id) }).exec();
  const done = performance.now();
  log(
    `app: progress took ${checks.lookups} lookups (${(checks.lookupMs / checks.lookups).toFixed(1)} ms each under load, ${(done - quietLookup).toFixed(1)} ms quiet)` +
      ` and ${checks.counts} counts (${(checks.countMs / checks.counts).toFixed(0)} ms each under load, ${(quietLookup - quietCount).toFixed(0)} ms quiet)`,
  );
  const extra = (await watch.count()) - n;
  if (extra > 0) log(`WARNING: ${extra} more 'issued' entries than assignments: an assignment was issued twice`);

  // --- Latency: one submission per executor, one after another.
  const assignmentOf = new Map(issued.body.assignments.map((a) => [a.organization, a.id]));
  const submitMs: number[] = [];
  for (const [i, organization] of executorOrgs.entries()) {
    workerAlive();
    submitMs.push(await submit(assignmentOf.get(organization)!, organization, i + 1));
  }
  const submitSummary = summarize(submitMs);
  log(`submit: p50 ${submitSummary.p50} ms, p99 ${submitSummary.p99} ms over ${submitSummary.samples}`);

  // --- Latency: the curator's first page of assignments.
  const listMs: number[] = [];
  for (let i = 0; i < listSamples; i++) listMs.push(await list());
  const listSummary = summarize(listMs);
  log(`list: p50 ${listSummary.p50} ms, p99 ${listSummary.p99} ms over ${listSummary.samples}`);

  // --- The worker's memory, read before it is stopped.
  workerAlive();
  const { worker: workerMemory, tree } = memory.finish(WORKER_SCRIPT);
  for (const m of tree) log(`memory: pid ${m.pid} peak ${mb(m.hwmKb)} MB (sampled peak ${mb(m.sampledPeakKb)} MB, now ${mb(m.rssKb)} MB): ${m.cmdline.slice(0, 160)}`);
  // VmHWM is the kernel's exact peak; where it is missing the sampled one is the best we have.
  const workerPeakKb = workerMemory.hwmKb || workerMemory.sampledPeakKb;
  log(`worker peak RSS ${mb(workerPeakKb)} MB (pid ${workerMemory.pid})`);

  return {
    n,
    executors,
    issue_batch_size: appConfig.ISSUE_BATCH_SIZE,
    issue_per_s: round(n / issueSeconds, 1),
    bare_start_per_s: round(n / bareSeconds, 1),
    ratio_issue_vs_bare: round(bareSeconds / issueSeconds, 3),
    issue_s: round(issueSeconds, 2),
    bare_s: round(bareSeconds, 2),
    issue_request_ms: round(issueRequestMs, 1),
    submit_ms: submitSummary,
    list_ms: listSummary,
    worker_peak_rss_mb: mb(workerPeakKb),
    worker_ready_rss_mb: mb(readyMemory.rssKb),
    temporal: services.temporal,
    mongo: services.mongo,
    wall_s: round((performance.now() - wallStarted) / 1000, 1),
  };
}

let finishing = false;
async function finish(code: number, line?: string): Promise<void> {
  if (finishing) return;
  finishing = true;
  await runCleanups();
  if (line !== undefined) await new Promise<void>((resolve) => process.stdout.write(`${line}\n`, () => resolve()));
  // Exit explicitly: a library's lingering handle must not keep a finished benchmark alive.
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping everything`);
    void finish(130);
  });
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
main(options).then(
  (result) => {
    log('done');
    return finish(0, JSON.stringify(result));
  },
  (error: unknown) => {
    // Interrupted: the run fails because its services are being stopped, which says nothing new.
    if (finishing) return;
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return finish(1);
  },
);
