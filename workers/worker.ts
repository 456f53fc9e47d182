/**
 * The Temporal worker: hosts the workflows and the activities (grouped by side effect), with the
 * clients those activities close over. Used by `npm run worker`, `npm start` and the tests.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import nodemailer from 'nodemailer';
import { createEmailRenderer } from '../notifications/render';
import { mongoUri, smtpUrl, temporalAddress } from '../config/services';
import { loadCalendar } from '../store/calendar';
import { connectDatabase } from '../store/db';
import { createDigestActivities } from './activities/digest';
import { startOutboxCloser } from './outbox-closer';
import { SMTP_CONNECTIONS, createEmailActivities } from './activities/email';
import { createIssuingActivities } from './activities/issuing';
import { createPlanningActivities } from './activities/planning';
import { createProjectionActivities } from './activities/projection';
import { ensureSchedules } from './schedules';
import { startTallier } from './tallier';
import { builtBundlePath, chooseWorkflowSource } from './workflow-source';

let runtimeInstalled = false;

/** Sends the SDK's own logs to pino; the runtime is per process, so only the first call counts. */
function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      const level = levels[entry.level];
      if (logger.isLevelEnabled(level)) logger[level]({ ...entry.meta, sdk: true }, entry.message);
    }),
    // The Rust core's own lines too (left alone, it prints them to stdout in a format of its own).
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export interface WorkerOptions {
  /**
   * A prebuilt workflow bundle (tests build one for all their workers instead of one each); else
   * WORKFLOW_BUNDLE_PATH, else dist/workflow-bundle.js when running from dist/, else the sources.
   */
  workflowBundlePath?: string;
}

export async function startWorker(config: Config, logger: Logger, options: WorkerOptions = {}): Promise<RunningWorker> {
  installRuntime(logger);
  // Before any connection: a bundle that was named but is missing is a deployment mistake to
  // report at once.
  const workflows = chooseWorkflowSource({
    explicit: options.workflowBundlePath,
    configured: config.WORKFLOW_BUNDLE_PATH,
    built: builtBundlePath(__filename),
    workflowsPath: require.resolve('../workflows'),
  });
  if (workflows.kind === 'bundle') logger.info({ workflowBundle: workflows.codePath, from: workflows.from }, 'workflow code: prebuilt bundle');
  else logger.info({ workflowsPath: workflows.workflowsPath }, 'workflow code: bundling the sources at start');
  const db = await connectDatabase(mongoUri(config), { timezone: config.TIMEZONE, log: (message) => logger.info(message) });
  const address = temporalAddress(config);
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const temporal = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });

  // Connects on the first send, so a worker starts even while SMTP is down. A server that hangs
  // fails the attempt within seconds (nodemailer waits up to 10 minutes on a silent socket); the
  // delivery lane tries again later. Pooled: an issuing batch sends hundreds of emails, and a
  // connection of their own (connect, greeting, EHLO, close) each cost more than the message.
  // A connection idle for the socket timeout is closed; the pool opens another when needed.
  const transport = nodemailer.createTransport({
    url: smtpUrl(config),
    pool: true,
    maxConnections: SMTP_CONNECTIONS,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  const renderer = createEmailRenderer({ timezone: config.TIMEZONE, authority: config.AUTHORITY_NAME });
  const { baseUrl } = config;
  const { notifyIssued, ...email } = createEmailActivities({ repos: db.repos, renderer, transport, from: config.MAIL_FROM, baseUrl, timezone: config.TIMEZONE });
  const planning = createPlanningActivities({
    repos: db.repos,
    calendar: () => loadCalendar(db.repos),
    timezone: config.TIMEZONE,
    notifyHour: config.NOTIFY_HOUR,
    rule: config.DEADLINE_NON_WORKING_DAY,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    // On shutdown, let running activities finish for a while, then give up rather than hang: an
    // activity that was cut off is retried by Temporal on another worker, and all are idempotent.
    shutdownGraceTime: '5 seconds',
    shutdownForceTime: '20 seconds',
    ...(workflows.kind === 'bundle' ? { workflowBundle: { codePath: workflows.codePath } } : { workflowsPath: workflows.workflowsPath }),
    // The SDK sizes the cache by the heap limit, not by what Kontrol's workflows need: see
    // WORKER_MAX_CACHED_WORKFLOWS in config/index.ts. 40 workflow tasks and 100 activities at once
    // (the SDK's) against 10 made no measurable difference to memory, so they stay; so does
    // reuseV8Context, on by default in SDK 1.24: one V8 context shared by all workflows.
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    activities: {
      ...createProjectionActivities({ repos: db.repos }),
      ...createIssuingActivities({ temporal, repos: db.repos, taskQueue: config.TEMPORAL_TASK_QUEUE, notifyIssued, planNotifications: planning.planNotifications }),
      ...email,
      ...planning,
      ...createDigestActivities({ repos: db.repos, renderer, deliver: email.deliver, baseUrl, timezone: config.TIMEZONE }),
    },
  });
  await ensureSchedules(temporal, config, logger);
  // Summaries are ready (finished or rebuilt) before the first projection can change a row.
  const tallier = startTallier(db.repos.tallies, logger);
  const outboxCloser = startOutboxCloser(db.repos.outbox, logger);
  await tallier.ready;
  const done = worker.run().finally(async () => {
    await tallier.stop();
    await outboxCloser.stop();
    transport.close();
    await clientConnection.close();
    await connection.close();
    await db.close();
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address }, 'worker polling');
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
