/**
 * Durability: the worker process is killed with SIGKILL while assignments are being started and
 * while submissions are mid-transition; a new worker takes over and nothing is lost or doubled.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { eventually, startHarness, type Harness } from '../support/harness';
import { kill, spawnWorker as spawnWorker_, waitForPoller as waitForPoller_ } from '../support/worker-process';

const trace = (m: string) => process.env.DEBUG_DURABILITY && process.stderr.write(`[durability ${new Date().toISOString()}] ${m}\n`);
let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;
const children: ChildProcess[] = [];

const spawnWorker = () => spawnWorker_(h, children);
const waitForPoller = () => waitForPoller_(h);

const ORGS = Array.from({ length: 40 }, (_, i) => `org-d${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  h = await startHarness('durability', { worker: false, env: { ISSUE_BATCH_SIZE: '5' } });
  tokens = await h.seedUsers();
  for (const code of ORGS) {
    await h.api.db.repos.organizations.create({ _id: code, name: code, kind: 'municipality', groups: [], contacts: { coordinator: [], head: [] } });
  }
  for (const code of ORGS.slice(0, 10)) await h.createUser(`executor@${code}.test`, 'executor', code);
}, 180_000);

afterAll(async () => {
  await Promise.all(children.map(kill));
  await h?.stop();
});

describe('a worker killed with SIGKILL', () => {
  it('loses and doubles nothing: every assignment starts once, every submission lands once with its file', async () => {
    let worker = spawnWorker();
    await waitForPoller();
    trace('worker polling');

    const created = await h.request('POST', '/api/recommendations', {
      token: tokens.curator,
      json: {
        source: { kind: 'letter', number: '766', date: '2022-08-26' },
        text: 'Сформировать муниципальные педагогические команды',
        assignees: ORGS,
        deadline: { due: '2099-09-30' },
      },
    });
    const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
    expect(issued.status).toBe(200);
    const recId: string = created.body.id;

    // Kill while the recommendation workflow is still starting assignments, batch by batch.
    await eventually(async () => ((await h.api.db.models.audit.countDocuments({ action: 'issued' })) >= 5 ? true : undefined), 60_000, 'first assignments');
    await kill(worker);
    trace('killed during issue');
    worker = spawnWorker();

    const audit = h.api.db.models.audit;
    await eventually(async () => ((await audit.countDocuments({ action: 'issued', 'entity.id': { $regex: `^${recId}\\.` } })) === ORGS.length ? true : undefined), 120_000, 'all assignments issued');

    // Mid-transition: submissions are in flight when the worker dies.
    const executors = ORGS.slice(0, 10);
    const contents = new Map(executors.map((code) => [code, Buffer.from(`Отчёт организации ${code}: ${'x'.repeat(1000)}`)]));
    const tokensByOrg = new Map<string, string>();
    for (const code of executors) tokensByOrg.set(code, await h.login(`executor@${code}.test`));
    await waitForPoller();
    const submissions = executors.map((code) => {
      const form = new FormData();
      form.append('comment', `Исполнено (${code})`);
      form.append('files', new Blob([contents.get(code)!]), `${code}.txt`);
      return h.request('POST', `/api/assignments/${recId}.${code}.1/submissions`, { token: tokensByOrg.get(code), form });
    });
    await new Promise((r) => setTimeout(r, 150));
    trace('all issued; submissions sent');
    await kill(worker);
    trace('killed during submissions');
    worker = spawnWorker();
    const results = await Promise.all(submissions);
    trace('submissions answered');
    for (const res of results) expect(res.status).toBe(200);

    // Every assignment exists once, with one 'issued' entry; every submission is recorded once.
    const list = await h.request('GET', `/api/assignments?recommendation=${recId}&limit=500`, { token: tokens.curator });
    expect(list.body.total).toBe(ORGS.length);
    for (const code of ORGS) {
      const detail = await h.request('GET', `/api/assignments/${recId}.${code}.1`, { token: tokens.curator });
      const types = detail.body.history.map((e: { type: string }) => e.type);
      if (executors.includes(code)) {
        expect(types).toEqual(['issued', 'submitted']);
        expect(detail.body.status).toBe('submitted');
        expect(detail.body.evidence).toHaveLength(1);
        const file = detail.body.evidence[0].files[0];
        expect(file.sha256).toBe(createHash('sha256').update(contents.get(code)!).digest('hex'));
        const download = await h.request('GET', file.url, { token: tokens.curator });
        expect(download.raw.equals(contents.get(code)!)).toBe(true);
      } else {
        expect(types).toEqual(['issued']);
      }
    }
    const workflows = h.api.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "assignment/${recId}/"` });
    let count = 0;
    for await (const wf of workflows) {
      expect(wf.status.name).toBe('RUNNING');
      count++;
    }
    expect(count).toBe(ORGS.length);
  }, 300_000);
});
