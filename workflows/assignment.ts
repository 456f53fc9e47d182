/**
 * One recommendation for one addressee for one cycle: holds the deadline timer and the state,
 * and projects every change to MongoDB before the update that caused it returns.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createProjectionActivities } from '../workers/activities/projection';
import {
  type ActorRef,
  type AssignmentCommand,
  type AssignmentEventType,
  type AssignmentState,
  SYSTEM_ACTOR,
  apply,
  initialState,
  isClosed,
  markOverdue,
  refusal,
} from '../domain/assignment';
import { FailureType } from '../domain/errors';
import {
  type AssignmentWorkflowInput,
  assignmentStateQuery,
  decideExtensionUpdate,
  requestExtensionUpdate,
  reviewUpdate,
  submitEvidenceUpdate,
  withdrawAssignmentUpdate,
} from './definitions';

const { projectAssignment } = proxyActivities<ReturnType<typeof createProjectionActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function assignmentWorkflow(input: AssignmentWorkflowInput): Promise<AssignmentState> {
  let state = input.state ?? initialState(input.due);

  const project = (event: AssignmentEventType, actor: ActorRef, details: Record<string, unknown>) =>
    projectAssignment({
      assignmentId: input.assignmentId,
      recommendationId: input.recommendationId,
      organization: input.organization,
      cycle: input.cycle,
      state,
      event,
      actor,
      at: new Date().toISOString(),
      details,
    });

  const refuseIfIllegal = (command: AssignmentCommand) => {
    const reason = refusal(state, command, Date.now());
    if (reason) throw ApplicationFailure.create({ type: FailureType.IllegalTransition, message: reason, nonRetryable: true });
  };

  // State changes synchronously, before the first await, so concurrent updates see each other's
  // effects; the projection carries the version, so the read model never goes back in time.
  const change = async (command: AssignmentCommand, actor: ActorRef, details: Record<string, unknown>) => {
    refuseIfIllegal(command);
    const result = apply(state, command, Date.now(), actor);
    state = result.state;
    const snapshot = state;
    await project(result.event, actor, details);
    return snapshot;
  };

  setHandler(
    submitEvidenceUpdate,
    ({ actor, evidenceId, comment, files }) =>
      change({ type: 'submit', evidenceId, comment, files }, actor, { evidenceId, comment, files }),
    { validator: ({ evidenceId, comment, files }) => refuseIfIllegal({ type: 'submit', evidenceId, comment, files }) },
  );
  setHandler(
    reviewUpdate,
    ({ actor, decision, comment }) =>
      change({ type: 'review', decision, comment }, actor, {
        decision,
        comment,
        evidenceId: state.lastSubmission?.evidenceId,
      }),
    { validator: ({ decision, comment }) => refuseIfIllegal({ type: 'review', decision, comment }) },
  );
  setHandler(
    requestExtensionUpdate,
    ({ actor, until, reason }) =>
      change({ type: 'request-extension', until, reason }, actor, { until, reason, due: state.due }),
    { validator: ({ until, reason }) => refuseIfIllegal({ type: 'request-extension', until, reason }) },
  );
  setHandler(
    decideExtensionUpdate,
    ({ actor, approve, comment }) =>
      change({ type: 'decide-extension', approve, comment }, actor, {
        approve,
        comment,
        until: state.extension?.until,
        previousDue: state.due,
      }),
    { validator: ({ approve, comment }) => refuseIfIllegal({ type: 'decide-extension', approve, comment }) },
  );
  setHandler(
    withdrawAssignmentUpdate,
    ({ actor, reason }) => change({ type: 'withdraw', reason }, actor, { reason }),
    { validator: ({ reason }) => refuseIfIllegal({ type: 'withdraw', reason }) },
  );
  setHandler(assignmentStateQuery, () => state);

  if (!input.state) await project('issued', input.issuedBy, { due: state.due });

  while (!isClosed(state)) {
    // Checked before waiting too: a deadline already past at issue makes the assignment overdue at once.
    const late = markOverdue(state, Date.now());
    if (late) {
      state = late;
      await project('overdue', SYSTEM_ACTOR, { due: state.due });
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof assignmentWorkflow>({ ...input, state });
    }
    const seen = state.version;
    const msLeft = Date.parse(state.due) - Date.now();
    if (!state.overdue && msLeft > 0) await condition(() => state.version !== seen, msLeft);
    else await condition(() => state.version !== seen);
  }
  await condition(allHandlersFinished);
  return state;
}
