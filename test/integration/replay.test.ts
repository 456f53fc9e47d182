/**
 * Determinism guard: the current workflow code must replay the histories that earlier versions
 * wrote (file names say the generation: `.before-emails`, `.event-emails`, and the current one;
 * `recommendation-issued-and-withdrawn` is a run from before `recommendation-run-ends-v1`, which
 * waited for its withdrawal after issuing; `.before-deadline` is a digest run from before
 * `digest-deadline-v1`; `.before-issue-local` an assignment run from before `issue-local-v1`, which
 * projected its issue with an activity task of its own; `.run-plans` an assignment run that planned
 * its reminders itself, from before the issuing batch handed each run its plan). Stored histories live in test/fixtures/histories as binary protobuf (the SDK's JSON converter trips over two protobufjs copies); `CAPTURE_HISTORIES=1 npx jest replay` records fresh
 * ones from real runs (`CAPTURE_HISTORIES=recurring,digest` only the scenarios so named): do it when a
 * workflow changes under patched(), and commit them beside the old.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { assignmentWorkflowId, recommendationWorkflowId } from '../../domain/ids';
import { digestScheduleId } from '../../workers/schedules';
import { runDigestPastDeadline } from '../support/digest';
import { eventually, startHarness, type Harness } from '../support/harness';
import { readStackInfo } from '../support/stack-info';

const FIXTURES = path.resolve(__dirname, '../fixtures/histories');
let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  h = await startHarness('replay');
  tokens = await h.seedUsers();
});
afterAll(() => h?.stop());

const replayOptions = () => ({ workflowBundle: { codePath: readStackInfo().workflowBundlePath } });

async function issue(assignees: string[], due: string, policy?: unknown) {
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: { source: { kind: 'letter', number: '1', date: '2024-01-10' }, text: 'Рекомендация для истории', assignees, deadline: { due }, policy },
  });
  const issued = await h.request('POST', `/api/recommendations/${created.body.id}/issue`, { token: tokens.curator });
  for (const a of issued.body.assignments) {
    await eventually(async () => ((await h.request('GET', `/api/assignments/${a.id}`, { token: tokens.curator })).body.history?.length ? true : undefined));
  }
  return issued.body as { id: string; assignments: Array<{ id: string; organization: string }> };
}

/** Runs every kind of transition on real workflows and returns their finished histories. */
async function recordScenarios(): Promise<Array<{ name: string; workflowId: string; runId?: string }>> {
  const soon = new Date(Date.now() + 2000).toISOString();
  const rec = await issue(['org-a', 'org-b'], soon);
  // Since recommendation-run-ends-v1 the issuing run ends; the withdrawal below starts a run of its own.
  const issuingRunId = (await h.api.temporal.workflow.getHandle(recommendationWorkflowId(rec.id)).describe()).runId;
  const [a, b] = ['org-a', 'org-b'].map((org) => rec.assignments.find((x) => x.organization === org)!);
  // a: overdue → extension requested and approved → submitted → returned → submitted → accepted
  await eventually(async () => ((await h.request('GET', `/api/assignments/${a.id}`, { token: tokens.curator })).body.overdue ? true : undefined));
  await h.request('POST', `/api/assignments/${a.id}/extension-requests`, { token: tokens.executor, json: { until: '2099-01-31', reason: 'Нужно время' } });
  await h.request('POST', `/api/assignments/${a.id}/extension-requests/decision`, { token: tokens.curator, json: { approve: true } });
  for (const step of ['submit', 'return', 'submit', 'accept']) {
    if (step === 'submit') {
      const form = new FormData();
      form.append('comment', 'Отчёт');
      form.append('files', new Blob(['x']), 'x.txt');
      expect((await h.request('POST', `/api/assignments/${a.id}/submissions`, { token: tokens.executor, form })).status).toBe(200);
    } else {
      const json = step === 'accept' ? { decision: 'accept' } : { decision: 'return', comment: 'Доработать' };
      expect((await h.request('POST', `/api/assignments/${a.id}/review`, { token: tokens.curator, json })).status).toBe(200);
    }
  }
  // b: extension rejected, then the whole recommendation withdrawn
  await h.request('POST', `/api/assignments/${b.id}/extension-requests`, { token: tokens.otherExecutor, json: { until: '2099-01-31', reason: 'Нужно время' } });
  await h.request('POST', `/api/assignments/${b.id}/extension-requests/decision`, { token: tokens.curator, json: { approve: false, comment: 'Нет' } });
  expect((await h.request('POST', `/api/recommendations/${rec.id}/withdraw`, { token: tokens.curator, json: { reason: 'Отменено' } })).status).toBe(200);

  // c: a seconds-scale policy: reminder, overdue, the first escalation step, then accepted late.
  const policy = { remindBefore: ['PT3S'], escalateAfter: [{ after: 'PT1S', to: 'head' }, { after: 'P30D', to: 'observers' }] };
  const laddered = await issue(['org-a'], new Date(Date.now() + 5000).toISOString(), policy);
  const c = laddered.assignments[0];
  await eventually(async () => ((await h.api.db.models.outbox.countDocuments({ 'context.assignmentId': c.id, template: 'assignment-escalated' })) > 0 ? true : undefined), 30_000, 'the escalation');
  const form = new FormData();
  form.append('comment', 'Поздний отчёт');
  expect((await h.request('POST', `/api/assignments/${c.id}/submissions`, { token: tokens.executor, form })).status).toBe(200);
  expect((await h.request('POST', `/api/assignments/${c.id}/review`, { token: tokens.curator, json: { decision: 'accept' } })).status).toBe(200);

  // d: a seconds-scale recurring recommendation: the first run continues as new into the second
  // cycle's run, which is then withdrawn.
  const recurring = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: {
      source: { kind: 'letter', number: '1', date: '2024-01-10' },
      text: 'Повторяющаяся рекомендация для истории',
      assignees: ['org-a'],
      deadline: { due: new Date(Date.now() + 3000).toISOString(), recurrence: { frequency: 'interval', every: 'PT10S', leadTime: 'PT10S' } },
      policy: { remindBefore: [], escalateAfter: [] },
    },
  });
  expect((await h.request('POST', `/api/recommendations/${recurring.body.id}/issue`, { token: tokens.curator })).status).toBe(200);
  const recurringId = recommendationWorkflowId(recurring.body.id);
  const firstRunId = (await h.api.temporal.workflow.getHandle(recurringId).describe()).runId;
  await eventually(async () => ((await h.api.db.repos.assignments.forRecommendation(recurring.body.id)).some((a) => a.cycle === 2) ? true : undefined), 20_000, 'the second cycle');
  expect((await h.request('POST', `/api/recommendations/${recurring.body.id}/withdraw`, { token: tokens.curator, json: { reason: 'Отменено' } })).status).toBe(200);

  const ids = [
    { name: 'recommendation-recurring-continued-as-new', workflowId: recurringId, runId: firstRunId },
    { name: 'recommendation-recurring-withdrawn', workflowId: recurringId },
    { name: 'assignment-reminded-escalated-accepted', workflowId: assignmentWorkflowId({ recommendationId: laddered.id, organization: 'org-a', cycle: 1 }) },
    { name: 'assignment-accepted-after-return-and-extension', workflowId: assignmentWorkflowId({ recommendationId: rec.id, organization: 'org-a', cycle: 1 }) },
    { name: 'assignment-withdrawn-after-rejected-extension', workflowId: assignmentWorkflowId({ recommendationId: rec.id, organization: 'org-b', cycle: 1 }) },
    { name: 'recommendation-issued-run-ended', workflowId: recommendationWorkflowId(rec.id), runId: issuingRunId },
    { name: 'recommendation-withdrawn-by-own-run', workflowId: recommendationWorkflowId(rec.id) },
  ];
  for (const { workflowId } of ids) await h.api.temporal.workflow.getHandle(workflowId).result();
  // These have closed when they are returned.
  return [...ids, ...(await recordEmailScenarios())];
}

