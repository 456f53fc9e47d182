/**
 * One recommendation for one addressee for one cycle: holds the deadline timer and the state,
 * and projects every change to MongoDB before the update that caused it returns.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createProjectionActivities } from '../workers/activities/projection';
import type { createEmailActivities } from '../workers/activities/email';
import type { createPlanningActivities } from '../workers/activities/planning';
import type { PlannedStep } from '../domain/policy';
import type { AssignmentTemplateName } from '../notifications/render';
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
  EVENT_EMAILS,
  type AssignmentWorkflowInput,
  type ChaseState,
  eventEmailKey,
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
  // The activity heartbeats while it sends: a worker killed mid-send is noticed in seconds.
  heartbeatTimeout: '5 seconds',
  // An SMTP outage delays mail and must not lose it: keep retrying, ever more slowly.
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

// Planning reads the policy and the calendar: quick reads, so a local activity (a marker in history).
const { planNotifications } = proxyLocalActivities<ReturnType<typeof createPlanningActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// The 'issued' projection, written in the run's first workflow task (issue-local-v1): issuing
// 2,300 addressees then costs 2,300 workflow tasks and activity tasks fewer.
const { projectAssignment: projectAssignmentLocally } = proxyLocalActivities<ReturnType<typeof createProjectionActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * An email that failed for good (a typed, non-retryable failure: its assignment or recommendation
 * gone from the store) must not fail the assignment: the outbox and the worker's log say what
 * happened. Catching adds no command, so histories replay unchanged.
 */
const quietly = (email: Promise<unknown>): Promise<unknown> =>
  email.catch((error: unknown) => {
    log.warn('an email failed for good', { error: error instanceof Error ? error.message : String(error) });
  });

const STEP_TEMPLATES: Record<PlannedStep['kind'], AssignmentTemplateName> = {
  reminder: 'assignment-reminder',
  escalation: 'assignment-escalated',
  repeat: 'assignment-still-overdue',
};

export async function assignmentWorkflow(input: AssignmentWorkflowInput): Promise<AssignmentState> {
  let state = input.state ?? initialState(input.due);
  // The state as issued, kept apart: a run started by an action (update-with-start) runs that
  // action's handler as soon as it is registered, before the 'issued' projection below is made.
  const issued = state;
  // Runs that started before event emails existed keep replaying exactly as they ran.
  const sendsEmail = patched('event-emails-v1');
  // Reminders and the escalation ladder: runs that began before them go on without.
  const chases = sendsEmail && patched('notification-policy-v1');
  const issuedAt = input.chase?.issuedAt ?? new Date().toISOString();
  let chase: ChaseState | undefined = input.chase;
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
      quietly(
        notifyAssignment({
          key: eventEmailKey(input.assignmentId, event, version),
          template: spec.template,
          assignmentId: input.assignmentId,
          to: spec.to,
          details: { comment: text('comment'), reason: text('reason'), until: text('until'), approved: event === 'extension-approved' },
        }),
      ),
    );
  };

  // The ball is with the addressee: only then are reminders and escalation about anything.
  const addresseeOwes = () => state.status === 'issued' || state.status === 'returned';

  /**
   * Handles the steps whose time has come; true when it changed anything, so the loop looks again.
   * Each step is handled once per deadline: sent, or dropped when it no longer applies.
   */
  const chaseDueSteps = async (): Promise<boolean> => {
    if (!chases) return false;
    if (!chase || chase.due !== state.due) {
      const due = state.due;
      const steps = await planNotifications({ recommendationId: input.recommendationId, due, issuedAt, plannedAt: new Date().toISOString() });
      chase = { due, issuedAt, steps, done: [] };
      return true;
    }
    const current = chase;
    const now = Date.now();
    const ready = current.steps.filter((step) => !current.done.includes(step.id) && Date.parse(step.at) <= now);
    const reminders = ready.filter((step) => step.kind === 'reminder');
    // Evidence on review when an escalation comes due: the curator has the ball, so it waits and goes
    // out if the evidence comes back while still late.
    const chasing = state.overdue && addresseeOwes();
    const escalations = chasing ? ready.filter((step) => step.kind === 'escalation') : [];
    const repeats = chasing ? ready.filter((step) => step.kind === 'repeat') : [];
    if (reminders.length + escalations.length + repeats.length === 0) return false;
    // Several reminders (or repeats) due at once, say after a worker was down, or evidence on review
    // for weeks: one email, the latest. Escalation steps differ in recipients, so each goes.
    const reminder = reminders.at(-1);
    const send = [
      ...(reminder && addresseeOwes() && now < Date.parse(state.due) ? [reminder] : []),
      ...escalations,
      ...repeats.slice(-1),
    ];
    current.done = [...current.done, ...[...reminders, ...escalations, ...repeats].map((step) => step.id)];
    for (const step of send) {
      mail.push(
        quietly(
          notifyAssignment({
            key: `${input.assignmentId}:${step.id}:due-${current.due}`,
            template: STEP_TEMPLATES[step.kind],
            assignmentId: input.assignmentId,
            to: step.to,
            details: { step: step.index },
            state: { status: state.status, overdue: state.overdue, due: state.due },
          }),
        ),
      );
    }
    return true;
  };

  /** The next instant something is due: a step not yet handled, or the deadline itself. */
  const nextWake = (): number | undefined => {
    const now = Date.now();
    const times = (chase?.steps ?? [])
      .filter((step) => !chase!.done.includes(step.id))
      .map((step) => Date.parse(step.at))
      .filter((at) => at > now);
    if (!state.overdue) times.push(Date.parse(state.due));
    const future = times.filter((at) => at > now);
    return future.length > 0 ? Math.min(...future) : undefined;
  };

  const project = (event: AssignmentEventType, actor: ActorRef, details: Record<string, unknown>, snapshot = state, run = projectAssignment) =>
    run({
      assignmentId: input.assignmentId,
      recommendationId: input.recommendationId,
      organization: input.organization,
      cycle: input.cycle,
      state: snapshot,
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
    await project('issued', input.issuedBy, { due: issued.due }, issued, patched('issue-local-v1') ? projectAssignmentLocally : projectAssignment);
    if (!input.issuerNotifies) notify('issued', issued.version, {});
  }

  for (let first = true; !isClosed(state); first = false) {
    // Checked before waiting too (c7a3037): a deadline already past at issue makes the assignment
    // overdue at once. Runs from before event-emails-v1 checked only after a wait, so their first
    // pass waits first, as their histories say it did. (The 34 minutes of development between
    // c7a3037 and event-emails-v1 were never released; their histories alone would not replay.)
    const late = first && !sendsEmail ? undefined : markOverdue(state, Date.now());
    if (late) {
      state = late;
      await project('overdue', SYSTEM_ACTOR, { due: state.due });
      notify('overdue', late.version, {});
      continue;
    }
    if (await chaseDueSteps()) continue;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await Promise.all(mail);
      return await continueAsNew<typeof assignmentWorkflow>({ ...input, state, chase });
    }
    const seen = state.version;
    if (chases) {
      const wake = nextWake();
      if (wake !== undefined) await condition(() => state.version !== seen, wake - Date.now());
      else await condition(() => state.version !== seen);
      continue;
    }
    // Before notification-policy-v1: the deadline was the only timer.
    const msLeft = Date.parse(state.due) - Date.now();
    if (!state.overdue && msLeft > 0) await condition(() => state.version !== seen, msLeft);
    else await condition(() => state.version !== seen);
  }
  await condition(allHandlersFinished);
  await Promise.all(mail);
  return state;
}
