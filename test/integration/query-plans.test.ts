/**
 * Which index answers each query the hot read paths send, shown by the store's own `explain`.
 *
 * The queries are not copied here: the repository calls run with the connection's debug hook on,
 * which records every find the driver is sent, and each recorded filter is then explained on the
 * same collection. On FerretDB/PostgreSQL (the embedded store) the filter must be pushed down and
 * answered by an index scan; on MongoDB the winning plan must not be a collection scan. The table
 * of query → index is written to test-results/query-plans.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AssignmentState } from '../../domain/assignment';
import { MIGRATIONS, migrate } from '../../store/migrations';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('query-plans', { worker: false });
});
afterAll(() => h?.stop());

interface Sent {
  collection: string;
  method: string;
  filter: Record<string, unknown>;
}

/** Runs `work` and returns the reads it sent to the store. */
async function reads(work: () => Promise<unknown>): Promise<Sent[]> {
  const sent: Sent[] = [];
  const { connection } = h.api.db;
  connection.set('debug', (collection: string, method: string, ...args: unknown[]) => {
    if (method === 'find' || method === 'findOne') sent.push({ collection, method, filter: (args[0] ?? {}) as Record<string, unknown> });
  });
  try {
    await work();
  } finally {
    connection.set('debug', false);
  }
  return sent;
}

interface Plan {
  pushedDown: boolean;
  indexes: string[];
  store: 'ferretdb' | 'mongodb';
}

/** Index names anywhere in a plan tree, for either store's explain shape. */
function indexNames(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => indexNames(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'Index Name' || key === 'indexName') && typeof value === 'string') out.push(value);
      else indexNames(value, out);
    }
  }
  return out;
}

async function explain(q: Sent): Promise<Plan> {
  const result = (await h.api.db.connection.db!.collection(q.collection).find(q.filter).explain()) as Record<string, unknown>;
  const ferret = Boolean((result.serverInfo as { ferretdbVersion?: string } | undefined)?.ferretdbVersion);
  if (ferret) return { store: 'ferretdb', pushedDown: result.filterPushdown === true, indexes: indexNames(result.queryPlanner) };
  const winning = (result.queryPlanner as { winningPlan?: unknown } | undefined)?.winningPlan;
  return { store: 'mongodb', pushedDown: !JSON.stringify(winning).includes('COLLSCAN'), indexes: indexNames(winning) };
}

function state(version: number, pick: Partial<AssignmentState>): AssignmentState {
  const due = '2099-01-01T00:00:00.000Z';
  return { status: 'issued', overdue: false, due, originalDue: due, acceptedLate: null, extension: null, lastSubmission: null, submissions: 0, returns: 0, version, ...pick } as AssignmentState;
}