/** The scheduled and on-demand runs besides assignments and recommendations: the digest, the delivery lane, a resend. */
async function recordEmailScenarios(): Promise<Array<{ name: string; workflowId: string; runId: string }>> {
  const completed = (type: string) =>
    eventually(async () => {
      const query = `WorkflowType = '${type}' AND TaskQueue = '${h.config.TEMPORAL_TASK_QUEUE}' AND ExecutionStatus = 'Completed'`;
      for await (const run of h.api.temporal.workflow.list({ query })) return { workflowId: run.workflowId, runId: run.runId };
      return undefined;
    }, 30_000, `a completed ${type}`);
  // A digest run past its deadline: the week reported missed, the run failed (digest-deadline-v1).
  const missed = await runDigestPastDeadline(h, readStackInfo().smtpUrl ?? 'smtp://127.0.0.1:1');
  expect(missed.failure).toBeDefined();
  await h.api.temporal.schedule.getHandle(digestScheduleId(h.config.TEMPORAL_TASK_QUEUE)).trigger();
  const sent = await h.api.db.models.outbox.findOne({ status: 'sent' }).lean();
  expect(sent).toBeTruthy();
  const resent = await h.request('POST', `/api/outbox/${encodeURIComponent(sent!._id)}/resend`, { token: tokens.admin });
  expect(resent.status).toBe(200);
  return [
    { name: 'curator-digest-sent', ...(await completed('curatorDigestWorkflow')) },
    { name: 'curator-digest-missed', workflowId: missed.workflowId, runId: missed.runId },
    { name: 'email-redelivery-run', ...(await completed('redeliverEmailsWorkflow')) },
    { name: 'email-resent', ...(await completed('resendEmailWorkflow')) },
  ];
}

