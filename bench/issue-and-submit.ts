/**
 * Benchmark (`npm run bench`, or `npx tsx bench/issue-and-submit.ts --n=50`), on the production
 * profile (PostgreSQL, the Temporal server on it, FerretDB on PostgreSQL, the worker from dist/):
 * how fast Kontrol issues one recommendation to N organisations against Temporal starting N empty
 * workflows and N minimal "reference" assignments on the same server, whether that rate holds to
 * the end, how long a submission takes, how long every list and page takes with 20,000 assignments
 * in the read model, and how much memory the worker needs with N open assignments. Progress goes
 * to stderr; stdout gets exactly one JSON line. See README.md.
 *
 * Order of the phases (fairness): all three workloads are warmed up first (workflow code loaded,
 * V8 and connections warm), then measured one after the other: bare, reference, app. Each runs
 * next to the same idle processes (the app's worker idles during the first two, the benchmark's
 * own worker during the third).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import mongoose from 'mongoose';
import pino from 'pino';
import { startApi, type RunningApi } from '../api/server';
import { loadConfig } from '../config';
import { resolveDeadline } from '../domain/deadline';
import { FIRST_CYCLE, assignmentWorkflowId, recommendationWorkflowId } from '../domain/ids';
import { WORKER_NODE_FLAGS } from '../stack/node';
import { digestScheduleId, redeliveryScheduleId } from '../workers/schedules';
import { spawnProcess, type ManagedProcess } from '../stack/processes';
import { loadCalendar } from '../store/calendar';
import { ensureBuilt } from './lib/build';
import { expectStatus, httpClient, type Http } from './lib/http';
import { watchIssued } from './lib/issued';
import { measureRoutes, pageSession, timedGet, worstOf, type Route } from './lib/lists';
import { cpuMeter } from './lib/proc-cpu';
import { TreeMemorySampler } from './lib/proc-memory';
import { ReferenceTracker, createReferenceActivities, runReference, type ReferenceRow } from './lib/reference';
import { seedReadModel } from './lib/seed';
import { startServices } from './lib/services';
import { decileRates, round, summarize } from './lib/stats';
import { inParallel, log, waitForCount } from './lib/util';
import { trivialWorkflow } from './workflows/trivial';

const ROOT = path.resolve(__dirname, '..');
/** The worker as a node runs it (stack/node.ts): compiled, with the bundle `npm run build` wrote, and its V8 limits. */
const WORKER_SCRIPT = 'dist/workers/main.js';
/** As many starts in flight as the app's issuing activity keeps (CONCURRENCY in workers/activities/issuing.ts). */
const START_CONCURRENCY = 8;
const PASSWORD = 'bench-password-not-secret';
const NAMESPACE = 'default';
const WARM_ORGS = 4;
const WARM_BARE = 16;
/** The small recommendations go to this many organisations, as protocol items go to the municipalities. */
const SMALL_RECOMMENDATION_ORGS = 40;
/** Besides the one the run issues: recommendations addressed to every organisation. */
const BIG_RECOMMENDATIONS = 3;

const TARGETS = {
  issue_rate_last_vs_first_decile: { target: '>= 0.8', met: (v: number) => v >= 0.8 },
  ratio_issue_vs_reference: { target: '>= 0.5', met: (v: number) => v >= 0.5 },
  list_p99_ms_at_20k: { target: '<= 100', met: (v: number) => v <= 100 },
  worker_peak_rss_mb: { target: '<= 300', met: (v: number) => v <= 300 },
} as const;

// Stdout carries the result line and nothing else; a library printing there would break it.
console.log = console.error;
console.info = console.error;

class UsageError extends Error {}

interface Options {
  n: number;
  executors: number;
  /** Assignments in the read model for the list latencies. */
  listTotal: number;
  /** At most this many samples per route (and at least 5; a slow route stops after its time budget). */
  listSamples: number;
  listBudgetMs: number;
  /** The list routes stop taking further samples after this, each with one at least. */
  listTotalBudgetMs: number;
  build: boolean;
}

