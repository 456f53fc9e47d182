/**
 * Issuing activities: start (and withdraw) the assignment workflows of one recommendation, a batch
 * at a time. Starting is idempotent through business workflow ids.
 */
import { Context, heartbeat } from '@temporalio/activity';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { FailureType } from '../../domain/errors';
import { type ActorRef, apply, initialState } from '../../domain/assignment';
import { FIRST_CYCLE, assignmentId, assignmentWorkflowId } from '../../domain/ids';
import type { Repositories } from '../../store/repositories';
import { inParallel } from '../../store/serialize';
import type { AssignmentWorkflowInput, ChaseState, CycleToIssue } from '../../workflows/definitions';
import { withdrawAssignmentUpdate } from '../../workflows/definitions';
import { isEndedRunError } from '../../temporal/errors';
import type { DeliveryResult, IssuedEmailFacts } from './email';
import type { PlanNotificationsInput } from './planning';
import type { PlannedStep } from '../../domain/policy';

/** How many workflow starts one activity keeps in flight. */
const CONCURRENCY = 8;

export interface BatchInput {
  recommendationId: string;
  offset: number;
  limit: number;
}


export function createIssuingActivities({
  temporal,
  repos,
  taskQueue,
  notifyIssued,
  planNotifications,
}: {
  temporal: Client;
  repos: Repositories;
  taskQueue: string;
  /** Sends (or, with `deliver` false, only records) a batch's 'issued' emails (see email.ts). */
  notifyIssued: (batch: IssuedEmailFacts[], options: { deliver: boolean }) => Promise<Map<string, DeliveryResult>>;
  /** Plans reminders and escalation for a deadline (planning.ts). */
  planNotifications: (input: PlanNotificationsInput) => Promise<PlannedStep[]>;
}) {
  /**
   * Closes an assignment whose workflow never started. Its workflow is started already withdrawn
   * (a run that ends at once), which takes the workflow id: an action arriving now, which would
   * start the workflow with itself (update-with-start, REJECT_DUPLICATE), finds it ended instead.
   * If an action got there first, its run is withdrawn like any other.
   */
  async function closeUnstarted(row: { _id: string; organization: string; cycle: number; due: Date }, input: { recommendationId: string; actor: ActorRef; reason: string }): Promise<boolean> {
    const key = { recommendationId: input.recommendationId, organization: row.organization, cycle: row.cycle };
    const issued = initialState(row.due.toISOString());
    const closed = apply(issued, { type: 'withdraw', reason: input.reason }, Date.now(), input.actor).state;
    const args: AssignmentWorkflowInput = { assignmentId: row._id, ...key, due: issued.due, issuedBy: input.actor, state: closed };
    try {
      await temporal.workflow.start('assignmentWorkflow', { workflowId: assignmentWorkflowId(key), taskQueue, args: [args], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      try {
        await temporal.workflow.getHandle(assignmentWorkflowId(key)).executeUpdate(withdrawAssignmentUpdate, {
          args: [{ actor: input.actor, reason: input.reason }],
          updateId: `withdraw:${input.recommendationId}`,
        });
        return true;
      } catch (updateError) {
        if (updateError instanceof WorkflowUpdateFailedError || isEndedRunError(updateError)) return false;
        throw updateError;
      }
    }
    return repos.assignments.withdrawUnstarted(row._id);
  }

  return {
    async startAssignmentBatch(input: BatchInput & { issuedBy: ActorRef; /** Absent for a one-off recommendation: its first cycle. */ cycle?: CycleToIssue }): Promise<{ count: number; done: boolean }> {
      const rec = await repos.recommendations.get(input.recommendationId);
      // Permanent: no retry brings it back, and the recommendation's workflow fails saying so.
      if (!rec) throw ApplicationFailure.create({ type: FailureType.NotFound, message: `recommendation ${input.recommendationId} is missing from the registry`, nonRetryable: true });
      const batch = rec.assignees.slice(input.offset, input.offset + input.limit);
      const cycle = input.cycle?.cycle ?? FIRST_CYCLE;
      const due = input.cycle ? new Date(input.cycle.due) : rec.deadline.due;
      const rows = new Map((await repos.assignments.ensureIssued(rec, batch, { cycle, due, period: input.cycle?.period })).map((row) => [row.organization, row]));
      // The whole batch shares one deadline, so one plan of reminders and escalation serves it:
      // each run would otherwise make the same plan in a local activity of its own.
      const issuedAt = new Date().toISOString();
      const chase: ChaseState = {
        due: due.toISOString(),
        issuedAt,
        steps: await planNotifications({ recommendationId: rec._id, due: due.toISOString(), issuedAt, plannedAt: issuedAt }),
        done: [],
      };
      let done = 0;
      const started: string[] = [];
      await inParallel(batch, CONCURRENCY, async (organization) => {
        const key = { recommendationId: rec._id, organization, cycle };
        const args: AssignmentWorkflowInput = {
          assignmentId: assignmentId(key),
          recommendationId: rec._id,
          organization,
          cycle,
          due: due.toISOString(),
          issuedBy: input.issuedBy,
          issuerNotifies: true,
          chase,
        };
        try {
          await temporal.workflow.start('assignmentWorkflow', {
            workflowId: assignmentWorkflowId(key),
            taskQueue,
            args: [args],
            // A closed assignment must never be started again by a retried batch.
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          // Started by an action (it sends its own 'issued' email too: the key makes them one), or
          // by an earlier try of this batch, or withdrawn before it started: no news then.
          if ((await repos.assignments.get(args.assignmentId))?.status === 'withdrawn') return void heartbeat(++done);
        }
        started.push(organization);
        heartbeat(++done);
      });
      // The 'issued' emails of the batch, together, once their runs have started: made from what
      // the batch holds (the rows it wrote, the recommendation, the organisations' contacts).
      const contacts = await repos.organizations.many(started);
      await notifyIssued(
        started.map((organization) => ({ row: rows.get(organization)!, rec, org: contacts.get(organization) ?? null })),
        { deliver: true },
      );
      return { count: batch.length, done: input.offset + batch.length >= rec.assignees.length };
    },

    /** Withdraws one page of the recommendation's open assignments, of every cycle. */
    async withdrawAssignmentBatch(
      input: BatchInput & { actor: ActorRef; reason: string },
    ): Promise<{ count: number; withdrawn: number; done: boolean }> {
      const page = await repos.assignments.openPage(input.recommendationId, input.offset, input.limit);
      let withdrawn = 0;
      let seen = 0;
      await inParallel(page.rows, CONCURRENCY, async (row) => {
        const key = { recommendationId: input.recommendationId, organization: row.organization, cycle: row.cycle };
        const handle = temporal.workflow.getHandle(assignmentWorkflowId(key));
        try {
          // Abortable: an update waits on a workflow task, and a draining worker polls for none.
          await temporal.withAbortSignal(Context.current().cancellationSignal, () =>
            handle.executeUpdate(withdrawAssignmentUpdate, {
              args: [{ actor: input.actor, reason: input.reason }],
              // One id per assignment and withdrawal: a retried batch is deduplicated by Temporal.
              updateId: `withdraw:${input.recommendationId}`,
            }),
          );
          withdrawn++;
        } catch (error) {
          // Already accepted (refused by the validator) or already finished: nothing to withdraw.
          const finished = isEndedRunError(error);
          if (!(error instanceof WorkflowUpdateFailedError) && !finished) throw error;
          // Never started (withdrawn while issuing was under way): only its read-model row exists.
          if (error instanceof WorkflowNotFoundError && row.version === 0 && (await closeUnstarted(row, input))) withdrawn++;
        }
        heartbeat(++seen);
      });
      return { count: page.count, withdrawn, done: page.done };
    },
  };
}
