/**
 * Liveness (/healthz: the process answers) and readiness (/readyz: MongoDB and Temporal answer, a
 * worker is polling the task queue and, under the node supervisor, every service runs), for load
 * balancers, monitoring and `npm start` to know when to go on.
 */
import { readFile } from 'node:fs/promises';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { Database } from '../store/db';

const POLLER_FRESH_MS = 90_000;

export interface ReadinessDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  /** The node supervisor's status file (KONTROL_SERVICES_STATUS), when one runs this process. */
  servicesStatusFile?: string;
}

interface SupervisedService {
  name: string;
  label: string;
  state: string;
  restarts: number;
  since: string;
}

/** Services the node serves people without: their state is shown, but does not make it unready. */
const AUXILIARY = new Set(['temporal-ui', 'smtp']);

const STATE_RU: Record<string, string> = { starting: 'запускается', running: 'работает', restarting: 'перезапускается', stopped: 'остановлена' };

async function supervisedServices(file: string): Promise<{ ok: boolean; detail?: string; services?: SupervisedService[] }> {
  try {
    const written = (JSON.parse(await readFile(file, 'utf8')) as { services: SupervisedService[] }).services;
    // /readyz answers anyone: names and states, not pids or error texts.
    const services = written.map(({ name, label, state, restarts, since }) => ({ name, label, state, restarts, since }));
    const down = services.filter((s) => s.state !== 'running' && !AUXILIARY.has(s.name));
    return down.length === 0
      ? { ok: true, services }
      : { ok: false, detail: down.map((s) => `${s.label}: ${STATE_RU[s.state] ?? s.state}`).join('; '), services };
  } catch (error) {
    return { ok: false, detail: `состояние служб не прочитано: ${(error as Error).message}` };
  }
}

export async function readiness({ db, temporal, taskQueue, servicesStatusFile }: ReadinessDeps) {
  const checks: Record<string, { ok: boolean; detail?: string }> = {};
  let services: SupervisedService[] | undefined;
  await Promise.all([
    servicesStatusFile
      ? supervisedServices(servicesStatusFile).then((result) => {
          checks.services = { ok: result.ok, ...(result.detail ? { detail: result.detail } : {}) };
          services = result.services;
        })
      : undefined,
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
  return { ready: Object.values(checks).every((c) => c.ok), checks, ...(services ? { services } : {}) };
}

export function createHealthRouter(deps: ReadinessDeps) {
  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const { ready, checks, services } = await readiness(deps);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, ...(services ? { services } : {}) });
  });
  return router;
}
