/**
 * A recommendation's workflow ends when its work is done, a later withdrawal still works (a short
 * run of its own), and an issue and a withdrawal fired at the same moment always end in one
 * consistent state: the recommendation withdrawn, no row left open and no assignment running.
 */
import { WithStartWorkflowOperation, WorkflowExecutionStatusName } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createIssuingActivities } from '../../workers/activities/issuing';
import { assignmentWorkflow } from '../../workflows';
import { submitEvidenceUpdate } from '../../workflows/definitions';
import { assignmentWorkflowId, recommendationWorkflowId } from '../../domain/ids';
import { eventually, startHarness, type Harness } from '../support/harness';

let h: Harness;
let tokens: Awaited<ReturnType<Harness['seedUsers']>>;

beforeAll(async () => {
  h = await startHarness('lifecycle');
  tokens = await h.seedUsers();
});
afterAll(() => h?.stop());

const ORGS = ['org-a', 'org-b'];
const executorOf: Record<string, () => string> = { 'org-a': () => tokens.executor, 'org-b': () => tokens.otherExecutor };

async function draft(assignees = ORGS): Promise<string> {
  const created = await h.request('POST', '/api/recommendations', {
    token: tokens.curator,
    json: { source: { kind: 'letter', number: '77', date: '2026-11-02' }, text: 'Представить отчёт о проведённых мероприятиях', assignees, deadline: { due: '2099-09-30' } },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function issue(id: string) {
  const res = await h.request('POST', `/api/recommendations/${id}/issue`, { token: tokens.curator });
  expect(res.status).toBe(200);
  return res.body as { assignments: Array<{ id: string; organization: string }> };
}

const status = async (workflowId: string, runId?: string): Promise<WorkflowExecutionStatusName> =>
  (await h.api.temporal.workflow.getHandle(workflowId, runId).describe()).status.name;

const ended = (workflowId: string) =>
  eventually(async () => ((await status(workflowId)) === 'COMPLETED' ? true : undefined), 30_000, `${workflowId} to complete`);

async function acceptAll(assignments: Array<{ id: string; organization: string }>) {
  for (const a of assignments) {
    const form = new FormData();
    form.append('comment', 'Отчёт о проведённых мероприятиях');
    const submitted = await eventually(async () => {
      const res = await h.request('POST', `/api/assignments/${a.id}/submissions`, { token: executorOf[a.organization](), form });
      return res.status === 200 ? res : undefined;
    }, 30_000, `a submission to ${a.id}`);
    expect(submitted.body.status).toBe('submitted');
    const accepted = await h.request('POST', `/api/assignments/${a.id}/review`, { token: tokens.curator, json: { decision: 'accept' } });
    expect(accepted.status).toBe(200);
  }
}

describe('a one-off recommendation', () => {
  it('leaves no execution open once it is issued and every assignment is accepted', async () => {
    const id = await draft();
    const { assignments } = await issue(id);
    await ended(recommendationWorkflowId(id));
    await acceptAll(assignments);
    for (const organization of ORGS) await ended(assignmentWorkflowId({ recommendationId: id, organization, cycle: 1 }));
    expect(await status(recommendationWorkflowId(id))).toBe('COMPLETED');
  });

  it('is withdrawn after its run has ended: a run of its own withdraws what is open and ends', async () => {
    const id = await draft();
    const { assignments } = await issue(id);
    const issuing = await h.api.temporal.workflow.getHandle(recommendationWorkflowId(id)).describe();
    await ended(recommendationWorkflowId(id));
    await acceptAll(assignments.filter((a) => a.organization === 'org-a'));

    const res = await h.request('POST', `/api/recommendations/${id}/withdraw`, { token: tokens.curator, json: { reason: 'Утратило актуальность' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'withdrawn', withdrawal: { reason: 'Утратило актуальность' } });

    const withdrawing = await h.api.temporal.workflow.getHandle(recommendationWorkflowId(id)).describe();
    expect(withdrawing.runId).not.toBe(issuing.runId);
    expect(withdrawing.memo).toEqual({ purpose: 'withdraw' });
    await ended(recommendationWorkflowId(id));
    const rows = await h.api.db.repos.assignments.forRecommendation(id);
    expect(Object.fromEntries(rows.map((row) => [row.organization, row.status]))).toEqual({ 'org-a': 'accepted', 'org-b': 'withdrawn' });
    await ended(assignmentWorkflowId({ recommendationId: id, organization: 'org-b', cycle: 1 }));

    const again = await h.request('POST', `/api/recommendations/${id}/withdraw`, { token: tokens.curator, json: { reason: 'Ещё раз' } });
    expect(again.status).toBe(409);
  });

  it('withdrawn as a draft cannot be issued afterwards, and leaves no row', async () => {
    const id = await draft();
    const withdrawn = await h.request('POST', `/api/recommendations/${id}/withdraw`, { token: tokens.curator, json: { reason: 'Ошибка в тексте' } });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('withdrawn');
    const refused = await h.request('POST', `/api/recommendations/${id}/issue`, { token: tokens.curator });
    expect(refused.status).toBe(409);
    expect(await h.api.db.repos.assignments.forRecommendation(id)).toEqual([]);
  });
});

describe('an action right after issuing', () => {
  it('succeeds at once for each of 300 addressees, whether or not the issuing has started its workflow', async () => {
    const codes = Array.from({ length: 300 }, (_, i) => `mass-${String(i).padStart(3, '0')}`);
    for (const code of codes) {
      await h.api.db.repos.organizations.create({ _id: code, name: `Организация ${code}`, kind: 'municipality', groups: [], contacts: { coordinator: [`coordinator@${code}.test`], head: [] } });
    }
    const id = await draft(codes);
    const { assignments } = await issue(id);
    expect(assignments).toHaveLength(300);
    const service = h.api.services.assignments;
    const failures: string[] = [];
    let next = 0;
    // Submitted as the executors would, twenty at a time, as soon as the issue has answered.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < assignments.length) {
          const a = assignments[next++];
          const view = (await h.api.db.repos.assignments.get(a.id))!;
          const actor = { id: `user-${a.organization}`, email: `executor@${a.organization}.test`, role: 'executor' as const, organization: a.organization };
          try {
            const { view: after } = await service.submitEvidence(view, actor, 'Отчёт сразу после выдачи', [], undefined as never);
            if (after.status !== 'submitted') failures.push(`${a.id}: ${after.status}`);
          } catch (error) {
            failures.push(`${a.id}: ${String(error)}`);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
    await ended(recommendationWorkflowId(id));
    const rows = await h.api.db.repos.assignments.forRecommendation(id);
    expect(rows.filter((row) => row.status === 'submitted')).toHaveLength(300);
    // Each assignment was issued exactly once, whoever started its workflow.
    for (const a of assignments.slice(0, 30)) {
      const history = await h.api.db.repos.audit.forEntity('assignment', a.id);
      expect({ id: a.id, events: history.map((e) => e.action) }).toEqual({ id: a.id, events: ['issued', 'submitted'] });
    }
  }, 180_000);
});

describe('an assignment withdrawn before its workflow started', () => {
  it('takes the workflow id with a run that ends at once, so a late action cannot start it', async () => {
    const id = await draft(['org-c']);
    // Issued in the registry and the read model, but its workflows never started: the moment a
    // withdrawal overtakes the issuing.
    const actor = { id: 'u-curator', email: 'curator@kontrol.test', role: 'curator' as const };
    const rec = (await h.api.db.repos.recommendations.markIssued(id, actor))!;
    const [row] = await h.api.db.repos.assignments.ensureIssued(rec, ['org-c']);
    const notified: string[] = [];
    const activities = createIssuingActivities({
      temporal: h.api.temporal,
      repos: h.api.db.repos,
      taskQueue: h.config.TEMPORAL_TASK_QUEUE,
      notifyIssued: async (batch) => {
        notified.push(...batch.map((facts) => facts.row._id));
        return new Map(batch.map((facts) => [facts.row._id, 'sent' as const]));
      },
      planNotifications: async () => [],
    });
    const batch = await new MockActivityEnvironment().run(activities.withdrawAssignmentBatch, { recommendationId: id, actor, reason: 'Отменено до начала', offset: 0, limit: 10 });
    expect(batch).toMatchObject({ withdrawn: 1, done: true });

    const workflowId = assignmentWorkflowId({ recommendationId: id, organization: 'org-c', cycle: 1 });
    await ended(workflowId);
    expect(await h.api.temporal.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'withdrawn', version: 2 });
    expect(await h.api.db.repos.assignments.get(row._id)).toMatchObject({ status: 'withdrawn', version: 2 });
    // An action that read the row before the withdrawal and starts the workflow with itself:
    // refused, and nothing runs.
    const late = h.api.temporal.workflow.executeUpdateWithStart(submitEvidenceUpdate, {
      args: [{ actor: { id: 'u-c', email: 'executor@org-c.test', role: 'executor' }, evidenceId: 'late', comment: 'Поздно', files: 0 }],
      startWorkflowOperation: new WithStartWorkflowOperation(assignmentWorkflow, {
        workflowId,
        taskQueue: h.config.TEMPORAL_TASK_QUEUE,
        args: [{ assignmentId: row._id, recommendationId: id, organization: 'org-c', cycle: 1, due: row.due.toISOString(), issuedBy: actor }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      }),
    });
    await expect(late).rejects.toBeInstanceOf(Error);
    expect(await status(workflowId)).toBe('COMPLETED');
    // The issuing batch, retried after all this: nothing started again, and no 'issued' email for
    // a withdrawn assignment.
    const retried = await new MockActivityEnvironment().run(activities.startAssignmentBatch, { recommendationId: id, issuedBy: actor, offset: 0, limit: 10 });
    expect(retried).toMatchObject({ count: 1, done: true });
    expect(notified).toEqual([]);
    expect(await status(workflowId)).toBe('COMPLETED');
  });
});

describe('an issue and a withdrawal fired at the same moment', () => {
  it('end withdrawn every time, with every row withdrawn and no assignment running', async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, () => draft()));
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        const [issued, withdrawn] = await Promise.all([
          h.request('POST', `/api/recommendations/${id}/issue`, { token: tokens.curator }),
          h.request('POST', `/api/recommendations/${id}/withdraw`, { token: tokens.curator, json: { reason: 'Одновременно' } }),
        ]);
        return { id, issued: issued.status, withdrawn: withdrawn.status };
      }),
    );
    for (const outcome of outcomes) {
      expect([200, 409]).toContain(outcome.issued);
      expect(outcome.withdrawn).toBe(200);
    }
    for (const id of ids) {
      await ended(recommendationWorkflowId(id));
      const rec = await h.api.db.repos.recommendations.get(id);
      expect({ id, status: rec?.status }).toEqual({ id, status: 'withdrawn' });
      const rows = await eventually(async () => {
        const found = await h.api.db.repos.assignments.forRecommendation(id);
        return found.every((row) => row.status === 'withdrawn') ? found : undefined;
      }, 30_000, `every row of ${id} withdrawn`);
      for (const row of rows) {
        const workflowId = assignmentWorkflowId({ recommendationId: id, organization: row.organization, cycle: row.cycle });
        // Withdrawn, it ends once its last emails are handed over: moments after the row says so.
        await eventually(async () => ((await status(workflowId).catch(() => 'NOT_FOUND')) !== 'RUNNING' ? true : undefined), 30_000, `${workflowId} to end`);
      }
    }
  });
});
