/**
 * `npm run backup` in the middle of a flow, `npm run restore` into a new DATA_DIR, a node started
 * there: every assignment, evidence file and history entry is present, and the processes go on —
 * a deadline timer set before the backup fires after the restore.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEMO_DOMAIN } from '../../seed/demo';
import { backupNode, restoreNode } from '../../stack/backup';
import { eventually } from '../support/harness';
import { nodeTempDir, removeDir, settledSnapshot, snapshotAssignments, startTestNode, type TestNode } from '../support/node-client';

jest.setTimeout(600_000);

let dir: string | undefined;
const nodes: TestNode[] = [];

beforeAll(async () => {
  dir = await nodeTempDir('backup');
});

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  await removeDir(dir);
});

async function historyOf(n: TestNode, token: string, id: string): Promise<string[]> {
  const res = await n.call('GET', `/api/assignments/${id}`, { token });
  if (res.status !== 200) throw new Error(`assignment ${id}: ${res.status}`);
  return res.body.history.map((e: { at: string; type: string }) => `${e.at} ${e.type}`);
}

it('restores a running node into a new DATA_DIR where everything is present and a timer set before the backup fires', async () => {
  const source = await startTestNode(path.join(dir!, 'a'));
  nodes.push(source);
  await source.waitReady();
  const curator = await source.login(`curator@${DEMO_DOMAIN}`);
  const executor = await source.login(`executor.tomsk@${DEMO_DOMAIN}`);
  await settledSnapshot(source, curator, 61);

  // Evidence with a file, in the middle of a flow (submitted, not yet reviewed).
  const mine = await source.call('GET', '/api/assignments?limit=100', { token: executor });
  const open = mine.body.items.find((a: { status: string }) => a.status === 'issued' || a.status === 'returned');
  const content = Buffer.from(`Отчёт до резервного копирования ${Date.now()}`);
  const form = new FormData();
  form.append('comment', 'Отчёт до копии');
  form.append('files', new Blob([content], { type: 'text/plain' }), 'do-kopii.txt');
  expect((await source.call('POST', `/api/assignments/${open.id}/submissions`, { token: executor, form })).status).toBe(200);

  // A deadline close enough to pass while the copy is being restored, far enough not to pass before it.
  const due = new Date(Date.now() + 45_000);
  const created = await source.call('POST', '/api/recommendations', {
    token: curator,
    json: { source: { kind: 'letter', number: '77', date: '2026-12-01' }, text: 'Представить отчёт до копии', assignees: ['tomsk'], deadline: { due: due.toISOString() } },
  });
  expect(created.status).toBe(201);
  const issued = await source.call('POST', `/api/recommendations/${created.body.id}/issue`, { token: curator });
  expect(issued.status).toBe(200);
  const timed = issued.body.assignments[0].id as string;
  await eventually(async () => ((await historyOf(source, curator, timed)).some((e) => e.endsWith(' issued')) ? true : undefined), 60_000, 'the timed assignment issued');
  // The audit entry and the listed row are written by different steps: wait for the row as well.
  const before = await eventually(
    async () => {
      const snapshot = await snapshotAssignments(source, curator);
      return snapshot.assignments.some((a) => a.id === timed) ? snapshot : undefined;
    },
    60_000,
    'the timed assignment listed',
  );
  const histories = new Map<string, string[]>();
  for (const a of before.assignments) histories.set(a.id, await historyOf(source, curator, a.id));
  expect(before.assignments.find((a) => a.id === timed)?.status).toBe('issued');

  const archive = path.join(dir!, 'backup.tar');
  const manifest = await backupNode({ dataDir: source.dataDir, postgresPort: source.ports.postgres, out: archive });
  expect(Date.now()).toBeLessThan(due.getTime());
  expect(statSync(archive).mode & 0o777).toBe(0o600);
  expect(Object.values(manifest.files)).toContain(createHash('sha256').update(content).digest('hex'));
  // One archive: the manifest, the cluster and DATA_DIR's own files.
  const listing = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout;
  expect(listing).toMatch(/^kontrol-backup\.json$/m);
  expect(listing).toMatch(/^postgres\/base\.tar\.gz$/m);
  await source.stop();

  // Into a DATA_DIR that is not empty: refused.
  await expect(restoreNode({ archive, dataDir: path.join(dir!, 'a') })).rejects.toThrow(/не пуст/);

  const restoredDir = path.join(dir!, 'b');
  await restoreNode({ archive, dataDir: restoredDir });
  expect(existsSync(path.join(restoredDir, 'postgres', 'PG_VERSION'))).toBe(true);
  const restored = await startTestNode(restoredDir);
  nodes.push(restored);
  await restored.waitReady();

  const token = await restored.login(`curator@${DEMO_DOMAIN}`);
  const after = await snapshotAssignments(restored, token);
  expect(after.recommendations).toBe(before.recommendations);
  expect(after.assignments.map((a) => a.id)).toEqual(before.assignments.map((a) => a.id));
  for (const a of before.assignments) {
    if (a.id === timed) continue;
    expect(after.assignments.find((b) => b.id === a.id)?.status).toBe(a.status);
    // Every history entry made before the backup is there, in order (later ones may follow).
    expect((await historyOf(restored, token, a.id)).slice(0, histories.get(a.id)!.length)).toEqual(histories.get(a.id));
  }

  // The evidence file, byte for byte.
  const detail = await restored.call('GET', `/api/assignments/${open.id}`, { token });
  const file = detail.body.evidence.at(-1).files[0];
  const download = await fetch(restored.node.apiUrl + file.url, { headers: { authorization: `Bearer ${token}` } });
  expect(download.status).toBe(200);
  expect(createHash('sha256').update(Buffer.from(await download.arrayBuffer())).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));

  // The deadline timer, set before the backup, fires in the restored node.
  await eventually(
    async () => {
      const res = await restored.call('GET', `/api/assignments/${timed}`, { token });
      return res.body.overdue === true ? res.body : undefined;
    },
    180_000,
    'the timed assignment to turn overdue after the restore',
  );
  expect((await historyOf(restored, token, timed)).some((e) => e.endsWith(' overdue'))).toBe(true);
});