it('answers the assignment page, the lists and the history from indexes', async () => {
  const { repos } = h.api.db;
  const orgs = Array.from({ length: 40 }, (_, i) => `org-${i}`);
  for (const id of ['rec-a', 'rec-b']) await repos.assignments.ensureIssued({ _id: id, deadline: { due: new Date('2099-01-01'), input: '2099-01-01' } }, orgs);
  const assignment = 'rec-a.org-3.1';
  await repos.assignments.project(assignment, { recommendationId: 'rec-a', organization: 'org-3', cycle: 1 }, state(2, { status: 'submitted' }));
  const extension = { until: '2099-02-01', reason: 'Подрядчик', requestedAt: '2098-12-01T00:00:00.000Z', requestedBy: { kind: 'user', id: 'u', name: 'Исполнитель' } };
  await repos.assignments.project('rec-b.org-5.1', { recommendationId: 'rec-b', organization: 'org-5', cycle: 1 }, state(2, { extension } as never));
  const system = { kind: 'system' as const, name: 'Kontrol' };
  for (const [i, org] of orgs.entries()) {
    for (const id of ['rec-a', 'rec-b']) {
      await repos.audit.append({ _id: `assignment:${id}.${org}.1:${i}`, at: new Date(), actor: system as never, action: 'issued', entity: { kind: 'assignment', id: `${id}.${org}.1` }, details: {} });
    }
  }

  const paths: Record<string, () => Promise<unknown>> = {
    'assignment page: the row': () => repos.assignments.get(assignment),
    'assignment page: history': () => repos.audit.forEntity('assignment', assignment),
    'assignment page: evidence': () => repos.evidence.forAssignment(assignment),
    "executor's list": () => repos.assignments.list({ organization: 'org-3' }, { limit: 50, offset: 0 }),
    "a recommendation's rows": () => repos.assignments.list({ recommendationId: 'rec-a', cycle: 1 }, { limit: 50, offset: 0 }),
    'review queue': () => repos.assignments.reviewQueue({ limit: 50, offset: 0 }),
    'extension requests': () => repos.assignments.pendingExtensions({ limit: 50, offset: 0 }),
    "delivery log: one assignment's emails": () => repos.outbox.list({ assignmentId: assignment }, { limit: 50, offset: 0 }),
    'delivery log: failed emails': () => repos.outbox.list({ status: 'failed' }, { limit: 50, offset: 0 }),
    'delivery log: an email with its body': () => repos.outbox.get(`${assignment}:issued:v1`),
  };
  const table: string[] = ['| path | collection | filter | pushed down | index |', '| --- | --- | --- | --- | --- |'];
  for (const [name, work] of Object.entries(paths)) {
    const sent = await reads(work);
    expect(sent.length).toBeGreaterThan(0);
    for (const q of sent) {
      const plan = await explain(q);
      table.push(`| ${name} | ${q.collection} | \`${JSON.stringify(q.filter)}\` | ${plan.pushedDown ? 'yes' : 'no'} | ${plan.indexes.join(', ') || '—'} |`);
      expect({ path: name, filter: q.filter, pushedDown: plan.pushedDown }).toEqual({ path: name, filter: q.filter, pushedDown: true });
      expect(plan.indexes.length).toBeGreaterThan(0);
    }
  }
  await mkdir('test-results', { recursive: true });
  await writeFile(path.join('test-results', 'query-plans.md'), `${table.join('\n')}\n`);
  expect((await repos.assignments.pendingExtensions({ limit: 50, offset: 0 })).items.map((a) => a._id)).toEqual(['rec-b.org-5.1']);
  // The history is the entity's own, by the top-level key.
  expect((await repos.audit.forEntity('assignment', assignment)).map((e) => e.entity.id)).toEqual([assignment]);
});

it('gives audit entries and rows written before their top-level keys those keys, once', async () => {
  const { repos, models } = h.api.db;
  const legacy = Array.from({ length: 1200 }, (_, i) => ({
    _id: `assignment:legacy.${i % 3}:${String(i).padStart(5, '0')}`,
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)),
    actor: { kind: 'system', name: 'Kontrol' },
    action: 'issued',
    entity: { kind: 'assignment', id: `legacy.${i % 3}` },
    details: {},
  }));
  await models.audit.collection.insertMany(legacy as never[]);
  // Rows of the version before: no extensionPending flag, one with a request waiting.
  const due = new Date('2099-01-01');
  const row = { recommendationId: 'rec-old', cycle: 1, overdue: false, due, originalDue: due, acceptedLate: null, lastSubmittedAt: null, submissions: 0, returns: 0, version: 3 };
  const request = { until: '2099-03-01', reason: 'Ремонт', requestedAt: '2098-12-01T00:00:00.000Z', requestedBy: { kind: 'user', id: 'u', name: 'Исполнитель' } };
  await models.assignments.collection.insertMany([
    { _id: 'rec-old.x.1', organization: 'x', status: 'issued', extension: request, ...row },
    { _id: 'rec-old.y.1', organization: 'y', status: 'accepted', extension: request, ...row },
    { _id: 'rec-old.z.1', organization: 'z', status: 'issued', extension: null, ...row },
  ] as never[]);
  const waiting = async () => (await repos.assignments.pendingExtensions({ limit: 50, offset: 0 })).items.map((a) => a._id).filter((id) => id.startsWith('rec-old'));
  expect(await waiting()).toEqual([]);
  expect(await repos.audit.forEntity('assignment', 'legacy.1')).toHaveLength(0);
  // A database of the version before: the migration not recorded.
  await models.migrations.deleteMany({});
  expect(await migrate(models)).toEqual(MIGRATIONS.map((m) => m.name));
  const history = await repos.audit.forEntity('assignment', 'legacy.1');
  expect(history).toHaveLength(400);
  expect(history.map((e) => e.at.getTime())).toEqual([...history.map((e) => e.at.getTime())].sort((a, b) => a - b));
  expect(await waiting()).toEqual(['rec-old.x.1']);
  // Recorded: the next start does not run it again.
  expect(await migrate(models)).toEqual([]);
});
