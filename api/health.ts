/**
 * Liveness (/healthz: the process answers) and readiness (/readyz: MongoDB and Temporal answer and
 * a worker is polling the task queue), for load balancers and for `npm start` to know when to go on.
 */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { Database } from '../store/db';

const POLLER_FRESH_MS = 90_000;

export async function readiness({ db, temporal, taskQueue }: { db: Database; temporal: Client; taskQueue: string }) {
  const checks: Record<string, { ok: boolean; detail?: string }> = {};
  await Promise.all([
    db.ping().then(
      () => (checks.mongodb = { ok: true }),
      (e: Error) => (checks.mongodb = { ok: false, detail: e.message }),
    ),
    temporal.workflowService
      .describeTaskQueue({
        namespace: temporal.options.namespace,
        taskQueue: { name: taskQueue, kind: proto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      })
      .then(
        (response) => {
          checks.temporal = { ok: true };
          const now = Date.now();
          const fresh = (response.pollers ?? []).some((p) => {
            const seconds = Number(p.lastAccessTime?.seconds ?? 0);
            return now - seconds * 1000 < POLLER_FRESH_MS;
          });
          checks.worker = fresh ? { ok: true } : { ok: false, detail: `no worker is polling task queue ${taskQueue}` };
        },
        (e: Error) => {
          checks.temporal = { ok: false, detail: e.message };
          checks.worker = { ok: false, detail: 'unknown: Temporal does not answer' };
        },
      ),
  ]);
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

export function createHealthRouter(deps: { db: Database; temporal: Client; taskQueue: string }) {
  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await readiness(deps);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return router;
}
