/**
 * A real worker process, started the way production starts it, that a test can SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eventually, type Harness } from './harness';

const ROOT = path.resolve(__dirname, '../..');

export function spawnWorker(h: Harness, children: ChildProcess[]): ChildProcess {
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a second process that a
  // SIGKILL of the first would leave running, and the tests must really kill the worker.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...h.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

export function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Resolves once a worker polls the harness's task queue (the API's readiness check says so). */
export async function waitForPoller(h: Harness): Promise<void> {
  await eventually(async () => ((await h.request('GET', '/readyz')).status === 200 ? true : undefined), 60_000, 'a worker polling the task queue');
}