const USAGE =
  'usage: tsx bench/issue-and-submit.ts [--n=2300] [--executors=50] [--list-total=20000] [--list-samples=100] [--list-budget-ms=5000] [--list-total-budget-s=120] [--build]  (or BENCH_N, BENCH_EXECUTORS)';

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    if (arg === '--build') {
      flags.set('build', '1');
      continue;
    }
    const match = /^--(n|executors|list-total|list-samples|list-budget-ms|list-total-budget-s)=(.*)$/.exec(arg);
    if (!match) throw new UsageError(`unknown argument "${arg}"\n${USAGE}`);
    flags.set(match[1], match[2]);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${raw}"\n${USAGE}`);
    return value;
  };
  // The API accepts at most 5000 addressees per recommendation.
  const n = int('--n', flags.get('n') ?? env.BENCH_N ?? '2300', 1, 5000);
  const executors = int('--executors', flags.get('executors') ?? env.BENCH_EXECUTORS ?? String(Math.min(50, n)), 1, n);
  const listTotal = int('--list-total', flags.get('list-total') ?? '20000', 0, 200_000);
  const listSamples = int('--list-samples', flags.get('list-samples') ?? '100', 5, 100_000);
  const listBudgetMs = int('--list-budget-ms', flags.get('list-budget-ms') ?? '5000', 0, 600_000);
  const listTotalBudgetMs = 1000 * int('--list-total-budget-s', flags.get('list-total-budget-s') ?? '120', 0, 3600);
  return { n, executors, listTotal, listSamples, listBudgetMs, listTotalBudgetMs, build: flags.has('build') };
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

const cpuProfileFlags = (dir: string | undefined) => (dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : []);

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

