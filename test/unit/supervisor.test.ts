/**
 * The supervisor on its own, with real child processes (sleep): restarts after an unexpected exit
 * with a growing pause, reports every state in its status file, retries a failed first start,
 * and restarts nothing once told to stop.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnProcess } from '../../stack/processes';
import { Supervisor, type ServiceSpec, type SupervisorStatus } from '../../stack/supervisor';
import { eventually } from '../support/harness';

let dir: string;
let supervisor: Supervisor | undefined;
const lines: string[] = [];
const stopped: string[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kontrol-supervisor-'));
  lines.length = 0;
  stopped.length = 0;
});
afterEach(async () => {
  await supervisor?.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function sleeper(name: string, starts: { count: number }, failFirst = 0): ServiceSpec {
  return {
    name,
    label: `служба ${name}`,
    async start() {
      starts.count += 1;
      if (starts.count <= failFirst) throw new Error(`отказ ${starts.count}`);
      const child = spawnProcess({ name, command: 'sleep', args: ['60'] });
      return {
        process: child,
        stop: () => {
          stopped.push(name);
          return child.stop(1_000);
        },
      };
    },
  };
}

const statusOf = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as SupervisorStatus;

it('starts a killed service again after a pause that grows, and says so in Russian and in its status file', async () => {
  const statusFile = path.join(dir, 'run', 'services.json');
  supervisor = new Supervisor({ statusFile, log: (l) => lines.push(l), backoff: { initialMs: 100, maxMs: 1_000 } });
  const starts = { count: 0 };
  await supervisor.add(sleeper('a', starts));
  expect(statusOf(statusFile).services).toEqual([expect.objectContaining({ name: 'a', state: 'running', restarts: 0 })]);

  for (const restarts of [1, 2]) {
    const pid = supervisor.status().services[0].pid!;
    process.kill(pid, 'SIGKILL');
    await eventually(async () => {
      const s = supervisor!.status().services[0];
      return s.state === 'running' && s.restarts === restarts ? s : undefined;
    }, 10_000, `restart ${restarts}`);
  }
  expect(starts.count).toBe(3);
  expect(lines.filter((l) => l.includes('завершилась неожиданно (сигнал SIGKILL)'))).toEqual([
    'Служба «служба a» завершилась неожиданно (сигнал SIGKILL); перезапуск через 0.1 с.',
    'Служба «служба a» завершилась неожиданно (сигнал SIGKILL); перезапуск через 0.2 с.',
  ]);
  const written = statusOf(statusFile).services[0];
  expect(written).toMatchObject({ state: 'running', restarts: 2, lastExit: { signal: 'SIGKILL' } });
  expect(written.pid).toBe(supervisor.status().services[0].pid);
});

it('tries a failed first start again, then gives up with the error', async () => {
  supervisor = new Supervisor({ statusFile: path.join(dir, 's.json'), log: (l) => lines.push(l), backoff: { initialMs: 50 } });
  const flaky = { count: 0 };
  await supervisor.add(sleeper('flaky', flaky, 2), 5);
  expect(flaky.count).toBe(3);
  expect(lines.filter((l) => l.includes('не запустилась (отказ'))).toHaveLength(2);

  const broken = { count: 0 };
  await expect(supervisor.add(sleeper('broken', broken, 99), 3)).rejects.toThrow('отказ 3');
  expect(broken.count).toBe(3);
});

it('restarts nothing once stopping, even a service that died just before, and stops the last started first', async () => {
  supervisor = new Supervisor({ statusFile: path.join(dir, 's.json'), log: (l) => lines.push(l), backoff: { initialMs: 300 } });
  const a = { count: 0 };
  const b = { count: 0 };
  await supervisor.add(sleeper('a', a));
  await supervisor.add(sleeper('b', b));
  // a dies; its restart waits 300 ms, and the node is told to stop meanwhile.
  process.kill(supervisor.status().services[0].pid!, 'SIGKILL');
  await eventually(async () => (supervisor!.status().services[0].state === 'restarting' ? true : undefined), 5_000, 'a seen dead');
  await supervisor.stopAll();
  await new Promise((r) => setTimeout(r, 600));
  expect(supervisor.status().services.map((s) => [s.name, s.state])).toEqual([
    ['a', 'stopped'],
    ['b', 'stopped'],
  ]);
  expect([a.count, b.count]).toEqual([1, 1]);
  expect(stopped).toEqual(['b']);
  expect(lines.some((l) => l.includes('снова работает'))).toBe(false);
});

it('refuses to start a service once stopping', async () => {
  supervisor = new Supervisor({ statusFile: path.join(dir, 's.json'), log: (l) => lines.push(l) });
  await supervisor.stopAll();
  const c = { count: 0 };
  await expect(supervisor.add(sleeper('c', c))).rejects.toThrow(/stopping/);
  expect(c.count).toBe(0);
});
