/**
 * Temporal Schedules the worker keeps in place: today the weekly curator digest. Created when the
 * worker starts, and brought in line with the configuration when it changed, so a deployment needs
 * no separate step. One schedule per task queue, so separate installations on one Temporal never
 * trigger each other's workers.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import { curatorDigestWorkflow } from '../workflows';

export function digestScheduleId(taskQueue: string): string {
  return `curator-digest/${taskQueue}`;
}

export async function ensureDigestSchedule(temporal: Client, config: Config, logger: Logger): Promise<void> {
  const scheduleId = digestScheduleId(config.TEMPORAL_TASK_QUEUE);
  const options: ScheduleOptions = {
    scheduleId,
    spec: { cronExpressions: [config.DIGEST_CRON], timezone: config.TIMEZONE },
    action: {
      type: 'startWorkflow',
      workflowType: curatorDigestWorkflow,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: `curator-digest/${config.TEMPORAL_TASK_QUEUE}`,
    },
    // A digest missed while everything was down goes out late the same day, never twice.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '12 hours' },
    memo: { purpose: 'Еженедельная сводка кураторам' },
  };
  try {
    await temporal.schedule.create(options);
    logger.info({ scheduleId, cron: config.DIGEST_CRON }, 'digest schedule created');
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