async function main(options: Options) {
  const wallStarted = performance.now();
  const { n, executors } = options;
  const suffix = randomBytes(4).toString('hex');
  log(`n=${n} executors=${executors} list total=${options.listTotal}, run ${suffix}`);

  // The worker and the mail service run from dist/: it must be there and current.
  const built = ensureBuilt(ROOT, { force: options.build });

  const dir = await mkdtemp(path.join(os.tmpdir(), 'kontrol-bench-'));
  // BENCH_KEEP_DIR=1 keeps the services' and the worker's logs for a post-mortem.
  if (process.env.BENCH_KEEP_DIR === '1') log(`keeping ${dir}`);
  else onCleanup('temp dir', () => rm(dir, { recursive: true, force: true }));
  // The SDK's own logs to stderr, warnings and up; must precede the first NativeConnection.
  // The Rust core's lines too: left alone it prints them to stdout, which carries only the result.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } } });

  // The benchmark's own workflows are bundled while the services start.
  const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: log, error: log };
  const [services, benchBundle] = await Promise.all([
    startServices(dir, `kontrol_bench_${suffix}`, ROOT),
    bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quiet }),
  ]);
  onCleanup('services', () => services.stop());
  const production = !services.external.temporal && !services.external.mongo;

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
    SMTP_URL: services.smtpUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    // Production requires it. Plain http, as the benchmark talks to the API: with https the session
    // cookie would be Secure and never come back over http.
    BASE_URL: 'http://127.0.0.1',
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
  // The worker creates the digest and delivery-lane schedules for its queue: on an external
  // Temporal they would go on firing after the run.
  onCleanup('schedules', async () => {
    for (const id of [digestScheduleId(appConfig.TEMPORAL_TASK_QUEUE), redeliveryScheduleId(appConfig.TEMPORAL_TASK_QUEUE)]) {
      await api.temporal.schedule.getHandle(id).delete().catch(() => undefined);
    }
  });
  if (services.external.mongo) onCleanup('drop database', () => api.db.connection.dropDatabase());
  const http = httpClient(api.url);
  log(`api at ${api.url}`);

  // The worker as a node runs it: its own process, compiled, with the prebuilt workflow bundle.
  const worker = spawnProcess({
    name: 'worker',
    command: process.execPath,
    // BENCH_WORKER_CPU_PROF=<dir> writes the worker's V8 CPU profile there when it exits.
    args: [...WORKER_NODE_FLAGS, ...cpuProfileFlags(process.env.BENCH_WORKER_CPU_PROF), '--enable-source-maps', WORKER_SCRIPT],
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

  // The benchmark's own worker (trivial and reference workflows), in this process, on the same
  // server and database, with the app's workflow cache size.
  const benchQueue = `bench-own-${suffix}`;
  const referenceDb = await mongoose.createConnection(services.mongoUri, { serverSelectionTimeoutMS: 10_000, bufferCommands: false }).asPromise();
  onCleanup('reference database connection', () => referenceDb.close());
  const tracker = new ReferenceTracker();
  const nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
  onCleanup('bench worker connection', () => nativeConnection.close());
  const benchWorker = await Worker.create({
    connection: nativeConnection,
    namespace: NAMESPACE,
    taskQueue: benchQueue,
    workflowBundle: { code: benchBundle.code },
    maxCachedWorkflows: appConfig.WORKER_MAX_CACHED_WORKFLOWS,
    activities: createReferenceActivities({ rows: referenceDb.db!.collection<ReferenceRow>('bench_reference'), written: tracker.written }),
  });
  let benchWorkerError: unknown;
  const benchRun = benchWorker.run().catch((error: unknown) => void (benchWorkerError = error));
  onCleanup('bench worker', async () => {
    if (benchWorker.getState() === 'RUNNING') benchWorker.shutdown();
    await benchRun;
  });
  const clientConnection = await Connection.connect({ address: services.temporalAddress });
  onCleanup('client connection', () => clientConnection.close());
  const client = new Client({ connection: clientConnection, namespace: NAMESPACE });
  // On a shared Temporal server nothing of ours may keep running (timers until 2099 and beyond).
  const openWorkflowIds: string[] = [];
  if (services.external.temporal) {
    onCleanup('terminate open workflows', () =>
      inParallel(openWorkflowIds, START_CONCURRENCY, async (id) => {
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
  // Before any work: what the worker's start costs.
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
  const curatorEmail = 'curator@bench.kontrol.test';
  const users = [
    { email: curatorEmail, role: 'curator', organization: 'bench-authority' },
    ...[...executorOrgs, warmOrgs[0]].map((code) => ({ email: `executor@${code}.bench.test`, role: 'executor', organization: code })),
  ];
  // Fewer lanes: each user costs a deliberately slow password hash, on creation and on login.
  await inParallel(users, 4, async (user) => {
    const res = await http('POST', '/api/users', { token: admin, json: { ...user, name: `Бенчмарк ${user.email}`, password: PASSWORD } });
    expectStatus(res, 201, `create user ${user.email}`);
  });
  const curator = await login(http, curatorEmail);
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
      timeoutMs: 300_000,
    });
    const id = expectStatus(res, 201, `create recommendation (${label})`).body.id;
    openWorkflowIds.push(recommendationWorkflowId(id), ...assignees.map((organization) => assignmentWorkflowId({ recommendationId: id, organization, cycle: FIRST_CYCLE })));
    return id;
  };
  type Issued = { assignments: Array<{ id: string; organization: string }> };
  const issue = async (id: string, label: string) =>
    expectStatus(await http<Issued>('POST', `/api/recommendations/${id}/issue`, { token: curator, timeoutMs: 300_000 }), 200, `issue (${label})`);

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

  // --- Warm-up, not measured: first workflow tasks, first activities, first uploads.
  await runBare(client, benchQueue, WARM_BARE, `${suffix}/warm`);
  const warmReference = await runReference(client, tracker, { taskQueue: benchQueue, count: WARM_BARE, label: `${suffix}-warm`, concurrency: START_CONCURRENCY, timeoutMs: 60_000 });
  openWorkflowIds.push(...warmReference.workflowIds);
  const warmId = await createRecommendation(warmOrgs, 'warm-up');
  const warmIssue = await issue(warmId, 'warm-up');
  await watchIssued(api.db.models.audit, warmId, warmIssue.body.assignments.map((a) => a.id), 'the warm-up recommendation').wait({ timeoutMs: 60_000, guard: workerAlive });
  const warmAssignment = warmIssue.body.assignments.find((a) => a.organization === warmOrgs[0])!;
  await submit(warmAssignment.id, warmOrgs[0], 0);
  log('warmed up');

  // CPU time of each process during each phase: what the phase was waiting for.
  const cpuRoots = { ...services.pids, worker: worker.pid, bench: process.pid };
  const logCpu = (phase: string, usage: { cpu_s: Record<string, number>; cores_busy: number }) =>
    log(`${phase}: CPU s ${Object.entries(usage.cpu_s).map(([k, v]) => `${k} ${v}`).join(', ')}; ${usage.cores_busy} of ${os.availableParallelism()} cores busy`);

  // --- Throughput 1: N trivial workflows on a bare worker.
  log(`bare: starting ${n} trivial workflows, ${START_CONCURRENCY} starts in flight`);
  const bareCpu = cpuMeter(cpuRoots);
  const bareSeconds = await runBare(client, benchQueue, n, `${suffix}/measure`);
  if (benchWorkerError) throw new Error(`the benchmark's worker failed: ${String(benchWorkerError)}`);
  const bareUsage = bareCpu.stop();
  log(`bare: ${n} completed in ${bareSeconds.toFixed(2)} s (${(n / bareSeconds).toFixed(1)}/s)`);
  logCpu('bare', bareUsage);

  // --- Throughput 2: N reference workflows (a local activity writing one row, a timer).
  log(`reference: starting ${n} reference workflows`);
  const referenceCpu = cpuMeter(cpuRoots);
  const reference = await runReference(client, tracker, { taskQueue: benchQueue, count: n, label: `${suffix}-measure`, concurrency: START_CONCURRENCY, timeoutMs: 60_000 + 1_000 * n });
  const referenceUsage = referenceCpu.stop();
  openWorkflowIds.push(...reference.workflowIds);
  if (benchWorkerError) throw new Error(`the benchmark's worker failed: ${String(benchWorkerError)}`);
  const referenceSeconds = (Math.max(...reference.doneAt) - reference.startedAt) / 1000;
  const referenceDeciles = decileRates(reference.doneAt);
  log(`reference: ${n} rows written in ${referenceSeconds.toFixed(2)} s (${(n / referenceSeconds).toFixed(1)}/s)`);
  logCpu('reference', referenceUsage);

  // --- Throughput 3, the app: one recommendation to all N, from the issue request until every
  // assignment workflow has run and projected its 'issued' state.
  workerAlive();
  const recId = await createRecommendation(orgs, 'measured');
  log(`app: issuing recommendation ${recId} to ${n} organisations`);
  const issueCpu = cpuMeter(cpuRoots);
  const issueStartedAt = Date.now();
  const issueStarted = performance.now();
  const issued = await issue(recId, 'measured');
  const issueRequestMs = performance.now() - issueStarted;
  if (issued.body.assignments.length !== n) throw new Error(`issue returned ${issued.body.assignments.length} assignments, expected ${n}`);
  const watch = watchIssued(api.db.models.audit, recId, issued.body.assignments.map((a) => a.id), `recommendation ${recId}`);
  const checks = await watch.wait({
    timeoutMs: 120_000 + 1_000 * n,
    guard: workerAlive,
    progress: (count) => log(`app: about ${count}/${n} issued`),
  });
  const issueWatchedSeconds = (performance.now() - issueStarted) / 1000;
  const issueUsage = issueCpu.stop();
  // Each assignment's moment: when its projection wrote the read model (the row's updatedAt, set
  // by the worker's mongoose on this machine's clock). The rows the issue request created carry
  // version 0; a projected one at least 1.
  // The projection writes the audit entry first and the read model last: the last rows may
  // still be on their way when the audit count is complete.
  let projectedAt: number[] = [];
  await waitForCount(
    async () => {
      const rows = await api.db.models.assignments.find({ recommendationId: recId }, { updatedAt: 1, version: 1 }).lean();
      projectedAt = rows.filter((r) => r.version >= 1).map((r) => r.updatedAt!.getTime());
      return projectedAt.length;
    },
    n,
    { what: `the read model of all ${n} assignments to be projected`, timeoutMs: 60_000, intervalMs: 200, guard: workerAlive },
  );
  const issueSeconds = (Math.max(...projectedAt) - issueStartedAt) / 1000;
  const issueDeciles = decileRates(projectedAt);
  log(`app: ${n} issued in ${issueSeconds.toFixed(2)} s (${(n / issueSeconds).toFixed(1)}/s; seen by polling after ${issueWatchedSeconds.toFixed(2)} s; the issue request took ${issueRequestMs.toFixed(0)} ms)`);
  if (issueDeciles) log(`app: per tenth ${issueDeciles.perS.join(', ')} /s`);
  logCpu('app', issueUsage);
  log(`app: progress took ${checks.lookups} lookups and ${checks.counts} counts (${(checks.countMs / Math.max(1, checks.counts)).toFixed(0)} ms each)`);
  const extra = (await watch.count()) - n;
  if (extra > 0) log(`WARNING: ${extra} more 'issued' entries than assignments: an assignment was issued twice`);
  const afterIssue = memory.current(WORKER_SCRIPT);
  log(`worker with ${n} open assignments: RSS ${mb(afterIssue.rssKb)} MB, peak so far ${mb(afterIssue.hwmKb)} MB`);

  // --- Latency: one submission per executor, one after another.
  const assignmentOf = new Map(issued.body.assignments.map((a) => [a.organization, a.id]));
  const submitMs: number[] = [];
  for (const [i, organization] of executorOrgs.entries()) {
    workerAlive();
    submitMs.push(await submit(assignmentOf.get(organization)!, organization, i + 1));
  }
  const submitSummary = summarize(submitMs);
  log(`submit: p50 ${submitSummary.p50} ms, p99 ${submitSummary.p99} ms over ${submitSummary.samples}`);

  // --- Lists and pages with the read model at its full size.
  const curatorUser = (await api.db.repos.users.findByEmail(curatorEmail))!;
  const sampleKey = (await api.db.models.outbox.findOne({ template: 'assignment-issued' }, { _id: 1 }).lean())?._id;
  const sampleEmail = sampleKey ? await api.db.repos.outbox.get(sampleKey) : null;
  const calendar = await loadCalendar(api.db.repos);
  const seed = await seedReadModel({
    models: api.db.models,
    recommendationsChanged: () => api.db.repos.recommendations.changed(),
    outboxDaysChanged: () => api.db.repos.outbox.daysChanged(),
    resolveDue: (date) => resolveDeadline(date, { timezone: appConfig.TIMEZONE, calendar, rule: appConfig.DEADLINE_NON_WORKING_DAY })!,
    http,
    curatorToken: curator,
    curator: { id: curatorUser._id, email: curatorUser.email, role: 'curator' },
    organizations: orgs,
    target: options.listTotal,
    bigRecommendations: BIG_RECOMMENDATIONS,
    smallOrgs: SMALL_RECOMMENDATION_ORGS,
    label: `bench-${suffix}`,
    sampleEmail: sampleEmail ?? undefined,
  });
  // The seeded rows are counted by the worker's tallier like any others; lists are timed once the
  // summaries have them all.
  const tallyStarted = Date.now();
  let waiting = await api.db.repos.tallies.pending();
  log(`summaries: ${waiting} rows to count`);
  while (waiting > 0) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    waiting = await api.db.repos.tallies.pending();
  }
  const tallySeconds = (Date.now() - tallyStarted) / 1000;
  log(`summaries: all rows counted in ${tallySeconds.toFixed(1)} s`);
  // Likewise the delivery log's finished periods, which the worker counts once (store/outbox.ts).
  const closeStarted = Date.now();
  while ((await api.db.repos.outbox.closeable()) > 0) await new Promise((resolve) => setTimeout(resolve, 2_000));
  log(`delivery log: finished periods counted in ${((Date.now() - closeStarted) / 1000).toFixed(1)} s`);
  const listTotal = await api.db.models.assignments.countDocuments({});
  log(`lists: ${listTotal} assignments in the read model (seeded in ${seed.seconds.toFixed(1)} s)`);

  const executorOrg = orgs[0];
  const [curatorCookie, executorCookie] = [await pageSession(api.url, curatorEmail, PASSWORD), await pageSession(api.url, `executor@${executorOrg}.bench.test`, PASSWORD)];
  const executor = executorTokens.get(executorOrg)!;
  const small = seed.recommendations.small[0] ?? warmId;
  const recurring = seed.recommendations.recurring[0] ?? small;
  const ownAssignment = assignmentOf.get(executorOrg)!;
  const historyAssignment = seed.samples.history || ownAssignment;
  const api_ = (name: string, p: string, token: string, who: string): Route => ({ name: `GET ${name} (${who})`, path: p, auth: { token } });
  const page = (name: string, p: string, cookie: string, who: string): Route => ({ name: `page ${name} (${who})`, path: p, auth: { cookie } });
  const routes: Route[] = [
    api_('/api/assignments', '/api/assignments?limit=50', curator, 'curator'),
    api_('/api/assignments?status=submitted', '/api/assignments?status=submitted&limit=50', curator, 'curator'),
    api_('/api/assignments?overdue=true', '/api/assignments?overdue=true&limit=50', curator, 'curator'),
    api_('/api/assignments?recommendation=<all orgs>', `/api/assignments?recommendation=${recId}&limit=50`, curator, 'curator'),
    api_('/api/assignments?recommendation=<40 orgs>', `/api/assignments?recommendation=${small}&limit=50`, curator, 'curator'),
    api_('/api/assignments?organization=', `/api/assignments?organization=${executorOrg}&limit=50`, curator, 'curator'),
    api_('/api/assignments?recommendation=<yearly>&cycle=2', `/api/assignments?recommendation=${recurring}&cycle=2&limit=50`, curator, 'curator'),
    api_('/api/assignments?cycle=2', '/api/assignments?cycle=2&limit=50', curator, 'curator'),
    api_('/api/assignments', '/api/assignments?limit=50', executor, 'executor'),
    api_('/api/assignments/:id', `/api/assignments/${ownAssignment}`, executor, 'executor'),
    api_('/api/recommendations', '/api/recommendations?limit=50', curator, 'curator'),
    api_('/api/recommendations', '/api/recommendations?limit=50', executor, 'executor'),
    api_('/api/recommendations/:id <all orgs>', `/api/recommendations/${recId}`, curator, 'curator'),
    api_('/api/recommendations/:id <yearly>', `/api/recommendations/${recurring}`, curator, 'curator'),
    api_('/api/outbox', '/api/outbox?limit=50', admin, 'admin'),
    api_('/api/imports', '/api/imports?limit=50', curator, 'curator'),
    page('/my', '/my', executorCookie, 'executor'),
    page('/assignments/:id', `/assignments/${ownAssignment}`, executorCookie, 'executor'),
    page('/review', '/review', curatorCookie, 'curator'),
    page('/extensions', '/extensions', curatorCookie, 'curator'),
    page('/recommendations', '/recommendations', curatorCookie, 'curator'),
    page('/recommendations/:id <40 orgs>', `/recommendations/${small}`, curatorCookie, 'curator'),
    page('/recommendations/:id <all orgs>', `/recommendations/${recId}`, curatorCookie, 'curator'),
    page('/dashboard', '/dashboard', curatorCookie, 'curator'),
    page('/reports/discipline', '/reports/discipline', curatorCookie, 'curator'),
    page('/assignments/:id', `/assignments/${historyAssignment}`, curatorCookie, 'curator'),
  ];
  // The pages built on aggregations over the whole read model last: on FerretDB they can keep
  // the database busy for a minute, which must not fall on the other routes' samples.
  const aggregatePages = routes.filter((r) => r.path.startsWith('/dashboard') || r.path.startsWith('/reports/'));
  // Every call the API's models make (mongoose's debug hook sees each one, a cursor's further batches aside).
  let dbCalls = 0;
  const callsOf = new Map<string, number>();
  api.db.connection.set('debug', (collection: string, method: string) => {
    dbCalls += 1;
    callsOf.set(`${collection}.${method}`, (callsOf.get(`${collection}.${method}`) ?? 0) + 1);
  });
  const plan = {
    dbCalls: () => dbCalls,
    maxSamples: options.listSamples,
    minSamples: 5,
    budgetMs: options.listBudgetMs,
    onceAboveMs: 15_000,
    totalBudgetMs: options.listTotalBudgetMs,
    progress: log,
  };
  log(`lists: ${routes.length} routes, up to ${plan.maxSamples} samples each (at least ${plan.minSamples} or ${plan.budgetMs} ms each, ${plan.totalBudgetMs / 1000} s in all)`);
  const listed = await measureRoutes(api.url, routes.filter((r) => !aggregatePages.includes(r)), plan);
  const aggregated = await measureRoutes(api.url, aggregatePages, plan);
  const byRoute = Object.fromEntries(routes.map((r) => [r.name, listed.byRoute[r.name] ?? aggregated.byRoute[r.name]]));
  for (const [name, s] of Object.entries(byRoute)) log(`lists: ${name}: p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.samples} samples, ${s.kb} KB, ${s.dbCalls} database calls${s.error ? `, FAILED: ${s.error}` : ''}`);
  // Which calls one more request of each route makes: where a route's database time goes.
  for (const route of routes) {
    callsOf.clear();
    await timedGet(api.url, route);
    log(`lists: ${route.name} calls ${[...callsOf].sort((a, b) => b[1] - a[1]).map(([call, n]) => `${call}×${n}`).join(' ')}`);
  }
  const worst = worstOf(byRoute);
  const listSeconds = listed.seconds + aggregated.seconds;
  log(`lists: worst p99 ${worst.p99} ms (${worst.route}), ${listSeconds.toFixed(1)} s in all`);

  // --- The worker's memory, read before it is stopped.
  workerAlive();
  const { worker: workerMemory, tree } = memory.finish(WORKER_SCRIPT);
  for (const m of tree) log(`memory: pid ${m.pid} peak ${mb(m.hwmKb)} MB (sampled peak ${mb(m.sampledPeakKb)} MB, now ${mb(m.rssKb)} MB): ${m.cmdline.slice(0, 160)}`);
  // VmHWM is the kernel's exact peak; where it is missing the sampled one is the best we have.
  const workerPeakKb = workerMemory.hwmKb || workerMemory.sampledPeakKb;
  log(`worker peak RSS ${mb(workerPeakKb)} MB (pid ${workerMemory.pid})`);

  const values = {
    issue_rate_last_vs_first_decile: issueDeciles?.lastVsFirst ?? null,
    ratio_issue_vs_reference: round(referenceSeconds / issueSeconds, 3),
    list_p99_ms_at_20k: worst.p99,
    worker_peak_rss_mb: mb(workerPeakKb),
  };
  const targets = Object.fromEntries(
    Object.entries(TARGETS).map(([key, t]) => {
      const value = values[key as keyof typeof values];
      return [key, { value, target: t.target, met: value !== null && t.met(value) }];
    }),
  );

  return {
    profile: production ? 'production' : 'external',
    temporal: services.temporal,
    mongo: services.mongo,
    worker: `node ${WORKER_SCRIPT} (prebuilt workflow bundle)`,
    n,
    executors,
    issue_batch_size: appConfig.ISSUE_BATCH_SIZE,
    worker_max_cached_workflows: appConfig.WORKER_MAX_CACHED_WORKFLOWS,
    issue_per_s: round(n / issueSeconds, 1),
    bare_start_per_s: round(n / bareSeconds, 1),
    reference_per_s: round(n / referenceSeconds, 1),
    ratio_issue_vs_bare: round(bareSeconds / issueSeconds, 3),
    ratio_issue_vs_reference: values.ratio_issue_vs_reference,
    ratio_reference_vs_bare: round(bareSeconds / referenceSeconds, 3),
    issue_rate_last_vs_first_decile: values.issue_rate_last_vs_first_decile,
    issue_rate_trend_last_vs_first: issueDeciles?.trendLastVsFirst ?? null,
    issue_rate_by_decile_per_s: issueDeciles?.perS ?? null,
    reference_rate_last_vs_first_decile: referenceDeciles?.lastVsFirst ?? null,
    issue_s: round(issueSeconds, 2),
    bare_s: round(bareSeconds, 2),
    reference_s: round(referenceSeconds, 2),
    issue_request_ms: round(issueRequestMs, 1),
    submit_ms: submitSummary,
    list_assignments: listTotal,
    list_seeded_directly: seed.inserted.assignments > 0,
    list_seeded: { ...seed.inserted, recommendations: seed.recommendations.big.length + seed.recommendations.small.length + seed.recommendations.recurring.length },
    list_p99_ms_at_20k: values.list_p99_ms_at_20k,
    list_p99_worst_route: worst.route,
    list_p99_ms_by_route: Object.fromEntries(Object.entries(byRoute).map(([name, s]) => [name, s.p99])),
    list_samples_by_route: Object.fromEntries(Object.entries(byRoute).map(([name, s]) => [name, s.samples])),
    list_db_calls_by_route: Object.fromEntries(Object.entries(byRoute).map(([name, s]) => [name, s.dbCalls])),
    list_failed_routes: Object.fromEntries(Object.entries(byRoute).flatMap(([name, s]) => (s.error ? [[name, s.error]] : []))),
    list_ms: byRoute[routes[0].name],
    list_s: round(listSeconds, 1),
    worker_peak_rss_mb: values.worker_peak_rss_mb,
    worker_ready_rss_mb: mb(readyMemory.rssKb),
    worker_rss_mb_with_open_assignments: mb(afterIssue.rssKb),
    worker_open_assignments: n + WARM_ORGS,
    cpu_s_by_phase: { bare: bareUsage, reference: referenceUsage, issue: issueUsage },
    built_dist: built,
    targets,
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
