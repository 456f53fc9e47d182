/**
 * Temporal Schedules the worker keeps in place: the weekly curator digest and the email delivery lane. Created when the
 * worker starts, and brought in line with the configuration when it changed, so a deployment needs
 * no separate step. One schedule per task queue, so separate installations on one Temporal never
 * trigger each other's workers.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import { curatorDigestWorkflow, redeliverEmailsWorkflow } from '../workflows';

export function digestScheduleId(taskQueue: string): string {
  return `curator-digest/${taskQueue}`;
}

export function redeliveryScheduleId(taskQueue: string): string {
  return `email-redelivery/${taskQueue}`;
}

/** How often the lane looks for failed emails whose time has come (the first retry is 10 s after a failure). */
const REDELIVERY_EVERY = '15 seconds';

export async function ensureSchedules(temporal: Client, config: Config, logger: Logger): Promise<void> {
  await ensureSchedule(temporal, logger, {
    scheduleId: digestScheduleId(config.TEMPORAL_TASK_QUEUE),
    spec: { cronExpressions: [config.DIGEST_CRON], timezone: config.TIMEZONE },
    action: {
      type: 'startWorkflow',
      workflowType: curatorDigestWorkflow,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: `curator-digest/${config.TEMPORAL_TASK_QUEUE}`,
      // A run that cannot finish in a day ends failed (Temporal shows it) instead of holding the
      // schedule: with overlap SKIP, a run stuck in retries would skip every later week.
      workflowRunTimeout: '1 day',
    },
    // A digest missed while everything was down goes out late the same day, never twice.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '12 hours' },
    memo: { purpose: 'Еженедельная сводка кураторам' },
  });
  await ensureSchedule(temporal, logger, {
    scheduleId: redeliveryScheduleId(config.TEMPORAL_TASK_QUEUE),
    spec: { intervals: [{ every: REDELIVERY_EVERY }] },
    action: {
      type: 'startWorkflow',
      workflowType: redeliverEmailsWorkflow,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: `email-redelivery/${config.TEMPORAL_TASK_QUEUE}`,
      workflowRunTimeout: '15 minutes',
    },
    // One lane at a time; runs missed while the worker was down are not made up, the next one does it all.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    memo: { purpose: 'Повторная отправка писем, не ушедших с первого раза' },
  });
}

async function ensureSchedule(temporal: Client, logger: Logger, options: ScheduleOptions): Promise<void> {
  const { scheduleId } = options;
  try {
    await temporal.schedule.create(options);
    logger.info({ scheduleId, spec: options.spec }, 'schedule created');
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await temporal.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: { ...previous.action, ...options.action },
      policies: { ...previous.policies, ...options.policies },
    }));
  }
}
