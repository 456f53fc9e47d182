/**
 * A whole node as `npm start` runs it (PostgreSQL, the Temporal server, its UI, FerretDB on
 * PostgreSQL, the mail service, the worker, the API), each service killed once with SIGKILL: the
 * supervisor starts it again, /readyz turns green, and the node's data and processes carry on.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DEMO_DOMAIN } from '../../seed/demo';
import { eventually } from '../support/harness';
import { nodeTempDir, removeDir, settledSnapshot, snapshotAssignments, startTestNode, type TestNode } from '../support/node-client';

jest.setTimeout(600_000);

let dir: string | undefined;
let n: TestNode | undefined;

beforeAll(async () => {
  dir = await nodeTempDir('supervision');
  // Quick restarts keep the test short; the node's own default starts at 1 s.
  n = await startTestNode(path.join(dir, 'data'), { backoff: { initialMs: 200, maxMs: 2_000 } });
});

afterAll(async () => {
  await n?.stop();
  await removeDir(dir);
});

it('restarts every service killed with SIGKILL, and /readyz turns green again with nothing lost', async () => {
  const node = n!;
  await node.waitReady();
  const curator = await node.login(`curator@${DEMO_DOMAIN}`);
  // The demo's issuing runs in the background: wait until its assignments are all listed.
  const before = await settledSnapshot(node, curator, 61);
  expect(before.recommendations).toBeGreaterThanOrEqual(4);

  // From the top of the stack down, so each restart also proves its clients reconnect to a
  // service that came back underneath them.
  for (const name of ['api', 'worker', 'smtp', 'ferretdb', 'temporal-ui', 'temporal', 'postgres']) {
    const victim = node.node.supervisor.status().services.find((s) => s.name === name);
    expect(victim?.state).toBe('running');
    process.kill(victim!.pid!, 'SIGKILL');
    await eventually(
      async () => {
        const service = node.node.supervisor.status().services.find((s) => s.name === name)!;
        return service.state === 'running' && service.restarts === 1 && service.pid !== victim!.pid ? true : undefined;
      },
      180_000,
      `${name} to be restarted`,
    );
    await node.waitReady(`/readyz after ${name} was killed`);
    const ready = await node.call('GET', '/readyz');
    expect(ready.body.services.find((s: { name: string }) => s.name === name)).toMatchObject({ state: 'running', restarts: 1 });
  }

  // Every service was restarted exactly once, and each restart was logged in Russian.
  expect(node.node.supervisor.status().services.map((s) => [s.name, s.restarts])).toEqual(
    ['postgres', 'temporal', 'temporal-ui', 'ferretdb', 'smtp', 'worker', 'api'].map((name) => [name, 1]),
  );
  for (const label of ['PostgreSQL', 'Temporal', 'Temporal UI', 'FerretDB', 'почта (SMTP)', 'обработчик задач (worker)', 'API и страницы']) {
    expect(node.lines.filter((l) => l.startsWith(`Служба «${label}» завершилась неожиданно (сигнал SIGKILL)`))).toHaveLength(1);
  }

  // Nothing lost: the same assignments in the same states…
  const after = await snapshotAssignments(node, await node.login(`curator@${DEMO_DOMAIN}`));
  expect(after).toEqual(before);

  // …and the processes go on: an executor's evidence reaches its workflow, which projects it.
  const executor = await node.login(`executor.tomsk@${DEMO_DOMAIN}`);
  const mine = await node.call('GET', '/api/assignments?limit=100', { token: executor });
  const open = mine.body.items.find((a: { status: string }) => a.status === 'issued' || a.status === 'returned');
  expect(open).toBeDefined();
  const content = Buffer.from('Отчёт после перезапусков');
  const form = new FormData();
  form.append('comment', 'Отчёт после перезапуска всех служб');
  form.append('files', new Blob([content], { type: 'text/plain' }), 'otchet.txt');
  const submitted = await node.call('POST', `/api/assignments/${open.id}/submissions`, { token: executor, form });
  expect(submitted.status).toBe(200);
  expect(submitted.body).toMatchObject({ id: open.id, status: 'submitted' });
  const detail = await node.call('GET', `/api/assignments/${open.id}`, { token: executor });
  expect(detail.body.evidence.at(-1).files[0].sha256).toBe(createHash('sha256').update(content).digest('hex'));
});