/** CAPTURE_HISTORIES=1 records every scenario; CAPTURE_HISTORIES=<word>[,<word>…] only those named with one of them. */
function capturing(name: string): boolean {
  const wanted = process.env.CAPTURE_HISTORIES;
  return Boolean(wanted) && (wanted === '1' || wanted!.split(',').some((word) => name.includes(word)));
}

describe('workflow histories', () => {
  it('recorded now replay with the current workflow code', async () => {
    const recorded = await recordScenarios();
    for (const { name, workflowId, runId } of recorded) {
      const history = await h.api.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
      await Worker.runReplayHistory(replayOptions(), history, workflowId);
      if (capturing(name)) {
        await writeFile(path.join(FIXTURES, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
      }
    }
  });

  it('stored from every earlier generation replay with the current workflow code', async () => {
    const stored = (await readdir(FIXTURES)).filter((f) => f.endsWith('.binpb'));
    // Every generation: before event emails (no patch marker), with event emails only
    // (`event-emails-v1`), and with reminders and escalation (`notification-policy-v1`). The first
    // generation includes an assignment issued already past its deadline, recorded with the code of
    // a1d0e26: it waited before looking at the deadline, where later code looks first.
    expect(stored.filter((f) => f.endsWith('.before-emails.binpb'))).toHaveLength(4);
    expect(stored).toContain('assignment-issued-past-due.before-emails.binpb');
    expect(stored.filter((f) => f.endsWith('.event-emails.binpb'))).toHaveLength(3);
    // Assignments before and since `issue-local-v1`.
    expect(stored.filter((f) => f.endsWith('.before-issue-local.binpb')).sort()).toEqual([
      'assignment-accepted-after-return-and-extension.before-issue-local.binpb',
      'assignment-reminded-escalated-accepted.before-issue-local.binpb',
      'assignment-withdrawn-after-rejected-extension.before-issue-local.binpb',
    ]);
    for (const name of ['assignment-accepted-after-return-and-extension', 'assignment-reminded-escalated-accepted', 'assignment-withdrawn-after-rejected-extension']) {
      const [before, since] = await Promise.all([readFile(path.join(FIXTURES, `${name}.before-issue-local.binpb`)), readFile(path.join(FIXTURES, `${name}.binpb`))]);
      expect({ name, before: before.includes('issue-local-v1'), since: since.includes('issue-local-v1') }).toEqual({ name, before: false, since: true });
    }
    // Assignments whose run planned its own reminders (a local activity), and those the issuing
    // batch handed a plan in their input.
    for (const name of ['assignment-accepted-after-return-and-extension', 'assignment-reminded-escalated-accepted', 'assignment-withdrawn-after-rejected-extension']) {
      const [before, since] = await Promise.all([readFile(path.join(FIXTURES, `${name}.run-plans.binpb`)), readFile(path.join(FIXTURES, `${name}.binpb`))]);
      expect({ name, before: before.includes('"chase":'), since: since.includes('"chase":') }).toEqual({ name, before: false, since: true });
    }
    expect(stored.filter((f) => !/\.(before-emails|event-emails|before-deadline|before-issue-local|run-plans)\.binpb$/.test(f)).length).toBeGreaterThanOrEqual(4);
    // The recurring recommendation's two kinds of run: one ending in continue-as-new, one withdrawn.
    expect(stored.filter((f) => f.startsWith('recommendation-recurring-'))).toHaveLength(2);
    // A one-off recommendation's run that waited for its withdrawal, and the two that end
    // (recommendation-run-ends-v1): the issuing one, and a withdrawal's own.
    expect(stored.filter((f) => /^recommendation-(issued|withdrawn)-/.test(f)).sort()).toEqual([
      'recommendation-issued-and-withdrawn.before-emails.binpb',
      'recommendation-issued-and-withdrawn.binpb',
      'recommendation-issued-and-withdrawn.event-emails.binpb',
      'recommendation-issued-run-ended.binpb',
      'recommendation-withdrawn-by-own-run.binpb',
    ]);
    // The digest before and since `digest-deadline-v1`, and the two email workflows.
    expect(stored.filter((f) => /^(curator-digest|email)-/.test(f)).sort()).toEqual([
      'curator-digest-missed.binpb',
      'curator-digest-sent.before-deadline.binpb',
      'curator-digest-sent.binpb',
      'email-redelivery-run.binpb',
      'email-resent.binpb',
    ]);
    for (const file of stored) {
      const history = temporal.api.history.v1.History.decode(await readFile(path.join(FIXTURES, file)));
      await expect(Worker.runReplayHistory(replayOptions(), history, file)).resolves.toBeUndefined();
    }
  });
});
