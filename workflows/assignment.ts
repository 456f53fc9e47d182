/**
 * One recommendation for one addressee for one cycle: holds the deadline timer and the state,
 * and projects every change to MongoDB before the update that caused it returns.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createProjectionActivities } from '../workers/activities/projection';
import type { Audience, createEmailActivities } from '../workers/activities/email';
import type { TemplateName } from '../notifications/render';
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

const { notifyAssignment } = proxyActivities<ReturnType<typeof createEmailActivities>>({
  startToCloseTimeout: '1 minute',
  // An SMTP outage delays mail and must not lose it: keep retrying, ever more slowly.
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** Which email each event sends, and to whom (resolved from stored contacts by the activity). */
const EVENT_EMAILS: Partial<Record<AssignmentEventType, { template: TemplateName; to: Audience[] }>> = {
  issued: { template: 'assignment-issued', to: ['coordinator'] },
  overdue: { template: 'assignment-overdue', to: ['coordinator'] },
  submitted: { template: 'evidence-submitted', to: ['curator'] },
  accepted: { template: 'evidence-accepted', to: ['coordinator'] },
  returned: { template: 'evidence-returned', to: ['coordinator'] },
  'extension-requested': { template: 'extension-requested', to: ['curator'] },
  'extension-approved': { template: 'extension-decided', to: ['coordinator'] },
  'extension-rejected': { template: 'extension-decided', to: ['coordinator'] },
  withdrawn: { template: 'recommendation-withdrawn', to: ['coordinator'] },
};

export async function assignmentWorkflow(input: AssignmentWorkflowInput): Promise<AssignmentState> {
  let state = input.state ?? initialState(input.due);
  // Runs that started before event emails existed keep replaying exactly as they ran.
  const sendsEmail = patched('event-emails-v1');
  // Emails go out beside the process, not in its way: a slow SMTP server must not hold up an
  // update's answer or the deadline timer. The run waits for them only before it ends.
  const mail: Promise<unknown>[] = [];
  // The version is the event's own, taken before any await: by the time the projection returns,
  // a concurrent update may have moved the state on.
  const notify = (event: AssignmentEventType, version: number, details: Record<string, unknown>) => {
    const spec = EVENT_EMAILS[event];
    if (!sendsEmail || !spec) return;
    const text = (key: string) => (typeof details[key] === 'string' ? (details[key] as string) : undefined);
    mail.push(
      notifyAssignment({
        // One key per event occurrence: the version is unique to it, so a retry or a replay reuses it.
        key: `${input.assignmentId}:${event}:v${version}`,
        template: spec.template,
        assignmentId: input.assignmentId,
        to: spec.to,
        details: { comment: text('comment'), reason: text('reason'), until: text('until'), approved: event === 'extension-approved' },
      }),
    );
  };

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
    notify(result.event, snapshot.version, details);
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

  if (!input.state) {
    const version = state.version;
    await project('issued', input.issuedBy, { due: state.due });
    notify('issued', version, {});
  }

  while (!isClosed(state)) {
    // Checked before waiting too: a deadline already past at issue makes the assignment overdue at once.
    const late = markOverdue(state, Date.now());
    if (late) {
      state = late;
      await project('overdue', SYSTEM_ACTOR, { due: state.due });
      notify('overdue', late.version, {});
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await Promise.all(mail);
      return await continueAsNew<typeof assignmentWorkflow>({ ...input, state });
    }
    const seen = state.version;
    const msLeft = Date.parse(state.due) - Date.now();
    if (!state.overdue && msLeft > 0) await condition(() => state.version !== seen, msLeft);
    else await condition(() => state.version !== seen);
  }
  await condition(allHandlersFinished);
  await Promise.all(mail);
  return state;
}
