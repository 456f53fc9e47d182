/**
 * The weekly digest's activities outside the worker, for tests that run them on a worker of their
 * own or call them directly: built as workers/worker.ts builds them, over a harness's store and a
 * real SMTP server.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createEmailRenderer } from '../../notifications/render';
import type { Repositories } from '../../store/repositories';
import { createDigestActivities } from '../../workers/activities/digest';
import { createEmailActivities } from '../../workers/activities/email';
import type { Harness } from './harness';
import { readStackInfo } from './stack-info';

export function digestActivities(h: Harness, smtpUrl: string, repos: Repositories = h.api.db.repos) {
  const { TIMEZONE: timezone, baseUrl } = h.config;
  const renderer = createEmailRenderer({ timezone, authority: h.config.AUTHORITY_NAME });
  const transport = nodemailer.createTransport({ url: smtpUrl });
  const email = createEmailActivities({ repos, renderer, transport, from: h.config.MAIL_FROM, baseUrl, timezone });
  return createDigestActivities({ repos, renderer, deliver: email.deliver, baseUrl, timezone });
}

/**
 * Runs one digest workflow, with a 3-second deadline, on a worker of its own whose store fails to
 * list a curator's recommendations: every attempt fails until the deadline passes. Returns the
 * run and how it ended.
 */
export async function runDigestPastDeadline(h: Harness, smtpUrl: string): Promise<{ workflowId: string; runId: string; failure: unknown }> {
  const repos = h.api.db.repos;
  const failing: Repositories = {
    ...repos,
    recommendations: { ...repos.recommendations, issuedCreatedBy: (() => Promise.reject(new Error('хранилище недоступно'))) as never },
  };
  const taskQueue = `${h.config.TEMPORAL_TASK_QUEUE}-failing`;
  const connection = await NativeConnection.connect({ address: readStackInfo().temporalAddress });
  try {
    const worker = await Worker.create({
      connection,
      namespace: h.config.TEMPORAL_NAMESPACE,
      taskQueue,
      workflowBundle: { codePath: readStackInfo().workflowBundlePath },
      activities: digestActivities(h, smtpUrl, failing),
    });
    return await worker.runUntil(async () => {
      const handle = await h.api.temporal.workflow.start('curatorDigestWorkflow', { taskQueue, workflowId: `digest-deadline-${randomUUID()}`, args: [{ deadline: '3 seconds' }] });
      const failure = await handle.result().then(
        () => undefined,
        (error: unknown) => error,
      );
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, failure };
    });
  } finally {
    await connection.close();
  }
}
